"""The input/output guard every command and API call uses before any work: an output never replaces one
of the job's inputs or lands inside a folder it reads, and its folder must be writable. An existing output must be a
regular file (a device, pipe or socket is never replaced by one) and writable, unless overwriting is allowed
(`--overwrite`, or `allow_overwrite()` in Python)."""
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from multistyle.errors import InputError, WriteError

_OVERWRITE: ContextVar[bool] = ContextVar("multistyle_overwrite", default=False)
_KINDS = [(stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")]


def allow_overwrite(allow: bool = True) -> None:
    """Let outputs replace existing read-only files (the CLI's --overwrite), in this context from now on."""
    _OVERWRITE.set(allow)


@contextmanager
def overwriting(allow: bool = True):
    """`with overwriting(): result.save(path)` replaces a read-only `path`."""
    token = _OVERWRITE.set(allow)
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


def write_error(path: str | os.PathLike, error: OSError) -> WriteError:
    """An OSError met while writing `path` as one line: what went wrong and what to do."""
    advice = {errno.ENOSPC: "the disk is full; free some space", errno.EFBIG: "the file is larger than this file system "
              "or a limit allows", errno.ENAMETOOLONG: "use a shorter name", errno.EACCES: "check the permissions",
              errno.EPERM: "check the permissions", errno.EROFS: "the file system is read-only", errno.EDQUOT: "the "
              "disk quota is exhausted"}.get(error.errno, "")
    return WriteError(f"{path}: cannot be written ({error.strerror or error}){'; ' + advice if advice else ''}; nothing was written")


def _through_system_folder(path: Path) -> bool:
    """Whether `path`, or any symlink on the way to its target, lies in /dev or /proc. /dev/stdout resolves to the
    file or pipe the shell redirected stdout to (/proc/self/fd/1), which must never be renamed over."""
    def system(p: Path) -> bool:
        return p.parts[1:2] in (("dev",), ("proc",)) and p.parts[1:3] != ("dev", "shm")  # /dev/shm holds plain files

    current = Path(os.path.abspath(path))
    for _ in range(40):
        if system(current):
            return True
        try:
            target = os.readlink(current)
        except OSError:  # not a link (or missing): look at the folders above it too
            return system(Path(os.path.realpath(current.parent)))
        current = Path(os.path.abspath(os.path.join(current.parent, target)))
    return True  # a loop of links


def write_target(path: str | os.PathLike) -> Path:
    """The regular file a write of `path` replaces: `path` itself, or what its symlinks point to. Refused with one
    line (WriteError) when that is a device, pipe, socket or folder, or an existing read-only file without
    overwriting allowed, or when the name is too long or cannot be looked up."""
    path = Path(path)
    if _through_system_folder(path):
        raise WriteError(f"{path}: leads to a device or stream (/dev, /proc), not a regular file; outputs are written to "
                         "files only (it was left as it is)")
    try:
        st = os.stat(path)  # follows symlinks: a link to /dev/null is a character device here
    except FileNotFoundError:
        return Path(os.path.realpath(path))  # a new file (or a dangling link: its target is created)
    except OSError as e:
        raise write_error(path, e) from None
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise WriteError(f"{path}: is {kind}, not a regular file; outputs are written to files only (it was left as it is)")
    if not _OVERWRITE.get() and (not st.st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise WriteError(f"{path}: exists and is read-only; make it writable, remove it, or run multistyle --overwrite COMMAND ...")
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


_created: list[Path] = []  # folders check_output made, deepest first: a job that fails before writing leaves none behind


def forget_created_folders() -> None:
    """Start a command with no folders to clean up (check_output records those it makes)."""
    _created.clear()


def remove_empty_created_folders() -> None:
    """Remove the folders check_output created that are still empty (called when a command fails)."""
    for folder in _created:
        try:
            folder.rmdir()
        except OSError:  # not empty (the job wrote something worth keeping), or already gone
            pass
    _created.clear()


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
        missing = [p for p in (parent, *parent.parents) if not p.exists()]
        parent.mkdir(parents=True, exist_ok=True)
        _created.extend(missing)
    except OSError as e:
        raise InputError(f"{path}: cannot create its folder ({e.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write into {parent} (permission denied)")
    if not folder:
        write_target(path)  # not a device, a pipe or a read-only file
    return path


@contextmanager
def atomic_file(path: str | os.PathLike):
    """Yield a temporary file name beside `path` for the caller to write; on success it is renamed over `path`, so
    readers never see half a file. The target is checked first (write_target: a device, pipe or read-only file is
    refused, a symlink's target is what is replaced). OS errors (a full disk, a name too long, no permission) are
    WriteErrors with one line, and the temporary file is removed, so nothing partial is left and an old `path`
    stays intact."""
    target = write_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp")  # short: the
        os.close(fd)                                                           # target's own name may be near the limit
    except OSError as e:
        raise write_error(target, e) from None
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and not isinstance(e, WriteError):
            raise write_error(target, e) from None
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through atomic_file, synced to disk before the rename."""
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _natural(path: Path) -> list:
    """Sort key: frame_9999.png before frame_10000.png."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", path.name)]


def list_images(folder: str | os.PathLike, suffixes: Iterable[str], what: str = "images") -> list[Path]:
    """The files in `folder` with one of `suffixes` (any case), in natural order; one InputError line when `folder`
    is not a folder or holds none. Every command that takes a folder of photos or frames lists it here."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    suffixes = {s.lower() for s in suffixes}
    found = sorted((p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()), key=_natural)
    if not found:
        raise InputError(f"{folder}: no {what} ({', '.join(sorted(suffixes))}) in this folder")
    return found
