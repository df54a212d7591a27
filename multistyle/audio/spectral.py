"""The spectrogram domain: log(1 + |STFT|) features and Griffin-Lim phase reconstruction.

A log-spectrogram is an (F, T) tensor: F = n_fft // 2 + 1 frequency channels over T frames.
"""
import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class STFT:
    """A Hann-windowed, centred STFT with reflect padding, so T = 1 + samples // hop."""

    n_fft: int = 2048
    hop: int = 512

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    def frames(self, samples: int) -> int:
        return 1 + samples // self.hop

    def samples(self, frames: int) -> int:
        """The signal length whose STFT has `frames` frames."""
        return (frames - 1) * self.hop

    def window(self, device: torch.device | None = None) -> torch.Tensor:
        return torch.hann_window(self.n_fft, device=device)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        """(samples,) real -> (F, T) complex."""
        return torch.stft(
            signal, self.n_fft, self.hop, window=self.window(signal.device),
            center=True, pad_mode="reflect", return_complex=True,
        )

    def inverse(self, spectrum: torch.Tensor, length: int) -> torch.Tensor:
        """(F, T) complex -> (length,) real, the least-squares inverse (overlap-add)."""
        return torch.istft(spectrum, self.n_fft, self.hop, window=self.window(spectrum.device), center=True, length=length)


def log_magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    return torch.log1p(spectrum.abs())


def magnitude_from_log(log_spectrogram: torch.Tensor) -> torch.Tensor:
    """Inverse of log_magnitude; an optimised log-spectrogram may dip below zero, which no magnitude does."""
    return torch.expm1(log_spectrogram.clamp_min(0))


def random_phase(shape: torch.Size | tuple[int, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """Unit complex numbers with phases uniform on [0, 2 pi)."""
    angles = torch.rand(shape, generator=generator) * (2 * math.pi)
    return torch.polar(torch.ones_like(angles), angles)


def unit_phase(spectrum: torch.Tensor) -> torch.Tensor:
    return spectrum / spectrum.abs().clamp_min(1e-12)


def griffin_lim(
    magnitude: torch.Tensor,
    stft: STFT,
    length: int,
    *,
    iterations: int = 100,
    momentum: float = 0.99,
    phase: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    prefix: torch.Tensor | None = None,
) -> torch.Tensor:
    """A signal of `length` samples whose STFT magnitude approximates `magnitude` (F, T).

    Fast Griffin-Lim (Perraudin, Balazs & Sondergaard 2013): alternate projections onto the given
    magnitude and onto consistent spectrograms, extrapolated by `momentum` (0 = classic Griffin-Lim).
    `phase` (unit complex, (F, T)) is the starting phase; None starts from a random one.
    `prefix`: samples the signal must begin with (held at every iteration), so that it continues them.
    torchaudio's griffinlim takes no starting phase, which is why this loop is ours.
    """
    if not 0 <= momentum < 1:
        raise ValueError("Griffin-Lim momentum must be in [0, 1)")
    if phase is None:
        phase = random_phase(magnitude.shape, generator).to(magnitude.device)

    def signal(spectrum: torch.Tensor) -> torch.Tensor:
        samples = stft.inverse(spectrum, length)
        if prefix is not None:
            samples[: prefix.numel()] = prefix
        return samples

    previous = stft.forward(signal(magnitude * phase))
    extrapolated = previous
    for _ in range(iterations):
        consistent = stft.forward(signal(magnitude * unit_phase(extrapolated)))
        extrapolated = consistent + momentum * (consistent - previous)
        previous = consistent
    return signal(magnitude * unit_phase(extrapolated))


def griffin_lim_in_chunks(
    magnitude: torch.Tensor,
    stft: STFT,
    length: int,
    chunk: int,
    overlap: int,
    *,
    iterations: int = 100,
    momentum: float = 0.99,
    phase: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """griffin_lim over chunks of `chunk` frames sharing `overlap` frames with the next, so that the working memory is
    a chunk's whatever the length (a clip of at most `chunk` frames, or `chunk` 0, is one griffin_lim). Each chunk
    continues the audio written so far: its first shared samples are held to it (`prefix`) while it converges, and it
    rewrites the rest, including the previous chunk's last third of the shared samples, that chunk's least consistent
    (its STFT pads its end by reflection, and each iteration spreads that inward)."""
    frames = magnitude.shape[-1]
    if not chunk or frames <= chunk:
        return griffin_lim(magnitude, stft, length, iterations=iterations, momentum=momentum, phase=phase, generator=generator)
    if not 1 <= overlap < chunk:
        raise ValueError("the chunks' overlap must be at least one frame and less than a chunk")
    out = torch.zeros(length, device=magnitude.device)
    starts = list(range(0, frames - chunk, chunk - overlap)) + [frames - chunk]
    written = 0  # samples of `out` that hold audio so far
    for a in starts:
        b = a + chunk
        offset = a * stft.hop
        samples = length - offset if b == frames else stft.samples(b - a)
        shared = max(0, written - offset)
        held = out[offset : offset + shared - shared // 3].clone() if shared else None
        start_phase = None if phase is None else phase[:, a:b]
        piece = griffin_lim(magnitude[:, a:b], stft, samples, iterations=iterations, momentum=momentum, phase=start_phase,
                            generator=generator, prefix=held)
        out[offset : offset + samples] = piece
        written = offset + samples
    return out


def spectral_convergence_db(magnitude: torch.Tensor, signal: torch.Tensor, stft: STFT) -> float:
    """20 log10 ||S - |STFT(signal)||| / ||S||: how far a reconstruction is from the wanted magnitude (lower is better)."""
    error = torch.linalg.vector_norm(magnitude - stft.forward(signal).abs())
    return float(20 * torch.log10(error / torch.linalg.vector_norm(magnitude).clamp_min(1e-12)))
