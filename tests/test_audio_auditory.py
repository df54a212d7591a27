"""The auditory texture statistics against a direct numpy / scipy computation of their definitions."""
import numpy as np
import pytest
import torch
from scipy import stats as scipy_stats

from multistyle.audio.auditory import AuditoryStatistics, cochlear_filterbank, hz_to_erb_number

RATE, N_FFT, HOP = 16000, 512, 128


def test_filterbank_is_erb_spaced_and_covers_every_bin_once():
    bank = cochlear_filterbank(20, N_FFT, RATE, fmin=100, fmax=6000).numpy()
    freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    peaks = freqs[bank[1:-1].argmax(1)]
    erb_gaps = np.diff(hz_to_erb_number(torch.from_numpy(peaks)).numpy())
    assert np.allclose(erb_gaps, erb_gaps.mean(), atol=0.35), "centres equally spaced on the ERB-number scale"
    assert np.allclose(bank.sum(0), 1.0, atol=1e-5), "a partition of unity over the whole spectrum"
    assert (bank[0, freqs <= 100] == 1).all() and (bank[-1, freqs >= 6000] == 1).all(), "end bands take the edges"


def numpy_statistics(magnitude: np.ndarray, model: AuditoryStatistics) -> dict[str, np.ndarray]:
    weights = model.filterbank.numpy().astype(np.float64)
    env = (weights @ magnitude + model.floor) ** model.compression
    mean, var = env.mean(1), env.var(1)
    n_frames = env.shape[1]
    power = np.abs(np.fft.rfft(env - mean[:, None], axis=1))[:, 1 : n_frames // 2 + 1] ** 2
    mod_freqs = np.arange(1, n_frames // 2 + 1) * model.frame_rate / n_frames
    octaves = np.log2(mod_freqs)[None, :] - (np.log2(model.modulation_fmin) + np.arange(model.modulation_bands))[:, None]
    mod_weights = np.where(np.abs(octaves) < 1, np.cos(np.pi / 2 * octaves) ** 2, 0.0)
    upper = np.triu_indices(env.shape[0], k=1)
    return {
        "log_mean": np.log(mean),
        "variance_ratio": var / mean**2,
        "skewness": scipy_stats.skew(env, axis=1),
        "kurtosis": scipy_stats.kurtosis(env, axis=1, fisher=False),
        "correlation": np.corrcoef(env)[upper],
        "modulation": power @ mod_weights.T / power.sum(1, keepdims=True),
    }


def test_statistics_match_a_direct_numpy_computation():
    rng = np.random.default_rng(0)
    frames = 200
    # A magnitude with structure: per-band levels, a slow modulation and heavy-tailed noise.
    t = np.arange(frames) / (RATE / HOP)
    magnitude = rng.gamma(0.5, 1.0, size=(N_FFT // 2 + 1, frames)) * (1.2 + np.sin(2 * np.pi * 3 * t))
    magnitude *= np.linspace(2.0, 0.1, N_FFT // 2 + 1)[:, None]
    model = AuditoryStatistics(N_FFT, RATE, HOP, n_bands=16, fmin=80, modulation_bands=5, eps=0.0).double()
    ours = model(torch.from_numpy(magnitude))
    expected = numpy_statistics(magnitude, model)
    assert set(ours) == set(expected)
    for name, value in expected.items():
        assert ours[name].shape == value.shape, name
        assert np.allclose(ours[name].numpy(), value, rtol=1e-6, atol=1e-9), name
    assert expected["modulation"][:, 2].mean() > expected["modulation"][:, 0].mean(), "the 3 Hz modulation shows in its octave (2 Hz)"


def test_too_many_bands_for_the_fft_is_a_clear_error():
    with pytest.raises(ValueError, match="narrower than the STFT's bins"):
        cochlear_filterbank(64, 64, 16000, fmin=20, fmax=7000)
