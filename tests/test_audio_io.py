import numpy as np
import pytest
import soundfile
import torch

from multistyle.audio.io import PEAK, load_audio, save_wav
from multistyle.errors import InputError


def sine(freq, seconds, rate, amplitude=0.5):
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(signal: torch.Tensor, rate: int) -> float:
    spectrum = torch.fft.rfft(signal).abs()
    return float(torch.fft.rfftfreq(signal.numel(), 1 / rate)[spectrum.argmax()])


def test_stereo_44k_is_mixed_to_mono_resampled_and_peak_normalised(tmp_path):
    left, right = sine(440, 1.0, 44100, 0.3), sine(440, 1.0, 44100, 0.1)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 44100)
    audio = load_audio(path, 22050)
    assert audio.ndim == 1 and audio.dtype == torch.float32
    assert audio.numel() == 22050
    assert float(audio.abs().max()) == pytest.approx(PEAK, abs=1e-4)
    assert dominant_hz(audio, 22050) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("suffix, subtype", [(".flac", "PCM_16"), (".ogg", "VORBIS")])
def test_other_formats_load(tmp_path, suffix, subtype):
    path = tmp_path / f"tone{suffix}"
    soundfile.write(path, sine(330, 0.5, 16000), 16000, subtype=subtype)
    audio = load_audio(path, 8000)
    assert abs(audio.numel() - 4000) <= 1
    assert dominant_hz(audio, 8000) == pytest.approx(330, abs=4)


@pytest.mark.parametrize("subtype, tolerance", [("pcm16", 1 / 32767), ("float", 1e-7)])
def test_save_wav_round_trip(tmp_path, subtype, tolerance):
    signal = torch.from_numpy(sine(220, 0.25, 8000, 0.9))
    path = tmp_path / "out.wav"
    save_wav(signal, path, 8000, subtype)
    data, rate = soundfile.read(path, dtype="float32")
    assert rate == 8000 and soundfile.info(path).subtype == {"pcm16": "PCM_16", "float": "FLOAT"}[subtype]
    assert np.abs(data - signal.numpy()).max() <= tolerance
    assert list(tmp_path.iterdir()) == [path], "no temporary files left behind"


def test_save_wav_refuses_other_suffixes(tmp_path):
    with pytest.raises(InputError, match=r"\.wav"):
        save_wav(torch.zeros(10), tmp_path / "out.mp3", 8000)


def test_shared_mp3_decodes_offline(shared_data):
    audio = load_audio(shared_data / "audio" / "imperial.mp3", 22050)
    assert audio.numel() / 22050 == pytest.approx(10.0, abs=0.1)
    assert torch.isfinite(audio).all()


def write_bad_input(tmp_path, case):
    path = tmp_path / (f"{case}.m4a" if case == "unknown_format" else f"{case}.wav")
    if case == "missing":
        return path
    if case == "folder":
        path.mkdir()
    elif case in ("not_audio", "unknown_format"):
        path.write_text("this is not audio\n" * 20)
    elif case == "empty_file":
        path.write_bytes(b"")
    elif case == "no_samples":
        soundfile.write(path, np.zeros((0, 1), np.float32), 8000)
    elif case == "silent":
        soundfile.write(path, np.zeros(8000, np.float32), 8000)
    elif case == "nan":
        data = sine(220, 0.5, 8000)
        data[100] = np.nan
        soundfile.write(path, data, 8000, subtype="FLOAT")
    elif case == "inf":
        data = sine(220, 0.5, 8000)
        data[100] = np.inf
        soundfile.write(path, data, 8000, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "case, message",
    [("missing", "not found"), ("folder", "folder"), ("not_audio", "not an audio file soundfile can read"),
     ("unknown_format", "not an audio file soundfile or librosa can read"), ("empty_file", "is empty"),
     ("no_samples", "no audio samples"), ("silent", "silent"), ("nan", "NaN or infinite"), ("inf", "NaN or infinite")],
)
def test_bad_input_is_a_user_error_naming_the_file(tmp_path, case, message):
    path = write_bad_input(tmp_path, case)
    with pytest.raises(InputError, match=message) as error:
        load_audio(path, 8000)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
