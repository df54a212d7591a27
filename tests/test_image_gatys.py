import json

import pytest
import torch

from multistyle.core.losses import gram_matrix
from multistyle.core.vgg import VGGFeatures
from multistyle.image import color
from multistyle.image.gatys import GatysConfig, stylize
from multistyle.image.io import load_image

FAST = dict(size=64, patience=0)


@pytest.fixture(scope="module")
def images(sample_images):
    return load_image(sample_images["content"]), load_image(sample_images["style"])


def gram_distance(image, style, layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1")):
    vgg = VGGFeatures(layers)
    with torch.no_grad():
        fa, fb = vgg(image), vgg(style)
    return sum(float((gram_matrix(fa[n]) - gram_matrix(fb[n])).square().mean()) for n in layers)


def test_total_loss_falls_by_half_in_20_steps(images):
    content, style = images
    result = stylize(content, [style], GatysConfig(steps=20, **FAST), show_progress=False)
    totals = [h["total"] for h in result.history[-1]]
    assert len(totals) == 20
    assert min(totals) <= 0.5 * totals[0]


def test_larger_style_weight_gives_closer_style(images):
    content, style = images
    weak = stylize(content, [style], GatysConfig(steps=30, style_weight=10, **FAST), show_progress=False)
    strong = stylize(content, [style], GatysConfig(steps=30, style_weight=1e4, **FAST), show_progress=False)
    from multistyle.image.io import fit_long_side, resize
    s = resize(style, fit_long_side(*style.shape[-2:], 64))
    assert gram_distance(strong.tensor, s) < 0.5 * gram_distance(weak.tensor, s)


def test_preserve_color_keeps_content_chroma(images):
    content, style = images
    from multistyle.image.io import fit_long_side, resize
    c = resize(content, fit_long_side(*content.shape[-2:], 64))
    plain = stylize(content, [style], GatysConfig(steps=20, **FAST), show_progress=False)
    kept = stylize(content, [style], GatysConfig(steps=20, preserve_color="luminance", **FAST), show_progress=False)

    def chroma_error(img):
        return float((color.rgb_to_yiq(img)[:, 1:] - color.rgb_to_yiq(c)[:, 1:]).abs().mean())

    assert chroma_error(kept.tensor) < 0.2 * chroma_error(plain.tensor)
    assert float((kept.tensor - c).abs().mean()) > 0.01, "luminance must still be stylised"
    hist = stylize(content, [style], GatysConfig(steps=20, preserve_color="histogram", **FAST), show_progress=False)
    assert chroma_error(hist.tensor) < chroma_error(plain.tensor)


def test_multiscale_and_noise_init_give_requested_size(images):
    content, style = images
    result = stylize(content, [style], GatysConfig(size=80, steps=4, scales=2, init="noise", patience=0), show_progress=False)
    assert result.tensor.shape[-1] == 80 and result.tensor.shape[-2] == round(content.shape[-2] * 80 / content.shape[-1])
    assert [len(h) for h in result.history] == [8, 4]
    assert result.tensor.min() >= 0 and result.tensor.max() <= 1


def test_style_blend_moves_toward_the_heavier_style(sample_images, images):
    content, style = images
    style2 = load_image(sample_images["style2"])
    from multistyle.image.io import fit_long_side, resize
    s1 = resize(style, fit_long_side(*style.shape[-2:], 64))
    mostly_1 = stylize(content, [style, style2], GatysConfig(steps=30, style_blend=(0.9, 0.1), style_weight=1e4, **FAST), show_progress=False)
    mostly_2 = stylize(content, [style, style2], GatysConfig(steps=30, style_blend=(0.1, 0.9), style_weight=1e4, **FAST), show_progress=False)
    assert gram_distance(mostly_1.tensor, s1) < gram_distance(mostly_2.tensor, s1)


def test_cli_writes_image_json_and_snapshots(cli, sample_images, tmp_path):
    out = tmp_path / "out.png"
    code, stdout, err = cli("image", "gatys", sample_images["content"], sample_images["style"], "-o", out,
                            "--size", 48, "--steps", 6, "--save-every", 3, "--quiet")
    assert code == 0, err
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["iterations"] == 6 and report["config"]["size"] == 48
    assert {"content", "style", "total"} <= set(report["final_loss_terms"])
    assert sorted(p.name for p in tmp_path.glob("out_level0_*.png")) == ["out_level0_00003.png", "out_level0_00006.png"]


@pytest.mark.parametrize("case", ["missing", "not_image", "truncated", "empty", "blend", "huge", "format"])
def test_cli_bad_input_is_one_clear_line(cli, sample_images, tmp_path, case):
    content, style = sample_images["content"], sample_images["style"]
    extra = []
    if case == "missing":
        content = tmp_path / "nope.jpg"
    elif case == "not_image":
        content = tmp_path / "text.png"
        content.write_text("hello")
    elif case == "truncated":
        content = tmp_path / "cut.png"
        content.write_bytes(sample_images["content"].read_bytes()[:600])
    elif case == "empty":
        content = tmp_path / "empty.png"
        content.write_bytes(b"")
    elif case == "blend":
        extra = ["--style-blend", "0.5,0.5"]
    elif case == "huge":
        extra = ["--size", 200000]
    out = tmp_path / ("out.gif" if case == "format" else "out.png")
    code, stdout, err = cli("image", "gatys", content, style, "-o", out, "--steps", 2, "--size", 32, "--quiet", *extra)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_bf16_gatys_lowers_the_fp32_loss_as_far_as_fp32_does(images):
    from multistyle.errors import InputError
    from multistyle.image.gatys import GatysLoss
    from multistyle.image.io import resize

    content, style = images
    results = {p: stylize(content, [style], GatysConfig(steps=20, precision=p, **FAST)) for p in ("fp32", "bf16")}
    size = tuple(results["fp32"].tensor.shape[-2:])
    config = GatysConfig(**FAST)
    judge = GatysLoss(VGGFeatures(("relu4_2", *config.style_layers)), config, resize(content, size), [resize(style, (64, 64))])
    with torch.no_grad():
        start = sum(judge(resize(content, size)).values()).item()
        final = {p: sum(judge(r.tensor).values()).item() for p, r in results.items()}
    assert final["bf16"] < 0.5 * start and final["bf16"] < 1.25 * final["fp32"], (start, final)
    assert not torch.equal(results["fp32"].tensor, results["bf16"].tensor)  # bf16 did run
    with pytest.raises(InputError, match="precision"):
        GatysConfig(precision="fp16").validate(1)
