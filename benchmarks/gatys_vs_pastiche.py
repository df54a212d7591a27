"""Gatys style transfer: multistyle vs pastiche (PyPI), same machine, same run.

Each side runs as its own process (wall time and peak RSS from os.wait4). Both outputs are then scored
by the same neutral measures, computed with our VGG-19 (max pooling, the trained network):
  style   = mean/std loss at relu1_1..relu4_1 against the style image (neither side optimises it)
  content = feature MSE at relu4_2 against the content image
Usage: python benchmarks/gatys_vs_pastiche.py [--size 512] [--ours-args "..." [--ours-args "..."]]
(each --ours-args is one multistyle configuration, run after pastiche in the same process tree)
"""
import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from multistyle.core.losses import content_loss, mean_std_loss
from multistyle.core.vgg import VGGFeatures
from multistyle.image.io import load_image, resize

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "images"
RESULTS = Path(__file__).resolve().parent / "results"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def run_timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def neutral_scores(output: Path, content: Path, style: Path) -> tuple[float, float]:
    vgg = VGGFeatures(STYLE_LAYERS + ("relu4_2",), pooling="max")
    out = load_image(output)
    size = tuple(out.shape[-2:])
    c = resize(load_image(content), size)
    s = load_image(style, long_side=max(size))
    with torch.no_grad():
        fo, fc, fs = vgg(out), vgg(c), vgg(s)
    style_score = sum(float(mean_std_loss(fo[n], fs[n])) for n in STYLE_LAYERS)
    return style_score, float(content_loss(fo["relu4_2"], fc["relu4_2"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--content", default=str(DATA / "content" / "tubingen.jpg"))
    parser.add_argument("--style", default=str(DATA / "style" / "starry_night.jpg"))
    parser.add_argument("--ours-args", action="append", help="extra flags for multistyle image gatys; repeat for several configurations "
                        "(default: --scales 2 --steps 250 --style-weight 2000)")
    parser.add_argument("--name", default="gatys_vs_pastiche")
    args = parser.parse_args()
    for path in (args.content, args.style):
        if not Path(path).is_file():
            sys.exit(f"benchmark data missing: {path} (needs ../shared/data)")

    tmp = Path(tempfile.mkdtemp(prefix="gatys_bench_"))
    ours_configs = args.ours_args or ["--scales 2 --steps 250 --style-weight 2000"]
    runs = {
        "pastiche 1.6.0 (defaults: 1000 L-BFGS steps, max pooling)": (
            [sys.executable, "-m", "pastiche", "--content", args.content, "--styles", args.style,
             "--size", str(args.size), "--seed", "0", "--device", "cpu", "--no-verbose", "--output", str(tmp / "pastiche.png")],
            tmp / "pastiche.png",
        ),
    }
    for i, ours_args in enumerate(ours_configs):
        out = tmp / f"ours{i}.png"
        runs[f"multistyle ({ours_args})"] = (
            [sys.executable, "-m", "multistyle", "image", "gatys", args.content, args.style, "-o", str(out),
             "--size", str(args.size), "--device", "cpu", "--seed", "0", "--quiet", *shlex.split(ours_args)],
            out,
        )
    print(f"outputs go to {tmp}", flush=True)
    rows = []
    for name, (cmd, out) in runs.items():
        print(f"running {name} ...", flush=True)
        wall, rss = run_timed(cmd)
        style_score, content_score = neutral_scores(out, Path(args.content), Path(args.style))
        rows.append((name, wall, rss, style_score, content_score))
        print(f"  {wall:.1f} s, {rss:.0f} MiB, style {style_score:.1f}, content {content_score:.1f}", flush=True)

    peer_wall = rows[0][1]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = [
        f"# Gatys: multistyle vs pastiche — {Path(args.content).name} + {Path(args.style).name}, {args.size} px long side",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, CPU only. Measured {time.strftime('%Y-%m-%d')}.",
        "Style = mean/std loss at relu1_1..relu4_1 vs the style image; content = relu4_2 feature MSE vs the content image;",
        "both computed by our VGG-19 (max pooling) and optimised by neither side. Lower is better.",
        "",
        "| run | wall s | × pastiche | peak RSS MiB | style (mean/std) | content (relu4_2 MSE) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, wall, rss, s, c in rows:
        lines.append(f"| {name} | {wall:.1f} | {wall / peer_wall:.2f} | {rss:.0f} | {s:.1f} | {c:.1f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(table)


if __name__ == "__main__":
    main()
