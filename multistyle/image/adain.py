"""AdaIN (Huang & Belongie, ICCV 2017): real-time arbitrary style transfer.

A frozen VGG-19 encodes content and style to relu4_1; adaptive instance normalisation gives the content
features the style's per-channel mean and standard deviation; a trained decoder maps the result back
to an image. Style statistics are computed once per style image and reused for every content.
"""
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from multistyle import UserError
from multistyle.core.checkpoint import load_tensors, read_json
from multistyle.core.losses import channel_mean_std
from multistyle.image import color
from multistyle.image.vgg import VGGFeatures

ENCODER_LAYER = "relu4_1"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
SHIPPED_DECODER = "adain_decoder.safetensors"

# The decoder mirrors VGG-19 from relu4_1 back to pixels: (in, out) channels per 3x3 conv, "up" = 2x nearest.
DECODER_PLAN = (
    (512, 256), "up",
    (256, 256), (256, 256), (256, 256), (256, 128), "up",
    (128, 128), (128, 64), "up",
    (64, 64), (64, 3),
)


@dataclass(frozen=True)
class StyleStats:
    """Per-channel mean and std of one style image's relu4_1 features, each (1, C, 1, 1)."""

    mean: torch.Tensor
    std: torch.Tensor


def feature_stats(features: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-5) -> StyleStats:
    """Per-channel mean and std, over all positions or only where `mask` (B, 1, H, W) is set."""
    if mask is None:
        mean, std = channel_mean_std(features, eps)
        return StyleStats(mean[..., None, None], std[..., None, None])
    weight = mask / mask.sum((2, 3), keepdim=True).clamp_min(1)
    mean = (features * weight).sum((2, 3), keepdim=True)
    var = ((features - mean).square() * weight).sum((2, 3), keepdim=True)
    return StyleStats(mean, (var + eps).sqrt())


def adain(content: torch.Tensor, style: StyleStats, mask: torch.Tensor | None = None) -> torch.Tensor:
    """sigma(style) * (content - mu(content)) / sigma(content) + mu(style), per channel.

    With a mask, the content's statistics are those of the masked region only (spatial control).
    """
    own = feature_stats(content, mask)
    return style.std * (content - own.mean) / own.std + style.mean


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3))


class Decoder(nn.Module):
    """relu4_1 features -> RGB image in [0, 1] (unclamped while training). No normalisation layers."""

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        convs = [step for step in DECODER_PLAN if step != "up"]
        for step in DECODER_PLAN:
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                continue
            layers.append(_conv(*step))
            if step is not convs[-1]:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


def shipped_decoder_path() -> Path:
    return Path(str(importlib.resources.files("multistyle.image") / "weights" / SHIPPED_DECODER))


def load_decoder(path: str | Path | None = None) -> Decoder:
    """The decoder from a safetensors file (default: the one shipped in the package), checked against the architecture."""
    path = Path(path) if path is not None else shipped_decoder_path()
    if not path.is_file():
        hint = "pass --decoder PATH or train one with `multistyle image train-adain`" if path.name == SHIPPED_DECODER else ""
        raise UserError(f"{path}: decoder file not found {hint}".rstrip())
    tensors = load_tensors(path)
    decoder = Decoder()
    expected = decoder.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise UserError(
            f"{path}: not an AdaIN decoder of this architecture "
            f"(missing {missing[:3] or 'none'}, unexpected {unexpected[:3] or 'none'})"
        )
    for name, tensor in expected.items():
        if tensors[name].shape != tensor.shape:
            raise UserError(f"{path}: {name} has shape {tuple(tensors[name].shape)}, this decoder needs {tuple(tensor.shape)}")
    decoder.load_state_dict({k: v.float() for k, v in tensors.items()})
    return decoder.eval().requires_grad_(False)


class AdaIN(nn.Module):
    """Frozen VGG-19 encoder to relu4_1 + decoder; `style_stats` once per style, then `forward` per content."""

    def __init__(self, decoder: Decoder):
        super().__init__()
        self.encoder = VGGFeatures(STYLE_LAYERS)  # max pooling, as VGG-19 was trained
        self.decoder = decoder

    def encode(self, rgb: torch.Tensor) -> torch.Tensor:
        # channels_last spares oneDNN's convolutions their layout reorders: 3.2 -> 2.2 s at 512 px on 2 CPU cores
        return self.encoder(rgb.contiguous(memory_format=torch.channels_last))[ENCODER_LAYER]

    @torch.no_grad()
    def style_stats(self, style: torch.Tensor) -> StyleStats:
        return feature_stats(self.encode(style))

    def target_features(
        self,
        content_features: torch.Tensor,
        styles: list[StyleStats],
        *,
        alpha: float = 1.0,
        weights: list[float] | None = None,
        masks: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """What the decoder decodes: the styles' AdaIN outputs blended by `weights` or placed by `masks`
        ((B, 1, H, W) in [0, 1], any size), then mixed with the content features by `alpha`."""
        if masks is not None:
            size = content_features.shape[-2:]
            target = torch.zeros_like(content_features)
            for stats, mask in zip(styles, masks):
                region = (F.interpolate(mask, size=size, mode="area") > 0.5).to(content_features.dtype)
                target = target + region * adain(content_features, stats, region)
        else:
            weights = weights or [1.0 / len(styles)] * len(styles)
            target = sum(w * adain(content_features, stats) for w, stats in zip(weights, styles))
        return alpha * target + (1 - alpha) * content_features

    def forward(self, content: torch.Tensor, styles: list[StyleStats], **controls) -> torch.Tensor:
        return self.decoder(self.target_features(self.encode(content), styles, **controls))


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class AdaINConfig:
    size: int = 512  # long side of content and style images, pixels
    alpha: float = 1.0  # 0 = reconstruct the content, 1 = full style
    style_blend: tuple[float, ...] | None = None  # interpolation weights, one per style, summing to 1
    preserve_color: bool = False  # recolour each style to the content's colour statistics first
    decoder: str | None = None  # None: the decoder shipped in the package
    device: str = "auto"

    def validate(self, n_styles: int, n_masks: int = 0) -> None:
        if n_styles < 1:
            raise UserError("give at least one style image")
        if not 0.0 <= self.alpha <= 1.0:
            raise UserError(f"--alpha must be between 0 and 1, not {self.alpha}")
        if self.size < 32:
            raise UserError(f"--size {self.size} is too small; use at least 32 pixels")
        if self.style_blend is not None:
            if len(self.style_blend) != n_styles:
                raise UserError(f"--style-blend has {len(self.style_blend)} weights for {n_styles} style images")
            if any(w < 0 for w in self.style_blend) or abs(sum(self.style_blend) - 1.0) > 1e-6:
                raise UserError(f"--style-blend weights must be non-negative and sum to 1 (they sum to {sum(self.style_blend):g})")
        if n_masks and not (n_masks == n_styles or (n_masks == 1 and n_styles == 2)):
            raise UserError(f"give one mask per style ({n_styles}), or one mask for two styles; got {n_masks}")
        if n_masks and self.style_blend is not None:
            raise UserError("use either --mask or --style-blend, not both")


def load_masks(paths: list[Path], size: tuple[int, int], n_styles: int) -> list[torch.Tensor]:
    """Masks as (1, 1, H, W) in [0, 1] at `size`; one mask for two styles means the second is its complement."""
    from multistyle.image.io import load_pil, pil_to_tensor, resize

    masks = []
    for path in paths:
        img = load_pil(path)
        h, w = size
        if abs(img.width / img.height - w / h) > 0.02:
            raise UserError(f"{path}: mask is {img.width}x{img.height}, which does not match the content's aspect ratio ({w}x{h})")
        masks.append(resize(pil_to_tensor(img).mean(1, keepdim=True), size))
    if len(masks) == 1 and n_styles == 2:
        masks.append(1 - masks[0])
    return masks


def _multiple_of_8(h: int, w: int) -> tuple[int, int]:
    # relu4_1 is at 1/8 resolution and the decoder upsamples 3 times: sizes must divide by 8.
    return max(8, round(h / 8) * 8), max(8, round(w / 8) * 8)


def load_for_adain(path: str | Path, long_side: int) -> torch.Tensor:
    from multistyle.image.io import fit_long_side, load_image, resize

    image = load_image(path)
    return resize(image, _multiple_of_8(*fit_long_side(*image.shape[-2:], long_side)))


class AdaINStylizer:
    """Loads the model once; stylises contents with styles whose statistics are cached per file."""

    def __init__(self, config: AdaINConfig):
        from multistyle.core.runtime import select_device

        self.config = config
        self.device = select_device(config.device)
        self.model = AdaIN(load_decoder(config.decoder)).to(self.device).eval()
        self._style_cache: dict[str, StyleStats] = {}

    def stats_for(self, style_path: Path, content: torch.Tensor | None = None) -> StyleStats:
        style = load_for_adain(style_path, self.config.size)
        if self.config.preserve_color and content is not None:
            return self.model.style_stats(color.match_color_histogram(style, content).to(self.device))
        key = str(style_path)
        if key not in self._style_cache:
            self._style_cache[key] = self.model.style_stats(style.to(self.device))
        return self._style_cache[key]

    @torch.no_grad()
    def stylize(self, content_path: Path, style_paths: list[Path], mask_paths: list[Path] | None = None) -> torch.Tensor:
        from multistyle.image.io import check_memory_for_vgg

        cfg = self.config
        cfg.validate(len(style_paths), len(mask_paths or []))
        content = load_for_adain(content_path, cfg.size)
        check_memory_for_vgg(*content.shape[-2:], backward=False)
        masks = load_masks(mask_paths, tuple(content.shape[-2:]), len(style_paths)) if mask_paths else None
        styles = [self.stats_for(p, content) for p in style_paths]
        output = self.model(
            content.to(self.device), styles, alpha=cfg.alpha, weights=list(cfg.style_blend) if cfg.style_blend else None,
            masks=[m.to(self.device) for m in masks] if masks else None,
        )
        return output.clamp(0, 1).cpu()


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder")
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise UserError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
    return images


def stylize_files(
    content_path: Path, style_paths: list[Path], output_path: Path, config: AdaINConfig, mask_paths: list[Path] | None = None
) -> float:
    """One content, one or more styles -> `output_path` plus a JSON report; returns seconds taken."""
    import time

    from multistyle.core.checkpoint import write_json
    from multistyle.core.config import config_dict
    from multistyle.image.io import check_output_path, save_image

    output_path = check_output_path(output_path)
    start = time.perf_counter()
    stylizer = AdaINStylizer(config)
    image = stylizer.stylize(content_path, style_paths, mask_paths)
    seconds = time.perf_counter() - start
    save_image(image, output_path)
    write_json(output_path.with_suffix(".json"), {
        "method": "adain", "content": str(content_path), "styles": [str(p) for p in style_paths],
        "masks": [str(p) for p in mask_paths or []], "size": list(image.shape[-2:]),
        "config": config_dict(config), "seconds": round(seconds, 3),
    })
    return seconds


def stylize_folders(content_dir: Path, style_dir: Path, out_dir: Path, config: AdaINConfig, show_progress: bool = True) -> Path:
    """Every content x every style -> OUT_DIR/CONTENT__STYLE.png, plus grid.png (a row per content)."""
    from multistyle.core.optimize import make_progress
    from multistyle.image.io import image_grid, load_image, save_image

    contents, styles = list_images(content_dir), list_images(style_dir)
    config.validate(1)
    stylizer = AdaINStylizer(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    panels = [torch.ones(1, 3, 8, 8)] + [load_image(s, long_side=256) for s in styles]  # header row: styles
    with make_progress(disable=not show_progress) as progress:
        task = progress.add_task("adain", total=len(contents) * len(styles), status="")
        for content in contents:
            panels.append(load_image(content, long_side=256))
            for style in styles:
                image = stylizer.stylize(content, [style])
                save_image(image, out_dir / f"{content.stem}__{style.stem}.png")
                panels.append(image)
                progress.update(task, advance=1, status=f"{content.stem} x {style.stem}")
    grid = out_dir / "grid.png"
    save_image(image_grid(panels, columns=len(styles) + 1, height=192), grid)
    return grid
