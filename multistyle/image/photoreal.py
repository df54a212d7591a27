"""Luan, Paris, Shechtman & Bala (CVPR 2017), deep photo style transfer: a reference photo's look (time of day,
weather, colour grade) on another photo, without painterly distortion.

The Gatys objective (content at relu4_2, Gram matrices at relu1_1..relu5_1) with two changes:
- an augmented style loss: a Gram matrix per semantic region (sky to sky, building to building), from colour
  maps of both photos (multistyle.image.semantic), the masks downsampled to every layer; no maps: one region;
- a photorealism term lambda * sum_c V_c[O]^T M V_c[O] (multistyle.image.matting), M the Matting Laplacian of the
  input, built once: it is zero when the output is a locally affine recolouring of the input.
Two stages as in the paper: first without the photorealism term (by default one pass of the AdaIN network with
per-region statistics; or segmented Gatys from the content at `stage1_scale` of the size), then with it, from stage
1's result, at the full size: by default 75 L-BFGS evaluations with the term added to the objective (weight
`photo_weight`). `steps` 0 is the fast path: stage 2 becomes its closed-form counterpart, the result pulled toward a
locally affine recolouring of the input by one sparse solve with the same Laplacian, (M + s E) y = s x per channel
(`postprocess` s, which also runs after an L-BFGS stage 2 when > 0): seconds instead of minutes, but it moves the
colours less far (docs/benchmarks.md, Photoreal against Luan et al.).
"""
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from multistyle.core.config import config_dict, with_overrides
from multistyle.core.optimize import optimize_input
from multistyle.core.pipeline import Pipeline, batched
from multistyle.core.runtime import check_precision, compute_dtype, seed_everything, select_device
from multistyle.core.vgg import LAYER_NAMES, VGGFeatures, check_memory_for_vgg
from multistyle.errors import InputError
from multistyle.image.io import ImageLike, file_sources, fit_long_side, load_image, resize
from multistyle.image.matting import EPSILON, affine_smooth, photorealism_loss, tensor_laplacian
from multistyle.image.result import ImageResult
from multistyle.image.semantic import RegionLoss, check_map, regions, single_region, working_size
from multistyle.samples import resolve_style

FAST_PATH_SMOOTHING = 1e-3  # the closed-form stage 2's strength on the fast path (pairs 01 and 09: docs/benchmarks.md)


@dataclass
class PhotorealConfig:
    # Long side of the output, pixels. None: the content's own size, shrunk to 512 when larger; 0 keeps any size;
    # a number is obeyed (Luan et al. worked at 700).
    size: int | None = None
    # L-BFGS evaluations of stage 2 (the photorealism term in the objective), at the full size. On Luan et al.'s 12
    # pairs at 700 px, 75 from the AdaIN stage 1 moved the colours further than their published results (0.842 against
    # 0.831) and kept more structure (0.742 against 0.726), 2.5-6 minutes a pair on 2 idle cores; 0 is the fast path
    # (the closed-form solve of `postprocess` alone: 94 s a pair, colours moved 0.68). See docs/benchmarks.md.
    steps: int = 75
    # Stage 1: "adain" (one pass of the shipped AdaIN network with each region's relu4_1 statistics taken from the
    # reference's region of the same class: seconds), or "gatys" (the paper's segmented Gatys optimisation: over 20
    # minutes a pair at 700 px on this CPU).
    stage1: str = "adain"
    stage1_steps: int = 150  # evaluations of stage 1 (segmented Gatys, no photorealism term)
    stage1_scale: float = 1.0  # stage 1's size relative to the output's (0.5 is cheaper but much more painterly)
    content_layers: tuple[str, ...] = ("relu4_2",)
    content_layer_weights: tuple[float, ...] = (1.0,)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] = (0.2, 0.2, 0.2, 0.2, 0.2)
    content_weight: float = 1.0
    style_weight: float = 1e3
    photo_weight: float = 1e9  # lambda of the photorealism term in stage 2 (per pixel: the same meaning at every size)
    tv_weight: float = 0.0
    epsilon: float = EPSILON  # the Matting Laplacian's window regulariser
    # > 0: pull the result toward a locally affine recolouring of the input (smaller: stronger); 0: off. None: 1e-3
    # when `steps` is 0 (the fast path's whole stage 2), else off (after the L-BFGS stage 2 it only costs colour).
    postprocess: float | None = None
    optimizer: str = "lbfgs"
    lr: float | None = None
    patience: int = 50  # stop a stage when this many evaluations improve the loss by < rel_tol; 0 = never
    rel_tol: float = 1e-3
    seed: int = 0
    device: str = "auto"
    # fp32, bf16 or auto (bf16 where the CPU has native bf16). fp32 by default: on an AVX-512-BF16 EPYC, bf16 ran
    # pairs 14 and 20 no faster (stage 2 is more than VGG) and moved the colours slightly less (0.797, 0.689 against
    # fp32's 0.801, 0.699): benchmarks/results/photoreal_bf16_probe.md.
    precision: str = "fp32"

    def validate(self) -> None:
        if self.size is not None and self.size != 0 and self.size < 32:
            raise InputError(f"--size {self.size} is too small; use at least 32 pixels (or 0 for the content's own size)")
        if self.stage1 not in ("gatys", "adain"):
            raise InputError(f"stage1 must be gatys or adain, not {self.stage1!r}")
        if self.steps < 0 or self.stage1_steps < 0 or (self.stage1 == "gatys" and self.steps + self.stage1_steps < 1):
            raise InputError("--steps and --stage1-steps must be at least 0, and with --stage1 gatys not both 0")
        if not 0.1 <= self.stage1_scale <= 1:
            raise InputError(f"stage1_scale must be between 0.1 and 1, not {self.stage1_scale}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise InputError(f"--optimizer must be lbfgs or adam, not {self.optimizer!r}")
        check_precision(self.precision)
        if len(self.content_layer_weights) != len(self.content_layers) or len(self.style_layer_weights) != len(self.style_layers):
            raise InputError("content_layer_weights and style_layer_weights need one weight per layer")
        unknown = sorted(set(self.content_layers + self.style_layers) - set(LAYER_NAMES))
        if unknown:
            raise InputError(f"unknown VGG-19 layer {', '.join(unknown)}; use names like relu4_2 or conv1_1")
        weights = {"content_weight": self.content_weight, "style_weight": self.style_weight, "photo_weight": self.photo_weight,
                   "tv_weight": self.tv_weight, "postprocess": self.smoothing, "epsilon": self.epsilon, "lr": self.lr or 0.0}
        negative = [name for name, value in weights.items() if not value >= 0]
        if negative:
            raise InputError(f"{', '.join(negative)} must be finite and non-negative")

    @property
    def smoothing(self) -> float:
        """The closed-form solve's strength this config asks for (`postprocess`, resolved when None)."""
        if self.postprocess is not None:
            return self.postprocess
        return FAST_PATH_SMOOTHING if self.steps == 0 else 0.0


def _stage(vgg, config: PhotorealConfig, content: torch.Tensor, style: torch.Tensor, content_masks: torch.Tensor,
           style_masks: torch.Tensor, start: torch.Tensor, steps: int, extra: Callable[[torch.Tensor], dict] | None,
           name: str, show_progress: bool):
    size = tuple(content.shape[-2:])
    loss = RegionLoss(vgg, content, style, F.interpolate(content_masks, size=size, mode="area"),
                      F.interpolate(style_masks, size=tuple(style.shape[-2:]), mode="area"), style_loss="gram",
                      content_layers=config.content_layers, content_layer_weights=config.content_layer_weights,
                      style_layers=config.style_layers, style_layer_weights=config.style_layer_weights,
                      content_weight=config.content_weight, style_weight=config.style_weight, tv_weight=config.tv_weight)
    objective = loss if extra is None else (lambda image: {**loss(image), **extra(image)})
    return optimize_input(start, objective, steps, optimizer=config.optimizer, lr=config.lr, patience=config.patience,
                          rel_tol=config.rel_tol, description=f"{name} {size[1]}x{size[0]}", show_progress=show_progress)


@torch.no_grad()
def adain_regions(content: torch.Tensor, reference: torch.Tensor, content_masks: torch.Tensor, style_masks: torch.Tensor,
                  device: torch.device) -> torch.Tensor:
    """Stage 1 by the shipped AdaIN network: each content region's relu4_1 features take the mean and std of the
    reference's region of the same class; features outside every shared region stay the content's."""
    from multistyle.image.adain import MULTIPLE, AdaINNetwork, adain, feature_stats, load_decoder
    from multistyle.image.io import pad_to_multiple

    network = AdaINNetwork(load_decoder()).to(device).eval()
    h, w = content.shape[-2:]
    content_features = network.encode(pad_to_multiple(content, MULTIPLE).to(device))
    reference_features = network.encode(reference.to(device))
    target = content_features.clone()
    padded_masks = pad_to_multiple(F.interpolate(content_masks, size=(h, w), mode="area"), MULTIPLE)
    for k in range(content_masks.shape[1]):
        region = F.interpolate(padded_masks[:, k : k + 1], size=content_features.shape[-2:], mode="area") > 0.5
        source = F.interpolate(style_masks[:, k : k + 1], size=reference_features.shape[-2:], mode="area") > 0.5
        if region.any() and source.any():
            stats = feature_stats(reference_features, source.to(reference_features.dtype))
            target = torch.where(region.to(device), adain(content_features, stats, region.to(content_features.dtype)), target)
    return network.decoder(target).float()[..., :h, :w].clamp(0, 1).cpu()


def transfer(content: torch.Tensor, reference: torch.Tensor, config: PhotorealConfig, content_map: torch.Tensor | None = None,
             style_map: torch.Tensor | None = None, *, show_progress: bool = False) -> ImageResult:
    """(1, 3, H, W) content and reference photos in [0, 1] (and optionally their segmentation maps, both or neither)
    -> the content with the reference's look."""
    config.validate()
    if (content_map is None) != (style_map is None):
        raise InputError("give both --content-seg and --style-seg, or neither")
    if content_map is not None:
        check_map(content, content_map, "the content", "the content segmentation")
        check_map(reference, style_map, "the reference", "the style segmentation")
        region_set = regions(content_map, style_map, "the content segmentation", "the style segmentation")
    else:
        region_set = single_region(content, reference)
    device = select_device(config.device)
    seed_everything(config.seed)
    h, w = working_size(*content.shape[-2:], config.size, 512)
    if min(h, w) * config.stage1_scale < 16:
        raise InputError(f"the output would be {w}x{h} pixels: too small for VGG-19 at stage 1; use a larger --size")
    check_memory_for_vgg(h, w, device=device)
    vgg = VGGFeatures(tuple(dict.fromkeys(config.content_layers + config.style_layers)), "avg").to(
        device, compute_dtype(config.precision, device))
    content_masks, style_masks = region_set.content.to(device), region_set.style.to(device)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    history = []

    # Stage 1: segmented Gatys, no photorealism term, from the content (at a reduced size by default), or AdaIN
    small = fit_long_side(h, w, max(16, round(max(h, w) * config.stage1_scale)))
    image = resize(content, small).to(device)
    if config.stage1 == "adain":
        image = adain_regions(image.cpu(), resize(reference, fit_long_side(*reference.shape[-2:], max(small))),
                              content_masks.cpu(), style_masks.cpu(), device)
    elif config.stage1_steps:
        first = _stage(vgg, config, image, resize(reference, fit_long_side(*reference.shape[-2:], max(small))).to(device),
                       content_masks, style_masks, image, config.stage1_steps, None, "photoreal stage 1", show_progress)
        image = first.output.clamp(0, 1)
        history.append(first.history)
    timings["stage1"] = time.perf_counter() - start

    # Stage 2: at the full size, from stage 1's result, with the photorealism term of the input's Laplacian
    tick = time.perf_counter()
    full = resize(content, (h, w))
    needed = (config.steps and config.photo_weight) or config.smoothing
    laplacian = tensor_laplacian(full, config.epsilon) if needed else None
    timings["laplacian"] = time.perf_counter() - tick
    tick = time.perf_counter()
    # Stage 1's result, upsampled, brings the look; its lost detail is the content's: add back the content's high
    # frequencies (content minus its own down-and-up-sampled copy) so stage 2 starts sharp.
    start_image = F.interpolate(image, size=(h, w), mode="bicubic", align_corners=False)
    if small != (h, w):
        blurred = F.interpolate(resize(full, small), size=(h, w), mode="bicubic", align_corners=False)
        start_image = start_image + (full - blurred).to(device)
    image = start_image.clamp(0, 1).cpu()
    if config.steps:
        extra = (lambda x: {"photo": config.photo_weight * photorealism_loss(x, laplacian)}) if config.photo_weight else None
        second = _stage(vgg, config, full.to(device), resize(reference, fit_long_side(*reference.shape[-2:], max(h, w))).to(device),
                        content_masks, style_masks, start_image.clamp(0, 1), config.steps, extra, "photoreal stage 2", show_progress)
        image = second.output.clamp(0, 1).cpu()
        history.append(second.history)
    timings["stage2"] = time.perf_counter() - tick
    if config.smoothing:
        tick = time.perf_counter()
        image = affine_smooth(image, laplacian, config.smoothing)
        timings["postprocess"] = time.perf_counter() - tick
    seconds = time.perf_counter() - start
    return ImageResult(image, "photoreal", config_dict(config), losses=history[-1][-1] if history else {}, seconds=seconds, timings=timings,
                       details={"iterations": sum(map(len, history)), "iterations_per_stage": [len(s) for s in history],
                                "regions": region_set.count}, history=history)


class Photoreal(Pipeline):
    """Luan et al. (2017): a reference photo's look on a content photo, kept photorealistic.

    >>> result = Photoreal(size=256)("photo.jpg", "reference.jpg")                       # one region
    >>> result = Photoreal()("in.jpg", "ref.jpg", content_seg="in_seg.png", style_seg="ref_seg.png")
    >>> result.save("out.png")

    Settings are those of `PhotorealConfig` (a config object, keyword overrides, or both).
    """

    def __init__(self, config: PhotorealConfig | None = None, *, show_progress: bool = False, **overrides: Any):
        self.config = with_overrides(config or PhotorealConfig(), overrides)
        self.show_progress = show_progress

    @batched
    def __call__(self, content: ImageLike, reference: ImageLike, *, content_seg: ImageLike | None = None,
                 style_seg: ImageLike | None = None, **overrides: Any) -> ImageResult:
        config = with_overrides(self.config, overrides)
        config.validate()
        if (content_seg is None) != (style_seg is None):
            raise InputError("give both --content-seg and --style-seg, or neither")
        maps = (load_image(content_seg), load_image(style_seg)) if content_seg is not None else (None, None)
        reference = resolve_style(reference)  # a bundled painting's name becomes its file
        result = transfer(load_image(content), load_image(reference), config, *maps, show_progress=self.show_progress)
        result.sources = file_sources(*(s for s in (content, reference, content_seg, style_seg) if s is not None))
        return result
