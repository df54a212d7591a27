"""Stylised clips with temporal consistency. Frame by frame, a feed-forward method (AdaIN, a per-style network)
shimmers; here each frame's stylisation is blended with the previous output warped by the optical flow, wherever
that flow is reliable (Ruder et al. 2016's masks), so static and smoothly moving regions keep their strokes; the
blend's contrast is then restored band by band so the style is not averaged away (multistyle.video.blend).
AdaIN also encodes the style once for the whole clip. Gatys follows Ruder et al. (2016): each frame starts from
the warped previous output and its loss gains a short-term temporal term, the mean of c * (x - warped)^2 with
c the reliability mask. Stability is measured as Lai et al. (2018)'s warping error.
"""
import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from multistyle.core.batch import process_share
from multistyle.core.checkpoint import write_json
from multistyle.core.config import config_dict, with_overrides
from multistyle.core.pipeline import Output, Pipeline, plain
from multistyle.core.progress import make_progress
from multistyle.core.runtime import check_precision
from multistyle.errors import InputError
from multistyle.image.io import ImageLike, output_size, resize
from multistyle.video.blend import temporal_blend
from multistyle.video.flow import FlowEstimator, reliability, warp
from multistyle.video.io import VIDEO_SUFFIXES, Clip, open_clip, to_bytes, write_clip
from multistyle.video.stream import frame_from_bytes

METHODS = ("adain", "fast", "gatys")
DEFAULT_TEMPORAL = 0.7
Prior = tuple[torch.Tensor, torch.Tensor]  # the previous output warped to this frame, and where that is reliable (1, 1, H, W)


@dataclass
class VideoConfig:
    method: str = "adain"  # adain (any style image), fast (a trained per-style network: its name or file) or gatys
    # Weight of the warped previous output where the flow is reliable; 0 = frame by frame. None: DEFAULT_TEMPORAL, or 0
    # for a per-style network trained with Huang et al.'s temporal loss, which is steady without flow.
    temporal: float | None = None
    keep_contrast: bool = True  # adain, fast: each band of the blend gets the stylised frame's contrast (video/blend.py)
    temporal_loss: float = 20.0  # gatys: weight of Ruder et al.'s temporal term (used unless temporal is 0)
    gatys_steps: int = 100  # gatys: L-BFGS evaluations per frame; the first frame gets twice as many
    # Output size, as for the image methods (multistyle.image.io.output_size): None, the frames' own size shrunk to a
    # 512-px long side when larger; 0 keeps any size; a number is the output's long side in pixels, obeyed.
    size: int | None = None
    alpha: float = 1.0  # content-style trade-off of AdaIN or the per-style network: 0 = content, 1 = full style
    max_frames: int = 0  # 0: every frame
    fps: float = 24.0  # frame rate of a folder of frames (a video file keeps its own)
    device: str = "auto"  # where the method named by `method` runs (a method object passed in keeps its own)
    precision: str = "auto"  # its dtype: fp32, bf16, or auto (bf16 where matrix units run it natively)

    def validate(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"--method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.temporal_loss < 0 or self.gatys_steps < 1:
            raise InputError("need temporal_loss >= 0 and gatys_steps >= 1")
        if self.temporal is not None and not 0 <= self.temporal < 1:
            raise InputError(f"--temporal must be in [0, 1), not {self.temporal}")
        if self.size is not None and self.size != 0 and self.size < 32:
            raise InputError(f"--size {self.size} is too small; use at least 32 pixels (or 0)")
        if not 0 <= self.alpha <= 1:
            raise InputError(f"--alpha must be between 0 and 1, not {self.alpha}")
        if self.max_frames < 0:
            raise InputError(f"--max-frames must be 0 (every frame) or more, not {self.max_frames}")
        if not 0 < self.fps <= 240:
            raise InputError(f"--fps must be more than 0 and at most 240, not {self.fps}")
        check_precision(self.precision)


@dataclass(repr=False)
class VideoResult(Output):
    """A stylised clip: `frames` in memory when no output was given, else None and `path` is where it was written.
    `count` frames either way (a resumed job's included), `seconds` and `timings` of this run."""
    frames: list[torch.Tensor] | None
    fps: float
    config: dict[str, Any]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # stylise, flow (and warp) seconds in all
    source: Path | None = None
    path: Path | None = None
    count: int = 0
    sources: list[Path] = field(default_factory=list)  # the style file, which `save` never overwrites
    rank: int = 0  # under torchrun: this process, of `world`; only the first writes the output
    world: int = 1

    def __post_init__(self):
        if self.frames is not None and not self.count:
            self.count = len(self.frames)

    @property
    def method(self) -> str:
        return f"video-{self.config.get('method', '?')}"

    def _repr_fields(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return f"frames={self.count}, fps={self.fps:g}, seconds={self.seconds:.2f}{where}"

    def report(self, **inputs: Any) -> dict[str, Any]:
        return {"method": self.method, **inputs, "frames": self.count, "fps": self.fps, "config": self.config,
                "seconds": round(self.seconds, 2), "timings_s": {k: round(v, 2) for k, v in self.timings.items()}}

    @staticmethod
    def report_path(path: str | Path) -> Path:
        """PATH.json beside a video file; video.json inside a folder of frames."""
        return Path(path).with_suffix(".json") if Path(path).suffix else Path(path) / "video.json"

    def save(self, path: str | Path, report: bool = True, audio: bool = True, **inputs: Any) -> Path:
        """H.264 mp4 with the source's audio track (or a folder of PNG frames for a path without suffix), and with
        `report` its JSON (report_path); a clip already streamed to `path` is only reported, one streamed elsewhere
        is copied."""
        from multistyle.core.paths import check_output

        path = Path(path)
        sources = [self.source, *self.sources] if self.source else self.sources
        check_output(path, sources, folder=not path.suffix)
        if report:
            check_output(self.report_path(path), sources)  # o.json beside o.mp4 must not replace an input
        if self.frames is not None:
            written = write_clip(self.frames, path, self.fps, self.source if audio else None)
        elif self.path is None:
            raise InputError(f"process {self.rank + 1} of {self.world} stylised its share of the clip; the first "
                             "process writes the output")
        else:
            from multistyle.video.stream import copy_output

            written = copy_output(self.path, path)
        if report:
            write_json(self.report_path(path), {"input": str(self.source) if self.source else None,
                                                **self.report(**plain(inputs)), "output": str(written)})
        return written


OVERLAP = 4  # frames a torchrun process stylises before its segment so that its first frame blends as in one process


def segment(total: int | None, rank: int, world: int) -> tuple[int, int | None]:
    """Frames [first, last) of the clip for process `rank` of `world`: contiguous, in order; the last one runs to the
    clip's end (None), since a container's frame count can be an estimate."""
    if world == 1:
        return 0, None
    bounds = [round(i * total / world) for i in range(world + 1)]
    return bounds[rank], (bounds[rank + 1] if rank < world - 1 else None)


def method_name(model: Any) -> str:
    """The VideoConfig.method a method object is (adain, fast or gatys)."""
    from multistyle.image.adain import AdaIN
    from multistyle.image.fast import FastStyle
    from multistyle.image.gatys import Gatys

    for kind, name in ((AdaIN, "adain"), (FastStyle, "fast"), (Gatys, "gatys")):
        if isinstance(model, kind):
            return name
    raise InputError(f"VideoTransfer runs AdaIN, FastStyle or Gatys, not {type(model).__name__}")


def trained_for_video(info: dict) -> bool:
    """Whether a per-style network's JSON records training with Huang et al.'s temporal loss."""
    config = info.get("config")
    return isinstance(config, dict) and isinstance(config.get("temporal_weight"), (int, float)) and config["temporal_weight"] > 0


def check_style(method: str, style: ImageLike | None) -> None:
    """Refuse a style named by a path or name that cannot be found before the clip is opened (InputError)."""
    if not isinstance(style, (str, Path)):
        return
    from multistyle.image.fast import resolve_style as network_file, shipped_styles

    if method == "fast":
        network_file(style)
        return
    from multistyle.samples import resolve_style

    try:
        found = Path(resolve_style(style)).exists()
    except InputError as e:
        if str(style) in shipped_styles():
            raise InputError(f"{e}; {style} is a per-style network: add --method fast") from None
        raise
    if not found:
        raise InputError(f"{style}: file not found")


def frame_size(frame: torch.Tensor, size: int | None) -> tuple[int, int]:
    """The output's (H, W): see VideoConfig.size."""
    return output_size(*frame.shape[-2:], size)


class VideoTransfer(Pipeline):
    """Stylise a clip with any image method (AdaIN, a per-style network, Gatys), with flow-guided temporal blending.

    >>> result = VideoTransfer(method="adain", temporal=0.7)("clip.mp4", "painting.jpg")
    >>> result.save("styled.mp4")       # H.264, the input's frame rate and audio, and styled.json
    >>> VideoTransfer(FastStyle.from_pretrained("wave", alpha=0.8))("clip.mp4", output="waved.mp4")

    `method` is a method object, with its own weights and settings (a FastStyle carries its style, so the call needs
    none), or a name (adain, fast, gatys) built with this config's alpha, device and precision.
    """

    def __init__(self, config: "VideoConfig | Pipeline | None" = None, *, method: "str | Pipeline | None" = None,
                 show_progress: bool = False, **overrides: Any):
        if isinstance(config, Pipeline):  # VideoTransfer(AdaIN.from_pretrained(...), temporal=0.7)
            config, method = None, config
        self.model = None
        if method is not None and not isinstance(method, str):
            self.model = method
            method = method_name(method)
            own = self.model.config  # the object's own settings, unless this call's constructor names others
            taken = {"device": own.device, "precision": own.precision, "size": getattr(own, "size", None),
                     **({"alpha": own.alpha} if hasattr(own, "alpha") else {"gatys_steps": own.steps})}
            overrides = {**taken, **overrides}
        self.config = with_overrides(config or VideoConfig(), {**overrides, "method": method})
        self.config.validate()
        if self.model is not None and {"device", "precision"} & set(overrides):
            self.model.to(self.config.device, self.config.precision)
        self.show_progress = show_progress

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, config: VideoConfig | None = None,
                        **overrides: Any) -> "VideoTransfer":
        """With a per-style network (a shipped style's name, a .safetensors file or a train-fast run's folder), video
        through that network; without, the method the settings name (AdaIN by default)."""
        if name_or_path is None:
            return cls(config, **overrides)
        from multistyle.image.fast import FastStyle

        config = with_overrides(config or VideoConfig(), {**overrides, "method": "fast"})
        return cls(config, method=FastStyle.from_pretrained(name_or_path, alpha=config.alpha, device=config.device,
                                                            precision=config.precision))

    def _placed(self) -> None:
        if self.model is not None:
            self.model.to(self.config.device, self.config.precision)

    def _image_method(self, style: ImageLike | None):
        """The image method this clip runs: the one given, else one built from the config."""
        cfg = self.config
        if self.model is not None:
            return self.model
        placement = {"device": cfg.device, "precision": cfg.precision}
        if cfg.method == "adain":
            from multistyle.image.adain import AdaIN

            return AdaIN.from_pretrained(alpha=cfg.alpha, **placement)
        if cfg.method == "fast":
            from multistyle.image.fast import FastStyle

            if style is None:
                raise InputError("method fast needs a style: a shipped style's name or a .safetensors file")
            return FastStyle.from_pretrained(str(style), alpha=cfg.alpha, **placement)
        from multistyle.image.gatys import Gatys

        return Gatys(**placement)

    def _default_temporal(self, style: ImageLike | None) -> float:
        """DEFAULT_TEMPORAL, or 0 for a per-style network trained with the temporal loss (Huang et al. 2017)."""
        if self.config.method != "fast" or (self.model is None and not isinstance(style, (str, Path))):
            return DEFAULT_TEMPORAL
        from multistyle.image.fast import model_info, resolve_style

        info = self.model.info if self.model is not None else model_info(resolve_style(style))
        return 0.0 if trained_for_video(info) else DEFAULT_TEMPORAL

    def _stylizer(self, style: ImageLike | None, size: tuple[int, int]):
        """A function (frame, prior or None) -> stylised frame, the prior used as the method uses it."""
        cfg = self.config
        model = self._image_method(style)
        if cfg.method == "gatys":
            return self._gatys(model, style)
        if cfg.method == "adain":
            if style is None:
                raise InputError("AdaIN needs a style image")
            stats = model.style_stats(style, max(size))  # the style is encoded once for the whole clip
            stylise = lambda frame: model(frame, stats, size=0, alpha=cfg.alpha).tensor  # noqa: E731
        else:
            stylise = lambda frame: model(frame, size=0, alpha=cfg.alpha).tensor  # noqa: E731

        def blended(frame: torch.Tensor, prior: Prior | None) -> torch.Tensor:
            styled = stylise(frame)
            if prior is None:
                return styled
            warped, mask = prior
            return temporal_blend(styled, warped, mask, cfg.temporal, cfg.keep_contrast)
        return blended

    def _gatys(self, gatys, style: ImageLike | None):
        from multistyle.image.io import load_image
        from multistyle.samples import resolve_style

        if style is None:
            raise InputError("Gatys needs a style image")
        cfg = self.config
        style = load_image(resolve_style(style))  # a file or a bundled painting's name
        frames_done = getattr(self, "_first_index", 0)  # a resumed job's finished frames
        fixed = {"size": 0, "scales": 1, "patience": 0}

        def optimise(frame: torch.Tensor, prior: Prior | None) -> torch.Tensor:
            nonlocal frames_done
            frames_done += 1
            steps = 2 * cfg.gatys_steps if frames_done == 1 else cfg.gatys_steps  # as many per frame in either mode
            if prior is None:
                return gatys(frame, style, steps=steps, **fixed).tensor
            warped, mask = prior
            pixels = mask.sum().clamp_min(1) * 3

            def temporal(image: torch.Tensor) -> dict[str, torch.Tensor]:
                return {"temporal": cfg.temporal_loss * (mask * (image - warped).square()).sum() / pixels}
            return gatys(frame, style, steps=steps, init_image=warped, extra_loss=temporal, **fixed).tensor
        return optimise

    def __call__(self, clip: str | Path | Clip | list, style: ImageLike | None = None,
                 output: str | Path | list | None = None, *, resume: bool = False, **overrides: Any) -> VideoResult:
        """Stylise `clip` frame by frame. With `output` (an .mp4/.mkv/.mov file, or a folder for PNG frames) the
        frames stream to it and memory stays flat whatever the clip's length; the work so far is kept beside it
        (multistyle.video.stream), so after Ctrl-C or a kill, `resume=True` continues where it stopped. Without
        `output` the frames are kept in memory (short clips): the result's `.frames`. A list of clips (with a list
        of outputs, or none) gives a list of results. Settings (VideoConfig's fields) may be overridden per call."""
        if overrides:
            once = copy.copy(self)
            once.config = with_overrides(self.config, overrides)
            once.config.validate()
            return once(clip, style, output, resume=resume)
        if isinstance(clip, (list, tuple)):
            outputs = output if output is not None else [None] * len(clip)
            if not isinstance(outputs, (list, tuple)) or len(outputs) != len(clip):
                raise InputError("a list of clips takes a list of outputs, one per clip (or none)")
            return [self(one, style, out, resume=resume) for one, out in zip(clip, outputs)]
        if self.model is not None and self.config.method == "fast" and style is not None:
            raise InputError("a FastStyle carries its own style: call without one")
        if self.config.temporal is None:
            return self(clip, style, output, resume=resume, temporal=self._default_temporal(style))
        from multistyle.core.paths import check_output
        from multistyle.video.stream import VideoJob, job_identity, sigterm_as_interrupt

        cfg = self.config
        if self.model is None:
            check_style(cfg.method, style)
        settings = {**config_dict(cfg), "model": None if self.model is None else  # a method object's own settings
                    {**config_dict(self.model.config), "style": getattr(self.model, "info", {}).get("name")}}
        if isinstance(clip, Clip):  # frames already in memory
            source, origin, fps, has_audio = clip.frames[: cfg.max_frames or None], clip.source, clip.fps, clip.has_audio
            total = len(source)
        else:  # decoded one frame at a time
            source = open_clip(clip, cfg.max_frames, cfg.fps)
            origin, fps, has_audio, total = source.source, source.fps, source.has_audio, source.total
        job = None
        if output is not None:
            output = Path(output)
            if output.suffix and output.suffix.lower() not in VIDEO_SUFFIXES:
                raise InputError(f"{output}: write .mp4, .mkv or .mov, or give a folder for PNG frames")
            inputs = [p for p in (origin, style if isinstance(style, (str, Path)) else None) if p is not None]
            check_output(output, inputs, folder=not output.suffix)
            job = VideoJob(output, job_identity(origin, style, settings), resume)
        elif resume:
            raise InputError("resume needs the output the job writes to (output=...)")
        rank, world = process_share()
        if world > 1 and (job is None or not total):
            raise InputError("torchrun shares a clip between processes through its output file and needs its frame "
                             "count: give an output, and a clip whose container states its length")
        first, last = segment(total, rank, world)  # this process writes frames first+1 .. last (1-based)
        done = job.finished(first) if job is not None and resume else 0
        uses_prior = cfg.temporal > 0  # 0: frame by frame, for every method
        # Where stylising starts: after the frames finished before, or OVERLAP frames before this process's segment
        # so that its first frame blends with a warm prior (their outputs belong to the process before).
        begin = first + done if done or not uses_prior else max(0, first - OVERLAP)
        flow = FlowEstimator()
        kept, spent = [], {"stylise": 0.0, "flow": 0.0}
        start = time.perf_counter()
        size = stylise = previous_frame = previous_output = None
        finished = first + done
        try:
            with make_progress(disable=not self.show_progress) as progress, sigterm_as_interrupt():
                share = (last - first) if last is not None else (total - first if total else None)
                task = progress.add_task(f"video {cfg.method}" + (f" ({rank + 1}/{world})" if world > 1 else ""),
                                         total=share, completed=done, status=f"resuming after frame {first + done}" if done else "")
                for index, raw in enumerate(source):  # one decoded frame at a time
                    if last is not None and index >= last:
                        break
                    if size is None:
                        size = frame_size(raw, cfg.size)
                        if job is None and total:
                            from multistyle.core.memory import check_memory

                            check_memory(total * 3 * size[0] * size[1] * 4, "the stylised clip in memory",
                                         hint="give an output to stream the frames to")
                    if index < begin:  # finished before (only the last one's input and output matter), or another's
                        if done and index == begin - 1:
                            previous_frame, previous_output = resize(raw, size), job.read(begin)
                        continue
                    if stylise is None:
                        self._first_index = index
                        stylise = self._stylizer(style, size)
                    frame = resize(raw, size)
                    t0 = time.perf_counter()
                    prior = None
                    if uses_prior and previous_frame is not None:
                        back, forward = flow(frame, previous_frame), flow(previous_frame, frame)
                        mask = torch.from_numpy(reliability(back, forward).astype(np.float32))[None, None]
                        prior = warp(previous_output, back), mask
                    t1 = time.perf_counter()
                    array = to_bytes(stylise(frame, prior))  # 8 bits, as written: what the next frame blends with
                    spent["flow"] += t1 - t0
                    spent["stylise"] += time.perf_counter() - t1
                    previous_output, previous_frame = frame_from_bytes(array), frame
                    if index < first:  # the overlap: warms the blend, written by the process before
                        continue
                    if job is not None:
                        job.write(index + 1, array)
                    else:
                        kept.append(previous_output)
                    finished = index + 1
                    rate = (finished - first - done) / (time.perf_counter() - start)
                    progress.update(task, completed=finished - first, status=f"{rate:.2f} frames/s")
                if size is None:
                    raise InputError("the clip has no frames")
                finished = min(finished, cfg.max_frames or finished)
                if world > 1 and last is None:
                    job.mark_end(finished)
                if job is None:
                    path = None
                elif rank == 0:
                    count = job.wait_for_segments(progress) if world > 1 else finished
                    path = job.finish(count, fps, origin if has_audio else None, progress)
                else:
                    path = None  # the first process encodes the whole clip
        except KeyboardInterrupt:
            if job is None:
                raise
            from multistyle.errors import Interrupted

            raise Interrupted(job.interrupted()) from None
        except InputError:
            if job is not None:
                job.abandon()
            raise
        style_file = [Path(style)] if isinstance(style, (str, Path)) and Path(style).is_file() else []
        return VideoResult(kept if job is None else None, fps, settings, time.perf_counter() - start, spent,
                           origin, path, count if rank == 0 and job is not None else finished - first, style_file,
                           rank, world)


def warping_error(outputs: list[torch.Tensor], inputs: list[torch.Tensor]) -> float:
    """Lai et al. (2018): mean over frames of the squared difference between output t and output t-1 warped by the
    input's flow, over the pixels where that flow is reliable."""
    flow = FlowEstimator()
    errors = []
    for t in range(1, len(outputs)):
        back, forward = flow(inputs[t], inputs[t - 1]), flow(inputs[t - 1], inputs[t])
        mask = torch.from_numpy(reliability(back, forward).astype(np.float32))[None, None]
        diff = (outputs[t] - warp(outputs[t - 1], back)).square().sum(1, keepdim=True)
        errors.append(float((diff * mask).sum() / mask.sum().clamp_min(1)))
    return sum(errors) / max(1, len(errors))
