"""The image files results are written as: the suffixes the commands accept for outputs and how each is encoded.
Torch-free, so the ONNX path shares it."""
import io

from PIL import Image

OUTPUT_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
# zlib's fastest level: on a 512-px stylised photo 2.3x faster than Pillow's default (6) for about 9 % more bytes,
# which in a folder batch of a small network is a quarter of the time per image.
PNG_COMPRESS_LEVEL = 1


def encode(image: Image.Image, suffix: str, quality: int = 95) -> bytes:
    """The bytes of an RGB image in the format `suffix` names (one of OUTPUT_SUFFIXES); `quality` for JPEG and WebP."""
    fmt = OUTPUT_SUFFIXES[suffix.lower()]
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {"compress_level": PNG_COMPRESS_LEVEL} if fmt == "PNG" else {}
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
