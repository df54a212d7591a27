"""AdaIN quality on the held-out pairs (AdaINTrainConfig's holdouts) against our Gatys (500 L-BFGS evaluations).

Both outputs are scored with the same measures: mean/std style loss at relu1_1..relu4_1 against the style
and relu4_1 content loss against the content, at 512 px. Also writes docs/adain_heldout.jpg (held-out
results) and docs/adain_alpha.jpg (alpha 0, 0.25, 0.5, 0.75, 1).
Usage: python benchmarks/adain_quality.py [--decoder PATH] [--pairs N] [--gatys-steps 500] [--gatys-cache DIR] [--device auto]
    [--data DIR] [--out DIR] [--gatys-only] [--skip-uncached]
Gatys at 512 px costs ~25 min per pair on a 2-core CPU: use a GPU or --pairs. Its outputs do not depend on the
decoder, so --gatys-cache keeps them (as PNG) for the next run; both sides are scored after 8-bit quantisation.
--gatys-only fills the cache and stops (it can run beside the decoder's training); --skip-uncached scores only
the pairs whose Gatys output is cached. --out DIR writes the table and figures there instead of
benchmarks/results and docs.
"""
import argparse
import platform
import time
from pathlib import Path

import torch

from multistyle.core.losses import content_loss, mean_std_loss
from multistyle.core.runtime import select_device
from multistyle.core.vgg import VGGFeatures
from multistyle.image.adain import STYLE_LAYERS, AdaIN
from multistyle.image.gatys import GatysConfig, stylize
from multistyle.image.io import image_grid, load_image, save_image
from multistyle.image.train_adain import AdaINTrainConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images"


def scores(vgg: VGGFeatures, output: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        fo, fc, fs = vgg(output), vgg(content), vgg(style)
    style_score = sum(float(mean_std_loss(fo[n], fs[n])) for n in STYLE_LAYERS)
    return style_score, float(content_loss(fo["relu4_1"], fc["relu4_1"]))


def quantise(image: torch.Tensor) -> torch.Tensor:
    """What a saved image holds: 8-bit values."""
    return (image.clamp(0, 1) * 255).round() / 255


def cache_file(folder: str | None, content: Path, style: Path, steps: int) -> Path | None:
    return Path(folder) / f"{content.stem}__{style.stem}__512px_{steps}steps.png" if folder else None


def gatys_output(content: torch.Tensor, style: torch.Tensor, steps: int, device: torch.device, cached: Path | None) -> torch.Tensor:
    if cached is not None and cached.is_file():
        image = load_image(cached)
        if image.shape == content.shape:
            return image.to(device)
    image = quantise(stylize(content, [style], GatysConfig(size=512, steps=steps, patience=0, device=str(device)),
                             show_progress=False).tensor)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        save_image(image, cached)
    return image.to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decoder", default=None)
    parser.add_argument("--pairs", type=int, default=0, help="only the first N held-out pairs (0 = all 18)")
    parser.add_argument("--gatys-steps", type=int, default=500)
    parser.add_argument("--gatys-cache", default=None, help="folder that keeps Gatys outputs between runs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with content/ and style/ holding the held-out images")
    parser.add_argument("--out", type=Path, default=None, help="folder for the table and figures")
    parser.add_argument("--gatys-only", action="store_true", help="fill --gatys-cache, score nothing")
    parser.add_argument("--skip-uncached", action="store_true", help="leave out pairs without a cached Gatys output")
    args = parser.parse_args()
    if (args.gatys_only or args.skip_uncached) and not args.gatys_cache:
        parser.error("--gatys-only and --skip-uncached need --gatys-cache")
    held = AdaINTrainConfig()
    pairs = [(args.data / "content" / c, args.data / "style" / s) for c in held.holdout_contents for s in held.holdout_styles]
    pairs = pairs[: args.pairs or None]
    device = select_device(args.device)
    if args.gatys_only:
        for content_path, style_path in pairs:
            cached = cache_file(args.gatys_cache, content_path, style_path, args.gatys_steps)
            gatys_output(load_image(content_path, 512).to(device), load_image(style_path, 512).to(device),
                         args.gatys_steps, device, cached)
            print(f"cached {cached}", flush=True)
        return
    if args.skip_uncached:
        pairs = [(c, s) for c, s in pairs if cache_file(args.gatys_cache, c, s, args.gatys_steps).is_file()]
        if not pairs:
            raise SystemExit(f"error: no cached Gatys outputs in {args.gatys_cache}")
    adain = AdaIN.from_pretrained(size=512, decoder=args.decoder, device=str(device))
    vgg = VGGFeatures(STYLE_LAYERS).to(device)

    rows, panels = [], []
    for content_path, style_path in pairs:
        content = load_image(content_path, 512).to(device)
        style = load_image(style_path, 512).to(device)
        ours = quantise(adain(content_path, style_path).tensor).to(device)
        gatys = gatys_output(content, style, args.gatys_steps, device, cache_file(args.gatys_cache, content_path, style_path, args.gatys_steps))
        rows.append((content_path.stem, style_path.stem, *scores(vgg, ours, content, style), *scores(vgg, gatys, content, style)))
        panels += [content.cpu(), style.cpu(), ours.cpu(), gatys.cpu()]
        print(rows[-1], flush=True)

    mean = [sum(r[i] for r in rows) / len(rows) for i in range(2, 6)]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    device_name = torch.cuda.get_device_name() if device.type == "cuda" else cpu
    lines = [
        "# AdaIN vs Gatys on the held-out pairs, 512 px",
        "",
        f"Device: {device_name}; torch {torch.__version__}. Measured {time.strftime('%Y-%m-%d')}. Gatys: {args.gatys_steps} L-BFGS evaluations.",
        "Style = mean/std loss at relu1_1..relu4_1 vs the style; content = relu4_1 MSE vs the content (our VGG-19, max pooling).",
        "",
        "| content | style | AdaIN style | AdaIN content | Gatys style | Gatys content |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *[f"| {c} | {s} | {a:.1f} | {b:.1f} | {g:.1f} | {h:.1f} |" for c, s, a, b, g, h in rows],
        f"| **mean** | | **{mean[0]:.1f}** | **{mean[1]:.1f}** | **{mean[2]:.1f}** | **{mean[3]:.1f}** |",
        "",
        f"AdaIN style loss / Gatys style loss = {mean[0] / mean[2]:.2f} (target <= 2).",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    results, docs = (args.out, args.out) if args.out else (ROOT / "benchmarks" / "results", ROOT / "docs")
    results.mkdir(parents=True, exist_ok=True)
    (results / "adain_quality.md").write_text(table)
    save_image(image_grid(panels, columns=4, height=160), docs / "adain_heldout.jpg")

    content_path, style_path = pairs[0]
    sweep = [load_image(content_path, 512)]
    for alpha in (0.0, 0.25, 0.5, 0.75, 1.0):
        sweep.append(adain(content_path, style_path, alpha=alpha).tensor)
    sweep.append(load_image(style_path, 512))
    save_image(image_grid(sweep, columns=7, height=160), docs / "adain_alpha.jpg")


if __name__ == "__main__":
    main()
