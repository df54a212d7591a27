"""Copy a trained per-style network into the package (multistyle/image/weights/fast/NAME.safetensors + NAME.json).

The JSON is the run's model.json; a run written before the palette was recorded gets it here, from its style image
at PALETTE_SIZE. Usage: python recipes/ship_fast_style.py out/fast/the_scream [--style PATH]
"""
import argparse
import shutil
from pathlib import Path

from multistyle.core.checkpoint import read_json, write_json
from multistyle.image.fast import PALETTE_SIZE, load_network, shipped_folder, style_palette
from multistyle.image.io import load_image

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("run", type=Path, help="a train-fast output folder (model.safetensors, model.json)")
parser.add_argument("--style", type=Path, default=None, help="the style image, when the path in model.json has moved")
args = parser.parse_args()

info = read_json(args.run / "model.json")
load_network(args.run / "model.safetensors")  # refuses a damaged or foreign file before anything is copied
if "palette" not in info:
    style = args.style or Path(info["style"])
    info["palette"] = style_palette(load_image(style, PALETTE_SIZE))
target = shipped_folder() / info["name"]
shutil.copyfile(args.run / "model.safetensors", target.with_suffix(".safetensors"))
write_json(target.with_suffix(".json"), info)
print(f"shipped {info['name']}: {target}.safetensors and .json ({info['iterations']} iterations, {info['seconds'] / 60:.0f} min)")
