"""A trained autoencoder on disk: config.json, vocab.txt (or subwords.model) and model.safetensors (figures.json beside them),
plus calibration.json once `text calibrate` has chosen the model's default style strength.

The same layout serves a training run's output folder and the model shipped in multistyle/text/weights.
"""
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from multistyle.core.checkpoint import load_tensors, read_json, save_tensors, write_json
from multistyle.core.config import config_dict, from_dict
from multistyle.errors import WeightsError
from multistyle.text.config import CrossAlignConfig, StyleTransformerConfig
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.selector import Selector, load_selector
from multistyle.text.style_transformer import StyleTransformer
from multistyle.text.vocab import AnyVocab, load_vocab, vocab_file

CONFIG, WEIGHTS, FIGURES, CALIBRATION = "config.json", "model.safetensors", "figures.json", "calibration.json"


TextModel = CrossAlignedAutoencoder | StyleTransformer
TextModelConfig = CrossAlignConfig | StyleTransformerConfig


@dataclass
class TrainedModel:
    model: TextModel
    vocab: AnyVocab
    config: TextModelConfig
    strength: float = 0.0  # the default style strength (calibration.json), 0 without one
    selector: Selector | None = None  # picks among a strength ladder (selector.safetensors), None without one


def save_config(folder: str | Path, config: TextModelConfig) -> None:
    write_json(Path(folder) / CONFIG, config_dict(config))


def load_config_json(folder: str | Path) -> TextModelConfig:
    """A model folder's config: the Style Transformer's where it says so ("model"), else the cross-aligned model's."""
    path = Path(folder) / CONFIG
    values = read_json(path)
    kind = values.get("model", "cross-aligned") if isinstance(values, dict) else "cross-aligned"
    if kind not in ("cross-aligned", "style-transformer"):
        raise WeightsError(f"{path}: unknown model {kind!r} (known: cross-aligned, style-transformer)")
    if kind == "cross-aligned" and isinstance(values, dict):
        values = {k: v for k, v in values.items() if k != "model"}
    return from_dict(StyleTransformerConfig if kind == "style-transformer" else CrossAlignConfig, values, str(path))


def build_model(vocab_size: int, config: TextModelConfig) -> TextModel:
    return (StyleTransformer if isinstance(config, StyleTransformerConfig) else CrossAlignedAutoencoder)(vocab_size, config)


def save_weights(folder: str | Path, model: TextModel) -> None:
    save_tensors(Path(folder) / WEIGHTS, model.state_dict())


def check_vocab_matches(folder: Path, vocab: AnyVocab, weights: dict[str, torch.Tensor], key: str, weights_name: str) -> None:
    """A vocabulary and weights from different runs would produce garbage silently: refuse them."""
    if key not in weights:
        raise WeightsError(f"{folder}: {weights_name} lacks {key}; not weights of this model")
    rows = weights[key].shape[0]
    if rows != len(vocab):
        raise WeightsError(f"{folder}: {vocab.FILE} has {len(vocab)} entries but {weights_name} was trained with {rows}; the folder mixes two models")


def load_weights_into(net: torch.nn.Module, folder: Path, weights_name: str, config_name: str, vocab: AnyVocab) -> None:
    """Load folder/weights_name into `net`, refusing weights from another vocabulary or configuration."""
    weights = load_tensors(folder / weights_name)
    check_vocab_matches(folder, vocab, weights, "embedding.weight", weights_name)
    try:
        net.load_state_dict(weights)
    except RuntimeError as e:
        reason = str(e).strip().splitlines()[-1].strip()
        raise WeightsError(f"{folder}: {weights_name} does not fit {config_name} ({reason})") from None


def load_model(folder: str | Path, device: torch.device | str = "cpu") -> TrainedModel:
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError(f"{folder}: model folder not found")
    missing = [name for name in (CONFIG, WEIGHTS) if not (folder / name).is_file()]
    if vocab_file(folder) is None:
        missing.insert(1, "vocab.txt")
    if missing:
        raise WeightsError(f"{folder}: not a trained text model (missing {', '.join(missing)})")
    config = load_config_json(folder)
    vocab = load_vocab(folder)
    model = build_model(len(vocab), config)
    load_weights_into(model, folder, WEIGHTS, CONFIG, vocab)
    selector = load_selector(folder, len(vocab), device)
    return TrainedModel(model.to(device).eval(), vocab, config, calibrated_strength(folder), selector)


def calibrated_strength(folder: Path) -> float:
    path = folder / CALIBRATION
    if not path.is_file():
        return 0.0
    strength = read_json(path).get("strength")
    if not isinstance(strength, (int, float)) or isinstance(strength, bool) or not (math.isfinite(strength) and strength >= 0):
        raise WeightsError(f"{path}: 'strength' must be a finite number >= 0, not {strength!r}")
    return float(strength)
