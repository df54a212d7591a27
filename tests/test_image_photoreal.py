"""Issue 40: the Matting Laplacian, per-region Gram and patch losses, photorealistic transfer and neural doodles."""
import numpy as np
import pytest
import torch
from PIL import Image

from multistyle.errors import InputError
from multistyle.image.matting import affine_smooth, matting_laplacian, photorealism_loss, tensor_laplacian
from multistyle.image.semantic import RegionMRFTarget, check_map, masked_gram_loss, masked_grams, region_colours, regions


@pytest.fixture
def small_image():
    return np.random.default_rng(0).random((7, 9, 3))


# --- Matting Laplacian --------------------------------------------------------------------------------------------

def test_laplacian_annihilates_constants_and_is_symmetric_psd(small_image):
    laplacian = matting_laplacian(small_image)
    n = small_image.shape[0] * small_image.shape[1]
    assert laplacian.shape == (n, n)
    for value in (1.0, 0.3):  # any constant, per channel
        assert np.abs(laplacian @ np.full(n, value)).max() < 1e-9
    dense = laplacian.toarray()
    assert np.abs(dense - dense.T).max() < 1e-12
    assert np.linalg.eigvalsh(dense).min() > -1e-9
    assert np.linalg.eigvalsh(dense).max() > 1e-3  # not the zero matrix


def test_laplacian_of_a_constant_image_annihilates_constants():
    laplacian = matting_laplacian(np.full((5, 6, 3), 0.4))
    assert np.abs(laplacian @ np.ones(30)).max() < 1e-9


def test_laplacian_zero_on_affine_functions_of_the_image_and_positive_otherwise(small_image):
    laplacian = matting_laplacian(small_image, eps=1e-9)
    colours = small_image.reshape(-1, 3)
    affine = colours @ np.array([0.5, -1.0, 2.0]) + 0.25  # a locally (here globally) affine recolouring
    other = np.random.default_rng(1).random(len(colours))
    assert affine @ laplacian @ affine < 1e-5 * (other @ laplacian @ other)


def test_laplacian_matches_a_per_window_reference():
    """Each window's block, computed the slow way, summed: the vectorised build agrees."""
    image = np.random.default_rng(2).random((4, 5, 3))
    h, w, _ = image.shape
    eps = 1e-5
    reference = np.zeros((h * w, h * w))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            idx = [(y + dy) * w + (x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            colours = image.reshape(-1, 3)[idx]
            mean = colours.mean(0)
            cov = np.cov(colours.T, bias=True)
            inverse = np.linalg.inv(cov + eps / 9 * np.eye(3))
            for a, i in enumerate(idx):
                for b, j in enumerate(idx):
                    reference[i, j] += (a == b) - (1 + (colours[a] - mean) @ inverse @ (colours[b] - mean)) / 9
    assert np.allclose(matting_laplacian(image, eps=eps).toarray(), reference, atol=1e-8)


def test_photorealism_gradient_is_twice_laplacian_times_image():
    image = torch.rand(1, 3, 6, 7, dtype=torch.float64)
    laplacian = tensor_laplacian(image)
    x = torch.rand(1, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    loss = photorealism_loss(x, laplacian)
    loss.backward()
    flat = x.detach()[0].flatten(1).numpy()
    expected_loss = sum(flat[c] @ laplacian @ flat[c] for c in range(3)) / 42
    expected_grad = np.stack([2 * laplacian @ flat[c] for c in range(3)]) / 42
    assert float(loss.detach()) == pytest.approx(expected_loss, rel=1e-6)
    assert np.allclose(x.grad[0].flatten(1).numpy(), expected_grad, atol=1e-9)
    assert torch.autograd.gradcheck(lambda v: photorealism_loss(v, laplacian), (x,))


def test_affine_smoothing_leaves_an_affine_recolouring_and_removes_noise():
    guide = torch.rand(1, 3, 12, 12)
    laplacian = tensor_laplacian(guide)
    recoloured = (0.2 + 0.6 * guide[:, [2, 0, 1]]).clamp(0, 1)
    assert (affine_smooth(recoloured, laplacian, 1e-2) - recoloured).abs().max() < 0.02
    noisy = (recoloured + 0.2 * torch.randn(1, 3, 12, 12, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    smoothed = affine_smooth(noisy, laplacian, 1e-2)
    assert (smoothed - recoloured).abs().mean() < 0.7 * (noisy - recoloured).abs().mean()


# --- semantic maps ------------------------------------------------------------------------------------------------

def two_region_map(h, w, left=(0, 0, 1), right=(0, 1, 0), noise=0.0, seed=0):
    seg = torch.zeros(1, 3, h, w)
    seg[0, :, :, : w // 2] = torch.tensor(left, dtype=torch.float32)[:, None, None]
    seg[0, :, :, w // 2:] = torch.tensor(right, dtype=torch.float32)[:, None, None]
    if noise:
        seg = (seg + noise * torch.randn(seg.shape, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)
    return seg


def test_noisy_map_colours_become_one_region_each():
    colours = region_colours(two_region_map(40, 40, noise=0.05), two_region_map(30, 50, right=(0, 0, 1), left=(0, 1, 0)))
    assert len(colours) == 2
    assert {tuple(np.round(c).astype(int)) for c in colours} == {(0, 0, 1), (0, 1, 0)}


def test_maps_with_no_shared_colour_are_an_error():
    with pytest.raises(InputError, match="share no region colour"):
        regions(two_region_map(20, 20), two_region_map(20, 20, left=(1, 0, 0), right=(1, 1, 0)))


def test_region_not_in_the_style_gets_no_term():
    found = regions(two_region_map(20, 20, left=(0, 0, 1), right=(1, 0, 0)), two_region_map(20, 20))
    assert found.count == 1 and found.content.shape == (1, 1, 20, 20)
    assert float(found.content.sum()) == 200  # the blue half only


def test_wrong_size_map_is_an_error():
    with pytest.raises(InputError, match="size"):
        check_map(torch.zeros(1, 3, 20, 40), torch.zeros(1, 3, 20, 20), "the content", "the content map")
    check_map(torch.zeros(1, 3, 20, 40), torch.zeros(1, 3, 40, 80), "the content", "the content map")  # same proportions


def test_masked_gram_loss_ignores_what_differs_outside_the_mask():
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(1, 8, 6, 10, generator=generator)
    mask = torch.zeros(1, 1, 6, 10)
    mask[..., :5] = 1
    target = masked_grams(torch.rand(1, 8, 6, 10, generator=generator), mask)
    changed_outside = features.clone()
    changed_outside[..., 5:] = torch.rand(1, 8, 6, 5, generator=generator) * 5
    changed_inside = features.clone()
    changed_inside[..., :5] += 1
    base = masked_gram_loss(features, mask, target)
    assert torch.allclose(masked_gram_loss(changed_outside, mask, target), base)
    assert not torch.allclose(masked_gram_loss(changed_inside, mask, target), base)
    # one region covering everything is the ordinary Gram loss
    from multistyle.core.losses import gram_loss, gram_matrix
    whole = torch.ones(1, 1, 6, 10)
    style = torch.rand(1, 8, 6, 10, generator=generator)
    assert torch.allclose(masked_gram_loss(features, whole, masked_grams(style, whole)), gram_loss(features, gram_matrix(style)))


def test_region_channels_steer_patch_matching():
    """Identical features everywhere but maps that say left/right: every patch matches within its own region."""
    features = torch.rand(1, 4, 8, 12, generator=torch.Generator().manual_seed(0))
    style_masks = torch.zeros(1, 2, 8, 12)
    style_masks[0, 0, :, :6] = 1
    style_masks[0, 1, :, 6:] = 1
    target = RegionMRFTarget(features, style_masks)
    output_masks = style_masks.flip(-1)  # the output's regions swapped
    matched = target.nearest(features, output_masks)
    output_labels = output_masks[0, :, 1:-1, 1:-1].argmax(0).flatten()
    interior = (output_masks[0, :, :, :].argmax(0).unfold(0, 3, 1).unfold(1, 3, 1).flatten(2).float().std(-1) == 0).flatten()
    assert (target.labels[matched] == output_labels)[interior].float().mean() == 1


# --- end to end ---------------------------------------------------------------------------------------------------

def striped(h, w, colour, period, vertical):
    y, x = np.mgrid[0:h, 0:w]
    stripes = ((x if vertical else y) // (period // 2)) % 2
    return np.where(stripes[..., None] == 1, np.array(colour, float), 0.15)


@pytest.fixture
def doodle_files(tmp_path):
    """A style of two textures (red vertical stripes left, blue horizontal stripes right), its map, and an output
    map with the regions swapped."""
    h, w = 48, 64
    style = np.concatenate([striped(h, w // 2, (0.9, 0.1, 0.1), 6, True), striped(h, w // 2, (0.1, 0.2, 0.9), 6, False)], 1)
    paths = {"style": tmp_path / "style.png", "style_map": tmp_path / "style_map.png", "out_map": tmp_path / "out_map.png"}
    Image.fromarray((style * 255).astype(np.uint8)).save(paths["style"])
    style_map = (two_region_map(h, w, left=(1, 1, 0), right=(0, 1, 1))[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    Image.fromarray(style_map).save(paths["style_map"])
    Image.fromarray(np.ascontiguousarray(style_map[:, ::-1])).save(paths["out_map"])
    return paths


def test_doodle_paints_each_region_from_its_own_style_region(doodle_files, one_thread):
    from multistyle.core.losses import MRFTarget
    from multistyle.core.vgg import VGGFeatures
    from multistyle.image.io import load_image
    from multistyle.image.semantic import semantic_gatys

    result = semantic_gatys(None, doodle_files["style"], doodle_files["out_map"], doodle_files["style_map"],
                            size=64, steps=40, scales=1, style_loss="mrf", init="noise", precision="fp32", patience=0)
    out = result.tensor
    assert out.shape == (1, 3, 48, 64) and torch.isfinite(out).all()
    # judged on features alone (no map channels): each output patch's nearest style patch lies in the same region
    vgg = VGGFeatures(("relu3_1",), "avg")
    with torch.no_grad():
        style_feats = vgg(load_image(doodle_files["style"]))["relu3_1"]
        out_feats = vgg(out)["relu3_1"]
    matched = MRFTarget(style_feats).nearest(out_feats)
    ph, pw = style_feats.shape[-2] - 2, style_feats.shape[-1] - 2
    style_region = (torch.arange(pw) + 1 >= style_feats.shape[-1] // 2).repeat(ph)  # right half of the style
    out_region = (torch.arange(pw) + 1 < out_feats.shape[-1] // 2).repeat(ph)  # swapped in the output
    same = style_region[matched] == out_region
    assert same.float().mean() >= 0.9
    # and the colours followed: the output's left half is the style's right half's blue, and the other way round
    left, right = out[..., : 32].mean((0, 2, 3)), out[..., 32:].mean((0, 2, 3))
    assert left[2] > left[0] and right[0] > right[2]


def test_doodle_command_writes_the_image(cli, doodle_files, tmp_path, one_thread):
    out = tmp_path / "doodle.png"
    code, stdout, stderr = cli("image", "doodle", doodle_files["style"], doodle_files["style_map"], doodle_files["out_map"],
                               "-o", out, "--size", "32", "--steps", "3", "--scales", "1", "--quiet")
    assert code == 0, stderr
    assert Image.open(out).size == (32, 24) and out.with_suffix(".json").is_file()
    assert "2 regions" in stdout


def test_photoreal_end_to_end_with_and_without_maps(tmp_path, one_thread):
    from multistyle.image.photoreal import Photoreal

    rng = np.random.default_rng(0)
    content = (np.linspace(0, 1, 40)[None, :, None] * np.array([0.8, 0.7, 0.6]) + 0.1 * rng.random((30, 40, 3))).clip(0, 1)
    reference = (np.linspace(1, 0, 40)[None, :, None] * np.array([0.2, 0.3, 0.9]) + 0.1 * rng.random((30, 40, 3))).clip(0, 1)
    content_seg = two_region_map(30, 40)
    style_seg = two_region_map(30, 40, left=(0, 1, 0), right=(0, 0, 1))
    model = Photoreal(size=40, stage1="gatys", steps=4, stage1_steps=4, stage1_scale=1.0, precision="fp32")
    with_maps = model(content, reference, content_seg=content_seg, style_seg=style_seg)
    assert with_maps.tensor.shape == (1, 3, 30, 40) and torch.isfinite(with_maps.tensor).all()
    assert with_maps.details["regions"] == 2 and "photo" in with_maps.losses
    assert with_maps.details["iterations_per_stage"][0] >= 1
    plain = model(content, reference, postprocess=1e-2)
    assert plain.details["regions"] == 1 and "postprocess" in plain.timings
    # the reference's blue moved in
    assert float(plain.tensor[0, 2].mean() - plain.tensor[0, 0].mean()) > float(np.mean(content[..., 2] - content[..., 0]))
    fast = model(content, reference, steps=0, postprocess=1e-2)  # the fast path: stage 1, then the closed-form smoothing
    assert fast.details["iterations_per_stage"] == [4] and "postprocess" in fast.timings
    with pytest.raises(InputError, match="both"):
        model(content, reference, content_seg=content_seg)
    with pytest.raises(InputError, match="not both 0"):
        model(content, reference, steps=0, stage1_steps=0)


def test_adain_stage_one_takes_each_region_look_from_its_own_region(one_thread):
    """The fast path's stage 1: the left half of the content takes the reference's left (red) region's statistics,
    the right half its right (blue) region's."""
    from multistyle.image.photoreal import adain_regions

    content = torch.full((1, 3, 64, 64), 0.5) + 0.05 * torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    reference = torch.zeros(1, 3, 64, 64)
    reference[:, 0, :, :32], reference[:, 2, :, 32:] = 0.9, 0.9
    masks = torch.zeros(1, 2, 64, 64)
    masks[:, 0, :, :32], masks[:, 1, :, 32:] = 1, 1
    out = adain_regions(content.clamp(0, 1), reference, masks, masks, torch.device("cpu"))
    assert out.shape == (1, 3, 64, 64)
    left, right = out[0, :, :, 4:24].mean((1, 2)), out[0, :, :, 40:60].mean((1, 2))
    assert left[0] > left[2] + 0.1 and right[2] > right[0] + 0.1, (left, right)


def test_photoreal_fast_path_runs_with_maps(one_thread):
    from multistyle.image.photoreal import Photoreal

    content = torch.rand(1, 3, 30, 40, generator=torch.Generator().manual_seed(1))
    reference = torch.rand(1, 3, 30, 40, generator=torch.Generator().manual_seed(2))
    result = Photoreal(size=40, stage1="adain", steps=0)(content, reference, content_seg=two_region_map(30, 40),
                                                style_seg=two_region_map(30, 40, left=(0, 1, 0), right=(0, 0, 1)))
    assert result.tensor.shape == (1, 3, 30, 40) and result.details["iterations_per_stage"] == []
    assert "postprocess" in result.timings  # the fast path's stage 2 is the closed-form solve
    with pytest.raises(InputError, match="stage1 must be gatys or adain"):
        Photoreal(stage1="wct")(content, reference)


def _write(path, tensor):
    Image.fromarray((tensor[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("case", ["wrong_size", "no_shared", "one_map"])
@pytest.mark.parametrize("command", ["photoreal", "gatys", "doodle"])
def test_bad_maps_are_one_error_line(cli, tmp_path, sample_images, case, command):
    content = sample_images["content"]
    w, h = Image.open(content).size
    style_map = _write(tmp_path / "style_map.png", two_region_map(*Image.open(sample_images["style"]).size[::-1]))
    bad = {"wrong_size": _write(tmp_path / "bad.png", two_region_map(h, h * 3)),
           "no_shared": _write(tmp_path / "bad.png", two_region_map(h, w, left=(1, 0, 0), right=(1, 1, 0))),
           "one_map": None}[case]
    out = tmp_path / "out.png"
    if command == "doodle":
        if case == "one_map":
            pytest.skip("doodle's maps are positional")
        args = ["image", "doodle", sample_images["style"], style_map, bad, "-o", out]
    else:
        flags = ("--content-seg", "--style-seg") if command == "photoreal" else ("--content-map", "--style-map")
        maps = [flags[1], style_map] + ([] if bad is None else [flags[0], bad])
        args = ["image", command, content, sample_images["style"], "-o", out, "--size", "32", "--steps", "1", *maps]
    code, stdout, stderr = cli(*args, "--quiet")
    assert code == 2, (stdout, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    assert not out.exists()
