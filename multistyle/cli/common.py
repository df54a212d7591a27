"""Options and helpers every command group shares."""
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from multistyle.cli.defaults import field_default
from multistyle.core.config import default_of
from multistyle.errors import InputError


def config_option(packaged: str | None = None) -> Any:
    """The --config option; `packaged`, a packaged config that this command's own settings load from (a packaged
    name elsewhere is another method's: image/adain is train-adain's, and `image adain` refuses its keys)."""
    where = f" (a path, or a packaged name such as {packaged})" if packaged else " file"
    return Annotated[Optional[Path], typer.Option("--config", help=f"TOML or JSON config{where}; options override it.")]


ConfigFile = config_option()
Sets = Annotated[Optional[list[str]], typer.Option("--set", help="Override any config key: --set key=value (repeatable; values as in TOML).")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]


def default(cls: type | str, name: str, text: str = "") -> str:
    """A help text ending with the config dataclass's default, so defaults are written down once. `cls` is the class,
    or "module:Class" for one whose module is slow to import (read from its source: multistyle.cli.defaults).
    Parentheses, not brackets: rich would read [default ...] as markup and drop it."""
    from multistyle.core.config import COUNT_LIMITS

    value = field_default(cls, name) if isinstance(cls, str) else default_of(cls, name)
    shown = ",".join(map(str, value)) if isinstance(value, tuple) else ("on" if value else "off") if isinstance(value, bool) else value
    limit = f"; at most {COUNT_LIMITS[name]:,}" if name in COUNT_LIMITS else ""
    return f"{text} (default: {shown}{limit})".strip()


def guard(outputs: list[Path], inputs: list[Path] = (), read_folders: list[Path] = (), folder: bool = False) -> None:
    """Check every output up front, before any work (see core.paths.check_output)."""
    from multistyle.core.paths import check_output

    for output in outputs:
        check_output(output, inputs, read_folders, folder=folder)


def parse_blend(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--style-blend must be comma-separated numbers such as 0.7,0.3, not {text!r}") from None


def on_off(text: str | None, option: str) -> bool | None:
    """`--option on|off` as a bool (None when not given)."""
    if text is None:
        return None
    if text.lower() not in ("on", "off"):
        raise InputError(f"{option} must be on or off, not {text!r}")
    return text.lower() == "on"


def sets(values: list[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


def report_terms(terms: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in terms.items())


BatchWorkers = Annotated[Optional[int], typer.Option("--workers", help="Folder batches on the CPU: processes sharing the photos, one thread each (default: one per core torch would use).")]
BatchResume = Annotated[bool, typer.Option("--resume", help="Folder batches: finish an interrupted or killed batch in the same output folder, skipping the images it wrote.")]


def folder_batch(items: list[tuple[str, Path, tuple]], out_dir: Path, work, identity: dict[str, Any], resume: bool,
                 description: str, quiet: bool, workers: int = 1, worker_setup=None):
    """Run a folder batch (multistyle.core.batch: resumable, shared between torchrun's processes) and print its line."""
    from multistyle.core.batch import BatchItem, run_batch

    summary = run_batch([BatchItem(*item) for item in items], out_dir, work, identity, resume=resume,
                        description=description, show_progress=not quiet, workers=workers, worker_setup=worker_setup)
    typer.echo(summary.describe(out_dir))
    return summary
