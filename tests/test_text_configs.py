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
