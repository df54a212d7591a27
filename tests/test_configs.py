import dataclasses
from pathlib import Path

import pytest

from multistyle.core.config import load_config
from multistyle.image.gatys import GatysConfig
from multistyle.image.train_adain import AdaINTrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path, cls", [("image/gatys.toml", GatysConfig)])
def test_shipped_toml_matches_code_defaults(path, cls):
    assert load_config(cls, CONFIGS / path) == cls()


def test_adain_toml_is_the_defaults_plus_the_recipe_corpus():
    config = load_config(AdaINTrainConfig, CONFIGS / "image/adain.toml")
    assert config.content_dirs and config.style_dirs
    assert dataclasses.replace(config, content_dirs=(), style_dirs=()) == AdaINTrainConfig()
    assert len(config.holdout_contents) == 3 and len(config.holdout_styles) == 14


def test_adain_cpu_toml_loads_and_keeps_the_paper_losses():
    config = load_config(AdaINTrainConfig, CONFIGS / "image/adain_cpu.toml")
    paper = AdaINTrainConfig()
    assert config.crop < paper.crop and config.crop / config.resize_short == paper.crop / paper.resize_short
    assert (config.style_weight, config.content_weight, config.lr) == (paper.style_weight, paper.content_weight, paper.lr)


def test_every_packaged_config_loads_into_its_dataclass_and_validates():
    from multistyle.audio.config import GrinsteinConfig
    from multistyle.core.config import packaged_configs
    from multistyle.image.photoreal import PhotorealConfig
    from multistyle.image.train_fast import FastTrainConfig
    from multistyle.text.config import CrossAlignConfig, EvaluatorConfig, StyleTransformerConfig

    classes = {"image/gatys": GatysConfig, "image/adain": AdaINTrainConfig, "image/fast": FastTrainConfig,
               "image/photoreal": PhotorealConfig, "audio/grinstein": GrinsteinConfig, "text/evaluator": EvaluatorConfig, "text/yelp": CrossAlignConfig,
               "text/style_transformer": StyleTransformerConfig}
    for name, path in packaged_configs().items():
        cls = next(c for prefix, c in classes.items() if name.startswith(prefix))
        config = load_config(cls, path)
        if cls is FastTrainConfig:
            config = dataclasses.replace(config, style="painting.jpg")
        config.validate(*([1] if cls is GatysConfig else []))
