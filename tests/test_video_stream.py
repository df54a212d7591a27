"""Video of any length (issue 38): frames stream through in bounded memory, the audio is cut to the frames written,
and an interrupted or killed job resumes into the output an uninterrupted run writes."""
import weakref
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from PIL import Image

from multistyle.errors import Interrupted, MultistyleError
from multistyle.video import stream as stream_module
from multistyle.video import stylize as stylize_module
from multistyle.video.io import open_clip
from multistyle.video.stream import work_folder
from multistyle.video.stylize import VideoTransfer

FPS = 12


def make_clip(path, frames=10, audio_seconds=0.0, size=(48, 64)):
    """A camera panning over a scikit-image photo, H.264 at 12 fps, with a mono AAC tone of `audio_seconds`."""
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    photo = torch.nn.functional.interpolate(photo, size=(120, 160), mode="area")
    h, w = size
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        audio = out.add_stream("aac", rate=16000) if audio_seconds else None
        for t in range(frames):
            crop = photo[0, :, 5 + t : 5 + t + h, 2 * t : 2 * t + w]
            array = np.ascontiguousarray(crop.mul(255).round().byte().permute(1, 2, 0).numpy())
            for packet in video.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            n = round(16000 * audio_seconds)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)[None]
            for start in range(0, n, 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 16000, start, Fraction(1, 16000)
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path


def decoded(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


@pytest.fixture(scope="module")
def style():
    return torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(3))


def test_the_reader_decodes_one_frame_at_a_time(tmp_path):
    reader = open_clip(make_clip(tmp_path / "in.mp4", frames=6))
    frames = iter(reader)
    assert not isinstance(reader, list) and reader.total == 6
    assert next(frames).shape == (1, 3, 48, 64)  # the first frame comes before the rest is decoded
    assert len(list(frames)) == 5 and len(list(reader)) == 6  # and every pass starts again


def test_the_pipeline_never_holds_more_than_a_few_frames(tmp_path, monkeypatch, style):
    """Every decoded frame and every output the blend keeps is counted while alive: a pipeline that kept them
    (the old read_clip, or a list of outputs) would hold all 16."""
    alive, most = set(), [0]

    def track(tensor):
        key = id(tensor)
        alive.add(key)
        weakref.finalize(tensor, alive.discard, key)
        most[0] = max(most[0], len(alive))
        return tensor

    real_open, real_from_bytes = stylize_module.open_clip, stylize_module.frame_from_bytes

    class Counting:
        def __init__(self, *args):
            self.reader = real_open(*args)

        def __getattr__(self, name):
            return getattr(self.reader, name)

        def __iter__(self):
            for frame in self.reader:
                yield track(frame)

    monkeypatch.setattr(stylize_module, "open_clip", Counting)
    monkeypatch.setattr(stylize_module, "frame_from_bytes", lambda array: track(real_from_bytes(array)))
    source = make_clip(tmp_path / "in.mp4", frames=16)
    result = VideoTransfer(size=0)(source, style, tmp_path / "out.mp4")
    assert result.frames is None and result.count == 16 and result.path == (tmp_path / "out.mp4").resolve()
    assert len(decoded(tmp_path / "out.mp4")) == 16
    copy = result.save(tmp_path / "copy.mp4")  # a streamed result's save() copies what it wrote
    assert copy.read_bytes() == (tmp_path / "out.mp4").read_bytes()
    assert 2 <= most[0] <= 4, f"{most[0]} frames alive at once"


def test_max_frames_cuts_the_audio_to_the_video(cli, tmp_path, style):
    from multistyle.image.io import save_image

    source = make_clip(tmp_path / "in.mp4", frames=12, audio_seconds=1.0)
    save_image(style, tmp_path / "style.png")
    code, _, err = cli("video", source, "-o", tmp_path / "out.mp4", "--style", tmp_path / "style.png", "--max-frames", "4",
                       "--size", "0", "--quiet")
    assert code == 0, err
    with av.open(str(tmp_path / "out.mp4")) as container:
        video = sum(1 for _ in container.decode(container.streams.video[0])) / FPS
    with av.open(str(tmp_path / "out.mp4")) as container:
        samples = sum(f.samples for f in container.decode(container.streams.audio[0]))
    assert video == pytest.approx(4 / FPS)
    assert abs(samples / 16000 - video) <= 1024 / 16000 + 1e-6, "the track is cut to within one audio packet"


@pytest.mark.parametrize("where", ["between frames", "while writing a frame"])
@pytest.mark.parametrize("output", ["out.mp4", "frames"])
def test_an_interrupted_job_resumes_into_the_uninterrupted_output(tmp_path, monkeypatch, style, where, output):
    source = make_clip(tmp_path / "in.mp4", frames=9)
    whole = VideoTransfer(size=0)(source, style, tmp_path / f"whole_{output}")
    target = tmp_path / output
    real_write, calls = stream_module.atomic_write_bytes, [0]

    def kill_at_frame_5(path, data):  # Ctrl-C after frame 5 is written, or a kill while frame 5 is being written
        if path.name.startswith("frame_"):
            calls[0] += 1
            if calls[0] == 5 and where == "while writing a frame":
                path.with_name(f".{path.name}.partial.tmp").write_bytes(data[: len(data) // 2])  # what a kill leaves
                raise KeyboardInterrupt
        real_write(path, data)
        if calls[0] == 5 and where == "between frames" and path.name.startswith("frame_"):
            raise KeyboardInterrupt

    monkeypatch.setattr(stream_module, "atomic_write_bytes", kill_at_frame_5)
    with pytest.raises(Interrupted, match="--resume") as stopped:
        VideoTransfer(size=0)(source, style, target)
    assert f"{5 if where == 'between frames' else 4} frames finished" in str(stopped.value)
    assert not target.exists() or not any(target.iterdir()), "the output appears complete or not at all"
    assert work_folder(target).is_dir()
    monkeypatch.setattr(stream_module, "atomic_write_bytes", real_write)
    with pytest.raises(MultistyleError, match="--resume to continue"):
        VideoTransfer(size=0)(source, style, target)  # not silently started again
    resumed = VideoTransfer(size=0)(source, style, target, resume=True)
    assert resumed.count == 9 and not work_folder(target).exists()
    if output == "out.mp4":
        first, second = decoded(whole.path), decoded(target)
    else:
        first = [np.asarray(__import__("PIL.Image").Image.open(p)) for p in sorted(whole.path.glob("frame_*.png"))]
        second = [np.asarray(__import__("PIL.Image").Image.open(p)) for p in sorted(target.glob("frame_*.png"))]
    assert len(first) == len(second) == 9
    if output == "frames":
        assert all(np.array_equal(a, b) for a, b in zip(first, second)), "frame by frame identical"
    else:  # libx264 may encode the same frames two ways from run to run on a loaded machine (see the torchrun test)
        assert all(np.abs(a.astype(int) - b.astype(int)).mean() < 8 for a, b in zip(first, second))


def test_resume_mistakes_are_one_line(cli, tmp_path, style):
    from multistyle.image.io import save_image

    source = make_clip(tmp_path / "in.mp4", frames=3)
    save_image(style, tmp_path / "style.png")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = cli("video", source, "-o", tmp_path / "out.mp4", "--style", tmp_path / "style.png", "--resume", "--quiet")
    assert code == 2 and err.startswith("error: ") and "nothing to resume" in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    folder = work_folder(tmp_path / "out.mp4")
    folder.mkdir()
    (folder / "job.json").write_text('{"job": {"input": "other.mp4", "style": "x", "config": {}}}')
    code, _, err = cli("video", source, "-o", tmp_path / "out.mp4", "--style", tmp_path / "style.png", "--resume", "--quiet")
    assert code == 2 and "input" in err and err.count("\n") == 1, err


def test_ctrl_c_on_the_command_line_says_how_to_resume(cli, tmp_path, monkeypatch, style):
    from multistyle.image.io import save_image

    source = make_clip(tmp_path / "in.mp4", frames=4)
    save_image(style, tmp_path / "style.png")
    real_write = stream_module.VideoJob.write

    def ctrl_c_after_frame_2(self, index, array):
        real_write(self, index, array)
        if index == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(stream_module.VideoJob, "write", ctrl_c_after_frame_2)
    args = ("video", source, "-o", tmp_path / "out.mp4", "--style", tmp_path / "style.png", "--size", "0", "--quiet")
    code, _, err = cli(*args)
    assert code == 130 and err.count("\n") == 1 and "2 frames finished" in err and "--resume" in err, err
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.json").exists()
    monkeypatch.setattr(stream_module.VideoJob, "write", real_write)
    code, out, err = cli(*args, "--resume")
    assert code == 0 and "4 frames" in out, err
    assert len(decoded(tmp_path / "out.mp4")) == 4 and not work_folder(tmp_path / "out.mp4").exists()


def test_two_torchrun_processes_share_a_clip_and_the_first_writes_it(tmp_path):
    """Issue 38: each process stylises a contiguous segment into the job's frames (starting OVERLAP frames early so
    its first frame blends with a warm prior), and the first encodes the whole clip once. Frame by frame
    (--temporal 0) the output is the one-process output exactly; with blending, every frame is written once."""
    import os
    import subprocess
    import sys

    from multistyle.image.io import save_image

    source = make_clip(tmp_path / "in.mp4", frames=12, audio_seconds=1.0)
    save_image(torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(3)), tmp_path / "style.png")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def video(output, *more, processes=1):
        from test_batch import free_port

        launcher = ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_port",
                    str(free_port())] if processes > 1 else []
        run = subprocess.run([sys.executable, *launcher, "-m", "multistyle", "video", str(source), "-o", str(output),
                              "--style", str(tmp_path / "style.png"), "--size", "0", "--quiet", *more],
                             capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        return run.stdout

    # Frames as PNG folders: the stylised pixels compared exactly. (H.264 is not: on a loaded machine libx264 encoded
    # the same PNG frames two ways from run to run, decoded pixels up to 32 apart, with one thread too.)
    video(tmp_path / "one", "--temporal", "0")
    out = video(tmp_path / "two", "--temporal", "0", processes=2)
    assert "process 2 of 2: stylised its 6 frames" in out and "wrote" in out, out
    one, two = sorted((tmp_path / "one").glob("*.png")), sorted((tmp_path / "two").glob("*.png"))
    assert len(one) == len(two) == 12
    assert all(np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b))) for a, b in zip(one, two))
    video(tmp_path / "two.mp4", "--temporal", "0", processes=2)
    assert len(decoded(tmp_path / "two.mp4")) == 12
    video(tmp_path / "blended.mp4", processes=2)
    assert len(decoded(tmp_path / "blended.mp4")) == 12
    assert not work_folder(tmp_path / "blended.mp4").exists()
