"""Gatys, Ecker & Bethge (CVPR 2016): style transfer by optimising the image itself.

The image is optimised so that its VGG-19 relu4_2 activations match the content image's and its Gram
matrices at relu1_1..relu5_1 match the style image's. Extras from the follow-up paper (Gatys et al.
2017): colour preservation, style blends and coarse-to-fine synthesis.
"""
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from multistyle import UserError
from multistyle.core.checkpoint import write_json
from multistyle.core.config import config_dict
from multistyle.core.losses import content_loss, gram_loss, gram_matrix, total_variation
from multistyle.core.optimize import optimize_input
from multistyle.core.runtime import seed_everything, select_device
from multistyle.image import color
from multistyle.image.io import check_memory_for_vgg, check_output_path, fit_long_side, load_image, resize, save_image
from multistyle.image.vgg import VGGFeatures

COLOR_METHODS = ("luminance", "histogram")


@dataclass
class GatysConfig:
    size: int = 512  # long side of the output, pixels
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
        if self.size < 16:
            raise UserError(f"--size {self.size} is too small; use at least 16 pixels")
        if self.steps < 1 or self.scales < 1:
            raise UserError("--steps and --scales must be at least 1")
        if self.size / 2 ** (self.scales - 1) < 16:
            raise UserError(f"--scales {self.scales} makes the coarsest level smaller than 16 pixels at --size {self.size}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise UserError(f"--optimizer must be lbfgs or adam, not {self.optimizer!r}")
        if self.init not in ("content", "noise"):
            raise UserError(f"--init must be content or noise, not {self.init!r}")
        if self.pooling not in ("max", "avg"):
            raise UserError(f"pooling must be max or avg, not {self.pooling!r}")
        if self.preserve_color not in (None, *COLOR_METHODS):
            raise UserError(f"colour preservation must be one of {', '.join(COLOR_METHODS)}")
        if len(self.content_layer_weights) != len(self.content_layers):
            raise UserError("content_layer_weights needs one weight per content layer")
        if len(self.style_layer_weights) != len(self.style_layers):
            raise UserError("style_layer_weights needs one weight per style layer")
        if n_styles < 1:
            raise UserError("give at least one style image")
        if self.style_blend is not None:
            if len(self.style_blend) != n_styles:
                raise UserError(f"--style-blend has {len(self.style_blend)} weights for {n_styles} style images")
            if any(w < 0 for w in self.style_blend) or sum(self.style_blend) <= 0:
                raise UserError("--style-blend weights must be non-negative with a positive sum")

    def blend_weights(self, n_styles: int) -> list[float]:
        weights = self.style_blend or (1.0,) * n_styles
        return [w / sum(weights) for w in weights]

    def scale_plan(self) -> list[tuple[int, int]]:
        """(long side, iterations) per level, coarsest first."""
        levels = range(self.scales - 1, -1, -1)
        return [(round(self.size / 2**k), self.steps * 2**k) for k in levels]


@dataclass
class GatysResult:
    image: torch.Tensor
    history: list[list[dict[str, float]]] = field(default_factory=list)  # per scale, per iteration
    seconds: float = 0.0

    @property
    def final_terms(self) -> dict[str, float]:
        return self.history[-1][-1]

    @property
    def iterations(self) -> int:
        return sum(len(h) for h in self.history)


class GatysLoss:
    """Weighted content + style (+ TV) loss against fixed targets, for one resolution."""

    def __init__(self, vgg: VGGFeatures, config: GatysConfig, content: torch.Tensor, styles: list[torch.Tensor]):
        self.vgg, self.config = vgg, config
        with torch.no_grad():
            self.content_targets = {k: v for k, v in vgg(content).items() if k in config.content_layers}
            # A blend of styles is a blend of their Gram matrices' losses; targets are computed once.
            self.style_targets = []
            for style, weight in zip(styles, config.blend_weights(len(styles))):
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
    show_progress: bool = True,
    on_snapshot=None,
) -> GatysResult:
    """Stylise a (1, 3, H, W) content image with one or more style images (any sizes, RGB in [0, 1]).

    The output has the content's aspect ratio and `config.size` as its long side.
    `on_snapshot(level, step, image)` is called after every iteration.
    """
    config.validate(len(styles))
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    h, w = fit_long_side(*content.shape[-2:], config.size)
    check_memory_for_vgg(h, w)
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
    for level, (long_side, steps) in enumerate(config.scale_plan()):
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
    return GatysResult(image, history, time.perf_counter() - start)


def stylize_files(
    content_path: str | Path,
    style_paths: list[str | Path],
    output_path: str | Path,
    config: GatysConfig,
    *,
    save_every: int = 0,
    show_progress: bool = True,
) -> GatysResult:
    """Files in, image and a JSON report out (`OUT` and `OUT.json`)."""
    output_path = check_output_path(output_path)
    config.validate(len(style_paths))
    content = load_image(content_path)
    styles = [load_image(p) for p in style_paths]

    def snapshot(level: int, step: int, image: torch.Tensor) -> None:
        if step % save_every == 0:
            save_image(image.clamp(0, 1).cpu(), output_path.with_name(f"{output_path.stem}_level{level}_{step:05d}{output_path.suffix}"))

    result = stylize(content, styles, config, show_progress=show_progress, on_snapshot=snapshot if save_every else None)
    save_image(result.image, output_path)
    write_json(
        output_path.with_suffix(".json"),
        {
            "method": "gatys",
            "content": str(content_path),
            "styles": [str(p) for p in style_paths],
            "output": str(output_path),
            "size": list(result.image.shape[-2:]),
            "config": config_dict(config),
            "iterations": result.iterations,
            "iterations_per_level": [len(h) for h in result.history],
            "final_loss_terms": result.final_terms,
            "seconds": round(result.seconds, 2),
        },
    )
    return result
