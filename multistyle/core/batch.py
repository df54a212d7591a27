"""The one folder batch: every command that takes a folder of inputs (`image fast`, `image adain`, `image onnx`) runs
its items here. Each output is written atomically, so an output that exists is finished; while the batch runs, a
manifest in the output folder (MANIFEST) names the job, so Ctrl-C or a kill loses nothing and the same command with
`--resume` does only what is left. Under `torchrun --nproc_per_node N` (or across machines) each process takes every
N-th item, so every output is written once, by one process. Torch-free: the ONNX path runs it too."""
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multistyle.core.paths import atomic_write_bytes
from multistyle.core.progress import make_progress
from multistyle.errors import InputError, Interrupted, MultistyleError

MANIFEST = ".multistyle-batch.json"
IMAGE_FILE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


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
              resume: bool = False, description: str = "batch", show_progress: bool = True, workers: int = 1,
              worker_setup: Callable[[], None] | None = None) -> BatchSummary:
    """Call `work(*item.inputs, item.output)` for this process's share of `items`. `identity` (inputs and settings,
    JSON) is what a resumed batch must repeat. `workers` > 1: that many forked processes share the work, each
    calling `worker_setup` first (e.g. one torch thread each; see fork_workers)."""
    rank, world = process_share()
    if Path(out_dir).suffix.lower() in IMAGE_FILE_SUFFIXES:
        raise InputError(f"{out_dir}: a folder batch writes to a folder, not to an image file name")
    manifest = out_dir / MANIFEST
    inputs = [[str(x) for x in item.inputs] for item in items]  # a resumed batch must have the same inputs
    identity = json.loads(json.dumps({**identity, "inputs": inputs}, default=str))

    started_here = False  # whether this run wrote the manifest

    def start_or_refuse() -> None:  # the first process decides for every process
        nonlocal started_here
        recorded = _read_manifest(manifest)
        start_over = f"or delete {MANIFEST} there to start over"
        if recorded is not None and not resume:
            finished = sum(item.output.is_file() for item in items)
            raise InputError(f"{out_dir}: holds an unfinished batch ({finished} of {recorded.get('items', len(items))} "
                             f"written); add --resume to finish it, write to another folder, {start_over}")
        if resume and recorded is None:
            raise InputError(f"{out_dir}: no unfinished batch to resume (it finished, or never started); run without "
                             "--resume")
        if resume and recorded.get("identity") != identity:
            changed = sorted(k for k in identity if recorded.get("identity", {}).get(k) != identity[k])
            raise InputError(f"{out_dir}: its unfinished batch was started with other {', '.join(changed)}; run that "
                             f"command again with --resume, write to another folder, {start_over}")
        check_image_headers(item.inputs for item in items)
        if recorded is None:
            out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(manifest, (json.dumps({"identity": identity, "items": len(items)}, indent=2) + "\n").encode())
            started_here = True

    first_process_decides(start_or_refuse)
    share = list(items)[rank::world]
    todo = [item for item in share if not (resume and item.output.is_file())]
    start, written = time.perf_counter(), 0
    workers = max(1, min(workers, len(todo)))
    try:
        with make_progress(disable=not show_progress) as progress:
            task = progress.add_task(description, total=len(share), completed=len(share) - len(todo), status="")
            done = _in_workers(todo, work, workers, worker_setup) if workers > 1 else _in_order(todo, work)
            with closing(done):  # closed on an interrupt too, which stops the workers
                for item in done:
                    written += 1
                    rate = written / (time.perf_counter() - start)
                    progress.update(task, advance=1, status=f"{item.name}  {rate:.2f} images/s")
    except KeyboardInterrupt:
        raise Interrupted(f"stopped after {len(share) - len(todo) + written} of {len(share)} images in {out_dir}/; "
                          "the same command with --resume finishes the rest") from None
    except MultistyleError:  # an input the header check could not catch (a truncated file, say)
        if started_here and world == 1 and not any(item.output.is_file() for item in items):
            manifest.unlink(missing_ok=True)  # nothing to resume: leave the folder as it was
        raise
    first_process_decides(lambda: None, last=True)  # every process has finished its share
    if rank == 0 and all(item.output.is_file() for item in items):
        manifest.unlink(missing_ok=True)
    return BatchSummary(written, len(share) - len(todo), len(share), len(items), time.perf_counter() - start, rank, world)


def check_image_headers(inputs) -> None:
    """Refuse (InputError) before any work a batch input with an image suffix that PIL cannot identify from its
    header: a wrong file in the folder stops the batch before anything is written, not part-way through."""
    from PIL import Image, UnidentifiedImageError

    seen: set[Path] = set()
    for path in (x for group in inputs for x in group if isinstance(x, Path) and x.suffix.lower() in IMAGE_FILE_SUFFIXES):
        if path in seen:
            continue
        seen.add(path)
        try:
            with Image.open(path):
                pass
        except UnidentifiedImageError:
            raise InputError(f"{path}: not an image file PIL can read") from None
        except OSError as e:
            raise InputError(f"{path}: cannot be read ({e.strerror or e})") from None


def _in_order(items: list[BatchItem], work: Callable[..., Any]) -> Iterator[BatchItem]:
    for item in items:
        work(*item.inputs, item.output)
        yield item


def fork_workers() -> bool:
    """Whether this platform can fork worker processes (not Windows; macOS's fork is unsafe with system frameworks)."""
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


def _in_workers(items: list[BatchItem], work: Callable[..., Any], workers: int,
                setup: Callable[[], None] | None) -> Iterator[BatchItem]:
    """`work` on every item in `workers` forked processes (each takes every workers-th item and inherits the loaded
    model), yielding items as they finish. A worker's error stops the others and is raised here; on Ctrl-C (or an
    interrupt of this process alone) every worker is interrupted, and each output already written is complete."""
    context = multiprocessing.get_context("fork")
    pipes, processes = {}, []
    for k in range(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(items[k::workers], work, setup, send), daemon=True)
        process.start()
        send.close()
        pipes[receive] = k
        processes.append(process)
    error, finished = None, False
    try:
        open_pipes = set(pipes)
        while open_pipes and error is None:
            for pipe in multiprocessing.connection.wait(open_pipes):
                try:
                    kind, payload = pipe.recv()
                except EOFError:  # the worker finished (or died: checked below)
                    open_pipes.discard(pipe)
                    continue
                if kind == "error":
                    error = payload
                    break
                yield items[pipes[pipe] + payload * workers]
        finished = error is None
    finally:
        if not finished:  # interrupted, or a worker failed: stop the others (mid-write, a worker removes its partial file)
            for process in processes:
                if process.is_alive():
                    os.kill(process.pid, signal.SIGINT)
        for process in processes:
            process.join(None if finished else 10)
            if process.is_alive():
                process.terminate()
    if error is not None:
        raise error
    died = [p.exitcode for p in processes if p.exitcode != 0]
    if died:
        how = f"killed by signal {-died[0]}" if died[0] and died[0] < 0 else f"exit code {died[0]}"
        raise MultistyleError(f"a batch worker stopped early ({how}{', out of memory?' if died[0] == -9 else ''}); the "
                              "same command with --resume finishes the rest")


def _interrupt_once(*_) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches a worker from the terminal and from its parent
    raise KeyboardInterrupt


def _worker(items: list[BatchItem], work: Callable[..., Any], setup: Callable[[], None] | None, send) -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt_once)
    try:
        try:
            if setup is not None:
                setup()
            for index, item in enumerate(items):
                work(*item.inputs, item.output)
                send.send(("done", index))  # the parent knows each worker's items by position
        except Exception as e:  # raised again in the parent, which prints it as the command would, and stops the rest
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                send.send(("error", e))
            except Exception:  # an exception that cannot be pickled
                send.send(("error", MultistyleError(f"{type(e).__name__}: {e}")))
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # the parent, unless interrupted itself, reports a worker that stopped early
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent may stop every worker while this one ends


def first_process_decides(check: Callable[[], None], *, last: bool = False) -> None:
    """Run `check` (which raises a MultistyleError to refuse) in the first process only, and raise its refusal in
    every process, after all of them have reached this point: under torchrun, the processes of one job must not
    each judge a folder that the first has just started writing to. Torch-free unless there are several processes.
    `last`: the job's last decision; the processes then close their group together (one that exits while another
    still holds it can abort that one with SIGABRT), as they do after a refusal. A closed group cannot be opened
    again in the same job."""
    rank, world = process_share()
    if world == 1:
        check()
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        if os.environ.get("MASTER_PORT") == "0":  # torchrun --master_port 0 passes 0 on, which no process can reach
            raise InputError("give torchrun a free --master_port (0 is not passed on to the processes)")
        dist.init_process_group("gloo")  # torchrun's MASTER_ADDR and MASTER_PORT
    refusal = [None]
    if rank == 0:
        try:
            check()
        except MultistyleError as e:
            refusal = [str(e)]
    dist.broadcast_object_list(refusal, src=0)
    if last or refusal[0] is not None:
        dist.barrier()
        dist.destroy_process_group()
    if refusal[0] is not None:
        raise InputError(refusal[0])


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
