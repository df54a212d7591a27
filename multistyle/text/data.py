"""Shen-format corpora and batches.

A corpus folder holds sentiment.{train,dev,test}.{0,1}, one sentence a line (0 = negative,
1 = positive), and optionally reference.{0,1}: `source<TAB>human rewrite in the other style`.
Every line is normalised by `tokenize.normalize`, exactly as a user's sentence will be.
"""
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError
from multistyle.text.tokenize import normalize
from multistyle.text.vocab import EOS, GO, PAD

STYLES = ("negative", "positive")  # label 0, label 1

log = logging.getLogger(__name__)

Sentences = list[list[str]]


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (no line-end characters); a problem is a InputError naming the file."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    return decode_lines(data, str(path))


def decode_lines(data: bytes, name: str) -> list[str]:
    """UTF-8 bytes (a file's, or piped in) as lines without line ends; other bytes are an InputError naming `name`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"{name}: not UTF-8 text (line {line})") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def write_lines(path: str | Path, lines: list[str]) -> None:
    atomic_write_bytes(path, "".join(line + "\n" for line in lines).encode())


def read_sentences(path: str | Path, max_len: int | None = None) -> Sentences:
    """Normalised sentences of a corpus file: empty lines skipped, long ones truncated, each with a warning."""
    sentences, empty, truncated = [], 0, 0
    for line in read_lines(path):
        tokens = normalize(line)
        if not tokens:
            empty += 1
            continue
        if max_len is not None and len(tokens) > max_len:
            truncated += 1
            tokens = tokens[:max_len]
        sentences.append(tokens)
    if empty:
        log.warning(f"{path}: skipped {empty} empty line{'s' * (empty > 1)}")
    if truncated:
        log.warning(f"{path}: truncated {truncated} sentence{'s' * (truncated > 1)} longer than {max_len} tokens")
    return sentences


def split_file(folder: str | Path, split: str, label: int) -> Path:
    path = Path(folder) / f"sentiment.{split}.{label}"
    if not path.is_file():
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: data folder not found")
        raise InputError(f"{folder}: missing {path.name} (a Shen-format folder has sentiment.{{train,dev,test}}.{{0,1}})")
    return path


def read_split(folder: str | Path, split: str, max_len: int | None = None) -> tuple[Sentences, Sentences]:
    """The negative and the positive sentences of one split."""
    neg, pos = (read_sentences(split_file(folder, split, label), max_len) for label in (0, 1))
    for label, sentences in enumerate((neg, pos)):
        if not sentences:
            raise InputError(f"{split_file(folder, split, label)}: no sentences")
    return neg, pos


def read_references(folder: str | Path) -> tuple[Sentences, Sentences] | None:
    """The human rewrites in reference.{0,1} (of the negative, the positive test sentences), or None if absent."""
    paths = [Path(folder) / f"reference.{label}" for label in (0, 1)]
    if not all(p.is_file() for p in paths):
        return None
    rewrites = []
    for path in paths:
        lines = read_lines(path)
        for number, line in enumerate(lines, 1):
            if "\t" not in line:
                raise InputError(f"{path}: line {number} is not `source<TAB>rewrite`")
        rewrites.append([normalize(line.split("\t", 1)[1]) for line in lines])
    return rewrites[0], rewrites[1]


@dataclass
class Batch:
    """Sentences of one or both styles, as the autoencoder consumes them."""

    encoder_input: torch.Tensor  # (B, L): each sentence reversed, as Shen et al.'s encoder reads it
    decoder_input: torch.Tensor  # (B, L + 1): <go> w1 .. wn
    target: torch.Tensor  # (B, L + 1): w1 .. wn <eos>
    lengths: torch.Tensor  # (B,) n, kept on the CPU where packing wants it
    labels: torch.Tensor  # (B,) style of each sentence

    def to(self, device: torch.device) -> "Batch":
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self) if f.name != "lengths"})

    def __len__(self) -> int:
        return len(self.labels)


def pad_ids(sentences: list[list[int]]) -> torch.Tensor:
    """(B, longest) word ids, right-padded."""
    padded = torch.full((len(sentences), max(len(s) for s in sentences)), PAD, dtype=torch.long)
    for row, ids in enumerate(sentences):
        padded[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return padded


def make_batch(sentences: list[list[int]], labels: list[int]) -> Batch:
    return Batch(
        encoder_input=pad_ids([ids[::-1] for ids in sentences]),
        decoder_input=pad_ids([[GO, *ids] for ids in sentences]),
        target=pad_ids([[*ids, EOS] for ids in sentences]),
        lengths=torch.tensor([len(ids) for ids in sentences]),
        labels=torch.tensor(labels, dtype=torch.long),
    )


def training_batches(neg: list[list[int]], pos: list[list[int]], batch_size: int, seed: int) -> list[Batch]:
    """One epoch, shuffled by `seed`: each batch holds `batch_size` sentences of each style, of similar lengths.

    The smaller style is oversampled to the larger one's size, as in Shen et al.'s code.
    """
    rng = random.Random(seed)
    n = max(len(neg), len(pos))
    by_length = []
    for sentences in (neg, pos):
        order = list(range(len(sentences)))
        rng.shuffle(order)
        order = [order[i % len(order)] for i in range(n)]
        order.sort(key=lambda i: len(sentences[i]))  # stable: equal lengths stay shuffled
        by_length.append([sentences[i] for i in order])
    batches = []
    for start in range(0, n, batch_size):
        neg_part, pos_part = (sentences[start : start + batch_size] for sentences in by_length)
        batches.append(make_batch(neg_part + pos_part, [0] * len(neg_part) + [1] * len(pos_part)))
    rng.shuffle(batches)
    return batches


def batches_in_length_order(sentences: list[list[int]], labels: list[int], batch_size: int) -> Iterator[tuple[list[int], Batch]]:
    """(positions in the input, batch) over sentences sorted by length, for evaluation and transfer."""
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        yield chunk, make_batch([sentences[i] for i in chunk], [labels[i] for i in chunk])
