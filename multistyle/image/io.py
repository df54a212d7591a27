"""Images in and out: any of a path, a PIL image, a NumPy array or a tensor becomes a (1, 3, H, W) float
RGB tensor in [0, 1]; results are written atomically. Grids for figures."""
import io
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError, MultistyleError
from multistyle.image.formats import OUTPUT_SUFFIXES, encode

IMAGE_SUFFIXES = set(OUTPUT_SUFFIXES)
MAX_PIXELS = 100_000_000  # decoded pixels a file may have (PIL's decompression-bomb guard, made an error)
# Peak memory of decoding a file into the (1, 3, H, W) float tensor every method starts from, per pixel: PIL's
# decoded image and its RGB copy (4 bytes each), the uint8 tensor (3) and the float32 one (12). Measured 23-26 bytes
# on 3000x3000 1-bit and RGB PNGs (tests/test_security.py); 32 leaves room for the allocator.
DECODE_BYTES_PER_PIXEL = 32

ImageLike = str | Path | Image.Image | np.ndarray | torch.Tensor

# PIL warns on stderr when it opens an image over 89 megapixels; check_decode below is the guard that decides (and
# says so in one line), so the warning would only be a second, misleading message.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB with the photo's EXIF orientation applied; 16- and 32-bit greys scaled to 8 bits, not clipped."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(array.max()), 1.0)
        img = Image.fromarray(np.clip(array / top * 255.0, 0, 255).round().astype(np.uint8), "L")
    return img.convert("RGB")


def load_pil(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An image file as an RGB PIL image, upright; unreadable, truncated or huge files are InputErrors, and a file
    whose decoding would not fit in the free memory a ResourceError, both before anything is decoded."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected an image file")
    return _decode(path, str(path), max_pixels)


def load_pil_bytes(data: bytes, name: str = "upload", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Image bytes (an upload) as an RGB PIL image, with the same checks as a file."""
    if not data:
        raise InputError(f"{name}: is empty")
    return _decode(io.BytesIO(data), name, max_pixels)


def check_decode(width: int, height: int, name: str, max_pixels: int = MAX_PIXELS) -> None:
    """The decode guard, from an image's header alone: at most `max_pixels`, and the decoded image must fit in the
    host's free memory (a 12 KB 1-bit PNG can hold 100 megapixels: 3 GB once decoded)."""
    from multistyle.core.memory import check_memory

    if width * height > max_pixels:
        raise InputError(f"{name}: {width}x{height} is too large to decode (at most {max_pixels / 1e6:g} megapixels)")
    check_memory(width * height * DECODE_BYTES_PER_PIXEL, f"{name}: decoding {width}x{height}", "cpu",
                 hint="use a smaller image")


def _decode(source, name: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    try:
        with Image.open(source) as img:  # reads the header only: the size is known before any pixel is decoded
            check_decode(img.width, img.height, name, max_pixels)
            img.load()  # decode now, so a truncated file fails here
            img = _to_rgb(img)
    except MultistyleError:  # the decode guard's own message, not "corrupt"
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image file PIL can read") from None
    except Image.DecompressionBombError as e:
        raise InputError(f"{name}: too large to decode ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: corrupt or truncated image ({e})") from None
    if img.width == 0 or img.height == 0:
        raise InputError(f"{name}: image has zero size")
    return img


# Plain NumPy <-> PIL rather than torchvision's helpers: importing torchvision costs a one-shot command about a second
# (it loads its models and ops), more than the 512-px stylisation itself on a small network.
def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    pixels = torch.from_numpy(np.asarray(img.convert("RGB")).copy())  # (H, W, 3) uint8
    return pixels.permute(2, 0, 1).unsqueeze(0).float().div_(255)


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    pixels = image.detach().squeeze(0).clamp(0, 1).mul(255).round().byte().cpu()
    return Image.fromarray(pixels.permute(1, 2, 0).contiguous().numpy(), "RGB")


def _array_to_tensor(array: np.ndarray, name: str) -> torch.Tensor:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise InputError(f"{name}: expected an (H, W), (H, W, 3) or (H, W, 4) array, not shape {array.shape}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
    else:
        raise InputError(f"{name}: arrays must be uint8, uint16 or float in [0, 1], not {array.dtype}")
    tensor = torch.from_numpy(np.ascontiguousarray(array[..., :3])).permute(2, 0, 1)
    return tensor.expand(3, -1, -1).unsqueeze(0).contiguous()


def as_image_tensor(image: ImageLike, name: str = "image") -> torch.Tensor:
    """A path, PIL image, (H, W[, C]) array or (3, H, W) / (1, 3, H, W) tensor as (1, 3, H, W) RGB in [0, 1]."""
    if isinstance(image, (str, Path)):
        tensor = pil_to_tensor(load_pil(image))
    elif isinstance(image, Image.Image):
        check_decode(image.width, image.height, name)  # an Image.open()ed file is not decoded yet
        try:
            tensor = pil_to_tensor(_to_rgb(image))
        except (ValueError, OSError, AttributeError) as e:  # a closed image, or a lazily opened file that fails to decode
            raise InputError(f"{name}: the PIL image cannot be read ({e}); pass an open, loaded image") from None
    elif isinstance(image, np.ndarray):
        tensor = _array_to_tensor(image, name)
    elif isinstance(image, torch.Tensor):
        tensor = image.detach().float().cpu()
        if tensor.ndim == 3:
            tensor = tensor.unsqueeze(0)
        if tensor.ndim != 4 or tensor.shape[:2] != (1, 3):
            raise InputError(f"{name}: expected a (3, H, W) or (1, 3, H, W) tensor, not shape {tuple(image.shape)}")
    else:
        raise InputError(f"{name}: expected a path, PIL image, NumPy array or tensor, not {type(image).__name__}")
    if min(tensor.shape[-2:]) < 1:
        raise InputError(f"{name}: image has zero size")
    if isinstance(image, (str, Path, Image.Image)):
        return tensor  # decoded from 8-bit pixels: finite and in [0, 1] (checking costs a 512-px photo 10 ms)
    if not torch.isfinite(tensor).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    if tensor.min() < 0 or tensor.max() > 1:
        raise InputError(f"{name}: values must lie in [0, 1] (found {tensor.min():.3g}..{tensor.max():.3g})")
    return tensor


def pad_to_multiple(image: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad the bottom and right edges (reflecting, or repeating edges too thin to reflect) to sides divisible by
    `multiple`, and at least 4 * `multiple` long (a 2000x3 strip would leave the deepest layers one row, too thin for
    their reflection padding), for networks that downsample and upsample; crop their output back to the input's size."""
    h, w = image.shape[-2:]
    pad_h, pad_w = max(-h % multiple, 4 * multiple - h), max(-w % multiple, 4 * multiple - w)
    if not (pad_h or pad_w):
        return image
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode)


def pad_border(image: torch.Tensor, margin: int) -> torch.Tensor:
    """Reflect `margin` pixels onto every side (repeating edges too thin to reflect), for a network whose output
    differs along the image's edges; crop its output by `margin` on every side."""
    if not margin:
        return image
    mode = "reflect" if margin < min(image.shape[-2:]) else "replicate"
    return F.pad(image, (margin,) * 4, mode=mode)


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(H, W) scaled so that max(H, W) == long_side, keeping the aspect ratio; long_side 0 keeps the size."""
    if long_side == 0:
        return height, width
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


DEFAULT_LONG_SIDE = 512  # what the image methods shrink larger photos to when no size is given
SIZE_HELP = (f"Long side of the output in pixels. Default: the photo's own size, shrunk to {DEFAULT_LONG_SIDE} when "
             f"larger; 0 keeps any size; a number is obeyed (smaller photos are enlarged).")


def output_size(height: int, width: int, size: int | None) -> tuple[int, int]:
    """The (H, W) an image method works at: `size` None (the default) keeps the photo's size when its long side is
    within DEFAULT_LONG_SIDE and shrinks a larger one to it; 0 keeps any size; a number is the long side, obeyed."""
    if size is None:
        return fit_long_side(height, width, DEFAULT_LONG_SIDE if max(height, width) > DEFAULT_LONG_SIDE else 0)
    return fit_long_side(height, width, size)


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


def file_sources(*images: ImageLike) -> list[Path]:
    """The inputs that are files: what an output must never overwrite."""
    return [Path(i) for i in images if isinstance(i, (str, Path))]


def load_image(image: ImageLike, long_side: int | None = None) -> torch.Tensor:
    """An image (file or in memory) as (1, 3, H, W) RGB in [0, 1], optionally resized to a long side."""
    tensor = as_image_tensor(image, str(image) if isinstance(image, (str, Path)) else "image")
    if long_side:
        tensor = resize(tensor, fit_long_side(*tensor.shape[-2:], long_side))
    return tensor


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"{path}: unsupported output format; use one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give an output file name")
    return path


def check_quality(quality: int) -> int:
    """A JPEG/WebP quality: a whole number from 1 to 100."""
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise InputError(f"--quality must be a whole number from 1 to 100, not {quality!r}")
    return quality


def encode_image(image: torch.Tensor | Image.Image, suffix: str, quality: int = 95) -> bytes:
    """The bytes of `image` in the format its suffix names."""
    check_quality(quality)
    return encode(image if isinstance(image, Image.Image) else tensor_to_pil(image), suffix, quality)


def save_image(image: torch.Tensor | Image.Image, path: str | Path) -> None:
    """Write atomically, so a failed run never leaves a partial output behind."""
    path = check_output_path(path)
    atomic_write_bytes(path, encode_image(image, path.suffix))


def _fit_cell(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """`image` scaled to `height` (and at most `width`), centred on a white (3, height, width) cell."""
    h, w = image.shape[-2:]
    scale = min(height / h, width / w)
    scaled = resize(image, (max(1, round(h * scale)), max(1, round(w * scale))))[0]
    cell = torch.ones(3, height, width)
    top, left = (height - scaled.shape[-2]) // 2, (width - scaled.shape[-1]) // 2
    cell[:, top : top + scaled.shape[-2], left : left + scaled.shape[-1]] = scaled
    return cell


def image_grid(images: list[torch.Tensor], columns: int, height: int = 256, gap: int = 4) -> torch.Tensor:
    """Rows of `columns` images on a white background, each in a cell `height` tall and as wide as the
    widest image at that height."""
    from multistyle.core.memory import check_memory

    if height < 1:
        raise InputError(f"a grid's cells must be at least 1 pixel tall, not {height}")
    width = max(round(img.shape[-1] * height / img.shape[-2]) for img in images)
    # the cells and the grid, float32, before anything is allocated (--height 1000000 asked for 12 TB)
    check_memory(2 * len(images) * 3 * height * (width + gap) * 4, f"a grid of {len(images)} images {height} px tall", hint="use a smaller --height")
    cells = torch.stack([_fit_cell(img, height, width) for img in images])
    if len(images) == 1:  # make_grid adds no padding around a single image
        return cells
    from torchvision.utils import make_grid

    return make_grid(cells, nrow=columns, padding=gap, pad_value=1.0)[:, gap:-gap, gap:-gap].unsqueeze(0)


def side_by_side(images: list[torch.Tensor], height: int = 256, gap: int = 4) -> torch.Tensor:
    """Images in one row (see image_grid)."""
    return image_grid(images, columns=len(images), height=height, gap=gap)
