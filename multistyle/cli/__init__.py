"""The `multistyle` command: a thin layer that parses arguments, calls the public API and prints.

Every MultistyleError becomes one `error:` line and exit status 2; an interrupted training run prints
what it saved and exits with 130.
"""
import sys
from pathlib import Path

import click
import typer

from multistyle.cli import audio, image, text
from multistyle.errors import Interrupted, MultistyleError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Neural style transfer for images, text and audio.")
app.add_typer(image.app, name="image")
app.add_typer(text.app, name="text")
app.add_typer(audio.app, name="audio")


@app.command("video")
def video(
    clip: Path = typer.Argument(..., help="Input video (any container FFmpeg reads) or a folder of frames."),
    output: Path = typer.Argument(..., help="Output .mp4 (H.264, the input's frame rate and audio) or a folder for PNG frames."),
    style: str = typer.Option(..., "--style", help="adain, gatys: a style image. fast: a shipped style's name or a .safetensors file."),
    config: image.ConfigFile = None,
    set_: image.Sets = None,
    method: str = typer.Option(None, help="adain, fast or gatys (Ruder et al.: optimisation with a temporal loss, minutes a frame) (default: adain)."),
    temporal: float = typer.Option(None, help="Weight of the warped previous output where the flow is reliable; 0 = frame by frame (default: 0.7)."),
    size: int = typer.Option(None, help="Output height in pixels; 0 keeps the input's (default: 436)."),
    alpha: float = typer.Option(None, help="AdaIN's alpha or the network's strength (default: 1.0)."),
    max_frames: int = typer.Option(None, "--max-frames", help="Only the first N frames; 0 all (default: 0)."),
    fps: float = typer.Option(None, help="Frame rate of a folder of frames (default: 24)."),
    steps: int = typer.Option(None, help="gatys: L-BFGS evaluations per frame, twice that for the first (default: 100)."),
    quiet: image.Quiet = False,
):
    """Video style transfer with temporal consistency (flow-warped previous output, Ruder et al.'s reliability masks)."""
    from multistyle.cli.common import guard, sets
    from multistyle.core.checkpoint import write_json
    from multistyle.core.config import load_config
    from multistyle.video.stylize import VideoConfig, VideoTransfer

    cfg = load_config(VideoConfig, config, sets(set_), method=method, temporal=temporal, size=size, alpha=alpha,
                      max_frames=max_frames, fps=fps, gatys_steps=steps)
    cfg.validate()
    report = output.with_suffix(".json") if output.suffix else output / "video.json"
    guard([output], [clip, Path(style)], folder=not output.suffix)
    guard([report], [clip])
    result = VideoTransfer(cfg, show_progress=not quiet)(clip, style)
    written = result.save(output)
    write_json(report, {"method": f"video-{cfg.method}", "input": str(clip), "style": style, "output": str(written),
                        "frames": len(result.frames), "fps": result.fps, "config": result.config,
                        "seconds": round(result.seconds, 2), "timings_s": {k: round(v, 2) for k, v in result.timings.items()}})
    typer.echo(f"wrote {written} ({len(result.frames)} frames, {len(result.frames) / result.seconds:.2f} frames/s)")


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the demo outputs."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
):
    """Every modality on built-in samples: no network, no ../shared data, minutes on a laptop CPU."""
    from multistyle.demo import run_demo

    for line in run_demo(out, show_progress=not quiet):
        typer.echo(line)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(7860, help="Port to listen on."),
):
    """The local web studio: pick a photo, a painting, a sentence or a clip, move the sliders, see and hear the result."""
    try:
        from multistyle.web.app import serve as run_server
    except ImportError as e:
        raise MultistyleError(f"the web studio needs its extra ({e.name} is missing): pip install 'multistyle[web]'") from None
    if not 1 <= port <= 65535:
        raise MultistyleError(f"--port must be between 1 and 65535, not {port}")
    typer.echo(f"multistyle studio on http://{host}:{port}  (Ctrl-C stops it)")
    run_server(host, port)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except Interrupted as e:
        typer.echo(str(e), err=True)
        sys.exit(e.exit_code)
    except MultistyleError as e:
        _fail(str(e))
    except MemoryError:
        _fail("out of memory; try a smaller --size")
    except (click.exceptions.Abort, KeyboardInterrupt):
        code = 130
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    if code == 130:  # typer turns a Ctrl-C outside a training loop into exit code 130, silently
        typer.echo("interrupted", err=True)
    sys.exit(code if isinstance(code, int) else 0)
