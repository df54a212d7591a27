"""Reading, resizing and writing images as (1, 3, H, W) float RGB tensors in [0, 1]."""
import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from multistyle import UserError
from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.core.runtime import available_memory_bytes

OUTPUT_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}

# Activation floats that VGG-19 keeps per input pixel up to relu5_1 (conv and ReLU outputs of every
# layer, each block at a quarter of the previous one's positions), used to guard memory.
_VGG_FLOATS_PER_PIXEL = 2 * (2 * 64 + 2 * 128 / 4 + 4 * 256 / 16 + 4 * 512 / 64 + 512 / 256)


def load_pil(path: str | Path) -> Image.Image:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, expected an image file")
    try:
        with Image.open(path) as img:
            img.load()  # decode now, so a truncated file fails here
            img = img.convert("RGB")
    except UnidentifiedImageError:
        raise UserError(f"{path}: not an image file PIL can read") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise UserError(f"{path}: corrupt or truncated image ({e})") from None
    if img.width == 0 or img.height == 0:
        raise UserError(f"{path}: image has zero size")
    return img


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    array = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    array = image.detach().squeeze(0).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array)


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) scaled so that max(H, W) == long_side, keeping the aspect ratio."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


def load_image(path: str | Path, long_side: int | None = None) -> torch.Tensor:
    """An image file as (1, 3, H, W) RGB in [0, 1], optionally resized to a long side."""
    img = load_pil(path)
    if long_side is not None:
        h, w = fit_long_side(img.height, img.width, long_side)
        img = img.resize((w, h), Image.Resampling.LANCZOS)
    return pil_to_tensor(img)


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"{path}: unsupported output format; use one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_image(image: torch.Tensor, path: str | Path) -> None:
    """Write atomically, so a failed run never leaves a partial output behind."""
    path = check_output_path(path)
    buffer = io.BytesIO()
    tensor_to_pil(image).save(buffer, format=OUTPUT_SUFFIXES[path.suffix.lower()])
    atomic_write_bytes(path, buffer.getvalue())


def check_memory_for_vgg(height: int, width: int, images: int = 1, backward: bool = True) -> None:
    """Refuse sizes whose VGG-19 activations would not fit in the available memory."""
    available = available_memory_bytes()
    if available is None:
        return
    need = _VGG_FLOATS_PER_PIXEL * height * width * images * 4 * (2 if backward else 1)
    if need > 0.8 * available:
        raise UserError(
            f"{width}x{height} needs about {need / 2**30:.1f} GiB for VGG-19 activations but only "
            f"{available / 2**30:.1f} GiB is available; use a smaller --size"
        )


def side_by_side(images: list[torch.Tensor], height: int = 256, gap: int = 4) -> torch.Tensor:
    """Images scaled to a common height and placed in a row on a white background."""
    scaled = [resize(img, (height, max(1, round(img.shape[-1] * height / img.shape[-2])))) for img in images]
    width = sum(img.shape[-1] for img in scaled) + gap * (len(scaled) - 1)
    canvas = torch.ones(1, 3, height, width)
    x = 0
    for img in scaled:
        canvas[..., x : x + img.shape[-1]] = img
        x += img.shape[-1] + gap
    return canvas


def image_grid(images: list[torch.Tensor], columns: int, height: int = 256, gap: int = 4) -> torch.Tensor:
    """Rows of `columns` images (each scaled to `height`), rows stacked on a white background."""
    rows = [side_by_side(images[i : i + columns], height, gap) for i in range(0, len(images), columns)]
    width = max(r.shape[-1] for r in rows)
    canvas = torch.ones(1, 3, len(rows) * height + gap * (len(rows) - 1), width)
    for i, row in enumerate(rows):
        canvas[..., i * (height + gap) : i * (height + gap) + height, : row.shape[-1]] = row
    return canvas
