"""What every image method returns: the picture, with the figures and settings that made it."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from multistyle.core.checkpoint import atomic_write_bytes, write_json
from multistyle.core.paths import check_output
from multistyle.core.pipeline import Output, plain
from multistyle.core.plot import plot_curves
from multistyle.image.io import check_output_path, encode_image, tensor_to_pil


@dataclass(repr=False)
class ImageResult(Output):
    """`image` (PIL), `tensor` ((1, 3, H, W) in [0, 1]), the final `losses` (empty for feed-forward
    methods), `seconds` and a per-stage `timings`, and the `config` used (a dict)."""

    tensor: torch.Tensor
    method: str
    config: dict[str, Any]
    losses: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # method-specific figures (e.g. evaluations per scale)
    history: list = field(default_factory=list, repr=False)  # optimisation methods: loss terms per evaluation, per scale
    sources: list[Path] = field(default_factory=list, repr=False)  # the input files, which `save` never overwrites

    def _repr_fields(self) -> str:  # not the dataclass's repr, which prints the whole tensor
        losses = f", losses={ {k: round(v, 4) for k, v in self.losses.items()} }" if self.losses else ""
        return f"size={self.size[0]}x{self.size[1]}, seconds={self.seconds:.2f}{losses}"

    @property
    def image(self) -> Image.Image:
        return tensor_to_pil(self.tensor)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as PIL reports sizes."""
        return self.tensor.shape[-1], self.tensor.shape[-2]

    def report(self, **inputs: Any) -> dict[str, Any]:
        return {"method": self.method, **inputs, "size": [self.tensor.shape[-2], self.tensor.shape[-1]],
                "config": self.config, "final_loss_terms": self.losses, "seconds": round(self.seconds, 3),
                "timings_s": {k: round(v, 3) for k, v in self.timings.items()}, **self.details}

    def loss_curve_path(self, path: str | Path) -> Path:
        return Path(path).with_name(f"{Path(path).stem}_loss.png")

    def save(self, path: str | Path, report: bool = True, quality: int = 95, **inputs: Any) -> Path:
        """Write the image (format from the suffix; `quality` for JPEG and WebP) and, with `report`, PATH.json beside
        it, plus PATH_loss.png for optimisation methods (loss terms per evaluation), each atomically."""
        path = check_output_path(path)
        extras = [path.with_suffix(".json")] + ([self.loss_curve_path(path)] if self.history else []) if report else []
        for written in (path, *extras):
            check_output(written, self.sources)
        atomic_write_bytes(path, encode_image(self.tensor, path.suffix, quality))
        if report and self.history:
            rows = [{"evaluation": i, **terms} for i, terms in enumerate((t for level in self.history for t in level), 1)]
            plot_curves(rows, self.loss_curve_path(path), f"{self.method}: loss per evaluation", x="evaluation")
        if report:
            write_json(path.with_suffix(".json"), {**self.report(**plain(inputs)), "output": str(path)})
        return path
