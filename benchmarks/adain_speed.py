"""AdaIN speed: median seconds per 512x512 image (CPU), images/s batched (GPU when present), and the
speed-up over our Gatys at the same size. Usage: python benchmarks/adain_speed.py [--decoder PATH] [--gatys-steps 500]
[--gpu-only --out FILE] (the GPU rows alone, e.g. inside a short device call)"""
import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from multistyle.core.runtime import has_native_bf16
from multistyle.demo import skimage_sample
from multistyle.image.adain import MULTIPLE, AdaINNetwork, load_decoder
from multistyle.image.gatys import GatysConfig, stylize
from multistyle.image.io import load_image, pad_to_multiple

RESULTS = Path(__file__).resolve().parent / "results"


def time_adain(model: AdaINNetwork, device: torch.device, batch: int, repeats: int, dtype=torch.float32) -> list[float]:
    content = torch.rand(batch, 3, 512, 512, device=device)
    stats = model.style_stats(torch.rand(1, 3, 512, 512, device=device))  # cached per style, as in real use
    times = []
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
        for i in range(repeats + 1):
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(content, [stats])
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i:  # the first call warms up
                times.append(time.perf_counter() - start)
    return times


def bf16_difference(model: AdaINNetwork, device: torch.device) -> float:
    """Mean absolute pixel difference between bf16-autocast and fp32 outputs on real photos: does quality hold?"""
    content, style = (pad_to_multiple(load_image(skimage_sample(name), 512), MULTIPLE).to(device) for name in ("chelsea.png", "coffee.png"))
    with torch.no_grad():
        stats = model.style_stats(style)
        reference = model(content, [stats]).clamp(0, 1)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            fast = model(content, [stats]).float().clamp(0, 1)
    return (fast - reference).abs().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decoder", default=None)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--gatys-steps", type=int, default=500)
    parser.add_argument("--gpu-only", action="store_true", help="skip the CPU rows (AdaIN and Gatys)")
    parser.add_argument("--out", type=Path, default=RESULTS / "adain_speed.md")
    args = parser.parse_args()
    if args.gpu_only and not torch.cuda.is_available():
        raise SystemExit("error: --gpu-only needs a CUDA device")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    model = AdaINNetwork(load_decoder(args.decoder)).eval()
    rows = []
    if not args.gpu_only:
        adain_s = statistics.median(time_adain(model, torch.device("cpu"), 1, args.repeats))
        rows.append(("AdaIN, CPU, batch 1, fp32", f"{adain_s:.2f} s/image", f"{1 / adain_s:.2f} images/s"))
        if has_native_bf16(torch.device("cpu")):  # what precision "auto" picks on this CPU
            bf16 = AdaINNetwork(load_decoder(args.decoder)).to(torch.bfloat16).eval()
            bf16_s = statistics.median(time_adain(bf16, torch.device("cpu"), 1, args.repeats))
            rows.append(("AdaIN, CPU (native bf16), batch 1, bf16 (the default here)", f"{bf16_s:.2f} s/image", f"{1 / bf16_s:.2f} images/s"))
        config = GatysConfig(size=512, steps=args.gatys_steps, patience=0, device="cpu")
        start = time.perf_counter()
        stylize(torch.rand(1, 3, 512, 512), [torch.rand(1, 3, 512, 512)], config, show_progress=False)
        gatys_s = time.perf_counter() - start
        rows.append((f"Gatys, CPU, {args.gatys_steps} L-BFGS evaluations", f"{gatys_s:.1f} s/image", f"AdaIN is {gatys_s / adain_s:.0f}x faster"))

    if torch.cuda.is_available():
        gpu = torch.device("cuda")
        model = model.to(gpu).to(memory_format=torch.channels_last)
        for batch, dtype in ((32, torch.float32), (32, torch.bfloat16), (64, torch.bfloat16)):
            t = statistics.median(time_adain(model, gpu, batch, args.repeats, dtype))
            rows.append((f"AdaIN, {torch.cuda.get_device_name()}, batch {batch}, {str(dtype).split('.')[-1]}",
                         f"{t / batch * 1000:.2f} ms/image", f"{batch / t:.0f} images/s"))
        rows.append(("bf16 against fp32 on two scikit-image photos", f"mean abs difference {bf16_difference(model, gpu):.4f}", "(pixels in 0..1)"))

    lines = [
        "# AdaIN speed at 512x512",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        "| run | time | throughput |",
        "| --- | ---: | ---: |",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)


if __name__ == "__main__":
    main()
