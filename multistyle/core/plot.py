"""Loss curves as PNG: a training run's loss.png from its JSONL log, an optimisation's curve per evaluation."""
import io
import json
import os
from pathlib import Path
from typing import Any

from multistyle.core.paths import atomic_write_bytes


def plot_losses(log_path: str | os.PathLike, png_path: str | os.PathLike, title: str, x: str = "iteration") -> None:
    """loss.png beside a run's log: every numeric loss column of the JSONL log against `x`, log scale."""
    path = Path(log_path)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    plot_curves(rows, png_path, title, x)


def plot_curves(rows: list[dict[str, Any]], png_path: str | os.PathLike, title: str, x: str = "iteration") -> None:
    """Every numeric column of `rows` (except `x`, lr, it_per_s) against `x`, log scale, written atomically."""
    from matplotlib.figure import Figure  # imported here: matplotlib takes a second to load

    if not rows:
        return
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for key in [k for k, v in rows[0].items() if k not in (x, "lr", "it_per_s") and isinstance(v, (int, float))]:
        ax.plot([r[x] for r in rows], [r[key] for r in rows], label=key)
    ax.set(xlabel=x, ylabel="loss (weighted)", yscale="log", title=title)
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    atomic_write_bytes(png_path, buffer.getvalue())
