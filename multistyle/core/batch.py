"""The one folder batch: every command that takes a folder of inputs (`image fast`, `image adain`, `image onnx`) runs
its items here. Each output is written atomically, so an output that exists is finished; while the batch runs, a
manifest in the output folder (MANIFEST) names the job, so Ctrl-C or a kill loses nothing and the same command with
`--resume` does only what is left. Under `torchrun --nproc_per_node N` (or across machines) each process takes every
N-th item, so every output is written once, by one process. Torch-free: the ONNX path runs it too."""
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multistyle.core.paths import atomic_write_bytes
from multistyle.core.progress import make_progress
from multistyle.errors import InputError, Interrupted

MANIFEST = ".multistyle-batch.json"


@dataclass
class BatchItem:
    name: str  # what the progress bar shows
    output: Path
    inputs: tuple  # what the batch's work function is given


@dataclass
class BatchSummary:
    written: int  # by this process in this run
    resumed: int  # of this process's share, finished by an earlier run
    share: int  # items this process was given
    total: int  # items in the whole batch
    seconds: float
    rank: int = 0
    world: int = 1

    @property
    def per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def describe(self, out_dir: Path) -> str:
        who = f"process {self.rank + 1} of {self.world}: " if self.world > 1 else ""
        kept = f", {self.resumed} kept from before" if self.resumed else ""
        return f"{who}wrote {self.written} of {self.total} images to {out_dir}/{kept} ({self.per_second:.2f} images/s)"


def process_share() -> tuple[int, int]:
    """(rank, world size) as torchrun sets them; (0, 1) in a plain run."""
    try:
        rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise InputError("RANK and WORLD_SIZE must be whole numbers (torchrun sets them)") from None
    if not 0 <= rank < world:
        raise InputError(f"RANK {rank} is outside WORLD_SIZE {world}")
    return rank, world


def run_batch(items: Sequence[BatchItem], out_dir: Path, work: Callable[..., Any], identity: dict[str, Any], *,
              resume: bool = False, description: str = "batch", show_progress: bool = True) -> BatchSummary:
    """Call `work(*item.inputs, item.output)` for this process's share of `items`. `identity` (inputs and settings,
    JSON) is what a resumed batch must repeat."""
    rank, world = process_share()
    manifest = out_dir / MANIFEST
    identity = json.loads(json.dumps(identity, default=str))
    recorded = _read_manifest(manifest)
    run_id = os.environ.get("TORCHELASTIC_RUN_ID")  # shared by the processes of one torchrun job
    if recorded is not None and run_id is not None and recorded.get("run") == run_id:
        recorded = None  # another process of this very job wrote it
    finished = sum(item.output.is_file() for item in items)
    if recorded is not None and not resume:
        raise InputError(f"{out_dir}: holds an unfinished batch ({finished} of {len(items)} written); add --resume to "
                         "finish it, or write to another folder")
    if resume and recorded is None:
        raise InputError(f"{out_dir}: no unfinished batch to resume (it finished, or never started); run without --resume")
    if resume and recorded.get("identity") != identity:
        raise InputError(f"{out_dir}: its unfinished batch was started with other inputs or settings; run that command "
                         "again with --resume, or write to another folder")
    if rank == 0 and (recorded is None or run_id is not None):
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(manifest, (json.dumps({"identity": identity, "items": len(items), "run": run_id}, indent=2) + "\n").encode())
    share = list(items)[rank::world]
    todo = [item for item in share if not (resume and item.output.is_file())]
    start, written = time.perf_counter(), 0
    try:
        with make_progress(disable=not show_progress) as progress:
            task = progress.add_task(description, total=len(share), completed=len(share) - len(todo), status="")
            for item in todo:
                work(*item.inputs, item.output)
                written += 1
                rate = written / (time.perf_counter() - start)
                progress.update(task, advance=1, status=f"{item.name}  {rate:.2f} images/s")
    except KeyboardInterrupt:
        raise Interrupted(f"stopped after {len(share) - len(todo) + written} of {len(share)} images in {out_dir}/; "
                          "the same command with --resume finishes the rest") from None
    if all(item.output.is_file() for item in items):  # the last process to finish closes the batch
        manifest.unlink(missing_ok=True)
    return BatchSummary(written, len(share) - len(todo), len(share), len(items), time.perf_counter() - start, rank, world)


def batch_complete(out_dir: Path) -> bool:
    """Whether no batch is unfinished in `out_dir` (every process's share written)."""
    return not (out_dir / MANIFEST).is_file()


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError(f"{path}: an unreadable batch manifest; remove it to start the batch again") from None
