from dataclasses import replace
from pathlib import Path

import pytest
import torch

from multistyle.audio.config import GrinsteinConfig, TextureConfig
from multistyle.audio.extractors import RandomConvExtractor, relative_error
from multistyle.audio.samples import filtered_noise, melody
from multistyle.audio.spectral import griffin_lim, log_magnitude, magnitude_from_log, spectral_convergence_db, unit_phase
from multistyle.audio.transfer import build_extractor, texture, transfer
from multistyle.core.config import config_dict, load_config
from multistyle.errors import InputError

RATE = 8000
# Small spectrograms (129 bins x ~100 frames) keep every optimisation to about a second.
SMALL = dict(sample_rate=RATE, n_fft=256, hop=64, griffin_lim_iters=30, auditory_bands=16, auditory_fmin=100,
             vgg_layers=("relu1_1", "relu2_1"), random_filters=512)
STEPS = {"random": 20, "vgg": 10, "auditory": 80}
EXTRA = {"random": {}, "vgg": {"n_fft": 128}, "auditory": {}}  # VGG-19 is the costly one: a smaller image


@pytest.fixture(scope="module")
def signals():
    content = melody(1.5, RATE)  # a tone sequence
    style = filtered_noise(1.2, RATE, 500, 2500)  # band-limited noise: a different length on purpose
    return content, style


@pytest.mark.parametrize("extractor", ["random", "vgg", "auditory"])
def test_transfer_cuts_the_style_loss_by_80_percent_and_keeps_the_content_length(signals, extractor):
    content, style = signals
    config = GrinsteinConfig(extractor=extractor, steps=STEPS[extractor], **{**SMALL, **EXTRA[extractor]})
    result = transfer(content, style, config, show_progress=False)
    assert result.style_reduction >= 0.8, (extractor, result.initial_terms, result.best_terms)
    assert result.audio.shape == content.shape
    assert torch.isfinite(result.audio).all()
    assert set(result.timings) == {"features", "optimisation", "griffin_lim"}


def test_content_weight_keeps_the_result_closer_to_the_content(signals):
    content, style = signals
    config = GrinsteinConfig(extractor="random", steps=20, **SMALL)
    free = transfer(content, style, config, show_progress=False)
    held = transfer(content, style, replace(config, content_weight=10.0), show_progress=False)
    assert "content" in held.best_terms and "content" not in free.best_terms
    content_log = log_magnitude(config.stft.forward(content))
    assert relative_error(held.log_spectrogram, content_log) < relative_error(free.log_spectrogram, content_log)


def test_content_phase_starts_griffin_lim_closer_than_random_phase(signals):
    content, style = signals
    # A content term keeps the result between content and style, where the content's phase is a fair guess.
    config = GrinsteinConfig(extractor="random", steps=20, content_weight=1.0, **SMALL)
    result = transfer(content, style, config, show_progress=False)
    stft, magnitude = config.stft, magnitude_from_log(result.log_spectrogram)

    def convergence(iterations, phase):
        audio = griffin_lim(magnitude, stft, content.numel(), iterations=iterations, phase=phase,
                            generator=torch.Generator().manual_seed(0))
        return spectral_convergence_db(magnitude, audio, stft)

    content_phase = unit_phase(stft.forward(content))
    for iterations in (0, 5):
        assert convergence(iterations, content_phase) < convergence(iterations, None) - 3, iterations
    final = convergence(config.griffin_lim_iters, content_phase)
    assert final < convergence(config.griffin_lim_iters, None)
    assert result.griffin_lim_convergence_db == pytest.approx(final, abs=0.01)


@pytest.mark.parametrize("extractor", ["random", "auditory"])
def test_texture_has_the_requested_duration_and_the_style(signals, extractor):
    _, style = signals
    result = texture(style, 0.75, GrinsteinConfig(extractor=extractor, steps=STEPS[extractor], **SMALL), show_progress=False)
    assert result.audio.numel() == round(0.75 * RATE)
    assert result.style_reduction >= 0.5, "from noise, the style loss must at least halve"


def test_noise_init_is_seeded_and_reproducible(signals):
    content, style = signals
    config = GrinsteinConfig(extractor="random", steps=5, init="noise", **SMALL)
    first, second = (transfer(content, style, config, show_progress=False) for _ in range(2))
    assert torch.equal(first.audio, second.audio)
    assert first.audio.shape == content.shape


def test_random_extractor_is_seeded_wide_and_frozen():
    a, b, c = RandomConvExtractor(129, seed=0), RandomConvExtractor(129, seed=0), RandomConvExtractor(129, seed=1)
    assert a.conv.weight.shape == (4096, 129, 11)
    assert torch.equal(a.conv.weight, b.conv.weight) and not torch.equal(a.conv.weight, c.conv.weight)
    assert not any(p.requires_grad for p in a.parameters())
    features = a.features(torch.rand(129, 30))["relu"]
    assert features.shape == (1, 4096, 20) and features.min() >= 0


@pytest.mark.parametrize(
    "seconds, extractor, message",
    [(0.01, "random", "shorter than one FFT frame"), (0.05, "random", "needs at least"), (0.0, "random", "--seconds")],
)
def test_too_short_is_a_clear_error(signals, seconds, extractor, message):
    _, style = signals
    with pytest.raises(InputError, match=message):
        texture(style, seconds, GrinsteinConfig(extractor=extractor, **SMALL), show_progress=False)


def test_short_content_names_the_input(signals):
    _, style = signals
    with pytest.raises(InputError, match=r"^clip\.wav: .*shorter than one FFT frame"):
        transfer(torch.rand(100), style, GrinsteinConfig(**SMALL), labels=("clip.wav", "style.wav"), show_progress=False)


@pytest.mark.parametrize("override", [{"extractor": "soundnet"}, {"steps": 0}, {"hop": 4096}, {"griffin_lim_momentum": 1.0},
                                      {"init": "style"}, {"wav_format": "mp3"}, {"content_weight": -1.0}])
def test_invalid_config_is_a_user_error(override):
    with pytest.raises(InputError):
        GrinsteinConfig(**override).validate()


def test_every_extractor_builds_from_the_defaults():
    for name in ("random", "vgg", "auditory"):
        extractor = build_extractor(GrinsteinConfig(extractor=name))
        features = extractor.features(torch.rand(1025, 32))
        assert extractor.statistics(features), name


def test_texture_config_differs_only_in_its_extractor():
    assert config_dict(replace(TextureConfig(), extractor="random")) == config_dict(GrinsteinConfig())
    assert TextureConfig().extractor == "auditory" and GrinsteinConfig().extractor == "random"


def test_shipped_toml_matches_the_config_defaults():
    path = Path(__file__).resolve().parents[1] / "configs" / "audio" / "grinstein.toml"
    assert load_config(GrinsteinConfig, path) == GrinsteinConfig()
