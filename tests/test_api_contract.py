"""Issue 36's contract: every image and video method answers the same five calls, `from_pretrained(...)`,
`.to(device, dtype)`, a call on a list of inputs, `.save(path)` writing the file and its JSON report, and a one-line
repr; the same script runs over each method class."""
import json

import pytest
import torch

from multistyle import AdaIN, FastStyle, Gatys, Photoreal, VideoTransfer
from multistyle.core.pipeline import Output, Pipeline
from multistyle.errors import InputError


def clip(sample_images):
    from multistyle.image.io import load_image
    from multistyle.video.io import Clip

    frame = load_image(sample_images["content"], 48)
    return Clip([frame, torch.roll(frame, 2, -1)], 12.0, None, False)


# method class -> (from_pretrained arguments, the call's inputs after the content, the output file's suffix)
CASES = {
    Gatys: ((), {"steps": 2, "size": 32, "scales": 1}, ("style",), ".png"),
    AdaIN: ((), {"size": 32}, ("style",), ".png"),
    FastStyle: (("wave",), {"size": 32}, (), ".png"),
    Photoreal: ((), {"size": 32, "stage1_steps": 2}, ("style",), ".png"),
    VideoTransfer: ((), {"size": 32}, ("style",), ".mp4"),
}


@pytest.mark.parametrize("cls", list(CASES), ids=lambda c: c.__name__)
def test_every_method_answers_the_same_five_calls(cls, sample_images, tmp_path, one_thread):
    args, settings, extra, suffix = CASES[cls]
    if cls is FastStyle and "wave" not in FastStyle.styles():
        pytest.skip("the wave network does not ship with this install")
    content = clip(sample_images) if cls is VideoTransfer else sample_images["content"]
    model = cls.from_pretrained(*args, **settings)
    assert isinstance(model, Pipeline)
    assert model.to("cpu", torch.float32) is model and model.config.precision == "fp32"
    outputs = model([content, content], *(sample_images[name] for name in extra))
    assert isinstance(outputs, list) and len(outputs) == 2 and all(isinstance(o, Output) for o in outputs)
    written = outputs[0].save(tmp_path / f"out{suffix}")
    assert written.is_file() and written.stat().st_size > 0
    report = json.loads(written.with_suffix(".json").read_text())
    assert report["method"] == outputs[0].method and report["output"] == str(written)
    text = repr(outputs[0])
    assert text.startswith(f"{type(outputs[0]).__name__}(method=") and "\n" not in text and len(text) < 200, text


def test_video_takes_any_image_method_object_with_its_settings(sample_images, one_thread):
    frames = clip(sample_images)
    network = FastStyle.from_pretrained(FastStyle.styles()[0], alpha=0.0)  # alpha 0: the photo itself
    plain = VideoTransfer(network, size=0, temporal=0.0)(frames)
    assert plain.config["method"] == "fast"
    assert (plain.frames[0] - frames.frames[0]).abs().max() < 1 / 255 + 1e-6, "the object's own alpha was used"
    adain = VideoTransfer(method=AdaIN.from_pretrained(alpha=0.5), size=0)(frames, sample_images["style"])
    assert adain.count == 2 and adain.frames[0].shape == frames.frames[0].shape
    small = VideoTransfer(AdaIN.from_pretrained(alpha=0.3, size=32))(frames, sample_images["style"])
    assert max(small.frames[0].shape[-2:]) == 32, "the object's own size"
    assert small.config["alpha"] == 0.3 and small.report()["config"]["model"]["alpha"] == 0.3, "the report tells the truth"
    assert max(VideoTransfer(AdaIN.from_pretrained(size=32))(frames, sample_images["style"], size=40).frames[0].shape[-2:]) == 40
    assert plain.report()["config"]["model"]["style"] == FastStyle.styles()[0]
    with pytest.raises(InputError, match="carries its own style"):
        VideoTransfer(network)(frames, sample_images["style"])
    with pytest.raises(InputError, match="AdaIN, FastStyle or Gatys"):
        VideoTransfer(method=object())


def test_to_refuses_an_unknown_dtype_and_audio_computes_in_float32():
    from multistyle import AudioTransfer

    with pytest.raises(InputError, match="torch.float32 or torch.bfloat16"):
        Gatys().to(dtype=torch.float16)
    with pytest.raises(InputError, match="float32 only"):
        AudioTransfer().to(dtype=torch.bfloat16)
    assert AudioTransfer().to("cpu").config.device == "cpu"


def test_methods_without_weights_say_so():
    with pytest.raises(InputError, match="no trained weights"):
        Gatys.from_pretrained("wave")
