"""Removing a decoder's grid: the faint pattern repeating every 8 pixels that an AdaIN decoder trained briefly leaves
in flat areas (it rebuilds the image from relu4_1, a lattice with an 8-px step).

Anything that repeats every `period` pixels lives at the harmonics of 1/period cycles per pixel; a grid whose
strength varies across the image spreads a little around them. `remove_grid` sets those frequencies to zero with
narrow Gaussian notches (about 2 % of the spectrum at the default bandwidth) and leaves the rest alone. The image
is mirrored to twice its size first, so that its edges do not leak energy into the notches (no ringing at borders).
"""
from functools import lru_cache

import torch


@lru_cache(maxsize=8)
def _notch_mask(height: int, width: int, period: int, bandwidth: float) -> torch.Tensor:
    """(height, width // 2 + 1) gains for an rfft2 spectrum: 0 at each non-zero harmonic of 1/period, 1 far from them."""
    fy = torch.fft.fftfreq(height, dtype=torch.float64)[:, None] * period  # in units of the grid's fundamental
    fx = torch.fft.rfftfreq(width, dtype=torch.float64)[None, :] * period
    harmonic_y, harmonic_x = fy.round(), fx.round()
    distance2 = ((fy - harmonic_y).square() + (fx - harmonic_x).square()) / period**2  # (cycles per pixel)^2
    gain = 1 - torch.exp(-distance2 / (2 * bandwidth**2))
    gain[(harmonic_y == 0) & (harmonic_x == 0)] = 1  # the image's own low frequencies are not a grid
    return gain.float()


def remove_grid(image: torch.Tensor, period: int = 8, bandwidth: float = 0.008) -> torch.Tensor:
    """`image` (B, C, H, W) without its `period`-pixel periodic pattern. `bandwidth` (cycles per pixel) is each
    notch's standard deviation: a grid whose strength changes over about 1 / (2 pi bandwidth) pixels (20 px at
    0.008) is still caught. Not clamped."""
    h, w = image.shape[-2:]
    mirrored = torch.cat([image, image.flip(-1)], -1)
    mirrored = torch.cat([mirrored, mirrored.flip(-2)], -2)
    spectrum = torch.fft.rfft2(mirrored.float()) * _notch_mask(2 * h, 2 * w, period, bandwidth).to(image.device)
    return torch.fft.irfft2(spectrum, s=(2 * h, 2 * w))[..., :h, :w].to(image.dtype)
