"""The `multistyle` command: parses arguments and calls the modality APIs. No logic lives here."""
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle import UserError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Neural style transfer for images, text and audio.")
image_app = typer.Typer(no_args_is_help=True, help="Image style transfer: Gatys (optimisation) and AdaIN (feed-forward).")
text_app = typer.Typer(no_args_is_help=True, help="Text sentiment transfer: Shen et al.'s cross-aligned autoencoder.")
audio_app = typer.Typer(no_args_is_help=True, help="Audio style transfer: Grinstein et al.'s spectrogram Gram method.")
app.add_typer(image_app, name="image")
app.add_typer(text_app, name="text")
app.add_typer(audio_app, name="audio")


def parse_blend(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--style-blend must be comma-separated numbers such as 0.7,0.3, not {text!r}") from None


@image_app.command("gatys")
def image_gatys(
    images: Annotated[list[Path], typer.Argument(help="CONTENT then one or more STYLE images.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image (.png, .jpg, ...); a .json report is written beside it.")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config; flags override it.")] = None,
    size: Annotated[Optional[int], typer.Option(help="Long side of the output in pixels [default 512].")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Loss evaluations at the finest scale [default 500].")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="lbfgs or adam [default lbfgs].")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Learning rate [default 1.0 for lbfgs, 0.02 for adam].")] = None,
    content_weight: Annotated[Optional[float], typer.Option(help="[default 1]")] = None,
    style_weight: Annotated[Optional[float], typer.Option(help="[default 1e3]")] = None,
    tv_weight: Annotated[Optional[float], typer.Option(help="Total-variation weight [default 0].")] = None,
    init: Annotated[Optional[str], typer.Option(help="content or noise [default content].")] = None,
    style_blend: Annotated[Optional[str], typer.Option(help="Weights of the styles, e.g. 0.7,0.3.")] = None,
    preserve_color: Annotated[bool, typer.Option("--preserve-color", help="Keep the content's colours.")] = False,
    color_method: Annotated[str, typer.Option(help="luminance (stylise luminance only) or histogram (recolour the style).")] = "luminance",
    scales: Annotated[Optional[int], typer.Option(help="Coarse-to-fine levels [default 1].")] = None,
    pooling: Annotated[Optional[str], typer.Option(help="avg or max [default avg].")] = None,
    patience: Annotated[Optional[int], typer.Option(help="Stop after this many evaluations without 0.1% progress; 0 never.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed [default 0].")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto [default auto].")] = None,
    save_every: Annotated[int, typer.Option(help="Save a snapshot every N evaluations; 0 never.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Gatys et al. style transfer: optimise the image to match content and style features."""
    from multistyle.core.config import load_config
    from multistyle.image.gatys import GatysConfig, stylize_files

    if len(images) < 2:
        raise UserError("give a CONTENT image and at least one STYLE image")
    cfg = load_config(
        GatysConfig, config,
        size=size, steps=steps, optimizer=optimizer, lr=lr, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, init=init, style_blend=parse_blend(style_blend),
        preserve_color=color_method if preserve_color else None, scales=scales, pooling=pooling,
        patience=patience, seed=seed, device=device,
    )
    result = stylize_files(images[0], images[1:], output, cfg, save_every=save_every, show_progress=not quiet)
    terms = ", ".join(f"{k} {v:.4g}" for k, v in result.final_terms.items())
    typer.echo(f"wrote {output} ({result.iterations} evaluations, {result.seconds:.1f} s; {terms})")


@image_app.command("adain")
def image_adain(
    images: Annotated[list[Path], typer.Argument(help="CONTENT then one or more STYLE images; or a CONTENT folder and a STYLE folder (batch).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image, or output folder in batch mode.")],
    alpha: Annotated[float, typer.Option(help="Content-style trade-off: 0 = content, 1 = full style.")] = 1.0,
    style_blend: Annotated[Optional[str], typer.Option(help="Interpolation weights of the styles, summing to 1, e.g. 0.7,0.3.")] = None,
    preserve_color: Annotated[bool, typer.Option("--preserve-color", help="Recolour each style to the content's colours first.")] = False,
    mask: Annotated[Optional[list[Path]], typer.Option(help="One mask per style (white = that style's region); one mask for two styles.")] = None,
    size: Annotated[int, typer.Option(help="Long side of content and style images in pixels.")] = 512,
    decoder: Annotated[Optional[Path], typer.Option(help="Decoder weights (.safetensors) [default: the shipped one].")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or auto.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """AdaIN (Huang & Belongie): real-time arbitrary style transfer with a trained decoder."""
    from multistyle.image.adain import AdaINConfig, stylize_files, stylize_folders

    cfg = AdaINConfig(size=size, alpha=alpha, style_blend=parse_blend(style_blend), preserve_color=preserve_color,
                      decoder=str(decoder) if decoder else None, device=device)
    if len(images) == 2 and images[0].is_dir():
        grid = stylize_folders(images[0], images[1], output, cfg, show_progress=not quiet)
        typer.echo(f"wrote {output}/ (one image per pair) and {grid}")
        return
    if len(images) < 2:
        raise UserError("give a CONTENT image and at least one STYLE image (or two folders)")
    seconds = stylize_files(images[0], images[1:], output, cfg, mask_paths=mask)
    typer.echo(f"wrote {output} ({seconds:.2f} s)")


@image_app.command("train-adain")
def image_train_adain(
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoint/, decoder.safetensors, log.jsonl, loss.png.")],
    content_dir: Annotated[Optional[list[Path]], typer.Option(help="Folder of content photos (repeatable).")] = None,
    style_dir: Annotated[Optional[list[Path]], typer.Option(help="Folder of style images (repeatable).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="TOML config, e.g. configs/image/adain.toml.")] = None,
    iterations: Annotated[Optional[int], typer.Option(help="Total iterations (including resumed ones).")] = None,
    batch_size: Annotated[Optional[int], typer.Option()] = None,
    crop: Annotated[Optional[int], typer.Option(help="Training crop size in pixels.")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option()] = None,
    workers: Annotated[Optional[int], typer.Option(help="Data-loading processes.")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto.")] = None,
    bf16: Annotated[Optional[bool], typer.Option("--bf16/--fp32", help="bfloat16 autocast on CUDA.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop this run after this many minutes, checkpointed (0: no limit).")] = None,
    init_decoder: Annotated[Optional[Path], typer.Option(help="Start from these decoder weights (e.g. the shipped one), fresh optimiser.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the crops and batches (use a new one after --init-decoder).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Train the AdaIN decoder (multi-GPU: torchrun --nproc_per_node N -m multistyle image train-adain ...)."""
    from multistyle.core.config import load_config
    from multistyle.image.train_adain import AdaINTrainConfig, train

    cfg = load_config(
        AdaINTrainConfig, config,
        content_dirs=tuple(map(str, content_dir)) if content_dir else None,
        style_dirs=tuple(map(str, style_dir)) if style_dir else None,
        iterations=iterations, batch_size=batch_size, crop=crop, checkpoint_every=checkpoint_every,
        workers=workers, device=device, bf16=bf16, max_minutes=max_minutes,
        init_decoder=str(init_decoder) if init_decoder else None, seed=seed,
    )
    summary = train(cfg, out, resume=resume, show_progress=not quiet)
    typer.echo(f"wrote {out}/decoder.safetensors ({summary['iterations']} iterations; losses {summary['final_losses']})")


@image_app.command("grid")
def image_grid(
    images: Annotated[list[Path], typer.Argument(help="Images, row by row.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image.")],
    columns: Annotated[int, typer.Option(help="Images per row.")] = 3,
    height: Annotated[int, typer.Option(help="Height of each image in pixels.")] = 256,
):
    """Lay images out in a grid (for figures and comparisons)."""
    from multistyle.image.io import image_grid as make_grid, load_image, save_image

    if columns < 1 or height < 8:
        raise UserError("--columns must be at least 1 and --height at least 8")
    save_image(make_grid([load_image(p) for p in images], columns, height), output)
    typer.echo(f"wrote {output}")


# --- text commands (multistyle text ...) ---
@text_app.command("train")
def text_train(
    data: Annotated[Path, typer.Option(help="Shen-format folder: sentiment.{train,dev,test}.{0,1}.")],
    out: Annotated[Path, typer.Option(help="Run folder: model, vocab, config, figures, log.jsonl, checkpoint/.")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config (configs/text/); flags override it.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in OUT from its checkpoint.")] = False,
    evaluator: Annotated[Optional[Path], typer.Option(help="Evaluator folder (text train-evaluator): adds dev transfer accuracy and picks the best model by it.")] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Passes over the training split (default 20).")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many steps in all; 0 none (default 0).")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help="Steps between checkpoints (default 1000).")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop this run after this many minutes: dev evaluation, checkpoint (0: no limit).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default 0).")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Train Shen et al.'s cross-aligned autoencoder; Ctrl-C saves a checkpoint that --resume continues."""
    from multistyle.text.evaluator import load_evaluator
    from multistyle.text.train import run_config, train

    cfg = run_config(out, config, resume, epochs=epochs, max_steps=max_steps, checkpoint_every=checkpoint_every,
                     max_minutes=max_minutes, seed=seed, device=device)
    classifier = load_evaluator(evaluator).classifier if evaluator is not None else None
    figures = train(data, out, cfg, resume=resume, classifier=classifier, show_progress=not quiet)
    best = figures["best"] or {}
    typer.echo(f"wrote {out} ({figures['steps']} steps, {figures['seconds']:.0f} s on {figures['machine']}; "
               f"best dev: epoch {best.get('epoch')}, {best.get('dev')})")


@text_app.command("train-evaluator")
def text_train_evaluator(
    data: Annotated[Path, typer.Option(help="Shen-format folder; the models learn from its train split.")],
    out: Annotated[Path, typer.Option(help="Evaluator folder: vocab, classifier, language model, evaluator.json.")],
    config: Annotated[Optional[Path], typer.Option(help="TOML config (configs/text/evaluator.toml); flags override it.")] = None,
    classifier_epochs: Annotated[Optional[int], typer.Option(help="Passes over the training split (default 2).")] = None,
    lm_epochs: Annotated[Optional[int], typer.Option(help="0 skips the language model (no perplexity) (default 1).")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="At most this many steps per model; 0 none.")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Train the TextCNN style classifier and the GPT-2 language model that `text evaluate` scores with."""
    from multistyle.core.config import load_config
    from multistyle.text.config import EvaluatorConfig
    from multistyle.text.evaluator import train_evaluator

    cfg = load_config(EvaluatorConfig, config, classifier_epochs=classifier_epochs, lm_epochs=lm_epochs, max_steps=max_steps, device=device)
    figures = train_evaluator(data, out, cfg, show_progress=not quiet)
    typer.echo(f"wrote {out}: classifier accuracy on the test originals {figures['classifier_test_accuracy']:.1f} %"
               + (f", LM dev perplexity {figures['lm_dev_perplexity']:.1f}" if "lm_dev_perplexity" in figures else ""))


@text_app.command("transfer")
def text_transfer(
    to: Annotated[str, typer.Option(help="positive, negative, or flip (each sentence to the style it lacks).")],
    texts: Annotated[Optional[list[str]], typer.Argument(help="Sentences to rewrite (or --input FILE).")] = None,
    model: Annotated[Optional[Path], typer.Option(help="Trained model folder (default the shipped model).")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help="UTF-8 file, one sentence a line.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", help="Write here, one sentence a line, instead of printing.")] = None,
    beam: Annotated[int, typer.Option(help="Beam width; 1 is greedy decoding.")] = 1,
    strength: Annotated[Optional[float], typer.Option(help="Style strength: 0 is the model as trained, higher flips more sentences and keeps fewer words (default: the model's calibrated one).")] = None,
    tokens: Annotated[bool, typer.Option("--tokens", help="Write space-separated corpus tokens, not detokenised text.")] = False,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")] = None,
):
    """Rewrite sentences into the other sentiment."""
    from multistyle.text.data import read_lines, write_lines
    from multistyle.text.transfer import transfer_lines

    if texts and input is not None:
        raise UserError("give TEXT arguments or --input FILE, not both")
    lines = read_lines(input) if input is not None else (texts or [])
    if not lines:
        raise UserError("nothing to transfer: give TEXT arguments or --input FILE")
    results = transfer_lines(lines, to, model_dir=model, beam=beam, strength=strength, keep_tokens=tokens, device=device, input_file=input)
    if output is not None:
        write_lines(output, results)
        typer.echo(f"wrote {output} ({len(results)} sentences)")
    else:
        for line in results:
            typer.echo(line)


@text_app.command("evaluate")
def text_evaluate(
    data: Annotated[Path, typer.Option(help="Shen-format folder whose test split (and reference.{0,1}) is scored against.")],
    evaluator: Annotated[Path, typer.Option(help="Evaluator folder from `text train-evaluator`.")],
    model: Annotated[Optional[Path], typer.Option(help="A trained model to transfer the test split with and score.")] = None,
    outputs: Annotated[Optional[list[Path]], typer.Option(help="PREFIX of PREFIX.0 (neg->pos) and PREFIX.1 (pos->neg); repeatable.")] = None,
    peers: Annotated[bool, typer.Option("--peers", help="Also score every system in DATA/peers.")] = False,
    beam: Annotated[int, typer.Option(help="Beam width for --model.")] = 1,
    strength: Annotated[Optional[float], typer.Option(help="Style strength for --model (default: its calibrated one).")] = None,
    save_outputs: Annotated[Optional[Path], typer.Option(help="Write --model's transfers to PREFIX.0 and PREFIX.1.")] = None,
    table: Annotated[Optional[Path], typer.Option(help="Also write the markdown table here, and its figures to TABLE.json.")] = None,
    by_direction: Annotated[bool, typer.Option("--by-direction", help="Add a table that scores each direction alone.")] = False,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")] = None,
):
    """Transfer accuracy (style classifier), self-BLEU, ref-BLEU and perplexity, one row per system."""
    from multistyle.text.evaluate import evaluate, write_results

    rows, markdown = evaluate(data, evaluator, model_dir=model, output_prefixes=outputs or [], peers=peers, beam=beam,
                              strength=strength, save_outputs=save_outputs, by_direction=by_direction, device=device)
    typer.echo(markdown, nl=False)
    if table is not None:
        write_results(table, rows, markdown)
        typer.echo(f"wrote {table} and {table}.json")


@text_app.command("calibrate")
def text_calibrate(
    model: Annotated[Path, typer.Option(help="Trained model folder; calibration.json is written into it.")],
    data: Annotated[Path, typer.Option(help="Shen-format folder whose dev split is swept.")],
    evaluator: Annotated[Path, typer.Option(help="Evaluator folder from `text train-evaluator`.")],
    accuracy: Annotated[float, typer.Option(help="Dev transfer accuracy (%) the chosen strength must reach.")] = 80.0,
    step: Annotated[float, typer.Option(help="Strengths tried: 0, step, 2 step, ...")] = 0.05,
    max_strength: Annotated[float, typer.Option(help="Largest strength tried.")] = 1.0,
    beam: Annotated[int, typer.Option(help="Beam width used in the sweep.")] = 1,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
):
    """Choose a model's default style strength: the smallest reaching --accuracy on the dev split."""
    from multistyle.text.bundle import CALIBRATION
    from multistyle.text.calibrate import calibrate, sweep_table

    result = calibrate(model, data, evaluator, target_accuracy=accuracy, step=step, max_strength=max_strength, beam=beam,
                       device=device, show_progress=not quiet)
    typer.echo(sweep_table(result), nl=False)
    typer.echo(f"strength {result['strength']:g}: dev accuracy {result['dev']['accuracy']:.1f} %, self-BLEU {result['dev']['self_bleu']:.1f}; "
               f"wrote {model / CALIBRATION}")


@text_app.command("toy-corpus")
def text_toy_corpus(out: Annotated[Path, typer.Argument(help="Folder to write the toy corpus to.")]):
    """Write a small templated corpus in Shen's format, for a quick end-to-end run without data."""
    from multistyle.text.toy import write_toy_corpus

    typer.echo(f"wrote {write_toy_corpus(out)}")



# --- audio commands (multistyle audio ...) ---
AudioOutput = Annotated[Path, typer.Option("-o", "--output", help="Output .wav; OUT.json (config, losses, timings) and OUT.png are written beside it.")]
AudioConfigFile = Annotated[Optional[Path], typer.Option("--config", help="TOML config (see configs/audio/grinstein.toml); flags override it.")]
AudioExtractor = Annotated[Optional[str], typer.Option(help="random, vgg or auditory (default random).")]
AudioSteps = Annotated[Optional[int], typer.Option(help="Loss evaluations (default: random 20, vgg 20, auditory 150).")]
AudioPlot = Annotated[Optional[Path], typer.Option(help="Spectrogram figure (.png) (default OUT.png).")]
AudioNFFT = Annotated[Optional[int], typer.Option("--n-fft", help="FFT size (default 2048).")]
AudioHop = Annotated[Optional[int], typer.Option(help="STFT hop in samples (default 512).")]
AudioRate = Annotated[Optional[int], typer.Option(help="Working sample rate in Hz (default 22050).")]
AudioGriffinLim = Annotated[Optional[int], typer.Option(help="Griffin-Lim iterations (default 50).")]
AudioSeed = Annotated[Optional[int], typer.Option(help="Random seed (default 0).")]
AudioDevice = Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default auto).")]
AudioFloat = Annotated[bool, typer.Option("--float-wav", help="Write 32-bit float WAV instead of 16-bit.")]
AudioQuiet = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]


@audio_app.command("transfer")
def audio_transfer(
    content: Annotated[Path, typer.Argument(help="Content clip (wav, flac, ogg, mp3, ...).")],
    style: Annotated[Path, typer.Argument(help="Style clip.")],
    output: AudioOutput,
    extractor: AudioExtractor = None,
    steps: AudioSteps = None,
    plot: AudioPlot = None,
    content_weight: Annotated[Optional[float], typer.Option(help="Ulyanov & Lebedev's content term; 0 is Grinstein et al.'s style-only loss (default 0).")] = None,
    style_weight: Annotated[Optional[float], typer.Option(help="(default 1)")] = None,
    init: Annotated[Optional[str], typer.Option(help="content or noise (default content).")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="lbfgs or adam (default lbfgs).")] = None,
    n_fft: AudioNFFT = None,
    hop: AudioHop = None,
    sample_rate: AudioRate = None,
    griffin_lim_iters: AudioGriffinLim = None,
    griffin_lim_phase: Annotated[Optional[str], typer.Option(help="auto (the content's phase) or random (default auto).")] = None,
    seed: AudioSeed = None,
    device: AudioDevice = None,
    float_wav: AudioFloat = False,
    config: AudioConfigFile = None,
    quiet: AudioQuiet = False,
):
    """Grinstein et al.: start from the CONTENT's spectrogram and match the STYLE's feature statistics."""
    from multistyle.audio.config import GrinsteinConfig
    from multistyle.audio.transfer import transfer_files
    from multistyle.core.config import load_config

    cfg = load_config(
        GrinsteinConfig, config,
        extractor=extractor, steps=steps, content_weight=content_weight, style_weight=style_weight, init=init,
        optimizer=optimizer, n_fft=n_fft, hop=hop, sample_rate=sample_rate, griffin_lim_iters=griffin_lim_iters,
        griffin_lim_phase=griffin_lim_phase, seed=seed, device=device, wav_format="float" if float_wav else None,
    )
    result = transfer_files(content, style, output, cfg, plot_path=plot, show_progress=not quiet)
    typer.echo(f"wrote {output} with its .json report and spectrogram plot ({result.summary()})")


@audio_app.command("texture")
def audio_texture(
    style: Annotated[Path, typer.Argument(help="Style clip (wav, flac, ogg, mp3, ...).")],
    output: AudioOutput,
    seconds: Annotated[Optional[float], typer.Option(help="Length of the texture (default: the style clip's).")] = None,
    extractor: Annotated[Optional[str], typer.Option(help="random, vgg or auditory (default auditory).")] = None,
    steps: AudioSteps = None,
    plot: AudioPlot = None,
    n_fft: AudioNFFT = None,
    hop: AudioHop = None,
    sample_rate: AudioRate = None,
    griffin_lim_iters: AudioGriffinLim = None,
    seed: AudioSeed = None,
    device: AudioDevice = None,
    float_wav: AudioFloat = False,
    config: AudioConfigFile = None,
    quiet: AudioQuiet = False,
):
    """Synthesise a sound texture with the STYLE's statistics, from noise."""
    from multistyle.audio.config import TextureConfig
    from multistyle.audio.transfer import texture_files
    from multistyle.core.config import load_config

    cfg = load_config(
        TextureConfig, config,
        extractor=extractor, steps=steps, n_fft=n_fft, hop=hop, sample_rate=sample_rate,
        griffin_lim_iters=griffin_lim_iters, seed=seed, device=device, wav_format="float" if float_wav else None,
    )
    result = texture_files(style, output, cfg, seconds=seconds, plot_path=plot, show_progress=not quiet)
    typer.echo(f"wrote {output} with its .json report and spectrogram plot ({result.summary()})")


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo outputs.")] = Path("demo_out"),
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
):
    """Every modality on built-in samples: no network, no ../shared data, minutes on a laptop CPU."""
    from multistyle.demo import run_demo

    for line in run_demo(out, show_progress=not quiet):
        typer.echo(line)


def main() -> None:
    try:
        app()
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        typer.echo("error: out of memory; try a smaller --size", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
