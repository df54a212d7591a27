"""Huang et al. (2017)'s real-time video network against the per-frame network and the flow-guided blend (issue 38).

Three systems on every frame of both Sintel clips, at --size px on the long side (640: 640x272):
- per-frame network: the shipped network (--network, default wave), each frame alone (no flow);
- flow-guided blend: the same network, each output blended with the flow-warped previous one (--temporal 0.7);
- Huang network: a network trained with the temporal loss (`train-fast --set temporal_weight=W`), each frame alone,
  so inference needs no flow and runs at the network's speed.
Measures: warping error (Lai et al. 2018, multistyle.video.stylize.warping_error) over reliable pixels; the
scale-free style distance to the painting and structure kept (benchmarks/measures.py) averaged over every frame after
the first; seconds a frame (stylisation and, for the blend, flow and warping) in the run's own precision.
The clips are never in a training corpus (the Huang network trains on still photos with synthetic motion).

Usage: OMP_NUM_THREADS=2 python benchmarks/video_huang.py --huang out/exp/wave_huang/model.safetensors
    [--network wave] [--painting wave.jpg] [--size 640] [--temporal 0.7] [--max-frames 0] [--tag NAME]
Writes benchmarks/results/video_huang[_TAG].md and docs/video_huang[_TAG].jpg (three middle frames of each run).
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch
from figures import save_jpeg
from measures import structure_kept
from video_temporal import CLIPS, DATA, ROOT

from multistyle.core.runtime import compute_dtype, cpu_name
from multistyle.image.figure import labelled_grid
from multistyle.image.io import load_image, resize, tensor_to_pil
from multistyle.image.measures import ImageMeasures
from multistyle.video.io import read_clip
from multistyle.video.stylize import VideoTransfer, warping_error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--huang", type=Path, required=True, help="the network trained with the temporal loss (.safetensors)")
    parser.add_argument("--network", default="wave", help="the per-frame network: a shipped name or a .safetensors file")
    parser.add_argument("--painting", default="wave.jpg", help="the painting both networks were trained for (../shared style/)")
    parser.add_argument("--size", type=int, default=640)
    parser.add_argument("--temporal", type=float, default=0.7, help="the flow-guided blend's weight")
    parser.add_argument("--max-frames", type=int, default=0)
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), help="clips (or frame folders) under ../shared/data/video "
                        "(default: the two Sintel clips; marple8, 5 real frames, for choosing settings)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    measures = ImageMeasures()
    painting = load_image(DATA / "images" / "style" / args.painting, 512)
    systems = [("per-frame network", args.network, 0.0), (f"flow-guided blend {args.temporal:g}", args.network, args.temporal),
               ("Huang network", str(args.huang), 0.0)]
    rows, cells = [], []
    for name in args.clips:
        clip = read_clip(DATA / "video" / name, args.max_frames)
        scores = {}
        for system, network, temporal in systems:
            result = VideoTransfer(method="fast", temporal=temporal, size=args.size)(clip, network)
            inputs = [resize(f, tuple(result.frames[0].shape[-2:])) for f in clip.frames]
            later = list(zip(result.frames[1:], inputs[1:]))
            scores[system] = (warping_error(result.frames, inputs),
                              sum(measures.style_distance(out, painting) for out, _ in later) / len(later),
                              sum(structure_kept(out, photo) for out, photo in later) / len(later),
                              result.seconds / len(result.frames))
            middle = len(result.frames) // 2
            cells += [(result.frames[t], f"{Path(name).stem[7:]}, {system}, frame {t + 1}") for t in (middle - 1, middle, middle + 1)]
            print(name, system, scores[system], flush=True)
        base_error, base_style = scores["per-frame network"][:2]
        for system, (error, style, structure, seconds) in scores.items():
            rows.append(f"| {Path(name).stem} | {system} | {error:.5f} | {error / base_error:.2f} | {style:.3f} | "
                        f"{style / base_style:.2f} | {structure:.3f} | {seconds:.3f} | {1 / seconds:.1f} |")
    precision = "bf16" if compute_dtype("auto", torch.device("cpu")) == torch.bfloat16 else "fp32"
    lines = [
        f"# Video: Huang et al.'s network against the per-frame network and the flow-guided blend, {args.size} px long side",
        "",
        f"`python benchmarks/video_huang.py {' '.join(sys.argv[1:])}`",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}; {cpu_name()}; {torch.get_num_threads()} threads, {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f}); torch {torch.__version__}; networks in {precision} (`auto`). "
        f"Per-frame network {args.network}, Huang network {args.huang}; "
        f"{'every frame' if not args.max_frames else f'the first {args.max_frames} frames'} of each clip. "
        "Warping error ratio and style ratio are against the per-frame network on the same clip (issue 38's targets: "
        "Huang network <= 0.5 and within 10 %); s/frame includes flow and warping for the blend.",
        "",
        "| clip | system | warping error ↓ | ÷ per-frame | style distance ↓ | ÷ per-frame | structure kept ↑ | s/frame | frames/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    suffix = f"_{args.tag}" if args.tag else ""
    (ROOT / "benchmarks" / "results" / f"video_huang{suffix}.md").write_text(table)
    figure = labelled_grid(cells, columns=3, height=150, title=f"Three consecutive frames, {args.size} px: per-frame, blend, Huang")
    save_jpeg(tensor_to_pil(figure), ROOT / "docs" / f"video_huang{suffix}.jpg")


if __name__ == "__main__":
    main()
