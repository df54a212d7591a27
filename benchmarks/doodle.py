"""Neural doodles (Champandard 2016, issue 40) on pairs made from Luan et al.'s shared segmentation maps.

For each pair of ../shared/data/images/photoreal: the style is the pair's reference photo with its map, the doodle is
the input photo's map (the same region colours in another layout), and `image doodle` paints it from noise with
Li & Wand's MRF loss and the maps' region channels. Measure, on features alone (VGG-19 relu3_1, no map channels): the
share of the output's 3x3 patches whose nearest style patch (normalised cross-correlation, as the MRF loss matches)
lies in the style region of the output patch's own region; patches that straddle a region edge in either map are left
out. Writes benchmarks/results/NAME.md and NAME.jpg (reference | its map | the doodle's map | the doodle).

    python benchmarks/doodle.py --pairs 01,09,14,29 --size 256
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.core.losses import MRFTarget
from multistyle.core.vgg import VGGFeatures
from multistyle.image.io import encode_image, fit_long_side, image_grid, load_image, resize
from multistyle.image.semantic import regions, semantic_gatys

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photoreal import DATA, PAIRS, RESULTS  # noqa: E402


def patch_labels(masks: torch.Tensor, size) -> tuple[torch.Tensor, torch.Tensor]:
    """Per 3x3 patch of a (h, w) feature map: its region (the majority class) and whether all nine cells agree."""
    labels = F.interpolate(masks, size=tuple(size), mode="area").argmax(1)[0]  # (h, w)
    windows = labels.unfold(0, 3, 1).unfold(1, 3, 1).flatten(2)  # (h - 2, w - 2, 9)
    centre = windows[..., 4]
    return centre.flatten(), (windows == centre.unsqueeze(-1)).all(-1).flatten()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100, help="evaluations per scale")
    parser.add_argument("--name", default="doodle")
    args = parser.parse_args()
    vgg = VGGFeatures(("relu3_1",), "avg")
    rows, panels = [], []
    for pair in args.pairs.split(","):
        style_file, style_map_file = DATA / f"{pair}_style.jpg", DATA / f"{pair}_style_seg.png"
        doodle_map_file = DATA / f"{pair}_content_seg.png"
        start = time.perf_counter()
        result = semantic_gatys(None, style_file, doodle_map_file, style_map_file, size=args.size, steps=args.steps,
                                style_loss="mrf", init="noise", precision="fp32")
        seconds = time.perf_counter() - start
        out = result.tensor
        style = load_image(style_file)
        style = resize(style, fit_long_side(*style.shape[-2:], max(out.shape[-2:])))  # as the doodle saw it
        region_set = regions(load_image(doodle_map_file), load_image(style_map_file))
        with torch.no_grad():
            style_features, out_features = vgg(style)["relu3_1"], vgg(out)["relu3_1"]
        matched = MRFTarget(style_features).nearest(out_features)
        style_label, style_clean = patch_labels(region_set.style, style_features.shape[-2:])
        out_label, out_clean = patch_labels(region_set.content, out_features.shape[-2:])
        judged = out_clean & style_clean[matched]
        same = (style_label[matched] == out_label)[judged].float().mean().item()
        rows.append({"pair": pair, "regions": region_set.count, "size": f"{out.shape[-1]}x{out.shape[-2]}",
                     "judged": int(judged.sum()), "same": same, "seconds": seconds})
        print(rows[-1], flush=True)
        height = out.shape[-2]
        panels += [load_image(style_file, height), load_image(style_map_file, height), load_image(doodle_map_file, height), out]
    lines = [
        "# Neural doodles on Luan et al.'s segmentation maps",
        "",
        f"`python benchmarks/doodle.py --pairs {args.pairs} --size {args.size} --steps {args.steps}`; "
        f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s), "
        f"load average {os.getloadavg()[0]:.1f} at the end. Style: the pair's reference photo and its map; doodle: the "
        "input photo's map. Same region: the share of the doodle's 3x3 relu3_1 patches (away from region edges in both "
        "maps) whose nearest style patch, on features alone, lies in the style region of their own region.",
        "",
        "| pair | regions | size | patches judged | same region % | seconds |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
        *[f"| {r['pair']} | {r['regions']} | {r['size']} | {r['judged']} | {100 * r['same']:.1f} | {r['seconds']:.0f} |" for r in rows],
        f"| mean | | | | {100 * float(np.mean([r['same'] for r in rows])):.1f} | {float(np.mean([r['seconds'] for r in rows])):.0f} |",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.mkdir(exist_ok=True)
    atomic_write_bytes(RESULTS / f"{args.name}.md", table.encode())
    atomic_write_bytes(RESULTS / f"{args.name}.jpg", encode_image(image_grid(panels, 4, 200), ".jpg", 85))
    print(f"wrote {RESULTS / args.name}.md and .jpg (reference | its map | doodle map | doodle)")


if __name__ == "__main__":
    main()
