"""AdaIN (Huang & Belongie, ICCV 2017): real-time arbitrary style transfer.

A frozen VGG-19 encodes content and style to relu4_1; adaptive instance normalisation gives the content
features the style's per-channel mean and standard deviation; a trained decoder maps the result back
to an image. Style statistics are computed once per style image and reused for every content.
"""
import importlib.resources
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.core.batch import BatchItem, BatchSummary, batch_complete, run_batch
from multistyle.core.blend import blend_weights
from multistyle.core.checkpoint import load_checked_weights, read_metadata, save_tensors
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.losses import channel_mean_std
from multistyle.core.paths import list_images
from multistyle.core.pipeline import Pipeline, batched
from multistyle.core.runtime import batch_workers, check_precision, compute_dtype, one_thread, select_device
from multistyle.core.vgg import VGGFeatures, check_memory_for_vgg
from multistyle.errors import InputError, WeightsError
from multistyle.image import color
from multistyle.image.degrid import remove_grid
from multistyle.image.io import (
    IMAGE_SUFFIXES,
    ImageLike,
    file_sources,
    image_grid,
    load_image,
    output_size,
    pad_border,
    pad_to_multiple,
    resize,
    save_image,
)
from multistyle.image.result import ImageResult
from multistyle.samples import resolve_style

ENCODER_LAYER = "relu4_1"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
SHIPPED_DECODER = "adain_decoder.safetensors"
MULTIPLE = 8  # relu4_1 is 1/8 of the input and the decoder upsamples three times: sides are padded to multiples of 8

VGG_WIDTHS = (64, 128, 256, 512)  # VGG-19's channels at relu1_1..relu4_1; a distilled encoder's are narrower


def decoder_plan(widths: tuple[int, ...] = VGG_WIDTHS) -> tuple:
    """The decoder mirrors the encoder from relu4_1 back to pixels: (in, out) channels per 3x3 conv, "up" = 2x
    upsampling; `widths` are the encoder's at relu1_1..relu4_1."""
    w1, w2, w3, w4 = widths
    return ((w4, w3), "up", (w3, w3), (w3, w3), (w3, w3), (w3, w2), "up", (w2, w2), (w2, w1), "up", (w1, w1), (w1, 3))


DECODER_PLAN = decoder_plan()


@dataclass(frozen=True)
class StyleStats:
    """Per-channel mean and std of one style image's relu4_1 features, each (1, C, 1, 1); for a style image, also
    its RGB mean (1, 3, 1) and covariance (1, 3, 3): the palette."""

    mean: torch.Tensor
    std: torch.Tensor
    rgb_mean: torch.Tensor | None = None
    rgb_cov: torch.Tensor | None = None


def blended_palette(styles: list[StyleStats], weights: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB mean and covariance of the styles' pixels pooled with `weights` (the moments of the mixture)."""
    mean = sum(w * s.rgb_mean for w, s in zip(weights, styles))
    second = sum(w * (s.rgb_cov + s.rgb_mean @ s.rgb_mean.transpose(1, 2)) for w, s in zip(weights, styles))
    return mean, second - mean @ mean.transpose(1, 2)


def feature_stats(features: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-5) -> StyleStats:
    """Per-channel mean and std, over all positions or only where `mask` (B, 1, H, W) is set."""
    if mask is None:
        mean, std = channel_mean_std(features, eps)
        return StyleStats(mean[..., None, None], std[..., None, None])
    features = features.float()  # sums over positions in float32 whatever the network's precision
    weight = mask / mask.sum((2, 3), keepdim=True).clamp_min(1)
    mean = (features * weight).sum((2, 3), keepdim=True)
    var = ((features - mean).square() * weight).sum((2, 3), keepdim=True)
    return StyleStats(mean, (var + eps).sqrt())


def adain(content: torch.Tensor, style: StyleStats, mask: torch.Tensor | None = None) -> torch.Tensor:
    """sigma(style) * (content - mu(content)) / sigma(content) + mu(style), per channel.

    With a mask, the content's statistics are those of the masked region only (spatial control).
    """
    own = feature_stats(content, mask)
    scale = style.std / own.std
    return torch.addcmul(style.mean - own.mean * scale, content, scale)  # one pass over the features


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3))


# "nearest" is the paper's. A decoder trained briefly with it leaves an 8-px grid wherever the photo has fine texture
# (three nearest upsamplings of max-pooled features); "bilinear" has the same weights and no grid. A decoder file
# names its mode in its safetensors metadata ("upsample"); files without it are "nearest".
UPSAMPLE_MODES = ("nearest", "bilinear")


class Decoder(nn.Module):
    """relu4_1 features -> RGB image in [0, 1] (unclamped while training). No normalisation layers."""

    def __init__(self, upsample: str = "nearest", widths: tuple[int, ...] = VGG_WIDTHS):
        super().__init__()
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLE_MODES)}, not {upsample!r}")
        self.upsample, self.widths = upsample, tuple(widths)
        layers: list[nn.Module] = []
        plan = decoder_plan(self.widths)
        convs = [step for step in plan if step != "up"]
        for step in plan:
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode=upsample))
                continue
            layers.append(_conv(*step))
            if step is not convs[-1]:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # AdaIN's arithmetic hands back NCHW (and float32) even from channels_last features; oneDNN's convolutions run
        # channels_last without layout reorders: 4.2 -> 3.3 s for a 512-px decode, 11.2 -> 8.8 s a batch-4 training step
        # (1 thread). The input takes the weights' dtype, so a bf16 decoder decodes float32 AdaIN output.
        dtype = next(self.parameters()).dtype
        return self.net(features.to(dtype, memory_format=torch.channels_last))


def shipped_decoder_path() -> Path:
    return Path(str(importlib.resources.files("multistyle.image") / "weights" / SHIPPED_DECODER))


def load_decoder(path: str | Path | None = None) -> Decoder:
    """The decoder from a safetensors file or a train-adain run's folder (default: the one shipped in the package),
    checked against the architecture."""
    path = Path(path) if path is not None else shipped_decoder_path()
    if path.is_dir():
        path = path / "decoder.safetensors"
    if not path.is_file():
        hint = " (train one with `multistyle image train-adain`)" if path.name == SHIPPED_DECODER else ""
        raise WeightsError(f"{path}: decoder file not found{hint}")
    return load_checked_weights(Decoder(_upsampling(path, read_metadata(path))), path, "an AdaIN decoder")


def _upsampling(path: Path, metadata: dict[str, str]) -> str:
    """The decoder's upsampling mode a weight file names ("nearest" when it names none)."""
    upsample = metadata.get("upsample", "nearest")
    if upsample not in UPSAMPLE_MODES:
        raise WeightsError(f"{path}: unknown decoder upsampling {upsample!r} (this version knows {', '.join(UPSAMPLE_MODES)})")
    return upsample


def save_decoder(decoder: Decoder, path: str | Path) -> None:
    """fp16 safetensors with the upsampling mode in its metadata, atomically."""
    save_tensors(path, {k: v.half() for k, v in decoder.state_dict().items()}, metadata={"upsample": decoder.upsample})


SMALL_KIND = "adain-small"  # metadata "kind" of a file holding a whole small model (multistyle.image.distill)
MODEL_NAMES = ("full",)  # the models shipped in the package, by name: VGG-19 and the shipped decoder


def save_network(network: "AdaINNetwork", path: str | Path, note: str = "") -> None:
    """A small model (encoder and decoder) in one fp16 safetensors file, atomically; widths and upsampling in its
    metadata."""
    metadata = {"kind": SMALL_KIND, "widths": ",".join(map(str, network.widths)), "upsample": network.decoder.upsample}
    save_tensors(path, {k: v.half() for k, v in network.state_dict().items()}, metadata={**metadata, **({"note": note} if note else {})})


def model_path(name_or_path: str | Path | None = None) -> Path:
    """The weight file behind a shipped model's name (MODEL_NAMES; "full" by default), a file, or a training run's
    folder (its model.safetensors or decoder.safetensors)."""
    if name_or_path is None or str(name_or_path) in MODEL_NAMES:
        return shipped_decoder_path()
    path = Path(name_or_path)
    if path.is_dir():
        return next((path / n for n in ("model.safetensors", "decoder.safetensors") if (path / n).is_file()), path / "decoder.safetensors")
    return path


def load_network(name_or_path: str | Path | None = None) -> "AdaINNetwork":
    """A whole AdaIN network (model_path's argument): VGG-19 with a decoder file, or a small model's encoder and
    decoder from its one file."""
    path = model_path(name_or_path)
    metadata = read_metadata(path) if path.is_file() else {}
    if metadata.get("kind") != SMALL_KIND:
        return AdaINNetwork(load_decoder(path))  # which also says what is wrong with a missing or foreign file
    try:
        widths = tuple(int(w) for w in metadata["widths"].split(","))
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError
    except (KeyError, ValueError):
        raise WeightsError(f"{path}: a small AdaIN file names four encoder widths in its metadata, not {metadata.get('widths')!r}") from None
    return load_checked_weights(AdaINNetwork(Decoder(_upsampling(path, metadata), widths), widths), path, "a small AdaIN model")


class AdaINNetwork(nn.Module):
    """Encoder to relu4_1 + decoder; `style_stats` once per style, then `forward` per content. The encoder is frozen
    VGG-19, or for a distilled model (`encoder_widths`) a narrower network of the same shape with its own weights."""

    def __init__(self, decoder: Decoder, encoder_widths: tuple[int, ...] | None = None):
        super().__init__()
        self.encoder = VGGFeatures(STYLE_LAYERS, widths=encoder_widths)  # max pooling, as VGG-19 was trained
        self.decoder = decoder
        self.widths = tuple(encoder_widths or VGG_WIDTHS)

    def encode(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.encoder(rgb)[ENCODER_LAYER]

    @torch.no_grad()
    def style_stats(self, style: torch.Tensor) -> StyleStats:
        features = feature_stats(self.encode(style))
        return StyleStats(features.mean, features.std, *color.colour_moments(style))

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
        return target if alpha == 1 else torch.lerp(content_features.to(target.dtype), target, alpha)

    def forward(self, content: torch.Tensor, styles: list[StyleStats], **controls) -> torch.Tensor:
        return self.decoder(self.target_features(self.encode(content), styles, **controls)).float()


@dataclass
class AdaINConfig:
    # Long side of the output (and of the style images), pixels. None: the content's own size, shrunk to 512 when larger
    # (multistyle.image.io.output_size); 0 keeps any size; a number is obeyed.
    size: int | None = None
    alpha: float = 1.0  # 0 = reconstruct the content, 1 = full style
    style_blend: tuple[float, ...] | None = None  # one weight per style (normalised); None: equal
    preserve_color: bool = False  # recolour each style to the content's colour statistics first
    # Give the content the style's palette (RGB mean and covariance) before encoding, and the output after decoding,
    # both in proportion to alpha; with several styles, their pooled palette. Off with preserve_color or masks.
    # Why: a decoder trained on a CPU carries strokes far better than colours (benchmarks/results/fast_quality.md).
    palette: bool = True
    # Notch-filter the decoder's 8-px grid out of the output (multistyle.image.degrid): grid share 0.065 -> 0.01 on
    # the held-out pairs, the output otherwise within about 40 dB PSNR; faint squares in flat areas go (docs/adain_grid.jpg).
    degrid: bool = True
    # Pixels of reflected photo around every side that the network runs on and the output drops: the decoder draws a
    # frame 10-20 px in from an image's edges (its 128-px training crops are mostly edge), which then falls outside
    # (docs/adain_margin.jpg). A multiple of 8 keeps the output on the decoder's 8-px lattice; 0 turns it off.
    margin: int = 16
    decoder: str | None = None  # None or "full": the shipped model; or a decoder's or a small model's file, or a run folder
    device: str = "auto"
    # Weights and activations in bf16 or fp32; "auto" is bf16 on CPUs with AMX or AVX-512-BF16 (2.2x faster)
    # (statistics stay float32; the output is within about 45 dB PSNR of fp32's), else fp32. Set when loading.
    precision: str = "auto"

    def validate(self, n_styles: int, n_masks: int = 0) -> None:
        check_precision(self.precision)
        if n_styles < 1:
            raise InputError("give at least one style image")
        if not 0.0 <= self.alpha <= 1.0:
            raise InputError(f"--alpha must be between 0 and 1, not {self.alpha}")
        if self.size is not None and self.size != 0 and self.size < 32:
            raise InputError(f"--size {self.size} is too small; use at least 32 pixels (or 0 for the content's own size)")
        if self.margin < 0 or self.margin % MULTIPLE:
            raise InputError(f"margin must be a non-negative multiple of {MULTIPLE} pixels, not {self.margin}")
        blend_weights(self.style_blend, n_styles)
        if n_masks and not (n_masks == n_styles or (n_masks == 1 and n_styles == 2)):
            raise InputError(f"give one mask per style ({n_styles}), or one mask for two styles; got {n_masks}")
        if n_masks and self.style_blend is not None:
            raise InputError("use either --mask or --style-blend, not both")


def load_masks(masks: Sequence[ImageLike], size: tuple[int, int], n_styles: int) -> list[torch.Tensor]:
    """Masks as (1, 1, H, W) in [0, 1] at `size`; one mask for two styles means the second is its complement."""
    loaded = []
    h, w = size
    for i, mask in enumerate(masks):
        name = str(mask) if isinstance(mask, (str, Path)) else f"mask {i + 1}"
        image = load_image(mask)
        mh, mw = image.shape[-2:]
        if abs(mw / mh - w / h) > 0.02:
            raise InputError(f"{name}: mask is {mw}x{mh}, which does not match the content's aspect ratio ({w}x{h})")
        loaded.append(resize(image.mean(1, keepdim=True), size))
    if len(loaded) == 1 and n_styles == 2:
        loaded.append(1 - loaded[0])
    return loaded


class AdaIN(Pipeline):
    """Huang & Belongie (2017): arbitrary style transfer in one pass through an encoder, AdaIN and a decoder.

    >>> adain = AdaIN.from_pretrained()
    >>> adain("photo.jpg", "painting.jpg", alpha=0.8).image.save("out.png")

    The model is loaded once; style statistics of image files are cached, so many contents with one
    style cost one encoding of the style. Settings are `AdaINConfig`'s; each call may override them. A list of
    contents gives a list of results.
    """

    def __init__(self, decoder: "Decoder | AdaINNetwork", config: AdaINConfig | None = None, **overrides: Any):
        if not isinstance(decoder, (Decoder, AdaINNetwork)):
            raise InputError("AdaIN(decoder) takes a Decoder or an AdaINNetwork; use AdaIN.from_pretrained() or AdaIN.from_file(path)")
        self.config = with_overrides(config or AdaINConfig(), overrides)
        self.network = (decoder if isinstance(decoder, AdaINNetwork) else AdaINNetwork(decoder)).eval()
        self._placed()

    def _placed(self) -> None:
        self.device = select_device(self.config.device)
        self.dtype = compute_dtype(self.config.precision, self.device)
        self.network.to(self.device, self.dtype)
        self._style_cache: dict[tuple[str, int], StyleStats] = {}  # statistics on the old device are dropped

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, config: AdaINConfig | None = None,
                        **overrides: Any) -> "AdaIN":
        """A shipped model by name ("full": VGG-19 and the trained decoder, the default); or a decoder's .safetensors
        file, a small (distilled) model's, or a training run's folder. Without one, `config.decoder` when set."""
        if isinstance(name_or_path, AdaINConfig):  # AdaIN.from_pretrained(config)
            name_or_path, config = None, name_or_path
        if name_or_path is not None:
            if not isinstance(name_or_path, (str, Path)):
                raise InputError(f"a model is a name ({', '.join(MODEL_NAMES)}), a .safetensors file or a run folder, not {type(name_or_path).__name__}")
            overrides = {**overrides, "decoder": str(name_or_path)}
        config = with_overrides(config or AdaINConfig(), overrides)
        return cls(load_network(config.decoder), config)

    @classmethod
    def from_file(cls, path: str | Path, config: AdaINConfig | None = None, **overrides: Any) -> "AdaIN":
        """The same as from_pretrained(path)."""
        if path is None:
            raise InputError("AdaIN.from_file needs a decoder file; AdaIN.from_pretrained() loads the shipped one")
        return cls.from_pretrained(path, config, **overrides)

    def style_stats(self, style: ImageLike, long_side: int, content: torch.Tensor | None = None) -> StyleStats:
        """A style's relu4_1 statistics; for files, computed once per (file, size) unless recoloured to `content`."""
        style = resolve_style(style)  # a bundled painting's name (multistyle.samples) becomes its file
        key = (str(Path(style).resolve()), long_side) if isinstance(style, (str, Path)) else None
        if content is None and key in self._style_cache:
            return self._style_cache[key]
        image = load_image(style, long_side)
        if content is not None:
            return self.network.style_stats(color.match_color_histogram(image, content).to(self.device))
        stats = self.network.style_stats(image.to(self.device))
        if key is not None:
            self._style_cache[key] = stats
        return stats

    @batched
    @torch.no_grad()
    def __call__(self, content: ImageLike, style: ImageLike | StyleStats | Sequence[ImageLike | StyleStats], *,
                 masks: Sequence[ImageLike] | None = None, **overrides: Any) -> ImageResult:
        """Stylise `content` with `style` (or several, blended by `style_blend` or placed by `masks`). A style may
        also be statistics from `style_stats`, computed once for many contents (the frames of a clip).

        Overrides: alpha, style_blend, preserve_color, palette, degrid, size. The output is exactly `size` on its long side
        (see AdaINConfig.size), whatever the divisibility of its sides."""
        cfg = with_overrides(self.config, overrides)
        styles = [resolve_style(s) for s in (style if isinstance(style, (list, tuple)) else [style])]
        cfg.validate(len(styles), len(masks or []))
        start = time.perf_counter()
        image = load_image(content)
        h, w = output_size(*image.shape[-2:], cfg.size)
        check_memory_for_vgg(h + 2 * cfg.margin + 8, w + 2 * cfg.margin + 8, backward=False, device=self.device)
        image = resize(image, (h, w))
        style_side = cfg.size or max(h, w)
        region_masks = load_masks(masks, (h, w), len(styles)) if masks else None
        if cfg.preserve_color and any(isinstance(s, StyleStats) for s in styles):
            raise InputError("preserve_color recolours the style image itself: give images, not precomputed statistics")
        stats = [s if isinstance(s, StyleStats) else self.style_stats(s, style_side, image if cfg.preserve_color else None)
                 for s in styles]
        loaded = time.perf_counter()
        weights = blend_weights(cfg.style_blend, len(styles)) if not region_masks else None
        palette = None
        if cfg.palette and not cfg.preserve_color and weights and all(s.rgb_mean is not None for s in stats):
            palette = blended_palette(stats, weights)
            image = color.recolour(image, *palette, cfg.alpha)
        m = cfg.margin
        output = self.network(
            pad_to_multiple(pad_border(image, m), MULTIPLE).to(self.device), stats, alpha=cfg.alpha, weights=weights,
            masks=[pad_to_multiple(pad_border(r, m), MULTIPLE).to(self.device) for r in region_masks] if region_masks else None,
        )
        output = output[..., m:m + h, m:m + w].cpu()  # the margin is a multiple of 8: the decoder's lattice stays put
        if cfg.degrid:
            output = remove_grid(output, MULTIPLE)
        output = output.clamp(0, 1)
        if palette is not None:
            output = color.recolour(output, *palette, cfg.alpha)
        done = time.perf_counter()
        return ImageResult(output, "adain", config_dict(cfg), seconds=done - start,
                           timings={"load": loaded - start, "stylise": done - loaded},
                           sources=file_sources(content, *(s for s in styles if not isinstance(s, StyleStats)), *(masks or [])))


def stylize_folders(model: AdaIN, content_dir: Path, style_dir: Path, out_dir: Path, show_progress: bool = False,
                    resume: bool = False, workers: int | None = None) -> tuple[BatchSummary, Path | None]:
    """Every content x every style (`style_dir`: a folder, or one style image for every content) ->
    OUT_DIR/CONTENT__STYLE.png (a resumable batch, shared between torchrun's processes: multistyle.core.batch), then
    grid.png (a row per content) once every pair is written. `workers`: processes of one thread each (default:
    multistyle.core.runtime.batch_workers)."""
    contents = list_images(content_dir, IMAGE_SUFFIXES)
    styles = [Path(style_dir)] if Path(style_dir).is_file() else list_images(style_dir, IMAGE_SUFFIXES)
    pairs = [(content, style) for content in contents for style in styles]
    items = [BatchItem(f"{c.stem} x {s.stem}", out_dir / f"{c.stem}__{s.stem}.png", (c, s)) for c, s in pairs]
    summary = run_batch(items, out_dir, lambda c, s, out: model(c, s).save(out, report=False),
                        {"command": "image adain", "contents": [c.name for c in contents], "styles": [str(s) for s in styles],
                         "config": config_dict(model.config)}, resume=resume, description="adain", show_progress=show_progress,
                        workers=batch_workers(workers, model.device), worker_setup=one_thread)
    if not batch_complete(out_dir) or summary.rank != 0:
        return summary, None
    panels = [torch.ones(1, 3, 8, 8)] + [load_image(s, 256) for s in styles]  # header row: styles
    for content in contents:
        panels += [load_image(content, 256)] + [load_image(out_dir / f"{content.stem}__{s.stem}.png") for s in styles]
    grid = out_dir / "grid.png"
    save_image(image_grid(panels, columns=len(styles) + 1, height=192), grid)
    return summary, grid
