"""Temporal consistency of video style transfer: frame by frame against flow-guided blending, per clip and method.

Warping error (Lai et al. 2018): mean over frames of the squared difference between output t and output t-1
warped by the *input*'s flow, over reliable pixels. Style distance: the scale-free measure, averaged over every
frame after the first (the first is the same in both runs), to show the stability is not bought by washing the
style out. `--plain-blend` turns off the band-wise contrast restoration (keep_contrast) to show what it buys. Seconds per frame at 436 px height, flow
included, and the share spent on flow and warping.
For gatys "temporal blending" means Ruder et al.'s run: each frame starts from the warped previous output, with
the temporal loss; frame by frame starts each frame from its photo.
Usage: python benchmarks/video_temporal.py [--style the_scream.jpg] [--max-frames 0] [--methods adain]
    [--size 1024] [--gatys-steps 100] [--fast-style wave] [--plain-blend] [--tag NAME]
Writes benchmarks/results/video_temporal[_TAG].md and docs/video_temporal[_TAG].jpg (frames of both runs, one row each).
"""
import argparse
import os
import time
from pathlib import Path

import torch

from multistyle.core.runtime import cpu_name
from multistyle.image.io import image_grid, load_image, resize, save_image
from multistyle.image.measures import ImageMeasures
from multistyle.video.io import read_clip
from multistyle.video.stylize import VideoTransfer, warping_error

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CLIPS = ("sintel_ambush_3.mp4", "sintel_mountain_2.mp4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style", default="the_scream.jpg")
    parser.add_argument("--max-frames", type=int, default=0)
    parser.add_argument("--temporal", type=float, default=0.7)
    parser.add_argument("--methods", default="adain", help="comma-separated: adain, fast, gatys")
    parser.add_argument("--fast-style", default=None, help="fast: the shipped network (default: --style's name, e.g. wave)")
    parser.add_argument("--size", type=int, default=1024, help="output long side in pixels (1024: Sintel's own 1024x436)")
    parser.add_argument("--gatys-steps", type=int, default=100, help="gatys: evaluations per frame (first frame: twice)")
    parser.add_argument("--plain-blend", action="store_true", help="blend without restoring each band's contrast")
    parser.add_argument("--tag", default="", help="suffix of the result files, so runs of other methods or sizes sit beside")
    args = parser.parse_args()
    measures = ImageMeasures()
    style_path = DATA / "images" / "style" / args.style
    rows, strip = [], []
    reference = load_image(style_path, 512)
    for name in CLIPS:
        clip = read_clip(DATA / "video" / name, args.max_frames)
        for method in args.methods.split(","):
            style = (args.fast_style or Path(args.style).stem) if method == "fast" else style_path  # a shipped network
            results = {}
            for temporal in (0.0, args.temporal):
                result = VideoTransfer(method=method, temporal=temporal, size=args.size, gatys_steps=args.gatys_steps,
                                       keep_contrast=not args.plain_blend)(clip, style)
                inputs = [resize(f, tuple(result.frames[0].shape[-2:])) for f in clip.frames]
                distance = sum(measures.style_distance(f, reference) for f in result.frames[1:]) / (len(result.frames) - 1)
                seconds = result.seconds / len(result.frames)
                results[temporal] = (warping_error(result.frames, inputs), distance, seconds, result.timings["flow"] / result.seconds)
                strip += [result.frames[len(result.frames) // 2 + k] for k in (0, 1, 2)]
                print(name, method, temporal, results[temporal], flush=True)
            (e0, d0, s0, _), (e1, d1, s1, share) = results[0.0], results[args.temporal]
            rows.append((Path(name).stem, method, e0, e1, e1 / e0, d0, d1, s0, s1, share))
    cpu = cpu_name()
    lines = [
        f"# Video: frame by frame against temporal consistency (blending weight {args.temporal}, "
        f"{'plain blend' if args.plain_blend else 'band contrast kept'}; gatys: Ruder et al.'s "
        f"temporal loss, {args.gatys_steps} evaluations a frame), style {Path(args.style).stem}, {args.size} px high, "
        f"{'all' if not args.max_frames else f'the first {args.max_frames}'} frames",
        "",
        f"Machine: {cpu}, {torch.get_num_threads()} threads, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d')}. Flow: OpenCV DIS (medium) both ways per frame pair.",
        "",
        "| clip | method | warping error, frame by frame | with temporal blending | ratio (target <= 0.5) | style distance, frame by frame | "
        "with blending | s/frame, frame by frame | with blending | flow + warp share |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {c} | {m} | {e0:.5f} | {e1:.5f} | {r:.2f} | {d0:.3f} | {d1:.3f} | {s0:.2f} | {s1:.2f} | {sh:.0%} |"
          for c, m, e0, e1, r, d0, d1, s0, s1, sh in rows],
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    suffix = f"_{args.tag}" if args.tag else ""
    (ROOT / "benchmarks" / "results" / f"video_temporal{suffix}.md").write_text(table)
    save_image(image_grid(strip, columns=3, height=160), ROOT / "docs" / f"video_temporal{suffix}.jpg")


if __name__ == "__main__":
    main()
