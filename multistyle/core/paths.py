"""The input/output guard every command and API call uses before any work: an output never replaces one
of the job's inputs or lands inside a folder it reads, and its folder must be writable."""
import os
from collections.abc import Iterable
from pathlib import Path

from multistyle.errors import InputError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(output: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), read_folders: Iterable[str | os.PathLike] = (),
                 *, folder: bool = False) -> Path:
    """`output` resolved and checked: not one of `inputs`, not inside any of `read_folders`, not a folder where a
    file is expected (or a file where `folder`), and its parent writable (created when missing)."""
    path = Path(output)
    resolved = path.resolve()
    for item in inputs:
        source = Path(item)
        if resolved == source.resolve() or _same(path, source):
            raise InputError(f"{path}: is also an input of this job; choose another output so the input is not overwritten")
    for item in read_folders:
        data = Path(item).resolve()
        if resolved == data or data in resolved.parents:
            raise InputError(f"{path}: is inside {item}, which this job reads; write the output elsewhere")
    if not folder and path.is_dir():
        raise InputError(f"{path}: is a folder; give an output file name")
    if folder and path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file; give a folder for the outputs")
    parent = path if folder else path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{path}: cannot create its folder ({e.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write into {parent} (permission denied)")
    return path
