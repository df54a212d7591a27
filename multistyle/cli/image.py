"""`multistyle image ...`: Gatys, AdaIN, decoder training and grids."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from multistyle.cli.common import (
    BatchResume,
    BatchWorkers,
    ConfigFile,
    Quiet,
    Sets,
    config_option,
    default,
    folder_batch,
    guard,
    parse_blend,
    report_terms,
    sets,
)
from multistyle.cli.defaults import constant, field_default
from multistyle.errors import InputError
from multistyle.samples import paintings, resolve_style

app = typer.Typer(no_args_is_help=True, help="Image style transfer: optimisation (gatys, texture, photoreal, doodle), AdaIN for any painting (adain), per-style networks (fast, onnx), and their training.")
# The config classes by name, their defaults read from source (multistyle.cli.defaults): importing their modules
# (torch) would cost seconds before any help page or usage error; each command imports what it runs.
G, A, T, F, FT = ("multistyle.image.gatys:GatysConfig", "multistyle.image.adain:AdaINConfig",
                  "multistyle.image.train_adain:AdaINTrainConfig", "multistyle.image.fast:FastStyleConfig",
                  "multistyle.image.train_fast:FastTrainConfig")
DEFAULT_LR = constant("multistyle.core.optimize", "DEFAULT_LR")
DEFAULT_STYLE_WEIGHTS = constant("multistyle.image.gatys", "DEFAULT_STYLE_WEIGHTS")
SIZE_HELP = constant("multistyle.image.io", "SIZE_HELP")
PAINTINGS = ", ".join(paintings())  # the bundled public-domain paintings' names (multistyle.samples, no torch)
MAP_WEIGHT = constant("multistyle.image.semantic", "MAP_WEIGHT")
P = "multistyle.image.photoreal:PhotorealConfig"
Device = Annotated[Optional[str], typer.Option(help="cpu, cuda or auto (default: auto).")]
Precision = Annotated[Optional[str], typer.Option(help=default(G, "precision", "Network precision: fp32, bf16, or auto (bf16 on CPUs with AMX or AVX-512-BF16, 1.6-2.7x as fast; else fp32)."))]
# --config's example: a packaged config of the command's own settings (image/adain is train-adain's, not adain's).
GatysConfigFile, AdaINTrainConfigFile, FastTrainConfigFile = (config_option("image/gatys"), config_option("image/adain"),
                                                              config_option("image/fast_cpu"))
PhotorealConfigFile = config_option("image/photoreal")


@app.command("gatys")
def gatys(
    images: Annotated[list[Path], typer.Argument(help="CONTENT then one or more STYLE images (a file, or a bundled painting's name: " + PAINTINGS + ").")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image (.png, .jpg, ...); a .json report is written beside it.")],
    config: GatysConfigFile = None,
    set_: Sets = None,
    size: Annotated[Optional[int], typer.Option(help=SIZE_HELP)] = None,
    steps: Annotated[Optional[int], typer.Option(help=default(G, "steps", "Loss evaluations at the finest scale."))] = None,
    optimizer: Annotated[Optional[str], typer.Option(help=default(G, "optimizer", "lbfgs or adam."))] = None,
    lr: Annotated[Optional[float], typer.Option(help=f"Learning rate (default: {', '.join(f'{v} for {k}' for k, v in DEFAULT_LR.items())}).")] = None,
    content_weight: Annotated[Optional[float], typer.Option(help=default(G, "content_weight"))] = None,
    style_weight: Annotated[Optional[float], typer.Option(help="Higher gives more style (default: "
                                                          f"{', '.join(f'{v:g} for {k}' for k, v in DEFAULT_STYLE_WEIGHTS.items())}).")] = None,
    tv_weight: Annotated[Optional[float], typer.Option(help=default(G, "tv_weight", "Total-variation weight."))] = None,
    init: Annotated[Optional[str], typer.Option(help=default(G, "init", "content, noise, or an image file to start from."))] = None,
    style_loss: Annotated[Optional[str], typer.Option(help=default(G, "style_loss", "gram (Gatys), mrf (Li & Wand's patches) or meanstd."))] = None,
    style_scale: Annotated[Optional[float], typer.Option(help=default(G, "style_scale", "Style image size relative to the output (smaller: finer strokes)."))] = None,
    style_size: Annotated[Optional[int], typer.Option(help=default(G, "style_size", "Style images' long side in pixels, whatever the output's (--size); 0 uses --style-scale."))] = None,
    content_layers: Annotated[Optional[str], typer.Option(help="Comma-separated VGG-19 layers, equally weighted (default: relu4_2).")] = None,
    style_layers: Annotated[Optional[str], typer.Option(help="Comma-separated VGG-19 layers, equally weighted (default: relu1_1..relu5_1; relu3_1,relu4_1 for mrf).")] = None,
    quality: Annotated[int, typer.Option(help="JPEG/WebP quality of the output, 1-100.")] = 95,
    style_blend: Annotated[Optional[str], typer.Option(help="Weights of the styles, e.g. 0.7,0.3 (normalised; default: equal).")] = None,
    preserve_color: Annotated[bool, typer.Option("--preserve-color", help="Keep the content's colours.")] = False,
    color_method: Annotated[str, typer.Option(help="luminance (stylise luminance only) or histogram (recolour the style).")] = "luminance",
    scales: Annotated[Optional[int], typer.Option(help=default(G, "scales", "Coarse-to-fine levels."))] = None,
    pooling: Annotated[Optional[str], typer.Option(help=default(G, "pooling", "avg or max."))] = None,
    patience: Annotated[Optional[int], typer.Option(help=default(G, "patience", "Stop after this many evaluations without progress; 0 never."))] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(G, "seed"))] = None,
    device: Device = None,
    precision: Precision = None,
    save_every: Annotated[int, typer.Option(help="Save a snapshot every N evaluations; 0 never.")] = 0,
    content_map: Annotated[Optional[Path], typer.Option(help="Semantic map of the content: flat colours, one per region (Champandard 2016); with --style-map each region takes the style of the style's region of the same colour.")] = None,
    style_map: Annotated[Optional[Path], typer.Option(help="Semantic map of the (one) style image, in the colours of --content-map.")] = None,
    map_weight: Annotated[float, typer.Option(help="With maps and --style-loss mrf: weight of the region channels in the patch matching.")] = MAP_WEIGHT,
    quiet: Quiet = False,
):
    """Gatys et al. style transfer: optimise the image to match content and style features."""
    from multistyle.core.config import load_config
    from multistyle.image.gatys import Gatys, GatysConfig
    from multistyle.image.io import check_output_path, save_image

    if len(images) < 2:
        raise InputError("give a CONTENT image and at least one STYLE image")
    if (content_map is None) != (style_map is None):
        raise InputError("give both --content-map and --style-map, or neither")
    if content_map is not None and len(images) != 2:
        raise InputError("semantic maps take one STYLE image")
    maps = [m for m in (content_map, style_map) if m is not None]
    output = check_output_path(output)
    guard([output, output.with_suffix(".json"), output.with_name(f"{output.stem}_loss.png")], [*images, *maps])
    from multistyle.image.io import check_quality

    check_quality(quality)  # before the work, not when saving its result
    cfg = load_config(
        GatysConfig, config, sets(set_),
        size=size, steps=steps, optimizer=optimizer, lr=lr, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, init=init, style_blend=parse_blend(style_blend),
        preserve_color=color_method if preserve_color else None, scales=scales, pooling=pooling,
        patience=patience, seed=seed, device=device, precision=precision, style_loss=style_loss, style_scale=style_scale,
        style_size=style_size, **layer_options("content", content_layers), **layer_options("style", style_layers),
    )

    if save_every > 0:  # snapshots are outputs too: refuse, before any work, an input their names would replace
        import re

        named = re.compile(rf"{re.escape(output.stem)}_level\d+_\d{{5,}}{re.escape(output.suffix)}")
        for item in images:
            if Path(item).resolve().parent == output.resolve().parent and named.fullmatch(Path(item).name):
                raise InputError(f"{item}: --save-every would write a snapshot over this input; choose another -o name")

    def snapshot(level: int, step: int, image, terms) -> None:
        if step % save_every == 0:
            path = output.with_name(f"{output.stem}_level{level}_{step:05d}{output.suffix}")
            guard([path], images)
            save_image(image.clamp(0, 1).cpu(), path)

    if maps:
        from multistyle.image.semantic import semantic_gatys

        result = semantic_gatys(images[0], images[1], content_map, style_map, cfg, map_weight=map_weight, show_progress=not quiet)
        result.save(output, quality=quality, content=str(images[0]), styles=[str(images[1])], maps=[str(m) for m in maps])
        typer.echo(f"wrote {output} ({result.details['iterations']} evaluations, {result.details['regions']} regions, "
                   f"{result.seconds:.1f} s; {report_terms(result.losses)})")
        return
    result = Gatys(cfg, show_progress=not quiet)(images[0], images[1:], on_snapshot=snapshot if save_every > 0 else None)
    result.save(output, quality=quality, content=str(images[0]), styles=[str(p) for p in images[1:]])
    typer.echo(f"wrote {output} ({result.details['iterations']} evaluations, {result.seconds:.1f} s; {report_terms(result.losses)})")


def layer_options(kind: str, text: str | None) -> dict:
    """--content-layers / --style-layers: the layers, each weighted equally."""
    if text is None:
        return {}
    layers = tuple(name.strip() for name in text.split(",") if name.strip())
    if not layers:
        raise InputError(f"--{kind}-layers needs at least one layer name")
    return {f"{kind}_layers": layers, f"{kind}_layer_weights": tuple(1.0 / len(layers) for _ in layers)}


@app.command("texture")
def texture(
    style: Annotated[list[Path], typer.Argument(help="One or more STYLE (texture) images (files or bundled paintings' names).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image; a .json report and a loss curve beside it.")],
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT, or one number for a square.")] = "256",
    config: GatysConfigFile = None,
    set_: Sets = None,
    steps: Annotated[Optional[int], typer.Option(help=default(G, "steps", "Loss evaluations at the finest scale."))] = None,
    scales: Annotated[Optional[int], typer.Option(help=default(G, "scales", "Coarse-to-fine levels (2 or 3 help large textures)."))] = None,
    style_loss: Annotated[Optional[str], typer.Option(help=default(G, "style_loss", "gram, mrf or meanstd."))] = None,
    style_scale: Annotated[Optional[float], typer.Option(help=default(G, "style_scale", "Texture image size relative to the output."))] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(G, "seed"))] = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Gatys et al. (2015) texture synthesis: a new image with the STYLE's Gram statistics, grown from noise."""
    from multistyle.core.config import load_config
    from multistyle.image.gatys import Gatys, GatysConfig
    from multistyle.image.io import check_output_path

    try:
        width, height = (int(v) for v in (size.lower().split("x") if "x" in size.lower() else (size, size)))
    except ValueError:
        raise InputError(f"--size must be WIDTHxHEIGHT or one number, not {size!r}") from None
    output = check_output_path(output)
    guard([output, output.with_suffix(".json"), output.with_name(f"{output.stem}_loss.png")], style)
    cfg = load_config(GatysConfig, config, sets(set_), steps=steps, scales=scales, style_loss=style_loss, style_scale=style_scale,
                      seed=seed, device=device)
    result = Gatys(cfg, show_progress=not quiet).texture(style, (height, width))
    result.save(output, styles=[str(p) for p in style])
    typer.echo(f"wrote {output} ({result.details['iterations']} evaluations, {result.seconds:.1f} s; {report_terms(result.losses)})")


@app.command("doodle")
def doodle(
    style: Annotated[Path, typer.Argument(help="The STYLE image (a painting).")],
    style_map: Annotated[Path, typer.Argument(help="STYLE_MAP: the style's semantic map, flat colours, one per region.")],
    out_map: Annotated[Path, typer.Argument(help="OUT_MAP: the doodle, in the same colours: where each region goes; sets the output's size.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image; a .json report and a loss curve beside it.")],
    config: GatysConfigFile = None,
    set_: Sets = None,
    size: Annotated[Optional[int], typer.Option(help="Long side of the output in pixels (default: the map's own size, shrunk to 512 when larger; 0 keeps any size).")] = None,
    steps: Annotated[Optional[int], typer.Option(help=default(G, "steps", "Loss evaluations at the finest scale."))] = None,
    scales: Annotated[int, typer.Option(help="Coarse-to-fine levels.")] = 2,
    style_loss: Annotated[str, typer.Option(help="mrf (Champandard's region-matched patches) or gram (per-region Gram matrices).")] = "mrf",
    style_weight: Annotated[Optional[float], typer.Option(help=f"Higher gives more style (default: {DEFAULT_STYLE_WEIGHTS['mrf']:g} for mrf, {DEFAULT_STYLE_WEIGHTS['gram']:g} for gram).")] = None,
    map_weight: Annotated[float, typer.Option(help="Weight of the region channels in the patch matching.")] = MAP_WEIGHT,
    seed: Annotated[Optional[int], typer.Option(help=default(G, "seed"))] = None,
    device: Device = None,
    quiet: Quiet = False,
):
    """Neural doodles (Champandard 2016): paint a map, get a painting in the style, region by region, from noise."""
    from multistyle.core.config import load_config
    from multistyle.image.gatys import GatysConfig
    from multistyle.image.io import check_output_path
    from multistyle.image.semantic import semantic_gatys

    if style_loss not in ("mrf", "gram"):
        raise InputError(f"--style-loss must be mrf or gram, not {style_loss!r}")
    output = check_output_path(output)
    guard([output, output.with_suffix(".json"), output.with_name(f"{output.stem}_loss.png")], [style, style_map, out_map])
    cfg = load_config(GatysConfig, config, sets(set_), size=size, steps=steps, scales=scales, style_loss=style_loss,
                      style_weight=style_weight, seed=seed, device=device, init="noise")
    result = semantic_gatys(None, style, out_map, style_map, cfg, map_weight=map_weight, show_progress=not quiet)
    result.save(output, style=str(style), style_map=str(style_map), map=str(out_map))
    typer.echo(f"wrote {output} ({result.details['iterations']} evaluations, {result.details['regions']} regions, "
               f"{result.seconds:.1f} s; {report_terms(result.losses)})")


@app.command("photoreal")
def photoreal(
    content: Annotated[Path, typer.Argument(help="CONTENT: the photo to change.")],
    reference: Annotated[Path, typer.Argument(help="REFERENCE: the photo whose look (time of day, weather, colour grade) is transferred.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image; a .json report beside it (and a loss curve when it optimises).")],
    config: PhotorealConfigFile = None,
    set_: Sets = None,
    content_seg: Annotated[Optional[Path], typer.Option(help="Segmentation map of CONTENT (flat colours, one per region); with --style-seg, regions match regions of the same colour.")] = None,
    style_seg: Annotated[Optional[Path], typer.Option(help="Segmentation map of REFERENCE, in the colours of --content-seg.")] = None,
    size: Annotated[Optional[int], typer.Option(help="Long side of the output in pixels (default: the photo's own size, shrunk to 512 when larger; 0 keeps any size; Luan et al. used 700).")] = None,
    steps: Annotated[Optional[int], typer.Option(help=default(P, "steps", "L-BFGS evaluations of stage 2 with the photorealism term in the objective; 0: the fast path, stage 2 is the closed-form solve of --postprocess alone."))] = None,
    stage1: Annotated[Optional[str], typer.Option(help=default(P, "stage1", "Stage 1: gatys (the paper's optimisation, minutes) or adain (one pass of the AdaIN network per region, seconds)."))] = None,
    stage1_steps: Annotated[Optional[int], typer.Option(help=default(P, "stage1_steps", "Evaluations of stage 1 with --stage1 gatys (no photorealism term)."))] = None,
    style_weight: Annotated[Optional[float], typer.Option(help=default(P, "style_weight"))] = None,
    photo_weight: Annotated[Optional[float], typer.Option(help=default(P, "photo_weight", "Weight of the photorealism (Matting Laplacian) term."))] = None,
    postprocess: Annotated[Optional[float], typer.Option(help="Closed-form stage 2: pull the result toward a locally affine recolouring of CONTENT; smaller is stronger, 0 off (default: 1e-3 with --steps 0, else off).")] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(P, "seed"))] = None,
    device: Device = None,
    precision: Annotated[Optional[str], typer.Option(help=default(P, "precision", "Network precision: fp32, bf16, or auto."))] = None,
    quality: Annotated[int, typer.Option(help="JPEG/WebP quality of the output.")] = 95,
    quiet: Quiet = False,
):
    """Deep photo style transfer (Luan et al. 2017): a reference photo's look, kept photorealistic."""
    from multistyle.core.config import load_config
    from multistyle.image.io import check_output_path, check_quality
    from multistyle.image.photoreal import Photoreal, PhotorealConfig

    if (content_seg is None) != (style_seg is None):
        raise InputError("give both --content-seg and --style-seg, or neither")
    maps = [m for m in (content_seg, style_seg) if m is not None]
    output = check_output_path(output)
    guard([output, output.with_suffix(".json"), output.with_name(f"{output.stem}_loss.png")], [content, reference, *maps])
    check_quality(quality)
    cfg = load_config(PhotorealConfig, config, sets(set_), size=size, steps=steps, stage1=stage1, stage1_steps=stage1_steps,
                      style_weight=style_weight, photo_weight=photo_weight, postprocess=postprocess, seed=seed,
                      device=device, precision=precision)
    if stage1_steps is not None and cfg.stage1 != "gatys":
        raise InputError("--stage1-steps counts the evaluations of --stage1 gatys; the AdaIN stage 1 has none")
    result = Photoreal(cfg, show_progress=not quiet)(content, reference, content_seg=content_seg, style_seg=style_seg)
    result.save(output, quality=quality, content=str(content), reference=str(reference), maps=[str(m) for m in maps])
    stage = "AdaIN stage 1" if cfg.stage1 == "adain" and not cfg.steps else f"{result.details['iterations']} evaluations"
    terms = f"; {report_terms(result.losses)}" if result.losses else ""
    regions = result.details["regions"]
    typer.echo(f"wrote {output} ({stage}, {regions} region{'s' * (regions != 1)}, {result.seconds:.1f} s{terms})")


@app.command("adain")
def adain(
    images: Annotated[list[Path], typer.Argument(help="CONTENT then one or more STYLE images (a file, or a bundled painting's name: " + PAINTINGS + "); or a CONTENT folder and a STYLE folder (batch).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image, or output folder in batch mode.")],
    config: ConfigFile = None,
    set_: Sets = None,
    alpha: Annotated[Optional[float], typer.Option(help=default(A, "alpha", "Content-style trade-off: 0 = content, 1 = full style."))] = None,
    style_blend: Annotated[Optional[str], typer.Option(help="Interpolation weights of the styles, e.g. 0.7,0.3 (normalised; default: equal).")] = None,
    preserve_color: Annotated[Optional[bool], typer.Option("--preserve-color", help="Recolour each style to the content's colours first.")] = None,
    palette: Annotated[Optional[bool], typer.Option("--palette/--no-palette", help=default(A, "palette", "Give the content, then the output, the style's palette (RGB mean and covariance), in proportion to alpha."))] = None,
    degrid: Annotated[Optional[bool], typer.Option("--degrid/--no-degrid", help=default(A, "degrid", "Filter the decoder's faint 8-px grid out of the output."))] = None,
    mask: Annotated[Optional[list[Path]], typer.Option(help="One mask per style (white = that style's region); one mask for two styles.")] = None,
    size: Annotated[Optional[int], typer.Option(help=SIZE_HELP + " The styles are used at the output's long side.")] = None,
    decoder: Annotated[Optional[Path], typer.Option(help="Decoder weights, or a small model's (.safetensors), instead of the shipped model.")] = None,
    quality: Annotated[int, typer.Option(help="JPEG/WebP quality of the output, 1-100.")] = 95,
    device: Device = None,
    precision: Precision = None,
    resume: BatchResume = False,
    workers: BatchWorkers = None,
    quiet: Quiet = False,
):
    """AdaIN (Huang & Belongie): real-time arbitrary style transfer with a trained decoder."""
    from multistyle.core.config import load_config
    from multistyle.image.adain import AdaIN, AdaINConfig, stylize_folders
    from multistyle.image.io import check_output_path

    cfg = load_config(AdaINConfig, config, sets(set_), size=size, alpha=alpha, style_blend=parse_blend(style_blend),
                      preserve_color=preserve_color, palette=palette, degrid=degrid, decoder=str(decoder) if decoder else None,
                      device=device, precision=precision)
    if len(images) == 2 and images[0].is_dir():
        styles = Path(resolve_style(images[1]))  # a folder of styles, or one style file or painting's name for all
        if not styles.exists():
            raise InputError(f"{styles}: not found (give a folder of styles, a style image or a painting's name)")
        guard([output], [styles] if styles.is_file() else [], read_folders=[images[0]] + ([styles] if styles.is_dir() else []),
              folder=True)
        cfg.validate(1)
        summary, grid = stylize_folders(AdaIN.from_pretrained(cfg), images[0], styles, output, show_progress=not quiet,
                                        resume=resume, workers=workers)
        typer.echo(summary.describe(output) + (f"; and {grid}" if grid else ""))
        return
    if resume or workers is not None:
        raise InputError(f"{'--resume' if resume else '--workers'} is for a folder batch; give a CONTENT folder and a STYLE folder")
    if len(images) < 2:
        raise InputError("give a CONTENT image and at least one STYLE image (or two folders)")
    output = check_output_path(output)
    guard([output, output.with_suffix(".json")], [*images, *(mask or [])])
    from multistyle.image.io import check_quality

    check_quality(quality)
    cfg.validate(len(images) - 1, len(mask or []))
    result = AdaIN.from_pretrained(cfg)(images[0], images[1:], masks=mask)
    result.save(output, quality=quality, content=str(images[0]), styles=[str(p) for p in images[1:]], masks=[str(p) for p in mask or []])
    typer.echo(f"wrote {output} ({result.seconds:.2f} s)")


def bf16_for(precision: str | None, device: str | None) -> bool | None:
    """train-adain's --precision as its config's bf16 switch (None: the config's own)."""
    if precision is None:
        return None
    import torch

    from multistyle.core.runtime import compute_dtype, select_device

    return compute_dtype(precision, select_device(device), training=True) == torch.bfloat16


@app.command("train-adain")
def train_adain(
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoint/, decoder.safetensors, log.jsonl, loss.png.")],
    config: AdaINTrainConfigFile = None,
    set_: Sets = None,
    content_dir: Annotated[Optional[list[Path]], typer.Option(help="Folder of content photos (repeatable).")] = None,
    style_dir: Annotated[Optional[list[Path]], typer.Option(help="Folder of style images (repeatable).")] = None,
    iterations: Annotated[Optional[int], typer.Option(help=default(T, "iterations", "Total iterations (including resumed ones)."))] = None,
    batch_size: Annotated[Optional[int], typer.Option(help=default(T, "batch_size"))] = None,
    crop: Annotated[Optional[int], typer.Option(help=default(T, "crop", "Training crop size in pixels."))] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(help=default(T, "checkpoint_every"))] = None,
    workers: Annotated[Optional[int], typer.Option(help=default(T, "workers", "Data-loading processes."))] = None,
    device: Device = None,
    precision: Annotated[Optional[str], typer.Option(help="fp32, bf16 (autocast: CUDA, or a CPU with AMX, 2.4x faster there) or auto (bf16 where it runs natively) (default: fp32; the config's bf16 key).")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop this run after this many minutes, checkpointed (default: 0, no limit).")] = None,
    init_decoder: Annotated[Optional[Path], typer.Option(help="Start from these decoder weights (e.g. the shipped one), fresh optimiser.")] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(T, "seed", "Seed of the crops and batches (use a new one after --init-decoder)."))] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue OUT's run with its own config (only the schedule may change).")] = False,
    quiet: Quiet = False,
):
    """Train the AdaIN decoder (multi-GPU: torchrun --nproc_per_node N -m multistyle image train-adain ...)."""
    from multistyle.core.run import run_config
    from multistyle.image.train_adain import RESUMABLE, AdaINTrainConfig, train

    cfg = run_config(
        AdaINTrainConfig, out, resume, RESUMABLE, config, sets(set_),
        content_dirs=tuple(map(str, content_dir)) if content_dir else None,
        style_dirs=tuple(map(str, style_dir)) if style_dir else None,
        iterations=iterations, batch_size=batch_size, crop=crop, checkpoint_every=checkpoint_every,
        workers=workers, device=device, bf16=bf16_for(precision, device), max_minutes=max_minutes,
        init_decoder=str(init_decoder) if init_decoder else None, seed=seed,
    )
    guard([out], read_folders=[Path(d) for d in cfg.content_dirs + cfg.style_dirs], folder=True)
    summary = train(cfg, out, resume=resume, show_progress=not quiet)
    typer.echo(f"wrote {out}/decoder.safetensors ({summary['iterations']} iterations; losses {report_terms(summary['final_losses'])})")


@app.command("fast")
def fast(
    content: Annotated[Path, typer.Argument(help="Content image, or a folder of them (batch).")],
    style: Annotated[str, typer.Option("--style", help="A shipped style's name (multistyle image styles) or a .safetensors file from train-fast.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image, or output folder in batch mode.")],
    config: ConfigFile = None,
    set_: Sets = None,
    alpha: Annotated[Optional[float], typer.Option(help=default(F, "alpha", "Content-style trade-off: 0 = content, 1 = full style (the network's output)."))] = None,
    preserve_color: Annotated[Optional[bool], typer.Option("--preserve-color", help="Keep the content's colours.")] = None,
    palette: Annotated[Optional[bool], typer.Option("--palette/--no-palette", help=default(F, "palette", "Recolour the output to the style's palette (kept with the model)."))] = None,
    degrid: Annotated[Optional[bool], typer.Option("--degrid/--no-degrid", help=default(F, "degrid", "Filter the faint 8-px grid out of the output."))] = None,
    size: Annotated[Optional[int], typer.Option(help=SIZE_HELP)] = None,
    device: Device = None,
    precision: Precision = None,
    resume: BatchResume = False,
    workers: BatchWorkers = None,
    engine: Annotated[str, typer.Option(help="auto, torch or onnx. onnx: the style's shipped ONNX export through onnxruntime (the onnx extra), without torch's start-up; auto: onnx for one photo when the style ships exported, onnxruntime is installed and no option only torch takes is given (--config, --set, --preserve-color, --device, --precision), else torch.")] = "auto",
    quiet: Quiet = False,
):
    """A per-style feed-forward network (Johnson et al. 2016): one pass per photo."""
    torch_only = {"--config": config, "--set": set_, "--preserve-color": preserve_color, "--device": device,
                  "--precision": precision, "--workers": workers}
    export = _onnx_export(engine, style, content, {k: v for k, v in torch_only.items() if v is not None})
    if export is not None:
        given = {"alpha": alpha, "palette": palette, "degrid": degrid, "size": size}
        settings = {name: field_default(F, name) if value is None else value for name, value in given.items()}
        run_onnx(export, [content], output, **settings, resume=resume, quiet=quiet)
        return
    from multistyle.core.config import config_dict, load_config
    from multistyle.core.paths import list_images
    from multistyle.core.runtime import batch_workers, one_thread
    from multistyle.image.fast import FastStyle, FastStyleConfig
    from multistyle.image.io import IMAGE_SUFFIXES, check_output_path

    cfg = load_config(FastStyleConfig, config, sets(set_), alpha=alpha, preserve_color=preserve_color, palette=palette,
                      degrid=degrid, size=size, device=device, precision=precision)
    cfg.validate()
    if content.is_dir():
        guard([output], read_folders=[content], folder=True)
        photos = list_images(content, IMAGE_SUFFIXES)
        model = FastStyle.from_pretrained(style, cfg)
        folder_batch([(photo.name, output / f"{photo.stem}.png", (photo,)) for photo in photos], output,
                     lambda photo, out: model(photo).save(out, report=False),
                     {"command": "image fast", "style": style, "config": config_dict(cfg)}, resume, f"fast {style}", quiet,
                     batch_workers(workers, model.device), one_thread)
        return
    if resume or workers is not None:
        raise InputError(f"{'--resume' if resume else '--workers'} is for a folder batch; CONTENT is one image")
    model = FastStyle.from_pretrained(style, cfg)
    output = check_output_path(output)
    guard([output, output.with_suffix(".json")], [content])
    result = model(content)
    result.save(output, content=str(content), style=style)
    typer.echo(f"wrote {output} ({result.seconds:.2f} s)")


def _onnx_export(engine: str, style: str, content: Path, torch_only: dict) -> Optional[Path]:
    """The shipped ONNX export `image fast` runs (see its --engine help), or None for torch."""
    import importlib.util

    from multistyle.image.onnx_runtime import shipped_export, shipped_exports

    if engine not in ("auto", "torch", "onnx"):
        raise InputError(f"--engine must be auto, torch or onnx, not {engine!r}")
    exported = shipped_export(style)
    if engine == "onnx":
        if exported is None:
            raise InputError(f"--engine onnx: {style!r} ships no ONNX export (shipped: {', '.join(shipped_exports()) or 'none'}); "
                             f"make one with `multistyle export fast {style} -o {Path(style).stem}.onnx` and run `multistyle image onnx`")
        if torch_only:
            raise InputError(f"--engine onnx does not take {', '.join(torch_only)}")
        return exported
    auto = engine == "auto" and not torch_only and not content.is_dir() and importlib.util.find_spec("onnxruntime") is not None
    return exported if auto else None


@app.command("styles")
def styles(
    sheet: Annotated[Optional[Path], typer.Option(help="Also write a labelled sheet: each network's painting (where it ships) beside a photo in its style.")] = None,
):
    """List the per-style networks that ship with multistyle."""
    from multistyle.image.fast import model_info, shipped_styles
    from multistyle.image.io import check_output_path

    if sheet is not None:
        sheet = check_output_path(sheet)
        guard([sheet])  # before anything is printed
    found = shipped_styles()
    if not found:
        typer.echo("no per-style networks ship with this install; train one with `multistyle image train-fast`")
        return
    for name, path in found.items():
        info = model_info(path)
        typer.echo(f"{name}: {info.get('iterations')} iterations at {info.get('crop')} px, {info.get('seconds', 0) / 3600:.1f} h on {info.get('machine')}")
    if sheet is not None:
        from multistyle import samples
        from multistyle.image.figure import styles_sheet
        from multistyle.image.io import save_image

        # the photo at 512 px: smaller photos come out as mostly the painting's strokes (the networks learned on 128-256 px)
        save_image(styles_sheet(list(found), samples.photo(), size=512), sheet)
        typer.echo(f"wrote {sheet}")


@app.command("train-fast")
def train_fast(
    style: Annotated[Optional[Path], typer.Argument(help="The style (or texture) image to train for.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Run folder: model.safetensors + model.json, checkpoint/, log.jsonl, loss.png.")] = Path("out/fast"),
    config: FastTrainConfigFile = None,
    set_: Sets = None,
    content_dir: Annotated[Optional[list[Path]], typer.Option(help="Folder of content photos (repeatable).")] = None,
    iterations: Annotated[Optional[int], typer.Option(help=default(FT, "iterations", "Total iterations (including resumed ones)."))] = None,
    batch_size: Annotated[Optional[int], typer.Option(help=default(FT, "batch_size"))] = None,
    crop: Annotated[Optional[int], typer.Option(help=default(FT, "crop", "Training crop size in pixels."))] = None,
    texture: Annotated[Optional[bool], typer.Option("--texture", help="Ulyanov et al.'s texture network: noise in, no content term.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop this run after this many minutes, checkpointed (default: 0, no limit).")] = None,
    init_weights: Annotated[Optional[Path], typer.Option(help="Continue a trained network (e.g. a shipped style's .safetensors) in a new run: its iterations count on.")] = None,
    seed: Annotated[Optional[int], typer.Option(help=default(FT, "seed", "Seed of the network's initial weights, the crops and the batches."))] = None,
    device: Device = None,
    precision: Annotated[Optional[str], typer.Option(help=default(FT, "precision", "The loss network's precision: fp32, bf16, or auto (bf16 on CPUs with AMX; the trained network stays fp32)."))] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue OUT's run with its own config (only the schedule may change).")] = False,
    quiet: Quiet = False,
):
    """Train a per-style network (Johnson et al. 2016 with instance norm) for one STYLE image."""
    from multistyle.core.run import run_config
    from multistyle.image.train_fast import RESUMABLE, FastTrainConfig, train

    cfg = run_config(FastTrainConfig, out, resume, RESUMABLE, config, sets(set_), style=str(style) if style else None,
                     content_dirs=tuple(map(str, content_dir)) if content_dir else None, iterations=iterations,
                     batch_size=batch_size, crop=crop, texture=texture, max_minutes=max_minutes,
                     init_weights=str(init_weights) if init_weights else None, seed=seed, device=device, precision=precision)
    cfg.validate()
    from multistyle.samples import resolve_style

    style_file = resolve_style(cfg.style)  # a bundled painting's name becomes its file
    for needed in (style_file, cfg.init_weights):  # before guard makes the run folder
        if needed and not Path(needed).is_file():
            raise InputError(f"{needed}: file not found")
    guard([out], [Path(style_file), *([Path(cfg.init_weights)] if cfg.init_weights else [])],
          read_folders=[Path(d) for d in cfg.content_dirs], folder=True)
    figures = train(cfg, out, resume=resume, show_progress=not quiet)
    typer.echo(f"wrote {out}/model.safetensors ({figures['iterations']} iterations, {figures['seconds']:.0f} s; "
               f"losses {report_terms(figures['final_losses'] or {})})")


@app.command("grid")
def grid(
    images: Annotated[list[Path], typer.Argument(help="Images, row by row.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image.")],
    columns: Annotated[int, typer.Option(help="Images per row.")] = 3,
    height: Annotated[int, typer.Option(help="Height of each image in pixels.")] = 256,
):
    """Lay images out in a grid (for figures and comparisons)."""
    from multistyle.image.io import check_output_path, image_grid, load_image, save_image

    if columns < 1 or height < 8:
        raise InputError("--columns must be at least 1 and --height at least 8")
    guard([check_output_path(output)], images)
    save_image(image_grid([load_image(p) for p in images], columns, height), output)
    typer.echo(f"wrote {output}")


@app.command("onnx")
def onnx(
    model: Annotated[Path, typer.Argument(help="An exported model: a folder from `multistyle export adain`, an .onnx file from `multistyle export fast`, or a shipped export's name (wave_small).")],
    images: Annotated[list[Path], typer.Argument(help="CONTENT (an image, or a folder of them: batch), then for AdaIN a STYLE image (a file, or a bundled painting's name: " + PAINTINGS + ").")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image (.png, .jpg, ...) with a .json report beside it; in batch mode a folder (PNGs and onnx.json, with images/s).")],
    alpha: Annotated[float, typer.Option(help="Content-style trade-off: 0 = content, 1 = full style (AdaIN or a per-style network).")] = 1.0,
    palette: Annotated[bool, typer.Option("--palette/--no-palette", help="Recolour to the style's palette, as the torch path does.")] = True,
    degrid: Annotated[bool, typer.Option("--degrid/--no-degrid", help="Filter the faint 8-px grid out of the output.")] = True,
    size: Annotated[Optional[int], typer.Option(help=SIZE_HELP)] = None,
    threads: Annotated[int, typer.Option(help="onnxruntime's intra-op threads; 0 = one per physical core.")] = 0,
    quality: Annotated[int, typer.Option(help="JPEG/WebP quality of the output, 1-100.")] = 95,
    resume: BatchResume = False,
    quiet: Quiet = False,
):
    """Run an exported model with onnxruntime (the onnx extra), without importing torch: seconds less start-up."""
    run_onnx(model, images, output, alpha=alpha, palette=palette, degrid=degrid, size=size, threads=threads, quality=quality,
             resume=resume, quiet=quiet)


def run_onnx(model: Path, images: list[Path], output: Path, *, alpha: float, palette: bool, degrid: bool,
             size: Optional[int], threads: int = 0, quality: int = 95, resume: bool = False, quiet: bool = False) -> None:
    """`image onnx`, and `image fast` on a shipped export."""
    import time

    start = time.perf_counter()
    if threads < 0:
        raise InputError(f"--threads must be 0 or more, not {threads}")
    if not 1 <= quality <= 100:
        raise InputError(f"--quality must be a whole number from 1 to 100, not {quality}")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"--alpha must be between 0 and 1, not {alpha}")
    batch = images[0].is_dir()
    if batch:  # a folder of photos: the model and the style's statistics stay loaded; images/s reported
        guard([output], [model, *images[1:]], read_folders=[images[0]], folder=True)
        guard([output / "onnx.json"], [model, *images[1:]])
    else:
        guard([output, output.with_suffix(".json")], [model, *images])
    from multistyle.core.paths import list_images
    from multistyle.image.formats import OUTPUT_SUFFIXES
    from multistyle.image.onnx_runtime import OnnxAdaIN, load_model, save_rgb, write_report

    if not batch and output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"{output}: unsupported output format; use one of {', '.join(sorted(OUTPUT_SUFFIXES))}")
    photos = list_images(images[0], OUTPUT_SUFFIXES) if batch else [images[0]]
    runner = load_model(model, threads)
    is_adain = isinstance(runner, OnnxAdaIN)
    if len(images) != (2 if is_adain else 1):
        raise InputError("an exported AdaIN takes CONTENT and one STYLE image" if is_adain else
                         "an exported per-style network takes CONTENT only (its style is built in)")
    settings = {"alpha": alpha, "palette": palette, "degrid": degrid, "size": size, "threads": threads}

    def stylise(photo: Path, out: Path):
        rgb = (runner(photo, images[1], alpha=alpha, size=size, palette=palette, degrid=degrid) if is_adain else
               runner(photo, size=size, alpha=alpha, palette=palette, degrid=degrid))
        save_rgb(rgb, out, quality)
        return rgb

    loaded = time.perf_counter()
    report = {"method": f"onnx-{runner.info['kind']}", "model": str(model), "content": str(images[0]),
              "style": str(images[1]) if is_adain else runner.info.get("name"), "config": settings}
    if batch:
        summary = folder_batch([(p.name, output / f"{p.stem}.png", (p,)) for p in photos], output, stylise,
                               {"command": "image onnx", **report}, resume, "onnx", quiet)
        report.update(images=summary.written, images_per_second=round(summary.per_second, 3))
    else:
        if resume:
            raise InputError("--resume continues a folder batch; CONTENT is one image")
        rgb = stylise(photos[0], output)
        report.update(size=[int(rgb.shape[0]), int(rgb.shape[1])], output=str(output))  # height, width, as torch's reports
    done = time.perf_counter()
    report["timings_s"] = {"load": round(loaded - start, 3), "stylise": round(done - loaded, 3)}
    write_report(output / "onnx.json" if batch else output.with_suffix(".json"), report)
    if not batch:
        typer.echo(f"wrote {output} ({done - loaded:.2f} s, onnxruntime)")
