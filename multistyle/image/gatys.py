"""Gatys, Ecker & Bethge (CVPR 2016): style transfer by optimising the image itself.

The image is optimised so that its VGG-19 relu4_2 activations match the content image's and its Gram
matrices at relu1_1..relu5_1 match the style image's. Extras from the follow-up paper (Gatys et al.
2017): colour preservation, style blends and coarse-to-fine synthesis.
"""
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from multistyle.core.blend import blend_weights
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.losses import MRFTarget, content_loss, gram_loss, gram_matrix, mean_std_loss, total_variation
from multistyle.core.optimize import optimize_input
from multistyle.core.pipeline import Pipeline, batched
from multistyle.core.runtime import check_precision, compute_dtype, seed_everything, select_device
from multistyle.core.vgg import LAYER_NAMES, VGGFeatures, check_memory_for_vgg
from multistyle.errors import InputError
from multistyle.image import color
from multistyle.image.io import ImageLike, file_sources, fit_long_side, load_image, output_size, resize
from multistyle.image.result import ImageResult
from multistyle.samples import resolve_style

COLOR_METHODS = ("luminance", "histogram")
STYLE_LOSSES = ("gram", "mrf", "meanstd")
# The losses differ in scale: a Gram term is orders of magnitude smaller than a patch distance. Gram's is Gatys et al.'s
# usual balance; MRF's keeps more of the photo's layout than Gram while beating it on patch similarity
# (benchmarks/mrf_vs_gram.py at 384 px).
DEFAULT_STYLE_WEIGHTS = {"gram": 1e3, "mrf": 3.0, "meanstd": 1e3}
MRF_LAYERS = ("relu3_1", "relu4_1")  # Li & Wand's patch layers, used when style_loss is mrf and the layers are the default
MIN_SIDE = 16  # relu5_1 sits after four 2x poolings


@dataclass
class GatysConfig:
    # Long side of the output, pixels. None: the content's own size, shrunk to 512 when larger
    # (multistyle.image.io.output_size); 0 keeps any size; a number is obeyed.
    size: int | None = None
    steps: int = 500  # iterations at the finest scale; each coarser scale gets twice its finer neighbour's
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (pixel values are in [0, 1])
    content_layers: tuple[str, ...] = ("relu4_2",)
    content_layer_weights: tuple[float, ...] = (1.0,)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] = (0.2, 0.2, 0.2, 0.2, 0.2)
    style_loss: str = "gram"  # gram (Gatys et al.), mrf (Li & Wand's patch matching) or meanstd (AdaIN's moments)
    mrf_rotations: tuple[float, ...] = (0.0,)  # mrf: the style's patches also from copies rotated by these degrees
    mrf_scales: tuple[float, ...] = (1.0,)  # mrf: ... and scaled by these factors (Li & Wand: a few of each)
    style_scale: float = 1.0  # style images at this multiple of the output's size (smaller: finer strokes)
    style_size: int = 0  # > 0: style images at this long side in pixels at the finest scale, whatever the output's size
    content_weight: float = 1.0
    style_weight: float | None = None  # None: the style loss's own scale, DEFAULT_STYLE_WEIGHTS
    tv_weight: float = 0.0
    style_blend: tuple[float, ...] | None = None  # one weight per style image; None: equal
    init: str = "content"  # content, noise, or the path of an image to start from
    pooling: str = "avg"  # Gatys et al.: average pooling gives better synthesis than max
    preserve_color: str | None = None  # None, "luminance" or "histogram"
    patience: int = 100  # stop when this many iterations improve the loss by < rel_tol; 0 = never
    rel_tol: float = 1e-3
    seed: int = 0
    device: str = "auto"
    # VGG-19's weights and activations in bf16 or fp32 (the image, the Grams and the losses stay float32); "auto" is
    # bf16 on CPUs with AMX or AVX-512-BF16, where an evaluation at 512 px takes about half the time, else fp32.
    precision: str = "auto"

    def validate(self, n_styles: int) -> None:
        if self.size is not None and self.size != 0 and self.size < 16:
            raise InputError(f"--size {self.size} is too small; use at least 16 pixels (or 0 for the content's own size)")
        if self.steps < 1 or self.scales < 1:
            raise InputError("--steps and --scales must be at least 1")
        if self.size and self.size / 2 ** (self.scales - 1) < 16:
            raise InputError(f"--scales {self.scales} makes the coarsest level smaller than 16 pixels at --size {self.size}")
        check_precision(self.precision)
        if self.optimizer not in ("lbfgs", "adam"):
            raise InputError(f"--optimizer must be lbfgs or adam, not {self.optimizer!r}")
        if self.init not in ("content", "noise") and not Path(self.init).is_file():
            raise InputError(f"--init must be content, noise or an image file, not {self.init!r}")
        if self.style_loss not in STYLE_LOSSES:
            raise InputError(f"--style-loss must be one of {', '.join(STYLE_LOSSES)}, not {self.style_loss!r}")
        if not self.mrf_rotations or not self.mrf_scales or any(abs(r) > 90 for r in self.mrf_rotations) \
                or any(not 0.25 <= f <= 4 for f in self.mrf_scales):
            raise InputError("mrf_rotations must be degrees in [-90, 90] and mrf_scales factors in [0.25, 4] (non-empty lists)")
        if self.style_size and not 16 <= self.style_size <= 8192:
            raise InputError(f"--style-size must be between 16 and 8192 pixels (or 0), not {self.style_size}")
        if not 0.05 <= self.style_scale <= 4:
            raise InputError(f"--style-scale must be between 0.05 and 4, not {self.style_scale}")
        if self.pooling not in ("max", "avg"):
            raise InputError(f"pooling must be max or avg, not {self.pooling!r}")
        if self.patience < 0:
            raise InputError(f"--patience must be 0 (never stop early) or more, not {self.patience}")
        if self.preserve_color not in (None, *COLOR_METHODS):
            raise InputError(f"colour preservation must be one of {', '.join(COLOR_METHODS)}")
        if len(self.content_layer_weights) != len(self.content_layers):
            raise InputError("content_layer_weights needs one weight per content layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise InputError("style_layer_weights needs one weight per style layer")
        unknown = sorted(set(self.content_layers + self.style_layers) - set(LAYER_NAMES))
        if unknown:
            raise InputError(f"unknown VGG-19 layer {', '.join(unknown)}; use names like relu4_2 or conv1_1")
        weights = {"content_weight": self.content_weight, "style_weight": self.style_weight_value, "tv_weight": self.tv_weight,
                   "lr": self.lr or 0.0, **{f"layer weight {w}": w for w in self.content_layer_weights + self.style_layer_weights}}
        negative = [name for name, value in weights.items() if not value >= 0]
        if negative:
            raise InputError(f"{', '.join(negative)} must be finite and non-negative")
        blend_weights(self.style_blend, n_styles)

    @property
    def style_weight_value(self) -> float:
        return DEFAULT_STYLE_WEIGHTS[self.style_loss] if self.style_weight is None else self.style_weight

    def style_layer_plan(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """(layers, weights) of the style term: Li & Wand's relu3_1 and relu4_1 for mrf unless others were chosen."""
        if self.style_loss == "mrf" and self.style_layers == GatysConfig.style_layers:
            return MRF_LAYERS, (0.5, 0.5)
        return self.style_layers, self.style_layer_weights

    def scale_plan(self, long_side: int) -> list[tuple[int, int]]:
        """(long side, iterations) per level for an output `long_side` pixels long, coarsest first."""
        levels = range(self.scales - 1, -1, -1)
        return [(round(long_side / 2**k), self.steps * 2**k) for k in levels]


def style_target(features: torch.Tensor, kind: str):
    """What the style term compares against, computed once per style image and layer."""
    if kind == "gram":
        return gram_matrix(features)
    if kind == "mrf":
        return MRFTarget(features)
    return features  # meanstd: the moments are taken in the loss


def style_copies(style: torch.Tensor, rotations: Sequence[float], scales: Sequence[float]) -> list[torch.Tensor]:
    """The style image rotated by each angle (degrees, cropped to the largest centred rectangle free of the
    rotation's empty corners) and resized by each factor, as Li & Wand (2016) enlarge their patch bank."""
    copies = []
    h, w = style.shape[-2:]
    for angle in rotations:
        rotated = style
        if angle:
            rotated = TF.rotate(style, angle, interpolation=TF.InterpolationMode.BILINEAR)
            t = math.radians(abs(angle))
            keep = 1 / (math.cos(t) + math.sin(t) * max(h / w, w / h))
            rotated = TF.center_crop(rotated, [max(MIN_SIDE, int(h * keep)), max(MIN_SIDE, int(w * keep))])
        for factor in scales:
            size = (max(MIN_SIDE, round(rotated.shape[-2] * factor)), max(MIN_SIDE, round(rotated.shape[-1] * factor)))
            copies.append(rotated if factor == 1 else resize(rotated, size))
    return copies


def style_term(features: torch.Tensor, target, kind: str) -> torch.Tensor:
    if kind == "gram":
        return gram_loss(features, target)
    if kind == "mrf":
        return target.loss(features)
    return mean_std_loss(features, target)


class GatysLoss:
    """Weighted content + style (+ TV) loss against fixed targets, for one resolution. Without a content image
    (texture synthesis) the content term is left out."""

    def __init__(self, vgg: VGGFeatures, config: GatysConfig, content: torch.Tensor | None, styles: list[torch.Tensor]):
        self.vgg, self.config = vgg, config
        self.layers, self.layer_weights = config.style_layer_plan()
        with torch.no_grad():
            self.content_targets = {} if content is None else {k: v for k, v in vgg(content).items() if k in config.content_layers}
            # A blend of styles is a blend of their losses; targets are computed once.
            self.style_targets = []
            for style, weight in zip(styles, blend_weights(config.style_blend, len(styles))):
                if config.style_loss == "mrf":  # one patch bank from every rotated and scaled copy
                    copies = [vgg(c) for c in style_copies(style, config.mrf_rotations, config.mrf_scales)]
                    targets = {name: MRFTarget([c[name] for c in copies]) for name in self.layers}
                else:
                    feats = vgg(style)
                    targets = {name: style_target(feats[name], config.style_loss) for name in self.layers}
                self.style_targets.append((weight, targets))

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.config
        feats = self.vgg(image)
        style = sum(
            blend * w * style_term(feats[name], targets[name], cfg.style_loss)
            for blend, targets in self.style_targets
            for name, w in zip(self.layers, self.layer_weights)
        )
        terms = {"style": cfg.style_weight_value * style}
        if self.content_targets:
            terms["content"] = cfg.content_weight * sum(
                w * content_loss(feats[name], self.content_targets[name])
                for name, w in zip(cfg.content_layers, cfg.content_layer_weights)
            )
        if cfg.tv_weight:
            terms["tv"] = cfg.tv_weight * total_variation(image)
        return terms


def _with_extra(loss: GatysLoss, extra: Callable[[torch.Tensor], dict[str, torch.Tensor]]):
    return lambda image: {**loss(image), **extra(image)}


def initial_image(init: str, content: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The optimisation's start: the content, uniform noise, or an image file resized to the content's size."""
    if init == "content":
        return content
    if init == "noise":
        return torch.rand(content.shape, generator=generator)
    return resize(load_image(init), tuple(content.shape[-2:]))


def stylize(
    content: torch.Tensor,
    styles: list[torch.Tensor],
    config: GatysConfig,
    *,
    show_progress: bool = False,
    on_snapshot: Callable[[int, int, torch.Tensor, dict[str, float]], None] | None = None,
    texture: bool = False,
    init_image: torch.Tensor | None = None,
    extra_loss: Callable[[torch.Tensor], dict[str, torch.Tensor]] | None = None,
) -> ImageResult:
    """Stylise a (1, 3, H, W) content image with one or more style images (any sizes, RGB in [0, 1]).

    The output has the content's aspect ratio, at the size `config.size` gives (see GatysConfig.size).
    `on_snapshot(level, step, image, loss_terms)` is called after every evaluation (raise in it to stop). With `texture`, the content only
    sets the output's size: Gatys et al. (2015)'s texture synthesis from noise, style term alone. `init_image`
    (any size, resized) replaces `config.init` as the start; `extra_loss(image)` adds weighted terms to the
    loss at the last (full-size) scale, e.g. video's temporal consistency.
    """
    config.validate(len(styles))
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    h, w = output_size(*content.shape[-2:], config.size)
    coarsest = min(h, w) / 2 ** (config.scales - 1)
    if coarsest < MIN_SIDE:
        raise InputError(f"the output would be {w}x{h} pixels; VGG-19 needs at least {MIN_SIDE} pixels on the short side "
                         f"(at every one of the {config.scales} scales): use a larger --size, fewer --scales or a wider image")
    check_memory_for_vgg(h, w, device=device)
    layers = tuple(dict.fromkeys(config.content_layers + config.style_layer_plan()[0]))
    vgg = VGGFeatures(layers, config.pooling).to(device, compute_dtype(config.precision, device))

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
        style_side = max(16, round((config.style_size * long_side / max(h, w)) if config.style_size else long_side * config.style_scale))
        level_styles = [resize(s, fit_long_side(*s.shape[-2:], style_side)).to(device) for s in styles]
        if image is None and init_image is not None:
            image = resize(init_image, size).to(device).contiguous()
        elif image is None:
            image = initial_image("noise" if texture and config.init == "content" else config.init, level_content, generator).to(device)
        else:
            image = F.interpolate(image, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        loss = GatysLoss(vgg, config, None if texture else level_content, level_styles)
        if extra_loss is not None and level == config.scales - 1:
            loss = _with_extra(loss, extra_loss)
        callback = None if on_snapshot is None else (lambda step, x, terms, level=level: on_snapshot(level, step, x, terms))
        result = optimize_input(
            image, loss, steps,
            optimizer=config.optimizer, lr=config.lr, callback=callback,
            patience=config.patience, rel_tol=config.rel_tol,
            description=f"gatys {size[1]}x{size[0]}", show_progress=show_progress,
        )
        image = result.output.clamp(0, 1)
        history.append(result.history)

    image = image.cpu()
    if config.preserve_color == "luminance" and not texture:
        image = color.with_chroma_of(color.grey(image), full_content)
    seconds = time.perf_counter() - start
    return ImageResult(
        image, "gatys-texture" if texture else "gatys", config_dict(config), losses=history[-1][-1], seconds=seconds, timings={"optimisation": seconds},
        details={"iterations": sum(map(len, history)), "iterations_per_level": [len(h) for h in history]}, history=history,
    )


class Gatys(Pipeline):
    """Gatys, Ecker & Bethge (2016): optimise the image itself to match a content and one or more styles.

    >>> result = Gatys(steps=300)("photo.jpg", "painting.jpg")
    >>> result.image.save("out.png")

    Settings are those of `GatysConfig` (a config object, keyword overrides, or both); each call may
    override them again. Images may be paths, PIL images, NumPy arrays or tensors; a list of contents gives a list of
    results.
    """

    def __init__(self, config: GatysConfig | None = None, *, show_progress: bool = False, **overrides: Any):
        self.config = with_overrides(config or GatysConfig(), overrides)
        self.show_progress = show_progress

    @batched
    def __call__(self, content: ImageLike, style: ImageLike | Sequence[ImageLike], *,
                 on_snapshot: Callable[[int, int, torch.Tensor, dict[str, float]], None] | None = None,
                 init_image: torch.Tensor | None = None, extra_loss: Callable[[torch.Tensor], dict[str, torch.Tensor]] | None = None,
                 **overrides: Any) -> ImageResult:
        """Stylise `content` with `style` (or a list of styles, blended by `style_blend`). `init_image` and
        `extra_loss` as in `stylize` (the video module's hooks)."""
        config = with_overrides(self.config, overrides)
        styles = [resolve_style(s) for s in (style if isinstance(style, (list, tuple)) else [style])]
        config.validate(len(styles))
        content_tensor = load_image(content)
        style_tensors = [load_image(s) for s in styles]
        result = stylize(content_tensor, style_tensors, config, show_progress=self.show_progress, on_snapshot=on_snapshot,
                         init_image=init_image, extra_loss=extra_loss)
        result.sources = file_sources(content, *styles)
        return result

    def texture(self, style: ImageLike | Sequence[ImageLike], size: tuple[int, int] = (256, 256), **overrides: Any) -> ImageResult:
        """Gatys et al. (2015): a new (height, width) image with `style`'s Gram statistics, grown from noise
        (coarse to fine with `scales`). Overrides as for a call; `size` here is the output's (height, width)."""
        height, width = size
        if min(height, width) < MIN_SIDE:
            raise InputError(f"a texture needs at least {MIN_SIDE} pixels a side, not {width}x{height}")
        config = with_overrides(self.config, {**overrides, "size": max(height, width)})
        styles = [resolve_style(s) for s in (style if isinstance(style, (list, tuple)) else [style])]
        config.validate(len(styles))
        check_memory_for_vgg(height, width, hint="use a smaller --size")  # before the canvas: 200000x200000 is 480 GB
        canvas = torch.zeros(1, 3, height, width)
        result = stylize(canvas, [load_image(s) for s in styles], config, show_progress=self.show_progress, texture=True)
        result.sources = file_sources(*styles)
        return result
