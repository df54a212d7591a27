"""Writing sentences with a trained autoencoder: beam search (beam 1 is greedy decoding) and batched transfer.

Decoding never repeats a bigram within a sentence (the autoencoder's commonest fault is looping on a phrase,
"i love this place this place") and, given each sentence's minimum length, does not end it before that. It never
writes a placeholder (<unk>, and _num_ where the caller says so) more often than the source has it, so that every
placeholder of an output has a source word to stand for (multistyle.text.transfer fills them in).
A copy bonus adds to a hypothesis's score for each source word it writes (as often as the source has it),
which keeps the content words the autoencoder tends to drop ("... and the staff.") and unknown words; a negative
bonus is a copy penalty, which makes a model that copies too readily (the Style Transformer) change more words.
"""
import math
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from multistyle.errors import InputError
from multistyle.text.data import batches_in_length_order
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.selector import GruLanguageModel
from multistyle.text.style_transformer import Encoded, StyleTransformer
from multistyle.text.vocab import EOS, GO, PAD, UNK

MAX_ROWS = 2048  # hypotheses decoded at once by transfer_candidates


@torch.no_grad()
def beam_search(model: CrossAlignedAutoencoder, h0: torch.Tensor, beam: int, max_len: int,
                min_lengths: torch.Tensor | None = None, block_repeats: bool = True,
                source: tuple[torch.Tensor, torch.Tensor] | None = None, copy_bonus: float | torch.Tensor = 0.0,
                twins: torch.Tensor | None = None,
                limits: tuple[torch.Tensor, torch.Tensor] | None = None) -> list[list[int]]:
    """The best word ids (without <eos>, at most `max_len`) from each generator state in h0 (B, dim_h).

    Hypotheses are ranked by their mean log-probability per word (with <eos>), so that short
    sentences win no advantage; with beam 1 this is greedy decoding. `min_lengths` (B,) forbids <eos>
    before that many words; `block_repeats` forbids a word that would repeat a bigram already written;
    `copy_bonus` (a number, or one per row (B,)) is added to the score of each word still unused from that row's
    source sentence, given as `source` = (its distinct words, their counts), both (B, L): see `source_words`.
    `twins` (B,), greedy only: for each row, an earlier row (or itself) with the same h0. A row runs the generator only
    while its words differ from its twin's; until then it reuses the twin's step (rows that differ only in their copy
    bonus often write the same first words).
    `limits` = (word ids (K,), budgets (B, K)): a hypothesis of row b writes word ids[k] at most budgets[b, k] times.
    """
    n, vocab_size, device = len(h0), model.vocab_size, h0.device
    # Per sentence (first axis) and hypothesis (second). Each step runs the generator only on the sentences with a
    # hypothesis still open: sorted batches end unevenly, and most of the cost is the output layer.
    h = h0.repeat_interleave(beam, dim=0).view(n, beam, -1)
    x = model.go_vectors(n * beam).reshape(n, beam, -1).clone()  # go_vectors may be a broadcast view
    scores = torch.full((n, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # a single live hypothesis to start with
    words = torch.full((n, beam, max_len), PAD, dtype=torch.long, device=device)
    finished = torch.zeros((n, beam), dtype=torch.bool, device=device)
    only_pad = torch.full((vocab_size,), float("-inf"), device=device)
    only_pad[PAD] = 0.0  # a finished hypothesis extends with <pad> at no cost: its score stays put
    min_lengths = None if min_lengths is None else min_lengths.to(device)
    bonus = torch.as_tensor(copy_bonus, dtype=torch.float, device=device).expand(n).repeat_interleave(beam).view(n, beam, 1)
    copies = source is not None and bool(bonus.any())
    source_ids, unused = (t.to(device).repeat_interleave(beam, dim=0).view(n, beam, -1) for t in source) if copies else (None, None)
    twins = twins.to(device).clone() if twins is not None and beam == 1 else None
    limited_ids, budgets = (t.to(device) for t in limits) if limits is not None else (None, None)
    for t in range(max_len):
        live = (~finished.all(dim=1)).nonzero().squeeze(1)
        if len(live) == 0:
            break
        m = len(live)
        if twins is None:
            logits, h_live = model.step(x[live].view(m * beam, -1), h[live].view(m * beam, -1))
        else:
            lead = twins[live]  # live too: a row and its twin have written the same words so far
            leaders = live[lead == live]
            logits, h_live = model.step(x[leaders].view(len(leaders), -1), h[leaders].view(len(leaders), -1))
            slot = torch.empty(n, dtype=torch.long, device=device)
            slot[leaders] = torch.arange(len(leaders), device=device)
            logits, h_live = logits[slot[lead]], h_live[slot[lead]]
        logits[:, [PAD, GO]] = float("-inf")
        if min_lengths is not None:
            logits[(min_lengths[live] > t).repeat_interleave(beam), EOS] = float("-inf")
        if block_repeats and t >= 1:
            _forbid_repeated_bigrams(logits, words[live, :, :t].view(m * beam, t))
        if limited_ids is not None:
            written = (words[live, :, :t].unsqueeze(-1) == limited_ids).sum(dim=2)  # (m, beam, K)
            rows, k = (written >= budgets[live].unsqueeze(1)).view(m * beam, -1).nonzero(as_tuple=True)
            logits[rows, limited_ids[k]] = float("-inf")
        # Greedy needs only the argmax, which the log-softmax's per-row shift does not move.
        log_probs = F.log_softmax(logits, dim=-1) if beam > 1 else logits
        if unused is not None:
            ids_live, unused_live = source_ids[live].view(m * beam, -1), unused[live].view(m * beam, -1)
            log_probs = log_probs.scatter_add_(1, ids_live, bonus[live].view(m * beam, 1) * (unused_live > 0))
        log_probs = log_probs.view(m, beam, vocab_size)
        done = finished[live]
        if beam == 1:  # a live sentence's only hypothesis is open; its score is never compared
            best, word = scores[live], log_probs.view(m, -1).argmax(dim=1, keepdim=True)
        else:
            log_probs = torch.where(done.unsqueeze(-1), only_pad, log_probs)
            best, flat = (scores[live].unsqueeze(-1) + log_probs).view(m, -1).topk(beam, dim=1)
            parent, word = flat // vocab_size, flat % vocab_size
            # hypotheses follow their parents
            words[live], done = _rows(words[live], parent), done.gather(1, parent)
            h_live = _rows(h_live.view(m, beam, -1), parent).view(m * beam, -1)
            if unused is not None:
                ids_live = _rows(ids_live.view(m, beam, -1), parent).view(m * beam, -1)
                unused_live = _rows(unused_live.view(m, beam, -1), parent).view(m * beam, -1)
        if twins is not None:  # a row that wrote another word than its twin's runs on its own from now on
            slot[live] = torch.arange(m, device=device)
            twins[live] = torch.where(word[:, 0] == word[slot[lead], 0], lead, live)
        scores[live] = best
        words[live, :, t] = word
        finished[live] = done | (word == EOS)
        h[live] = h_live.view(m, beam, -1)
        if unused is not None:
            unused_live = (unused_live - (ids_live == word.view(-1, 1)).float()).clamp_(min=0)
            source_ids[live], unused[live] = ids_live.view(m, beam, -1), unused_live.view(m, beam, -1)
        x[live] = model.embedding(word.view(-1)).view(m, beam, -1)
    lengths = (words != PAD).sum(dim=-1).clamp(min=1)
    best = (scores / lengths).argmax(dim=1)
    return [_until_eos(words[i, best[i]].tolist()) for i in range(n)]


def source_words(sentences: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sentence's distinct words and how often it has each, both (B, L) padded with <pad> and 0."""
    counted = [Counter(s) for s in sentences]
    width = max(1, *map(len, counted))
    ids = torch.tensor([[*c, *[PAD] * (width - len(c))] for c in counted], dtype=torch.long, device=device)
    counts = torch.tensor([[*c.values(), *[0] * (width - len(c))] for c in counted], dtype=torch.float, device=device)
    return ids, counts


def _rows(values: torch.Tensor, parent: torch.Tensor) -> torch.Tensor:
    """values (n, beam, ...) reordered along the beam by parent (n, beam)."""
    return values.gather(1, parent.view(*parent.shape, *[1] * (values.dim() - 2)).expand(-1, -1, *values.shape[2:]))


def _forbid_repeated_bigrams(logits: torch.Tensor, words: torch.Tensor) -> None:
    """Set -inf, for each row, on every word that followed that row's last word earlier in the row."""
    earlier = words[:, :-1] == words[:, -1:]  # (rows, t - 1): earlier positions holding the last word
    rows, positions = earlier.nonzero(as_tuple=True)
    logits[rows, words[rows, positions + 1]] = float("-inf")


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
    min_length_ratio: float = 0.5,
    block_repeats: bool = True,
    limited: Sequence[int] = (UNK,),
    ends: Sequence[int] = (),
) -> list[list[int]]:
    """Rewrite each sentence from its source style to its target style (at `strength`), in the input's order."""
    return [c[0] for c in transfer_candidates(model, sentences, source_labels, target_labels, [(strength, 0.0)], beam=beam,
                                              max_len=max_len, batch_size=batch_size, min_length_ratio=min_length_ratio,
                                              block_repeats=block_repeats, limited=limited, ends=ends)]


@torch.no_grad()
def transfer_candidates(
    model: CrossAlignedAutoencoder,
    sentences: list[list[int]],
    source_labels: list[int],
    target_labels: list[int],
    settings: Sequence[Sequence[float]],
    *,
    beam: int = 1,
    max_len: int = 20,
    batch_size: int = 128,
    min_length_ratio: float = 0.5,
    block_repeats: bool = True,
    limited: Sequence[int] = (UNK,),
    lm: GruLanguageModel | None = None,
    ends: Sequence[int] = (),
) -> list[list[list[int]]]:
    """Each sentence rewritten with each (strength, copy bonus[, LM weight]) of `settings` (one encoding serves them all).

    Returns [sentence][setting] -> ids. An output may not end before `min_length_ratio` of its source's length
    (rounded up), and writes each id of `limited` (placeholders: <unk>, _num_) at most as often as its source has it.
    An LM weight (the Style Transformer's only) adds that multiple of `lm`'s log-probabilities to the model's, and
    `ends` (the marks that end a sentence) end the Style Transformer's output where it writes one.
    """
    if isinstance(model, StyleTransformer):
        if beam != 1:
            raise InputError("the Style Transformer decodes greedily: beam must be 1 (beam search is the cross-aligned model's)")
        return transformer_candidates(model, sentences, target_labels, settings, max_len=max_len, batch_size=batch_size,
                                      min_length_ratio=min_length_ratio, block_repeats=block_repeats, limited=limited, lm=lm,
                                      ends=ends)
    if any(len(setting) > 2 and setting[2] for setting in settings):
        raise InputError("an LM weight in a candidate setting is the Style Transformer's (the cross-aligned model "
                         "decodes without a language model)")
    settings = [tuple(setting[:2]) for setting in settings]
    device = next(model.parameters()).device
    outputs: list[list[list[int]]] = [[[] for _ in settings] for _ in sentences]
    # Every setting of a batch is decoded in one search (rows setting-major): one generator step serves them all.
    # Rows are capped: each step holds a vocabulary-sized row of logits per hypothesis.
    batch_size = max(1, min(batch_size, MAX_ROWS // max(1, len(settings) * beam)))
    bonuses = torch.tensor([b for _, b in settings], dtype=torch.float, device=device)
    limited_ids = torch.tensor(list(limited), dtype=torch.long, device=device)
    for positions, batch in batches_in_length_order(sentences, source_labels, batch_size):
        batch = batch.to(device)
        targets = torch.tensor([target_labels[i] for i in positions], device=device)
        z = model.encode(batch)
        min_lengths = torch.tensor([math.ceil(min_length_ratio * len(sentences[i])) for i in positions], device=device)
        source = source_words([sentences[i] for i in positions], device) if bonuses.any() else None
        h0 = torch.cat([model.initial_state(z, targets, strength) for strength, _ in settings])
        n = len(positions)
        strengths = [strength for strength, _ in settings]
        first_with_strength = torch.tensor([strengths.index(s) for s in strengths], device=device)
        twins = first_with_strength.repeat_interleave(n) * n + torch.arange(n, device=device).repeat(len(settings))
        budgets = torch.tensor([[sentences[i].count(w) for w in limited] for i in positions], device=device).view(n, -1)
        written = beam_search(model, h0, beam, max_len, min_lengths.repeat(len(settings)), block_repeats,
                              None if source is None else tuple(t.repeat(len(settings), 1) for t in source),
                              bonuses.repeat_interleave(n), twins,
                              (limited_ids, budgets.repeat(len(settings), 1)) if len(limited) else None)
        for row, ids in enumerate(written):
            outputs[positions[row % n]][row // n] = ids
    return outputs


@torch.no_grad()
def transformer_candidates(
    model: StyleTransformer,
    sentences: list[list[int]],
    target_labels: list[int],
    settings: Sequence[Sequence[float]],
    *,
    max_len: int = 20,
    batch_size: int = 128,
    min_length_ratio: float = 0.5,
    block_repeats: bool = True,
    limited: Sequence[int] = (UNK,),
    lm: GruLanguageModel | None = None,
    ends: Sequence[int] = (),
) -> list[list[list[int]]]:
    """transfer_candidates for the Style Transformer: greedy, with the same rules (minimum length, no repeated bigram,
    placeholder budgets, copy bonus), every setting of a batch decoded as one batch of rows (setting-major).

    A setting's third number weighs `lm` (shallow fusion): the Style Transformer swaps words in place, and a language
    model of the corpus vetoes the swaps that do not read ("my kids tomatoes coming here"). A sentence is one piece of
    text (multistyle.text.pieces), so a mark of `ends` closes it: the model wrote on after them ("... the the food !")."""
    device = next(model.parameters()).device
    settings = [(float(s[0]), float(s[1]), float(s[2]) if len(s) > 2 else 0.0) for s in settings]
    fusing = any(weight for _, _, weight in settings)
    if fusing and lm is None:
        raise InputError("a candidate setting weighs a language model, but none was given (train the model's selector)")
    outputs: list[list[list[int]]] = [[[] for _ in settings] for _ in sentences]
    batch_size = max(1, min(batch_size, MAX_ROWS // max(1, len(settings))))
    limited_ids = torch.tensor(list(limited), dtype=torch.long, device=device)
    bonuses = torch.tensor([b for _, b, _ in settings], dtype=torch.float, device=device)
    end_ids = torch.tensor(list(ends), dtype=torch.long, device=device)
    lm_weights = torch.tensor([w for _, _, w in settings], dtype=torch.float, device=device)
    for positions, batch in batches_in_length_order(sentences, [0] * len(sentences), batch_size):
        n, k = len(positions), len(settings)
        words, lengths = batch.decoder_input[:, 1:].to(device), batch.lengths.to(device)
        targets = torch.tensor([target_labels[i] for i in positions], device=device)
        by_strength = {}
        for strength, _, _ in settings:
            if strength not in by_strength:
                by_strength[strength] = model.encode(words, lengths, targets, strength)
        encoded = Encoded.cat([by_strength[strength] for strength, _, _ in settings])
        sources = [sentences[i] for i in positions]
        min_lengths = torch.tensor([math.ceil(min_length_ratio * len(s)) for s in sources], device=device).repeat(k)
        budgets = torch.tensor([[s.count(w) for w in limited] for s in sources], device=device).view(n, -1).repeat(k, 1)
        bonus = bonuses.repeat_interleave(n).unsqueeze(1)
        lm_weight = lm_weights.repeat_interleave(n).unsqueeze(1)
        source_ids, unused = (t.repeat(k, 1) for t in source_words(sources, device))
        rows = n * k
        written = torch.full((rows, max_len), PAD, dtype=torch.long, device=device)
        finished = torch.zeros(rows, dtype=torch.bool, device=device)
        vectors, caches = model.embedding.weight[GO].expand(rows, -1), [{} for _ in model.decoder]
        previous, lm_state = torch.full((rows,), GO, dtype=torch.long, device=device), None
        closing = torch.zeros(rows, dtype=torch.bool, device=device)  # wrote a mark of `ends`: <eos> comes next
        for t in range(max_len):
            logits = model.step(encoded, vectors, t, caches)  # greedy's argmax needs no log-softmax, fusion does
            if fusing:
                lm_log_probs, lm_state = lm.step(previous, lm_state)
                logits = F.log_softmax(logits, dim=-1) + lm_weight * lm_log_probs
            logits[:, [PAD, GO]] = float("-inf")
            logits[min_lengths > t, EOS] = float("-inf")
            if block_repeats and t >= 1:
                _forbid_repeated_bigrams(logits, written[:, :t])
            if len(limited):
                over, which = ((written[:, :t].unsqueeze(-1) == limited_ids).sum(dim=1) >= budgets).nonzero(as_tuple=True)
                logits[over, limited_ids[which]] = float("-inf")
            logits.scatter_add_(1, source_ids, bonus * (unused > 0))
            if len(end_ids):  # a mark is the sentence's last word: not before its minimum length either
                logits[(min_lengths > t + 1).nonzero(), end_ids] = float("-inf")
            logits[closing] = float("-inf")
            logits[closing, EOS] = 0.0
            word = torch.where(finished, PAD, logits.argmax(dim=1))
            closing = torch.isin(word, end_ids)
            written[:, t] = word
            finished |= word == EOS
            unused = (unused - (source_ids == word.unsqueeze(1)).float()).clamp_(min=0)
            if finished.all():
                break
            vectors, previous = model.embedding(word), word
        for row, ids in enumerate(written.tolist()):
            outputs[positions[row % n]][row // n] = _until_eos(ids)
    return outputs
