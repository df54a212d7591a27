"""Copy a trained per-style network into the package (multistyle/image/weights/fast/NAME.safetensors + NAME.json).

The JSON is the run's model.json; a run written before the palette was recorded gets it here, from its style image
(style_palette). Usage: python recipes/ship_fast_style.py out/fast/the_scream [--style PATH]
"""
import argparse
import shutil
import sys
from pathlib import Path

from multistyle.core.checkpoint import read_json, write_json
from multistyle.errors import MultistyleError
from multistyle.image.fast import load_network, shipped_folder, style_palette


def ship(run: Path, style: Path | None) -> str:
    info = read_json(run / "model.json")
    load_network(run / "model.safetensors")  # refuses a damaged or foreign file before anything is copied
    if "palette" not in info:
        info["palette"] = style_palette(style or Path(info["style"]))
    target = shipped_folder() / info["name"]
    shutil.copyfile(run / "model.safetensors", target.with_suffix(".safetensors"))
    write_json(target.with_suffix(".json"), info)
    return f"shipped {info['name']}: {target}.safetensors and .json ({info['iterations']} iterations, {info['seconds'] / 60:.0f} min)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a train-fast output folder (model.safetensors, model.json)")
    parser.add_argument("--style", type=Path, default=None, help="the style image, when the path in model.json has moved")
    args = parser.parse_args()
    try:
        print(ship(args.run, args.style))
    except MultistyleError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
