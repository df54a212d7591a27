"""Gram (Gatys et al.) against MRF (Li & Wand) style losses on the same pairs, same size and evaluations.

Per output: the mean best normalised cross-correlation of its relu3_1 3x3 patches with the style's (what MRF
optimises; higher is closer), the Gram distance (mean squared Gram difference over relu1_1..relu5_1, what Gram
optimises; lower), the relative content distance at relu4_1 (lower keeps more of the photo's layout) and wall time.
Usage: python benchmarks/mrf_vs_gram.py [--size 384] [--steps 100] [--mrf-style-weight 3 (the library's default)]
Writes benchmarks/results/mrf_vs_gram.md and docs/mrf_vs_gram.jpg (content | style | Gram | MRF).
"""
import argparse
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from figures import save_jpeg, titled_grid

from multistyle import Gatys
from multistyle.core.losses import gram_matrix, patches
from multistyle.core.runtime import cpu_name
from multistyle.core.vgg import VGGFeatures
from multistyle.image.gatys import DEFAULT_STYLE_WEIGHTS
from multistyle.image.io import load_image
from multistyle.image.measures import ImageMeasures

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images"
PAIRS = (("tubingen.jpg", "starry_night.jpg"), ("golden_gate.jpg", "the_scream.jpg"),
         ("sailboat.jpg", "mosaic.jpg"), ("tubingen.jpg", "shipwreck.jpg"))
GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@torch.no_grad()
def patch_similarity(vgg: VGGFeatures, output: torch.Tensor, style: torch.Tensor) -> float:
    """Mean over the output's relu3_1 patches of the best normalised cross-correlation with a style patch."""
    out, sty = patches(vgg(output)["relu3_1"]), patches(vgg(style)["relu3_1"])
    out, sty = F.normalize(out, dim=1), F.normalize(sty, dim=1)
    best = torch.cat([(chunk @ sty.T).max(1).values for chunk in out.split(2048)])
    return float(best.mean())


@torch.no_grad()
def gram_distance(vgg: VGGFeatures, output: torch.Tensor, style: torch.Tensor) -> float:
    fo, fs = vgg(output), vgg(style)
    return sum(float((gram_matrix(fo[n]) - gram_matrix(fs[n])).square().mean()) for n in GRAM_LAYERS) / len(GRAM_LAYERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--mrf-style-weight", type=float, default=DEFAULT_STYLE_WEIGHTS["mrf"])
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    vgg = VGGFeatures(("relu3_1", *GRAM_LAYERS))
    measures = ImageMeasures()
    rows, figure_rows = [], []
    for content_name, style_name in PAIRS[: args.pairs]:
        content_path, style_path = args.data / "content" / content_name, args.data / "style" / style_name
        content, style = load_image(content_path, args.size), load_image(style_path, args.size)
        figure_rows.append([content, style])
        for loss, weight in (("gram", 1e3), ("mrf", args.mrf_style_weight)):
            start = time.perf_counter()
            result = Gatys(size=args.size, steps=args.steps, patience=0, style_loss=loss, style_weight=weight)(content_path, style_path)
            seconds = time.perf_counter() - start
            rows.append((f"{Path(content_name).stem} x {Path(style_name).stem}", loss, patch_similarity(vgg, result.tensor, style),
                         gram_distance(vgg, result.tensor, style), measures.content_distance(result.tensor, content), seconds))
            figure_rows[-1].append(result.tensor)
            print(rows[-1], flush=True)
    means = {loss: [sum(r[i] for r in rows if r[1] == loss) / sum(r[1] == loss for r in rows) for i in range(2, 6)]
             for loss in ("gram", "mrf")}
    cpu = cpu_name()
    lines = [
        f"# Gram vs MRF style loss at {args.size} px, {args.steps} L-BFGS evaluations each",
        "",
        f"Machine: {cpu}, {torch.get_num_threads()} threads, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d')}. Style weights: Gram 1e3, MRF {args.mrf_style_weight:g}; content "
        "relu4_2, weight 1.",
        "",
        "| pair | loss | patch similarity ↑ | Gram distance ↓ | relative content distance ↓ | seconds |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *[f"| {p} | {loss} | {s:.3f} | {g:.4g} | {c:.3f} | {t:.0f} |" for p, loss, s, g, c, t in rows],
        *[f"| **mean** | **{loss}** | **{m[0]:.3f}** | **{m[1]:.4g}** | **{m[2]:.3f}** | **{m[3]:.0f}** |" for loss, m in means.items()],
        "",
        f"MRF time / Gram time: {means['mrf'][3] / means['gram'][3]:.2f} (target <= 3).",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "mrf_vs_gram.md").write_text(table)
    titles = ["content", "style", "Gram (Gatys et al.)", f"MRF (Li & Wand), weight {args.mrf_style_weight:g}"]
    save_jpeg(titled_grid(figure_rows, titles, height=192), ROOT / "docs" / "mrf_vs_gram.jpg")


if __name__ == "__main__":
    main()
