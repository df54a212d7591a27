"""Labelled figures: a grid of images, each with a caption under it (the demo's overview, `image styles --sheet`)."""
import textwrap
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from multistyle.image.io import pil_to_tensor, resize, tensor_to_pil

Cell = tuple[torch.Tensor | None, str]  # an image (or None: the caption alone) and its caption


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's own DejaVu Sans (FreeType), no system font needed
    except (TypeError, OSError):  # a Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def labelled_grid(cells: list[Cell], columns: int, height: int = 256, title: str = "", font_size: int = 15,
                  gap: int = 10) -> torch.Tensor:
    """Rows of `columns` cells on white: each image scaled to `height` (and at most as wide as the widest one at
    that height), centred, its caption wrapped under it; `title` above everything. Returns (1, 3, H, W)."""
    font, title_font = _font(font_size), _font(round(font_size * 1.25))
    widths = [round(img.shape[-1] * height / img.shape[-2]) for img, _ in cells if img is not None]
    width = max(widths or [height])
    char = max(1, font.getbbox("n")[2])
    wrapped = [textwrap.wrap(caption, max(8, width // char)) for _, caption in cells]
    line = font.getbbox("Hg")[3] + 4
    caption_h = line * max((len(w) for w in wrapped), default=1) + 6
    rows = -(-len(cells) // columns)
    title_h = title_font.getbbox("Hg")[3] + 2 * gap if title else 0
    canvas = Image.new("RGB", (gap + columns * (width + gap), title_h + gap + rows * (height + caption_h + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((gap, gap), title, fill="black", font=title_font)
    for i, ((image, _), lines) in enumerate(zip(cells, wrapped)):
        left = gap + (i % columns) * (width + gap)
        top = title_h + gap + (i // columns) * (height + caption_h + gap)
        if image is not None:
            h, w = image.shape[-2:]
            scale = min(height / h, width / w)
            pil = tensor_to_pil(resize(image.float().cpu(), (max(1, round(h * scale)), max(1, round(w * scale)))))
            canvas.paste(pil, (left + (width - pil.width) // 2, top + (height - pil.height) // 2))
            below = top + height + 4
        else:  # a caption alone: in the middle of its cell
            below = top + (height - line * len(lines)) // 2
        for k, text in enumerate(lines):
            draw.text((left, below + k * line), text, fill="black", font=font)
    return pil_to_tensor(canvas)


def network_painting(name: str, info: dict) -> Path | None:
    """The bundled painting a shipped per-style network was trained on (by its name or its style file's name:
    `wave_small` and `woman-with-hat-matisse.jpg` find theirs), or None when that painting does not ship."""

    from multistyle import samples

    stems = [name, Path(str(info.get("style") or "")).stem.replace("-", "_")]
    for painting in samples.paintings():
        if any(stem == painting or stem.startswith(painting + "_") for stem in stems):
            return samples.painting(painting)
    return None


def styles_sheet(names: list[str], photo, columns: int = 4, height: int = 192, size: int | None = None,
                 title: bool = True) -> torch.Tensor:
    """`image styles --sheet`: each shipped network's painting (where it ships) beside `photo` in its style."""
    from multistyle.image.fast import FastStyle, model_info, shipped_styles
    from multistyle.image.io import load_image

    found = shipped_styles()
    cells: list[Cell] = []
    for name in names:
        painting = network_painting(name, model_info(found[name]))
        cells.append((load_image(painting), f"{name}: the painting") if painting is not None else
                     (None, f"{name}: its painting does not ship with multistyle (not in the public domain, or of unknown provenance)"))
        result = FastStyle.from_pretrained(name)(photo, size=size)
        cells.append((result.tensor, f"{name}: the photo at {max(result.size)} px, {result.seconds:.1f} s"))
    return labelled_grid(cells, columns=columns, height=height,
                         title="Per-style networks: each one's painting beside the photo in its style" if title else "")
