"""Training images: folders of files, and random crops that are a pure function of a seeded generator, so a
resumed run sees exactly the crops it would have seen."""
import random
from pathlib import Path

import torch
from PIL import Image

from multistyle.errors import InputError
from multistyle.image.io import IMAGE_SUFFIXES, load_pil, pil_to_tensor

# What no AdaIN training run sees (file names): the three photos every training config holds out, and every painting
# benchmarks/image_quality.py judges AdaIN with (the per-style networks' six and six of other periods), with the two
# the small model's first runs also held out. Decoders trained before 2026-12-07 held out only the first six paintings.
HELD_OUT_PHOTOS = ("tubingen.jpg", "golden_gate.jpg", "sailboat.jpg")
HELD_OUT_PAINTINGS = (
    "the_scream.jpg", "candy.jpg", "la_muse.jpg", "udnie.jpg", "wave.jpg", "woman-with-hat-matisse.jpg",
    "starry_night.jpg", "shipwreck.jpg", "composition_vii.jpg", "picasso_selfport1907.jpg", "the_resevoir_at_poitiers.jpg",
    "woman_in_peasant_dress.jpg", "seated-nude.jpg", "frida_kahlo.jpg")


def collect_images(folders: tuple[str, ...], holdout: tuple[str, ...] = ()) -> list[Path]:
    """Every image file below `folders` (sorted), except those named in `holdout`."""
    files = []
    for folder in folders:
        path = Path(folder)
        if not path.is_dir():
            raise InputError(f"{folder}: not a folder")
        files += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in holdout)
    if not files:
        raise InputError(f"no training images in {', '.join(folders) or '(no folders given)'}")
    return files


def random_crop(path: Path, rng: random.Random, crop: int, min_short: int, resize_short: int) -> torch.Tensor:
    """(3, crop, crop): the image resized to a random short side in [min_short, resize_short] (at least `crop`),
    cropped at a random place and flipped half the time."""
    img = load_pil(path)
    short = rng.randint(min(min_short, resize_short), resize_short)
    scale = max(short / min(img.size), crop / min(img.size))
    img = img.resize((max(crop, round(img.width * scale)), max(crop, round(img.height * scale))), Image.Resampling.BILINEAR)
    x, y = rng.randint(0, img.width - crop), rng.randint(0, img.height - crop)
    img = img.crop((x, y, x + crop, y + crop))
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return pil_to_tensor(img)[0]
