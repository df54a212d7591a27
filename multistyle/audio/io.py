"""Reading and writing audio as 1-D float32 mono tensors at a working sample rate."""
import io
import warnings
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio.functional as AF

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError

WAV_SUBTYPES = {"pcm16": "PCM_16", "float": "FLOAT"}
# A file named like one of libsndfile's formats that libsndfile cannot read is corrupt: no fallback.
SOUNDFILE_SUFFIXES = {f".{name.lower()}" for name in soundfile.available_formats()} | {".aif", ".oga"}
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 192_000
MAX_CLIP_SECONDS = 1800.0  # longer inputs are refused before decoding: their spectrograms would not fit in memory
PEAK = 0.99  # peak level after normalisation: headroom so 16-bit rounding never clips


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """(frames, channels) float32 samples and the file's rate.

    libsndfile reads wav, flac, ogg and mp3; other suffixes fall back to librosa (audioread, which
    uses ffmpeg or GStreamer where installed).
    """
    if path.stat().st_size == 0:
        raise InputError(f"{path}: is empty (0 bytes)")
    try:
        seconds = soundfile.info(path).duration
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        seconds = None  # not for libsndfile: the fallback decodes it
    if seconds is not None and seconds > MAX_CLIP_SECONDS:
        raise InputError(f"{path}: is {seconds / 60:.0f} minutes long; clips of at most {MAX_CLIP_SECONDS / 60:.0f} minutes are "
                         "accepted (cut it first)")
    try:
        return soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
        if path.suffix.lower() in SOUNDFILE_SUFFIXES:
            raise InputError(f"{path}: not an audio file soundfile can read ({e})") from None
        soundfile_error = e
    import librosa  # slow to import: only the fallback needs it

    try:
        with warnings.catch_warnings():  # librosa warns that it is retrying soundfile, then audioread
            warnings.simplefilter("ignore")
            samples, rate = librosa.load(path, sr=None, mono=False, dtype=np.float32)
    except Exception:  # audioread raises backend-specific types
        raise InputError(f"{path}: not an audio file soundfile or librosa can read ({soundfile_error})") from None
    return np.atleast_2d(samples).T, int(rate)


AudioLike = str | Path | np.ndarray | torch.Tensor


def describe(audio: AudioLike, role: str) -> str:
    """How error messages name an input: its path, or its role for in-memory clips."""
    return str(audio) if isinstance(audio, (str, Path)) else role


def load_signal(audio: AudioLike, sample_rate: int, input_rate: int | None = None, role: str = "audio") -> torch.Tensor:
    """A file, or a mono (samples,) / multi-channel (channels, samples) array or tensor at `input_rate` Hz, as a
    mono float32 tensor at `sample_rate`, peak-normalised (see load_audio)."""
    if isinstance(audio, (str, Path)):
        return load_audio(audio, sample_rate)
    if not isinstance(audio, (np.ndarray, torch.Tensor)):
        raise InputError(f"{role}: expected a path, NumPy array or tensor, not {type(audio).__name__}")
    if input_rate is None:
        raise InputError(f"{role}: an in-memory clip needs its sample_rate")
    if not (isinstance(input_rate, int) and MIN_SAMPLE_RATE <= input_rate <= MAX_SAMPLE_RATE):
        raise InputError(f"{role}: sample_rate must be a whole number of Hz in [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}], not {input_rate}")
    samples = torch.as_tensor(np.asarray(audio) if isinstance(audio, np.ndarray) else audio.detach().cpu()).float()
    if samples.ndim == 2:
        samples = samples.mean(0 if samples.shape[0] <= samples.shape[1] else 1)
    if samples.ndim != 1:
        raise InputError(f"{role}: expected (samples,) or (channels, samples), not shape {tuple(np.shape(audio))}")
    return _prepare(samples, input_rate, sample_rate, role)


def _prepare(mono: torch.Tensor, rate: int, sample_rate: int, name: str) -> torch.Tensor:
    if mono.numel() == 0:
        raise InputError(f"{name}: contains no audio samples")
    if not torch.isfinite(mono).all():
        raise InputError(f"{name}: contains NaN or infinite samples")
    if rate != sample_rate:
        mono = AF.resample(mono, rate, sample_rate)
    try:
        return peak_normalise(mono)
    except ValueError:
        raise InputError(f"{name}: is silent (peak level below -120 dBFS)") from None


def load_audio(path: str | Path, sample_rate: int) -> torch.Tensor:
    """An audio file as a mono float32 tensor at `sample_rate`, peak-normalised to PEAK.

    Any channel count and file rate are accepted (mixed down, resampled); what cannot be stylised
    (unreadable, empty, silent, NaN/Inf samples) is a InputError naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected an audio file")
    samples, rate = _decode(path)
    if samples.shape[0] > MAX_CLIP_SECONDS * rate:
        raise InputError(f"{path}: is {samples.shape[0] / rate / 60:.0f} minutes long; clips of at most "
                         f"{MAX_CLIP_SECONDS / 60:.0f} minutes are accepted (cut it first)")
    if samples.size == 0:
        raise InputError(f"{path}: contains no audio samples")
    return _prepare(torch.from_numpy(np.ascontiguousarray(samples.mean(axis=1))), rate, sample_rate, str(path))


def peak_normalise(samples: torch.Tensor, peak: float = PEAK) -> torch.Tensor:
    top = samples.abs().max()
    if top <= 1e-6:
        raise ValueError("cannot normalise a silent signal")
    return samples * (peak / top)


def check_wav_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise InputError(f"{path}: audio is written as WAV; give an output path ending in .wav")
    return path


def save_wav(samples: torch.Tensor, path: str | Path, sample_rate: int, subtype: str = "pcm16") -> None:
    """Write a mono signal atomically as a 16-bit ("pcm16") or 32-bit float ("float") WAV file."""
    path = check_wav_path(path)
    if subtype not in WAV_SUBTYPES:
        raise InputError(f"WAV format must be one of {', '.join(WAV_SUBTYPES)}, not {subtype!r}")
    buffer = io.BytesIO()
    data = samples.detach().cpu().float().clamp(-1, 1).numpy()
    soundfile.write(buffer, data, sample_rate, subtype=WAV_SUBTYPES[subtype], format="WAV")
    atomic_write_bytes(path, buffer.getvalue())
