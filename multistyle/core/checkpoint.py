"""Checkpoints: tensors in safetensors, everything else in JSON, every write atomic. Never pickle."""
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from multistyle.core.paths import atomic_write_bytes
from multistyle.errors import InputError, WeightsError


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode())


def read_json(path: str | os.PathLike) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Atomically save a flat dict of tensors as safetensors. The file is serialised in memory and written by
    atomic_write_bytes, so a full disk is a one-line WriteError like any other output's (safetensors' own file
    writer raises a SafetensorError, not an OSError, and the CLI printed its traceback)."""
    atomic_write_bytes(path, save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata=metadata))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a safetensors file; a missing or malformed file is a WeightsError naming it."""
    return _read_safetensors(path)[0]


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata in a safetensors file's header (no tensors are read); a missing or malformed file is a
    WeightsError naming it."""
    return _read_safetensors(path, tensors=False)[1]


def load_checked_weights(model: torch.nn.Module, path: str | os.PathLike, what: str) -> torch.nn.Module:
    """`model` (eval mode, frozen) with the weights of a safetensors file, refused with a WeightsError naming the
    file when they are not `what` (e.g. "an AdaIN decoder") of this architecture, or hold NaN or infinite values."""
    tensors = load_tensors(path)
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise WeightsError(f"{path}: not {what} of this architecture (missing {missing[:3] or 'none'}, "
                           f"unexpected {unexpected[:3] or 'none'})")
    for name, tensor in expected.items():
        if tensors[name].shape != tensor.shape:
            raise WeightsError(f"{path}: {name} has shape {tuple(tensors[name].shape)}, the architecture needs {tuple(tensor.shape)}")
        if not torch.isfinite(tensors[name]).all():
            raise WeightsError(f"{path}: {name} holds NaN or infinite weights")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval().requires_grad_(False)


def _read_safetensors(path: str | os.PathLike, tensors: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    if not Path(path).is_file():
        raise WeightsError(f"{path}: file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            return ({k: f.get_tensor(k) for k in f.keys()} if tensors else {}), f.metadata() or {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path}: not a readable safetensors file ({e})") from None


def flatten_state(state: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested state (e.g. an optimizer's state_dict) into named tensors and a JSON skeleton.

    Tensors are replaced in the skeleton by {"__tensor__": name}; dict keys are kept with their type
    so that integer keys (optimizer parameter ids) come back as integers.
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, torch.Tensor):
            tensors[path] = node
            return {"__tensor__": path}
        if isinstance(node, dict):
            return {"__dict__": [[k, walk(v, f"{path}.{k}")] for k, v in node.items()]}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(node)]
        return node

    return tensors, walk(state, prefix)


def unflatten_state(tensors: dict[str, torch.Tensor], skeleton: Any) -> Any:
    """Inverse of flatten_state."""
    if isinstance(skeleton, dict) and "__tensor__" in skeleton:
        return tensors[skeleton["__tensor__"]]
    if isinstance(skeleton, dict) and "__dict__" in skeleton:
        return {k: unflatten_state(tensors, v) for k, v in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [unflatten_state(tensors, v) for v in skeleton]
    return skeleton


STATE_FILE = "state.safetensors"


def save_training_state(folder: str | os.PathLike, states: dict[str, Any], info: dict[str, Any]) -> None:
    """Save several nested states (model, optimizer, RNG...) and the run's counters (`info`) as one
    resumable checkpoint: one safetensors file whose metadata holds the counters and the states' layout,
    written atomically, so a kill can never pair new tensors with old counters."""
    tensors: dict[str, torch.Tensor] = {}
    skeletons = {}
    for name, state in states.items():
        t, skeletons[name] = flatten_state(state, name)
        tensors.update(t)
    meta = {"info": json.dumps(info, default=str), "skeletons": json.dumps(skeletons)}
    save_tensors(Path(folder) / STATE_FILE, tensors, metadata=meta)


def has_training_state(folder: str | os.PathLike) -> bool:
    return (Path(folder) / STATE_FILE).is_file()


def load_training_state(folder: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """Inverse of save_training_state: returns (states, info)."""
    path = Path(folder) / STATE_FILE
    tensors, meta = _read_safetensors(path)
    if "skeletons" in meta:
        info, skeletons = json.loads(meta["info"]), json.loads(meta["skeletons"])
    else:  # written before counters moved into the tensor file: state.json beside it
        legacy = read_json(Path(folder) / "state.json")
        info, skeletons = legacy["info"], legacy["skeletons"]
    states = {name: unflatten_state(tensors, skel) for name, skel in skeletons.items()}
    return states, info
