"""Ten Yelp test sentences per direction drawn at random (random.Random(SEED).sample, not chosen), each beside the
shipped model's rewrite (selection, greedy: `text transfer`'s default) and the Style Transformer peer's
(../shared/data/yelp/peers/style_transformer_cond), with the shipped evaluator's verdict on each rewrite.

Usage: python benchmarks/text_examples.py [--seed 39] [--count 10] [--data ../shared/data/yelp]
    [--out benchmarks/results/text_examples.md]
"""
import argparse
import random
from pathlib import Path

import torch

from multistyle.text.bundle import load_model
from multistyle.text.data import read_lines, split_file
from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
from multistyle.text.tokenize import detokenize, normalize, split_words
from multistyle.text.transfer import SHIPPED_MODEL, transfer_sentences

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
    args = parser.parse_args()
    torch.set_num_threads(1)
    trained = load_model(SHIPPED_MODEL)
    classifier = load_evaluator(SHIPPED_EVALUATOR).classifier
    sources = [read_lines(split_file(args.data, "test", label)) for label in (0, 1)]
    peers = [read_lines(args.data / "peers" / f"{PEER}.{label}") for label in (0, 1)]
    drawn = draw(args.seed, args.count, (len(sources[0]), len(sources[1])))
    lines = [f"Drawn with `python benchmarks/text_examples.py --seed {args.seed} --count {args.count}` "
             f"(`random.Random({args.seed})`, {args.count} line numbers of sentiment.test.0, then {args.count} of "
             "sentiment.test.1). ✓: the shipped evaluator's classifier reads the rewrite as the target sentiment.", ""]
    for label, (source_style, target_style) in enumerate(DIRECTIONS):
        chosen = [split_words(sources[label][i]) for i in drawn[label]]
        ours = transfer_sentences(trained, [normalize(" ".join(s)) for s in chosen], target_style)
        theirs = [split_words(peers[label][i]) for i in drawn[label]]
        target = 1 - label
        ours_ok = classifier.predict([normalize(" ".join(o)) for o in ours])
        theirs_ok = classifier.predict([normalize(" ".join(t)) for t in theirs])
        lines += [f"**{source_style} → {target_style}**", "",
                  "| line | source | shipped model (selection) | Style Transformer (Dai et al. 2019) |", "| ---: | --- | --- | --- |"]
        for i, s, o, t, a, b in zip(drawn[label], chosen, ours, theirs, ours_ok, theirs_ok):
            lines.append(f"| {i + 1} | {detokenize(s)} | {cell(o, a == target)} | {cell(t, b == target)} |")
        lines.append("")
    markdown = "\n".join(lines)
    print(markdown)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown)


if __name__ == "__main__":
    main()
