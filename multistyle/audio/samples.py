"""Signals the project synthesises itself, for the demo and the tests: no files, no network."""
import math

import torch

from multistyle.audio.io import peak_normalise

C_MAJOR_TUNE = (60, 64, 67, 72, 71, 67, 64, 62)  # MIDI note numbers


def midi_to_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def melody(seconds: float, sample_rate: int, notes: tuple[int, ...] = C_MAJOR_TUNE, harmonics: int = 4) -> torch.Tensor:
    """Equal-length plucked notes, each a few decaying harmonics: a clear pitch and onset structure."""
    per_note = round(seconds * sample_rate / len(notes))
    t = torch.arange(per_note) / sample_rate
    envelope = torch.clamp(t / 0.01, max=1.0) * torch.exp(-t * 4.0)  # 10 ms attack, then decay
    tones = []
    for note in notes:
        f0 = midi_to_hz(note)
        tone = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, harmonics + 1) if k * f0 < sample_rate / 2)
        tones.append(tone * envelope)
    return peak_normalise(torch.cat(tones).float())


def filtered_noise(seconds: float, sample_rate: int, low_hz: float, high_hz: float, seed: int = 0) -> torch.Tensor:
    """Gaussian noise band-limited to [low_hz, high_hz] (a brick-wall mask on its spectrum)."""
    generator = torch.Generator().manual_seed(seed)
    samples = round(seconds * sample_rate)
    spectrum = torch.fft.rfft(torch.randn(samples, generator=generator))
    freqs = torch.fft.rfftfreq(samples, 1 / sample_rate)
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0
    return peak_normalise(torch.fft.irfft(spectrum, samples))


def percussive_texture(seconds: float, sample_rate: int, hits_per_second: float = 6.0, seed: int = 0) -> torch.Tensor:
    """Bursts of bright noise at jittered times over a quiet low rumble: a rain-on-a-roof texture."""
    generator = torch.Generator().manual_seed(seed)
    samples = round(seconds * sample_rate)
    hits = torch.zeros(samples)
    n_hits = max(1, round(seconds * hits_per_second))
    positions = torch.randint(0, samples, (n_hits,), generator=generator)
    hits[positions] = 0.5 + torch.rand(n_hits, generator=generator)
    decay = torch.exp(-torch.arange(round(0.04 * sample_rate)) / (0.008 * sample_rate))  # 8 ms time constant
    envelope = torch.nn.functional.conv1d(hits.view(1, 1, -1), decay.flip(0).view(1, 1, -1), padding=decay.numel() - 1)
    envelope = envelope.view(-1)[:samples]
    bright = filtered_noise(seconds, sample_rate, 2000, 8000, seed + 1)
    rumble = filtered_noise(seconds, sample_rate, 60, 300, seed + 2)
    return peak_normalise(bright * envelope + 0.15 * rumble)
