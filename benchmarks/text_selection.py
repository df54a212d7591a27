"""Candidate selection against the raw model on the 1,000 Yelp test sentences: the evaluator's four scores, the
decoding faults (outputs that repeat a bigram, outputs shorter than half their source, outputs holding a literal <unk>)
and seconds per sentence.

Rows: the shipped model with its selector (default), the same at one strength (`--select off`, the calibrated
strength) with the new decoding (no repeated bigram, no early end), the same model as it decoded before
(neither rule, nor the <unk> budget), then Shen et al.'s outputs and the other peers in DATA/peers. Transfer time is measured around transfer alone, model loaded.

Usage: python benchmarks/text_selection.py [--data ../shared/data/yelp] [--evaluator DIR] [--model DIR]
    [--beam 1] [--threads 2] [--also OTHER_MODEL_DIR] [--out benchmarks/results/text_selection.md]
"""
import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from multistyle.core.checkpoint import read_json
from multistyle.core.runtime import cpu_name
from multistyle.text.bundle import FIGURES, load_model
from multistyle.text.config import StyleTransformerConfig
from multistyle.text.decode import transfer_ids
from multistyle.text.evaluate import evaluate_systems, peer_prefixes, read_eval_set, read_outputs, results_table
from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
from multistyle.text.tokenize import UNKNOWN
from multistyle.text.transfer import SHIPPED_MODEL, fill_placeholders, model_ids, transfer_sentences


def repeats_a_bigram(tokens: list[str]) -> bool:
    bigrams = list(zip(tokens, tokens[1:]))
    return len(bigrams) != len(set(bigrams))


def faults(outputs, sources) -> dict:
    pairs = [(o, s) for d in (0, 1) for o, s in zip(outputs[d], sources[d])]
    return {"repeated_bigram_pct": 100 * sum(repeats_a_bigram(o) for o, _ in pairs) / len(pairs),
            "shorter_than_half_pct": 100 * sum(len(o) < len(s) / 2 for o, s in pairs) / len(pairs),
            "unk_outputs": sum(UNKNOWN in o for o, _ in pairs)}


def decoded_as_before(trained, sentences, target: int, beam: int):
    """Greedy or beam transfer at the calibrated strength without repetition blocking, a minimum length or a limit on <unk>."""
    ids = model_ids(trained, sentences)
    outputs = transfer_ids(trained.model, ids, [1 - target] * len(ids), [target] * len(ids), beam=beam,
                           strength=trained.strength, max_len=trained.config.max_len, min_length_ratio=0, block_repeats=False,
                           limited=())
    return [fill_placeholders(trained.vocab.decode(o), s, trained.vocab) for o, s in zip(outputs, sentences)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/yelp"))
    parser.add_argument("--evaluator", type=Path, default=SHIPPED_EVALUATOR)
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="another trained model folder to add rows for (repeatable), e.g. the subword model")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/text_selection.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    test = read_eval_set(args.data)
    evaluator = load_evaluator(args.evaluator)
    trained = load_model(args.model)
    systems, extra = {}, {}

    def transfer_rows(model, label: str) -> None:
        runs = [("selection", True)] if model.selector is not None else []
        for kind, select in (*runs, (f"one strength ({model.strength:g}), --select off", False)):
            name = f"{label}, {kind}" + (f", beam {args.beam}" if args.beam > 1 else "")
            start = time.perf_counter()
            outputs = tuple(transfer_sentences(model, test.sources[d], ("positive", "negative")[d], args.beam, select=select)
                            for d in (0, 1))
            seconds = time.perf_counter() - start
            systems[name] = outputs
            extra[name] = {"ms_per_sentence": 1000 * seconds / sum(test.sizes), **faults(outputs, test.sources)}

    transfer_rows(trained, "ours (default)")
    for folder in args.also:
        other = load_model(folder)
        figures = read_json(folder / FIGURES) if (folder / FIGURES).is_file() else {}
        pieces = other.config.subword_vocab
        vocabulary = f"{pieces} subword pieces" if pieces else f"{len(other.vocab)} words"
        if isinstance(other.config, StyleTransformerConfig):
            steps = max(r["step"] for r in map(json.loads, (folder / "log.jsonl").read_text().splitlines()))
            what = f"Style Transformer, {other.config.layers} layers, d {other.config.d_model}, logged to step {steps}"
        else:
            what = f"hidden {other.config.dim_y + other.config.dim_z}, {figures['epochs']:.1f} epochs"
        transfer_rows(other, f"{folder} ({vocabulary}, {what})")
    name = f"ours, one strength ({trained.strength:g}), decoded as before" + (f", beam {args.beam}" if args.beam > 1 else "")
    start = time.perf_counter()
    systems[name] = tuple(decoded_as_before(trained, test.sources[d], 1 - d, args.beam) for d in (0, 1))
    extra[name] = {"ms_per_sentence": 1000 * (time.perf_counter() - start) / sum(test.sizes), **faults(systems[name], test.sources)}
    systems.update({name: read_outputs(prefix, test.sizes) for name, prefix in peer_prefixes(args.data).items()})
    for name, outputs in systems.items():
        extra.setdefault(name, faults(outputs, test.sources))
    rows = evaluate_systems(evaluator, test, systems)

    lines = ["| system | accuracy % | self-BLEU | ref-BLEU | perplexity | repeated bigram % | shorter than half % | `<unk>` outputs | ms/sentence |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in rows.items():
        e = extra.get(name, {})
        ms = f"{e['ms_per_sentence']:.1f}" if "ms_per_sentence" in e else "–"
        rep = f"{e['repeated_bigram_pct']:.1f}" if e else "–"
        short = f"{e['shorter_than_half_pct']:.1f}" if e else "–"
        unk = f"{e['unk_outputs']}" if e else "–"
        lines.append(f"| {name} | {s.accuracy:.1f} | {s.self_bleu:.1f} | {s.ref_bleu:.1f} | {s.perplexity:.1f} | {rep} | {short} | {unk} | {ms} |")
    machine = f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}, Python {platform.python_version()}"
    shown = args.evaluator.relative_to(Path.cwd()) if args.evaluator.is_relative_to(Path.cwd()) else args.evaluator
    markdown = "\n".join(lines) + f"\n\n{sum(test.sizes)} test sentences; evaluator {shown}; {machine}.\n"
    print(markdown)
    print(results_table(rows).splitlines()[-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown)
    args.out.with_suffix(".json").write_text(json.dumps(
        {name: {**vars(rows[name]), **extra.get(name, {})} for name in rows}, indent=1, default=list))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
