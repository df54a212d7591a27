"""Audio of any length (issue 38 item 4): a long clip is optimised in overlapping windows, crossfaded, with one
window's spectrogram in the optimiser at a time and no jump in the spectrum where windows meet."""
import pytest
import torch

from multistyle.audio import transfer as transfer_module
from multistyle.audio.config import GrinsteinConfig
from multistyle.audio.samples import filtered_noise, melody
from multistyle.audio.transfer import transfer
from multistyle.errors import InputError

RATE = 8000
SMALL = dict(sample_rate=RATE, n_fft=256, hop=64, griffin_lim_iters=20, random_filters=256, steps=8)


def spectral_flux(log_spectrogram: torch.Tensor) -> torch.Tensor:
    """Per frame: the mean rise of the magnitude spectrum since the frame before (onsets, and seams)."""
    magnitude = log_spectrogram.expm1().clamp_min(0)
    return (magnitude[..., 1:] - magnitude[..., :-1]).clamp_min(0).mean(0)


def test_a_long_clip_is_optimised_window_by_window_without_seams(monkeypatch):
    content, style = melody(6.0, RATE), filtered_noise(1.5, RATE, 500, 2500)
    widths, real = [], transfer_module.SpectrogramStyleLoss.__call__

    def recording(self, log_spectrogram):
        widths.append(log_spectrogram.shape[-1])
        return real(self, log_spectrogram)

    monkeypatch.setattr(transfer_module.SpectrogramStyleLoss, "__call__", recording)
    config = GrinsteinConfig(window_seconds=2.0, window_overlap=0.4, **SMALL)
    result = transfer(content, style, config)
    window = round(2.0 * RATE / 64)
    assert result.audio.shape == content.shape and torch.isfinite(result.audio).all()
    assert max(widths) == window, "the optimiser never sees more than one window"
    assert result.style_reduction > 0.5
    frames = result.log_spectrogram.shape[-1]
    step = window - round(0.4 * RATE / 64)
    seams = [s for s in range(step, frames - window, step)] + [frames - window]
    flux = spectral_flux(result.log_spectrogram)
    at_seams = torch.stack([flux[s - 1 : s + round(0.4 * RATE / 64) + 1].max() for s in seams])
    assert at_seams.max() <= flux.quantile(0.95), "no seam stands out of the clip's own flux"
    whole = transfer(content, style, GrinsteinConfig(window_seconds=0, **SMALL))
    assert whole.audio.shape == content.shape  # 0: the whole spectrogram at once, as before


@pytest.mark.parametrize("window, overlap", [(-1, 0.5), (1.0, 0.6)])
def test_bad_windows_are_user_errors(window, overlap):
    with pytest.raises(InputError, match="window_seconds"):
        GrinsteinConfig(window_seconds=window, window_overlap=overlap).validate()
