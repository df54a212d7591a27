"""The one training scaffolding: every trainer (AdaIN decoder, text autoencoder, evaluators) runs its
loop inside a `TrainingRun`, which owns the time limit, SIGTERM-as-Ctrl-C, the progress bar, the JSONL
log and the save-on-interrupt.

    with TrainingRun(out, total=steps, done=start, description="train", max_minutes=m, save=save) as run:
        for ...:
            ...one step...
            run.advance(status="loss 0.31")
            if run.out_of_time:
                break

Ctrl-C and SIGTERM do not cut a step in half: they are noted, and the next `advance` calls `save` (which
returns a description of what it saved) and raises TrainingInterrupted with a one-line message, so a
resumed run continues exactly where the interrupted one stopped. A second Ctrl-C stops at once, unsaved.
"""
import json
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from multistyle.core.checkpoint import atomic_write_bytes, has_training_state, read_json
from multistyle.core.config import (
    config_dict,
    from_dict,
    load_config,
    parse_assignments,
)
from multistyle.core.progress import make_progress
from multistyle.errors import ConfigError, InputError, Interrupted, OptimizationError

LOG, CHECKPOINT, CONFIG = "log.jsonl", "checkpoint", "config.json"
T = TypeVar("T")

log = logging.getLogger(__name__)


def check_run_folder(out: str | os.PathLike, resume: bool) -> None:
    """A new run needs a folder without a checkpoint (a run killed before its first checkpoint saved nothing
    and may start again); a resumed run needs one."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; --out names the run's folder")
    saved = has_training_state(out / CHECKPOINT)
    if resume and not saved:
        raise InputError(f"{out}: no checkpoint to resume from (expected {out / CHECKPOINT}); start it without --resume")
    if not resume and saved:
        raise InputError(f"{out} already holds a training run; pass --resume to continue it, or choose another --out")


def run_config(cls: type[T], out: str | os.PathLike, resume: bool, resumable: tuple[str, ...],
               file: str | os.PathLike | None = None, sets: list[str] | tuple[str, ...] = (), **flags: Any) -> T:
    """A new run's config (defaults < file < --set < flags), or a resumed run's own saved config, which
    only the schedule keys in `resumable` may change."""
    if not resume:
        return load_config(cls, file, sets, **flags)
    if file is not None:
        raise ConfigError("--resume continues with the run's own config.json; drop --config")
    path = Path(out) / CONFIG
    saved = config_dict(from_dict(cls, read_json(path), str(path)))
    changes = {**parse_assignments(sets), **{k: v for k, v in flags.items() if v is not None}}
    resumed = config_dict(from_dict(cls, {**saved, **changes}, {**dict.fromkeys(saved, str(path)), **dict.fromkeys(changes, "option")}))
    fixed = sorted(k for k in changes if k not in resumable and resumed[k] != saved[k])
    if fixed:
        raise ConfigError(f"a resumed run cannot change {', '.join(fixed)}; only {', '.join(resumable)}")
    return from_dict(cls, resumed, str(path))


TrainingInterrupted = Interrupted  # what a trainer raises when Ctrl-C or SIGTERM stopped it


class _DeferredSignals:
    """Inside the block, the first SIGINT or SIGTERM only sets `requested`; a second raises KeyboardInterrupt.
    Outside the main thread (where handlers cannot be set) signals keep their usual behaviour."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "_DeferredSignals":
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


class TrainingRun:
    def __init__(
        self,
        out_dir: str | os.PathLike | None,
        *,
        total: int,
        done: int = 0,
        description: str = "training",
        max_minutes: float = 0.0,
        show_progress: bool = True,
        save: Callable[[], str] | None = None,
        log_name: str = LOG,
        writer: bool = True,
    ):
        """`done` steps of `total` are already behind the run (resume). `writer` False (a DDP rank other than
        0) keeps the bar and the log quiet."""
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.total, self.step = total, done
        self.description = description
        self.max_minutes = max_minutes
        self.save = save
        self.writer = writer
        self.log_path = self.out_dir / log_name if self.out_dir is not None else None
        self._progress = make_progress(disable=not (show_progress and writer))
        self._signals = _DeferredSignals()
        self.started = time.perf_counter()
        self.deadline = math.inf

    def __enter__(self) -> "TrainingRun":
        self.started = time.perf_counter()
        self.deadline = self.started + 60 * self.max_minutes if self.max_minutes > 0 else math.inf
        self._signals.__enter__()
        self._progress.__enter__()
        self._task = self._progress.add_task(self.description, total=self.total, completed=self.step, status="")
        return self

    def advance(self, steps: int = 1, status: str | None = None) -> None:
        """Count finished steps; where an interrupt arrived meanwhile, save and raise TrainingInterrupted."""
        self.step += steps
        self._progress.update(self._task, completed=self.step, **({"status": status} if status is not None else {}))
        self.check_interrupt()

    def check_interrupt(self) -> None:
        """Call at a point where the trainer's state is whole (between steps, after an evaluation)."""
        if self._signals.requested:
            what = self.save() if self.save is not None else None
            raise TrainingInterrupted(f"interrupted at step {self.step}" + (f": saved {what}" if what else ", nothing saved"))

    @property
    def seconds(self) -> float:
        """Seconds since this run (not the resumed training) started."""
        return time.perf_counter() - self.started

    @property
    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def log(self, record: dict[str, Any]) -> None:
        """Append one JSON line to the run's log (flushed and synced, so a kill loses at most this line)."""
        if self.log_path is None or not self.writer:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._progress.__exit__(exc_type, exc, tb)
        self._signals.__exit__()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            raise TrainingInterrupted(f"interrupted twice at step {self.step}: stopped at once, the last checkpoint stands") from None
        return False


def trim_log(log_path: str | os.PathLike, key: str, last: int) -> None:
    """Drop log lines whose `key` is beyond `last`: lines a killed run wrote after its last checkpoint,
    which the resumed run will write again."""
    path = Path(log_path)
    if not path.is_file():
        return
    lines = path.read_text().splitlines()
    kept = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if record.get(key, 0) <= last:
            kept.append(line)
    if len(kept) != len(lines):
        atomic_write_bytes(path, ("\n".join(kept) + "\n" if kept else "").encode())


def optimizer_step(optimizer: torch.optim.Optimizer, terms: dict[str, torch.Tensor], step: int) -> dict[str, float]:
    """One update on the sum of the (weighted) loss `terms`; returns them and their total as floats. A non-finite
    loss stops the run with a clear error instead of writing NaN weights into the next checkpoint."""
    loss = sum(terms.values())
    if not torch.isfinite(loss):
        raise OptimizationError(f"the training loss became {loss.item()} at step {step}; the last checkpoint stands (try a lower lr)")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    # The norm, not each element: a per-style network's instance norms on a near-flat crop give gradients that are
    # each finite but overflow together, and one such step in Adam's moments wrecked a trained network (issue 35).
    if not grads or torch.isfinite(torch.nn.utils.get_total_norm(grads)):
        optimizer.step()
    else:  # a finite loss with a non-finite gradient: skipping the update keeps NaN and overflow out of the weights
        log.warning(f"step {step}: non-finite gradient, update skipped")
    return {**{k: v.item() for k, v in terms.items()}, "total": loss.item()}


def warm_up_lr(optimizer: torch.optim.Optimizer, lr: float, steps: int) -> None:
    """Ramp the lr linearly to `lr` over the optimiser's first `steps` steps, counted from its own state (so a resumed
    run carries on the ramp where it stopped): a fresh Adam's first steps are lr-sized in every weight at once."""
    first = next((optimizer.state[p] for group in optimizer.param_groups for p in group["params"] if p in optimizer.state), {})
    done = int(first.get("step", 0))
    for group in optimizer.param_groups:
        group["lr"] = lr * min(1.0, (done + 1) / steps) if steps else lr


class LossWindow:
    """Per-step loss records, averaged each time the run logs."""

    def __init__(self):
        self.records: list[dict[str, float]] = []

    def add(self, record: dict[str, float]) -> None:
        self.records.append(record)

    def mean(self) -> dict[str, float]:
        """The mean of each term since the last call (empty when nothing was added)."""
        rows, self.records = self.records, []
        return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]} if rows else {}


class EMA:
    """An exponential moving average of a network's weights and buffers (`decay` per step), which trainers export
    instead of the raw weights. It starts from the network as it stands (a warm start's weights, not zero) and is
    checkpointed in one format, the network's own state dict."""

    def __init__(self, network: torch.nn.Module, decay: float):
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        self.averaged = AveragedModel(network, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
        self.averaged.n_averaged.fill_(1)  # else the first update would copy the raw weights over the average

    @property
    def module(self) -> torch.nn.Module:
        return self.averaged.module

    def update(self, network: torch.nn.Module) -> None:
        self.averaged.update_parameters(network)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """The network's state dict (older AdaIN checkpoints kept AveragedModel's own, `module.` prefixed)."""
        if any(k.startswith("module.") for k in state):
            state = {k.removeprefix("module."): v for k, v in state.items() if k.startswith("module.")}
        self.module.load_state_dict(state)
