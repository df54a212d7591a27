"""`multistyle export ...`: the feed-forward image models as ONNX (multistyle.image.export); run them without torch
with `multistyle image onnx`."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle.cli.common import guard
from multistyle.cli.defaults import constant

app = typer.Typer(no_args_is_help=True, help="Export models as ONNX, to run with onnxruntime (the onnx extra) without torch.")
OPSET = constant("multistyle.image.export", "OPSET")
EXPORTERS = constant("multistyle.image.export", "EXPORTERS")
Opset = Annotated[Optional[int], typer.Option(help=f"ONNX opset: 13-20 with torchscript, 18-23 with dynamo (default: {OPSET}; 18 with dynamo).")]
Exporter = Annotated[str, typer.Option(help=f"{' or '.join(EXPORTERS)} (torch.export; needs onnxscript).")]


@app.command("adain")
def adain(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for encoder.onnx, decoder.onnx and adain.json.")],
    decoder: Annotated[Optional[Path], typer.Option(help="Decoder weights, or a small model's (.safetensors), instead of the shipped model.")] = None,
    opset: Opset = None,
    exporter: Exporter = EXPORTERS[0],
):
    """AdaIN as two graphs with dynamic height and width: the encoder to relu4_1 and the decoder."""
    from multistyle.errors import InputError

    if decoder is not None and not decoder.is_file():
        raise InputError(f"{decoder}: decoder file not found")
    guard([output], [decoder] if decoder else [], folder=True)
    guard([output / name for name in ("encoder.onnx", "decoder.onnx", "adain.json")], [decoder] if decoder else [])
    from multistyle.image.export import export_adain

    export_adain(output, decoder=decoder, opset=opset, exporter=exporter)
    typer.echo(f"wrote {output}/encoder.onnx, decoder.onnx and adain.json")


@app.command("fast")
def fast(
    style: Annotated[str, typer.Argument(help="A shipped style's name (multistyle image styles) or a .safetensors file from train-fast.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .onnx file; its .json is written beside it.")],
    opset: Opset = None,
    exporter: Exporter = EXPORTERS[0],
):
    """A per-style network as one graph with dynamic height and width."""
    from multistyle.errors import InputError

    if output.suffix.lower() != ".onnx":
        raise InputError(f"{output}: give an .onnx file name")
    source = Path(style)
    sources = [source, source.with_suffix(".json")] if source.suffix == ".safetensors" else []
    guard([output, output.with_suffix(".json")], sources)
    from multistyle.image.export import export_fast

    export_fast(style, output, opset=opset, exporter=exporter)
    typer.echo(f"wrote {output} and {output.with_suffix('.json').name}")
