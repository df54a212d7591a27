"""Choosing a trained model's default style strength on the dev split.

Strength trades content for style (CrossAlignedAutoencoder.style_vector): as it rises, more transfers
read as the target sentiment and fewer source words survive. `calibrate` tries strengths 0, step,
2 step, ... and keeps the first whose dev transfer accuracy, under the evaluator's classifier, reaches
the target: the most content at that accuracy. The test split is never looked at.
"""
from pathlib import Path
from typing import Callable

from multistyle.core.checkpoint import write_json
from multistyle.core.progress import make_progress
from multistyle.core.runtime import select_device
from multistyle.errors import InputError
from multistyle.text.bundle import CALIBRATION, TrainedModel, load_model
from multistyle.text.classifier import StyleClassifier
from multistyle.text.data import Sentences, read_split
from multistyle.text.evaluator import load_evaluator
from multistyle.text.metrics import corpus_bleu
from multistyle.text.transfer import transfer_sentences

STEP, MAX_STRENGTH = 0.05, 1.0


def check_settings(target_accuracy: float, step: float, max_strength: float) -> None:
    if not 0 < target_accuracy <= 100:
        raise InputError(f"--accuracy must be a percentage in (0, 100], not {target_accuracy}")
    if not step > 0:
        raise InputError(f"--step must be > 0, not {step}")
    if not max_strength >= 0:
        raise InputError(f"--max-strength must be >= 0, not {max_strength}")


def strength_grid(step: float, max_strength: float) -> list[float]:
    return [round(i * step, 6) for i in range(int(max_strength / step + 1e-9) + 1)]


def strength_sweep(
    trained: TrainedModel,
    negative: Sentences,
    positive: Sentences,
    classifier: StyleClassifier,
    target_accuracy: float,
    *,
    step: float = STEP,
    max_strength: float = MAX_STRENGTH,
    beam: int = 1,
    on_row: Callable[[dict], None] = lambda row: None,
) -> list[dict]:
    """Rows {strength, accuracy, self_bleu} for strengths 0, step, ... up to the first reaching the target (or max_strength)."""
    targets = [1] * len(negative) + [0] * len(positive)
    sweep = []
    for strength in strength_grid(step, max_strength):
        outputs = (transfer_sentences(trained, negative, "positive", beam, strength)
                   + transfer_sentences(trained, positive, "negative", beam, strength))
        sweep.append({"strength": strength, "accuracy": round(classifier.accuracy(outputs, targets), 2),
                      "self_bleu": round(corpus_bleu(outputs, negative + positive), 2)})
        on_row(sweep[-1])
        if sweep[-1]["accuracy"] >= target_accuracy:
            break
    return sweep


def calibrate(
    model_dir: str | Path,
    data_dir: str | Path,
    evaluator_dir: str | Path,
    *,
    target_accuracy: float = 80.0,
    step: float = STEP,
    max_strength: float = MAX_STRENGTH,
    beam: int = 1,
    device: str | None = None,
    show_progress: bool = False,
) -> dict:
    """Sweep strengths on DATA's dev split, write MODEL/calibration.json and return it."""
    check_settings(target_accuracy, step, max_strength)
    device = select_device(device)
    trained = load_model(model_dir, device)
    evaluator = load_evaluator(evaluator_dir, device)
    negative, positive = read_split(data_dir, "dev", trained.config.max_len)

    with make_progress(disable=not show_progress) as progress:
        task = progress.add_task("strength sweep", total=len(strength_grid(step, max_strength)), status="")

        def show(row: dict) -> None:
            progress.update(task, advance=1, status=f"strength {row['strength']:g}: accuracy {row['accuracy']:.1f} %, self-BLEU {row['self_bleu']:.1f}")

        sweep = strength_sweep(trained, negative, positive, evaluator.classifier, target_accuracy, step=step,
                               max_strength=max_strength, beam=beam, on_row=show)

    chosen = sweep[-1]
    if chosen["accuracy"] < target_accuracy:
        raise InputError(f"{model_dir}: no strength up to {max_strength:g} reaches {target_accuracy:g} % dev accuracy "
                        f"(best {max(r['accuracy'] for r in sweep):.1f} %); left uncalibrated: raise --max-strength or lower --accuracy")
    calibration = calibration_record(chosen, target_accuracy, step, dev_sentences=[len(negative), len(positive)], beam=beam,
                                     classifier_dev_accuracy=evaluator.figures.get("classifier_dev_accuracy"), sweep=sweep)
    write_json(Path(model_dir) / CALIBRATION, calibration)
    return calibration


def calibration_record(row: dict, target_accuracy: float, step: float = STEP, **details) -> dict:
    """What calibration.json holds for the chosen sweep row {strength, accuracy, self_bleu}, plus `details`."""
    return {
        "strength": row["strength"],
        "selected_by": f"the smallest strength (in steps of {step:g}) with dev transfer accuracy >= {target_accuracy:g} %",
        "dev": {"accuracy": row["accuracy"], "self_bleu": row["self_bleu"]},
        **details,
    }


def sweep_table(calibration: dict) -> str:
    lines = ["| strength | dev accuracy % | dev self-BLEU |", "| ---: | ---: | ---: |"]
    lines += [f"| {r['strength']:g} | {r['accuracy']:.1f} | {r['self_bleu']:.1f} |" for r in calibration["sweep"]]
    return "\n".join(lines) + "\n"
