"""Spectrogram figures: log-spectrograms side by side on one colour scale, written atomically as PNG."""
import io
from pathlib import Path

import torch
from matplotlib.figure import Figure

from multistyle.core.checkpoint import atomic_write_bytes
from multistyle.errors import InputError


def check_png_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"{path}: spectrogram plots are written as PNG; give a path ending in .png")
    return path


def save_spectrogram_panel(
    panels: list[tuple[str, torch.Tensor]], path: str | Path, sample_rate: int, hop: int, dpi: int = 100
) -> None:
    """One PNG with a log-spectrogram (F, T) per (title, spectrogram) pair, left to right."""
    path = check_png_path(path)
    figure = Figure(figsize=(3.6 * len(panels) + 0.8, 3.2), layout="constrained")
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    top = max(float(spectrogram.max()) for _, spectrogram in panels)
    for axis, (title, spectrogram) in zip(axes, panels):
        data = spectrogram.detach().cpu().float().numpy()
        extent = (0, data.shape[1] * hop / sample_rate, 0, sample_rate / 2000)
        image = axis.imshow(data, origin="lower", aspect="auto", extent=extent, vmin=0, vmax=top, cmap="magma")
        axis.set_title(title)
        axis.set_xlabel("time (s)")
    axes[0].set_ylabel("frequency (kHz)")
    figure.colorbar(image, ax=list(axes), label="log(1 + |STFT|)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
