import os

import pytest
import torch
from torch import nn

from multistyle.core.checkpoint import (
    load_tensors,
    load_training_state,
    read_json,
    save_tensors,
    save_training_state,
    write_json,
)
from multistyle.core.config import load_config
from multistyle.core.features import MultiLayerEncoder
from multistyle.core.optimize import optimize_input
from multistyle.core.runtime import seed_everything, select_device
from multistyle.errors import ConfigError, InputError, WeightsError


def test_encoder_stops_at_deepest_requested_layer():
    calls = []

    class Probe(nn.Module):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, x):
            calls.append(self.name)
            return x + 1

    enc = MultiLayerEncoder([(n, Probe(n)) for n in ("a", "b", "c", "d")])
    out = enc(torch.zeros(1), ["b", "a"])
    assert calls == ["a", "b"]
    assert out["a"].item() == 1 and out["b"].item() == 2
    assert enc.truncated("c").names == ["a", "b", "c"]
    with pytest.raises(KeyError, match="unknown layer"):
        enc(torch.zeros(1), ["z"])


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimize_input_minimises_a_quadratic(optimizer):
    target = torch.randn(20)
    init = torch.zeros(20)
    result = optimize_input(init, lambda x: {"mse": ((x - target) ** 2).sum()}, 200,
                            optimizer=optimizer, lr=0.1 if optimizer == "adam" else None, show_progress=False)
    assert result.history[0]["mse"] > 1
    assert result.final_terms["total"] < 1e-3 * result.history[0]["total"]
    assert torch.allclose(result.output, target, atol=0.05)
    assert torch.equal(init, torch.zeros(20)), "init must not be modified"


def test_optimize_input_stops_on_plateau_and_calls_back():
    seen = []
    result = optimize_input(torch.zeros(3), lambda x: {"const": (x * 0).sum() + 1.0}, 100,
                            optimizer="adam", patience=5, callback=lambda i, x, terms: seen.append(i), show_progress=False)
    assert result.stopped_early and result.iterations == 6
    assert seen == list(range(1, 7))


def test_optimize_input_survives_divergence():
    def loss(x):
        return {"l": (x - 1).square().sum() if x.abs().max() < 10 else x.sum() * float("nan")}
    result = optimize_input(torch.zeros(2), loss, 50, optimizer="adam", lr=100.0, show_progress=False)
    assert result.stopped_early and torch.isfinite(result.output).all()


def test_tensors_round_trip_atomically(tmp_path):
    t = {"a": torch.randn(3, 4), "b": torch.arange(5)}
    save_tensors(tmp_path / "w.safetensors", t)
    back = load_tensors(tmp_path / "w.safetensors")
    assert torch.equal(back["a"], t["a"]) and torch.equal(back["b"], t["b"])
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"], "no temporary files left behind"
    umask = os.umask(0o022)
    try:
        write_json(tmp_path / "c.json", {"x": 1})
        save_tensors(tmp_path / "w.safetensors", t)
    finally:
        os.umask(umask)
    for name in ("c.json", "w.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, f"{name} readable like any other file"
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(WeightsError, match="bad.safetensors"):
        load_tensors(tmp_path / "bad.safetensors")
    with pytest.raises(WeightsError, match="not found"):
        load_tensors(tmp_path / "missing.safetensors")


def test_training_state_round_trips_an_optimizer(tmp_path):
    model = nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    save_training_state(tmp_path, {"model": model.state_dict(), "optimizer": opt.state_dict()}, {"step": 1})
    states, info = load_training_state(tmp_path)
    assert info == {"step": 1}
    model2 = nn.Linear(3, 2)
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-2)
    model2.load_state_dict(states["model"])
    opt2.load_state_dict(states["optimizer"])
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(torch.ones(1, 3)).sum().backward()
        o.step()
    assert torch.equal(model.weight, model2.weight), "resumed optimizer must take the identical next step"


def test_json_and_config(tmp_path):
    from dataclasses import dataclass

    @dataclass
    class Cfg:
        a: int = 1
        layers: tuple[str, ...] = ("x",)

    write_json(tmp_path / "c.json", {"k": [1, 2]})
    assert read_json(tmp_path / "c.json") == {"k": [1, 2]}
    (tmp_path / "c.toml").write_text('a = 3\nlayers = ["y", "z"]\n')
    assert load_config(Cfg, tmp_path / "c.toml", a=None) == Cfg(3, ("y", "z"))
    assert load_config(Cfg, tmp_path / "c.toml", a=5).a == 5
    (tmp_path / "bad.toml").write_text("b = 1\n")
    with pytest.raises(ConfigError, match="unknown key b"):
        load_config(Cfg, tmp_path / "bad.toml")


def test_runtime():
    assert select_device("cpu").type == "cpu"
    assert select_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            select_device("cuda")
    seed_everything(3)
    a = torch.rand(2)
    seed_everything(3)
    assert torch.equal(a, torch.rand(2))


FLUSH_CHECK = """
import torch
from multistyle.core.runtime import flush_denormals
subnormal = torch.tensor([1e-39])  # below float32's smallest normal number, 1.2e-38
before = (subnormal * 1.0).item()
flushed = flush_denormals()
print(before > 0, flushed, (subnormal * 1.0).item() == 0)
"""


def test_flush_denormals_zeroes_subnormal_results():
    """In a fresh interpreter: some shared libraries (video decoding, for one) switch flushing on for the whole
    process when they load, so in this one a subnormal may already be zero."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", FLUSH_CHECK], capture_output=True, text=True, timeout=120)
    kept_before, flushed, zero_after = run.stdout.split()
    assert kept_before == "True", run.stderr
    if flushed == "False":
        pytest.skip("this CPU cannot flush subnormal floats")
    assert zero_after == "True"


def test_optimisation_that_never_has_a_finite_loss_is_a_clear_error():
    from multistyle.errors import OptimizationError

    with pytest.raises(OptimizationError, match="not finite at the first evaluation"):
        optimize_input(torch.zeros(2), lambda x: {"l": x.sum() * float("nan")}, 5, show_progress=False)


def test_lbfgs_takes_a_start_laid_out_channels_last():
    # a square photo decoded from HWC bytes arrives with channels-last strides; L-BFGS flattens its gradient with view()
    target = torch.rand(1, 3, 8, 8)
    start = torch.zeros(1, 8, 8, 3).permute(0, 3, 1, 2)
    assert not start.is_contiguous()
    result = optimize_input(start, lambda x: {"mse": (x - target).square().sum()}, 20)
    assert result.history[-1]["total"] < 1e-3 * result.history[0]["total"]
