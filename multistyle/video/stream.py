"""Long video jobs: frames stream through (decode -> stylise -> blend with the previous output -> store), so memory
holds only what the temporal blend needs, whatever the clip's length; and the work so far lives beside the output, so
a killed or interrupted job continues where it stopped (`--resume`).

Each finished frame is written at once, losslessly and atomically, as a PNG into a work folder beside the output
(`.OUT.parts/`, with `job.json`: what the job is). That PNG is also the temporal blend's state: the blend uses the
previous output as written (rounded to 8 bits), so a resumed job reads it back bit for bit, decodes the input again up
to the frame it continues from (decoding is deterministic) and goes on exactly as an uninterrupted run would. At the
end the frames are encoded once into the output (H.264 through a temporary name, renamed when complete: the output
appears whole or not at all), or moved into the output folder; then the work folder is removed. One encode of the
whole clip is what makes a resumed mp4 identical to an uninterrupted one: H.264 segments encoded apart and joined
would differ where they meet. The price is disk: the PNGs of every finished frame until the end (about 0.3 MB a
frame at 512 px).
"""
import json
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from multistyle.core.batch import first_process_decides
from multistyle.core.checkpoint import atomic_write_bytes, read_json, write_json
from multistyle.core.paths import write_error, write_target
from multistyle.errors import InputError
from multistyle.video.io import FRAME_PATTERN, encode_mp4

STATE = "job.json"
END = "end.json"  # written by the process with the last segment (torchrun): how many frames the clip has


def work_folder(output: str | Path) -> Path:
    """Where a job writing `output` keeps its finished frames."""
    output = Path(output)
    return output.parent / f".{output.name[:64]}.parts"


def job_identity(source: Path | None, style: Any, config: dict[str, Any]) -> dict[str, Any]:
    """What a resumed job must repeat: the input, the style and every setting but max_frames."""
    identity = {"input": str(Path(source).resolve()) if source else None,
                "style": str(Path(style).resolve()) if isinstance(style, (str, Path)) and Path(style).exists() else
                str(style) if isinstance(style, (str, Path)) else f"<{type(style).__name__}>",
                "config": {k: v for k, v in config.items() if k != "max_frames"}}
    return json.loads(json.dumps(identity, default=str))


def frame_from_bytes(array: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) in [0, 1]: the previous output as the blend uses it."""
    array = np.ascontiguousarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy()).permute(2, 0, 1).unsqueeze(0).float() / 255


class VideoJob:
    """The finished frames of one job writing `output` (an mp4/mkv/mov file, or a folder for PNG frames)."""

    def __init__(self, output: str | Path, identity: dict[str, Any], resume: bool):
        self.output, self.identity = Path(output), identity
        self.folder = work_folder(output)
        self.created = False
        # under torchrun, the first process judges the folder
        first_process_decides(lambda: self._check(resume), last=True)

    def _check(self, resume: bool) -> None:
        """Refuse to start over an unfinished job, to resume none, or to resume another job."""
        state = self.folder / STATE
        if resume and not state.is_file():
            raise InputError(f"{self.output}: nothing to resume (no unfinished job in {self.folder}); run it without "
                             "--resume")
        if not resume and state.is_file():
            raise InputError(f"{self.output}: an unfinished job's frames are in {self.folder}; add --resume to continue "
                             "it, or delete that folder to start again")
        if resume:
            saved = read_json(state).get("job", {})
            changed = [k for k in ("input", "style") if saved.get(k) != self.identity[k]]
            changed += sorted(k for k in self.identity["config"] if saved.get("config", {}).get(k) != self.identity["config"][k])
            if changed:
                raise InputError(f"{self.output}: --resume continues the same job, but {', '.join(changed)} differ from "
                                 f"the one in {state}; repeat its command (only --max-frames may change)")
        elif not self.folder.exists():  # written before any other process looks for it
            self._start()

    def finished(self, first: int = 0) -> int:
        """How many frames after the first `first` are finished: frame_{first+1}.png ... without a gap (each is
        written atomically)."""
        count = 0
        while self.frame_path(first + count + 1).is_file():
            count += 1
        return count

    def mark_end(self, count: int) -> None:
        """The process with the clip's last segment records how many frames the clip has (a container's count can
        be an estimate)."""
        write_json(self.folder / END, {"frames": count})

    def wait_for_segments(self, progress=None) -> int:
        """Frames 1..N, once the other processes have written them all (N from mark_end); returns N."""
        task = progress.add_task("waiting for the other processes", total=None, status="") if progress else None
        while True:
            end = self.folder / END
            if end.is_file():
                count = read_json(end)["frames"]
                if self.finished() >= count:
                    if task is not None:
                        progress.remove_task(task)
                    return count
            time.sleep(0.2)

    def frame_path(self, index: int) -> Path:
        return self.folder / FRAME_PATTERN.format(index)

    def read(self, index: int) -> torch.Tensor:
        """Finished frame `index` (1-based), exactly as it was computed."""
        with Image.open(self.frame_path(index)) as image:
            return frame_from_bytes(np.asarray(image.convert("RGB")))

    def _start(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise write_error(self.folder, e) from None
        self.created = True
        write_json(self.folder / STATE, {"job": self.identity, "output": str(self.output)})

    def write(self, index: int, array: np.ndarray) -> None:
        """Store finished frame `index` (1-based): a lossless PNG, written atomically."""
        if not (self.folder / STATE).is_file():
            self._start()
        buffer = BytesIO()
        Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
        atomic_write_bytes(self.frame_path(index), buffer.getvalue())

    def finish(self, count: int, fps: float, audio_from: Path | None, progress=None) -> Path:
        """Frames 1..count into the output (encoded once, or moved into its folder), then the work folder goes."""
        frames = [self.frame_path(i) for i in range(1, count + 1)]
        task = progress.add_task("encoding", total=count, status="") if progress is not None else None

        def arrays():
            for path in frames:
                with Image.open(path) as image:
                    yield np.asarray(image.convert("RGB"))
                if task is not None:
                    progress.advance(task)

        if not self.output.suffix:  # a folder of PNG frames: move them in
            try:
                self.output.mkdir(parents=True, exist_ok=True)
                for i, path in enumerate(frames, 1):
                    os.replace(path, self.output / FRAME_PATTERN.format(i))
            except OSError as e:
                raise write_error(self.output, e) from None
            written = self.output
        else:
            written = write_target(self.output)  # a link's target; a device, pipe or read-only file is refused
            tmp = self.folder / f"encoding{self.output.suffix}"
            try:
                encode_mp4(arrays(), tmp, fps, audio_from)
                os.replace(tmp, written)
            except BaseException as e:
                tmp.unlink(missing_ok=True)
                if isinstance(e, OSError):
                    raise write_error(self.output, e) from None
                raise
        shutil.rmtree(self.folder, ignore_errors=True)
        return written

    def abandon(self) -> None:
        """A job this run started and that failed on bad input leaves nothing behind."""
        if self.created:
            shutil.rmtree(self.folder, ignore_errors=True)

    def interrupted(self) -> str:
        finished = self.finished()
        return (f"interrupted: {finished} frame{'s' if finished != 1 else ''} finished and kept in {self.folder}; "
                "run the same command with --resume to continue from there")


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops the job as Ctrl-C does (between two writes the job's state is whole either way)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def copy_output(written: Path, path: Path) -> Path:
    """A streamed job's output copied to `path` (a file through a temporary name; a folder's frames one by one)."""
    if written.resolve() == path.resolve():
        return path
    if written.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        for frame in sorted(written.glob("frame_*.png")):
            atomic_write_bytes(path / frame.name, frame.read_bytes())
        return path
    target = write_target(path)
    tmp = target.with_name(f".{target.name[:64]}.tmp{target.suffix}")
    try:
        shutil.copyfile(written, tmp)
        os.replace(tmp, target)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise write_error(path, e) from None
        raise
    return target
