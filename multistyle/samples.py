"""Sample inputs that ship with multistyle: seven public-domain paintings (multistyle/image/paintings/, their
provenance in its SOURCES.md) and a photo from scikit-image, a dependency.

    from multistyle import AdaIN, samples
    AdaIN.from_pretrained()(samples.photo(), "starry_night")    # a painting by name, or samples.painting("wave")

Wherever a style image is expected (the API's image methods, `multistyle image adain|gatys|texture`, the studio),
a painting's name stands for its file; an existing file of that name takes precedence.
"""
import functools
import importlib.resources
from pathlib import Path

from multistyle.errors import InputError

PHOTO = "chelsea.png"  # scikit-image's cat: the demo's and the studio's photo


def paintings_folder() -> Path:
    return Path(str(importlib.resources.files("multistyle.image") / "paintings"))


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    """SOURCES.md's provenance table: file stem -> {"work", "painter", "died"}, in the table's order."""
    rows = {}
    for line in (paintings_folder() / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".jpg"):
            rows[Path(cells[0]).stem] = {"work": cells[1], "painter": cells[2], "died": cells[3]}
    return rows


def paintings() -> list[str]:
    """The bundled paintings' names (file stems), in SOURCES.md's order; those whose file is missing are left out."""
    folder = paintings_folder()
    return [name for name in _table() if (folder / f"{name}.jpg").is_file()]


def title(name: str) -> str:
    """'The Starry Night (Vincent van Gogh, 1889)' for 'starry_night'."""
    row = _table()[name]
    return f"{row['work']} ({row['painter']})"


def painting(name: str) -> Path:
    """The file of a bundled painting; an unknown name is an InputError listing the names."""
    if name not in paintings():
        raise InputError(f"unknown painting {name!r}; bundled paintings: {', '.join(paintings())} (or give an image file)")
    return paintings_folder() / f"{name}.jpg"


def photo() -> Path:
    """The sample photo (scikit-image's cat, 451x300)."""
    return Path(str(importlib.resources.files("skimage") / "data" / PHOTO))


def resolve_style(image):
    """A style input as given, except a str or Path that names no existing file: a bundled painting's name becomes
    its file, and a bare word that names none (no folder, no suffix) is an InputError listing the names. Anything
    else (a missing 'style.jpg', an array) passes through for the usual checks."""
    if not isinstance(image, (str, Path)):
        return image
    path = Path(image)
    if path.exists():
        return image
    if str(image) in paintings():
        return painting(str(image))
    if not path.suffix and len(path.parts) == 1:
        raise InputError(f"{image}: no such file, and not a bundled painting ({', '.join(paintings())})")
    return image
