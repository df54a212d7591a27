"""Li & Wand's MRF loss, texture synthesis and the options users of neural-style expect."""
import json

import pytest
import torch
from PIL import Image

from multistyle import Gatys
from multistyle.core.losses import MRFTarget, mean_std_loss
from multistyle.core.vgg import VGGFeatures
from multistyle.image import gatys as gatys_module
from multistyle.image.gatys import DEFAULT_STYLE_WEIGHTS, GatysConfig
from multistyle.image.io import load_image


def test_mrf_matching_picks_the_patch_with_the_highest_normalised_correlation():
    torch.manual_seed(0)
    style = torch.randn(1, 4, 6, 6)
    target = MRFTarget(style)
    # an output whose every 3x3 window is the style's patch 7, scaled: NCC ignores the scale
    patch = target.patches[7].view(4, 3, 3) * 5.0
    output = patch.unsqueeze(0)
    assert target.nearest(output).tolist() == [7]
    mixed = torch.cat([style[..., :3, :3] * 2, style[..., 3:, 3:] * 0.5], dim=-1)  # two windows of the style, rescaled
    chosen = target.nearest(mixed[..., :3, :])
    assert chosen[0].item() == 0, "the top-left window of the style is its patch 0"
    assert target.loss(style) < 1e-10, "the style itself is at distance 0"


def test_rotated_and_scaled_style_copies_widen_the_patch_bank():
    # a style of vertical stripes has no horizontal patch; its 90-degree copy does
    stripes = torch.zeros(1, 1, 24, 24)
    stripes[..., ::4] = 1.0
    horizontal = stripes.transpose(-1, -2)
    plain = MRFTarget(stripes)
    rotated = MRFTarget(gatys_module.style_copies(stripes, (0.0, 90.0), (1.0,)))
    query = horizontal[..., 4:7, 4:7]

    def best_ncc(target: MRFTarget) -> float:
        return float(torch.nn.functional.conv2d(query, target.kernels).max() / query.norm())
    assert best_ncc(rotated) > 0.99 > best_ncc(plain)
    copies = gatys_module.style_copies(torch.rand(1, 3, 40, 60), (-10.0, 0.0, 10.0), (0.8, 1.0))
    assert len(copies) == 6 and copies[1].shape[-2:] == (32, 48) and copies[3].shape[-2:] == (40, 60)
    assert all(c.shape[-1] < 60 for c in (copies[0], copies[4])), "rotated copies lose their empty corners"


@pytest.mark.parametrize("bad", [{"mrf_scales": (0.0,)}, {"mrf_rotations": (120.0,)}, {"mrf_rotations": ()}])
def test_bad_mrf_copies_are_refused(bad, sample_images):
    from multistyle.errors import InputError

    with pytest.raises(InputError, match="mrf_"):
        Gatys(size=32, steps=1, style_loss="mrf", **bad)(sample_images["content"], sample_images["style"])


@pytest.mark.parametrize("loss", ["gram", "mrf", "meanstd"])
def test_each_style_loss_falls(loss, sample_images):
    result = Gatys(size=48, steps=8, patience=0, style_loss=loss)(sample_images["content"], sample_images["style"])
    styles = [h["style"] for h in result.history[-1]]
    assert min(styles) < styles[0]


def test_the_style_weight_defaults_to_the_losss_own_scale_and_an_explicit_one_wins():
    assert GatysConfig().style_weight_value == 1e3
    assert GatysConfig(style_loss="mrf").style_weight_value == DEFAULT_STYLE_WEIGHTS["mrf"] < 10
    assert GatysConfig(style_loss="mrf", style_weight=7.0).style_weight_value == 7.0


def test_texture_synthesis_moves_noise_toward_the_style(sample_images):
    result = Gatys(steps=25, patience=0).texture(sample_images["style"], size=(48, 64))
    assert result.size == (64, 48) and "content" not in result.losses
    vgg = VGGFeatures(("relu1_1", "relu2_1", "relu3_1"))
    style = load_image(sample_images["style"], 64)
    with torch.no_grad():
        fs, ft, fn = vgg(style), vgg(result.tensor), vgg(torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0)))
    distance = lambda f: sum(float(mean_std_loss(f[n], fs[n])) for n in fs)
    assert distance(ft) < 0.5 * distance(fn)


def test_style_scale_resizes_the_style_images(sample_images, monkeypatch):
    seen = []
    real = gatys_module.GatysLoss

    def recording(vgg, config, content, styles):
        seen.append(max(styles[0].shape[-2:]))
        return real(vgg, config, content, styles)

    monkeypatch.setattr(gatys_module, "GatysLoss", recording)
    for scale in (1.0, 0.5):
        Gatys(size=64, steps=1, style_scale=scale)(sample_images["content"], sample_images["style"])
    Gatys(size=64, steps=1, style_size=40)(sample_images["content"], sample_images["style"])
    assert seen == [64, 32, 40], "--style-scale is relative to the output, --style-size absolute"


def test_init_from_an_image_and_size_zero(sample_images):
    start = load_image(sample_images["style2"])
    content = load_image(sample_images["content"])
    result = Gatys(size=0, steps=1, optimizer="adam", lr=1e-6, init=str(sample_images["style2"]))(content, sample_images["style"])
    assert result.tensor.shape == content.shape, "size 0 keeps the content's size"
    from multistyle.image.io import resize

    assert (result.tensor - resize(start, tuple(content.shape[-2:]))).abs().mean() < 0.01, "starts from the --init image"


def test_cli_layers_quality_and_loss_curve(cli, sample_images, tmp_path):
    args = ["image", "gatys", sample_images["content"], sample_images["style"], "--size", "48", "--steps", "3", "--quiet",
            "--content-layers", "relu3_1", "--style-layers", "relu1_1,relu2_1"]
    code, _, err = cli(*args, "-o", tmp_path / "hi.jpg", "--quality", "95")
    assert code == 0, err
    code, _, err = cli(*args, "-o", tmp_path / "lo.jpg", "--quality", "10")
    assert code == 0, err
    assert (tmp_path / "lo.jpg").stat().st_size < (tmp_path / "hi.jpg").stat().st_size
    report = json.loads((tmp_path / "hi.json").read_text())
    assert report["config"]["content_layers"] == ["relu3_1"] and report["config"]["style_layer_weights"] == [0.5, 0.5]
    assert Image.open(tmp_path / "hi_loss.png").size[0] > 100


def test_cli_texture(cli, sample_images, tmp_path):
    code, out, err = cli("image", "texture", sample_images["style"], "-o", tmp_path / "t.png", "--size", "40x32", "--steps", "5",
                         "--quiet")
    assert code == 0, err
    assert Image.open(tmp_path / "t.png").size == (40, 32)
    for bad, message in ((["--size", "big"], "--size must be WIDTHxHEIGHT"), (["--size", "8"], "at least 16 pixels"),
                         (["--set", "style_scale=-1"], "--style-scale must be between")):
        code, _, err = cli("image", "texture", sample_images["style"], "-o", tmp_path / "x.png", *bad)
        assert code == 2 and message in err, err
