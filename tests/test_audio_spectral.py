import math

import pytest
import torch
import torchaudio.functional as AF

from multistyle.audio.samples import melody
from multistyle.audio.spectral import STFT, griffin_lim, log_magnitude, magnitude_from_log, spectral_convergence_db, unit_phase

RATE = 8000
STFT_SMALL = STFT(n_fft=256, hop=64)


@pytest.fixture(scope="module")
def signal():
    return melody(1.0, RATE)


def snr_db(reference, estimate):
    return float(10 * torch.log10(reference.square().sum() / (reference - estimate).square().sum()))


def test_frame_count_and_log_magnitude_inverse(signal):
    spectrum = STFT_SMALL.forward(signal)
    assert spectrum.shape == (STFT_SMALL.n_freqs, STFT_SMALL.frames(signal.numel()))
    magnitude = spectrum.abs()
    assert torch.allclose(magnitude_from_log(log_magnitude(spectrum)), magnitude, rtol=1e-4, atol=1e-4)
    assert float(magnitude_from_log(torch.tensor([-0.5])).item()) == 0.0


def test_griffin_lim_from_the_true_phase_reconstructs_the_signal(signal):
    spectrum = STFT_SMALL.forward(signal)
    audio = griffin_lim(spectrum.abs(), STFT_SMALL, signal.numel(), iterations=20, phase=unit_phase(spectrum))
    assert audio.numel() == signal.numel()
    assert snr_db(signal, audio) > 60


def test_griffin_lim_from_random_phase_converges(signal):
    magnitude = STFT_SMALL.forward(signal).abs()

    def convergence(iterations, momentum=0.99):
        audio = griffin_lim(magnitude, STFT_SMALL, signal.numel(), iterations=iterations, momentum=momentum,
                            generator=torch.Generator().manual_seed(0))
        return spectral_convergence_db(magnitude, audio, STFT_SMALL)

    start, classic, fast = convergence(0), convergence(60, momentum=0.0), convergence(60)
    assert fast < start - 10, "60 iterations must bring the magnitude error down by more than 10 dB"
    assert fast < classic, "momentum (fast Griffin-Lim) must beat classic Griffin-Lim at equal iterations"
    reference = AF.griffinlim(
        magnitude, STFT_SMALL.window(), STFT_SMALL.n_fft, STFT_SMALL.hop, STFT_SMALL.n_fft,
        power=1.0, n_iter=60, momentum=0.99, length=signal.numel(), rand_init=True,
    )
    assert fast <= spectral_convergence_db(magnitude, reference, STFT_SMALL) + 1.0, "as good as torchaudio's"


def test_griffin_lim_rejects_bad_momentum(signal):
    with pytest.raises(ValueError):
        griffin_lim(STFT_SMALL.forward(signal).abs(), STFT_SMALL, signal.numel(), momentum=1.0)


def test_stft_length_helpers_agree():
    for samples in (256, 1000, 8000):
        frames = STFT_SMALL.frames(samples)
        assert frames == 1 + samples // 64
        assert STFT_SMALL.frames(STFT_SMALL.samples(frames)) == frames
    assert STFT().n_freqs == 1025 and math.isclose(STFT().hop / 22050, 0.0232, abs_tol=1e-4)


@pytest.mark.parametrize("given_phase", [False, True])
def test_griffin_lim_in_chunks_matches_one_pass_without_seams(given_phase):
    """A 6-s melody's magnitude recovered in chunks of 300 frames sharing 80 (20 windows, as a transfer's 2 s share 21):
    as consistent as one pass over the whole, and no worse where one chunk took over from the other than elsewhere."""
    from multistyle.audio.spectral import griffin_lim_in_chunks

    signal = melody(6.0, RATE)
    spectrum = STFT_SMALL.forward(signal)
    magnitude = spectrum.abs()
    phase = unit_phase(spectrum) if given_phase else None
    whole = griffin_lim(magnitude, STFT_SMALL, signal.numel(), iterations=30, phase=phase, generator=torch.Generator().manual_seed(0))
    chunked = griffin_lim_in_chunks(magnitude, STFT_SMALL, signal.numel(), 300, 80, iterations=30, phase=phase,
                                    generator=torch.Generator().manual_seed(0))
    assert chunked.shape == whole.shape
    whole_db, chunked_db = (spectral_convergence_db(magnitude, x, STFT_SMALL) for x in (whole, chunked))
    assert chunked_db < max(whole_db + 1, -60), (chunked_db, whole_db)  # from the true phase both are near exact
    error = (STFT_SMALL.forward(chunked).abs() - magnitude).abs().sum(0) / magnitude.sum(0).clamp_min(1e-6)
    frames = magnitude.shape[-1]
    seams = torch.zeros(frames, dtype=torch.bool)
    for a in (list(range(0, frames - 300, 220)) + [frames - 300])[1:]:
        seams[a : a + 80] = True
    assert error[seams].max() <= 1.5 * error[~seams].quantile(0.99) + 0.01
    with pytest.raises(ValueError, match="overlap"):
        griffin_lim_in_chunks(magnitude, STFT_SMALL, signal.numel(), 60, 60)
