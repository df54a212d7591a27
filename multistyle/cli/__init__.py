"""The `multistyle` command: a thin layer that parses arguments, calls the public API and prints.

Every MultistyleError becomes one `error:` line and exit status 2; an interrupted training run prints
what it saved and exits with 130.
"""
import sys

import click
import typer

from multistyle.cli import audio, image, text
from multistyle.errors import Interrupted, MultistyleError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Neural style transfer for images, text and audio.")
app.add_typer(image.app, name="image")
app.add_typer(text.app, name="text")
app.add_typer(audio.app, name="audio")


@app.command("demo")
def demo(
    out: image.Path = typer.Option(image.Path("demo_out"), "--out", help="Folder for the demo outputs."),
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
