"""Picking one rewrite per sentence among candidates: the least change that reads as the target style.

The autoencoder writes each sentence several times, at several style strengths and copy bonuses (see
multistyle.text.decode). One strength for every sentence wastes content on sentences that flip easily and
under-flips the stubborn ones; choosing per sentence does not.
Two small models, trained on the corpus's training split by `multistyle text train-selector` and saved beside
the autoencoder (selector.safetensors, selector.json), judge each candidate:

- a logistic classifier over words and hashed bigrams: does the candidate read as the target style?
- a GRU language model: how fluent is it (mean log-probability per token)?

Both are deliberately other models than the evaluator's (a TextCNN and a GPT-2), so that `text evaluate`
stays an outside judgement of what the selection chose. Among the candidates the classifier accepts, the one
with the most content kept (1- to 3-gram overlap with the source) plus weighted fluency wins; when it
accepts none, the one it finds likeliest in the target style.
"""
import math
import time
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.core.checkpoint import load_tensors, read_json, save_tensors, write_json
from multistyle.core.config import config_dict, from_dict
from multistyle.core.runtime import seed_everything, select_device
from multistyle.errors import WeightsError
from multistyle.text.config import SelectorConfig
from multistyle.text.data import make_batch, read_split
from multistyle.text.fit import fit
from multistyle.text.vocab import EOS, GO, PAD, load_vocab

WEIGHTS, INFO = "selector.safetensors", "selector.json"


def bigram_buckets(ids: list[int], buckets: int) -> list[int]:
    """Hashed bigrams of <go> ids <eos> (a stable hash: Python's own is salted per process)."""
    padded = [GO, *ids, EOS]
    return [((a * 1_000_003) ^ b) * 2_654_435_761 % 2**32 % buckets for a, b in zip(padded, padded[1:])]


class NgramClassifier(nn.Module):
    """Logistic regression on the mean word weight plus the mean hashed-bigram weight."""

    def __init__(self, vocab_size: int, buckets: int):
        super().__init__()
        self.words = nn.EmbeddingBag(vocab_size, 1, mode="mean")
        self.bigrams = nn.EmbeddingBag(buckets, 1, mode="mean")
        nn.init.zeros_(self.words.weight)
        nn.init.zeros_(self.bigrams.weight)
        self.bias = nn.Parameter(torch.zeros(1))

    @property
    def buckets(self) -> int:
        return self.bigrams.num_embeddings

    def forward(self, sentences: list[list[int]]) -> torch.Tensor:
        """(B,) logits of the positive style."""
        device = self.bias.device
        words = [s or [EOS] for s in sentences]
        bigrams = [bigram_buckets(s, self.buckets) for s in sentences]

        def bag(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
            flat = torch.tensor([i for row in rows for i in row], dtype=torch.long, device=device)
            offsets = torch.tensor([0, *accumulate(len(row) for row in rows)][:-1], dtype=torch.long, device=device)
            return flat, offsets

        return (self.words(*bag(words)) + self.bigrams(*bag(bigrams))).squeeze(-1) + self.bias


class GruLanguageModel(nn.Module):
    """A one-layer GRU over word embeddings, its output tied to them."""

    def __init__(self, vocab_size: int, dim_emb: int, dim_h: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim_emb, padding_idx=PAD)
        self.gru = nn.GRU(dim_emb, dim_h, batch_first=True)
        self.project = nn.Linear(dim_h, dim_emb)

    def token_nll(self, sentences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T + 1) negative log-likelihood of each word and <eos> given its prefix (0 on padding), and the mask."""
        batch = make_batch(sentences, [0] * len(sentences))
        device = self.embedding.weight.device
        hidden, _ = self.gru(self.embedding(batch.decoder_input.to(device)))
        target = batch.target.to(device)
        mask = target != PAD
        # only the real tokens' rows, (N, V): the output layer is most of the cost
        output = self.project(hidden[mask])
        logits = output @ self.embedding.weight.T
        nll = torch.zeros(target.shape, device=device)
        nll[mask] = F.cross_entropy(logits, target[mask], reduction="none")
        return nll, mask

    def step(self, words: torch.Tensor, hidden: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities (B, V) of the word after `words` (B,; <go> first), and the state that continues them."""
        output, hidden = self.gru(self.embedding(words).unsqueeze(1), hidden)
        return F.log_softmax(self.project(output[:, 0]) @ self.embedding.weight.T, dim=-1), hidden


@dataclass
class Selector:
    classifier: NgramClassifier
    lm: GruLanguageModel
    config: SelectorConfig

    @torch.no_grad()
    def target_probability(self, sentences: list[list[int]], targets: list[int], batch_size: int = 1024) -> list[float]:
        """How likely each sentence reads as its target style (0 negative, 1 positive)."""
        probabilities: list[float] = []
        for start in range(0, len(sentences), batch_size):
            probabilities += torch.sigmoid(self.classifier(sentences[start : start + batch_size])).tolist()
        return [p if t == 1 else 1 - p for p, t in zip(probabilities, targets)]

    @torch.no_grad()
    def fluency(self, sentences: list[list[int]], batch_size: int = 512) -> list[float]:
        """Mean log-probability per token (words and <eos>) of each sentence under the language model."""
        scores = [0.0] * len(sentences)
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            nll, mask = self.lm.token_nll([sentences[i] for i in chunk])
            for i, value in zip(chunk, (-nll.sum(1) / mask.sum(1)).tolist()):
                scores[i] = value
        return scores

    def choose(self, sources: list[list[int]], candidates: list[list[list[int]]], targets: list[int]) -> list[int]:
        """For each source sentence, the index of the candidate to keep (see the module's docstring)."""
        flat = [c for row in candidates for c in row]
        probabilities = self.target_probability(flat, [t for row, t in zip(candidates, targets) for _ in row])
        rows = [probabilities[start : start + len(row)] for start, row in zip(accumulate([0, *map(len, candidates)]), candidates)]
        accepted = [[p >= self.config.threshold for p in row] for row in rows]
        # Fluency only decides between two or more distinct accepted candidates; the language model scores each once.
        contested = [{tuple(c) for c, a in zip(row, ok) if a} for row, ok in zip(candidates, accepted)]
        unique = list(dict.fromkeys(c for row in contested if len(row) > 1 for c in row))
        fluency = dict(zip(unique, self.fluency([list(c) for c in unique])))
        chosen, weight = [], self.config.fluency_weight
        for source, row, ps, ok in zip(sources, candidates, rows, accepted):
            scored = [(a, content_overlap(c, source) + weight * fluency.get(tuple(c), 0.0) if a else p, -k)
                      for k, (c, p, a) in enumerate(zip(row, ps, ok))]
            chosen.append(-max(scored)[2])
        return chosen


def content_overlap(candidate: list[int], source: list[int]) -> float:
    """Mean of the 1-, 2- and 3-gram F1 between a candidate and its source (clipped counts), in [0, 1]."""
    total = 0.0
    for n in (1, 2, 3):
        c, s = Counter(zip(*[candidate[i:] for i in range(n)])), Counter(zip(*[source[i:] for i in range(n)]))
        common = sum((c & s).values())
        if common:
            precision, recall = common / sum(c.values()), common / sum(s.values())
            total += 2 * precision * recall / (precision + recall)
    return total / 3


def train_selector(model_dir: str | Path, data_dir: str | Path, config: SelectorConfig, show_progress: bool = False) -> dict:
    """Train both selection models on DATA's training split with the autoencoder's vocabulary; save them in MODEL."""
    config.validate()
    model_dir = Path(model_dir)
    vocab = load_vocab(model_dir)
    device = select_device(config.device)
    seed_everything(config.seed)
    neg, pos = read_split(data_dir, "train", config.max_len)
    dev_neg, dev_pos = read_split(data_dir, "dev", config.max_len)
    examples = [(vocab.encode(s), 0) for s in neg] + [(vocab.encode(s), 1) for s in pos]
    classifier = NgramClassifier(len(vocab), config.buckets).to(device)
    lm = GruLanguageModel(len(vocab), config.lm_dim_emb, config.lm_dim_h).to(device)

    def classifier_loss(batch):
        labels = torch.tensor([y for _, y in batch], dtype=torch.float, device=device)
        return F.binary_cross_entropy_with_logits(classifier([s for s, _ in batch]), labels)

    def lm_loss(batch):
        nll, mask = lm.token_nll([s for s, _ in batch])
        return nll.sum() / mask.sum()

    figures: dict = {"data": str(data_dir), "train_sentences": [len(neg), len(pos)], "device": str(device)}
    start = time.perf_counter()
    figures["classifier_steps"] = fit(classifier, examples, classifier_loss, epochs=config.classifier_epochs,
                                      batch_size=config.batch_size, lr=config.classifier_lr, seed=config.seed,
                                      description="selection classifier", show_progress=show_progress)
    figures["classifier_seconds"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    figures["lm_steps"] = fit(lm, examples, lm_loss, epochs=config.lm_epochs, batch_size=config.batch_size, lr=config.lr,
                              seed=config.seed, description="selection language model", show_progress=show_progress)
    figures["lm_seconds"] = round(time.perf_counter() - start, 1)
    selector = Selector(classifier.eval(), lm.eval(), config)
    dev = [vocab.encode(s) for s in dev_neg + dev_pos]
    labels = [0] * len(dev_neg) + [1] * len(dev_pos)
    figures["classifier_dev_accuracy"] = round(100 * sum(p > 0.5 for p in selector.target_probability(dev, labels)) / len(dev), 2)
    figures["lm_dev_perplexity"] = round(math.exp(-sum(selector.fluency(dev)) / len(dev)), 2)  # per-sentence mean, then averaged
    save_selector(model_dir, selector, figures)
    return figures


def save_selector(model_dir: Path, selector: Selector, figures: dict) -> None:
    weights = {f"classifier.{k}": v for k, v in selector.classifier.state_dict().items()}
    weights |= {f"lm.{k}": v for k, v in selector.lm.state_dict().items()}
    save_tensors(model_dir / WEIGHTS, weights)
    write_json(model_dir / INFO, {"config": config_dict(selector.config), "figures": figures})


def load_selector(model_dir: str | Path, vocab_size: int, device: torch.device | str = "cpu") -> Selector | None:
    """The folder's selector, or None when it has none (the model then transfers at one strength)."""
    model_dir = Path(model_dir)
    if not (model_dir / WEIGHTS).is_file():
        return None
    if not (model_dir / INFO).is_file():
        raise WeightsError(f"{model_dir}: {WEIGHTS} without {INFO}")
    config = from_dict(SelectorConfig, read_json(model_dir / INFO)["config"], str(model_dir / INFO))
    weights = load_tensors(model_dir / WEIGHTS)
    classifier = NgramClassifier(vocab_size, config.buckets)
    lm = GruLanguageModel(vocab_size, config.lm_dim_emb, config.lm_dim_h)
    for name, net in (("classifier", classifier), ("lm", lm)):
        part = {k.split(".", 1)[1]: v.float() for k, v in weights.items() if k.startswith(name + ".")}
        try:
            net.load_state_dict(part)
        except RuntimeError as e:
            reason = str(e).strip().splitlines()[-1].strip()
            raise WeightsError(f"{model_dir}: {WEIGHTS} does not fit this model's vocabulary or {INFO} ({reason})") from None
    return Selector(classifier.to(device).eval(), lm.to(device).eval(), config)
