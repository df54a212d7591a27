"""How many Gatys evaluations is each per-style network worth? On one held-out photo at 512 px, Gatys (from the
photo, L-BFGS) is scored after 10, 20, 30, 50, 80 and 120 evaluations with the scale-free style distance of
fast_quality.md, beside each shipped network's output (palette and degrid on, as it runs); the network's worth is
where Gatys's curve crosses its distance (linear between the checked counts).

Usage: OMP_NUM_THREADS=2 python benchmarks/fast_gatys_budget.py [--photo golden_gate.jpg]
Writes benchmarks/results/fast_gatys_budget.md and .json; prints the table.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
from fast_quality import DATA, RESULTS, Scorer, machine_line

from multistyle import FastStyle, Gatys
from multistyle.image.fast import model_info, shipped_styles
from multistyle.image.measures import quantise

CHECKED = (10, 20, 30, 50, 80, 120)


def crossing(curve: dict[int, float], target: float) -> str:
    """The evaluation count where the falling Gatys curve reaches `target`, interpolated; bounds when outside."""
    points = sorted(curve.items())
    if target >= points[0][1]:
        return f"< {points[0][0]}"
    for (n0, d0), (n1, d1) in zip(points, points[1:]):
        if d1 <= target:
            return f"{n0 + (n1 - n0) * (d0 - target) / (d0 - d1):.0f}"
    return f"> {points[-1][0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default="golden_gate.jpg")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    device = torch.device("cpu")
    scorer = Scorer(device)
    content = args.data / "content" / args.photo
    if not content.is_file():
        print(f"error: {content}: no such photo (--photo names a file in DATA/content)", file=sys.stderr)
        sys.exit(2)
    gatys = Gatys(size=512, steps=max(CHECKED), patience=0)
    rows, results = [], {}
    for name, path in shipped_styles().items():
        style = args.data / "style" / Path(model_info(path)["style"]).name
        network = scorer(quantise(FastStyle.from_file(path, size=512)(content).tensor), content, style)["style_distance"]
        snapshots: dict[int, torch.Tensor] = {}

        def keep(level, step, image, terms, snapshots=snapshots):
            if step in CHECKED:
                snapshots[step] = image.detach().clone()

        gatys(content, style, on_snapshot=keep)
        curve = {n: scorer(quantise(image.clamp(0, 1)), content, style)["style_distance"] for n, image in sorted(snapshots.items())}
        results[name] = {"network": network, "gatys": curve, "worth": crossing(curve, network)}
        rows.append(f"| {name} | {network:.3f} | " + " | ".join(f"{curve[n]:.3f}" for n in CHECKED) + f" | {results[name]['worth']} |")
        print(rows[-1], flush=True)
    lines = [f"# What a per-style network is worth in Gatys evaluations: {args.photo}, 512 px", "",
             f"{machine_line(device)}. Measured {time.strftime('%Y-%m-%d')}.", "",
             "Scale-free style distance ↓ of each shipped network's output and of Gatys (L-BFGS from the photo) after "
             "N evaluations; the last column is the N at which Gatys reaches the network's distance.", "",
             "| network | its style distance | " + " | ".join(f"Gatys {n}" for n in CHECKED) + " | worth (evaluations) |",
             "| --- | ---: | " + " | ".join("---:" for _ in CHECKED) + " | ---: |", *rows]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    (RESULTS / "fast_gatys_budget.md").write_text(markdown)
    (RESULTS / "fast_gatys_budget.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
