"""Semantic maps: region-to-region style transfer (Champandard 2016) and the per-region Gram loss of Luan et al. 2017.

A map is an image painted in a few flat colours, one per region ("sky", "building"); the same colour means the
same region in the content's (or doodle's) map and in the style's. Colours become region classes by grouping
near-equal colours (Luan et al.'s maps are near-pure colours with noise and anti-aliased edges), each pixel
going to its nearest class. Two uses:
- per-region Gram matrices: each region's Gram matrix of the output is matched to the same region's of the style,
  the masks downsampled to every layer (Luan et al.'s augmented style loss);
- MRF patch matching with the region channels appended to the features (weighted), so an output patch matches
  style patches of its own region (Champandard's semantic style transfer); with no content photo, a map alone
  becomes a painting in the style (`doodle`).
"""
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from multistyle.core.config import config_dict, with_overrides
from multistyle.core.losses import MRFTarget, content_loss, patches, total_variation
from multistyle.core.optimize import optimize_input
from multistyle.core.runtime import compute_dtype, seed_everything, select_device
from multistyle.core.vgg import VGGFeatures, check_memory_for_vgg
from multistyle.errors import InputError
from multistyle.image.io import ImageLike, file_sources, fit_long_side, load_image, resize
from multistyle.image.result import ImageResult

MIN_SHARE = 0.005  # a colour is a region when it covers at least this share of a map's pixels
MERGE = 0.2  # colours closer than this (largest channel difference, 0..1) are one region
ASPECT_TOLERANCE = 0.02  # a map must have its image's proportions within this relative difference
MAP_WEIGHT = 10.0  # Champandard's semantic weight: the region channels' energy relative to the features'


def working_size(height: int, width: int, size: int | None, largest: int = 512) -> tuple[int, int]:
    """(H, W) to work at: `size` None keeps the image's size up to a `largest`-px long side (larger ones shrink to it),
    0 keeps any size, a number is the long side (the rule of every image method)."""
    if size is None:
        return fit_long_side(height, width, largest if max(height, width) > largest else 0)
    return fit_long_side(height, width, size)


def check_map(image: torch.Tensor, seg: torch.Tensor, image_name: str, map_name: str) -> None:
    """A map must have its image's proportions (it is resized to the image with nearest-neighbour sampling)."""
    (ih, iw), (mh, mw) = image.shape[-2:], seg.shape[-2:]
    if abs((iw / ih) / (mw / mh) - 1) > ASPECT_TOLERANCE:
        raise InputError(f"{map_name} is {mw}x{mh} but {image_name} is {iw}x{ih}: a map must have its image's size "
                         "(or at least its proportions)")


def region_colours(*maps: torch.Tensor, min_share: float = MIN_SHARE, merge: float = MERGE) -> np.ndarray:
    """(K, 3) region colours found in (1, 3, H, W) maps in [0, 1]: colour bins (1/8 per channel) covering at least
    `min_share` of some map's pixels, each bin's mean colour, bins closer than `merge` merged (most common first)."""
    found: list[tuple[int, np.ndarray]] = []
    for seg in maps:
        pixels = seg[0].flatten(1).T.double().numpy()
        bins = np.round(pixels * 8).astype(np.int64) @ np.array([81, 9, 1])
        values, inverse, counts = np.unique(bins, return_inverse=True, return_counts=True)
        for i in np.flatnonzero(counts >= min_share * len(pixels)):
            found.append((int(counts[i]), pixels[inverse.ravel() == i].mean(axis=0)))
    found.sort(key=lambda item: -item[0])
    colours: list[np.ndarray] = []
    for _, colour in found:
        if all(np.abs(colour - kept).max() >= merge for kept in colours):
            colours.append(colour)
    return np.array(colours).reshape(-1, 3)


def label_map(seg: torch.Tensor, colours: np.ndarray) -> torch.Tensor:
    """(H, W) class index of every pixel of a (1, 3, H, W) map: its nearest region colour."""
    pixels = seg[0].permute(1, 2, 0).double()
    distance = (pixels[:, :, None, :] - torch.from_numpy(colours)[None, None]).abs().amax(-1)
    return distance.argmin(-1)


@dataclass
class Regions:
    """Region masks of a content (or doodle) map and a style map, over their shared classes only."""
    content: torch.Tensor  # (1, K, H, W) one-hot, in the content map's resolution
    style: torch.Tensor  # (1, K, h, w)
    colours: np.ndarray  # (K, 3)

    @property
    def count(self) -> int:
        return self.content.shape[1]


def regions(content_map: torch.Tensor, style_map: torch.Tensor, content_name: str = "the content map",
            style_name: str = "the style map") -> Regions:
    """The classes both maps share, as one-hot masks; an error when they share none. Content regions whose colour
    the style map lacks get no style term (Luan et al.)."""
    colours = region_colours(content_map, style_map)
    content_labels, style_labels = label_map(content_map, colours), label_map(style_map, colours)
    shared = [k for k in range(len(colours))
              if (content_labels == k).any() and (style_labels == k).float().mean() >= MIN_SHARE / 5]
    if not shared:
        raise InputError(f"{content_name} and {style_name} share no region colour: paint each region in the same "
                         "colour in both maps")
    one_hot = lambda labels: torch.stack([(labels == k).float() for k in shared])[None]  # noqa: E731
    return Regions(one_hot(content_labels), one_hot(style_labels), colours[shared])


def single_region(content: torch.Tensor, style: torch.Tensor) -> Regions:
    """No maps: everything is one region."""
    return Regions(torch.ones(1, 1, *content.shape[-2:]), torch.ones(1, 1, *style.shape[-2:]), np.ones((1, 3)))


def masks_at(masks: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Masks (1, K, H, W) at a feature map's (h, w): area-averaged, so a border cell is partly in each region."""
    return F.interpolate(masks, size=tuple(size), mode="area") if tuple(masks.shape[-2:]) != tuple(size) else masks


def masked_grams(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w) features, (1, K, h, w) masks -> (K, C, C): each region's Gram matrix, normalised by the channels
    and the region's area (an empty region's is zero)."""
    flat = features[0].flatten(1)  # (C, P)
    weights = masks[0].flatten(1)  # (K, P)
    grams = torch.einsum("kp,cp,dp->kcd", weights, flat, flat)
    return grams / (flat.shape[0] * weights.sum(1).clamp_min(1e-8))[:, None, None]


def masked_gram_loss(features: torch.Tensor, masks: torch.Tensor, target: torch.Tensor,
                     region_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over regions of the mean squared difference between the region's Gram matrix and the target's
    (K, C, C). Features outside a region's mask do not enter its term."""
    per_region = (masked_grams(features, masks) - target).square().mean((1, 2))
    if region_weights is None:
        return per_region.mean()
    return (per_region * region_weights).sum() / region_weights.sum().clamp_min(1e-8)


class RegionMRFTarget:
    """Li & Wand's patch bank with Champandard's region channels: the style's features with `weight` x (their mean
    norm per position) x the one-hot masks appended, so normalised cross-correlation prefers style patches of the
    output patch's own region. The loss pulls the feature part only (the map part is fixed)."""

    def __init__(self, style_features: torch.Tensor, style_masks: torch.Tensor, weight: float = MAP_WEIGHT):
        masks = masks_at(style_masks, style_features.shape[-2:])
        self.scale = weight * float(style_features.norm(dim=1).mean().clamp_min(1e-8))
        self.channels = style_features.shape[1]
        self.bank = MRFTarget(torch.cat([style_features, self.scale * masks], 1))
        self.feature_patches = patches(style_features)
        self.labels = patches(masks).view(len(self.feature_patches), masks.shape[1], -1)[:, :, 4].argmax(1)  # centre pixel

    def augmented(self, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return torch.cat([features, self.scale * masks_at(masks, features.shape[-2:])], 1)

    def nearest(self, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return self.bank.nearest(self.augmented(features, masks))

    def loss(self, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        matched = self.feature_patches[self.nearest(features, masks)]
        return F.mse_loss(patches(features), matched)


class RegionLoss:
    """Content + per-region style (+ TV) for one resolution: `gram` (per-region Gram matrices) or `mrf` (patches
    matched within regions). Without a content image (a doodle) the content term is left out."""

    def __init__(self, vgg: VGGFeatures, content: torch.Tensor | None, style: torch.Tensor, content_masks: torch.Tensor,
                 style_masks: torch.Tensor, *, style_loss: str, content_layers: Sequence[str], content_layer_weights: Sequence[float],
                 style_layers: Sequence[str], style_layer_weights: Sequence[float], content_weight: float, style_weight: float,
                 tv_weight: float = 0.0, map_weight: float = MAP_WEIGHT):
        self.vgg, self.kind, self.masks = vgg, style_loss, content_masks
        self.content_layers, self.content_layer_weights = tuple(content_layers), tuple(content_layer_weights)
        self.style_layers, self.style_layer_weights = tuple(style_layers), tuple(style_layer_weights)
        self.weights = (content_weight, style_weight, tv_weight)
        with torch.no_grad():
            self.content_targets = {} if content is None else {k: v for k, v in vgg(content).items() if k in self.content_layers}
            feats = vgg(style)
            if style_loss == "mrf":
                self.targets = {name: RegionMRFTarget(feats[name], style_masks, map_weight) for name in self.style_layers}
            else:
                self.targets = {name: masked_grams(feats[name], masks_at(style_masks, feats[name].shape[-2:]))
                                for name in self.style_layers}
            # regions weigh by their share of the output, so a sliver does not count as much as the sky
            self.region_weights = content_masks.mean((0, 2, 3))

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        content_weight, style_weight, tv_weight = self.weights
        feats = self.vgg(image)
        if self.kind == "mrf":
            style = sum(w * self.targets[name].loss(feats[name], self.masks) for name, w in zip(self.style_layers, self.style_layer_weights))
        else:
            style = sum(w * masked_gram_loss(feats[name], masks_at(self.masks, feats[name].shape[-2:]), self.targets[name], self.region_weights)
                        for name, w in zip(self.style_layers, self.style_layer_weights))
        terms = {"style": style_weight * style}
        if self.content_targets:
            terms["content"] = content_weight * sum(w * content_loss(feats[name], self.content_targets[name])
                                                    for name, w in zip(self.content_layers, self.content_layer_weights))
        if tv_weight:
            terms["tv"] = tv_weight * total_variation(image)
        return terms


def stylize_regions(content: torch.Tensor | None, style: torch.Tensor, content_map: torch.Tensor, style_map: torch.Tensor,
                    config, *, map_weight: float = MAP_WEIGHT, show_progress: bool = False) -> ImageResult:
    """Gatys or Li & Wand transfer (a GatysConfig's settings: one style, no blends or colour preservation) with
    region-to-region matching. `content` None: a doodle, grown from noise to the content map's size."""
    config.validate(1)
    if config.preserve_color:
        raise InputError("semantic maps do not combine with --preserve-color")
    check_map(content if content is not None else content_map, content_map, "the content", "the content map")
    check_map(style, style_map, "the style", "the style map")
    region_set = regions(content_map, style_map)
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    reference = content if content is not None else content_map
    h, w = working_size(*reference.shape[-2:], config.size)
    if min(h, w) / 2 ** (config.scales - 1) < 16:
        raise InputError(f"the output would be {w}x{h} pixels; VGG-19 needs at least 16 pixels on the short side at every scale")
    check_memory_for_vgg(h, w, device=device)
    style_layers, style_layer_weights = config.style_layer_plan()
    vgg = VGGFeatures(tuple(dict.fromkeys(config.content_layers + style_layers)), config.pooling).to(
        device, compute_dtype(config.precision, device))
    start = time.perf_counter()
    history, image = [], None
    for long_side, steps in config.scale_plan(max(h, w)):
        size = fit_long_side(h, w, long_side)
        style_side = max(16, round(config.style_size * long_side / max(h, w) if config.style_size else long_side * config.style_scale))
        level_style = resize(style, fit_long_side(*style.shape[-2:], style_side)).to(device)
        level_content = None if content is None else resize(content, size).to(device)
        content_masks = F.interpolate(region_set.content, size=size, mode="area").to(device)
        style_masks = F.interpolate(region_set.style, size=level_style.shape[-2:], mode="area").to(device)
        if image is None:
            image = (torch.rand(1, 3, *size, generator=generator) if content is None or config.init == "noise"
                     else level_content if config.init == "content" else resize(load_image(config.init), size)).to(device)
        else:
            image = F.interpolate(image, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        loss = RegionLoss(vgg, level_content, level_style, content_masks, style_masks, style_loss=config.style_loss,
                          content_layers=config.content_layers, content_layer_weights=config.content_layer_weights,
                          style_layers=style_layers, style_layer_weights=style_layer_weights,
                          content_weight=config.content_weight, style_weight=config.style_weight_value,
                          tv_weight=config.tv_weight, map_weight=map_weight)
        result = optimize_input(image, loss, steps, optimizer=config.optimizer, lr=config.lr, patience=config.patience,
                                rel_tol=config.rel_tol, description=f"regions {size[1]}x{size[0]}", show_progress=show_progress)
        image = result.output.clamp(0, 1)
        history.append(result.history)
    seconds = time.perf_counter() - start
    return ImageResult(image.cpu(), "gatys-doodle" if content is None else "gatys-regions", config_dict(config),
                       losses=history[-1][-1], seconds=seconds, timings={"optimisation": seconds},
                       details={"iterations": sum(map(len, history)), "regions": region_set.count,
                                "region_colours": np.round(region_set.colours * 255).astype(int).tolist()}, history=history)


def load_map(source: ImageLike) -> torch.Tensor:
    return load_image(source)


def semantic_gatys(content: ImageLike | None, style: ImageLike, content_map: ImageLike, style_map: ImageLike, config=None,
                   *, map_weight: float = MAP_WEIGHT, show_progress: bool = False, **overrides: Any) -> ImageResult:
    """Files or arrays in, an ImageResult out: `image gatys --content-map --style-map` (content given) and
    `image doodle` (content None: the map alone, from noise; Li & Wand's MRF loss unless the config says otherwise)."""
    from multistyle.image.gatys import GatysConfig

    config = with_overrides(config or GatysConfig(), overrides)
    result = stylize_regions(None if content is None else load_image(content), load_image(style), load_map(content_map),
                             load_map(style_map), config, map_weight=map_weight, show_progress=show_progress)
    result.sources = file_sources(*([content] if content is not None else []), style, content_map, style_map)
    return result
