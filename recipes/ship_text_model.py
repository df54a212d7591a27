"""Copy a trained text model into the package under a shipped name (multistyle/text/weights/..., see SHIPPED_MODELS).

The weights (the model's and its selector's) are stored in fp16 (half the bytes; loading casts them back to the model's dtype), beside the run's
config, vocabulary, figures, log, calibration and selector. The model is loaded from the copy before the command
reports success, so a damaged or foreign file never ships. --note is kept in figures.json: the run's history and
what chose it.
Usage: python recipes/ship_text_model.py RUN --name style-transformer [--note TEXT]
"""
import argparse
import shutil
import sys
from pathlib import Path

from multistyle.core.checkpoint import load_tensors, read_json, save_tensors, write_json
from multistyle.errors import MultistyleError
from multistyle.text.bundle import CONFIG, WEIGHTS, load_model
from multistyle.text.selector import INFO as SELECTOR_INFO
from multistyle.text.selector import WEIGHTS as SELECTOR_WEIGHTS
from multistyle.text.transfer import SHIPPED_MODELS

COPIED = (CONFIG, "vocab.txt", "log.jsonl", "calibration.json", SELECTOR_INFO)


def ship(run: Path, name: str, note: str = "") -> str:
    if name not in SHIPPED_MODELS:
        raise MultistyleError(f"--name must be one of {', '.join(SHIPPED_MODELS)}, not {name!r}")
    load_model(run)  # refuses an unfinished or foreign folder before anything is copied
    if not (run / SELECTOR_WEIGHTS).is_file():
        raise MultistyleError(f"{run}: no selector (run `multistyle text train-selector --model {run}` first)")
    target = SHIPPED_MODELS[name]
    target.mkdir(parents=True, exist_ok=True)
    for weights in (WEIGHTS, SELECTOR_WEIGHTS):
        tensors = load_tensors(run / weights)
        save_tensors(target / weights, {key: value.half() if value.is_floating_point() else value for key, value in tensors.items()})
    for file in COPIED:
        if (run / file).is_file():
            shutil.copyfile(run / file, target / file)
    figures = read_json(run / "figures.json")
    figures["weights"] = "fp16 (the trained fp32 weights halved)"
    if note:
        figures["note"] = note
    write_json(target / "figures.json", figures)
    load_model(target)
    size = sum(f.stat().st_size for f in target.iterdir()) / 2**20
    return f"shipped {name}: {target} ({size:.1f} MiB)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a `multistyle text train` folder with its selector")
    parser.add_argument("--name", required=True, help=f"the shipped name: {', '.join(SHIPPED_MODELS)}")
    parser.add_argument("--note", default="", help="kept in figures.json: the run's history and what chose it")
    args = parser.parse_args()
    try:
        print(ship(args.run, args.name, args.note))
    except MultistyleError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
