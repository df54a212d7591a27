"""Gatys, Ecker & Bethge (CVPR 2016): style transfer by optimising the image itself.

The image is optimised so that its VGG-19 relu4_2 activations match the content image's and its Gram
matrices at relu1_1..relu5_1 match the style image's. Extras from the follow-up paper (Gatys et al.
2017): colour preservation, style blends and coarse-to-fine synthesis.
"""
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from multistyle.core.blend import blend_weights
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.losses import content_loss, gram_loss, gram_matrix, total_variation
from multistyle.core.optimize import optimize_input
from multistyle.core.runtime import seed_everything, select_device
from multistyle.core.vgg import LAYER_NAMES, VGGFeatures, check_memory_for_vgg
from multistyle.errors import InputError
from multistyle.image import color
from multistyle.image.io import ImageLike, file_sources, fit_long_side, load_image, resize
from multistyle.image.result import ImageResult

COLOR_METHODS = ("luminance", "histogram")
MIN_SIDE = 16  # relu5_1 sits after four 2x poolings


@dataclass
class GatysConfig:
    size: int = 512  # long side of the output, pixels; 0 keeps the content's size
    steps: int = 500  # iterations at the finest scale; each coarser scale gets twice its finer neighbour's
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (pixel values are in [0, 1])
    content_layers: tuple[str, ...] = ("relu4_2",)
    content_layer_weights: tuple[float, ...] = (1.0,)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] = (0.2, 0.2, 0.2, 0.2, 0.2)
    content_weight: float = 1.0
    style_weight: float = 1e3
    tv_weight: float = 0.0
    style_blend: tuple[float, ...] | None = None  # one weight per style image; None: equal
    init: str = "content"  # or "noise"
    pooling: str = "avg"  # Gatys et al.: average pooling gives better synthesis than max
    preserve_color: str | None = None  # None, "luminance" or "histogram"
    patience: int = 100  # stop when this many iterations improve the loss by < rel_tol; 0 = never
    rel_tol: float = 1e-3
    seed: int = 0
    device: str = "auto"

    def validate(self, n_styles: int) -> None:
        if self.size != 0 and self.size < 16:
            raise InputError(f"--size {self.size} is too small; use at least 16 pixels (or 0 for the content's own size)")
        if self.steps < 1 or self.scales < 1:
            raise InputError("--steps and --scales must be at least 1")
        if self.size and self.size / 2 ** (self.scales - 1) < 16:
            raise InputError(f"--scales {self.scales} makes the coarsest level smaller than 16 pixels at --size {self.size}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise InputError(f"--optimizer must be lbfgs or adam, not {self.optimizer!r}")
        if self.init not in ("content", "noise"):
            raise InputError(f"--init must be content or noise, not {self.init!r}")
        if self.pooling not in ("max", "avg"):
            raise InputError(f"pooling must be max or avg, not {self.pooling!r}")
        if self.preserve_color not in (None, *COLOR_METHODS):
            raise InputError(f"colour preservation must be one of {', '.join(COLOR_METHODS)}")
        if len(self.content_layer_weights) != len(self.content_layers):
            raise InputError("content_layer_weights needs one weight per content layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise InputError("style_layer_weights needs one weight per style layer")
        unknown = sorted(set(self.content_layers + self.style_layers) - set(LAYER_NAMES))
        if unknown:
            raise InputError(f"unknown VGG-19 layer {', '.join(unknown)}; use names like relu4_2 or conv1_1")
        weights = {"content_weight": self.content_weight, "style_weight": self.style_weight, "tv_weight": self.tv_weight,
                   "lr": self.lr or 0.0, **{f"layer weight {w}": w for w in self.content_layer_weights + self.style_layer_weights}}
        negative = [name for name, value in weights.items() if not value >= 0]
        if negative:
            raise InputError(f"{', '.join(negative)} must be finite and non-negative")
        blend_weights(self.style_blend, n_styles)

    def scale_plan(self, long_side: int) -> list[tuple[int, int]]:
        """(long side, iterations) per level for an output `long_side` pixels long, coarsest first."""
        levels = range(self.scales - 1, -1, -1)
        return [(round(long_side / 2**k), self.steps * 2**k) for k in levels]


class GatysLoss:
    """Weighted content + style (+ TV) loss against fixed targets, for one resolution."""

    def __init__(self, vgg: VGGFeatures, config: GatysConfig, content: torch.Tensor, styles: list[torch.Tensor]):
        self.vgg, self.config = vgg, config
        with torch.no_grad():
            self.content_targets = {k: v for k, v in vgg(content).items() if k in config.content_layers}
            # A blend of styles is a blend of their Gram matrices' losses; targets are computed once.
            self.style_targets = []
            for style, weight in zip(styles, blend_weights(config.style_blend, len(styles))):
                feats = vgg(style)
                self.style_targets.append((weight, {name: gram_matrix(feats[name]) for name in config.style_layers}))

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.config
        feats = self.vgg(image)
        content = sum(
            w * content_loss(feats[name], self.content_targets[name])
            for name, w in zip(cfg.content_layers, cfg.content_layer_weights)
        )
        style = sum(
            blend * w * gram_loss(feats[name], grams[name])
            for blend, grams in self.style_targets
            for name, w in zip(cfg.style_layers, cfg.style_layer_weights)
        )
        terms = {"content": cfg.content_weight * content, "style": cfg.style_weight * style}
        if cfg.tv_weight:
            terms["tv"] = cfg.tv_weight * total_variation(image)
        return terms


def stylize(
    content: torch.Tensor,
    styles: list[torch.Tensor],
    config: GatysConfig,
    *,
    show_progress: bool = False,
    on_snapshot: Callable[[int, int, torch.Tensor], None] | None = None,
) -> ImageResult:
    """Stylise a (1, 3, H, W) content image with one or more style images (any sizes, RGB in [0, 1]).

    The output has the content's aspect ratio and `config.size` as its long side (0: the content's size).
    `on_snapshot(level, step, image)` is called after every evaluation.
    """
    config.validate(len(styles))
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    h, w = fit_long_side(*content.shape[-2:], config.size)
    coarsest = min(h, w) / 2 ** (config.scales - 1)
    if coarsest < MIN_SIDE:
        raise InputError(f"the output would be {w}x{h} pixels; VGG-19 needs at least {MIN_SIDE} pixels on the short side "
                         f"(at every one of the {config.scales} scales): use a larger --size, fewer --scales or a wider image")
    check_memory_for_vgg(h, w, device=device)
    vgg = VGGFeatures(tuple(dict.fromkeys(config.content_layers + config.style_layers)), config.pooling).to(device)

    full_content = resize(content, (h, w))
    if config.preserve_color == "histogram":
        styles = [color.match_color_histogram(s, content) for s in styles]
    elif config.preserve_color == "luminance":
        styles = [color.match_luminance(s, content) for s in styles]
        content = color.grey(content)

    start = time.perf_counter()
    history: list[list[dict[str, float]]] = []
    image = None
    for level, (long_side, steps) in enumerate(config.scale_plan(max(h, w))):
        size = fit_long_side(*content.shape[-2:], long_side)
        level_content = resize(content, size).to(device)
        level_styles = [resize(s, fit_long_side(*s.shape[-2:], long_side)).to(device) for s in styles]
        if image is None:
            image = level_content if config.init == "content" else torch.rand(level_content.shape, generator=generator).to(device)
        else:
            image = F.interpolate(image, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        loss = GatysLoss(vgg, config, level_content, level_styles)
        callback = None if on_snapshot is None else (lambda step, x, level=level: on_snapshot(level, step, x))
        result = optimize_input(
            image, loss, steps,
            optimizer=config.optimizer, lr=config.lr, callback=callback,
            patience=config.patience, rel_tol=config.rel_tol,
            description=f"gatys {size[1]}x{size[0]}", show_progress=show_progress,
        )
        image = result.output.clamp(0, 1)
        history.append(result.history)

    image = image.cpu()
    if config.preserve_color == "luminance":
        image = color.with_chroma_of(color.grey(image), full_content)
    seconds = time.perf_counter() - start
    return ImageResult(
        image, "gatys", config_dict(config), losses=history[-1][-1], seconds=seconds, timings={"optimisation": seconds},
        details={"iterations": sum(map(len, history)), "iterations_per_level": [len(h) for h in history]}, history=history,
    )


class Gatys:
    """Gatys, Ecker & Bethge (2016): optimise the image itself to match a content and one or more styles.

    >>> result = Gatys(steps=300)("photo.jpg", "painting.jpg")
    >>> result.image.save("out.png")

    Settings are those of `GatysConfig` (a config object, keyword overrides, or both); each call may
    override them again. Images may be paths, PIL images, NumPy arrays or tensors.
    """

    def __init__(self, config: GatysConfig | None = None, *, show_progress: bool = False, **overrides: Any):
        self.config = with_overrides(config or GatysConfig(), overrides)
        self.show_progress = show_progress

    def __call__(self, content: ImageLike, style: ImageLike | Sequence[ImageLike], *,
                 on_snapshot: Callable[[int, int, torch.Tensor], None] | None = None, **overrides: Any) -> ImageResult:
        """Stylise `content` with `style` (or a list of styles, blended by `style_blend`)."""
        config = with_overrides(self.config, overrides)
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        config.validate(len(styles))
        content_tensor = load_image(content)
        style_tensors = [load_image(s) for s in styles]
        result = stylize(content_tensor, style_tensors, config, show_progress=self.show_progress, on_snapshot=on_snapshot)
        result.sources = file_sources(content, *styles)
        return result
