import pytest
import torch

from multistyle.core import vgg as vgg_module
from multistyle.core.vgg import VGGFeatures, caffe_preprocess, conv_specs, load_conv_weights, vgg19
from multistyle.errors import WeightsError


def test_dequantised_kernels_have_expected_shapes_and_statistics():
    weights = load_conv_weights()
    assert len(weights) == 16
    for name, _, c_in, c_out in conv_specs():
        kernel, bias = weights[name]
        assert kernel.shape == (c_out, c_in, 3, 3) and bias.shape == (c_out,)
        assert kernel.std() > 1e-3, f"{name} is degenerate"
        assert kernel.unique().numel() > 16, f"{name} should use many of the 256 centroids"
        assert torch.isfinite(kernel).all()


def test_layer_names_and_truncation():
    net = vgg19("avg", deepest="relu4_1")
    assert net.names[0] == "conv1_1" and net.names[-1] == "relu4_1"
    assert "pool3" in net.names and isinstance(net.layers["pool1"], torch.nn.AvgPool2d)
    assert isinstance(vgg19("max").layers["pool1"], torch.nn.MaxPool2d)
    assert not any(p.requires_grad for p in net.parameters())


def test_caffe_preprocessing_is_bgr_0_255_mean_subtracted():
    rgb = torch.rand(2, 3, 5, 7)
    bgr = caffe_preprocess(rgb)
    for out, source, mean in ((0, 2, 103.939), (1, 1, 116.779), (2, 0, 123.68)):  # blue channel first
        assert torch.allclose(bgr[:, out], rgb[:, source] * 255 - mean, atol=1e-4)


def test_features_carry_structure_not_noise(sample_images):
    from multistyle.image.io import load_image, resize

    image = resize(load_image(sample_images["content"]), (64, 96))
    perm = torch.randperm(64 * 96, generator=torch.Generator().manual_seed(0))
    shuffled = image.flatten(2)[..., perm].reshape(image.shape)  # same pixels, structure destroyed
    feats = VGGFeatures(("relu1_1", "relu4_1"))
    with torch.no_grad():
        a, b = feats(image), feats(shuffled)

    def relative_gap(name):
        fa, fb = a[name].mean((2, 3)), b[name].mean((2, 3))  # position-free channel means
        return float((fa - fb).norm() / fa.norm())

    assert relative_gap("relu4_1") > 2 * relative_gap("relu1_1")


def test_missing_or_malformed_weights_are_clear_errors(tmp_path, monkeypatch):
    bad = tmp_path / "w.bin"
    torch.save({"block1_conv1_W_q": torch.zeros(1, dtype=torch.uint8)}, bad)
    with pytest.raises(WeightsError, match="lack|shapes"):
        load_conv_weights(bad)
    bad.write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="cannot read"):
        load_conv_weights(bad)
    monkeypatch.setattr(vgg_module, "WEIGHTS_PACKAGE", "no_such_package_xyz")
    with pytest.raises(WeightsError, match="not installed"):
        vgg_module.weights_path()


def test_bf16_features_are_float32_close_to_fp32s_and_pass_gradients(sample_images):
    from multistyle.image.io import load_image

    image = load_image(sample_images["content"], 64)
    layers = ("relu1_1", "relu3_1", "relu5_1")
    fp32 = VGGFeatures(layers)
    bf16 = VGGFeatures(layers).to(torch.bfloat16)
    pixels = image.clone().requires_grad_(True)
    low = bf16(pixels)
    with torch.no_grad():
        high = fp32(image)
    for name in layers:
        assert low[name].dtype == torch.float32
        assert (low[name] - high[name]).norm() < 0.03 * high[name].norm(), name
    low["relu3_1"].square().mean().backward()
    assert pixels.grad.dtype == torch.float32 and pixels.grad.abs().sum() > 0
