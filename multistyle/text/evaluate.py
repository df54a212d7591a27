"""Scoring transfer outputs on a corpus's test split: ours and other systems' side by side.

A system's outputs are two files, PREFIX.0 (the negative test sentences made positive) and PREFIX.1
(the positive made negative), line-aligned with sentiment.test.{0,1}. Everything is normalised
like the corpus before scoring, so tokenised and detokenised outputs score alike.
"""
from dataclasses import asdict, dataclass
from pathlib import Path

from multistyle.core.checkpoint import write_json
from multistyle.core.runtime import select_device
from multistyle.errors import InputError
from multistyle.text.bundle import load_model
from multistyle.text.data import (
    Sentences,
    read_lines,
    read_references,
    split_file,
    write_lines,
)
from multistyle.text.evaluator import Evaluator, load_evaluator
from multistyle.text.metrics import TransferScores, corpus_bleu
from multistyle.text.tokenize import normalize
from multistyle.text.transfer import transfer_sentences

Pair = tuple[Sentences, Sentences]  # (negative -> positive, positive -> negative)
DIRECTIONS = ("negative → positive", "positive → negative")


@dataclass
class EvalSet:
    sources: Pair
    references: Pair | None

    @property
    def sizes(self) -> tuple[int, int]:
        return len(self.sources[0]), len(self.sources[1])


def read_eval_set(data_dir: str | Path) -> EvalSet:
    sources = tuple([normalize(line) for line in read_lines(split_file(data_dir, "test", label))] for label in (0, 1))
    references = read_references(data_dir)
    if references is not None and (len(references[0]), len(references[1])) != (len(sources[0]), len(sources[1])):
        raise InputError(f"{data_dir}: reference.{{0,1}} and sentiment.test.{{0,1}} differ in length")
    return EvalSet(sources, references)


def read_outputs(prefix: str | Path, sizes: tuple[int, int]) -> Pair:
    outputs = []
    for label in (0, 1):
        path = Path(f"{prefix}.{label}")
        lines = read_lines(path)
        if len(lines) != sizes[label]:
            raise InputError(f"{path}: {len(lines)} lines for {sizes[label]} test sentences; outputs must be line-aligned with sentiment.test.{label}")
        outputs.append([normalize(line) for line in lines])
    return outputs[0], outputs[1]


def peer_prefixes(data_dir: str | Path) -> dict[str, Path]:
    """Every system in DATA/peers that has both output files, by name."""
    folder = Path(data_dir) / "peers"
    if not folder.is_dir():
        raise InputError(f"{data_dir}: no peers/ folder of other systems' outputs")
    return {p.stem: p.with_suffix("") for p in sorted(folder.glob("*.0")) if p.with_suffix(".1").is_file()}


def score_outputs(evaluator: Evaluator, outputs: Pair, test: EvalSet, directions: tuple[int, ...] = (0, 1)) -> TransferScores:
    """Scores of the outputs pooled over DIRECTIONS (0: negative -> positive, 1: positive -> negative)."""
    def pooled(pair: Pair) -> Sentences:
        return [sentence for d in directions for sentence in pair[d]]

    transferred = pooled(outputs)
    return TransferScores(
        lines=tuple(len(outputs[d]) if d in directions else 0 for d in (0, 1)),
        accuracy=evaluator.classifier.accuracy(transferred, [1 - d for d in directions for _ in outputs[d]]),
        self_bleu=corpus_bleu(transferred, pooled(test.sources)),
        ref_bleu=corpus_bleu(transferred, pooled(test.references)) if test.references else None,
        perplexity=evaluator.lm.perplexity(transferred) if evaluator.lm else None,
    )


def evaluate_systems(evaluator: Evaluator, test: EvalSet, systems: dict[str, Pair],
                     directions: tuple[int, ...] = (0, 1)) -> dict[str, TransferScores]:
    """Scores of each system, then of two yardsticks: the sources copied unchanged and the human rewrites."""
    systems = {**systems, "(source copied)": test.sources}
    if test.references:
        systems["(human rewrites)"] = test.references
    return {name: score_outputs(evaluator, outputs, test, directions) for name, outputs in systems.items()}


def number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def results_table(rows: dict[str, TransferScores]) -> str:
    """A markdown table; the classifier's own accuracy on the test originals goes beneath it."""
    lines = ["| system | lines | accuracy % | self-BLEU | ref-BLEU | perplexity |", "| --- | --- | --- | --- | --- | --- |"]
    for name, s in rows.items():
        lines.append(f"| {name} | {s.lines[0]} / {s.lines[1]} | {number(s.accuracy)} | {number(s.self_bleu)} | {number(s.ref_bleu)} | {number(s.perplexity)} |")
    copied = rows.get("(source copied)")
    if copied is not None:
        lines += ["", f"Classifier accuracy on the test originals: {100 - copied.accuracy:.1f} %."]
    return "\n".join(lines) + "\n"


def direction_table(by_direction: tuple[dict[str, TransferScores], dict[str, TransferScores]]) -> str:
    """Each system's scores for each direction alone, two rows a system."""
    lines = ["| system | direction | accuracy % | self-BLEU | ref-BLEU | perplexity |", "| --- | --- | --- | --- | --- | --- |"]
    for name in by_direction[0]:
        for direction, rows in zip(DIRECTIONS, by_direction):
            s = rows[name]
            lines.append(f"| {name} | {direction} | {number(s.accuracy)} | {number(s.self_bleu)} | {number(s.ref_bleu)} | {number(s.perplexity)} |")
    return "\n".join(lines) + "\n"


def model_outputs(model_dir: str | Path, test: EvalSet, beam: int = 1, device: str | None = None,
                  strength: float | None = None, select: bool = True) -> Pair:
    """A trained model's transfer of the test sentences, each to the other style (see transfer_sentences)."""
    trained = load_model(model_dir, select_device(device))
    return (transfer_sentences(trained, test.sources[0], "positive", beam, strength, select),
            transfer_sentences(trained, test.sources[1], "negative", beam, strength, select))


def evaluate(
    data_dir: str | Path,
    evaluator_dir: str | Path,
    *,
    model_dir: str | Path | None = None,
    output_prefixes: list[str | Path] = (),
    peers: bool = False,
    beam: int = 1,
    strength: float | None = None,
    select: bool = True,
    save_outputs: str | Path | None = None,
    by_direction: bool = False,
    device: str | None = None,
) -> tuple[dict[str, TransferScores], str]:
    """Score a model (transferring the test split), output files and/or DATA/peers; returns rows and a markdown table.

    by_direction adds a second table that scores each direction alone.
    """
    test = read_eval_set(data_dir)
    evaluator = load_evaluator(evaluator_dir, select_device(device))
    systems: dict[str, Pair] = {}
    if model_dir is not None:
        systems[f"{Path(model_dir).name} (ours)"] = outputs = model_outputs(model_dir, test, beam, device, strength, select)
        if save_outputs is not None:
            for label, sentences in enumerate(outputs):
                write_lines(f"{save_outputs}.{label}", [" ".join(s) for s in sentences])
    for prefix in output_prefixes:
        systems[Path(prefix).name] = read_outputs(prefix, test.sizes)
    if peers:
        systems.update({name: read_outputs(prefix, test.sizes) for name, prefix in peer_prefixes(data_dir).items()})
    if not systems:
        raise InputError("nothing to evaluate: give --model DIR, --outputs PREFIX or --peers")
    rows = evaluate_systems(evaluator, test, systems)
    markdown = results_table(rows)
    if by_direction:
        markdown += "\n" + direction_table(tuple(evaluate_systems(evaluator, test, systems, (d,)) for d in (0, 1)))
    return rows, markdown


def write_results(path: str | Path, rows: dict[str, TransferScores], markdown: str) -> None:
    """The markdown table at PATH and its figures beside it, as PATH.json."""
    path = Path(path)
    write_lines(path, markdown.splitlines())
    write_json(path.with_name(path.name + ".json"), {name: asdict(scores) for name, scores in rows.items()})
