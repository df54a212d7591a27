"""Grinstein, Duong, Ozerov & Perez (ICASSP 2018): audio style transfer in the spectrogram domain.

The log-spectrogram itself is optimised. Transfer starts from the CONTENT's spectrogram and minimises
a style-only loss (the style clip's Gram matrices or auditory statistics); a content weight > 0 adds
Ulyanov & Lebedev's feature-matching content term. Texture synthesis starts from noise shaped to the
style's average spectrum, with the same style loss. Griffin-Lim then recovers a waveform, starting
from the content's phase when the result grew out of the content's spectrogram.
"""
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from multistyle.audio.auditory import AuditoryStatistics
from multistyle.audio.config import GrinsteinConfig
from multistyle.audio.extractors import (
    AuditoryExtractor,
    RandomConvExtractor,
    SpectrogramExtractor,
    VGGExtractor,
)
from multistyle.audio.io import AudioLike, check_wav_path, describe, load_signal, peak_normalise, save_wav
from multistyle.audio.plot import check_png_path, save_spectrogram_panel
from multistyle.audio.spectral import (
    STFT,
    griffin_lim_in_chunks,
    log_magnitude,
    magnitude_from_log,
    spectral_convergence_db,
    unit_phase,
)
from multistyle.core.checkpoint import write_json
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.optimize import OptimizationResult, optimize_input
from multistyle.core.paths import check_output
from multistyle.core.pipeline import Output, Pipeline, batched, plain
from multistyle.core.runtime import seed_everything, select_device
from multistyle.errors import InputError

MAX_TEXTURE_SECONDS = 600.0


@dataclass(repr=False)
class AudioResult(Output):
    method = "grinstein"  # a class attribute, not a field
    audio: torch.Tensor  # (samples,) at the config's sample rate, peak-normalised
    log_spectrogram: torch.Tensor  # (F, T) the optimised spectrogram the audio was reconstructed from
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # seconds: features, optimisation, griffin_lim
    griffin_lim_convergence_db: float = 0.0  # how far the audio's magnitude is from the optimised one
    config: GrinsteinConfig | None = None
    mode: str = "transfer"  # or "texture"
    inputs: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)  # log-spectrograms of the inputs, for the figure
    sources: list[Path] = field(default_factory=list, repr=False)  # the input files, which `save` never overwrites

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def losses(self) -> dict[str, float]:
        return self.best_terms

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def report(self, **inputs) -> dict:
        timings = {k: round(v, 3) for k, v in self.timings.items()}
        timings["total"] = round(self.seconds, 3)
        return {
            "method": "grinstein", "mode": self.mode, **inputs,
            "seconds_of_audio": round(self.audio.numel() / self.sample_rate, 3),
            "config": config_dict(self.config),
            "iterations": self.iterations, "stopped_early": self.stopped_early,
            "initial_loss_terms": self.initial_terms, "final_loss_terms": self.best_terms,
            "style_loss_reduction": round(self.style_reduction, 4),
            "griffin_lim_spectral_convergence_db": round(self.griffin_lim_convergence_db, 2),
            "timings_s": timings,
        }

    def save(self, path: str | Path, plot: str | Path | None = None, report: bool = True, **inputs) -> Path:
        """OUT.wav, a spectrogram figure (OUT.png unless `plot`) and OUT.json. The JSON is written last: a
        report on disk means every output is complete."""
        output = check_wav_path(path)
        plot_path = check_png_path(plot) if plot is not None else output.with_suffix(".png")
        for written in (output, plot_path, output.with_suffix(".json")):
            check_output(written, self.sources)
        save_wav(self.audio, output, self.sample_rate, self.config.wav_format)
        save_spectrogram_panel([*self.inputs.items(), ("result", self.log_spectrogram)], plot_path, self.sample_rate, self.config.hop)
        if report:
            write_json(output.with_suffix(".json"), {**self.report(**plain(inputs)), "output": str(output), "plot": str(plot_path)})
        return output

    @property
    def iterations(self) -> int:
        return len(self.history)

    @property
    def initial_terms(self) -> dict[str, float]:
        return self.history[0]

    @property
    def best_terms(self) -> dict[str, float]:
        """The terms of the returned iterate (the best seen, not necessarily the last evaluated)."""
        return min(self.history, key=lambda h: h["total"])

    @property
    def style_reduction(self) -> float:
        """1 - final / initial style loss: 0.8 means the style loss fell by 80 %; 0 when there was none to lose
        (content and style with the same statistics)."""
        initial = self.initial_terms["style"]
        return 1.0 - self.best_terms["style"] / initial if initial > 0 else 0.0

    def _repr_fields(self) -> str:
        return (f"mode={self.mode!r}, seconds_of_audio={self.audio.numel() / self.sample_rate:.2f}, "
                f"style_loss_reduction={self.style_reduction:.3f}, seconds={self.seconds:.2f}")

    def summary(self) -> str:
        stages = ", ".join(f"{name.replace('_', '-')} {seconds:.1f} s" for name, seconds in self.timings.items())
        change = -100 * self.style_reduction
        return f"{self.iterations} evaluations in all, style loss {change:+.1f} %; {stages}"


def build_extractor(config: GrinsteinConfig) -> SpectrogramExtractor:
    stft = config.stft
    if config.extractor == "random":
        return RandomConvExtractor(stft.n_freqs, config.random_filters, config.random_width, config.seed)
    if config.extractor == "vgg":
        full_scale = math.log1p(stft.n_fft / 4)  # the peak bin of a full-scale sine under a Hann window
        return VGGExtractor(config.vgg_layers, config.vgg_pooling, full_scale)
    try:
        statistics = AuditoryStatistics(
            stft.n_fft, config.sample_rate, stft.hop, config.auditory_bands, config.auditory_fmin,
            compression=config.auditory_compression, modulation_bands=config.modulation_bands,
        )
    except ValueError as e:
        raise InputError(f"auditory extractor: {e}") from None
    return AuditoryExtractor(statistics)


class SpectrogramStyleLoss:
    """Style term (and optional content term) of a log-spectrogram against fixed targets."""

    def __init__(self, extractor: SpectrogramExtractor, config: GrinsteinConfig, style: torch.Tensor, content: torch.Tensor | None = None):
        self.extractor, self.config = extractor, config
        self.content_targets_source = content if content is not None and config.content_weight > 0 else None
        with torch.no_grad():
            self.style_targets = extractor.statistics(extractor.features(style))
        self.set_content(self.content_targets_source)

    def set_content(self, content: torch.Tensor | None) -> None:
        """The content term's target: the features of `content` (a window's part of the clip), or none."""
        with torch.no_grad():
            self.content_targets = self.extractor.features(content) if content is not None and self.config.content_weight > 0 else None

    def __call__(self, log_spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.extractor.features(log_spectrogram)
        style = self.extractor.style_distance(self.extractor.statistics(features), self.style_targets)
        terms = {"style": self.config.style_weight * style}
        if self.content_targets is not None:
            terms["content"] = self.config.content_weight * self.extractor.content_distance(features, self.content_targets)
        return terms


def require_frames(samples: int, label: str, config: GrinsteinConfig, extractor: SpectrogramExtractor) -> None:
    """A clip must fill one FFT frame, and give the extractor the frames it needs."""
    rate, stft = config.sample_rate, config.stft
    if samples < stft.n_fft:
        raise InputError(
            f"{label}: {samples / rate:.3f} s is shorter than one FFT frame "
            f"({stft.n_fft} samples = {stft.n_fft / rate:.3f} s at {rate} Hz)"
        )
    if stft.frames(samples) < extractor.min_frames:
        need = stft.samples(extractor.min_frames) / rate
        raise InputError(f"{label}: the {config.extractor} extractor needs at least {need:.2f} s of audio")


def shaped_noise_log_spectrogram(samples: int, reference: torch.Tensor, stft: STFT, generator: torch.Generator) -> torch.Tensor:
    """The log-spectrogram of white noise reshaped to `reference`'s average magnitude at each frequency.

    A neutral start for synthesis that is already silent where the reference is: optimising a random
    net's Gram matrices from plain white noise leaves a haze in bands the style never uses.
    """
    noise = stft.forward(torch.randn(samples, generator=generator)).abs().to(reference.device)
    wanted = magnitude_from_log(reference).mean(-1, keepdim=True)
    return torch.log1p(noise * wanted / noise.mean(-1, keepdim=True).clamp_min(1e-12))


def _synthesise(
    init: torch.Tensor, loss: SpectrogramStyleLoss, phase: torch.Tensor | None, length: int,
    config: GrinsteinConfig, generator: torch.Generator, show_progress: bool, description: str,
) -> AudioResult:
    """Optimise the log-spectrogram from `init` (in windows when it is long), then recover `length` samples by
    Griffin-Lim."""
    result = _optimise_in_windows(init, loss, config, show_progress, description)
    start = time.perf_counter()
    log_spectrogram = result.output.clamp_min(0)
    magnitude = magnitude_from_log(log_spectrogram)
    stft = config.stft
    # In the optimisation's windows too, so that a long clip's memory stays a window's (spectral.griffin_lim_in_chunks)
    window = round(config.window_seconds * config.sample_rate / config.hop)
    overlap = max(1, round(config.window_overlap * config.sample_rate / config.hop))
    audio = griffin_lim_in_chunks(magnitude, stft, length, window if overlap < window else 0, overlap,
                                  iterations=config.griffin_lim_iters, momentum=config.griffin_lim_momentum, phase=phase,
                                  generator=generator)
    convergence = spectral_convergence_db(magnitude, audio, stft)
    timings = {"optimisation": result.seconds, "griffin_lim": time.perf_counter() - start}
    try:
        audio = peak_normalise(audio)
    except ValueError:
        raise InputError("the result is silent; try more --steps or another --extractor") from None
    return AudioResult(audio.cpu(), log_spectrogram.cpu(), result.history, result.stopped_early, timings, convergence)


def _optimise_in_windows(init: torch.Tensor, loss: "SpectrogramStyleLoss", config: GrinsteinConfig,
                         show_progress: bool, description: str) -> OptimizationResult:
    """The log-spectrogram optimised in windows of config.window_seconds overlapping by config.window_overlap (all at
    once when it is shorter): each window starts from the previous window's result where they overlap, and its result
    is crossfaded linearly into it there, so no edge is heard and only one window's features are in memory. Where the
    loss has a content term, each window is compared with its own part of the content. The history is the sum of the
    windows' terms, evaluation by evaluation."""
    frames = init.shape[-1]
    window = round(config.window_seconds * config.sample_rate / config.hop)
    overlap = round(config.window_overlap * config.sample_rate / config.hop)

    def optimise(x: torch.Tensor) -> OptimizationResult:
        return optimize_input(
            x.contiguous(), loss, config.evaluations,  # an STFT's output is strided; L-BFGS views gradients flat
            optimizer=config.optimizer, lr=config.lr, patience=config.patience, rel_tol=config.rel_tol,
            description=description if len(starts) == 1 else f"{description}, window {len(results) + 1}/{len(starts)}",
            show_progress=show_progress,
        )

    results: list[OptimizationResult] = []
    if not window or frames <= window:
        starts = [0]
        return optimise(init)
    step = window - overlap
    starts = list(range(0, frames - window, step)) + [frames - window]  # the last window ends with the clip
    output, content = init.clone(), loss.content_targets_source
    done = 0  # frames of `output` already optimised
    for begin in starts:
        end = begin + window
        shared = done - begin  # frames this window shares with the previous one
        piece = init[..., begin:end].clone()
        if shared > 0:
            piece[..., :shared] = output[..., begin:done]
        loss.set_content(content[..., begin:end] if content is not None else None)
        results.append(optimise(piece))
        optimised = results[-1].output.detach()
        if shared > 0:
            ramp = torch.linspace(0, 1, shared + 2, device=optimised.device)[1:-1]
            output[..., begin:done] = (1 - ramp) * output[..., begin:done] + ramp * optimised[..., :shared]
        output[..., max(done, begin):end] = optimised[..., max(shared, 0):]
        done = end
    loss.set_content(content)
    longest = max(len(r.history) for r in results)
    history = [{key: sum(r.history[min(i, len(r.history) - 1)][key] for r in results) for key in results[0].history[0]}
               for i in range(longest)]
    return OptimizationResult(output, history, all(r.stopped_early for r in results), sum(r.seconds for r in results))


def transfer(
    content: torch.Tensor, style: torch.Tensor, config: GrinsteinConfig, *,
    labels: tuple[str, str] = ("content", "style"), show_progress: bool = False,
) -> AudioResult:
    """Restyle a mono `content` signal with a mono `style` signal (both at config.sample_rate).

    The result has exactly the content's length. `labels` name the inputs in error messages.
    """
    config.validate()
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    start = time.perf_counter()
    extractor = build_extractor(config).to(device)
    for signal, label in zip((content, style), labels):
        require_frames(signal.numel(), label, config, extractor)
    stft = config.stft
    content_spectrum = stft.forward(content.to(device))
    content_log = log_magnitude(content_spectrum)
    style_log = log_magnitude(stft.forward(style.to(device)))
    extractor.check_fits(content_log, style_log)
    loss = SpectrogramStyleLoss(extractor, config, style_log, content_log)
    if config.init == "content":
        init = content_log
    else:
        init = shaped_noise_log_spectrogram(content.numel(), content_log, stft, generator)
    phase = unit_phase(content_spectrum) if config.init == "content" and config.griffin_lim_phase == "auto" else None
    features_seconds = time.perf_counter() - start
    result = _synthesise(init, loss, phase, content.numel(), config, generator, show_progress, f"audio transfer ({config.extractor})")
    result.timings = {"features": features_seconds, **result.timings}
    result.config, result.mode, result.inputs = config, "transfer", {"content": content_log.cpu(), "style": style_log.cpu()}
    return result


def texture(
    style: torch.Tensor, seconds: float, config: GrinsteinConfig, *, label: str = "style", show_progress: bool = False,
) -> AudioResult:
    """`seconds` of new audio with the statistics of `style`, synthesised from spectrally shaped noise (random phase)."""
    config.validate()
    if not 0 < seconds <= MAX_TEXTURE_SECONDS:
        raise InputError(f"--seconds must be in (0, {MAX_TEXTURE_SECONDS:g}], not {seconds:g}")
    device = select_device(config.device)
    generator = seed_everything(config.seed)
    start = time.perf_counter()
    extractor = build_extractor(config).to(device)
    length = round(seconds * config.sample_rate)
    require_frames(style.numel(), label, config, extractor)
    require_frames(length, f"--seconds {seconds:g}", config, extractor)
    stft = config.stft
    style_log = log_magnitude(stft.forward(style.to(device)))
    init = shaped_noise_log_spectrogram(length, style_log, stft, generator)
    extractor.check_fits(init, style_log)
    loss = SpectrogramStyleLoss(extractor, config, style_log)
    features_seconds = time.perf_counter() - start
    result = _synthesise(init, loss, None, length, config, generator, show_progress, f"audio texture ({config.extractor})")
    result.timings = {"features": features_seconds, **result.timings}
    result.config, result.mode, result.inputs = config, "texture", {"style": style_log.cpu()}
    return result


class AudioTransfer(Pipeline):
    """Grinstein et al. (2018): restyle a clip in the spectrogram domain, or synthesise a style's texture.

    >>> result = AudioTransfer(extractor="random")("speech.wav", "rain.mp3")
    >>> result.save("out.wav")          # also out.png (spectrograms) and out.json

    Clips may be files or arrays/tensors (mono (samples,) or (channels, samples)) with their `sample_rate`, or a list
    of contents (a list of results).
    Settings are `GrinsteinConfig`'s; each call may override them.
    """

    def __init__(self, config: GrinsteinConfig | None = None, *, show_progress: bool = False, **overrides):
        self.config = with_overrides(config or GrinsteinConfig(), overrides)
        self.show_progress = show_progress

    @batched
    def __call__(self, content: AudioLike, style: AudioLike, *, sample_rate: int | None = None, **overrides) -> AudioResult:
        """`content` restyled by `style`; the result has the content's length at the config's sample rate."""
        config = with_overrides(self.config, overrides)
        config.validate()
        content_signal = load_signal(content, config.sample_rate, sample_rate, "content")
        style_signal = load_signal(style, config.sample_rate, sample_rate, "style")
        labels = (describe(content, "content"), describe(style, "style"))
        result = transfer(content_signal, style_signal, config, labels=labels, show_progress=self.show_progress)
        result.sources = [Path(a) for a in (content, style) if isinstance(a, (str, Path))]
        return result

    def texture(self, style: AudioLike, seconds: float | None = None, *, sample_rate: int | None = None, **overrides) -> AudioResult:
        """`seconds` (default: the style clip's length) of new audio with `style`'s statistics."""
        config = with_overrides(self.config, overrides)
        config.validate()
        signal = load_signal(style, config.sample_rate, sample_rate, "style")
        if seconds is None:
            seconds = signal.numel() / config.sample_rate
            if seconds > MAX_TEXTURE_SECONDS:
                raise InputError(f"{describe(style, 'style')}: is {seconds:.0f} s long and textures are at most "
                                 f"{MAX_TEXTURE_SECONDS:g} s; pass --seconds")
        result = texture(signal, seconds, config, label=describe(style, "style"), show_progress=self.show_progress)
        result.sources = [Path(style)] if isinstance(style, (str, Path)) else []
        return result
