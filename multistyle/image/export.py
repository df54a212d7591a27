"""ONNX export of the feed-forward image models, for running them without torch (multistyle.image.onnx_runtime).

- A per-style network (multistyle.image.fast) becomes one graph: RGB in [0, 1], NCHW float32, any batch, height and
  width divisible by 4 -> the stylised RGB, unclamped (the palette and degrid steps run outside the graph).
- AdaIN becomes two graphs in a folder: encoder.onnx (RGB in [0, 1] -> VGG-19's relu4_1 features, Caffe preprocessing
  inside the graph) and decoder.onnx (relu4_1 features -> RGB, unclamped); the AdaIN step itself (per-channel mean
  and standard deviation) runs in NumPy between them, so one style's statistics serve many photos.

Each graph gets a JSON beside it (what it is, input layout and range, opset, the side multiple, the palette of a
per-style network, the SHA-256 of the weight files it came from). Height and width are dynamic axes.

The graphs are traced with torch's TorchScript exporter (`exporter="torchscript"`, needs `onnx`): 3 s a graph here
against 22 s for the torch.export-based one (`exporter="dynamo"`, needs `onnxscript` too), same outputs within 1e-5.
"""
import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from multistyle import __version__
from multistyle.core.checkpoint import write_json
from multistyle.core.paths import atomic_file
from multistyle.core.vgg import caffe_preprocess, weights_path
from multistyle.errors import InputError, MultistyleError

OPSET = 17
EXPORTERS = ("torchscript", "dynamo")
FORMAT = 1  # the JSON's "format": bumped when the graphs' contract changes


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Encoder(nn.Module):
    """RGB [0, 1] -> relu4_1, with VGG-19's Caffe preprocessing in the graph."""

    def __init__(self, layers: nn.Module):
        super().__init__()
        self.layers = layers

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.layers(caffe_preprocess(rgb))


OPSETS = {"torchscript": (13, 20), "dynamo": (18, 23)}  # what torch 2.11's two exporters write


def _check_requirements(exporter: str, opset: int | None) -> int:
    """The opset to write (None: OPSET, or 18 with dynamo), once the exporter, the opset and the packages are right."""
    if exporter not in EXPORTERS:
        raise InputError(f"--exporter must be one of {', '.join(EXPORTERS)}, not {exporter!r}")
    low, high = OPSETS[exporter]
    opset = max(OPSET, low) if opset is None else opset
    if not low <= opset <= high:
        raise InputError(f"--opset must be from {low} to {high} with the {exporter} exporter, not {opset}")
    needed = ["onnx"] + (["onnxscript"] if exporter == "dynamo" else [])
    import importlib.util

    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise MultistyleError(f"exporting needs {' and '.join(missing)}, which is not installed: pip install 'multistyle[onnx]'")
    return opset


def _export_graph(module: nn.Module, example: torch.Tensor, path: Path, input_name: str, output_name: str,
                  opset: int, exporter: str) -> None:
    """Trace `module` on `example` into `path` (atomically) with dynamic batch, height and width."""
    axes = {0: "batch", 2: "height", 3: "width"}
    with atomic_file(path) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and constant-folding notes
        if exporter == "dynamo":
            dim = torch.export.Dim.DYNAMIC
            torch.onnx.export(module, (example,), tmp, input_names=[input_name], output_names=[output_name],
                              opset_version=opset, dynamo=True, external_data=False, verbose=False,
                              dynamic_shapes=({0: dim, 2: dim, 3: dim},))
        else:
            torch.onnx.export(module, (example,), tmp, input_names=[input_name], output_names=[output_name],
                              opset_version=opset, dynamo=False, dynamic_axes={input_name: axes, output_name: axes})
        _store_half(tmp)


def _store_half(path: Path) -> None:
    """Keep float32 weights that float16 holds exactly (the shipped networks' files are float16) as float16 plus a
    Cast: half the file, the same numbers; onnxruntime folds the casts away when it loads the model."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph, casts = model.graph, []
    for tensor in list(graph.initializer):
        values = numpy_helper.to_array(tensor)
        if tensor.data_type != onnx.TensorProto.FLOAT or values.size < 64:
            continue
        half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):
            continue
        graph.initializer.remove(tensor)
        graph.initializer.append(numpy_helper.from_array(half, f"{tensor.name}_fp16"))
        casts.append(helper.make_node("Cast", [f"{tensor.name}_fp16"], [tensor.name], to=onnx.TensorProto.FLOAT))
    if casts:
        nodes = casts + list(graph.node)  # nodes stay topologically sorted: the casts go first
        del graph.node[:]
        graph.node.extend(nodes)
        onnx.save(model, str(path))


def _info(kind: str, **fields: Any) -> dict[str, Any]:
    return {"format": FORMAT, "kind": kind, "multistyle": __version__, "torch": torch.__version__, **fields}


def export_fast(style: str | os.PathLike, output: str | os.PathLike, *, opset: int | None = None,
                exporter: str = "torchscript") -> Path:
    """A per-style network (a shipped style's name or a .safetensors file) as OUTPUT.onnx + OUTPUT.json."""
    from multistyle.image.fast import GRID_PERIOD, MULTIPLE, load_network, resolve_style

    output = Path(output)
    if output.suffix.lower() != ".onnx":
        raise InputError(f"{output}: give an .onnx file name")
    opset = _check_requirements(exporter, opset)
    source = resolve_style(style)
    network, info = load_network(source)
    network = network.float().eval()
    _export_graph(network.net, torch.rand(1, 3, 64, 64), output, "image", "stylised", opset, exporter)
    write_json(output.with_suffix(".json"), _info(
        "fast", file=output.name, name=info.get("name", source.stem), opset=opset, exporter=exporter,
        input={"name": "image", "layout": "NCHW", "channels": "RGB", "dtype": "float32", "range": [0, 1],
               "multiple": MULTIPLE},
        output={"name": "stylised", "layout": "NCHW", "channels": "RGB", "range": "about [0, 1], unclamped"},
        grid_period=GRID_PERIOD, palette=info.get("palette"),
        source={"weights": source.name, "sha256": sha256(source)},
    ))
    return output


def export_adain(folder: str | os.PathLike, *, decoder: str | os.PathLike | None = None, opset: int | None = None,
                 exporter: str = "torchscript") -> Path:
    """AdaIN's encoder and decoder as FOLDER/encoder.onnx and FOLDER/decoder.onnx, described by FOLDER/adain.json.
    `decoder`: a shipped model's name ("full", the default), or a decoder's or a small model's file."""
    from multistyle.image.adain import ENCODER_LAYER, MULTIPLE, VGG_WIDTHS, load_network, model_path

    folder = Path(folder)
    opset = _check_requirements(exporter, opset)
    network = load_network(decoder).float().eval()
    source = model_path(decoder)
    net, channels = network.decoder, network.widths[-1]
    vgg = network.encoder.encoder.truncated(ENCODER_LAYER)
    encoder = _Encoder(nn.Sequential(*vgg.layers.values())).float().eval()  # a plain chain: no layer-name loop to trace
    folder.mkdir(parents=True, exist_ok=True)
    example = torch.rand(1, 3, 64, 64)
    _export_graph(encoder, example, folder / "encoder.onnx", "image", "features", opset, exporter)
    _export_graph(net.net, torch.rand(1, channels, 8, 8), folder / "decoder.onnx", "features", "image", opset, exporter)
    write_json(folder / "adain.json", _info(
        "adain", opset=opset, exporter=exporter,
        encoder={"file": "encoder.onnx", "input": {"name": "image", "layout": "NCHW", "channels": "RGB", "dtype": "float32",
                                                   "range": [0, 1], "multiple": MULTIPLE},
                 "output": {"name": "features", "layer": ENCODER_LAYER, "channels": channels, "stride": 8}},
        decoder={"file": "decoder.onnx", "input": {"name": "features", "layout": "NCHW", "channels": channels},
                 "output": {"name": "image", "layout": "NCHW", "channels": "RGB", "range": "about [0, 1], unclamped"},
                 "upsample": net.upsample},
        adain={"eps": 1e-5, "statistics": "per-channel mean and sqrt(biased variance + eps) over positions"},
        grid_period=MULTIPLE,
        source={"decoder": source.name, "decoder_sha256": sha256(source),
                **({"vgg19": weights_path().name, "vgg19_sha256": sha256(weights_path())} if network.widths == VGG_WIDTHS else {})},
    ))
    return folder
