"""Sentiment transfer of raw sentences with a trained cross-aligned autoencoder.

A sentence is normalised like the corpus, cut into pieces within the model's max length where it is longer (or
holds several sentences; multistyle.text.pieces), each piece rewritten, the rewrites joined and detokenised; the
numbers and unknown words it had come back where the output has _num_ and <unk> (see fill_placeholders).
"""
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from multistyle.core.checkpoint import write_json
from multistyle.core.paths import check_output
from multistyle.core.pipeline import Output, plain
from multistyle.core.runtime import select_device
from multistyle.errors import InputError, WeightsError
from multistyle.text.bundle import WEIGHTS, TrainedModel, load_model
from multistyle.text.data import STYLES, Sentences, batches_in_length_order
from multistyle.text.decode import transfer_candidates, transfer_ids
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.pieces import FINAL, join_rewrites, split_pieces
from multistyle.text.surface import prepare, render
from multistyle.text.tokenize import NUMBER, UNKNOWN, is_number, split_sentences
from multistyle.text.vocab import UNK, AnyVocab, Vocab

SHIPPED_MODEL = Path(__file__).resolve().parent / "weights"
SHIPPED_MODELS = {"cross-aligned": SHIPPED_MODEL, "style-transformer": SHIPPED_MODEL / "style_transformer"}
RECIPES = {"cross-aligned": "recipes/text_yelp.sh", "style-transformer": "recipes/text_style_transformer.sh"}
DEFAULT_MODEL = "style-transformer"  # the rule that picks it: docs/text.md, "Which model"
TARGETS = (*STYLES, "flip")
MAX_BEAM = 64  # wider beams cost time in proportion and no longer change the output


def shipped_model(name: str = DEFAULT_MODEL) -> Path:
    folder = SHIPPED_MODELS[name]
    if not (folder / WEIGHTS).is_file():
        raise WeightsError(
            f"the {name} text model does not ship with this install (no {folder / WEIGHTS}): train one with "
            f"`multistyle text train --model {name} --data DIR --out MODEL` (see {RECIPES[name]}) and pass --model MODEL"
        )
    return folder


def model_folder(name_or_path: str | Path | None) -> Path:
    """A shipped model's name (cross-aligned, style-transformer; None: the default) or a folder from `text train`."""
    if name_or_path is None:
        return shipped_model()
    if not isinstance(name_or_path, (str, Path)):
        raise InputError(f"a text model is a shipped name ({', '.join(SHIPPED_MODELS)}) or a folder written by "
                         f"`multistyle text train`, not {type(name_or_path).__name__}")
    if str(name_or_path) in SHIPPED_MODELS:
        return shipped_model(str(name_or_path))
    if not Path(name_or_path).exists():
        raise WeightsError(f"{name_or_path}: model folder not found, and not a shipped text model ({', '.join(SHIPPED_MODELS)})")
    return Path(name_or_path)


def model_token(word: str) -> str:
    return NUMBER if is_number(word) else word


def placeholder_of(word: str, vocab: AnyVocab) -> str | None:
    """The placeholder the model reads for a source word (_num_ for a number, <unk> for an unknown word), else None."""
    if is_number(word) and NUMBER in vocab:
        return NUMBER
    if word != UNKNOWN and model_token(word) not in vocab:
        return UNKNOWN
    return None


CURRENCY = "$"  # stands before a number in the corpus ("$ _num_"): written without one it reads "a $ value"


def sentence_end_ids(vocab: AnyVocab) -> tuple[int, ...]:
    """Ids of the marks that end a sentence (a word vocabulary's; subword pieces are left alone)."""
    return tuple(vocab.index[mark] for mark in sorted(FINAL) if mark in vocab.index) if isinstance(vocab, Vocab) else ()


def placeholder_ids(vocab: AnyVocab) -> tuple[int, ...]:
    """Ids that decoding may write only as often as the source has them: <unk>, and where the vocabulary has them
    _num_ and the currency sign (which, with numbers budgeted, would stand before none)."""
    if NUMBER not in vocab:
        return (UNK,)
    number = vocab.index[NUMBER] if isinstance(vocab, Vocab) else vocab.processor.PieceToId(NUMBER)
    if number == UNK:
        return (UNK,)
    currency = vocab.index.get(CURRENCY) if isinstance(vocab, Vocab) else None
    return (UNK, number) if currency is None else (UNK, number, currency)


def decoding_rules(trained: TrainedModel) -> dict:
    """The vocabulary's part of decoding (multistyle.text.decode): the ids written no more often than the source has
    them (`limited`) and the marks that end a sentence (`ends`), as keyword arguments."""
    return {"limited": placeholder_ids(trained.vocab), "ends": sentence_end_ids(trained.vocab)}


def fill_placeholders(output: list[str], source: list[str], vocab: AnyVocab) -> list[str]:
    """The output with each _num_ and <unk> replaced by the source number or unknown word it stands for.

    The rule: the output is aligned to the source by the longest common subsequence of what the model reads (each
    source number as _num_, each unknown word as <unk>, other words as they are), so a placeholder takes the source
    word it lines up with ("were great _num_ <unk>" against "were bad , 3 times" gives "3 times"). A placeholder
    left unaligned takes the first unused source word of its kind between its aligned neighbours, else the first
    unused one anywhere. An <unk> with no source word left is dropped (decoding writes no more <unk> than the
    source has, see multistyle.text.decode, so only a subword vocabulary's split words can leave one); a _num_ with
    no source number stays _num_, the corpus's own spelling of a number.
    """
    kinds = [placeholder_of(w, vocab) for w in source]
    read = [k or w for k, w in zip(kinds, source)]
    matched = dict(_common_subsequence(output, read))  # output index -> source index
    used = {j for i, j in matched.items() if output[i] in (NUMBER, UNKNOWN) and kinds[j] == output[i]}
    filled = []
    for i, word in enumerate(output):
        if word not in (NUMBER, UNKNOWN):
            filled.append(word)
            continue
        j = matched.get(i)
        if j is None or kinds[j] != word:
            before = max((s for o, s in matched.items() if o < i), default=-1)
            after = min((s for o, s in matched.items() if o > i), default=len(source))
            free = [s for s in range(len(source)) if kinds[s] == word and s not in used]
            j = next((s for s in free if before < s < after), free[0] if free else None)
            if j is not None:
                used.add(j)
        if j is not None and kinds[j] == word:
            filled.append(source[j])
        elif word == NUMBER:
            filled.append(word)
    return filled


def _common_subsequence(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i, j) of a longest common subsequence of a and b."""
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            lengths[i][j] = lengths[i + 1][j + 1] + 1 if a[i] == b[j] else max(lengths[i + 1][j], lengths[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


@torch.no_grad()
def style_posteriors(model: CrossAlignedAutoencoder, sentences: list[list[int]]) -> list[list[float]]:
    """Each sentence's probability of each style under the autoencoder itself: a softmax over the negative
    reconstruction losses of the sentence given each style label."""
    device = next(model.parameters()).device
    posteriors = [[0.0] * len(STYLES) for _ in sentences]
    for positions, batch in batches_in_length_order(sentences, [0] * len(sentences), 256):
        losses = [model.reconstruction_nll(replace(batch, labels=torch.full_like(batch.labels, label)).to(device))
                  for label in range(len(STYLES))]
        for i, row in zip(positions, torch.softmax(-torch.stack(losses), dim=0).T.tolist()):
            posteriors[i] = row
    return posteriors


def likeliest_styles(model: CrossAlignedAutoencoder, sentences: list[list[int]]) -> list[int]:
    """Each sentence's style: the one under which the autoencoder reconstructs it with the lower loss."""
    return [max(range(len(STYLES)), key=row.__getitem__) for row in style_posteriors(model, sentences)]


def check_request(to: str, beam: int, strength: float | None = None) -> None:
    if to not in TARGETS:
        raise InputError(f"--to must be one of {', '.join(TARGETS)}, not {to!r}")
    if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= MAX_BEAM:
        raise InputError(f"--beam must be between 1 and {MAX_BEAM}, not {beam!r}")
    if strength is not None and (isinstance(strength, bool) or not isinstance(strength, (int, float))):
        raise InputError(f"--strength must be a finite number >= 0, not {strength!r}")
    if strength is not None and not (math.isfinite(strength) and strength >= 0):
        raise InputError(f"--strength must be a finite number >= 0, not {strength}")


def model_ids(trained: TrainedModel, sentences: Sentences, truncate: bool = True) -> list[list[int]]:
    """Ids of tokenised sentences as the model reads them: numbers masked, truncated to its max length."""
    max_len = trained.config.max_len if truncate else None
    return [trained.vocab.encode([model_token(w) for w in s[:max_len]])[:max_len] for s in sentences]


def target_styles(trained: TrainedModel, sentences: Sentences, to: str) -> list[int]:
    """Each sentence's target style label: `to`, or for "flip" the style it lacks (judged by the model's selector
    classifier where it has one, on the whole sentence, else by which style the autoencoder reconstructs it better in)."""
    if to != "flip":
        return [STYLES.index(to)] * len(sentences)
    if trained.selector is not None:
        ids = model_ids(trained, sentences, truncate=False)
        return [int(p < 0.5) for p in trained.selector.target_probability(ids, [1] * len(ids))]
    return [1 - s for s in likeliest_styles(trained.model, model_ids(trained, sentences))]


def selects(trained: TrainedModel, strength: float | None, select: bool) -> bool:
    """Whether a transfer picks among candidates per sentence: asked to, no fixed strength, and a selector to do it."""
    return select and strength is None and trained.selector is not None


def transfer_sentences(trained: TrainedModel, sentences: Sentences, to: str | Sequence[int], beam: int = 1,
                       strength: float | None = None, select: bool = True) -> Sentences:
    """Rewrite tokenised sentences (`split_words` output) `to` positive, negative, or the opposite of their own style
    (`to` may also list each sentence's target label, see target_styles).

    With `select` and a model that has a selector, each sentence is written at every strength of the selector's
    ladder and the selector keeps one (multistyle.text.selector). Otherwise, or when `strength` is given, every
    sentence is written at one strength: `strength`, by default the model's calibrated one (TrainedModel.strength).
    A sentence longer than the model's max length, or holding several sentences, is rewritten in pieces
    (multistyle.text.pieces); no output holds <unk> (see fill_placeholders).
    """
    check_request(to if isinstance(to, str) else "flip", beam, strength)
    max_len = trained.config.max_len
    sentence_targets = target_styles(trained, sentences, to) if isinstance(to, str) else list(to)
    # Several sentences, or one past the model's length, are rewritten piece by piece (multistyle.text.pieces).
    split = [split_pieces(s, max_len) for s in sentences]
    pieces = [p for row in split for p in row]
    ids = model_ids(trained, [p.tokens for p in pieces])
    targets = [t for row, t in zip(split, sentence_targets) for _ in row]
    sources = [1 - t for t in targets]
    rules = decoding_rules(trained)
    if selects(trained, strength, select):
        settings = trained.selector.config.candidates
        candidates = transfer_candidates(trained.model, ids, sources, targets, settings, beam=beam, max_len=max_len,
                                         lm=trained.selector.lm, **rules)
        chosen = trained.selector.choose(ids, candidates, targets)
        outputs = [row[k] for row, k in zip(candidates, chosen)]
    else:
        strength = trained.strength if strength is None else strength
        outputs = transfer_ids(trained.model, ids, sources, targets, beam=beam, strength=strength, max_len=max_len, **rules)
    rewrites = iter([fill_placeholders(trained.vocab.decode(o), p.tokens, trained.vocab) for o, p in zip(outputs, pieces)])
    return [join_rewrites(row, [next(rewrites) for _ in row]) for row in split]


@dataclass(repr=False)
class TextResult(Output):
    """Rewritten sentences (`texts`, one per input, detokenised) with the request that made them."""

    method = "cross-aligned"  # a class attribute, not a field

    texts: list[str]
    sources: list[str]
    to: str
    strength: float | None  # None: chosen per sentence by the selector
    beam: int
    seconds: float

    @property
    def text(self) -> str:
        """The first (or only) rewritten sentence."""
        return self.texts[0]

    def __iter__(self):
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    def _repr_fields(self) -> str:
        return f"texts={len(self.texts)}, to={self.to!r}, seconds={self.seconds:.2f}"

    def report(self, **inputs) -> dict:
        return {"method": self.method, **inputs, "to": self.to, "strength": self.strength, "beam": self.beam,
                "sentences": len(self.texts), "seconds": round(self.seconds, 3)}

    def save(self, path: str | Path, report: bool = True, **inputs) -> Path:
        """The rewrites, one a line, and (with `report`) PATH.json beside them, each atomically."""
        from multistyle.text.data import write_lines

        path = Path(path)
        for written in (path, path.with_suffix(".json")) if report else (path,):
            check_output(written)
        write_lines(path, self.texts)
        if report:
            write_json(path.with_suffix(".json"), {**self.report(**plain(inputs)), "output": str(path)})
        return path


class TextTransfer:
    """Rewrite sentences into the other sentiment with Shen et al. (2017)'s cross-aligned autoencoder or Dai et al.
    (2019)'s Style Transformer.

    >>> flip = TextTransfer.from_pretrained()
    >>> flip("the food was cold and the staff was rude .", to="positive").text

    Raw sentences are normalised like the Yelp corpus and the output is detokenised. `strength` (0 = the
    model as trained) defaults to the model's calibrated one.
    """

    def __init__(self, trained: TrainedModel):
        self.trained = trained

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, *, device: str | None = None) -> "TextTransfer":
        """A shipped model by name ("cross-aligned", "style-transformer"; by default DEFAULT_MODEL) or a model folder
        written by `multistyle text train`."""
        return cls(load_model(model_folder(name_or_path), select_device(device)))

    @classmethod
    def from_dir(cls, folder: str | Path, device: str | None = None) -> "TextTransfer":
        """The same as from_pretrained(folder)."""
        return cls.from_pretrained(folder, device=device)

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> "TextTransfer":
        """Run on `device`; the text models compute in float32."""
        if dtype is not None and dtype != torch.float32:
            raise InputError("TextTransfer computes in float32 only")
        if device is not None:
            device = select_device(device)
            selector = self.trained.selector
            for module in (self.trained.model, *((selector.classifier, selector.lm) if selector is not None else ())):
                module.to(device)
        return self

    @property
    def strength(self) -> float:
        return self.trained.strength

    def positive_probability(self, texts: Sequence[str]) -> list[float]:
        """How positive each sentence reads to the model: its selector's classifier where it has one, else the
        autoencoder itself (never the evaluation classifier)."""
        ids = model_ids(self.trained, [prepare(t)[0] for t in texts])
        if self.trained.selector is not None:
            return self.trained.selector.target_probability(ids, [1] * len(ids))
        return [row[STYLES.index("positive")] for row in style_posteriors(self.trained.model, ids)]

    def __call__(self, texts: str | Sequence[str], to: str = "flip", *, beam: int = 1, strength: float | None = None,
                 select: bool = True, keep_tokens: bool = False, **unknown: object) -> TextResult:
        """Rewrite `texts` (one sentence, or a list) `to` "positive", "negative" or "flip" (each to the style it lacks).

        With `select` (and no `strength`), each sentence is written at several strengths and the model's selector
        keeps the least change that reads as the target; see multistyle.text.selector.
        """
        if unknown:
            raise InputError(f"unknown argument {', '.join(unknown)} for TextTransfer (known: to, beam, strength, select, keep_tokens)")
        from collections.abc import Iterable

        if isinstance(texts, (bytes, bytearray)) or not isinstance(texts, (str, Iterable)):
            raise InputError(f"texts must be a string or a list of strings, not {type(texts).__name__}")
        lines = [texts] if isinstance(texts, str) else list(texts)
        check_request(to, beam, strength)
        if not lines:
            raise InputError("nothing to transfer: give at least one sentence")
        start = time.perf_counter()
        sentences, surfaces, owner = [], [], []  # a text of several sentences is transferred sentence by sentence
        for number, line in enumerate(lines, 1):
            if not isinstance(line, str):
                raise InputError(f"text {number}: expected a string, not {type(line).__name__}")
            prepared = [prepare(piece) for piece in split_sentences(line)]
            prepared = [(tokens, surface) for tokens, surface in prepared if tokens]
            if not prepared:
                raise InputError(f"text {number} is empty; give one sentence a line")
            for tokens, surface in prepared:
                sentences.append(tokens)
                surfaces.append(surface)
                owner.append(number - 1)
        targets = target_styles(self.trained, sentences, to)
        outputs = transfer_sentences(self.trained, sentences, targets, beam, strength, select)
        rendered = [" ".join(o) if keep_tokens else render(o, surface, STYLES[t])
                    for o, surface, t in zip(outputs, surfaces, targets)]
        texts_out = [" ".join(r for r, o in zip(rendered, owner) if o == i) for i in range(len(lines))]
        used = None if selects(self.trained, strength, select) else self.trained.strength if strength is None else strength
        result = TextResult(texts_out, lines, to, used, beam, time.perf_counter() - start)
        result.method = self.method  # the class's default names the cross-aligned model
        return result

    @property
    def method(self) -> str:
        """cross-aligned or style-transformer."""
        return getattr(self.trained.config, "model", "cross-aligned")
