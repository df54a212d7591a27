"""McDermott & Simoncelli (Neuron 2011) sound texture statistics, computed from an STFT magnitude.

Cochlear bands are half-cosine filters equally spaced on the ERB-number scale (Glasberg & Moore);
a band's envelope is its frame-wise amplitude (the filter-weighted sum of the STFT magnitudes) raised
to a compressive exponent (0.3, as in the paper). From the envelopes come the statistics a texture is made of: the
marginal moments of each band, the correlations between bands, and how each band's envelope power
is spread over octave-spaced modulation bands. Everything is differentiable torch.
"""
import math

import torch
from torch import nn


def hz_to_erb_number(hz: torch.Tensor | float) -> torch.Tensor:
    return 21.4 * torch.log10(1 + 0.00437 * torch.as_tensor(hz, dtype=torch.float64))


def half_cosine_bank(positions: torch.Tensor, centres: torch.Tensor, spacing: float) -> torch.Tensor:
    """(bands, positions) power weights: cos^2 bumps spanning one spacing each side of their centre.

    Neighbouring bumps overlap so that the weights sum to one between the first and last centre.
    """
    distance = (positions[None, :] - centres[:, None]) / spacing
    return torch.where(distance.abs() < 1, torch.cos(0.5 * math.pi * distance) ** 2, torch.zeros_like(distance))


def cochlear_filterbank(n_bands: int, n_fft: int, sample_rate: int, fmin: float, fmax: float) -> torch.Tensor:
    """(n_bands, n_fft // 2 + 1) float32 weights of ERB-spaced cochlear filters over the STFT bins.

    Centres run from `fmin` to `fmax`; the first band also takes every bin below `fmin` and the last
    every bin above `fmax` (McDermott & Simoncelli's low- and high-pass end filters), so the weights
    sum to one at every bin and no part of the spectrum escapes the statistics.
    """
    if n_bands < 2:
        raise ValueError("the cochlear filterbank needs at least 2 bands")
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    low, high = float(hz_to_erb_number(fmin)), float(hz_to_erb_number(fmax))
    centres = torch.linspace(low, high, n_bands, dtype=torch.float64)
    positions = hz_to_erb_number(bins).clamp(low, high)
    bank = half_cosine_bank(positions, centres, float(centres[1] - centres[0]))
    if (bank[1:-1].sum(1) == 0).any():
        raise ValueError(f"{n_bands} cochlear bands from {fmin:g} Hz are narrower than the STFT's bins; raise n_fft or fmin, or use fewer bands")
    return bank.float()


def modulation_filterbank(n_frames: int, frame_rate: float, n_bands: int, fmin: float) -> torch.Tensor:
    """(n_bands, n_frames // 2) power weights over an envelope's positive modulation frequencies.

    Octave-spaced bands from `fmin` (constant Q, as McDermott & Simoncelli's modulation filters).
    """
    freqs = torch.arange(1, n_frames // 2 + 1, dtype=torch.float64) * frame_rate / n_frames
    centres = math.log2(fmin) + torch.arange(n_bands, dtype=torch.float64)
    return half_cosine_bank(torch.log2(freqs), centres, 1.0)


class AuditoryStatistics(nn.Module):
    """Cochlear envelopes of an STFT magnitude and their texture statistics."""

    def __init__(
        self,
        n_fft: int,
        sample_rate: int,
        hop: int,
        n_bands: int = 32,
        fmin: float = 50.0,
        fmax: float | None = None,
        compression: float = 0.3,
        modulation_bands: int = 6,
        modulation_fmin: float = 0.5,
        floor: float = 1e-3,
        eps: float = 1e-8,
    ):
        super().__init__()
        fmax = sample_rate / 2 if fmax is None else min(fmax, sample_rate / 2)
        self.register_buffer("filterbank", cochlear_filterbank(n_bands, n_fft, sample_rate, fmin, fmax))
        self.frame_rate = sample_rate / hop
        self.compression = compression
        self.floor = floor  # keeps the compressive power's slope finite in silent bands
        self.modulation_bands = modulation_bands
        self.modulation_fmin = modulation_fmin
        self.eps = eps

    def envelopes(self, magnitude: torch.Tensor) -> torch.Tensor:
        """(..., F, T) magnitude -> (..., bands, T) compressed band envelopes.

        Amplitudes are linear in the magnitude: summing powers instead would leave bands that are silent
        in the starting spectrogram without gradient, so optimisation could never fill them.
        """
        amplitude = self.filterbank @ magnitude
        return (amplitude + self.floor) ** self.compression

    def statistics(self, envelopes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Texture statistics of (..., bands, T) envelopes, each normalised so that loudness alone does not dominate."""
        mean = envelopes.mean(-1)
        centred = envelopes - mean[..., None]
        var = centred.square().mean(-1) + self.eps
        std = var.sqrt()
        standard = centred / std[..., None]
        n_bands = envelopes.shape[-2]
        upper = torch.triu_indices(n_bands, n_bands, offset=1, device=envelopes.device)
        correlation = (standard @ standard.transpose(-1, -2)) / envelopes.shape[-1]
        return {
            "log_mean": mean.log(),  # M&S's M1, as a log so that quiet bands weigh as much as loud ones
            "variance_ratio": var / mean.square(),  # M&S's M2: coefficient of variation squared
            "skewness": standard.pow(3).mean(-1),
            "kurtosis": standard.pow(4).mean(-1),
            "correlation": correlation[..., upper[0], upper[1]],
            "modulation": self.modulation_power(centred),
        }

    def modulation_power(self, centred: torch.Tensor) -> torch.Tensor:
        """(..., bands, modulation bands): the share of each band's envelope power in each modulation band."""
        n_frames = centred.shape[-1]
        spectrum = torch.fft.rfft(centred, dim=-1)[..., 1 : n_frames // 2 + 1].abs().square()
        weights = modulation_filterbank(n_frames, self.frame_rate, self.modulation_bands, self.modulation_fmin)
        return spectrum @ weights.to(spectrum).T / (spectrum.sum(-1, keepdim=True) + self.eps)

    def forward(self, magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.statistics(self.envelopes(magnitude))
