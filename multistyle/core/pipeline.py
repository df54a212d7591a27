"""The contract every method shares, diffusers' pipelines being the model:

    model = Method.from_pretrained(name_or_path)     # shipped name, a weights file or a training run's folder
    model.to("cuda", torch.bfloat16)                  # device and dtype, as for a torch module
    outputs = model([photo_a, photo_b], painting)     # one input or a list of them; settings override per call
    outputs[0].save("out.png")                        # the file and its JSON report; repr is one line

`Pipeline` gives the methods their shared `from_pretrained` (for those without trained weights), `to`, and list
inputs; `Output` is the base of what they return."""
import functools
from pathlib import Path
from typing import Any, Callable, TypeVar

from multistyle.core.config import with_overrides
from multistyle.errors import InputError

P = TypeVar("P", bound="Pipeline")
PRECISION_OF = {"float32": "fp32", "bfloat16": "bf16"}


def precision_of(dtype: Any) -> str:
    """A dtype (torch.float32, torch.bfloat16, or "fp32", "bf16", "auto") as a config's `precision`."""
    name = str(dtype).removeprefix("torch.")
    if name in PRECISION_OF.values() or name == "auto":
        return name
    if name not in PRECISION_OF:
        raise InputError(f"dtype must be torch.float32 or torch.bfloat16 (or 'fp32', 'bf16', 'auto'), not {dtype!r}")
    return PRECISION_OF[name]


class Pipeline:
    """A method: settings in `self.config` (a dataclass with `device` and `precision` fields), called on inputs."""

    config: Any

    @classmethod
    def from_pretrained(cls: type[P], name_or_path: str | Path | None = None, config: Any = None, **overrides: Any) -> P:
        """Methods that optimise each result have no trained weights: this is the method with its settings."""
        if name_or_path is not None:
            raise InputError(f"{cls.__name__} optimises each result and has no trained weights to load; "
                             f"call {cls.__name__}.from_pretrained() with settings only")
        return cls(config, **overrides)

    def to(self: P, device: Any = None, dtype: Any = None) -> P:
        """Run on `device` ("cpu", "cuda", "cuda:1", a torch.device) in `dtype` (torch.float32 or torch.bfloat16);
        returns the method itself, as a torch module's `to` does."""
        changes = {}
        if device is not None:
            from multistyle.core.runtime import select_device

            changes["device"] = str(select_device(device))  # an unavailable device is refused here, not at the call
        if dtype is not None:
            if not hasattr(self.config, "precision"):
                raise InputError(f"{type(self).__name__} computes in float32 only")
            changes["precision"] = precision_of(dtype)
        self.config = with_overrides(self.config, changes)
        self._placed()
        return self

    def _placed(self) -> None:
        """Move loaded networks after `to` (methods that build their networks per call have none)."""


def batched(call: Callable) -> Callable:
    """`method(inputs, ...)` with a list (or tuple) of inputs returns a list of outputs, one per input."""
    @functools.wraps(call)
    def each(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple)):
            return [call(self, one, *args, **kwargs) for one in inputs]
        return call(self, inputs, *args, **kwargs)
    return each


class Output:
    """What every method returns: `save(path)` writes the result and, unless `report=False`, PATH.json beside it
    (last, so a report on disk means every output is complete); `report()` is that JSON; the repr is one line."""

    method: str

    def report(self, **inputs: Any) -> dict[str, Any]:
        raise NotImplementedError

    def save(self, path: str | Path, report: bool = True, **inputs: Any) -> Path:
        raise NotImplementedError

    def _repr_fields(self) -> str:
        """The repr's fields after the method: sizes and seconds, never the data."""
        return ""

    def __repr__(self) -> str:
        fields = self._repr_fields()
        return f"{type(self).__name__}(method={self.method!r}{', ' + fields if fields else ''})"


def plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """Report values as JSON takes them (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else [str(x) if isinstance(x, Path) else x for x in v]
            if isinstance(v, (list, tuple)) else v for k, v in inputs.items()}
