"""Figure helpers for the benchmarks: an image grid with column titles, saved as a size-capped JPEG."""
import io
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from multistyle.image.io import image_grid, tensor_to_pil

HEADER = 22  # pixels of white strip above the grid for the column titles


def titled_grid(rows: list[list[torch.Tensor | None]], titles: list[str], height: int = 160, gap: int = 4) -> Image.Image:
    """Rows of images (None = an empty white cell) in equal cells `height` tall, with `titles` centred
    above the columns in a white header strip."""
    columns = len(titles)
    blank = torch.ones(1, 3, height, height)
    images = [image if image is not None else blank for row in rows for image in row]
    if any(len(row) != columns for row in rows):
        raise ValueError(f"every row needs {columns} images")
    grid = tensor_to_pil(image_grid(images, columns, height=height, gap=gap))
    cell_width = (grid.width - gap * (columns - 1)) / columns
    figure = Image.new("RGB", (grid.width, grid.height + HEADER), "white")
    figure.paste(grid, (0, HEADER))
    draw = ImageDraw.Draw(figure)
    font = ImageFont.load_default()
    for i, title in enumerate(titles):
        left, top, right, bottom = draw.textbbox((0, 0), title, font=font)
        x = i * (cell_width + gap) + (cell_width - (right - left)) / 2
        draw.text((x, (HEADER - (bottom - top)) / 2 - top), title, fill="black", font=font)
    return figure


def save_jpeg(image: Image.Image, path: str | Path, max_bytes: int = 400_000) -> int:
    """Write `image` as the best-quality JPEG (95 down to 50) that fits in `max_bytes`; returns its size."""
    for quality in range(95, 45, -5):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= max_bytes:
            break
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(buffer.getvalue())
    return buffer.tell()
