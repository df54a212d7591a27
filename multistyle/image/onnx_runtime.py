"""Stylise with exported models (`multistyle export`, multistyle.image.export) through onnxruntime, without torch:
NumPy, Pillow and onnxruntime only (the `onnx` extra), so a command on this path starts in a fraction of the
time torch's import takes.

The steps around the graphs are the torch path's, written again in NumPy: the size rule (multistyle.image.io),
bottom/right reflection padding to the graph's side multiple, the 8-px degrid notch filter (the same function,
multistyle.image.degrid.remove_grid_array, its DCTs through NumPy's FFT: importing scipy.fft would cost 0.3 s) and
the palette recolouring (multistyle.image.color). For AdaIN, the style statistics (per-channel mean and
sqrt(biased variance + 1e-5) at relu4_1) and the AdaIN step run in NumPy between encoder and decoder.
Resizing is Pillow's bicubic, which torch's antialiased bicubic follows (the whole path is within 1e-5 of torch's).

    model = load_model("exported/adain")            # a folder from `multistyle export adain`, or a .onnx per-style net
    rgb = model("photo.jpg", "starry_night")        # (H, W, 3) float32 in [0, 1]
    save_rgb(rgb, "out.png")
"""
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from multistyle.core.memory import check_memory
from multistyle.core.paths import atomic_write_bytes
from multistyle.errors import InputError, MultistyleError, WeightsError
from multistyle.image.degrid import remove_grid_array
from multistyle.image.formats import OUTPUT_SUFFIXES, encode
from multistyle.samples import resolve_style

# The torch path's constants (multistyle.image.io, multistyle.image.adain), repeated to keep torch out:
# tests/test_export.py checks they agree.
DEFAULT_LONG_SIDE = 512
MAX_PIXELS = 100_000_000
ADAIN_EPS = 1e-5
ADAIN_MARGIN = 16
# Peak memory per input pixel through onnxruntime, measured at 1024 and 2048 px on a 4:3 photo (about 1.0 kB for
# the per-style network, 1.8 kB for AdaIN's encoder and decoder), with some headroom.
BYTES_PER_PIXEL = {"per-style network": 1200, "AdaIN": 2200}


def check_size(model: str, height: int, width: int) -> None:
    """Refuse (ResourceError) an input whose activations would not fit in the host's free memory."""
    check_memory(BYTES_PER_PIXEL[model] * height * width, f"the exported {model} on {width}x{height}", "cpu",
                 "use a smaller --size")


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise MultistyleError("running exported models needs onnxruntime, which is not installed: "
                              "pip install 'multistyle[onnx]'") from None
    return onnxruntime


def load_rgb(source: str | os.PathLike | Image.Image, name: str | None = None) -> np.ndarray:
    """An image file (or PIL image) as (H, W, 3) float32 RGB in [0, 1], upright; bad files are one-line InputErrors."""
    if isinstance(source, Image.Image):
        return np.asarray(ImageOps.exif_transpose(source).convert("RGB"), dtype=np.float32) / 255.0
    path = Path(source)
    name = name or str(path)
    if not path.exists():
        raise InputError(f"{name}: file not found")
    if path.is_dir():
        raise InputError(f"{name}: is a folder, expected an image file")
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InputError(f"{name}: {img.width}x{img.height} is too large to decode (at most {MAX_PIXELS / 1e6:g} megapixels)")
            img.load()
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except MultistyleError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image file PIL can read") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"{name}: corrupt or truncated image ({e})") from None
    if rgb.width == 0 or rgb.height == 0:
        raise InputError(f"{name}: image has zero size")
    return np.asarray(rgb, dtype=np.float32) / 255.0


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    if long_side == 0:
        return height, width
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def output_size(height: int, width: int, size: int | None) -> tuple[int, int]:
    """multistyle.image.io.output_size: None keeps a photo up to 512 px and shrinks larger ones; 0 keeps any size."""
    if size is None:
        return fit_long_side(height, width, DEFAULT_LONG_SIDE if max(height, width) > DEFAULT_LONG_SIDE else 0)
    return fit_long_side(height, width, size)


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) in [0, 1] to `size` (h, w), bicubic (Pillow antialiases when shrinking), per channel in float32."""
    h, w = size
    if rgb.shape[:2] == (h, w):
        return rgb
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(rgb[..., c])).resize((w, h), Image.BICUBIC)) for c in range(3)]
    return np.clip(np.stack(channels, -1), 0, 1)


def to_nchw(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)


def pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """multistyle.image.io.pad_to_multiple: bottom and right, reflecting (or repeating edges too thin to reflect), to
    sides divisible by `multiple` and at least 4 * `multiple` long."""
    h, w = x.shape[-2:]
    pad_h, pad_w = max(-h % multiple, 4 * multiple - h), max(-w % multiple, 4 * multiple - w)
    if not (pad_h or pad_w):
        return x
    mode = "reflect" if pad_h < h and pad_w < w else "edge"
    return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode=mode)


def pad_border(x: np.ndarray, margin: int) -> np.ndarray:
    """multistyle.image.io.pad_border: `margin` reflected pixels on every side (repeated where too thin to reflect)."""
    if not margin:
        return x
    mode = "reflect" if margin < min(x.shape[-2:]) else "edge"
    return np.pad(x, ((0, 0), (0, 0), (margin, margin), (margin, margin)), mode=mode)


def colour_moments(x: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """RGB mean (3, 1) and covariance (3, 3) of a (1, 3, H, W) image, with a small ridge (multistyle.image.color)."""
    flat = x.reshape(3, -1).astype(np.float64)
    mean = flat.mean(1, keepdims=True)
    centred = flat - mean
    return mean, centred @ centred.T / flat.shape[1] + eps * np.eye(3)


def recolour(x: np.ndarray, mean: np.ndarray, cov: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """`x` moved `amount` of the way to its linear (Cholesky) recolouring to the RGB mean and covariance."""
    own_mean, own_cov = colour_moments(x, 1e-4)
    transform = np.linalg.cholesky(np.asarray(cov, np.float64)) @ np.linalg.inv(np.linalg.cholesky(own_cov))
    matched = np.clip(transform @ (x.reshape(3, -1) - own_mean) + np.asarray(mean, np.float64).reshape(3, 1), 0, 1)
    matched = matched.reshape(x.shape).astype(np.float32)
    return x + amount * (matched - x)


def _read_info(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise WeightsError(f"{path}: not found; an exported model has its JSON beside it (multistyle export)")
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WeightsError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(info, dict) or info.get("kind") not in ("fast", "adain"):
        raise WeightsError(f"{path}: not the JSON of a model `multistyle export` wrote (no 'kind' fast or adain)")
    return info


class _Graph:
    """One ONNX graph in an onnxruntime session on the CPU."""

    def __init__(self, path: Path, threads: int = 0):
        ort = _onnxruntime()
        if not path.is_file():
            raise WeightsError(f"{path}: model file not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: onnxruntime's choice, one per physical core
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for a corrupt or foreign file
            raise WeightsError(f"{path}: onnxruntime cannot load it ({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        try:
            return self.session.run(None, {self.input: np.ascontiguousarray(x, dtype=np.float32)})[0]
        except MemoryError:
            raise
        except Exception as e:  # onnxruntime's own exception types: an allocation that failed, mostly
            shape = "x".join(map(str, x.shape[-2:][::-1]))
            raise MultistyleError(f"onnxruntime failed on a {shape} input ({str(e).splitlines()[0][:200]}); "
                                  "try a smaller --size") from None


class OnnxFast:
    """An exported per-style network: photo -> stylised photo, with the palette and degrid steps of FastStyle."""

    def __init__(self, path: str | os.PathLike, threads: int = 0):
        path = Path(path)
        if path.suffix.lower() != ".onnx":
            raise InputError(f"{path}: give the .onnx file of an exported per-style network")
        self.info = _read_info(path.with_suffix(".json"))
        if self.info["kind"] != "fast":
            raise WeightsError(f"{path}: its JSON describes {self.info['kind']!r}, not a per-style network")
        self.graph = _Graph(path, threads)
        self.multiple = int(self.info["input"]["multiple"])
        self.grid_period = int(self.info.get("grid_period", 8))
        palette = self.info.get("palette")
        self.palette = (np.array(palette["rgb_mean"]).reshape(3, 1), np.array(palette["rgb_cov"]).reshape(3, 3)) if palette else None

    def __call__(self, content: str | os.PathLike | Image.Image, *, size: int | None = None, alpha: float = 1.0,
                 palette: bool = True, degrid: bool = True) -> np.ndarray:
        """(H, W, 3) float32 RGB in [0, 1]."""
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"--alpha must be between 0 and 1, not {alpha}")
        if size is not None and size != 0 and size < 16:
            raise InputError(f"--size {size} is too small; use at least 16 pixels (or 0 for the content's own size)")
        rgb = load_rgb(content)
        h, w = output_size(*rgb.shape[:2], size)
        check_size("per-style network", h + self.multiple, w + self.multiple)
        image = to_nchw(resize(rgb, (h, w)))
        output = self.graph(pad_to_multiple(image, self.multiple))[..., :h, :w]
        if degrid:
            output = remove_grid_array(output, self.grid_period, backend="numpy")
        output = np.clip(output, 0, 1)
        if palette and self.palette is not None:
            output = recolour(output, *self.palette)
        output = alpha * output + (1 - alpha) * image
        return output[0].transpose(1, 2, 0)


class OnnxAdaIN:
    """Exported AdaIN: encoder graph, AdaIN statistics in NumPy, decoder graph; with AdaIN's palette and degrid steps."""

    def __init__(self, folder: str | os.PathLike, threads: int = 0):
        folder = Path(folder)
        info_path = folder if folder.suffix == ".json" else folder / "adain.json"
        self.info = _read_info(info_path)
        if self.info["kind"] != "adain":
            raise WeightsError(f"{info_path}: describes {self.info['kind']!r}, not AdaIN")
        folder = info_path.parent
        self.encoder = _Graph(folder / self.info["encoder"]["file"], threads)
        self.decoder = _Graph(folder / self.info["decoder"]["file"], threads)
        self.multiple = int(self.info["encoder"]["input"]["multiple"])
        self.eps = float(self.info.get("adain", {}).get("eps", ADAIN_EPS))
        self._styles: dict[tuple[str, int], tuple[np.ndarray, ...]] = {}

    def stats(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and sqrt(biased variance + eps), each (1, C, 1, 1), in float64."""
        f = features.astype(np.float64)
        mean = f.mean((2, 3), keepdims=True)
        return mean, np.sqrt(f.var((2, 3), keepdims=True) + self.eps)

    def style_stats(self, style: str | os.PathLike, long_side: int) -> tuple[np.ndarray, ...]:
        """(mean, std, rgb_mean, rgb_cov) of a style image (or a bundled painting's name) at `long_side`, cached."""
        style = resolve_style(style)
        key = (str(Path(style).resolve()), long_side) if isinstance(style, (str, Path)) else None
        if key in self._styles:
            return self._styles[key]
        rgb = load_rgb(style)
        image = to_nchw(resize(rgb, fit_long_side(*rgb.shape[:2], long_side)))
        stats = (*self.stats(self.encoder(image)), *colour_moments(image))  # unpadded, as the torch path encodes it
        if key is not None:
            self._styles[key] = stats
        return stats

    def __call__(self, content: str | os.PathLike | Image.Image, style: str | os.PathLike, *, alpha: float = 1.0,
                 size: int | None = None, palette: bool = True, degrid: bool = True, margin: int = ADAIN_MARGIN) -> np.ndarray:
        """(H, W, 3) float32 RGB in [0, 1]; `margin` as AdaINConfig.margin."""
        if not 0.0 <= alpha <= 1.0:
            raise InputError(f"--alpha must be between 0 and 1, not {alpha}")
        if size is not None and size != 0 and size < 32:
            raise InputError(f"--size {size} is too small; use at least 32 pixels (or 0 for the content's own size)")
        rgb = load_rgb(content)
        h, w = output_size(*rgb.shape[:2], size)
        check_size("AdaIN", h + 2 * margin + self.multiple, w + 2 * margin + self.multiple)
        image = to_nchw(resize(rgb, (h, w)))
        style_mean, style_std, rgb_mean, rgb_cov = self.style_stats(style, size or max(h, w))
        if palette:
            image = recolour(image, rgb_mean, rgb_cov, alpha)
        features = self.encoder(pad_to_multiple(pad_border(image, margin), self.multiple)).astype(np.float64)
        mean, std = self.stats(features)
        target = (features - mean) * (style_std / std) + style_mean
        target = features + alpha * (target - features)
        output = self.decoder(target.astype(np.float32))[..., margin:margin + h, margin:margin + w]
        if degrid:
            output = remove_grid_array(output, int(self.info.get("grid_period", 8)), backend="numpy")
        output = np.clip(output, 0, 1)
        if palette:
            output = recolour(output, rgb_mean, rgb_cov, alpha)
        return output[0].transpose(1, 2, 0)


SHIPPED_ONNX = Path(__file__).parent / "weights" / "onnx"  # exports of shipped networks (recipes/ship_fast_style.py)


def shipped_exports() -> list[str]:
    return sorted(p.stem for p in SHIPPED_ONNX.glob("*.onnx"))


def shipped_export(name: str | os.PathLike) -> Path | None:
    """The shipped export `name` stands for, or None; a file or folder of that name comes first, as it does for the
    torch networks (multistyle.image.fast.resolve_style)."""
    if Path(name).exists() or str(name) not in shipped_exports():
        return None
    return SHIPPED_ONNX / f"{name}.onnx"


def load_model(path: str | os.PathLike, threads: int = 0) -> OnnxFast | OnnxAdaIN:
    """An exported model: a folder (or its adain.json) from `multistyle export adain`, a per-style network's .onnx,
    or the name of a shipped export (shipped_exports(): the per-style networks small enough to ship twice)."""
    path = shipped_export(path) or Path(path)
    if not path.exists():
        raise InputError(f"{path}: not found; give a folder from `multistyle export adain`, an .onnx file from "
                         f"`multistyle export fast` or a shipped export ({', '.join(shipped_exports()) or 'none'})")
    if path.is_dir() or path.suffix == ".json":
        return OnnxAdaIN(path, threads)
    return OnnxFast(path, threads)


def save_rgb(rgb: np.ndarray, path: str | os.PathLike, quality: int = 95) -> Path:
    """(H, W, 3) in [0, 1] written atomically in the format the suffix names (multistyle.core.paths guards the target)."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"{path}: unsupported output format; use one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    image = Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))  # (H, W, 3) uint8: RGB
    atomic_write_bytes(path, encode(image, path.suffix, quality))
    return path


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(report, indent=2) + "\n").encode())

