"""The public API: one entry per method, PIL / NumPy / tensor / path inputs, result objects, typed errors."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import multistyle
from multistyle import AdaIN, AudioTransfer, Gatys, InputError, MultistyleError, TextTransfer, WeightsError
from multistyle.image.adain import Decoder

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def random_adain():
    torch.manual_seed(0)
    return AdaIN(Decoder().eval(), precision="fp32")  # outputs are compared to 1e-5: bf16 rounding would swamp that


def test_public_names_are_listed_and_documented():
    for name in multistyle.__all__:
        value = getattr(multistyle, name)
        assert value.__doc__ and value.__doc__.strip(), f"{name} has no docstring"
    assert (ROOT / "multistyle" / "py.typed").is_file()


def test_no_modality_imports_another():
    for modality in ("image", "text", "audio"):
        others = {"image", "text", "audio", "video"} - {modality}
        for path in (ROOT / "multistyle" / modality).rglob("*.py"):
            for other in others:
                assert f"multistyle.{other}" not in path.read_text(), f"{path} imports multistyle.{other}"


def test_adain_takes_pil_numpy_tensor_and_path_alike(random_adain, sample_images):
    pil = Image.open(sample_images["content"]).convert("RGB")
    style = Image.open(sample_images["style"]).convert("RGB")
    array = np.asarray(pil)
    tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255
    outputs = [random_adain(content, style, size=64).tensor for content in (pil, array, tensor, sample_images["content"])]
    for other in outputs[1:]:
        assert torch.allclose(outputs[0], other, atol=1e-5)


def test_adain_keeps_the_callers_size(random_adain):
    content = np.random.default_rng(0).random((97, 130, 3)).astype(np.float32)
    style = np.random.default_rng(1).random((50, 60, 3)).astype(np.float32)
    assert random_adain(content, style, size=0).size == (130, 97)  # was 128 x 96: sides rounded to multiples of 8
    assert random_adain(content, style, size=100).size == (100, 75)


def test_adain_reads_a_style_file_once_per_size(random_adain, sample_images, monkeypatch):
    import multistyle.image.adain as adain_module

    loads = []
    real = adain_module.load_image
    monkeypatch.setattr(adain_module, "load_image", lambda image, *a: loads.append(str(image)) or real(image, *a))
    for _ in range(3):
        random_adain(sample_images["content"], sample_images["style"], size=48)
    assert loads.count(str(sample_images["style"])) == 1, "cached style statistics must not reload the file"


def test_gatys_result_object(sample_images):
    result = Gatys(size=48, steps=5, patience=0)(np.asarray(Image.open(sample_images["content"])), sample_images["style"])
    assert isinstance(result.image, Image.Image) and result.image.size == result.size
    assert {"content", "style", "total"} <= set(result.losses) and result.details["iterations"] == 5
    assert result.config["size"] == 48 and result.seconds > 0


def test_gatys_refuses_a_diverging_configuration_with_one_clear_error(sample_images):
    with pytest.raises(MultistyleError, match="style_weight: expected a finite number"):
        Gatys(style_weight=float("inf"))
    with pytest.raises(InputError, match="non-negative"):
        Gatys(size=48, steps=3, style_weight=-1.0)(sample_images["content"], sample_images["style"])


def test_image_methods_share_one_name_for_the_content_style_mix(sample_images):
    """AdaIN and the per-style networks both take `alpha` (0 = content, 1 = full style); `strength` is text's."""
    from multistyle import ConfigError, FastStyle, FastStyleConfig

    assert FastStyleConfig().alpha == 1.0 and not hasattr(FastStyleConfig(), "strength")
    model = FastStyle.from_pretrained("wave", precision="fp32", device="cpu", size=32)
    plain = model(sample_images["content"], alpha=0.0)
    from multistyle.image.io import load_image

    assert torch.allclose(plain.tensor, load_image(sample_images["content"], 32), atol=1e-6)
    assert plain.config["alpha"] == 0.0
    with pytest.raises(InputError, match="--alpha"):
        model(sample_images["content"], alpha=1.5)
    with pytest.raises(ConfigError, match="known: alpha"):
        model(sample_images["content"], strength=0.5)


def test_text_accepts_one_sentence_or_many():
    model = TextTransfer.from_pretrained()
    one = model("the food was cold .", to="positive")
    many = model(["the food was cold .", "great staff"], to="positive")
    assert one.text == many.texts[0] and len(many) == 2 and one.strength is None  # chosen per sentence
    assert model("the food was cold .", to="positive", select=False).strength == model.strength
    with pytest.raises(InputError, match="empty"):
        model(["fine", "   "])
    with pytest.raises(InputError, match="--strength"):
        model("fine", strength=float("inf"))


def test_audio_accepts_arrays_tensors_and_files(tmp_path):
    rate = 8000
    t = np.arange(rate) / rate
    tone, noise = np.sin(2 * np.pi * 300 * t), np.random.default_rng(0).standard_normal(rate)
    audio = AudioTransfer(extractor="random", steps=3, sample_rate=rate, n_fft=256, hop=64, griffin_lim_iters=2,
                          random_filters=64)
    from_arrays = audio(tone, noise, sample_rate=rate)
    from_tensors = audio(torch.from_numpy(tone), torch.from_numpy(np.stack([noise, noise])), sample_rate=rate)
    assert torch.allclose(from_arrays.audio, from_tensors.audio, atol=1e-4)
    path = from_arrays.save(tmp_path / "out.wav", content="tone", style="noise")
    again = audio(path, path)
    assert again.audio.numel() == from_arrays.audio.numel() == rate
    with pytest.raises(InputError, match="needs its sample_rate"):
        audio(tone, noise)


def test_weights_errors_are_typed(tmp_path):
    with pytest.raises(WeightsError, match="decoder file not found"):
        AdaIN.from_file(tmp_path / "absent.safetensors")
    with pytest.raises(WeightsError, match="model folder not found"):
        TextTransfer.from_dir(tmp_path / "absent")


def test_import_is_light():
    code = "import multistyle, sys; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_an_image_results_repr_is_one_short_line():
    import torch

    from multistyle import ImageResult

    text = repr(ImageResult(torch.rand(1, 3, 64, 80), "adain", {}, {"style": 0.123456}))
    assert text == "ImageResult(method='adain', size=80x64, seconds=0.00, losses={'style': 0.1235})"
