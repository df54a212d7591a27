"""Sentiment transfer of raw sentences with a trained cross-aligned autoencoder.

A sentence is normalised like the corpus, truncated to the model's max length, rewritten, then
detokenised; the numbers and unknown words it had come back where the output has _num_ and <unk>.
"""
import logging
from dataclasses import replace
from pathlib import Path

import torch

from multistyle import UserError
from multistyle.core.runtime import select_device
from multistyle.text.bundle import WEIGHTS, TrainedModel, load_model
from multistyle.text.data import STYLES, Sentences, batches_in_length_order
from multistyle.text.decode import transfer_ids
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.tokenize import NUMBER, UNKNOWN, detokenize, is_number, split_words
from multistyle.text.vocab import Vocab

SHIPPED_MODEL = Path(__file__).resolve().parent / "weights"
TARGETS = (*STYLES, "flip")

log = logging.getLogger(__name__)


def shipped_model() -> Path:
    if not (SHIPPED_MODEL / WEIGHTS).is_file():
        raise UserError(
            f"no text model ships with this install yet (no {SHIPPED_MODEL / WEIGHTS}): train one with "
            "`multistyle text train --data DIR --out MODEL` (see recipes/text_yelp.sh) and pass --model MODEL"
        )
    return SHIPPED_MODEL


def model_token(word: str) -> str:
    return NUMBER if is_number(word) else word


def fill_placeholders(output: list[str], source: list[str], vocab: Vocab) -> list[str]:
    """The source's numbers and unknown words, in order, where the output has _num_ and <unk>."""
    fillers = {
        NUMBER: iter([w for w in source if is_number(w) and NUMBER in vocab]),
        UNKNOWN: iter([w for w in source if model_token(w) not in vocab]),
    }
    return [next(fillers[w], w) if w in fillers else w for w in output]


@torch.no_grad()
def likeliest_styles(model: CrossAlignedAutoencoder, sentences: list[list[int]]) -> list[int]:
    """Each sentence's style: the one under which the autoencoder reconstructs it with the lower loss."""
    device = next(model.parameters()).device
    styles = [0] * len(sentences)
    for positions, batch in batches_in_length_order(sentences, [0] * len(sentences), 256):
        losses = [model.reconstruction_nll(replace(batch, labels=torch.full_like(batch.labels, label)).to(device))
                  for label in range(len(STYLES))]
        for i, style in zip(positions, torch.stack(losses).argmin(dim=0).tolist()):
            styles[i] = style
    return styles


def check_request(to: str, beam: int, strength: float | None = None) -> None:
    if to not in TARGETS:
        raise UserError(f"--to must be one of {', '.join(TARGETS)}, not {to!r}")
    if beam < 1:
        raise UserError("--beam must be at least 1")
    if strength is not None and not strength >= 0:
        raise UserError(f"--strength must be a number >= 0, not {strength}")


def transfer_sentences(trained: TrainedModel, sentences: Sentences, to: str, beam: int = 1,
                       strength: float | None = None) -> Sentences:
    """Rewrite tokenised sentences (`split_words` output) `to` positive, negative, or the opposite of their own style.

    `strength` defaults to the model's calibrated one (TrainedModel.strength).
    """
    check_request(to, beam, strength)
    max_len = trained.config.max_len
    too_long = sum(len(s) > max_len for s in sentences)
    if too_long:
        log.warning(f"truncated {too_long} sentence{'s' * (too_long > 1)} to the model's {max_len} tokens")
    ids = [trained.vocab.encode([model_token(w) for w in s[:max_len]]) for s in sentences]
    if to == "flip":
        sources = likeliest_styles(trained.model, ids)
        targets = [1 - s for s in sources]
    else:
        targets = [STYLES.index(to)] * len(ids)
        sources = [1 - t for t in targets]
    strength = trained.strength if strength is None else strength
    outputs = transfer_ids(trained.model, ids, sources, targets, beam=beam, strength=strength, max_len=max_len)
    return [fill_placeholders(trained.vocab.decode(o), s, trained.vocab) for o, s in zip(outputs, sentences)]


def transfer_lines(
    lines: list[str],
    to: str,
    *,
    model_dir: str | Path | None = None,
    beam: int = 1,
    strength: float | None = None,
    keep_tokens: bool = False,
    device: str | None = None,
    input_file: str | Path | None = None,
) -> list[str]:
    """Raw sentences (from `input_file`, if they are its lines) in, rewritten sentences out.

    Output is detokenised, or space-separated tokens with `keep_tokens`. `strength` None is the model's own.
    """
    check_request(to, beam, strength)
    sentences = [split_words(line) for line in lines]
    for number, sentence in enumerate(sentences, 1):
        if not sentence:
            where = f"{input_file}: line {number}" if input_file is not None else f"text {number}"
            raise UserError(f"{where} is empty; give one sentence a line")
    trained = load_model(model_dir if model_dir is not None else shipped_model(), select_device(device))
    outputs = transfer_sentences(trained, sentences, to, beam, strength)
    return [" ".join(o) if keep_tokens else detokenize(o) for o in outputs]
