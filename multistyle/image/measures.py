"""The scale-free image measures every image benchmark reports (see the design notes):

- style distance: for relu1_1, relu2_1, relu3_1, relu4_1, ||mu_o - mu_s|| / ||mu_s|| + ||sigma_o - sigma_s|| / ||sigma_s||
  over channels, averaged over the layers (raw sums are dominated by relu4_1 and hide lost colour and strokes);
- colour distance: mean absolute difference of the RGB channel means and stds of output and style;
- relative content distance: ||F(o) - F(c)|| / ||F(c)|| at relu4_1;
- PSNR of 8-bit-quantised images;
- grid share: how much of an image's fine detail repeats every 8 pixels, the stride of relu4_1, where an
  under-trained decoder leaves a grid.
"""
import math

import torch
import torch.nn.functional as F

from multistyle.core.losses import channel_mean_std
from multistyle.core.vgg import VGGFeatures

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
CONTENT_LAYER = "relu4_1"


def scale_free_style_distance(output: dict[str, torch.Tensor], style: dict[str, torch.Tensor], layers=STYLE_LAYERS) -> float:
    total = 0.0
    for name in layers:
        (mu_o, sigma_o), (mu_s, sigma_s) = channel_mean_std(output[name]), channel_mean_std(style[name])
        total += float((mu_o - mu_s).norm() / mu_s.norm() + (sigma_o - sigma_s).norm() / sigma_s.norm())
    return total / len(layers)


def colour_stats(image: torch.Tensor) -> torch.Tensor:
    """R, G, B means then R, G, B stds over the pixels, in [0, 1]."""
    flat = image.flatten(2)[0].float()
    return torch.cat([flat.mean(-1), flat.std(-1, unbiased=False)])


def colour_distance(output: torch.Tensor, style: torch.Tensor) -> float:
    return float((colour_stats(output) - colour_stats(style)).abs().mean())


def relative_distance(output: torch.Tensor, reference: torch.Tensor) -> float:
    return float((output - reference).norm() / reference.norm())


def quantise(image: torch.Tensor) -> torch.Tensor:
    """What a saved image holds: 8-bit values."""
    return (image.clamp(0, 1) * 255).round() / 255


def psnr(image: torch.Tensor, reference: torch.Tensor) -> float:
    mse = F.mse_loss(quantise(image), quantise(reference)).item()
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def grid_share(image: torch.Tensor, period: int = 8) -> float:
    """The share of an image's fine detail (the image minus its 3x3 box blur, in grey) that is periodic with
    `period` pixels: the RMS of the detail averaged over each of the period x period pixel phases, over the RMS of
    the detail. A photo scores about period / sqrt(pixels) (0.02 at 512 x 384: sampling noise); a visible grid
    scores several times that; a pure grid scores 1."""
    grey = image.float().mean(1, keepdim=True)
    detail = grey - F.avg_pool2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    h, w = (side - side % period for side in detail.shape[-2:])
    detail = detail[..., :h, :w]
    phases = detail.reshape(-1, h // period, period, w // period, period).mean(dim=(1, 3))
    return float(phases.pow(2).mean().sqrt() / detail.pow(2).mean().sqrt().clamp_min(1e-8))


class ImageMeasures:
    """The measures of outputs against their styles (and contents), with one VGG-19 and features computed once."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.vgg = VGGFeatures(STYLE_LAYERS).to(self.device)
        self._reference: tuple[torch.Tensor, dict[str, torch.Tensor]] | None = None

    @torch.no_grad()
    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(image.to(self.device))

    def reference_features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Features of a style or content image, kept while the same tensor is scored against again (every frame
        of a clip, every output against one painting)."""
        if self._reference is None or self._reference[0] is not image:
            self._reference = (image, self.features(image))
        return self._reference[1]

    def style_distance(self, output: torch.Tensor, style: torch.Tensor) -> float:
        return scale_free_style_distance(self.features(output), self.reference_features(style))

    def content_distance(self, output: torch.Tensor, content: torch.Tensor) -> float:
        return relative_distance(self.features(output)[CONTENT_LAYER], self.reference_features(content)[CONTENT_LAYER])
