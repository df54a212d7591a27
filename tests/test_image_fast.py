"""Per-style feed-forward networks: training lowers the perceptual loss, models load and stylise, bad files are refused."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from multistyle import FastStyle
from multistyle.core.checkpoint import save_tensors
from multistyle.errors import InputError, WeightsError
from multistyle.image.fast import TransformNet, shipped_styles
from multistyle.image.train_fast import FastTrainConfig, train


def _config(sample_images, **kw) -> FastTrainConfig:
    folder = Path(sample_images["content"]).parent
    base = dict(style=str(sample_images["style"]), content_dirs=(str(folder),), holdout_contents=(), style_size=96, crop=64,
                min_short=64, resize_short=80, batch_size=2, iterations=30, log_every=5, checkpoint_every=15, workers=0,
                channels=(8, 16, 32), blocks=2, device="cpu")
    base.update(kw)
    return FastTrainConfig(**base)


@pytest.fixture(scope="module")
def trained(sample_images, tmp_path_factory):
    out = tmp_path_factory.mktemp("fast") / "run"
    figures = train(_config(sample_images), out)
    return out, figures


def test_a_short_training_halves_the_loss(trained):
    out, figures = trained
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["total"] <= 0.5 * log[0]["total"], log
    assert figures["iterations"] == 30 and figures["architecture"] == {"channels": [8, 16, 32], "blocks": 2}
    assert (out / "loss.png").stat().st_size > 1000


def test_model_file_stylises_at_the_requested_size_and_alpha(trained, sample_images):
    out, _ = trained
    model = FastStyle.from_file(out / "model.safetensors", size=64)
    styled = model(sample_images["content"])
    plain = model(sample_images["content"], alpha=0.0)
    content = model(sample_images["content"], alpha=1.0, preserve_color=True)
    assert max(styled.size) == 64 and styled.size == plain.size
    from multistyle.image.io import load_image

    photo = load_image(sample_images["content"], 64)
    assert torch.allclose(plain.tensor, photo, atol=1e-6), "alpha 0 is the content"
    assert (styled.tensor - photo).abs().mean() > 0.02, "alpha 1 changes the photo"
    assert content.tensor.shape == styled.tensor.shape


def test_a_warm_start_continues_the_network_and_counts_its_iterations(trained, sample_images, tmp_path):
    out, figures = trained
    warm = train(_config(sample_images, iterations=40, init_weights=str(out / "model.safetensors")), tmp_path / "warm")
    assert warm["iterations"] == 40 and warm["warm_start"]["iterations"] == 30
    assert warm["seconds"] > figures["seconds"]
    log = [json.loads(line) for line in (tmp_path / "warm" / "log.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in log] == [35, 40]
    cold = json.loads((out / "log.jsonl").read_text().splitlines()[0])
    assert log[0]["total"] < 0.7 * cold["total"], "it starts where the first run ended, not from scratch"
    resumed = train(_config(sample_images, iterations=45, init_weights=str(out / "model.safetensors")), tmp_path / "warm", resume=True)
    assert resumed["iterations"] == 45 and resumed["warm_start"] == warm["warm_start"], "a resumed warm start keeps its origin"
    with pytest.raises(Exception, match="architecture"):
        train(_config(sample_images, iterations=40, channels=(8, 16, 16), init_weights=str(out / "model.safetensors")), tmp_path / "other")


def test_texture_network_samples_new_textures(sample_images, tmp_path):
    figures = train(_config(sample_images, texture=True, content_dirs=(), iterations=10), tmp_path / "tex")
    assert "content" not in figures["final_losses"]
    model = FastStyle.from_file(tmp_path / "tex" / "model.safetensors")
    a, b = model.texture(48, 64, seed=0), model.texture(48, 64, seed=1)
    assert a.size == (64, 48) and not torch.equal(a.tensor, b.tensor)


def test_foreign_or_corrupt_model_files_are_one_line_errors(trained, cli, sample_images, tmp_path):
    out, _ = trained
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 40)
    (tmp_path / "corrupt.json").write_text((out / "model.json").read_text())
    foreign = tmp_path / "foreign.safetensors"
    save_tensors(foreign, {"net.0.1.weight": torch.zeros(3, 3, 3, 3)})
    (tmp_path / "foreign.json").write_text((out / "model.json").read_text())
    orphan = tmp_path / "orphan.safetensors"
    save_tensors(orphan, TransformNet((8, 16, 32), 2).state_dict())
    mispainted = tmp_path / "mispainted.safetensors"
    mispainted.write_bytes((out / "model.safetensors").read_bytes())
    (tmp_path / "mispainted.json").write_text(json.dumps({**json.loads((out / "model.json").read_text()), "palette": {"rgb_mean": [0.5]}}))
    for path, message in ((corrupt, "not a readable safetensors"), (foreign, "not a per-style network"), (orphan, "has no orphan.json"),
                          (mispainted, "palette is not 3 RGB means")):
        with pytest.raises(WeightsError, match=message):
            FastStyle.from_file(path)
        code, _, err = cli("image", "fast", sample_images["content"], "--style", path, "-o", tmp_path / "o.png")
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    with pytest.raises(InputError, match="unknown style"):
        FastStyle.from_pretrained("no_such_style")


@pytest.mark.parametrize("name", list(shipped_styles()))
def test_every_shipped_style_loads_and_stylises(name, sample_images):
    model = FastStyle.from_pretrained(name, size=64)
    result = model(sample_images["content"])
    assert max(result.size) == 64 and torch.isfinite(result.tensor).all()
    assert model.palette is not None, f"{name}.json keeps no palette (recipes/ship_fast_style.py adds it)"


def test_the_palette_recorded_in_training_recolours_the_output_to_the_style(trained, sample_images):
    from multistyle.image.io import load_image
    from multistyle.image.measures import colour_distance

    out, figures = trained
    assert len(figures["palette"]["rgb_mean"]) == 3 and len(figures["palette"]["rgb_cov"]) == 3
    model = FastStyle.from_file(out / "model.safetensors", size=64)
    style = load_image(sample_images["style"], 512)
    with_palette, without = model(sample_images["content"]).tensor, model(sample_images["content"], palette=False).tensor
    assert colour_distance(with_palette, style) < 0.5 * colour_distance(without, style)
    kept = model(sample_images["content"], preserve_color=True).tensor  # preserving the content's colours wins
    assert torch.equal(kept, model(sample_images["content"], preserve_color=True, palette=False).tensor)


def test_shipping_a_run_under_another_name(trained, tmp_path, monkeypatch):
    import importlib.util

    from multistyle.errors import MultistyleError

    spec = importlib.util.spec_from_file_location("ship_fast_style", Path(__file__).parents[1] / "recipes" / "ship_fast_style.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    monkeypatch.setattr(recipe, "shipped_folder", lambda: tmp_path)
    out, _ = trained
    recipe.ship(out, None, "style_small")
    assert json.loads((tmp_path / "style_small.json").read_text())["name"] == "style_small"
    assert FastStyle.from_file(tmp_path / "style_small.safetensors", size=32)(torch.rand(1, 3, 32, 32)).tensor.shape[-1] == 32
    with pytest.raises(MultistyleError, match="--name"):
        recipe.ship(out, None, "../escape")


def test_bf16_network_gives_a_float_image_close_to_fp32s(sample_images):
    name = sorted(shipped_styles())[0]
    fp32, bf16 = (FastStyle.from_pretrained(name, size=64, precision=p) for p in ("fp32", "bf16"))
    assert bf16.dtype == torch.bfloat16 and next(bf16.network.parameters()).dtype == torch.bfloat16
    a, b = fp32(sample_images["content"]).tensor, bf16(sample_images["content"]).tensor
    assert b.dtype == torch.float32 and b.shape == a.shape
    psnr = 10 * torch.log10(1 / (a - b).square().mean())
    assert 30 < psnr < 100  # the same picture, computed in bf16 (not silently fp32)
    with pytest.raises(InputError, match="precision"):
        FastStyle.from_pretrained(name, precision="int8")


def test_a_bf16_loss_network_trains_too_and_unknown_precisions_are_refused(sample_images, tmp_path):
    from multistyle.errors import ConfigError

    figures = train(_config(sample_images, precision="bf16", iterations=20, checkpoint_every=20), tmp_path / "bf16")
    log = [json.loads(line) for line in (tmp_path / "bf16" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["total"] <= 0.6 * log[0]["total"], log
    assert figures["iterations"] == 20
    with pytest.raises(ConfigError, match="precision"):
        _config(sample_images, precision="fp16").validate()


def test_a_warm_start_ramps_its_fresh_optimiser_up_instead_of_jolting_the_network(trained, sample_images, tmp_path):
    out, figures = trained

    def losses_after_warm_start(warmup: int) -> list[float]:
        run = tmp_path / f"warmup{warmup}"
        train(_config(sample_images, iterations=40, log_every=2, lr=1e-2, warmup=warmup,
                      init_weights=str(out / "model.safetensors")), run)
        return [json.loads(line)["total"] for line in (run / "log.jsonl").read_text().splitlines()]

    jolted, ramped = losses_after_warm_start(0), losses_after_warm_start(20)
    assert max(ramped) < 2 * figures["final_losses"]["total"], (ramped, figures["final_losses"])
    assert max(jolted) > 10 * max(ramped), "without the ramp the same lr throws the trained network off"


def test_the_shipped_weights_are_the_moving_average_and_a_resumed_run_carries_it_on(sample_images, tmp_path):
    from multistyle.core.checkpoint import load_training_state
    from multistyle.image.fast import load_network

    def shipped(run: Path) -> dict[str, torch.Tensor]:
        return {k: v.float() for k, v in load_network(run / "model.safetensors")[0].state_dict().items()}

    whole = tmp_path / "whole"
    train(_config(sample_images, iterations=30, ema=0.99), whole)
    raw = load_training_state(whole / "checkpoint")[0]["net"]
    average = shipped(whole)
    gaps = [(average[k] - raw[k].float()).abs().max().item() for k in raw]
    assert max(gaps) > 5e-3, "the shipped weights are the average, not the last step's"

    split = tmp_path / "split"
    train(_config(sample_images, iterations=15, ema=0.99), split)
    train(_config(sample_images, iterations=30, ema=0.99), split, resume=True)
    resumed = shipped(split)
    assert all(torch.allclose(resumed[k], average[k], atol=1e-3) for k in average), "resuming keeps the average going"
    with pytest.raises(Exception, match="ema"):
        train(_config(sample_images, ema=1.0), tmp_path / "bad")


def test_degrid_takes_the_8px_grid_out_of_a_shipped_network_and_little_else(sample_images):
    from multistyle.image.measures import grid_share

    model = FastStyle.from_pretrained("wave", size=256)
    on, off = (model(sample_images["content"], degrid=d).tensor for d in (True, False))
    assert torch.equal(model(sample_images["content"]).tensor, on), "on by default"
    assert grid_share(on) < 0.5 * grid_share(off), (grid_share(on), grid_share(off))
    assert (on - off).abs().mean() < 0.02, "a faint pattern, not a different picture"


def test_the_styles_sheet_shows_each_networks_painting_beside_its_result(cli, tmp_path):
    from PIL import Image

    code, out, _ = cli("image", "styles", "--sheet", tmp_path / "sheet.jpg")
    assert code == 0 and all(name in out for name in shipped_styles())
    sheet = Image.open(tmp_path / "sheet.jpg")
    rows = -(-2 * len(shipped_styles()) // 4)  # a painting (or a note) and a result per network, four cells a row
    assert sheet.height > rows * 192 and sheet.width > 4 * 192, sheet.size


def test_synthetic_motion_moves_by_its_exact_flow():
    from multistyle.image.train_fast import synthetic_motion

    frames = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    moved, grid, inside = synthetic_motion(frames, 0.0, torch.Generator().manual_seed(1))
    assert torch.allclose(moved, frames, atol=1e-5) and inside.all(), "no motion: the frame itself"
    moved, grid, inside = synthetic_motion(frames, 4.0, torch.Generator().manual_seed(1))
    assert 0.5 < inside.mean() < 1 and not torch.allclose(moved, frames, atol=1e-3)
    again = F.grid_sample(frames, grid, padding_mode="border", align_corners=False)
    assert torch.equal(again, moved), "the grid moves any image (a network's output) the same way"


def test_the_temporal_term_makes_the_output_follow_motion(sample_images, tmp_path, one_thread):
    """Issue 38, Huang et al. (2017): trained with the temporal term, the network's output of a moved photo is closer
    to its output moved, on a photo it never saw (measured: 0.0081 against 0.0196 without the term), and not by
    flattening the picture (pixel spread 0.147 against 0.184)."""
    from multistyle.image.io import load_image
    from multistyle.image.train_fast import temporal_error

    photo = load_image(sample_images["style2"], 64)
    photo = photo[..., : photo.shape[-2] // 4 * 4, : photo.shape[-1] // 4 * 4]  # the network's stride
    errors, spread = {}, {}
    for weight in (0.0, 3000.0):
        out = tmp_path / f"temporal_{weight}"
        train(_config(sample_images, iterations=40, temporal_weight=weight, holdout_contents=("style2.png",)), out)
        model = FastStyle.from_pretrained(out)
        with torch.no_grad():
            outputs = model.network(photo)
            errors[weight] = float(temporal_error(model.network, photo, outputs, 3.0, torch.Generator().manual_seed(5)))
            spread[weight] = float(outputs.std())
    assert errors[3000.0] < 0.7 * errors[0.0], errors
    assert spread[3000.0] > 0.5 * spread[0.0], f"not by flattening the picture: {spread}"
    logged = (tmp_path / "temporal_3000.0" / "log.jsonl").read_text()
    assert '"temporal"' in logged
