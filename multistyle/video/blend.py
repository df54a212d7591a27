"""Blending a stylised frame with the previous output warped onto it, without washing out the style.

A plain blend, w * warped + (1 - w) * styled where the flow is reliable, steadies the clip but averages two
textures that are never quite aligned: strokes blur, contrast drops, and the frames drift away from the style
(on Sintel with a per-style network at w = 0.4 the style distance rose 25 %). So the blend is split into a
Laplacian pyramid and each band is rescaled, per channel, to the spread that band has in this frame's own
stylisation; the coarsest band also takes its mean. The detail that the blend keeps is the part both frames
agree on, now at the stylisation's strength.
"""
import torch
import torch.nn.functional as F


def laplacian_bands(image: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """`levels` detail bands, finest first, then the low-pass residual; collapse_bands inverts it exactly."""
    bands, current = [], image
    for _ in range(levels):
        if min(current.shape[-2:]) < 2:
            break
        low = F.avg_pool2d(current, 2, ceil_mode=True)
        bands.append(current - F.interpolate(low, size=current.shape[-2:], mode="bilinear", align_corners=False))
        current = low
    return [*bands, current]


def collapse_bands(bands: list[torch.Tensor]) -> torch.Tensor:
    image = bands[-1]
    for detail in reversed(bands[:-1]):
        image = F.interpolate(image, size=detail.shape[-2:], mode="bilinear", align_corners=False) + detail
    return image


def match_band_contrast(image: torch.Tensor, reference: torch.Tensor, levels: int = 4) -> torch.Tensor:
    """`image` with each Laplacian band's per-channel standard deviation (and the low-pass band's mean) set to
    `reference`'s, both (1, 3, H, W)."""
    spread = lambda band: band.std(dim=(2, 3), keepdim=True)  # noqa: E731
    image_bands, reference_bands = laplacian_bands(image, levels), laplacian_bands(reference, levels)
    matched = [band * (spread(ref) / spread(band).clamp_min(1e-5)) for band, ref in zip(image_bands[:-1], reference_bands)]
    low, low_ref = image_bands[-1], reference_bands[-1]
    matched.append((low - low.mean(dim=(2, 3), keepdim=True)) * (spread(low_ref) / spread(low).clamp_min(1e-5))
                   + low_ref.mean(dim=(2, 3), keepdim=True))
    return collapse_bands(matched).clamp(0, 1)


def temporal_blend(styled: torch.Tensor, warped: torch.Tensor, reliable: torch.Tensor, weight: float,
                   keep_contrast: bool = True) -> torch.Tensor:
    """This frame's stylisation blended with the warped previous output (weight `weight` where `reliable` (1, 1, H, W)
    is 1), its bands' contrast restored to the stylisation's unless `keep_contrast` is False."""
    blended = weight * reliable * warped + (1 - weight * reliable) * styled
    return match_band_contrast(blended, styled) if keep_contrast else blended
