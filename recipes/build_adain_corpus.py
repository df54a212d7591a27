"""Build the AdaIN training corpus from what this machine can install (no COCO/WikiArt offline).

content: photos from Debian's wallpaper packages (recipes/image_adain_train.sh installs them), scikit-image's
colour sample photos and ../shared/data/images/content; style: ../shared/data/images/style and style_more
(300 further paintings).
Every image is re-encoded as JPEG with its short side at most 512 px, so the corpus is small enough to
carry to a GPU machine. Held-out files (configs/image/adain.toml) are skipped here as well as in training.
Usage: python recipes/build_adain_corpus.py OUT_DIR [--shared ../shared/data/images]
"""
import argparse
import importlib.resources
import tomllib
from pathlib import Path

from PIL import Image

WALLPAPER_DIRS = ["/usr/share/backgrounds", "/usr/share/wallpapers", "/usr/share/mate-background-properties"]
SKIMAGE_PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg", "hubble_deep_field.jpg"]
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def add(src: Path, dest_dir: Path, short_side: int, seen: set[str]) -> bool:
    try:
        with Image.open(src) as img:
            img = img.convert("RGB")
    except Exception:
        return False
    if min(img.size) < 256:
        return False
    scale = short_side / min(img.size)
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    name = src.stem.replace(" ", "_")
    while name in seen:
        name += "_"
    seen.add(name)
    img.save(dest_dir / f"{name}.jpg", quality=90)
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data/images"))
    parser.add_argument("--short-side", type=int, default=512)
    args = parser.parse_args()
    config = tomllib.loads(Path("configs/image/adain.toml").read_text())
    held_contents = {Path(n).stem for n in config["holdout_contents"]}
    held_styles = {Path(n).stem for n in config["holdout_styles"]}

    content_dir, style_dir = args.out / "content", args.out / "style"
    content_dir.mkdir(parents=True, exist_ok=True)
    style_dir.mkdir(parents=True, exist_ok=True)
    sources = [p for d in WALLPAPER_DIRS if Path(d).is_dir() for p in sorted(Path(d).rglob("*")) if p.suffix.lower() in SUFFIXES]
    skimage_dir = Path(str(importlib.resources.files("skimage") / "data"))
    sources += [skimage_dir / n for n in SKIMAGE_PHOTOS]
    sources += sorted((args.shared / "content").glob("*"))
    seen: set[str] = set()
    contents = sum(add(p, content_dir, args.short_side, seen) for p in sources if p.stem not in held_contents)
    seen = set()
    style_files = sorted((args.shared / "style").glob("*")) + sorted((args.shared / "style_more").glob("*"))
    styles = sum(add(p, style_dir, args.short_side, seen) for p in style_files if p.stem not in held_styles and p.suffix.lower() in SUFFIXES)
    print(f"corpus: {contents} content photos, {styles} style images in {args.out}")


if __name__ == "__main__":
    main()
