"""Clips in and out with PyAV (FFmpeg bundled in its wheel): any container FFmpeg reads; H.264 mp4 out at the
input's frame rate with its audio track carried over unchanged. A folder of frame_%04d.png works both ways."""
from dataclasses import dataclass
from fractions import Fraction
from os import PathLike
from pathlib import Path

import av
import numpy as np
import torch

from multistyle.core.paths import write_error, write_target
from multistyle.errors import InputError
from multistyle.image.io import IMAGE_SUFFIXES, load_image, save_image

MAX_FRAMES = 10_000
FRAME_PATTERN = "frame_{:04d}.png"


@dataclass
class Clip:
    frames: list[torch.Tensor]  # (1, 3, H, W) RGB in [0, 1]
    fps: float
    source: Path
    has_audio: bool


def _frame_tensor(frame: "av.VideoFrame") -> torch.Tensor:
    return torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1).unsqueeze(0).float() / 255


def read_clip(path: str | Path, max_frames: int = 0, fps: float = 24.0) -> Clip:
    """A video file or a folder of frames; `max_frames` > 0 keeps only the first ones; `fps` is a folder's rate."""
    if not isinstance(path, (str, PathLike)):
        raise InputError(f"the clip must be a path to a video file or a folder of frames, not {type(path).__name__}")
    path = Path(path)
    limit = max_frames or MAX_FRAMES
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
        if not files:
            raise InputError(f"{path}: no frames (image files) in this folder")
        return Clip([load_image(f) for f in files], fps, path, False)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or fps)
            frames = []
            for frame in container.decode(stream):
                frames.append(_frame_tensor(frame))
                if len(frames) >= limit:
                    break
            has_audio = bool(container.streams.audio)
    except av.error.FFmpegError as e:
        raise InputError(f"{path}: not a video FFmpeg can read ({e})") from None
    if not frames:
        raise InputError(f"{path}: contains no frames")
    return Clip(frames, rate, path, has_audio)


def write_clip(frames: list[torch.Tensor], path: str | Path, fps: float, audio_from: Path | None = None) -> Path:
    """H.264 mp4 (yuv420p, so sides are cropped to even numbers), the source's audio packets copied across; or a
    folder of PNG frames when `path` has no suffix. The file appears complete or not at all."""
    path = Path(path)
    if not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames, 1):
            save_image(frame, path / FRAME_PATTERN.format(i))
        return path
    if path.suffix.lower() not in (".mp4", ".mkv", ".mov"):
        raise InputError(f"{path}: write .mp4, .mkv or .mov, or give a folder for PNG frames")
    path = write_target(path)  # a device, pipe or read-only file is refused, never replaced
    tmp = path.with_name(f".{path.name[:64]}.tmp{path.suffix}")
    try:
        with av.open(str(tmp), "w") as output:
            h, w = (frames[0].shape[-2] // 2) * 2, (frames[0].shape[-1] // 2) * 2
            video = output.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            video.width, video.height, video.pix_fmt = w, h, "yuv420p"
            video.options = {"crf": "18", "preset": "medium"}
            source = av.open(str(audio_from)) if audio_from is not None and audio_from.is_file() else None
            try:
                audio_in = source.streams.audio[0] if source is not None and source.streams.audio else None
                audio_out = output.add_stream_from_template(audio_in) if audio_in is not None else None
                for frame in frames:
                    array = frame[0, :, :h, :w].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
                    for packet in video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")):
                        output.mux(packet)
                for packet in video.encode():
                    output.mux(packet)
                if audio_out is not None:
                    for packet in source.demux(audio_in):
                        if packet.dts is not None:
                            packet.stream = audio_out
                            output.mux(packet)
            finally:
                if source is not None:
                    source.close()
        tmp.replace(path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # a full disk, a name too long, no permission (PyAV's errors are OSErrors too)
            raise write_error(path, e) from None
        raise
    return path
