"""What every command shares: defaults in --help, --config and --set, one-line errors."""
import json

import pytest


@pytest.mark.parametrize("command, shown", [
    (["image", "gatys"], ["shrunk to 512 when larger", "(default: 500; at most 100,000)", "(default: 1000 for gram, 3 for mrf", "--config", "--set"]),
    (["image", "adain"], ["(default: 1.0)", "shrunk to 512 when larger", "--config", "--set"]),
    (["image", "train-adain"], ["(default: 160000; at most 10,000,000)", "--config"]),
    (["audio", "transfer"], ["(default: 2048)", "(default: random)", "--config"]),
    (["text", "train"], ["(default: 20)", "--config", "--set"]),
])
def test_help_shows_the_defaults_of_the_config_dataclass(cli, command, shown):
    code, out, err = cli(*command, "--help")
    assert code == 0, err
    flat = " ".join(out.replace("│", " ").split())
    for text in shown:
        assert text in flat, f"{text} missing from {' '.join(command)} --help"


def test_adain_takes_a_config_file_and_set(cli, sample_images, tmp_path):
    config = tmp_path / "adain.toml"
    config.write_text("alpha = 0.0\nsize = 64\n")
    out = tmp_path / "out.png"
    code, _, err = cli("image", "adain", sample_images["content"], sample_images["style"], "-o", out, "--config", config,
                       "--set", "size=48")
    assert code == 0, err
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["config"]["alpha"] == 0.0 and report["config"]["size"] == 48
    assert max(report["size"]) == 48


@pytest.mark.parametrize("args, message", [
    (["--set", "size=big"], "--set: size: expected a whole number"),
    (["--set", "colour=1"], "unknown key colour"),
    (["--alpha", "nan"], "--alpha: expected a finite number"),
    (["--config", "."], "is a folder"),
])
def test_bad_config_values_are_one_line(cli, sample_images, tmp_path, args, message):
    code, out, err = cli("image", "adain", sample_images["content"], sample_images["style"], "-o", tmp_path / "o.png", *args)
    assert code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.png").exists()


def test_text_transfer_takes_a_config_file(cli, tmp_path):
    config = tmp_path / "transfer.toml"
    config.write_text('to = "positive"\nkeep_tokens = true\n')
    code, out, err = cli("text", "transfer", "the food was cold and the staff was rude .", "--config", config)
    assert code == 0, err
    tokens = out.strip()
    assert tokens == tokens.lower() and " ." in tokens, "keep_tokens from the file: corpus tokens, not detokenised text"
    code, _, err = cli("text", "transfer", "fine", "--set", "beam=0")
    assert code == 2 and "--beam must be between 1 and 64" in err
