"""`multistyle audio ...`: Grinstein et al.'s transfer and sound textures."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle.cli.common import ConfigFile, Quiet, Sets, config_option, default, guard, sets
from multistyle.cli.defaults import constant
from multistyle.core.config import COUNT_LIMITS

app = typer.Typer(no_args_is_help=True, help="Audio style transfer: Grinstein et al.'s spectrogram Gram method.")
# By name, defaults read from source (multistyle.cli.defaults): multistyle.audio.config imports torch.
C, TC = "multistyle.audio.config:GrinsteinConfig", "multistyle.audio.config:TextureConfig"
DEFAULT_STEPS = constant("multistyle.audio.config", "DEFAULT_STEPS")
Output = Annotated[Path, typer.Option("-o", "--output", help="Output .wav; OUT.json (config, losses, timings) and OUT.png are written beside it.")]
Steps = Annotated[Optional[int], typer.Option(help=f"Loss evaluations (default: {', '.join(f'{k} {v}' for k, v in DEFAULT_STEPS.items())}; "
                                                    f"at most {COUNT_LIMITS['steps']:,}).")]
Plot = Annotated[Optional[Path], typer.Option(help="Spectrogram figure (.png) (default: OUT.png).")]
NFFT = Annotated[Optional[int], typer.Option("--n-fft", help=default(C, "n_fft", "FFT size."))]
Hop = Annotated[Optional[int], typer.Option(help=default(C, "hop", "STFT hop in samples."))]
Rate = Annotated[Optional[int], typer.Option(help=default(C, "sample_rate", "Working sample rate in Hz."))]
GriffinLim = Annotated[Optional[int], typer.Option(help=default(C, "griffin_lim_iters", "Griffin-Lim iterations."))]
Seed = Annotated[Optional[int], typer.Option(help=default(C, "seed"))]
Device = Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default: auto).")]
FloatWav = Annotated[bool, typer.Option("--float-wav", help="Write 32-bit float WAV instead of 16-bit.")]


def _checked_config(cls: type, inputs: list[Path], output: Path, plot: Path | None, config: Path | None,
                    set_: list[str] | None, **flags):
    """Output paths checked before any work, then the config: defaults < file < --set < flags."""
    from multistyle.audio.io import check_wav_path
    from multistyle.audio.plot import check_png_path
    from multistyle.core.config import load_config

    check_wav_path(output)
    if plot is not None:
        check_png_path(plot)
    guard([output, output.with_suffix(".json"), plot or output.with_suffix(".png")], inputs)
    return load_config(cls, config, sets(set_), **flags)


@app.command("transfer")
def transfer(
    content: Annotated[Path, typer.Argument(help="Content clip (wav, flac, ogg, mp3, ...).")],
    style: Annotated[Path, typer.Argument(help="Style clip.")],
    output: Output,
    config: config_option("audio/grinstein") = None,
    set_: Sets = None,
    extractor: Annotated[Optional[str], typer.Option(help=default(C, "extractor", "random, vgg or auditory."))] = None,
    steps: Steps = None,
    plot: Plot = None,
    content_weight: Annotated[Optional[float], typer.Option(help=default(C, "content_weight", "Ulyanov & Lebedev's content term; 0 is Grinstein et al.'s style-only loss."))] = None,
    style_weight: Annotated[Optional[float], typer.Option(help=default(C, "style_weight"))] = None,
    init: Annotated[Optional[str], typer.Option(help=default(C, "init", "content or noise."))] = None,
    optimizer: Annotated[Optional[str], typer.Option(help=default(C, "optimizer", "lbfgs or adam."))] = None,
    n_fft: NFFT = None,
    hop: Hop = None,
    sample_rate: Rate = None,
    griffin_lim_iters: GriffinLim = None,
    griffin_lim_phase: Annotated[Optional[str], typer.Option(help=default(C, "griffin_lim_phase", "auto (the content's phase) or random."))] = None,
    window_seconds: Annotated[Optional[float], typer.Option(help=default(C, "window_seconds", "A longer clip is optimised (and its phase recovered) in windows of this many seconds, so memory stays a window's; 0: all at once."))] = None,
    window_overlap: Annotated[Optional[float], typer.Option(help=default(C, "window_overlap", "Seconds each window shares with the next, crossfaded."))] = None,
    seed: Seed = None,
    device: Device = None,
    float_wav: FloatWav = False,
    quiet: Quiet = False,
):
    """Grinstein et al.: start from the CONTENT's spectrogram and match the STYLE's feature statistics."""
    from multistyle.audio.config import GrinsteinConfig
    from multistyle.audio.transfer import AudioTransfer

    cfg = _checked_config(
        GrinsteinConfig, [content, style], output, plot, config, set_,
        extractor=extractor, steps=steps, content_weight=content_weight, style_weight=style_weight, init=init,
        optimizer=optimizer, n_fft=n_fft, hop=hop, sample_rate=sample_rate, griffin_lim_iters=griffin_lim_iters,
        griffin_lim_phase=griffin_lim_phase, window_seconds=window_seconds, window_overlap=window_overlap, seed=seed,
        device=device, wav_format="float" if float_wav else None,
    )
    result = AudioTransfer(cfg, show_progress=not quiet)(content, style)
    result.save(output, plot, content=str(content), style=str(style))
    typer.echo(f"wrote {output} with its .json report and spectrogram plot ({result.summary()})")


@app.command("texture")
def texture(
    style: Annotated[Path, typer.Argument(help="Style clip (wav, flac, ogg, mp3, ...).")],
    output: Output,
    config: ConfigFile = None,
    set_: Sets = None,
    seconds: Annotated[Optional[float], typer.Option(help="Length of the texture (default: the style clip's).")] = None,
    extractor: Annotated[Optional[str], typer.Option(help=default(TC, "extractor", "random, vgg or auditory."))] = None,
    steps: Steps = None,
    plot: Plot = None,
    n_fft: NFFT = None,
    hop: Hop = None,
    sample_rate: Rate = None,
    griffin_lim_iters: GriffinLim = None,
    seed: Seed = None,
    device: Device = None,
    float_wav: FloatWav = False,
    quiet: Quiet = False,
):
    """Synthesise a sound texture with the STYLE's statistics, from noise."""
    from multistyle.audio.config import TextureConfig
    from multistyle.audio.transfer import AudioTransfer

    cfg = _checked_config(
        TextureConfig, [style], output, plot, config, set_,
        extractor=extractor, steps=steps, n_fft=n_fft, hop=hop, sample_rate=sample_rate,
        griffin_lim_iters=griffin_lim_iters, seed=seed, device=device, wav_format="float" if float_wav else None,
    )
    result = AudioTransfer(cfg, show_progress=not quiet).texture(style, seconds)
    result.save(output, plot, style=str(style), requested_seconds=seconds)
    typer.echo(f"wrote {output} with its .json report and spectrogram plot ({result.summary()})")
