"""Clips in and out with PyAV (FFmpeg bundled in its wheel): any container FFmpeg reads; H.264 mp4 out at the
input's frame rate with its audio track carried over (cut to the frames written). A folder of frame_%04d.png works
both ways.

`open_clip` reads frame by frame (a `ClipReader` decodes one frame at a time, whatever the clip's length); `read_clip`
holds a whole short clip in memory (tests, benchmarks). `encode_mp4` encodes frames from any iterable, one at a time."""
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from os import PathLike
from pathlib import Path

import av
import numpy as np
import torch

from multistyle.core.paths import list_images, write_error, write_target
from multistyle.errors import InputError
from multistyle.image.io import IMAGE_SUFFIXES, load_image, save_image

MAX_FRAMES = 10_000  # read_clip (every frame in memory) refuses longer clips: stream them (open_clip, VideoTransfer(output=...))
FRAME_PATTERN = "frame_{:04d}.png"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")


@dataclass
class Clip:
    frames: list[torch.Tensor]  # (1, 3, H, W) RGB in [0, 1]
    fps: float
    source: Path
    has_audio: bool


def _frame_tensor(frame: "av.VideoFrame") -> torch.Tensor:
    return torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1).unsqueeze(0).float() / 255


class ClipReader:
    """A video file or a folder of frames, decoded one frame at a time when iterated (each pass starts again from
    the first frame; decoding is deterministic, so a resumed job sees the same frames). `max_frames` > 0 stops after
    that many; `fps` is a folder's rate. `total` is the number of frames it will give, or None where the container
    does not say."""

    def __init__(self, path: str | Path, max_frames: int = 0, fps: float = 24.0):
        if not isinstance(path, (str, PathLike)):
            raise InputError(f"the clip must be a path to a video file or a folder of frames, not {type(path).__name__}")
        self.source = path = Path(path)
        self.max_frames = max_frames
        if not path.exists():
            raise InputError(f"{path}: file not found")
        if path.suffix.lower() in IMAGE_SUFFIXES:  # FFmpeg reads a photo as a one-frame clip
            raise InputError(f"{path}: a still image, not a video; stylise it with `multistyle image`, or give a "
                             "folder of frames")
        self.files: list[Path] | None = None
        if path.is_dir():
            self.files = list_images(path, IMAGE_SUFFIXES, "frames")
            self.fps, self.has_audio, count = fps, False, len(self.files)
        else:
            try:
                with av.open(str(path)) as container:
                    if not container.streams.video:
                        raise InputError(f"{path}: has no video stream")
                    stream = container.streams.video[0]
                    self.fps = float(stream.average_rate or stream.guessed_rate or fps)
                    self.has_audio = bool(container.streams.audio)
                    count = stream.frames or None
                    if count is None and container.duration:
                        count = round(container.duration / av.time_base * self.fps) or None
            except av.error.FFmpegError as e:
                raise InputError(f"{path}: not a video FFmpeg can read ({e})") from None
        self.total: int | None = min(count, max_frames) if count and max_frames else count

    def __iter__(self) -> Iterator[torch.Tensor]:
        given = 0
        if self.files is not None:
            for file in self.files[: self.max_frames or None]:
                yield load_image(file)
            return
        try:
            with av.open(str(self.source)) as container:
                for frame in container.decode(container.streams.video[0]):
                    yield _frame_tensor(frame)
                    given += 1
                    if given == self.max_frames:
                        break
        except av.error.FFmpegError as e:
            raise InputError(f"{self.source}: cannot be decoded after frame {given} ({e})") from None
        if given == 0:
            raise InputError(f"{self.source}: contains no frames")


def open_clip(path: str | Path, max_frames: int = 0, fps: float = 24.0) -> ClipReader:
    """A clip to read frame by frame (see ClipReader)."""
    return ClipReader(path, max_frames, fps)


def read_clip(path: str | Path, max_frames: int = 0, fps: float = 24.0) -> Clip:
    """Every frame of a short clip in memory (`max_frames` > 0: only the first ones); longer than MAX_FRAMES is
    refused: stream those with open_clip."""
    reader = ClipReader(path, max_frames, fps)
    frames = []
    for frame in reader:
        if len(frames) == MAX_FRAMES:
            raise InputError(f"{path}: more than {MAX_FRAMES} frames, too many to hold in memory; stream it "
                             "(VideoTransfer(...)(clip, style, output=PATH)) or read fewer (max_frames)")
        frames.append(frame)
    return Clip(frames, reader.fps, reader.source, reader.has_audio)


def to_bytes(frame: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8, as written (rounded)."""
    return np.ascontiguousarray(frame[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy())


def encode_mp4(frames: Iterable[np.ndarray | torch.Tensor], path: Path, fps: float, audio_from: Path | None = None) -> int:
    """Encode frames ((H, W, 3) uint8 arrays or (1, 3, H, W) tensors), one at a time, as H.264 (yuv420p: sides cropped
    to even numbers) into `path`, then the audio packets of `audio_from` that start before the last frame ends: the
    track is cut to the video's length (to within one audio packet, ~20 ms). Returns the number of frames."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise InputError(f"{path}: no frames to write")
    first = to_bytes(first) if isinstance(first, torch.Tensor) else first
    h, w = (first.shape[0] // 2) * 2, (first.shape[1] // 2) * 2
    count = 0
    with av.open(str(path), "w") as output:
        video = output.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.options = {"crf": "18", "preset": "medium"}
        source = av.open(str(audio_from)) if audio_from is not None and audio_from.is_file() else None
        try:  # every stream is added before the first packet is written (the container's header)
            audio_in = source.streams.audio[0] if source is not None and source.streams.audio else None
            audio_out = output.add_stream_from_template(audio_in) if audio_in is not None else None
            audio = _AudioCopy(source, audio_in, audio_out, output) if audio_in is not None else None
            rate = Fraction(fps).limit_denominator(1001)
            for frame in itertools.chain([first], frames):
                array = to_bytes(frame) if isinstance(frame, torch.Tensor) else frame
                array = np.ascontiguousarray(array[:h, :w])
                for packet in video.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                    output.mux(packet)
                count += 1
                if audio is not None:
                    audio.until(count / rate)  # the audio interleaved as the video goes
            for packet in video.encode():
                output.mux(packet)
            if audio is not None:
                audio.until(count / rate)  # the track cut where the video ends
        finally:
            if source is not None:
                source.close()
    return count


class _AudioCopy:
    """Copies the packets of an audio stream, in order, up to a time (seconds from the stream's start)."""

    def __init__(self, source, stream, out_stream, output):
        self.packets = (p for p in source.demux(stream) if p.dts is not None and p.pts is not None)
        self.start, self.base = stream.start_time or 0, stream.time_base
        self.out_stream, self.output, self.pending = out_stream, output, None

    def until(self, end: Fraction) -> None:
        while True:
            if self.pending is None:
                self.pending = next(self.packets, None)
                if self.pending is None:
                    return
            if (self.pending.pts - self.start) * self.base >= end:
                return
            self.pending.stream = self.out_stream
            self.output.mux(self.pending)
            self.pending = None


def write_clip(frames: list[torch.Tensor], path: str | Path, fps: float, audio_from: Path | None = None) -> Path:
    """H.264 mp4 (yuv420p, so sides are cropped to even numbers), the source's audio packets copied across (cut to
    the frames' length); or a folder of PNG frames when `path` has no suffix. The file appears complete or not at all."""
    path = Path(path)
    if not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames, 1):
            save_image(frame, path / FRAME_PATTERN.format(i))
        return path
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{path}: write .mp4, .mkv or .mov, or give a folder for PNG frames")
    path = write_target(path)  # a device, pipe or read-only file is refused, never replaced
    tmp = path.with_name(f".{path.name[:64]}.tmp{path.suffix}")
    try:
        encode_mp4(frames, tmp, fps, audio_from)
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # a full disk, a name too long, no permission (PyAV's errors are OSErrors too)
            raise write_error(path, e) from None
        raise
    return path
