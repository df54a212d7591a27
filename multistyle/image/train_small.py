"""Distilling a small AdaIN (multistyle.image.distill) from the full one: a run starts by compressing the full model on
training crops (or from an earlier run's model, `init`), then fine-tunes the small decoder so that its output matches
the full model's (pixels, VGG-19 features and their channel statistics) and the small encoder so that its relu*_1
channels stay the VGG-19 channels they were cut from.

Half of each batch is AdaIN at alpha 1 (half of those on contents recoloured to the style's palette, as inference
does by default), half the content's own features (alpha 0), so the small model learns to paint and to rebuild.
"""
import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from multistyle.core.checkpoint import load_training_state, save_training_state, write_json
from multistyle.core.config import config_dict
from multistyle.core.losses import relative_mean_std_loss
from multistyle.core.plot import plot_losses
from multistyle.core.run import CHECKPOINT, EMA, LOG, LossWindow, TrainingRun, check_run_folder, optimizer_step, trim_log
from multistyle.core.runtime import quiet_exit_on_sigterm, seed_everything
from multistyle.core.vgg import VGGFeatures
from multistyle.errors import ConfigError
from multistyle.image import color
from multistyle.image.adain import (
    ENCODER_LAYER,
    STYLE_LAYERS,
    AdaINNetwork,
    adain,
    feature_stats,
    load_decoder,
    load_network,
    save_network,
)
from multistyle.image.data import HELD_OUT_PAINTINGS, HELD_OUT_PHOTOS, collect_images, random_crop
from multistyle.image.distill import SMALL_WIDTHS, Compressor
from multistyle.image.train_adain import PairSampler

MODEL, SUMMARY = "model.safetensors", "summary.json"
PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1")


@dataclass
class SmallTrainConfig:
    content_dirs: tuple[str, ...] = ("out/adain_corpus/content",)
    style_dirs: tuple[str, ...] = ("out/adain_corpus/style",)
    holdout_contents: tuple[str, ...] = HELD_OUT_PHOTOS
    holdout_styles: tuple[str, ...] = HELD_OUT_PAINTINGS
    teacher: str = ""  # the full model's decoder ("": the shipped one)
    # Warm start: a distillation run's folder whose model.safetensors (and its checkpoint's kept channels) this run
    # starts from, with a fresh optimiser, instead of compressing the full model anew.
    init: str = ""
    widths: tuple[int, ...] = SMALL_WIDTHS
    compress_crops: int = 48  # crops (of each kind) the compression fits on
    resize_short: int = 512
    min_short: int = 256
    crop: int = 128
    batch_size: int = 4
    iterations: int = 20_000
    lr: float = 1e-4
    pixel_weight: float = 1.0
    perceptual_weight: float = 1.0
    encoder_weight: float = 1.0
    # Per-channel mean/std of the output's VGG-19 features at relu1_1..relu4_1 against the full model's output's: the
    # texture statistics the style measures judge, which pixel and feature errors alone blur away (a small network
    # cannot place every stroke where the full one does, and the average of the places is flat).
    style_weight: float = 1.0
    # Whose statistics the painted half's style term matches: "teacher" (the full model's output) caps the student at
    # the teacher's distance from the painting; "painting" asks for the painting's own, as training the full one does.
    style_target: str = "teacher"
    ema: float = 0.99
    checkpoint_every: int = 50
    log_every: int = 10
    workers: int = 1
    max_minutes: float = 0.0
    seed: int = 0

    def validate(self) -> None:
        if len(self.widths) != 4 or min(self.widths) < 1:
            raise ConfigError(f"widths wants four positive channel counts (relu1_1..relu4_1), not {list(self.widths)}")
        if self.crop % 8 or self.crop < 16:
            raise ConfigError(f"crop must be a multiple of 8 and at least 16, not {self.crop}")
        if min(self.batch_size, self.iterations, self.compress_crops, self.checkpoint_every, self.log_every) < 1:
            raise ConfigError("batch_size, iterations, compress_crops, checkpoint_every and log_every must be at least 1")
        if self.lr <= 0 or min(self.pixel_weight, self.perceptual_weight, self.encoder_weight, self.style_weight, self.max_minutes) < 0:
            raise ConfigError("lr must be positive; the loss weights and max_minutes non-negative")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"ema must be in [0, 1), not {self.ema}")
        if self.style_target not in ("teacher", "painting"):
            raise ConfigError(f"style_target must be teacher or painting, not {self.style_target!r}")


# A resumed run may change its schedule and the weight of each loss term (a run's saved config without a term's weight
# resumes with that weight's default).
RESUMABLE = ("iterations", "max_minutes", "checkpoint_every", "log_every", "workers", "pixel_weight", "perceptual_weight",
             "encoder_weight", "style_weight", "style_target")


def relative_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(a, b) / b.square().mean().clamp_min(1e-6)


def distillation_losses(teacher: AdaINNetwork, student: AdaINNetwork, vgg: VGGFeatures, kept: dict[str, torch.Tensor],
                        content: torch.Tensor, style: torch.Tensor, recolour: torch.Tensor,
                        style_target: str = "teacher") -> dict[str, torch.Tensor]:
    """Student against teacher on one batch; the first half of the batch at alpha 0, the rest at alpha 1 with
    `recolour` (bool per item) saying which contents take their style's palette first. `style_target` "painting"
    makes the painted half's style term match the painting's feature statistics instead of the teacher output's."""
    half = len(content) // 2
    painted = content[half:].clone()
    for i in torch.nonzero(recolour[half:]).flatten().tolist():
        painted[i] = color.match_color_histogram(painted[i:i + 1], style[half + i:half + i + 1])[0]
    content = torch.cat([content[:half], painted])
    images = torch.cat([content, style[half:]])
    with torch.no_grad():
        teacher_features = teacher.encoder(images)
        t = teacher_features[ENCODER_LAYER]
        target = torch.cat([t[:half], adain(t[half:len(content)], feature_stats(t[len(content):]))])
        wanted = teacher.decoder(target).float()
        wanted_features = vgg(wanted)
    student_features = student.encoder(images)
    # The decoder learns from what the encoder gives it, but the output's errors do not reach the encoder: trained end to
    # end, the style term pulled its features away from VGG-19's channels within tens of iterations (encoder error 0.22
    # -> 0.68), and the output got worse on every term.
    s = student_features[ENCODER_LAYER].detach()
    output = student.decoder(torch.cat([s[:half], adain(s[half:len(content)], feature_stats(s[len(content):]))])).float()
    output_features = vgg(output)
    if style_target == "painting":  # the styles' VGG-19 features are the teacher encoder's, computed above
        reference = {n: torch.cat([wanted_features[n][:half], teacher_features[n][len(content):]]) for n in STYLE_LAYERS}
    else:
        reference = wanted_features
    return {
        "pixel": F.mse_loss(output, wanted),
        "perceptual": sum(relative_mse(output_features[n], wanted_features[n]) for n in PERCEPTUAL_LAYERS),
        "encoder": sum(relative_mse(student_features[n], teacher_features[n][:, kept[n]]) for n in STYLE_LAYERS),
        "style": sum(relative_mean_std_loss(output_features[n], reference[n]) for n in STYLE_LAYERS),
    }


def saved_kept(states: dict) -> dict[str, torch.Tensor]:
    """The kept VGG-19 channels per relu*_1 layer, from a run's checkpoint states."""
    return {k.removeprefix("kept."): v for k, v in states["kept"].items()}


def compress(config: SmallTrainConfig, teacher: AdaINNetwork, contents: list[Path], styles: list[Path]) -> Compressor:
    rng = random.Random(config.seed)
    crops = [torch.stack([random_crop(rng.choice(files), rng, config.crop, config.min_short, config.resize_short)
                          for _ in range(config.compress_crops)]) for files in (contents, styles)]
    compressor = Compressor(teacher, tuple(config.widths), seed=config.seed)
    compressor.encoder(torch.cat(crops))
    compressor.decoder(*crops)
    return compressor


def train(config: SmallTrainConfig, out: Path, resume: bool = False, show_progress: bool = False) -> dict:
    config.validate()
    out = Path(out)
    check_run_folder(out, resume)
    seed_everything(config.seed)
    contents = collect_images(config.content_dirs, config.holdout_contents)
    styles = collect_images(config.style_dirs, config.holdout_styles)
    teacher = AdaINNetwork(load_decoder(config.teacher or None)).eval()
    vgg = teacher.encoder  # the loss network: VGG-19, frozen
    out.mkdir(parents=True, exist_ok=True)
    start = 0
    if resume:
        states, info = load_training_state(out / CHECKPOINT)
        student = load_network(out / MODEL)
        student.load_state_dict(states["student"])
        kept = saved_kept(states)
        start = info["iteration"]
        trim_log(out / LOG, "iteration", start)
    elif config.init:
        write_json(out / "config.json", config_dict(config))
        student = load_network(Path(config.init) / MODEL)
        states, _ = load_training_state(Path(config.init) / CHECKPOINT)
        kept = saved_kept(states)
    else:
        write_json(out / "config.json", config_dict(config))
        compressor = compress(config, teacher, contents, styles)
        student, kept = compressor.small, compressor.kept
        save_network(student, out / "compressed.safetensors", note="channel selection + least squares, before fine-tuning")
    student.train().requires_grad_(True)
    optimizer = torch.optim.Adam(student.parameters(), lr=config.lr)
    averaged = EMA(student, config.ema) if config.ema else None
    if resume:
        optimizer.load_state_dict(states["optimizer"])
        if averaged is not None:
            averaged.load_state_dict(states["ema"])

    data = PairSampler(contents, styles, config, start * config.batch_size, config.iterations * config.batch_size)
    loader = DataLoader(data, batch_size=config.batch_size, num_workers=config.workers,
                        persistent_workers=config.workers > 0, worker_init_fn=quiet_exit_on_sigterm)
    weights = {"pixel": config.pixel_weight, "perceptual": config.perceptual_weight, "encoder": config.encoder_weight,
               "style": config.style_weight}
    iteration, last, window = start, {}, LossWindow()

    def exported() -> AdaINNetwork:
        return averaged.module if averaged is not None else student

    def checkpoint() -> str:
        states = {"student": student.state_dict(), "optimizer": optimizer.state_dict(),
                  "kept": {f"kept.{k}": v for k, v in kept.items()}}
        if averaged is not None:
            states["ema"] = averaged.state_dict()
        save_training_state(out / CHECKPOINT, states, {"iteration": iteration})
        save_network(exported(), out / MODEL, note=f"distilled from the full AdaIN, {iteration} iterations")
        if (out / LOG).is_file():
            plot_losses(out / LOG, out / "loss.png", "small AdaIN distillation")
        return f"{out / CHECKPOINT} and {out / MODEL} at iteration {iteration}; continue with --resume"

    if not resume:
        checkpoint()
    with TrainingRun(out, total=config.iterations, done=start, description="distil small AdaIN",
                     max_minutes=config.max_minutes, show_progress=show_progress, save=checkpoint) as run:
        for content, style in loader:
            recolour = torch.rand(len(content), generator=torch.Generator().manual_seed(config.seed + iteration)) < 0.5
            terms = distillation_losses(teacher, student, vgg, kept, content, style, recolour, config.style_target)
            window.add(optimizer_step(optimizer, {k: weights[k] * v for k, v in terms.items()}, iteration + 1))
            if averaged is not None:
                averaged.update(student)
            iteration += 1
            status = None
            if iteration % config.log_every == 0:
                last = window.mean()
                run.log({"iteration": iteration, **last, "it_per_s": round((iteration - start) / run.seconds, 3)})
                status = "  ".join(f"{k} {v:.3g}" for k, v in last.items())
            run.advance(status=status)
            if iteration % config.checkpoint_every == 0:
                checkpoint()
            if run.out_of_time:
                break
    checkpoint()
    summary = {"iterations": iteration, "final_losses": last, "seconds_this_run": round(run.seconds, 1),
               "content_images": len(contents), "style_images": len(styles), "config": config_dict(config)}
    write_json(out / SUMMARY, summary)
    return summary
