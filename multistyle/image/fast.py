"""Per-style feed-forward networks: Johnson, Alahi & Fei-Fei (2016)'s image transformation network with
Ulyanov, Vedaldi & Lempitsky (2016/2017)'s instance normalisation, trained for one style with a perceptual
loss, then stylising any photo in one pass. Texture mode (Ulyanov et al.'s texture networks) maps noise to
new samples of a texture.

The network: 9x9 conv, two stride-2 3x3 convs, residual blocks, two resize-convolutions (nearest 2x
upsampling, then a 3x3 conv: no checkerboards, Odena et al. 2016), 9x9 conv to RGB; reflection padding
and instance norm throughout. A model file holds the weights (safetensors) and its JSON beside it.
"""
import importlib.resources
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from multistyle.core.checkpoint import load_checked_weights, read_json
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.pipeline import Pipeline, batched
from multistyle.core.runtime import check_precision, compute_dtype, seed_everything, select_device
from multistyle.core.vgg import check_memory_for_vgg
from multistyle.errors import InputError, WeightsError
from multistyle.image import color
from multistyle.image.degrid import remove_grid
from multistyle.image.io import ImageLike, file_sources, load_image, output_size, pad_to_multiple, resize
from multistyle.image.result import ImageResult

SHIPPED = "fast"  # multistyle/image/weights/fast/NAME.safetensors + NAME.json
MULTIPLE = 4  # two stride-2 convolutions: sides must divide by 4
GRID_PERIOD = 8  # the loss network's relu4_1 lattice, which training imprints on the output


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(c_in, c_out, kernel, stride))


def _conv_norm_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(_conv(c_in, c_out, kernel, stride), nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv_norm_relu(channels, channels, 3), _conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """RGB (B, 3, H, W) in [0, 1], sides divisible by 4 -> stylised RGB, same size (unclamped)."""

    def __init__(self, channels: Sequence[int] = (32, 64, 128), blocks: int = 5):
        super().__init__()
        c0, c1, c2 = channels
        self.net = nn.Sequential(
            _conv_norm_relu(3, c0, 9), _conv_norm_relu(c0, c1, 3, 2), _conv_norm_relu(c1, c2, 3, 2),
            *(ResidualBlock(c2) for _ in range(blocks)),
            nn.Upsample(scale_factor=2, mode="nearest"), _conv_norm_relu(c2, c1, 3),
            nn.Upsample(scale_factor=2, mode="nearest"), _conv_norm_relu(c1, c0, 3),
            _conv(c0, 3, 9),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Float32 out whatever the weights' precision."""
        return self.net(x.to(next(self.parameters()).dtype)).float()


@dataclass
class FastStyleConfig:
    """Inference settings of a per-style network."""

    # Long side of the output, pixels. None: the content's own size, shrunk to 512 when larger
    # (multistyle.image.io.output_size); 0 keeps any size; a number is obeyed.
    size: int | None = None
    alpha: float = 1.0  # content-style trade-off: 0 = the content, 1 = the network's output; in between, a pixel blend
    preserve_color: bool = False  # keep the content's colours (the output's luminance with the content's chroma)
    # Recolour the output to the style's palette (RGB mean and covariance, kept in the model's JSON): the network's
    # colours drift from the painting's, by 0.018 in colour distance for wave against 0.0002 after this.
    palette: bool = True
    # Notch-filter the 8-px grid (the loss network's pooling lattice) out of the output, as AdaIN does
    # (multistyle.image.degrid): grid share 0.04-0.13 -> 0.006-0.025 on the held-out photos, style distance within
    # 0.03 either way (benchmarks/results/fast_styles.md).
    degrid: bool = True
    device: str = "auto"
    precision: str = "auto"  # bf16 on CPUs with AMX or AVX-512-BF16 (2-2.7x as fast, 44-52 dB PSNR from fp32), else fp32; set when loading

    def validate(self) -> None:
        check_precision(self.precision)
        if self.size is not None and self.size != 0 and self.size < 16:
            raise InputError(f"--size {self.size} is too small; use at least 16 pixels (or 0 for the content's own size)")
        if not 0.0 <= self.alpha <= 1.0:
            raise InputError(f"--alpha must be between 0 and 1, not {self.alpha}")


def shipped_folder() -> Path:
    return Path(str(importlib.resources.files("multistyle.image") / "weights" / SHIPPED))


def shipped_styles() -> dict[str, Path]:
    """The per-style networks that ship in the package, by name."""
    folder = shipped_folder()
    return {p.stem: p for p in sorted(folder.glob("*.safetensors"))} if folder.is_dir() else {}


PALETTE_SIZE = 512  # the style image's long side for its palette; smaller copies lose spread to smoothing


def style_palette(style: ImageLike) -> dict[str, list]:
    """A style image's RGB mean and covariance at PALETTE_SIZE, as kept in a per-style network's JSON."""
    mean, cov = color.colour_moments(load_image(style, PALETTE_SIZE))
    return {"rgb_mean": mean[0, :, 0].tolist(), "rgb_cov": cov[0].tolist()}


def palette_tensors(info: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The (1, 3, 1) mean and (1, 3, 3) covariance of a model JSON's palette; None when it has none (older files)."""
    if "palette" not in info:
        return None
    try:
        mean = torch.tensor(info["palette"]["rgb_mean"], dtype=torch.float32).reshape(1, 3, 1)
        cov = torch.tensor(info["palette"]["rgb_cov"], dtype=torch.float32).reshape(1, 3, 3)
    except (TypeError, KeyError, ValueError, RuntimeError):
        raise WeightsError(f"model {info.get('name', '')!r}: its JSON's palette is not 3 RGB means and a 3x3 covariance") from None
    return mean, cov


def model_info(path: Path) -> dict[str, Any]:
    info = path.with_suffix(".json")
    if not info.is_file():
        raise WeightsError(f"{path}: has no {info.name} beside it (the network's architecture and training figures)")
    return read_json(info)


def load_network(path: str | Path) -> tuple[TransformNet, dict[str, Any]]:
    """A trained network and its JSON, checked against the architecture the JSON names."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: model file not found")
    info = model_info(path)
    arch = info.get("architecture", {})
    try:
        net = TransformNet(tuple(arch["channels"]), int(arch["blocks"]))
    except (KeyError, TypeError, ValueError):
        raise WeightsError(f"{path.with_suffix('.json')}: lacks a valid 'architecture' (channels, blocks)") from None
    return load_checked_weights(net, path, "a per-style network"), info


def resolve_style(name_or_path: str | Path) -> Path:
    """A shipped style's name, or a .safetensors file written by `multistyle image train-fast`."""
    if not isinstance(name_or_path, (str, Path)):
        raise InputError(f"a style is a shipped style's name or a .safetensors path, not {type(name_or_path).__name__}")
    path = Path(name_or_path)
    if path.suffix == ".safetensors" or path.exists():
        if path.is_dir():
            path = path / "model.safetensors"
        if not path.is_file():
            raise WeightsError(f"{path}: model file not found")
        if path.suffix != ".safetensors":
            raise InputError(f"{path}: not a per-style network (a shipped style's name, or the .safetensors file "
                             "`multistyle image train-fast` writes)")
        return path
    styles = shipped_styles()
    if str(name_or_path) not in styles:
        known = ", ".join(styles) or "none ship with this install"
        raise InputError(f"unknown style {name_or_path!r}; shipped styles: {known} (or give a .safetensors file)")
    return styles[str(name_or_path)]


class FastStyle(Pipeline):
    """One trained network per style (Johnson et al. 2016 with instance norm): any photo in one pass.

    >>> model = FastStyle.from_pretrained("udnie")           # FastStyle.styles() lists the shipped ones
    >>> model("photo.jpg", alpha=0.8).image.save("out.png")
    """

    def __init__(self, network: TransformNet, info: dict[str, Any] | None = None, config: FastStyleConfig | None = None,
                 **overrides: Any):
        if not isinstance(network, TransformNet):
            raise InputError("FastStyle(network) takes a TransformNet; use FastStyle.from_pretrained(name) or .from_file(path)")
        self.config = with_overrides(config or FastStyleConfig(), overrides)
        self.network = network.eval()
        self._placed()
        self.info = info or {}
        self.palette = palette_tensors(self.info)

    def _placed(self) -> None:
        self.device = select_device(self.config.device)
        self.dtype = compute_dtype(self.config.precision, self.device)
        self.network.to(self.device, self.dtype)

    @staticmethod
    def styles() -> list[str]:
        return list(shipped_styles())

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, config: FastStyleConfig | None = None,
                        **overrides: Any) -> "FastStyle":
        """A shipped style's name (FastStyle.styles()), a .safetensors file or a `multistyle image train-fast` run's
        folder."""
        if name_or_path is None:
            raise InputError(f"FastStyle.from_pretrained needs a style: one of {', '.join(shipped_styles()) or 'none'}, "
                             "a .safetensors file or a train-fast run's folder")
        network, info = load_network(resolve_style(name_or_path))
        return cls(network, info, config, **overrides)

    @classmethod
    def from_file(cls, path: str | Path, config: FastStyleConfig | None = None, **overrides: Any) -> "FastStyle":
        """The same as from_pretrained(path)."""
        return cls.from_pretrained(path, config, **overrides)

    @batched
    @torch.no_grad()
    def __call__(self, content: ImageLike, *style: Any, **overrides: Any) -> ImageResult:
        """Stylise `content`; overrides: size, alpha, preserve_color, palette, degrid."""
        if style:
            raise InputError(f"a FastStyle carries its own style ({self.info.get('name')}): call it with the content only")
        cfg = with_overrides(self.config, overrides)
        cfg.validate()
        start = time.perf_counter()
        image = load_image(content)
        h, w = output_size(*image.shape[-2:], cfg.size)
        check_memory_for_vgg(h + MULTIPLE, w + MULTIPLE, backward=False, device=self.device, network="the per-style network")
        image = resize(image, (h, w))
        output = self.network(pad_to_multiple(image, MULTIPLE).to(self.device))[..., :h, :w].cpu()
        if cfg.degrid:
            output = remove_grid(output, GRID_PERIOD)
        output = output.clamp(0, 1)
        if cfg.preserve_color:
            output = color.with_chroma_of(output, image)
        elif cfg.palette and self.palette is not None:
            output = color.recolour(output, *self.palette)
        if cfg.alpha != 1:
            output = torch.lerp(image, output, cfg.alpha)
        seconds = time.perf_counter() - start
        return ImageResult(output, "fast", {**config_dict(cfg), "style": self.info.get("name")}, seconds=seconds,
                           timings={"stylise": seconds}, sources=file_sources(content))

    @torch.no_grad()
    def texture(self, height: int = 256, width: int = 256, seed: int = 0) -> ImageResult:
        """A new sample of the texture a texture-mode network learned, from seeded noise."""
        if min(height, width) < 16:
            raise InputError("a texture needs at least 16 x 16 pixels")
        check_memory_for_vgg(height, width, backward=False, device=self.device, network="the texture network")
        start = time.perf_counter()
        noise = torch.rand(1, 3, height, width, generator=seed_everything(seed))
        output = self.network(pad_to_multiple(noise, MULTIPLE).to(self.device))[..., :height, :width].clamp(0, 1).cpu()
        return ImageResult(output, "fast-texture", {"size": [height, width], "seed": seed, "style": self.info.get("name")},
                           seconds=time.perf_counter() - start)
