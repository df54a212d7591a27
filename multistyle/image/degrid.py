"""Removing a decoder's grid: the faint pattern repeating every 8 pixels that an AdaIN decoder trained briefly leaves
in flat areas (it rebuilds the image from relu4_1, a lattice with an 8-px step).

Anything that repeats every `period` pixels lives at the harmonics of 1/period cycles per pixel; a grid whose
strength varies across the image spreads a little around them. `remove_grid` sets those frequencies to zero with
narrow Gaussian notches (about 2 % of the spectrum at the default bandwidth) and leaves the rest alone. It filters in
the DCT domain, which is the Fourier transform of the image mirrored at its edges: the edges leak no energy into the
notches (no ringing at borders), at a quarter of the cost of transforming a mirrored copy.
"""
from functools import lru_cache

import numpy as np
import scipy.fft


@lru_cache(maxsize=8)
def _notch_gains(height: int, width: int, period: int, bandwidth: float) -> np.ndarray:
    """(height, width) gains for a DCT-II spectrum: 0 at each non-zero harmonic of 1/period, 1 far from them."""
    fy = np.arange(height)[:, None] / (2 * height) * period  # DCT index k is k / 2N cycles per pixel; here in harmonics
    fx = np.arange(width)[None, :] / (2 * width) * period
    harmonic_y, harmonic_x = np.round(fy), np.round(fx)
    distance2 = ((fy - harmonic_y) ** 2 + (fx - harmonic_x) ** 2) / period**2  # (cycles per pixel)^2
    gains = 1 - np.exp(-distance2 / (2 * bandwidth**2))
    gains[(harmonic_y == 0) & (harmonic_x == 0)] = 1  # the image's own low frequencies are not a grid
    return gains.astype(np.float32)


def remove_grid_array(pixels: np.ndarray, period: int = 8, bandwidth: float = 0.008, workers: int = 1) -> np.ndarray:
    """remove_grid on a float32 array (..., H, W), without torch (the onnxruntime path uses it)."""
    transform = dict(type=2, axes=(-2, -1), norm="ortho", workers=workers)
    spectrum = scipy.fft.dctn(pixels, **transform) * _notch_gains(*pixels.shape[-2:], period, bandwidth)
    return scipy.fft.idctn(spectrum, **transform)


def remove_grid(image, period: int = 8, bandwidth: float = 0.008):
    """`image` (B, C, H, W), a tensor, without its `period`-pixel periodic pattern, on the CPU. `bandwidth` (cycles
    per pixel) is each notch's standard deviation: a grid whose strength changes over about 1 / (2 pi bandwidth)
    pixels (20 px at 0.008) is still caught. Not clamped."""
    import torch

    pixels = image.detach().cpu().float().numpy()
    filtered = remove_grid_array(pixels, period, bandwidth, workers=torch.get_num_threads())
    return torch.from_numpy(filtered).to(image.dtype)
