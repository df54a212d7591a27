"""Video: flow and reliability on known motion and on Ruder et al.'s masks, temporal consistency, clips in and out."""
import json
from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from multistyle.video.flow import FlowEstimator, reliability, warp
from multistyle.video.io import read_clip, write_clip
from multistyle.video.stylize import VideoTransfer, warping_error


@pytest.fixture(scope="module")
def pan():
    """Eight 64x96 frames of a camera panning 3 px right and 1 px down per frame over a scikit-image photo."""
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    photo = torch.nn.functional.interpolate(photo, size=(160, 200), mode="area")
    return [photo[..., 10 + t : 74 + t, 10 + 3 * t : 106 + 3 * t].contiguous() for t in range(8)]


def write_mp4(path, frames, with_audio=False, fps=12):
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = frames[0].shape[-1], frames[0].shape[-2], "yuv420p"
        audio = out.add_stream("aac", rate=16000) if with_audio else None
        for frame in frames:
            array = frame[0].mul(255).round().byte().permute(1, 2, 0).numpy()
            for packet in video.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)[None]
            for start in range(0, 16000, 1024):
                frame = av.AudioFrame.from_ndarray(tone[:, start : start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = 16000, start, Fraction(1, 16000)
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)


def test_flow_recovers_a_known_pan_and_warping_aligns_frames(pan):
    flow = FlowEstimator()(pan[1], pan[0])  # frame 1 at x shows what frame 0 shows at x + (3, 1)
    inner = flow[8:-8, 8:-8]
    assert np.allclose(np.median(inner.reshape(-1, 2), axis=0), [3, 1], atol=0.3)
    aligned = warp(pan[0], flow)
    assert (aligned - pan[1])[..., 8:-8, 8:-8].abs().mean() < 0.3 * (pan[0] - pan[1])[..., 8:-8, 8:-8].abs().mean()
    mask = reliability(flow, FlowEstimator()(pan[0], pan[1]))
    assert mask[8:-8, 8:-8].mean() > 0.9


def test_flow_and_masks_agree_with_deepflow_and_ruder_on_real_frames(shared_data):
    from PIL import Image

    from multistyle.image.io import load_image

    folder = shared_data / "video" / "marple8"
    first, second = load_image(folder / "marple8_01.png"), load_image(folder / "marple8_02.png")
    forward, backward = FlowEstimator()(first, second), FlowEstimator()(second, first)
    raw = (folder / "deepflow" / "forward_1_2.flo").read_bytes()
    width, height = np.frombuffer(raw[4:12], np.int32)
    deepflow = np.frombuffer(raw[12:], np.float32).reshape(height, width, 2)
    assert np.sqrt(np.square(forward - deepflow).sum(-1)).mean() < 1.0, "mean end-point error against DeepFlow"
    ruder = np.asarray(Image.open(folder / "deepflow" / "reliable_1_2.pgm")) > 127
    assert (reliability(forward, backward) == ruder).mean() > 0.9


def test_temporal_blending_steadies_the_output(pan):
    style = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    plain = VideoTransfer(size=0, temporal=0.0)(_clip(pan), style)
    steady = VideoTransfer(size=0, temporal=0.7)(_clip(pan), style)
    assert warping_error(steady.frames, pan) < 0.5 * warping_error(plain.frames, pan)


def test_gatys_with_the_temporal_loss_steadies_the_output(pan):
    from skimage import data

    style = torch.from_numpy(data.coffee()).permute(2, 0, 1).float().div(255).unsqueeze(0)[..., ::4, ::4]
    frames = _clip(pan[:4])
    plain = VideoTransfer(method="gatys", size=0, temporal=0.0, gatys_steps=15)(frames, style)
    steady = VideoTransfer(method="gatys", size=0, gatys_steps=15)(frames, style)
    assert warping_error(steady.frames, pan[:4]) < 0.5 * warping_error(plain.frames, pan[:4])


def _clip(frames):
    from multistyle.video.io import Clip

    return Clip(frames, 12.0, None, False)


def test_cli_keeps_the_audio_track_and_frame_rate(cli, pan, tmp_path):
    source = tmp_path / "in.mp4"
    write_mp4(source, pan, with_audio=True)
    style = tmp_path / "style.png"
    from multistyle.image.io import save_image

    save_image(torch.rand(1, 3, 48, 48), style)
    code, out, err = cli("video", source, "-o", tmp_path / "out.mp4", "--style", style, "--size", "64", "--quiet")
    assert code == 0, err
    with av.open(str(tmp_path / "out.mp4")) as result:
        assert [s.type for s in result.streams] == ["video", "audio"]
        assert float(result.streams.video[0].average_rate) == 12
    assert json.loads((tmp_path / "out.json").read_text())["frames"] == 8
    frames = tmp_path / "frames"
    code, _, err = cli("video", source, "-o", frames, "--style", style, "--size", "64", "--max-frames", "3", "--quiet")
    assert code == 0 and len(list(frames.glob("frame_*.png"))) == 3, err


@pytest.mark.parametrize("case", ["not_a_video", "no_frames", "missing_style", "output_is_input", "a_photo",
                                  "a_network_without_method_fast", "max_frames", "fps"])
def test_bad_video_input_is_one_line_and_leaves_nothing(cli, pan, tmp_path, case):
    source, style = tmp_path / "in.mp4", tmp_path / "style.png"
    write_mp4(source, pan[:2])
    from multistyle.image.io import save_image

    save_image(torch.rand(1, 3, 32, 32), style)
    output = tmp_path / "out.mp4"
    if case == "not_a_video":
        source = tmp_path / "text.mp4"
        source.write_text("hello")
    elif case == "no_frames":
        source = tmp_path / "empty"
        source.mkdir()
    elif case == "missing_style":
        style = tmp_path / "absent.png"
    elif case == "a_photo":
        source = style
    elif case == "a_network_without_method_fast":
        style = "wave_video"  # a shipped network's name, not a painting's
    elif case == "output_is_input":
        output = source
    extra = {"max_frames": ["--max-frames", "-1"], "fps": ["--fps", "0"]}.get(case, [])
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = cli("video", source, "-o", output, "--style", style, "--size", "32", "--quiet", *extra)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    wanted = {"a_photo": "a still image, not a video", "a_network_without_method_fast": "add --method fast",
              "max_frames": "--max-frames must be", "fps": "--fps must be", "missing_style": "absent.png: file not found"}
    assert wanted.get(case, "") in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_read_and_write_round_trip(pan, tmp_path):
    write_clip(pan, tmp_path / "clip.mp4", 12.0)
    clip = read_clip(tmp_path / "clip.mp4")
    assert len(clip.frames) == 8 and clip.fps == 12 and clip.frames[0].shape == pan[0].shape
    assert (clip.frames[3] - pan[3]).abs().mean() < 0.03


def test_laplacian_bands_collapse_back_to_the_image():
    from multistyle.video.blend import collapse_bands, laplacian_bands

    image = torch.rand(1, 3, 37, 50, generator=torch.Generator().manual_seed(1))
    bands = laplacian_bands(image, 4)
    assert len(bands) == 5 and bands[-1].shape[-2:] == (3, 4)
    assert torch.allclose(collapse_bands(bands), image, atol=1e-6)


def test_blending_keeps_the_stylised_frames_contrast_band_by_band():
    from multistyle.video.blend import laplacian_bands, temporal_blend

    generator = torch.Generator().manual_seed(2)
    styled = (0.5 + 0.2 * torch.randn(1, 3, 64, 64, generator=generator)).clamp(0, 1)
    warped = (0.5 + 0.2 * torch.randn(1, 3, 64, 64, generator=generator)).clamp(0, 1)  # strokes that do not line up
    reliable = torch.ones(1, 1, 64, 64)
    finest = lambda image: float(laplacian_bands(image, 4)[0].std())  # noqa: E731
    plain = temporal_blend(styled, warped, reliable, 0.5, keep_contrast=False)
    kept = temporal_blend(styled, warped, reliable, 0.5)
    assert finest(plain) < 0.8 * finest(styled), "averaging two unaligned textures washes the detail out"
    assert abs(finest(kept) - finest(styled)) < 0.05 * finest(styled)
    assert torch.corrcoef(torch.stack([kept.flatten(), warped.flatten()]))[0, 1] > 0.3, "and still follows the previous output"


def test_a_network_trained_for_video_runs_without_flow_by_default(pan, tmp_path, one_thread):
    """Huang et al. (2017): a per-style network trained with the temporal loss is steady on its own, so `temporal`
    left unset means 0 (no flow) for it, and the blend (0.7) for any other network; an explicit weight is obeyed."""
    import json
    import shutil

    from multistyle.image.fast import FastStyle, shipped_styles

    shipped = shipped_styles()[FastStyle.styles()[0]]
    video_net = tmp_path / "video_net.safetensors"
    shutil.copy(shipped, video_net)
    info = json.loads(shipped.with_suffix(".json").read_text())
    info["config"] = {**info.get("config", {}), "temporal_weight": 300.0}
    video_net.with_suffix(".json").write_text(json.dumps(info))
    frames = _clip(pan[:3])
    huang = VideoTransfer(method="fast", size=0)(frames, str(video_net))
    plain = VideoTransfer(method="fast", size=0)(frames, str(shipped))
    asked = VideoTransfer(method="fast", size=0, temporal=0.5)(frames, str(video_net))
    assert huang.config["temporal"] == 0.0 and huang.timings["flow"] < 1e-3, "no flow computed"
    assert plain.config["temporal"] == 0.7 and plain.timings["flow"] > 10 * huang.timings["flow"]
    assert asked.config["temporal"] == 0.5
    assert VideoTransfer(FastStyle.from_pretrained(video_net), size=0)(frames).config["temporal"] == 0.0
