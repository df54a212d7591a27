"""The `multistyle` command: a thin layer that parses arguments, calls the public API and prints.

Every MultistyleError becomes one `error:` line and exit status 2, and so does every usage mistake (an unknown
option or command, a missing or malformed value), after one `usage:` line; an interrupted training run prints
what it saved and exits with 130. `multistyle` or a command group alone prints its help and exits with 0.
"""
import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from multistyle import __version__
from multistyle.cli import audio, export, image, text
from multistyle.cli.common import default
from multistyle.cli.defaults import constant
from multistyle.errors import Interrupted, MultistyleError


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"multistyle {__version__}")
        raise typer.Exit()


# help_option_names reaches every subcommand: click contexts inherit it from their parent. Help is plain text
# (rich_markup_mode=None, for the groups too): typer's rich help imports rich's markdown support first, 40 % of the
# CPU time of `multistyle --help` (0.31 -> 0.18 s here).
app = typer.Typer(no_args_is_help=True, add_completion=False, help="Neural style transfer for images, video, text and audio.",
                  context_settings={"help_option_names": ["-h", "--help"]}, rich_markup_mode=None)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Let any command's outputs replace existing read-only "
                                            "files (devices, pipes and links into /dev are never replaced).")] = False,
) -> None:
    if overwrite:
        from multistyle.core.paths import allow_overwrite

        allow_overwrite()


app.add_typer(image.app, name="image")
app.add_typer(text.app, name="text")
app.add_typer(audio.app, name="audio")
app.add_typer(export.app, name="export")


V = "multistyle.video.stylize:VideoConfig"  # read from its source: importing it would load torch


@app.command("video")
def video(
    clip: Path = typer.Argument(..., help="Input video (any container FFmpeg reads) or a folder of frames."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .mp4 (H.264, the input's frame rate and audio) or a folder for PNG frames."),
    style: str = typer.Option(..., "--style", help="adain, gatys: a style image. fast: a shipped style's name or a .safetensors file."),
    config: image.ConfigFile = None,
    set_: image.Sets = None,
    method: str = typer.Option(None, help=default(V, "method", "adain, fast or gatys (Ruder et al.: optimisation with a temporal loss, minutes a frame).")),
    temporal: float = typer.Option(None, help="Weight of the warped previous output where the flow is reliable, in [0, 1); 0 = frame by frame. "
                                   f"(default: {constant(V.split(':')[0], 'DEFAULT_TEMPORAL')}; 0 with a per-style network trained for video, Huang et al.'s, which is steady without flow)."),
    size: int = typer.Option(None, help="Long side of the output in pixels, as for images, obeyed; 0 keeps the input's size (default: the input's size, shrunk to a 512-px long side when larger)."),
    alpha: float = typer.Option(None, help=default(V, "alpha", "Content-style trade-off in [0, 1]: 0 = content, 1 = full style (AdaIN or a per-style network).")),
    max_frames: int = typer.Option(None, "--max-frames", help=default(V, "max_frames", "Only the first N frames; 0 all.")),
    fps: float = typer.Option(None, help=default(V, "fps", "Frame rate of a folder of frames, up to 240.")),
    steps: int = typer.Option(None, help=default(V, "gatys_steps", "gatys: L-BFGS evaluations per frame, twice that for the first.")),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted or killed run of the same command from "
                                "its last finished frame (kept beside the output in .OUTPUT.parts/) (default: off)."),
    device: image.Device = None,
    precision: image.Precision = None,
    quiet: image.Quiet = False,
):
    """Video style transfer with temporal consistency (flow-warped previous output, Ruder et al.'s reliability masks).

    Frames stream through one at a time (memory stays flat whatever the clip's length); each finished frame is kept
    beside the output until the end, so Ctrl-C or a kill loses nothing: the same command with --resume continues."""
    from multistyle.cli.common import guard, sets
    from multistyle.core.config import load_config
    from multistyle.video.stylize import VideoConfig, VideoResult, VideoTransfer

    cfg = load_config(VideoConfig, config, sets(set_), method=method, temporal=temporal, size=size, alpha=alpha,
                      max_frames=max_frames, fps=fps, gatys_steps=steps, device=device, precision=precision)
    cfg.validate()
    guard([output], [clip, Path(style)], folder=not output.suffix)
    guard([VideoResult.report_path(output)], [clip, Path(style)])  # nor may the report (o.json beside o.mp4)
    result = VideoTransfer(cfg, show_progress=not quiet)(clip, style, output, resume=resume)
    if result.rank != 0:
        typer.echo(f"process {result.rank + 1} of {result.world}: stylised its {result.count} frames ({result.seconds:.1f} s); "
                   "the first process writes the output")
        return
    written = result.save(output, style=style)
    typer.echo(f"wrote {written} ({result.count} frames in {result.seconds:.1f} s)")


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the demo outputs."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
):
    """Every modality on built-in samples: no network, no ../shared data, minutes on a laptop CPU."""
    from multistyle.demo import run_demo

    if out.exists() and not out.is_dir():
        raise MultistyleError(f"--out {out} is a file; the demo writes a folder of outputs there: name a new or existing folder")

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
    from multistyle.web.app import check_address

    check_address(host, port)  # a busy port or an unknown host is one error line, before the banner
    typer.echo(f"multistyle studio on http://{host}:{port}  (Ctrl-C stops it)")
    run_server(host, port)


# click's exception classes that main() handles, by name. typer 0.29 vendors click as typer._click (its classes
# derive from typer.TyperException, not from click's), older typer raises click's own; matching the names along
# the exception's MRO, within those two packages, catches either without importing click.
_CLICK_KINDS = ("NoArgsIsHelpError", "UsageError", "ClickException", "Abort", "Exit")


def _click_kind(error: BaseException) -> str | None:
    """The most specific of _CLICK_KINDS that `error` is an instance of, or None."""
    for cls in type(error).__mro__:
        if cls.__name__ in _CLICK_KINDS and cls.__module__.split(".")[0] in ("click", "typer"):
            return cls.__name__
    return None


@functools.cache
def _command():
    """The click command tree that typer builds from `app`, with every default shown one way. Defaults that come
    from a config class are written into the help text as "(default: X)" (cli.common.default); typer would print
    an option's own default (--quality 95) as "[default: 95]" after it: this writes those the same way."""
    import typer.main

    command = typer.main.get_command(app)
    _one_way_defaults(command)
    return command


def _one_way_defaults(command) -> None:
    for param in getattr(command, "params", []):
        value = getattr(param, "default", None)
        if (param.param_type_name == "option" and getattr(param, "show_default", None) is True
                and not getattr(param, "is_flag", False) and value is not None and not callable(value)
                and "(default:" not in (param.help or "")):
            param.help = f"{param.help or ''} (default: {value})".strip()
            param.show_default = False
    for sub in getattr(command, "commands", {}).values():
        if not getattr(sub, "short_help", None) and sub.help:  # a group's list of commands: the whole first paragraph,
            sub.short_help = " ".join(sub.help.split("\n\n")[0].split())  # not click's cut ("Gatys et al.")
        _one_way_defaults(sub)


def _context_for(args: list[str]):
    """A context for the command that `args` name, made without parsing them: the parser's own errors (an option
    missing its value, a flag given one) carry no context, yet deserve the command's usage line."""
    command = _command()
    ctx = command.context_class(command, info_name="multistyle")
    for token in args:
        if token.startswith("-"):  # the groups' own options are flags (-h, --version)
            continue
        sub = getattr(command, "commands", {}).get(token)
        if sub is None:
            break
        command = sub
        ctx = command.context_class(command, info_name=token, parent=ctx)
    return ctx


VALIDATOR_WORDING = {"Input should be a valid integer, unable to parse string as an integer": "not a whole number",
                     "Input should be a valid number, unable to parse string as a number": "not a number"}


def _usage_error(error: Exception, args: list[str]) -> None:
    """One `usage:` line and one `error:` line, on stderr."""
    message = " ".join(error.format_message().split()).rstrip(".")
    for wording, plain in VALIDATOR_WORDING.items():  # newer typers pass on their validator's wording
        message = message.replace(wording, plain)
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    try:
        ctx = getattr(error, "ctx", None) or _context_for(args)
        usage = f"usage: {ctx.command_path} {' '.join(ctx.command.collect_usage_pieces(ctx))}".rstrip()
        message += f" (see {ctx.command_path} --help)"
    except Exception:  # an unusual command class: the message alone still says what is wrong
        usage = "usage: multistyle [OPTIONS] COMMAND [ARGS]..."
    typer.echo(usage, err=True)
    typer.echo(f"error: {message}", err=True)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so what it still buffers cannot fail a second time when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (an embedding, a test's capture)
        pass


def _run(args: list[str]) -> int:
    from multistyle.core.paths import forget_created_folders, remove_empty_created_folders

    forget_created_folders()
    try:
        code = _command().main(args=args, prog_name="multistyle", standalone_mode=False)
    except Interrupted as e:
        typer.echo(str(e), err=True)
        return e.exit_code
    except MultistyleError as e:
        remove_empty_created_folders()
        typer.echo(f"error: {e}", err=True)
        return 2
    except MemoryError:
        typer.echo("error: out of memory; try a smaller --size", err=True)
        return 2
    except KeyboardInterrupt:
        code = 130
    except OSError as e:  # one no guard turned into a message: printing to a full disk or a closed pipe, mostly
        _drop_stdout()
        if isinstance(e, BrokenPipeError):  # `multistyle ... | head`: the reader has all it wanted
            return 141
        where = f" ({e.filename})" if e.filename else " (writing the output)"
        typer.echo(f"error: {e.strerror or e}{where}", err=True)
        return 2
    except Exception as e:
        kind = _click_kind(e)
        if kind is None:
            raise
        if kind == "NoArgsIsHelpError":  # `multistyle` or `multistyle image` alone: the help, on stdout, status 0
            help_text = e.format_message()  # made by ctx.get_help(), which with rich prints it itself and returns ""
            if help_text.strip():
                typer.echo(help_text)
            return 0
        if kind == "Exit":
            return e.exit_code
        if kind == "Abort":
            code = 130
        else:  # UsageError and its kind (bad or missing parameter, no such option or command), any other ClickException
            _usage_error(e, args)
            return 2
    if code == 130:  # typer turns a Ctrl-C outside a training loop into exit code 130, silently
        typer.echo("interrupted", err=True)
    return code if isinstance(code, int) else 0


def main(args: list[str] | None = None) -> None:
    """The console script: run `multistyle ARGS` (default sys.argv[1:]) and exit with its status."""
    sys.exit(_run(sys.argv[1:] if args is None else list(args)))
