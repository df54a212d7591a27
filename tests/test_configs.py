from pathlib import Path

import pytest

from multistyle.core.config import load_config
from multistyle.image.gatys import GatysConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path, cls", [("image/gatys.toml", GatysConfig)])
def test_shipped_toml_matches_code_defaults(path, cls):
    assert load_config(cls, CONFIGS / path) == cls()
