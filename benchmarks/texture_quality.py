"""Gatys et al. (2015) texture synthesis on four paintings: the synthesised texture's scale-free style distance to
its source, against a photo's (the content-photo baseline), and the time it took.

Usage: python benchmarks/texture_quality.py [--size 256] [--steps 150] [--scales 2]
Writes benchmarks/results/texture_quality.md and docs/textures.jpg (source | texture, one row each).
"""
import argparse
import os
import time
from pathlib import Path

import torch

from multistyle import Gatys
from multistyle.core.runtime import cpu_name
from multistyle.image.io import image_grid, load_image, save_image
from multistyle.image.measures import ImageMeasures

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images"
TEXTURES = ("brushstrokes.jpg", "feathers.jpg", "mosaic.jpg", "starry_night.jpg")
PHOTO = "tubingen.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--scales", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    measures = ImageMeasures()
    photo = load_image(args.data / "content" / PHOTO, args.size)
    rows, panels = [], []
    for name in TEXTURES:
        source = load_image(args.data / "style" / name, args.size)
        start = time.perf_counter()
        result = Gatys(steps=args.steps, scales=args.scales, patience=0).texture(args.data / "style" / name, (args.size, args.size))
        seconds = time.perf_counter() - start
        ours, baseline = measures.style_distance(result.tensor, source), measures.style_distance(photo, source)
        rows.append((Path(name).stem, ours, baseline, seconds, result.details["iterations"]))
        panels += [source, result.tensor]
        print(rows[-1], flush=True)
    cpu = cpu_name()
    lines = [
        f"# Texture synthesis at {args.size}x{args.size} ({args.scales} scales, {args.steps} L-BFGS evaluations at the finest)",
        "",
        f"Machine: {cpu}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d')}. Style distance: scale-free, relu1_1..relu4_1 (lower is closer); baseline: the photo "
        f"{PHOTO} scored against the same painting.",
        "",
        "| texture source | synthesised: style distance | photo baseline | ratio (target <= 0.5) | seconds | evaluations |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {n} | {o:.3f} | {b:.3f} | {o / b:.2f} | {s:.0f} | {i} |" for n, o, b, s, i in rows],
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "benchmarks" / "results" / "texture_quality.md").write_text(table)
    save_image(image_grid(panels, columns=2, height=192), ROOT / "docs" / "textures.jpg")


if __name__ == "__main__":
    main()
