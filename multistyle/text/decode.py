"""Writing sentences with a trained autoencoder: beam search (beam 1 is greedy decoding) and batched transfer."""
import torch
import torch.nn.functional as F

from multistyle.text.data import batches_in_length_order
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.vocab import EOS, GO, PAD


@torch.no_grad()
def beam_search(model: CrossAlignedAutoencoder, h0: torch.Tensor, beam: int, max_len: int) -> list[list[int]]:
    """The best word ids (without <eos>, at most `max_len`) from each generator state in h0 (B, dim_h).

    Hypotheses are ranked by their mean log-probability per word (with <eos>), so that short
    sentences win no advantage; with beam 1 this is greedy decoding.
    """
    n, vocab_size, device = len(h0), model.vocab_size, h0.device
    h = h0.repeat_interleave(beam, dim=0)
    scores = torch.full((n, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # a single live hypothesis to start with
    words = torch.empty((n, beam, 0), dtype=torch.long, device=device)
    finished = torch.zeros((n, beam), dtype=torch.bool, device=device)
    only_pad = torch.full((vocab_size,), float("-inf"), device=device)
    only_pad[PAD] = 0.0  # a finished hypothesis extends with <pad> at no cost: its score stays put
    x = model.go_vectors(n * beam)
    for _ in range(max_len):
        logits, h = model.step(x, h)
        logits[:, [PAD, GO]] = float("-inf")
        log_probs = F.log_softmax(logits, dim=-1).view(n, beam, vocab_size)
        log_probs = torch.where(finished.unsqueeze(-1), only_pad, log_probs)
        scores, flat = (scores.unsqueeze(-1) + log_probs).view(n, -1).topk(beam, dim=1)
        parent, word = flat // vocab_size, flat % vocab_size
        words = torch.cat([words.gather(1, parent.unsqueeze(-1).expand(-1, -1, words.shape[-1])), word.unsqueeze(-1)], dim=-1)
        finished = finished.gather(1, parent) | (word == EOS)
        h = h.view(n, beam, -1).gather(1, parent.unsqueeze(-1).expand(-1, -1, h.shape[-1])).view(n * beam, -1)
        x = model.embedding(word.view(-1))
        if finished.all():
            break
    lengths = (words != PAD).sum(dim=-1).clamp(min=1)
    best = (scores / lengths).argmax(dim=1)
    return [_until_eos(words[i, best[i]].tolist()) for i in range(n)]


def _until_eos(ids: list[int]) -> list[int]:
    return ids[: ids.index(EOS)] if EOS in ids else [i for i in ids if i != PAD]


@torch.no_grad()
def transfer_ids(
    model: CrossAlignedAutoencoder,
    sentences: list[list[int]],
    source_labels: list[int],
    target_labels: list[int],
    *,
    beam: int = 1,
    strength: float = 0.0,
    max_len: int = 20,
    batch_size: int = 128,
) -> list[list[int]]:
    """Rewrite each sentence from its source style to its target style (at `strength`), in the input's order."""
    device = next(model.parameters()).device
    outputs: list[list[int]] = [[] for _ in sentences]
    for positions, batch in batches_in_length_order(sentences, source_labels, batch_size):
        batch = batch.to(device)
        targets = torch.tensor([target_labels[i] for i in positions], device=device)
        h0 = model.initial_state(model.encode(batch), targets, strength)
        for i, ids in zip(positions, beam_search(model, h0, beam, max_len)):
            outputs[i] = ids
    return outputs
