"""Choosing a trained model's default style strength on the dev split.

Strength trades content for style (CrossAlignedAutoencoder.style_vector): as it rises, more transfers
read as the target sentiment and fewer source words survive. `calibrate` tries strengths 0, step,
2 step, ... and keeps the first whose dev transfer accuracy, under the evaluator's classifier, reaches
the target: the most content at that accuracy. The test split is never looked at.
"""
from pathlib import Path

from multistyle import UserError
from multistyle.core.checkpoint import write_json
from multistyle.core.optimize import make_progress
from multistyle.core.runtime import select_device
from multistyle.text.bundle import CALIBRATION, load_model
from multistyle.text.data import read_split
from multistyle.text.evaluator import load_evaluator
from multistyle.text.metrics import corpus_bleu
from multistyle.text.transfer import transfer_sentences


def check_settings(target_accuracy: float, step: float, max_strength: float) -> None:
    if not 0 < target_accuracy <= 100:
        raise UserError(f"--accuracy must be a percentage in (0, 100], not {target_accuracy}")
    if not step > 0:
        raise UserError(f"--step must be > 0, not {step}")
    if not max_strength >= 0:
        raise UserError(f"--max-strength must be >= 0, not {max_strength}")


def calibrate(
    model_dir: str | Path,
    data_dir: str | Path,
    evaluator_dir: str | Path,
    *,
    target_accuracy: float = 80.0,
    step: float = 0.05,
    max_strength: float = 1.0,
    beam: int = 1,
    device: str | None = None,
    show_progress: bool = True,
) -> dict:
    """Sweep strengths on DATA's dev split, write MODEL/calibration.json and return it."""
    check_settings(target_accuracy, step, max_strength)
    device = select_device(device)
    trained = load_model(model_dir, device)
    evaluator = load_evaluator(evaluator_dir, device)
    negative, positive = read_split(data_dir, "dev")
    targets = [1] * len(negative) + [0] * len(positive)
    strengths = [round(i * step, 6) for i in range(int(max_strength / step + 1e-9) + 1)]

    sweep = []
    with make_progress(disable=not show_progress) as progress:
        task = progress.add_task("strength sweep", total=len(strengths), status="")
        for strength in strengths:
            outputs = (transfer_sentences(trained, negative, "positive", beam, strength)
                       + transfer_sentences(trained, positive, "negative", beam, strength))
            row = {"strength": strength, "accuracy": round(evaluator.classifier.accuracy(outputs, targets), 2),
                   "self_bleu": round(corpus_bleu(outputs, negative + positive), 2)}
            sweep.append(row)
            progress.update(task, advance=1, status=f"strength {strength:g}: accuracy {row['accuracy']:.1f} %, self-BLEU {row['self_bleu']:.1f}")
            if row["accuracy"] >= target_accuracy:
                break

    chosen = sweep[-1]
    if chosen["accuracy"] < target_accuracy:
        raise UserError(f"{model_dir}: no strength up to {max_strength:g} reaches {target_accuracy:g} % dev accuracy "
                        f"(best {max(r['accuracy'] for r in sweep):.1f} %); left uncalibrated: raise --max-strength or lower --accuracy")
    calibration = {
        "strength": chosen["strength"],
        "selected_by": f"the smallest strength (in steps of {step:g}) with dev transfer accuracy >= {target_accuracy:g} %",
        "dev": {"accuracy": chosen["accuracy"], "self_bleu": chosen["self_bleu"]},
        "dev_sentences": [len(negative), len(positive)],
        "beam": beam,
        "classifier_dev_accuracy": evaluator.figures.get("classifier_dev_accuracy"),
        "sweep": sweep,
    }
    write_json(Path(model_dir) / CALIBRATION, calibration)
    return calibration


def sweep_table(calibration: dict) -> str:
    lines = ["| strength | dev accuracy % | dev self-BLEU |", "| ---: | ---: | ---: |"]
    lines += [f"| {r['strength']:g} | {r['accuracy']:.1f} | {r['self_bleu']:.1f} |" for r in calibration["sweep"]]
    return "\n".join(lines) + "\n"
