"""The `multistyle` command: parses arguments and calls the modality APIs. No logic lives here."""
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle import UserError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Neural style transfer for images, text and audio.")
image_app = typer.Typer(no_args_is_help=True, help="Image style transfer: Gatys (optimisation) and AdaIN (feed-forward).")
text_app = typer.Typer(no_args_is_help=True, help="Text sentiment transfer: Shen et al.'s cross-aligned autoencoder.")
audio_app = typer.Typer(no_args_is_help=True, help="Audio style transfer: Grinstein et al.'s spectrogram Gram method.")
app.add_typer(image_app, name="image")
app.add_typer(text_app, name="text")
app.add_typer(audio_app, name="audio")


def parse_blend(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--style-blend must be comma-separated numbers such as 0.7,0.3, not {text!r}") from None


@image_app.command("gatys")
def image_gatys(
    images: Annotated[list[Path], typer.Argument(help="CONTENT then one or more STYLE images.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image (.png, .jpg, ...); a .json report is written beside it.")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config; flags override it.")] = None,
    size: Annotated[Optional[int], typer.Option(help="Long side of the output in pixels [default 512].")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Loss evaluations at the finest scale [default 500].")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="lbfgs or adam [default lbfgs].")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Learning rate [default 1.0 for lbfgs, 0.02 for adam].")] = None,
    content_weight: Annotated[Optional[float], typer.Option(help="[default 1]")] = None,
    style_weight: Annotated[Optional[float], typer.Option(help="[default 1e3]")] = None,
    tv_weight: Annotated[Optional[float], typer.Option(help="Total-variation weight [default 0].")] = None,
    init: Annotated[Optional[str], typer.Option(help="content or noise [default content].")] = None,
    style_blend: Annotated[Optional[str], typer.Option(help="Weights of the styles, e.g. 0.7,0.3.")] = None,
    preserve_color: Annotated[bool, typer.Option("--preserve-color", help="Keep the content's colours.")] = False,
    color_method: Annotated[str, typer.Option(help="luminance (stylise luminance only) or histogram (recolour the style).")] = "luminance",
    scales: Annotated[Optional[int], typer.Option(help="Coarse-to-fine levels [default 1].")] = None,
    pooling: Annotated[Optional[str], typer.Option(help="avg or max [default avg].")] = None,
    patience: Annotated[Optional[int], typer.Option(help="Stop after this many evaluations without 0.1% progress; 0 never.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed [default 0].")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto [default auto].")] = None,
    save_every: Annotated[int, typer.Option(help="Save a snapshot every N evaluations; 0 never.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Gatys et al. style transfer: optimise the image to match content and style features."""
    from multistyle.core.config import load_config
    from multistyle.image.gatys import GatysConfig, stylize_files

    if len(images) < 2:
        raise UserError("give a CONTENT image and at least one STYLE image")
    cfg = load_config(
        GatysConfig, config,
        size=size, steps=steps, optimizer=optimizer, lr=lr, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, init=init, style_blend=parse_blend(style_blend),
        preserve_color=color_method if preserve_color else None, scales=scales, pooling=pooling,
        patience=patience, seed=seed, device=device,
    )
    result = stylize_files(images[0], images[1:], output, cfg, save_every=save_every, show_progress=not quiet)
    terms = ", ".join(f"{k} {v:.4g}" for k, v in result.final_terms.items())
    typer.echo(f"wrote {output} ({result.iterations} evaluations, {result.seconds:.1f} s; {terms})")


@image_app.command("grid")
def image_grid(
    images: Annotated[list[Path], typer.Argument(help="Images, row by row.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image.")],
    columns: Annotated[int, typer.Option(help="Images per row.")] = 3,
    height: Annotated[int, typer.Option(help="Height of each image in pixels.")] = 256,
):
    """Lay images out in a grid (for figures and comparisons)."""
    from multistyle.image.io import image_grid as make_grid, load_image, save_image

    if columns < 1 or height < 8:
        raise UserError("--columns must be at least 1 and --height at least 8")
    save_image(make_grid([load_image(p) for p in images], columns, height), output)
    typer.echo(f"wrote {output}")


# --- text commands (multistyle text ...) ---


# --- audio commands (multistyle audio ...) ---


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo outputs.")] = Path("demo_out"),
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
):
    """Every modality on built-in samples: no network, no ../shared data, minutes on a laptop CPU."""
    from multistyle.demo import run_demo

    for line in run_demo(out, show_progress=not quiet):
        typer.echo(line)


def main() -> None:
    try:
        app()
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        typer.echo("error: out of memory; try a smaller --size", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
