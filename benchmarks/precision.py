"""fp32 against bf16 on this machine: what `--precision auto` buys where it picks bf16 (CPUs with AMX or
AVX-512-BF16), and what it costs.

Rows, each timed in both precisions in one run:
- Gatys: seconds per loss evaluation at 512 px (wall time of a short run / its evaluations); with --parity-steps N,
  also N evaluations at --parity-size px in each precision, both results judged by the same fp32 loss;
- AdaIN (shipped decoder) and a per-style network (wave): median seconds per 512x512 photo, model loaded, style cached,
  and the PSNR of the bf16 output against the fp32 one.

Usage: OMP_NUM_THREADS=2 python benchmarks/precision.py [--repeats 5] [--parity-steps 500 --parity-size 256] [--name NAME]
Writes benchmarks/results/NAME.md (precision.md by default); prints the table.
"""
import argparse
import os
import time

import torch
from fast_quality import DATA, RESULTS, median_seconds, timing_photo

from multistyle import AdaIN, FastStyle
from multistyle.core.runtime import cpu_bf16_support, cpu_name, has_native_bf16
from multistyle.core.vgg import VGGFeatures
from multistyle.image.gatys import GatysConfig, GatysLoss, stylize
from multistyle.image.io import fit_long_side, load_image, resize
from multistyle.image.measures import psnr

PRECISIONS = ("fp32", "bf16")
CPU = torch.device("cpu")


def gatys_seconds_per_evaluation(content: torch.Tensor, style: torch.Tensor, precision: str, evaluations: int = 10) -> float:
    config = GatysConfig(size=512, steps=evaluations, patience=0, device="cpu", precision=precision)
    start = time.perf_counter()
    stylize(content, [style], config)
    return (time.perf_counter() - start) / evaluations


def gatys_parity(content: torch.Tensor, style: torch.Tensor, steps: int, size: int) -> dict[str, float]:
    """The fp32-judged total loss after `steps` evaluations in each precision."""
    outputs = {p: stylize(content, [style], GatysConfig(size=size, steps=steps, patience=0, device="cpu", precision=p)).tensor
               for p in PRECISIONS}
    h, w = outputs["fp32"].shape[-2:]
    config = GatysConfig(size=size, precision="fp32")
    vgg = VGGFeatures(tuple(dict.fromkeys(config.content_layers + config.style_layer_plan()[0])), config.pooling)
    judge = GatysLoss(vgg, config, resize(content, (h, w)), [resize(style, fit_long_side(*style.shape[-2:], max(h, w)))])
    with torch.no_grad():
        return {p: sum(judge(output).values()).item() for p, output in outputs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parity-steps", type=int, default=0, help="Gatys evaluations per precision for the loss check (0: skip)")
    parser.add_argument("--parity-size", type=int, default=256)
    parser.add_argument("--name", default="precision", help="results/NAME.md (one per kind of CPU)")
    args = parser.parse_args()
    content_path, style_path = DATA / "content" / "tubingen.jpg", DATA / "style" / "the_scream.jpg"
    content, style = load_image(content_path), load_image(style_path)
    photo = timing_photo(content_path)
    rows = []

    gatys = {p: gatys_seconds_per_evaluation(content, style, p) for p in PRECISIONS}
    rows.append(("Gatys, one loss evaluation at 512 px", gatys, ""))
    if args.parity_steps:
        judged = gatys_parity(content, style, args.parity_steps, args.parity_size)
        rows.append((f"Gatys, {args.parity_steps} evaluations at {args.parity_size} px", None,
                     f"fp32-judged loss {judged['fp32']:.0f} (fp32) against {judged['bf16']:.0f} (bf16): "
                     f"{100 * (judged['bf16'] / judged['fp32'] - 1):+.1f} %"))

    adain = {p: AdaIN.from_pretrained(precision=p) for p in PRECISIONS}
    outputs = {p: m(photo, style_path).tensor for p, m in adain.items()}
    rows.append(("AdaIN (shipped decoder), one 512² photo", {p: median_seconds(lambda: m(photo, style_path), args.repeats, CPU) for p, m in adain.items()},
                 f"bf16 output {psnr(outputs['bf16'], outputs['fp32']):.1f} dB PSNR from fp32's"))

    fast = {p: FastStyle.from_pretrained("wave", precision=p) for p in PRECISIONS}
    outputs = {p: m(photo).tensor for p, m in fast.items()}
    rows.append(("per-style network (wave), one 512² photo", {p: median_seconds(lambda: m(photo), args.repeats, CPU) for p, m in fast.items()},
                 f"bf16 output {psnr(outputs['bf16'], outputs['fp32']):.1f} dB PSNR from fp32's"))

    native = has_native_bf16(CPU)
    lines = ["# fp32 against bf16", "",
             f"Machine: {cpu_name()}, {os.cpu_count()} cores visible; torch {torch.__version__} with {torch.get_num_threads()} "
             f"thread(s). Measured {time.strftime('%Y-%m-%d')}. "
             f"bf16 hardware: {cpu_bf16_support()}; `--precision auto` picks {'bf16' if native else 'fp32'} here.", "",
             "| run | fp32 s | bf16 s | bf16 speed-up | quality |", "| --- | ---: | ---: | ---: | --- |"]
    for name, seconds, quality in rows:
        if seconds is None:
            lines.append(f"| {name} | | | | {quality} |")
        else:
            lines.append(f"| {name} | {seconds['fp32']:.2f} | {seconds['bf16']:.2f} | {seconds['fp32'] / seconds['bf16']:.1f}x | {quality} |")
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    (RESULTS / f"{args.name}.md").write_text(markdown)


if __name__ == "__main__":
    main()
