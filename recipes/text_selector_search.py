"""Choose the selector's candidate settings, threshold and fluency weight on the dev split (issue 23).

Every dev sentence is decoded once at every (strength, copy bonus, LM weight) of a grid; the selector's two models and the
evaluator score each candidate once. A selection rule (a subset of the grid, a threshold, a fluency weight) then
costs only array arithmetic, because corpus BLEU and corpus perplexity are sums of per-sentence statistics. The
search starts from the model's current settings and moves one setting at a time (add, remove, swap), keeping the
rule with the most dev self-BLEU among those meeting the accuracy and perplexity floors; the test split is never read.

Usage: python recipes/text_selector_search.py [--model DIR] [--data ../shared/data/yelp] [--max-candidates 10]
    [--min-accuracy 86] [--max-perplexity 49] [--strengths S ...] [--bonuses B ...] [--lm-weights W ...] [--cache FILE] [--write]
--write stores the chosen rule in MODEL/selector.json (the selector's models are unchanged).
"""
import argparse
import json
import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sacrebleu.metrics import BLEU

from multistyle.core.checkpoint import read_json, write_json
from multistyle.text.bundle import load_model
from multistyle.text.data import make_batch, read_split
from multistyle.text.decode import transfer_candidates
from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
from multistyle.text.selector import INFO, content_overlap
from multistyle.text.transfer import SHIPPED_MODEL, decoding_rules, fill_placeholders, model_ids
from multistyle.text.vocab import PAD

STRENGTHS = (0.0, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5, 2.0)
BONUSES = (0.0, 1.0, 2.0, 4.0)
THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
FLUENCY_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0)


def setting(values) -> tuple[float, float, float]:
    """A candidate setting as (strength, copy bonus, LM weight); a pair has LM weight 0."""
    return tuple(map(float, (*values, 0.0)[:3]))


def bleu_statistics(hypothesis: list[str], reference: list[str]) -> list[int]:
    """[hypothesis length, reference length, matches of 1..4-grams, totals of 1..4-grams] (clipped counts)."""
    stats = [len(hypothesis), len(reference)]
    matches, totals = [], []
    for n in range(1, 5):
        h = Counter(tuple(hypothesis[i : i + n]) for i in range(len(hypothesis) - n + 1))
        r = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
        matches.append(sum((h & r).values()))
        totals.append(max(0, len(hypothesis) - n + 1))
    return stats + matches + totals


def corpus_bleu_from(stats: np.ndarray) -> float:
    total = stats.sum(axis=0)
    return BLEU.compute_bleu(total[2:6].tolist(), total[6:10].tolist(), int(total[0]), int(total[1])).score


@torch.no_grad()
def sentence_nll(lm, sentences: list[list[str]], batch_size: int = 256) -> np.ndarray:
    """(sentences, 2): the evaluator LM's summed negative log-likelihood of each sentence and its token count."""
    out = np.zeros((len(sentences), 2))
    lm.net.eval()
    for start in range(0, len(sentences), batch_size):
        chunk = sentences[start : start + batch_size]
        batch = make_batch([lm.vocab.encode(s[: lm.max_len]) for s in chunk], [0] * len(chunk)).to(lm.device)
        logits = lm.net(input_ids=batch.decoder_input, attention_mask=(batch.decoder_input != PAD).long()).logits
        nll = F.cross_entropy(logits.transpose(1, 2), batch.target, ignore_index=PAD, reduction="none")
        out[start : start + len(chunk), 0] = nll.sum(1).numpy()
        out[start : start + len(chunk), 1] = (batch.target != PAD).sum(1).numpy()
    return out


def score_grid(args) -> dict[str, np.ndarray]:
    """Per dev sentence and grid setting: selector probability, overlap, fluency; evaluator hit, LM NLL, BLEU stats."""
    trained = load_model(args.model)
    evaluator = load_evaluator(args.evaluator)
    neg, pos = read_split(args.data, "dev")
    sentences = neg[: args.per_style] + pos[: args.per_style]
    targets = [1] * len(neg[: args.per_style]) + [0] * len(pos[: args.per_style])
    grid = [(s, b, w) for s in args.strengths for b in args.bonuses for w in args.lm_weights]
    ids = model_ids(trained, sentences)
    start = time.perf_counter()
    candidates = transfer_candidates(trained.model, ids, [1 - t for t in targets], targets, grid, max_len=trained.config.max_len,
                                     lm=trained.selector.lm, **decoding_rules(trained))
    print(f"decoded {len(sentences)} sentences x {len(grid)} settings in {time.perf_counter() - start:.0f} s", flush=True)
    flat = [c for row in candidates for c in row]
    flat_targets = [t for t in targets for _ in grid]
    selector = trained.selector
    words = [fill_placeholders(trained.vocab.decode(c), s, trained.vocab) for s, row in zip(sentences, candidates) for c in row]
    shape = (len(sentences), len(grid))
    scores = {
        "probability": np.array(selector.target_probability(flat, flat_targets)).reshape(shape),
        "fluency": np.array(selector.fluency(flat)).reshape(shape),
        "overlap": np.array([content_overlap(c, s) for s, row in zip(ids, candidates) for c in row]).reshape(shape),
        "hit": (np.array(evaluator.classifier.predict(words)) == np.array(flat_targets)).reshape(shape),
        "nll": sentence_nll(evaluator.lm, words).reshape(*shape, 2),
        "bleu": np.array([bleu_statistics(w, s) for w, s in zip(words, (s for s in sentences for _ in grid))]).reshape(*shape, 10),
    }
    print(f"scored in {time.perf_counter() - start:.0f} s", flush=True)
    return {"grid": np.array(grid), **scores}


def evaluate_rule(scores: dict[str, np.ndarray], columns: list[int], threshold: float, weight: float) -> tuple[float, float, float]:
    """Dev (accuracy %, self-BLEU, perplexity) of Selector.choose's rule over the given grid columns."""
    p = scores["probability"][:, columns]
    accepted = p >= threshold
    quality = np.where(accepted, scores["overlap"][:, columns] + weight * scores["fluency"][:, columns], p)
    # Selector.choose maximises (accepted, quality, -position): accepted first, then quality, then the earlier setting.
    key = accepted * 1e6 + quality
    chosen = np.array(columns)[np.argmax(key, axis=1)]
    rows = np.arange(len(chosen))
    nll = scores["nll"][rows, chosen].sum(axis=0)
    return (100 * scores["hit"][rows, chosen].mean(), corpus_bleu_from(scores["bleu"][rows, chosen]), math.exp(nll[0] / nll[1]))


def best_rule(scores, columns, args) -> tuple | None:
    best = None
    for threshold in THRESHOLDS:
        for weight in FLUENCY_WEIGHTS:
            accuracy, self_bleu, perplexity = evaluate_rule(scores, columns, threshold, weight)
            if accuracy >= args.min_accuracy and perplexity <= args.max_perplexity and (best is None or self_bleu > best[0]):
                best = (self_bleu, accuracy, perplexity, threshold, weight)
    return best


def search(scores, args, grid: list[tuple[float, float, float]], start: list[tuple[float, float, float]]) -> list[dict]:
    """Local search over sets of grid columns, from `start` (the model's current settings): each round takes the
    best of every single addition (up to --max-candidates), removal and swap, until none raises dev self-BLEU."""
    chosen = sorted(grid.index(tuple(c)) for c in start)
    rule = best_rule(scores, chosen, args)
    ladder = []
    while True:
        if rule:
            self_bleu, accuracy, perplexity, threshold, weight = rule
            ladder.append({"candidates": [list(grid[c][:2] if grid[c][2] == 0 else grid[c]) for c in chosen], "threshold": threshold, "fluency_weight": weight,
                           "dev_accuracy": round(accuracy, 2), "dev_self_bleu": round(self_bleu, 2), "dev_perplexity": round(perplexity, 2)})
            print(json.dumps(ladder[-1]), flush=True)
        others = [c for c in range(len(grid)) if c not in chosen]
        moves = [chosen + [c] for c in others] if len(chosen) < args.max_candidates else []
        moves += [[c for c in chosen if c != r] for r in chosen] if len(chosen) > 1 else []
        moves += [[c for c in chosen if c != r] + [a] for r in chosen for a in others]
        best = max(((best_rule(scores, sorted(m), args), sorted(m)) for m in moves), key=lambda x: x[0][0] if x[0] else -1)
        if best[0] is None or (rule and best[0][0] <= rule[0] + 0.01):
            return ladder
        rule, chosen = best


def display(path: Path) -> str:
    return str(path.resolve().relative_to(Path.cwd())) if path.resolve().is_relative_to(Path.cwd()) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--evaluator", type=Path, default=SHIPPED_EVALUATOR)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/yelp"))
    parser.add_argument("--per-style", type=int, default=2000, help="dev sentences of each style")
    parser.add_argument("--max-candidates", type=int, default=10)
    parser.add_argument("--min-accuracy", type=float, default=86.0)
    parser.add_argument("--max-perplexity", type=float, default=49.0)
    parser.add_argument("--strengths", type=float, nargs="+", default=STRENGTHS, help="the grid's style strengths")
    parser.add_argument("--bonuses", type=float, nargs="+", default=BONUSES,
                        help="the grid's copy bonuses (negative: a copy penalty)")
    parser.add_argument("--lm-weights", type=float, nargs="+", default=(0.0,),
                        help="the grid's weights of the selector's language model in decoding (the Style Transformer's)")
    parser.add_argument("--cache", type=Path, default=Path("out/selector_search.npz"), help="grid scores, reused when present")
    parser.add_argument("--write", action="store_true", help="store the best rule found in MODEL/selector.json")
    args = parser.parse_args()
    if args.cache.is_file():
        scores = dict(np.load(args.cache))
    else:
        scores = score_grid(args)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.cache, **scores)
    grid = [setting(g) for g in scores["grid"]]
    start = [c for c in map(setting, load_model(args.model).selector.config.candidates) if c in grid] or [grid[0]]
    ladder = search(scores, args, grid, start)
    if not ladder:
        raise SystemExit(f"no rule reaches {args.min_accuracy} % dev accuracy at perplexity <= {args.max_perplexity}")
    if args.write:
        info = read_json(args.model / INFO)
        rule = ladder[-1]
        strengths, bonuses, weights = (sorted({g[i] for g in grid}) for i in range(3))
        info["config"].update(candidates=rule["candidates"], threshold=rule["threshold"], fluency_weight=rule["fluency_weight"])
        info["figures"]["selection_dev"] = {
            "sentences": f"the first {args.per_style} dev sentences of each style, scored by the evaluator ({display(args.evaluator)})",
            "accuracy": rule["dev_accuracy"], "self_bleu": rule["dev_self_bleu"], "perplexity": rule["dev_perplexity"],
            "chosen_by": (f"recipes/text_selector_search.py: the most dev self-BLEU with dev accuracy >= {args.min_accuracy} % and "
                          f"perplexity <= {args.max_perplexity}, by local search from the previous settings (add, remove or "
                          f"swap one at a time, at most {args.max_candidates}) over a {len(strengths)} x {len(bonuses)} x {len(weights)} grid (strengths {min(strengths):g}-{max(strengths):g}, "
                          f"copy bonuses {min(bonuses):g}-{max(bonuses):g}, LM weights {min(weights):g}-{max(weights):g}), thresholds {THRESHOLDS[0]}-{THRESHOLDS[-1]} and fluency "
                          f"weights {FLUENCY_WEIGHTS[0]}-{FLUENCY_WEIGHTS[-1]}"),
        }
        write_json(args.model / INFO, info)
        print(f"wrote {args.model / INFO}")


if __name__ == "__main__":
    main()
