"""The evaluation models, trained on a corpus's training split and kept in one folder.

EVAL/vocab.txt, classifier.safetensors, lm.safetensors (absent when lm_epochs = 0) and evaluator.json
(config and figures: the classifier's accuracy on the test originals, the LM's dev perplexity).
"""
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from multistyle.core.checkpoint import load_tensors, read_json, save_tensors, write_json
from multistyle.core.config import config_dict, from_dict
from multistyle.core.runtime import seed_everything, select_device
from multistyle.errors import InputError
from multistyle.text.bundle import check_vocab_matches, load_weights_into
from multistyle.text.classifier import SentimentCNN, StyleClassifier, train_classifier
from multistyle.text.config import EvaluatorConfig
from multistyle.text.data import read_split
from multistyle.text.lm import LanguageModel, train_language_model
from multistyle.text.vocab import Vocab

VOCAB, CLASSIFIER, LM, INFO = "vocab.txt", "classifier.safetensors", "lm.safetensors", "evaluator.json"
SHIPPED_EVALUATOR = Path(__file__).resolve().parent / "weights" / "evaluator"  # trained on Yelp by `text train-evaluator`


@dataclass
class Evaluator:
    classifier: StyleClassifier
    lm: LanguageModel | None
    figures: dict


def train_evaluator(data_dir: str | Path, out_dir: str | Path, config: EvaluatorConfig, show_progress: bool = False) -> dict:
    """Train the classifier (and the language model unless lm_epochs = 0), save them, return their figures."""
    config.validate()
    out_dir = Path(out_dir)
    device = select_device(config.device)
    seed_everything(config.seed)
    neg, pos = read_split(data_dir, "train", config.max_len)
    dev_neg, dev_pos = read_split(data_dir, "dev")
    test_neg, test_pos = read_split(data_dir, "test")
    vocab = Vocab.build(neg + pos, config.min_count)
    figures: dict = {"data": str(data_dir), "vocab_size": len(vocab), "train_sentences": [len(neg), len(pos)], "device": str(device)}

    start = time.perf_counter()
    classifier, figures["classifier_steps"] = train_classifier(neg, pos, vocab, config, device, show_progress)
    figures["classifier_seconds"] = round(time.perf_counter() - start, 1)
    figures["classifier_dev_accuracy"] = round(classifier.accuracy(dev_neg + dev_pos, [0] * len(dev_neg) + [1] * len(dev_pos)), 2)
    figures["classifier_test_accuracy"] = round(classifier.accuracy(test_neg + test_pos, [0] * len(test_neg) + [1] * len(test_pos)), 2)
    vocab.save(out_dir / VOCAB)
    save_tensors(out_dir / CLASSIFIER, classifier.net.state_dict())

    (out_dir / LM).unlink(missing_ok=True)
    if config.lm_epochs:
        start = time.perf_counter()
        lm, figures["lm_steps"] = train_language_model(neg + pos, vocab, config, device, show_progress)
        figures["lm_seconds"] = round(time.perf_counter() - start, 1)
        figures["lm_dev_perplexity"] = round(lm.perplexity(dev_neg + dev_pos), 2)
        save_tensors(out_dir / LM, lm.state_dict())
    write_json(out_dir / INFO, {"config": config_dict(config), "figures": figures})
    return figures


def load_evaluator(folder: str | Path, device: torch.device | str = "cpu") -> Evaluator:
    folder = Path(folder)
    if not (folder / INFO).is_file():
        raise InputError(f"{folder}: not an evaluator folder (no {INFO}); make one with `multistyle text train-evaluator`")
    info = read_json(folder / INFO)
    config = from_dict(EvaluatorConfig, info["config"], str(folder / INFO))
    vocab = Vocab.load(folder / VOCAB)

    net = SentimentCNN(len(vocab), config)
    load_weights_into(net, folder, CLASSIFIER, INFO, vocab)
    classifier = StyleClassifier(net.to(device).eval(), vocab, config.max_len)

    lm = None
    if (folder / LM).is_file():
        weights = load_tensors(folder / LM)
        check_vocab_matches(folder, vocab, weights, "transformer.wte.weight", LM)
        lm = LanguageModel.from_state_dict(weights, vocab, config, str(folder / LM))
        lm.net.to(device)
    return Evaluator(classifier, lm, info.get("figures", {}))
