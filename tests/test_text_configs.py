from pathlib import Path

import pytest

from multistyle.core.config import load_config
from multistyle.text.config import CrossAlignConfig, EvaluatorConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "text"


@pytest.mark.parametrize("name, cls", [("yelp_crossalign.toml", CrossAlignConfig), ("evaluator.toml", EvaluatorConfig)])
def test_shipped_toml_matches_code_defaults(name, cls):
    assert load_config(cls, CONFIGS / name) == cls()


def test_cpu_config_is_a_valid_smaller_model():
    full, cpu = CrossAlignConfig(), load_config(CrossAlignConfig, CONFIGS / "yelp_crossalign_cpu.toml")
    cpu.validate()
    assert cpu.dim_y + cpu.dim_z < full.dim_y + full.dim_z
    assert cpu.gamma(cpu.epochs - 1) == pytest.approx(cpu.gamma_min), "the temperature reaches its floor by the last epoch"


def test_gpu_config_is_the_paper_model_with_the_cpu_stabilisers():
    full, cpu = CrossAlignConfig(), load_config(CrossAlignConfig, CONFIGS / "yelp_crossalign_cpu.toml")
    gpu = load_config(CrossAlignConfig, CONFIGS / "yelp_crossalign_gpu.toml")
    gpu.validate()
    sizes = ("min_count", "dim_emb", "dim_y", "dim_z", "n_filters", "filter_sizes", "batch_size")
    assert all(getattr(gpu, name) == getattr(full, name) for name in sizes)
    stabilisers = ("adam_betas", "warmup_steps", "gamma_init", "gamma_decay", "gamma_min")
    assert all(getattr(gpu, name) == getattr(cpu, name) for name in stabilisers) and gpu.adv_grad_cap > 0
