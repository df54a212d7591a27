import json

import numpy as np
import pytest
import soundfile

from multistyle.audio.samples import filtered_noise, melody

FAST = ["--sample-rate", 8000, "--n-fft", 256, "--hop", 64, "--steps", 8, "--griffin-lim-iters", 10, "--quiet"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A stereo 16 kHz melody as content and a mono 11.025 kHz noise as style: rates differ on purpose."""
    folder = tmp_path_factory.mktemp("clips")
    tune = melody(1.0, 16000).numpy()
    soundfile.write(folder / "content.wav", np.stack([tune, 0.5 * tune], axis=1), 16000)
    soundfile.write(folder / "style.flac", filtered_noise(1.0, 11025, 400, 3000).numpy(), 11025)
    return folder / "content.wav", folder / "style.flac"


def test_transfer_writes_wav_plot_and_report(cli, clips, tmp_path):
    out = tmp_path / "result.wav"
    code, stdout, err = cli("audio", "transfer", *clips, "-o", out, *FAST)
    assert code == 0, err
    data, rate = soundfile.read(out)
    assert rate == 8000 and data.ndim == 1 and len(data) == 8000, "mono, at the working rate, as long as the content"
    assert soundfile.info(out).subtype == "PCM_16"
    assert out.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["config"]["extractor"] == "random" and report["iterations"] == 8
    assert report["final_loss_terms"]["style"] < report["initial_loss_terms"]["style"]
    assert set(report["timings_s"]) == {"features", "optimisation", "griffin_lim", "total"}
    assert "wrote" in stdout


def test_texture_has_the_requested_seconds_and_a_custom_plot_path(cli, clips, tmp_path):
    out, plot = tmp_path / "texture.wav", tmp_path / "figures" / "texture_spectrogram.png"
    code, _, err = cli("audio", "texture", clips[1], "-o", out, "--seconds", 0.6, "--plot", plot, "--float-wav", *FAST)
    assert code == 0, err
    assert soundfile.info(out).frames == 4800 and soundfile.info(out).subtype == "FLOAT"
    assert plot.read_bytes().startswith(PNG_MAGIC) and not out.with_suffix(".png").exists()
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["config"]["extractor"] == "auditory", "textures default to McDermott & Simoncelli's statistics"


def test_config_file_and_flags_combine(cli, clips, tmp_path):
    config = tmp_path / "small.toml"
    config.write_text('extractor = "auditory"\nauditory_bands = 12\nauditory_fmin = 100.0\nsteps = 3\n')
    out = tmp_path / "auditory.wav"
    code, _, err = cli("audio", "transfer", *clips, "-o", out, "--config", config, *FAST)
    assert code == 0, err
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["config"]["extractor"] == "auditory" and report["config"]["steps"] == 8, "flags override the file"


@pytest.mark.parametrize("case", ["missing", "not_audio", "silent", "nan", "short", "output_suffix", "plot_suffix",
                                  "extractor", "config_key"])
def test_bad_input_is_one_clear_line_and_leaves_no_output(cli, clips, tmp_path, case):
    content, style = clips
    out, extra = tmp_path / "out.wav", []
    if case == "missing":
        content = tmp_path / "nope.wav"
    elif case == "not_audio":
        content = tmp_path / "notes.mp3"
        content.write_text("not audio at all")
    elif case == "silent":
        content = tmp_path / "silent.wav"
        soundfile.write(content, np.zeros(8000, np.float32), 8000)
    elif case == "nan":
        content = tmp_path / "nan.wav"
        soundfile.write(content, np.full(8000, np.nan, np.float32), 8000, subtype="FLOAT")
    elif case == "short":
        content = tmp_path / "short.wav"
        soundfile.write(content, melody(0.02, 8000).numpy(), 8000)
    elif case == "output_suffix":
        out = tmp_path / "out.mp3"
    elif case == "plot_suffix":
        extra = ["--plot", tmp_path / "plot.jpg"]
    elif case == "extractor":
        extra = ["--extractor", "soundnet"]
    elif case == "config_key":
        bad = tmp_path / "bad.toml"
        bad.write_text("filters = 3\n")
        extra = ["--config", bad]
    code, _, err = cli("audio", "transfer", content, style, "-o", out, *FAST, *extra)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert not out.exists()
    assert not [p for p in tmp_path.rglob("*") if p.suffix in {".json", ".png", ".tmp"}], "no partial outputs"
