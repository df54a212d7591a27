"""`multistyle text ...`: train, transfer, calibrate and evaluate the text models (cross-aligned autoencoder, Style Transformer)."""
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle.cli.common import ConfigFile, Quiet, Sets, config_option, default, guard, on_off, sets
from multistyle.core.config import load_config
from multistyle.errors import InputError
from multistyle.text.config import (
    CalibrationConfig,
    CrossAlignConfig,
    EvaluationConfig,
    EvaluatorConfig,
    SelectorConfig,
    TransferConfig,
)

app = typer.Typer(no_args_is_help=True, help="Text sentiment transfer: Shen et al.'s cross-aligned autoencoder and Dai et al.'s Style Transformer.")
C, E, TC, CC, EC = CrossAlignConfig, EvaluatorConfig, TransferConfig, CalibrationConfig, EvaluationConfig
Device = Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default: auto).")]


@app.command("train")
def train(
    data: Annotated[Path, typer.Option(help="Shen-format folder: sentiment.{train,dev,test}.{0,1}.")],
    out: Annotated[Path, typer.Option(help="Run folder: model, vocab, config, figures, log.jsonl, checkpoint/.")],
    model: Annotated[str, typer.Option(help="cross-aligned (Shen et al. 2017) or style-transformer (Dai et al. 2019).")] = "cross-aligned",
    config: config_option("text/yelp_crossalign") = None,
    set_: Sets = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in OUT from its checkpoint.")] = False,
    evaluator: Annotated[Optional[Path], typer.Option(help="Evaluator folder (text train-evaluator): adds dev transfer accuracy and picks the best model by it.")] = None,
    epochs: Annotated[Optional[int], typer.Option(help=default(C, "epochs", "Passes over the training split."))] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many steps in all (cross-aligned: default 0, every epoch; style-transformer: generator updates, default from the config, 10000 without one).")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help=default(C, "checkpoint_every", "Steps between checkpoints."))] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help=default(C, "max_minutes", "Stop this run after this many minutes: dev evaluation, checkpoint; 0 no limit."))] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(C, "seed"))] = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Train Shen et al.'s cross-aligned autoencoder or Dai et al.'s Style Transformer; Ctrl-C saves a checkpoint that
    --resume continues."""
    from multistyle.text.evaluator import load_evaluator

    if model not in TRAINABLE:
        raise InputError(f"--model must be one of {', '.join(TRAINABLE)}, not {model!r}")
    if model == "style-transformer":
        if epochs is not None:
            raise InputError("the Style Transformer counts steps: use --max-steps, not --epochs")
        from multistyle.text.train_style_transformer import run_config
        from multistyle.text.train_style_transformer import train as train_model
    else:
        from multistyle.text.train import run_config
        from multistyle.text.train import train as train_model
    if resume and saved_model_kind(out) not in (None, model):
        raise InputError(f"{out} holds a {saved_model_kind(out)} run; resume it with --model {saved_model_kind(out)}")

    guard([out], read_folders=[data], folder=True)
    flags = {"epochs": epochs} if model == "cross-aligned" else {}
    cfg = run_config(out, config, resume, sets(set_), max_steps=max_steps, checkpoint_every=checkpoint_every,
                     max_minutes=max_minutes, seed=seed, device=device, **flags)
    classifier = load_evaluator(evaluator).classifier if evaluator is not None else None
    figures = train_model(data, out, cfg, resume=resume, classifier=classifier, show_progress=not quiet)
    kept = figures["best"] or {}
    typer.echo(f"wrote {out} ({figures['steps']} steps, {figures['seconds']:.0f} s on {figures['machine']}; "
               f"model.safetensors is step {kept.get('step')}'s: {describe_dev(kept.get('dev') or {})})")


def describe_dev(dev: dict) -> str:
    """A dev evaluation in words."""
    if "accuracy" in dev:
        return (f"dev transfer accuracy {dev['accuracy']:.1f} %, self-BLEU {dev['self_bleu']:.1f} as trained"
                + (f"; at strength {dev['strength']:g}: {dev['calibrated_accuracy']:.1f} % / {dev['calibrated_self_bleu']:.1f}"
                   if dev.get("strength") else ""))
    return f"dev reconstruction loss {dev.get('rec', float('nan')):.2f} nats a sentence"


TRAINABLE = ("cross-aligned", "style-transformer")


def saved_model_kind(out: Path) -> str | None:
    """The model a run folder's config.json is of (None without one)."""
    import json

    try:
        saved = json.loads((out / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return saved.get("model", "cross-aligned") if isinstance(saved, dict) else None


@app.command("train-evaluator")
def train_evaluator(
    data: Annotated[Path, typer.Option(help="Shen-format folder; the models learn from its train split.")],
    out: Annotated[Path, typer.Option(help="Evaluator folder: vocab, classifier, language model, evaluator.json.")],
    config: config_option("text/evaluator") = None,
    set_: Sets = None,
    classifier_epochs: Annotated[Optional[int], typer.Option(help=default(E, "classifier_epochs", "Passes over the training split."))] = None,
    lm_epochs: Annotated[Optional[int], typer.Option(help=default(E, "lm_epochs", "0 skips the language model (no perplexity)."))] = None,
    max_steps: Annotated[Optional[int], typer.Option(help=default(E, "max_steps", "At most this many steps per model; 0 none."))] = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Train the TextCNN style classifier and the GPT-2 language model that `text evaluate` scores with."""
    from multistyle.core.config import load_config
    from multistyle.text.evaluator import train_evaluator as train_models

    guard([out], read_folders=[data], folder=True)
    cfg = load_config(EvaluatorConfig, config, sets(set_), classifier_epochs=classifier_epochs, lm_epochs=lm_epochs,
                      max_steps=max_steps, device=device)
    figures = train_models(data, out, cfg, show_progress=not quiet)
    typer.echo(f"wrote {out}: classifier accuracy on the test originals {figures['classifier_test_accuracy']:.1f} %"
               + (f", LM dev perplexity {figures['lm_dev_perplexity']:.1f}" if "lm_dev_perplexity" in figures else ""))


@app.command("train-selector")
def train_selector(
    model: Annotated[Path, typer.Option(help="Trained model folder; selector.safetensors and selector.json are written into it.")],
    data: Annotated[Path, typer.Option(help="Shen-format folder; the selector learns from its train split.")],
    config: ConfigFile = None,
    set_: Sets = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Train the models that pick one candidate rewrite per sentence (a bag-of-n-grams classifier and a GRU language
    model, both other than the evaluator's)."""
    from multistyle.core.config import load_config
    from multistyle.text.selector import train_selector as train_models

    guard([model / "selector.safetensors", model / "selector.json"], read_folders=[data])
    cfg = load_config(SelectorConfig, config, sets(set_), device=device)
    figures = train_models(model, data, cfg, show_progress=not quiet)
    typer.echo(f"wrote {model}/selector.safetensors: classifier dev accuracy {figures['classifier_dev_accuracy']:.1f} %, "
               f"language model dev perplexity {figures['lm_dev_perplexity']:.1f} "
               f"({figures['classifier_seconds'] + figures['lm_seconds']:.0f} s)")


@app.command("transfer")
def transfer(
    texts: Annotated[Optional[list[str]], typer.Argument(help="Sentences to rewrite (or --input FILE, or text piped in; several sentences in one text are rewritten one by one).")] = None,
    to: Annotated[Optional[str], typer.Option(help=default(TC, "to", "positive, negative, or flip (each sentence to the style it lacks)."))] = None,
    model: Annotated[Optional[str], typer.Option(help="A shipped model, cross-aligned or style-transformer, or a folder from `text train` (default: style-transformer, the better on the Yelp test set: docs/text.md).")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help="UTF-8 file, one sentence a line.")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write here, one sentence a line, instead of printing.")] = None,
    config: ConfigFile = None,
    set_: Sets = None,
    beam: Annotated[Optional[int], typer.Option(help=default(TC, "beam", "Beam width (the cross-aligned model; the Style Transformer decodes greedily); 1 is greedy decoding."))] = None,
    strength: Annotated[Optional[float], typer.Option(help="Style strength: 0 is the model as trained, higher flips more sentences and keeps fewer words (default: the model's calibrated one).")] = None,
    select: Annotated[Optional[str], typer.Option(help=default(TC, "select", "on: write each sentence at several strengths and keep the least change that reads as the target (the model's selector); off: the raw model at one strength."))] = None,
    tokens: Annotated[Optional[bool], typer.Option("--tokens", help="Write space-separated corpus tokens, not detokenised text.")] = None,
    device: Device = None,
):
    """Rewrite sentences into the other sentiment."""
    from multistyle.core.config import load_config
    from multistyle.text.data import decode_lines, read_lines, write_lines
    from multistyle.text.tokenize import split_words
    from multistyle.text.transfer import TextTransfer, check_request

    if texts and input is not None:
        raise InputError("give TEXT arguments or --input FILE, not both")
    if output is not None:
        guard([output], [input] if input is not None else [])
    if input is not None:
        lines = read_lines(input)
    elif texts:
        lines = texts
    elif not sys.stdin.isatty():  # piped text: one sentence (or one review) a line
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()  # a test's StringIO has no bytes
        lines = [line for line in decode_lines(raw, "stdin") if line.strip()]
    else:
        lines = []
    if not lines:
        raise InputError("nothing to transfer: give TEXT arguments, --input FILE, or pipe text in")
    if input is not None:
        empty = next((n for n, line in enumerate(lines, 1) if not split_words(line)), None)
        if empty is not None:
            raise InputError(f"{input}: line {empty} is empty; give one sentence a line")
    cfg = load_config(TransferConfig, config, sets(set_), to=to, beam=beam, strength=strength, select=on_off(select, "--select"),
                      keep_tokens=tokens, device=device)
    check_request(cfg.to, cfg.beam, cfg.strength)
    model_api = TextTransfer.from_pretrained(model, device=cfg.device)
    result = model_api(lines, cfg.to, beam=cfg.beam, strength=cfg.strength, select=cfg.select, keep_tokens=cfg.keep_tokens)
    if output is not None:
        write_lines(output, result.texts)
        typer.echo(f"wrote {output} ({len(result)} sentences)")
    else:
        for line in result:
            typer.echo(line)


@app.command("evaluate")
def evaluate(
    data: Annotated[Path, typer.Option(help="Shen-format folder whose test split (and reference.{0,1}) is scored against.")],
    evaluator: Annotated[Optional[Path], typer.Option(help="Evaluator folder from `text train-evaluator` (default: the shipped Yelp evaluator).")] = None,
    model: Annotated[Optional[str], typer.Option(help="A model to transfer the test split with and score: a shipped name (cross-aligned, style-transformer) or a folder from `text train`.")] = None,
    outputs: Annotated[Optional[list[Path]], typer.Option(help="PREFIX of PREFIX.0 (neg->pos) and PREFIX.1 (pos->neg); repeatable.")] = None,
    config: ConfigFile = None,
    set_: Sets = None,
    peers: Annotated[Optional[bool], typer.Option("--peers", help="Also score every system in DATA/peers.")] = None,
    beam: Annotated[Optional[int], typer.Option(help=default(EC, "beam", "Beam width for --model."))] = None,
    strength: Annotated[Optional[float], typer.Option(help="Style strength for --model (default: its calibrated one).")] = None,
    select: Annotated[Optional[str], typer.Option(help=default(EC, "select", "on|off: --model picks among several strengths per sentence with its selector."))] = None,
    save_outputs: Annotated[Optional[Path], typer.Option(help="Write --model's transfers to PREFIX.0 and PREFIX.1.")] = None,
    table: Annotated[Optional[Path], typer.Option(help="Also write the markdown table here, and its figures to TABLE.json.")] = None,
    by_direction: Annotated[Optional[bool], typer.Option("--by-direction", help="Add a table that scores each direction alone.")] = None,
    device: Device = None,
):
    """Transfer accuracy (style classifier), self-BLEU, ref-BLEU and perplexity, one row per system."""
    from multistyle.text.evaluate import evaluate as score
    from multistyle.text.evaluate import write_results
    from multistyle.text.evaluator import SHIPPED_EVALUATOR
    from multistyle.text.transfer import model_folder

    model = model_folder(model) if model is not None else None
    written = [Path(f"{save_outputs}.{i}") for i in (0, 1)] if save_outputs is not None else []
    written += [table, Path(f"{table}.json")] if table is not None else []
    evaluator = evaluator or SHIPPED_EVALUATOR
    guard(written, [evaluator, *(model and [model] or [])], read_folders=[data])
    cfg = load_config(EvaluationConfig, config, sets(set_), peers=peers, beam=beam, strength=strength,
                      select=on_off(select, "--select"), by_direction=by_direction, device=device)
    rows, markdown = score(data, evaluator, model_dir=model, output_prefixes=outputs or [], peers=cfg.peers, beam=cfg.beam,
                           strength=cfg.strength, select=cfg.select, save_outputs=save_outputs, by_direction=cfg.by_direction, device=cfg.device)
    typer.echo(markdown, nl=False)
    if table is not None:
        write_results(table, rows, markdown)
        typer.echo(f"wrote {table} and {table}.json")


@app.command("calibrate")
def calibrate(
    model: Annotated[Path, typer.Option(help="Trained model folder; calibration.json is written into it.")],
    data: Annotated[Path, typer.Option(help="Shen-format folder whose dev split is swept.")],
    evaluator: Annotated[Optional[Path], typer.Option(help="Evaluator folder from `text train-evaluator` (default: the shipped Yelp evaluator).")] = None,
    config: ConfigFile = None,
    set_: Sets = None,
    accuracy: Annotated[Optional[float], typer.Option(help=default(CC, "accuracy", "Dev transfer accuracy (%) the chosen strength must reach."))] = None,
    step: Annotated[Optional[float], typer.Option(help=default(CC, "step", "Strengths tried: 0, step, 2 step, ..."))] = None,
    max_strength: Annotated[Optional[float], typer.Option(help=default(CC, "max_strength", "Largest strength tried."))] = None,
    beam: Annotated[Optional[int], typer.Option(help=default(CC, "beam", "Beam width used in the sweep."))] = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Choose a model's default style strength: the smallest reaching --accuracy on the dev split."""
    from multistyle.text.bundle import CALIBRATION
    from multistyle.text.calibrate import calibrate as sweep
    from multistyle.text.calibrate import sweep_table
    from multistyle.text.evaluator import SHIPPED_EVALUATOR

    cfg = load_config(CalibrationConfig, config, sets(set_), accuracy=accuracy, step=step, max_strength=max_strength, beam=beam,
                      device=device)
    result = sweep(model, data, evaluator or SHIPPED_EVALUATOR, target_accuracy=cfg.accuracy, step=cfg.step, max_strength=cfg.max_strength,
                   beam=cfg.beam, device=cfg.device, show_progress=not quiet)
    typer.echo(sweep_table(result), nl=False)
    typer.echo(f"strength {result['strength']:g}: dev accuracy {result['dev']['accuracy']:.1f} %, self-BLEU {result['dev']['self_bleu']:.1f}; "
               f"wrote {model / CALIBRATION}")


@app.command("toy-corpus")
def toy_corpus(out: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the toy corpus to.")]):
    """Write a small templated corpus in Shen's format, for a quick end-to-end run without data."""
    from multistyle.text.toy import write_toy_corpus

    typer.echo(f"wrote {write_toy_corpus(out)}")
