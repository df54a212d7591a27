"""Yelp sentiment transfer: our cross-aligned model (if given) beside every system in ../shared/data/yelp/peers.

The first table pools both directions, as the papers report; the second scores each direction alone.

All systems are scored by the same evaluator (a TextCNN classifier and a GPT-2 LM trained on the
training split, `multistyle text train-evaluator`), on the 500 + 500 test sentences. The header
says how the evaluator and the model were trained, since the figures depend on it.
Usage: python benchmarks/text_peers.py --evaluator DIR [--model DIR] [--beam K] [--strength S] [--data ../shared/data/yelp]
The model transfers at its calibrated style strength (MODEL/calibration.json) unless --strength is given.
"""
import argparse
import json
from pathlib import Path

from multistyle.text.bundle import CALIBRATION
from multistyle.text.evaluate import evaluate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yelp"
RESULTS = Path(__file__).resolve().parent / "results"


def provenance(evaluator: Path, model: Path | None, strength: float | None) -> list[str]:
    info = json.loads((evaluator / "evaluator.json").read_text())
    cfg, fig = info["config"], info["figures"]
    sentences = sum(fig["train_sentences"])

    def budget(model_name: str) -> str:
        steps = fig[f"{model_name}_steps"]
        return f"{steps} steps of {cfg['batch_size']} ({steps * cfg['batch_size'] / sentences:.2f} epochs), {fig[f'{model_name}_seconds']:.0f} s"

    lm = (f"GPT-2 LM ({cfg['lm_layers']} layers x {cfg['lm_dim']}; {budget('lm')}; dev perplexity {fig['lm_dev_perplexity']:.1f})"
          if "lm_steps" in fig else "no language model (perplexity not measured)")
    lines = [
        f"Evaluator, trained on the {sentences} training sentences on {fig['device']}: TextCNN classifier ({budget('classifier')}; "
        f"accuracy on the test originals {fig['classifier_test_accuracy']:.1f} %, the paper's ~97 %), {lm}.",
    ]
    if model is not None:
        fig = json.loads((model / "figures.json").read_text())
        lines.append(f"Ours: {fig['steps']} steps ({fig['epochs']} epochs) in {fig['seconds'] / 3600:.2f} h on {fig['machine']}.")
        calibration = model / CALIBRATION
        if strength is not None:
            lines.append(f"Style strength {strength:g} (given).")
        elif calibration.is_file():
            chosen = json.loads(calibration.read_text())
            lines.append(f"Style strength {chosen['strength']:g}: {chosen['selected_by']} (dev {chosen['dev']['accuracy']:.1f} %, "
                         f"self-BLEU {chosen['dev']['self_bleu']:.1f}).")
        else:
            lines.append("Style strength 0 (the model as trained; not calibrated).")
    else:
        lines.append("Ours: no trained model yet (the full run needs a GPU; see docs/text.md).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluator", type=Path, required=True)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--strength", type=float, default=None, help="style strength (default: the model's calibrated one)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "text_peers.md")
    args = parser.parse_args()
    _, table = evaluate(args.data, args.evaluator, model_dir=args.model, peers=True, beam=args.beam,
                        strength=args.strength, by_direction=True)
    text = "\n".join(["# Yelp test: transfer accuracy, self-BLEU, ref-BLEU, perplexity", "", *provenance(args.evaluator, args.model, args.strength), "", table])
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
