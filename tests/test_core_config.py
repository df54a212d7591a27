"""One config loader for TOML, JSON, --set and flags; values checked as they enter."""
import dataclasses
import json

import pytest

from multistyle.core.config import default_of, from_dict, load_config, packaged_configs, parse_assignments, resolve_config_path
from multistyle.errors import ConfigError
from multistyle.image.adain import AdaINConfig
from multistyle.image.gatys import GatysConfig


def test_toml_and_json_give_the_same_config(tmp_path):
    (tmp_path / "c.toml").write_text('size = 256\nstyle_blend = [0.7, 0.3]\nstyle_layers = ["relu1_1", "relu2_1"]\n'
                                     'style_layer_weights = [1, 2]\n')
    (tmp_path / "c.json").write_text(json.dumps({"size": 256, "style_blend": [0.7, 0.3], "style_layers": ["relu1_1", "relu2_1"],
                                                 "style_layer_weights": [1, 2]}))
    from_toml, from_json = load_config(GatysConfig, tmp_path / "c.toml"), load_config(GatysConfig, tmp_path / "c.json")
    assert from_toml == from_json
    assert from_toml.style_blend == (0.7, 0.3), "a list in the file becomes the declared tuple, even where the default is None"
    assert from_toml.style_layer_weights == (1.0, 2.0) and isinstance(from_toml.style_layer_weights[0], float)


@pytest.mark.parametrize("text, message", [
    ('size = "big"', "size: expected a whole number"),
    ("lr = nan", "lr: expected a finite number"),
    ("preserve_color = true", "preserve_color: expected a string"),
    ("style_blend = 0.5", "style_blend: expected a list"),
    ("colour = 1", "unknown key colour"),
])
def test_bad_values_name_the_file_and_key(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=message) as error:
        load_config(GatysConfig, tmp_path / "bad.toml")
    assert "bad.toml" in str(error.value)


def test_set_overrides_file_and_flags_override_set(tmp_path):
    (tmp_path / "c.toml").write_text("size = 256\nsteps = 10\n")
    config = load_config(GatysConfig, tmp_path / "c.toml", ["steps=20", "style_blend=[2, 1]", "init=noise"], size=128)
    assert (config.size, config.steps, config.style_blend, config.init) == (128, 20, (2.0, 1.0), "noise")
    assert parse_assignments(["a=1e-4", "b=true", "c=hello world"]) == {"a": 1e-4, "b": True, "c": "hello world"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignments(["novalue"])
    with pytest.raises(ConfigError, match="--set: steps: expected a whole number"):
        load_config(GatysConfig, None, ["steps=many"])


def test_packaged_configs_resolve_by_name_and_folders_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the source tree, as after `pip install multistyle`
    names = packaged_configs()
    assert {"image/gatys", "image/adain", "audio/grinstein", "text/yelp_crossalign"} <= set(names)
    assert resolve_config_path("image/gatys") == resolve_config_path("gatys") == resolve_config_path("configs/image/gatys.toml")
    assert load_config(GatysConfig, "image/gatys") == GatysConfig()
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(GatysConfig, tmp_path)
    with pytest.raises(ConfigError, match="config file not found.*image/gatys"):
        load_config(GatysConfig, tmp_path / "absent.toml")


def test_defaults_are_read_from_the_dataclass():
    assert default_of(GatysConfig, "size") == GatysConfig().size
    assert default_of(AdaINConfig, "alpha") == 1.0
    assert from_dict(AdaINConfig, dataclasses.asdict(AdaINConfig(alpha=0.3))) == AdaINConfig(alpha=0.3)
