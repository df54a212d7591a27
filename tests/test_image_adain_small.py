"""Issue 41 item 1: the small AdaIN — compression of the full model, the small model's file, and its distillation run."""
import pytest
import torch

from multistyle import AdaIN
from multistyle.core.checkpoint import save_tensors
from multistyle.errors import ConfigError, WeightsError
from multistyle.image.adain import AdaINNetwork, Decoder, load_decoder, load_network, save_network
from multistyle.image.distill import SMALL_WIDTHS, Compressor, multiply_adds

TINY = (8, 16, 16, 32)


@pytest.fixture(scope="module")
def full():
    return AdaINNetwork(load_decoder()).eval()


@pytest.fixture(scope="module")
def compressed(full, one_thread):
    torch.manual_seed(0)
    images = torch.rand(6, 3, 48, 48)
    images = torch.nn.functional.avg_pool2d(images, 5, 1, 2)  # some spatial structure, as photos have
    compressor = Compressor(full, TINY, samples=5000)
    compressor.encoder(images)
    compressor.decoder(images[:3], images[3:])
    return compressor


def test_the_small_encoder_keeps_vgg_channels(full, compressed):
    """relu*_1 of the small encoder are VGG-19 channels: exactly so at relu1_1 (its input is the same image), and at
    relu2_1 closer to them than the full network's own weights cut to the same channels."""
    x = torch.nn.functional.avg_pool2d(torch.rand(2, 3, 48, 48), 5, 1, 2)
    with torch.no_grad():
        want, got = full.encoder(x), compressed.small.encoder(x)
    kept = compressed.kept
    assert [len(kept[n]) for n in ("relu1_1", "relu2_1", "relu3_1", "relu4_1")] == list(TINY)
    first = want["relu1_1"][:, kept["relu1_1"]]
    assert (got["relu1_1"] - first).abs().max() < 1e-3 * first.abs().max()
    cut = AdaINNetwork(Decoder(widths=TINY), TINY).eval()  # the full network's weights cut to the same channels
    previous = torch.arange(3)
    with torch.no_grad():
        for name, conv in cut.encoder.encoder.layers.items():
            if isinstance(conv, torch.nn.Conv2d):
                out = kept[name.replace("conv", "relu")]
                conv.weight.copy_(full.encoder.encoder.layers[name].weight[out][:, previous])
                conv.bias.copy_(full.encoder.encoder.layers[name].bias[out])
                previous = out
        naive = cut.encoder(x)
    for name in ("relu2_1", "relu3_1"):
        target = want[name][:, kept[name]]
        assert (got[name] - target).square().mean() < 0.5 * (naive[name] - target).square().mean(), name


def test_the_small_model_is_at_least_five_times_cheaper(full):
    small = AdaINNetwork(Decoder(widths=SMALL_WIDTHS), SMALL_WIDTHS)
    assert multiply_adds(full, 64, 64) >= 5 * multiply_adds(small, 64, 64)


def test_a_small_model_file_round_trips_through_the_pipeline(compressed, sample_images, tmp_path, cli):
    path = tmp_path / "small.safetensors"
    save_network(compressed.small, path, note="test")
    loaded = load_network(path)
    assert loaded.widths == TINY
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        got, want = loaded.encode(x), compressed.small.encode(x)
    assert (got - want).norm() < 1e-2 * want.norm()  # the file holds fp16
    result = AdaIN.from_pretrained(path, size=48)(sample_images["content"], sample_images["style"])
    assert result.tensor.shape[-1] == 48 and torch.isfinite(result.tensor).all()
    out = tmp_path / "out.png"
    code, stdout, _ = cli("image", "adain", sample_images["content"], sample_images["style"], "-o", out, "--decoder", path, "--size", "48")
    assert code == 0 and out.is_file(), stdout


def test_bad_small_model_files_and_names_get_one_line(compressed, sample_images, tmp_path, cli):
    path = tmp_path / "bad.safetensors"
    tensors = {k: v for k, v in compressed.small.state_dict().items()}
    save_tensors(path, tensors, metadata={"kind": "adain-small", "widths": "8,16"})
    with pytest.raises(WeightsError, match="four encoder widths"):
        load_network(path)
    save_tensors(path, tensors, metadata={"kind": "adain-small", "widths": "8,16,16,64"})
    with pytest.raises(WeightsError, match="small AdaIN model of this architecture|shape"):
        load_network(path)
    code, _, err = cli("image", "adain", sample_images["content"], sample_images["style"], "-o", tmp_path / "o.png", "--decoder", path)
    assert code != 0 and "the architecture needs" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_distillation_run_trains_saves_and_resumes(tmp_path, sample_images, one_thread):
    from multistyle.image.train_small import SmallTrainConfig, train

    images = tmp_path / "images"
    images.mkdir()
    for name in ("content", "style", "style2"):
        (images / f"{name}.png").write_bytes(sample_images[name].read_bytes())
    config = SmallTrainConfig(content_dirs=(str(images),), style_dirs=(str(images),), widths=TINY, compress_crops=4,
                              crop=32, min_short=32, resize_short=48, batch_size=2, iterations=2, workers=0,
                              checkpoint_every=1, log_every=1)
    summary = train(config, tmp_path / "run")
    assert summary["iterations"] == 2 and all(map(torch.tensor, summary["final_losses"].values()))
    first = load_network(tmp_path / "run").state_dict()
    config.iterations = 3
    assert train(config, tmp_path / "run", resume=True)["iterations"] == 3
    later = load_network(tmp_path / "run").state_dict()
    assert any(not torch.equal(first[k], later[k]) for k in first)
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 3


def test_the_painting_style_target_matches_the_paintings_statistics(full, compressed, one_thread):
    """style_target "painting": the painted half's style term measures the output against the painting instead of
    the teacher's output; the rebuilt half and the other terms are unchanged."""
    from multistyle.core.losses import relative_mean_std_loss
    from multistyle.image.adain import STYLE_LAYERS, adain, feature_stats
    from multistyle.image.train_small import SmallTrainConfig, distillation_losses

    torch.manual_seed(1)
    content, style = (torch.nn.functional.avg_pool2d(torch.rand(4, 3, 32, 32), 5, 1, 2) for _ in range(2))
    student, vgg, no_recolour = compressed.small.eval(), full.encoder, torch.zeros(4, dtype=torch.bool)
    with torch.no_grad():
        by_teacher = distillation_losses(full, student, vgg, compressed.kept, content, style, no_recolour)
        by_painting = distillation_losses(full, student, vgg, compressed.kept, content, style, no_recolour, "painting")
        s, t = student.encoder(torch.cat([content, style[2:]]))["relu4_1"], vgg(torch.cat([content[2:], style[2:]]))["relu4_1"]
        output = vgg(student.decoder(adain(s[2:4], feature_stats(s[4:]))))
        wanted, painting = vgg(full.decoder(adain(t[:2], feature_stats(t[2:])))), vgg(style[2:])
    assert by_painting["pixel"] == by_teacher["pixel"] and by_painting["perceptual"] == by_teacher["perceptual"]
    # each half is half of the batch mean, so the two terms differ by half the painted half's change of reference
    change = sum(relative_mean_std_loss(output[n], painting[n]) - relative_mean_std_loss(output[n], wanted[n]) for n in STYLE_LAYERS)
    assert abs(change) > 0.01
    torch.testing.assert_close(by_painting["style"] - by_teacher["style"], change / 2, rtol=1e-3, atol=1e-4)
    with pytest.raises(ConfigError, match="style_target"):
        SmallTrainConfig(style_target="paintings").validate()
