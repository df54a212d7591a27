"""The settings of Grinstein et al.'s audio style transfer, mirrored by configs/audio/grinstein.toml."""
from dataclasses import dataclass

from multistyle.audio.extractors import EXTRACTORS
from multistyle.audio.io import MAX_SAMPLE_RATE, WAV_SUBTYPES
from multistyle.audio.spectral import STFT
from multistyle.core.vgg import LAYER_NAMES
from multistyle.errors import InputError

# An evaluation costs ~1 s (random), ~5 s (vgg) or ~0.03 s (auditory) on a 10 s clip and a 2-core CPU.
# On imperial x usa the random net's Gram loss falls by 99 % within 20; the auditory statistics need ~150.
MAX_N_FFT = 65_536
DEFAULT_STEPS = {"random": 20, "vgg": 20, "auditory": 150}


@dataclass
class GrinsteinConfig:
    extractor: str = "random"  # random | vgg | auditory
    steps: int | None = None  # loss evaluations; None: the extractor's own default (DEFAULT_STEPS)
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam
    style_weight: float = 1.0
    content_weight: float = 0.0  # Grinstein et al.: none; > 0 gives Ulyanov & Lebedev's content term
    init: str = "content"  # "content" (Grinstein et al.) or "noise"
    patience: int = 0  # stop when this many evaluations improve the loss by < rel_tol; 0 = never
    rel_tol: float = 1e-4
    sample_rate: int = 22050
    n_fft: int = 2048
    hop: int = 512
    griffin_lim_iters: int = 50  # from the content's phase, 50 match 100 from a random phase
    griffin_lim_momentum: float = 0.99
    griffin_lim_phase: str = "auto"  # auto: start from the content's phase when content-initialised; random: always random
    random_filters: int = 4096  # Ulyanov & Lebedev: one conv layer, 4096 filters of width 11
    random_width: int = 11
    vgg_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    vgg_pooling: str = "avg"
    auditory_bands: int = 32  # McDermott & Simoncelli: 30 to 32 ERB-spaced cochlear bands, compression 0.3
    auditory_fmin: float = 50.0
    auditory_compression: float = 0.3
    modulation_bands: int = 6  # octaves from 0.5 Hz: the frame rate (sample_rate / hop) caps the top one
    seed: int = 0
    device: str = "auto"
    wav_format: str = "pcm16"  # pcm16 | float
    # A content clip longer than window_seconds is optimised in windows of that length overlapping by window_overlap
    # seconds: each starts from the previous one's result where they overlap and is crossfaded into it, so memory
    # stays bounded whatever the length; 0 optimises the whole spectrogram at once.
    window_seconds: float = 30.0
    window_overlap: float = 2.0

    def validate(self) -> None:
        choices = {"extractor": (self.extractor, EXTRACTORS), "optimizer": (self.optimizer, ("lbfgs", "adam")),
                   "init": (self.init, ("content", "noise")), "vgg_pooling": (self.vgg_pooling, ("avg", "max")),
                   "griffin_lim_phase": (self.griffin_lim_phase, ("auto", "random")),
                   "wav_format": (self.wav_format, tuple(WAV_SUBTYPES))}
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise InputError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}, not {value!r}")
        at_least = {"steps": (self.evaluations, 1), "n_fft": (self.n_fft, 16), "hop": (self.hop, 1),
                    "sample_rate": (self.sample_rate, 4000), "griffin_lim_iters": (self.griffin_lim_iters, 0),
                    "random_filters": (self.random_filters, 1), "random_width": (self.random_width, 1),
                    "auditory_bands": (self.auditory_bands, 2), "modulation_bands": (self.modulation_bands, 1),
                    "patience": (self.patience, 0)}
        for name, (value, low) in at_least.items():
            if value < low:
                raise InputError(f"--{name.replace('_', '-')} must be at least {low}, not {value}")
        if self.hop > self.n_fft:
            raise InputError(f"--hop {self.hop} is longer than --n-fft {self.n_fft}: frames would skip samples")
        if not 0 <= self.griffin_lim_momentum < 1:
            raise InputError("--griffin-lim-momentum must be in [0, 1)")
        if self.style_weight <= 0 or self.content_weight < 0:
            raise InputError("--style-weight must be positive and --content-weight non-negative")
        if not 0 < self.auditory_compression <= 1:
            raise InputError("auditory_compression must be in (0, 1]")
        if not self.vgg_layers:
            raise InputError("vgg_layers must name at least one layer")
        unknown = sorted(set(self.vgg_layers) - set(LAYER_NAMES))
        if unknown:
            raise InputError(f"unknown VGG-19 layer {', '.join(unknown)}; use names like relu1_1 or conv2_1")
        at_most = {"n_fft": (self.n_fft, MAX_N_FFT), "sample_rate": (self.sample_rate, MAX_SAMPLE_RATE),
                   "steps": (self.evaluations, 100_000), "griffin_lim_iters": (self.griffin_lim_iters, 10_000),
                   "random_filters": (self.random_filters, 65_536), "random_width": (self.random_width, 1024),
                   "auditory_bands": (self.auditory_bands, 256), "modulation_bands": (self.modulation_bands, 32)}
        for name, (value, high) in at_most.items():
            if value > high:
                raise InputError(f"--{name.replace('_', '-')} must be at most {high}, not {value}")
        # after the bounds: a window must hold a whole STFT frame, so a huge --n-fft is named as such first
        if self.window_seconds < 0 or self.window_overlap < 0 or (
                self.window_seconds and self.window_seconds < 2 * self.window_overlap + self.n_fft / self.sample_rate):
            raise InputError("window_seconds must be 0 (no windows) or more than twice window_overlap (>= 0)")

    @property
    def evaluations(self) -> int:
        return DEFAULT_STEPS[self.extractor] if self.steps is None else self.steps

    @property
    def stft(self) -> STFT:
        return STFT(self.n_fft, self.hop)


@dataclass
class TextureConfig(GrinsteinConfig):
    """Texture synthesis defaults: McDermott & Simoncelli's statistics are a texture model, and fast."""

    extractor: str = "auditory"
