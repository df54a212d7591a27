"""Ten Yelp test sentences per direction drawn at random (random.Random(SEED).sample, not chosen), each beside every
shipped model's rewrite (`text transfer`'s defaults: selection, greedy) and Dai et al.'s published Style Transformer
outputs (../shared/data/yelp/peers/style_transformer_cond), with the shipped evaluator's verdict on each rewrite.

Usage: python benchmarks/text_examples.py [--seed 39] [--count 10] [--data ../shared/data/yelp]
    [--model LABEL=FOLDER ...] [--out benchmarks/results/text_examples.md]
--model replaces the shipped models' columns (a training run's folder, for instance).
"""
import argparse
import random
from pathlib import Path

import torch

from multistyle.text.bundle import WEIGHTS, load_model
from multistyle.text.data import read_lines, split_file
from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
from multistyle.text.tokenize import detokenize, normalize, split_words
from multistyle.text.transfer import SHIPPED_MODELS, transfer_sentences

PEER = "style_transformer_cond"
DIRECTIONS = (("negative", "positive"), ("positive", "negative"))


def draw(seed: int, count: int, sizes: tuple[int, int]) -> list[list[int]]:
    """The line numbers (0-based) drawn for each direction: one generator, negative lines first."""
    rng = random.Random(seed)
    return [sorted(rng.sample(range(size), count)) for size in sizes]


def cell(tokens: list[str], reads_as_target: bool) -> str:
    text = detokenize(tokens).replace("|", "\\|")
    return f"{text} {'✓' if reads_as_target else '✗'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/yelp"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/text_examples.md"))
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=FOLDER", help="a model column (repeatable)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folders = dict(m.split("=", 1) for m in args.model) or {
        f"{name} (shipped)": folder for name, folder in SHIPPED_MODELS.items() if (folder / WEIGHTS).is_file()}
    models = {label: load_model(folder) for label, folder in folders.items()}
    classifier = load_evaluator(SHIPPED_EVALUATOR).classifier
    sources = [read_lines(split_file(args.data, "test", label)) for label in (0, 1)]
    peers = [read_lines(args.data / "peers" / f"{PEER}.{label}") for label in (0, 1)]
    drawn = draw(args.seed, args.count, (len(sources[0]), len(sources[1])))
    lines = [f"Drawn with `python benchmarks/text_examples.py --seed {args.seed} --count {args.count}` "
             f"(`random.Random({args.seed})`, {args.count} line numbers of sentiment.test.0, then {args.count} of "
             "sentiment.test.1). ✓: the shipped evaluator's classifier reads the rewrite as the target sentiment.", ""]
    for label, (source_style, target_style) in enumerate(DIRECTIONS):
        chosen = [split_words(sources[label][i]) for i in drawn[label]]
        columns = [transfer_sentences(trained, [normalize(" ".join(s)) for s in chosen], target_style) for trained in models.values()]
        columns.append([split_words(peers[label][i]) for i in drawn[label]])
        verdicts = [classifier.predict([normalize(" ".join(o)) for o in column]) for column in columns]
        header = ["line", "source", *models, "Dai et al. 2019's published outputs"]
        lines += [f"**{source_style} → {target_style}**", "", "| " + " | ".join(header) + " |",
                  "| ---: | " + " | ".join("---" for _ in header[1:]) + " |"]
        for row, (i, s) in enumerate(zip(drawn[label], chosen)):
            cells = [cell(column[row], verdict[row] == 1 - label) for column, verdict in zip(columns, verdicts)]
            lines.append(f"| {i + 1} | {detokenize(s)} | " + " | ".join(cells) + " |")
        lines.append("")
    markdown = "\n".join(lines)
    print(markdown)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown)


if __name__ == "__main__":
    main()
