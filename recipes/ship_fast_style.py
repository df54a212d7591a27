"""Copy a trained per-style network into the package (multistyle/image/weights/fast/NAME.safetensors + NAME.json),
and export it again where it also ships as ONNX (multistyle/image/weights/onnx/NAME.onnx, first made with
`multistyle export fast NAME -o multistyle/image/weights/onnx/NAME.onnx`).

The JSON is the run's model.json; a run written before the palette was recorded gets it here, from its style image
(style_palette). --name ships it under another name than its painting's (a second network of one painting, such as
the small architecture). Usage: python recipes/ship_fast_style.py out/fast/the_scream [--style PATH] [--name NAME] [--note TEXT]
"""
import argparse
import shutil
import sys
from pathlib import Path

from multistyle.core.checkpoint import read_json, write_json
from multistyle.errors import MultistyleError
from multistyle.image.export import export_fast
from multistyle.image.fast import load_network, shipped_folder, style_palette
from multistyle.image.onnx_runtime import SHIPPED_ONNX


def ship(run: Path, style: Path | None, name: str | None = None, note: str = "") -> str:
    info = read_json(run / "model.json")
    if note:  # how the run came to be (the chain of warm starts and settings, the validation figures that chose it)
        info["note"] = note
    if name:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise MultistyleError(f"--name {name!r}: use letters, digits, '_' and '-'")
        info["name"] = name
    load_network(run / "model.safetensors")  # refuses a damaged or foreign file before anything is copied
    if "palette" not in info:
        info["palette"] = style_palette(style or Path(info["style"]))
    target = shipped_folder() / info["name"]
    shutil.copyfile(run / "model.safetensors", target.with_suffix(".safetensors"))
    write_json(target.with_suffix(".json"), info)
    exported = SHIPPED_ONNX / f"{info['name']}.onnx"
    if exported.is_file():  # a network that also ships as ONNX (`multistyle image onnx NAME`) is exported again
        export_fast(info["name"], exported)
    return (f"shipped {info['name']}: {target}.safetensors and .json{' and its ONNX export' if exported.is_file() else ''} "
            f"({info['iterations']} iterations, {info['seconds'] / 60:.0f} min)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a train-fast output folder (model.safetensors, model.json)")
    parser.add_argument("--style", type=Path, default=None, help="the style image, when the path in model.json has moved")
    parser.add_argument("--name", default=None, help="the shipped name (default: the painting's file name)")
    parser.add_argument("--note", default="", help="kept in the JSON: the run's history and what chose it")
    args = parser.parse_args()
    try:
        print(ship(args.run, args.style, args.name, args.note))
    except MultistyleError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
