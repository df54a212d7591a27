"""The project's dependency set, as installed in the running interpreter's environment.

    python .ci/deps.py freeze               constraints.txt's text: name==version for every distribution that
                                            multistyle[test] needs, transitively, on this platform
    python .ci/deps.py compare FILE         which of those differ from FILE's pins (what `make test-latest` runs
                                            with that the lock does not have)
    python .ci/deps.py share-pinned DIR     links into DIR the installed files of torch, torchvision, torchaudio and
                                            everything they pin with == (the CUDA wheels): a .pth naming DIR lets
                                            another venv use them instead of downloading 4 GB again (make test-latest)
"""
import re
import sys
from importlib import metadata
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare venv: pip's own copy
    from pip._vendor.packaging.requirements import Requirement

ROOT = "multistyle"
PINNED_BY_PYPROJECT = ("torch", "torchvision", "torchaudio")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(dist: metadata.Distribution, extras: set[str]) -> list[Requirement]:
    """The distribution's requirements that apply here, with the given extras."""
    found = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in extras | {""}):
            found.append(req)
    return found


def closure(name: str, extras: set[str], pinned_only: bool = False) -> dict[str, metadata.Distribution]:
    """Installed distributions reachable from name[extras], by canonical name. pinned_only: follow only == pins."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [(name, extras)]
    while todo:
        current, current_extras = todo.pop()
        key = canonical(current)
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            print(f"warning: {current} is required but not installed", file=sys.stderr)
            continue
        first = key not in seen
        seen[key] = dist
        if not first and not current_extras:
            continue
        for req in requirements(dist, current_extras):
            if pinned_only and not any(spec.operator == "==" for spec in req.specifier):
                continue
            if canonical(req.name) not in seen or req.extras:
                todo.append((req.name, set(req.extras)))
    return seen


def freeze() -> str:
    dists = closure(ROOT, {"test"})
    dists.pop(canonical(ROOT))
    lines = [
        "# Known-good versions of everything multistyle[test] installs (Linux, CPython 3.11): `python .ci/deps.py freeze`",
        "# in the development venv that the test suite passes in (`make constraints`). `make install` installs with it;",
        "# `make test-latest` runs the suite without it, on the newest releases.",
    ]
    lines += sorted((f"{dist.metadata['Name']}=={dist.version}" for dist in dists.values()), key=str.lower)
    return "\n".join(lines) + "\n"


def compare(path: Path) -> str:
    locked = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            locked[canonical(name)] = version
    dists = closure(ROOT, {"test"})
    dists.pop(canonical(ROOT))
    rows = [f"{dist.metadata['Name']}: {locked.get(key, 'not locked')} -> {dist.version}"
            for key, dist in sorted(dists.items()) if locked.get(key) != dist.version]
    return "\n".join(["versions other than constraints.txt's:", *rows] if rows else ["every version as in constraints.txt"]) + "\n"


def share_pinned(target: Path) -> str:
    target.mkdir(parents=True, exist_ok=True)
    dists = {}
    for name in PINNED_BY_PYPROJECT:
        dists.update(closure(name, set(), pinned_only=True))
    linked = 0
    for dist in dists.values():
        site = Path(dist.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            source, link = site / top, target / top
            if source.exists() and not link.exists():
                link.symlink_to(source)
                linked += 1
    return f"{len(dists)} distributions ({', '.join(sorted(dists))}) linked into {target} ({linked} new links)\n"


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "freeze" and len(sys.argv) == 2:
        sys.stdout.write(freeze())
    elif command == "compare" and len(sys.argv) == 3:
        sys.stdout.write(compare(Path(sys.argv[2])))
    elif command == "share-pinned" and len(sys.argv) == 3:
        sys.stdout.write(share_pinned(Path(sys.argv[2])))
    else:
        sys.exit(f"usage: {__doc__}")
