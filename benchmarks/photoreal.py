"""Photorealistic style transfer (issue 40) against Luan et al. (2017)'s own published results, pair by pair.

For each of the shared pairs (../shared/data/images/photoreal: input, reference, both segmentation maps and
the authors' result), `multistyle.Photoreal` with the maps, then raw measures of ours and theirs:
- colour moved: per region shared by both maps, the CIELAB mean and standard deviation of the output's pixels
  in the content's region against the reference's pixels in the reference's region of the same colour;
  distance d = ||mean - mean_ref|| + ||std - std_ref|| (Lab units), and moved = 1 - d(output) / d(input), the
  share of the input's gap closed (1: the reference's statistics, 0: unchanged, < 0: further away), averaged
  over regions weighted by their area in the input;
- structure kept: benchmarks/measures.py's correlation of blurred luminance gradient magnitude with the input
  (1: the input's edges exactly; painterly distortion lowers it).
Writes benchmarks/results/photoreal.md and a grid (input | reference | ours | Luan et al., one row a pair).

    python benchmarks/photoreal.py --pairs 01,09 --size 700      # the paper's size
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skimage.color import rgb2lab

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measures import structure_kept  # noqa: E402

from multistyle.core.checkpoint import atomic_write_bytes  # noqa: E402
from multistyle.image.io import encode_image, image_grid, load_image, resize  # noqa: E402
from multistyle.image.photoreal import Photoreal  # noqa: E402
from multistyle.image.semantic import label_map, region_colours  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "images" / "photoreal"
PAIRS = ("01", "03", "09", "11", "14", "20", "29", "30", "34", "45", "49", "57")
RESULTS = Path(__file__).resolve().parent / "results"


def lab(image: torch.Tensor) -> np.ndarray:
    return rgb2lab(image[0].permute(1, 2, 0).clamp(0, 1).double().numpy())


def colour_moved(output: torch.Tensor, content: torch.Tensor, reference: torch.Tensor, content_seg: torch.Tensor,
                 style_seg: torch.Tensor) -> float:
    """Area-weighted share of the per-region Lab mean/std gap between input and reference that the output closed."""
    size = tuple(content.shape[-2:])
    output = resize(output, size)
    colours = region_colours(content_seg, style_seg)
    content_labels = label_map(resize_nearest(content_seg, size), colours).numpy()
    style_labels = label_map(resize_nearest(style_seg, tuple(reference.shape[-2:])), colours).numpy()
    out_lab, in_lab, ref_lab = lab(output), lab(content), lab(reference)
    moved, weights = [], []
    for k in range(len(colours)):
        inside, ref_inside = content_labels == k, style_labels == k
        if inside.sum() < 50 or ref_inside.sum() < 50:
            continue
        ref = ref_lab[ref_inside]
        stats = lambda x: (x.mean(0), x.std(0))  # noqa: E731
        ref_mean, ref_std = stats(ref)

        def gap(pixels):
            mean, std = stats(pixels)
            return np.linalg.norm(mean - ref_mean) + np.linalg.norm(std - ref_std)

        before = gap(in_lab[inside])
        if before < 1e-6:
            continue
        moved.append(1 - gap(out_lab[inside]) / before)
        weights.append(inside.sum())
    return float(np.average(moved, weights=weights)) if moved else float("nan")


def resize_nearest(image: torch.Tensor, size) -> torch.Tensor:
    return torch.nn.functional.interpolate(image, size=size, mode="nearest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--size", type=int, default=700)
    parser.add_argument("--set", action="append", default=[], help="PhotorealConfig override key=value")
    parser.add_argument("--out", default=str(RESULTS / "photoreal"), help="folder for the outputs")
    parser.add_argument("--no-maps", action="store_true", help="one region (no segmentation maps)")
    parser.add_argument("--name", default="photoreal", help="results/NAME.md and NAME.jpg")
    parser.add_argument("--from", dest="sources", action="append", default=[], type=Path,
                        help="score the outputs already in this folder (PAIR_ours.png, from earlier runs of this script) "
                             "instead of running; repeatable, the first folder holding a pair wins")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        for kind in (int, float, str):
            try:
                overrides[key] = kind(value)
                break
            except ValueError:
                continue
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = Photoreal(size=args.size, **overrides)
    rows, panels = [], []
    for pair in args.pairs.split(","):
        files = {k: DATA / f"{pair}_{k}.{'png' if 'seg' in k else 'jpg'}" for k in
                 ("content", "style", "content_seg", "style_seg", "luan2017")}
        content, reference = load_image(files["content"]), load_image(files["style"])
        content_seg, style_seg = load_image(files["content_seg"]), load_image(files["style_seg"])
        luan = load_image(files["luan2017"])
        saved = next((folder / f"{pair}_ours.png" for folder in args.sources if (folder / f"{pair}_ours.png").is_file()), None)
        if saved is not None:
            ours, seconds, timings, evaluations = load_image(saved), float("nan"), {"scored from": str(saved)}, "–"
        else:
            start = time.perf_counter()
            maps = {} if args.no_maps else {"content_seg": files["content_seg"], "style_seg": files["style_seg"]}
            result = model(files["content"], files["style"], **maps)
            seconds = time.perf_counter() - start
            ours, evaluations = result.tensor, result.details["iterations_per_stage"]
            timings = {k: round(v, 1) for k, v in result.timings.items()}
            atomic_write_bytes(out_dir / f"{pair}_ours.png", encode_image(ours, ".png", 95))
        row = {"pair": pair, "size": f"{ours.shape[-1]}x{ours.shape[-2]}", "seconds": seconds,
               "ours_moved": colour_moved(ours, content, reference, content_seg, style_seg),
               "luan_moved": colour_moved(luan, content, reference, content_seg, style_seg),
               "ours_structure": structure_kept(ours, content), "luan_structure": structure_kept(luan, content),
               "timings": timings, "evaluations": evaluations}
        rows.append(row)
        print(row, flush=True)
        height = 200
        panels += [load_image(files["content"], height * 2), load_image(files["style"], height * 2), ours, luan]
    lines = [
        "# Photorealistic transfer against Luan et al. 2017's published results",
        "",
        f"`python benchmarks/photoreal.py --pairs {args.pairs} --size {args.size}"
        + "".join(f" --set {s}" for s in args.set) + ("  --no-maps" if args.no_maps else "")
        + "".join(f" --from {folder}" for folder in args.sources) + "`; "
        f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} thread(s), load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "colour moved: area-weighted share of the per-region CIELAB mean+std gap between input and reference that the "
        "output closed (higher is closer to the reference's look). structure kept: correlation of blurred luminance "
        "gradient magnitude with the input (benchmarks/measures.py; 1 = the input's edges).",
        "",
        "| pair | size | ours: colour moved | Luan: colour moved | ours: structure kept | Luan: structure kept | seconds | stage timings (s) | evaluations |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['pair']} | {r['size']} | {r['ours_moved']:.3f} | {r['luan_moved']:.3f} | {r['ours_structure']:.3f} | "
                     f"{r['luan_structure']:.3f} | {r['seconds']:.0f} | {r['timings']} | {r['evaluations']} |".replace("| nan |", "| – |"))
    mean = lambda key: float(np.nanmean([r[key] for r in rows]))  # noqa: E731
    timed = [r["seconds"] for r in rows if r["seconds"] == r["seconds"]]
    mean_seconds = f"{np.mean(timed):.0f}" if timed else "–"
    lines.append(f"| mean | | {mean('ours_moved'):.3f} | {mean('luan_moved'):.3f} | {mean('ours_structure'):.3f} | "
                 f"{mean('luan_structure'):.3f} | {mean_seconds} | | |")
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.mkdir(exist_ok=True)
    atomic_write_bytes(RESULTS / f"{args.name}.md", table.encode())
    grid = image_grid(panels, 4, 220)
    atomic_write_bytes(RESULTS / f"{args.name}.jpg", encode_image(grid, ".jpg", 85))
    print(f"wrote {RESULTS / args.name}.md and .jpg (input | reference | ours | Luan et al.)")


if __name__ == "__main__":
    main()
