"""Training the AdaIN decoder (Huang & Belongie 2017), CPU or GPU, one process or many (torchrun).

Every sample is a pure function of (seed, sample index), so a run resumed from a checkpoint continues
with exactly the batches it would have seen, and DDP ranks simply take interleaved indices.
"""
import math
import os
import random
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from multistyle.core.checkpoint import (
    has_training_state,
    load_training_state,
    read_json,
    save_training_state,
    write_json,
)
from multistyle.core.config import config_dict
from multistyle.core.losses import mean_std_loss, relative_mean_std_loss
from multistyle.core.plot import plot_losses
from multistyle.core.run import CHECKPOINT, EMA, LOG, LossWindow, TrainingRun, check_run_folder, optimizer_step, trim_log
from multistyle.core.runtime import (
    quiet_exit_on_sigterm,
    seed_everything,
    select_device,
)
from multistyle.core.vgg import VGGFeatures
from multistyle.errors import ConfigError
from multistyle.image import color
from multistyle.image.adain import (
    ENCODER_LAYER,
    STYLE_LAYERS,
    UPSAMPLE_MODES,
    Decoder,
    adain,
    feature_stats,
    load_decoder,
    save_decoder,
)
from multistyle.image.data import HELD_OUT_PAINTINGS, HELD_OUT_PHOTOS, collect_images, random_crop


@dataclass
class AdaINTrainConfig:
    content_dirs: tuple[str, ...] = ()
    style_dirs: tuple[str, ...] = ()
    holdout_contents: tuple[str, ...] = HELD_OUT_PHOTOS  # file names training never sees
    holdout_styles: tuple[str, ...] = HELD_OUT_PAINTINGS
    resize_short: int = 512  # paper: short side resized to 512 ...
    min_short: int = 256  # ... here drawn from [min_short, resize_short] for scale augmentation
    crop: int = 256
    batch_size: int = 8
    iterations: int = 160_000
    lr: float = 1e-4
    lr_decay: float = 5e-5  # lr / (1 + lr_decay * iteration), as in the reference implementation
    # "adain": the paper's objective. "reconstruction": the decoder learns to invert relu4_1 (pixel loss plus
    # relative feature losses at shallow layers) on contents and styles alike, so alpha 0 rebuilds the photo
    # and nearest upsampling stops leaving a grid; a cheap first stage for a CPU, continued with "adain".
    objective: str = "adain"
    pixel_weight: float = 10.0
    content_weight: float = 1.0
    style_weight: float = 10.0
    # "absolute": the paper's raw MSEs. "relative": scale-free terms (see adain_losses), every style layer alike.
    loss_scale: str = "absolute"
    identity_weight: float = 0.0  # > 0: also decode the content's own features and match its pixels (alpha 0)
    colour_weight: float = 0.0  # > 0: also match the style image's RGB channel means and stds (relative errors)
    # Recolour each content crop to its style's RGB mean and covariance before encoding, as AdaINConfig.palette does
    # at inference: the decoder then spends itself on strokes rather than on carrying the palette over.
    palette: bool = False
    style_layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)  # relu1_1..relu4_1 in the style term
    upsample: str = "nearest"  # the decoder's upsampling (adain.UPSAMPLE_MODES); a warm start may switch it
    # > 0: decoder.safetensors holds an exponential moving average of the weights with this decay per iteration
    # (0.99: about the last 100 iterations). Each batch pulls the decoder towards its own four styles; the average
    # keeps what they share. Three checkpoints averaged by hand rebuilt the photo 0.2-0.6 dB better than any one.
    ema: float = 0.0
    checkpoint_every: int = 1000
    log_every: int = 50
    workers: int = 2
    bf16: bool = False  # bfloat16 autocast: CUDA, or a CPU with AMX (one thread: 0.17 -> 0.41 iterations/s at batch 4)
    channels_last: bool = True  # on CUDA: the memory layout cuDNN's fastest convolutions use
    max_minutes: float = 0.0  # stop this run (checkpointed, resumable) after this long; 0: no limit
    seed: int = 0
    device: str = "auto"
    # Warm start: begin from these decoder weights (e.g. the shipped decoder) with a fresh optimiser. How a
    # CPU-trained decoder keeps improving across sessions whose checkpoints did not survive.
    init_decoder: str = ""

    def validate(self) -> None:
        at_least = {"iterations": 1, "batch_size": 1, "crop": 16, "checkpoint_every": 1, "log_every": 1, "workers": 0,
                    "min_short": 16, "resize_short": 16}
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise ConfigError(f"{name.replace('_', '-')} must be at least {low}, not {getattr(self, name)}")
        if self.crop % 8:
            raise ConfigError(f"crop must be a multiple of 8 (the decoder upsamples three times), not {self.crop}")
        if self.loss_scale not in ("absolute", "relative"):
            raise ConfigError(f"loss_scale must be absolute or relative, not {self.loss_scale!r}")
        if min(self.identity_weight, self.colour_weight) < 0:
            raise ConfigError("identity_weight and colour_weight must be non-negative")
        if len(self.style_layer_weights) != len(STYLE_LAYERS) or min(self.style_layer_weights) < 0:
            raise ConfigError(f"style_layer_weights wants {len(STYLE_LAYERS)} non-negative numbers (relu1_1..relu4_1), not {list(self.style_layer_weights)}")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"ema must be in [0, 1), not {self.ema}")
        if self.upsample not in UPSAMPLE_MODES:
            raise ConfigError(f"upsample must be one of {', '.join(UPSAMPLE_MODES)}, not {self.upsample!r}")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, not {self.objective!r}")
        if min(self.lr, self.style_weight + self.content_weight + self.pixel_weight) <= 0 or min(
                self.lr_decay, self.content_weight, self.style_weight, self.pixel_weight, self.max_minutes) < 0:
            raise ConfigError("lr must be positive; lr_decay, the loss weights and max_minutes non-negative")


OBJECTIVES = ("adain", "reconstruction")


class PairSampler(Dataset):
    """Item k: a random (content crop, style crop) pair, determined by (seed, k) alone."""

    def __init__(self, contents: list[Path], styles: list[Path], config: AdaINTrainConfig, start: int, stop: int, rank: int = 0, world: int = 1):
        self.contents, self.styles, self.config = contents, styles, config
        self.indices = range(start + rank, stop, world)

    def __len__(self) -> int:
        return len(self.indices)

    def _crop(self, path: Path, rng: random.Random) -> torch.Tensor:
        return random_crop(path, rng, self.config.crop, self.config.min_short, self.config.resize_short)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = random.Random(self.config.seed * 1_000_003 + self.indices[i])
        return self._crop(rng.choice(self.contents), rng), self._crop(rng.choice(self.styles), rng)


def adain_losses(encoder: VGGFeatures, decoder, content: torch.Tensor, style: torch.Tensor, *, relative: bool = False,
                 identity: bool = False, colour: bool = False, palette: bool = False,
                 layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)) -> dict[str, torch.Tensor]:
    """The paper's objective: decoded features match the AdaIN target (content) and the style's moments (style).

    `relative` makes both terms scale-free (content error relative to the target's energy, relative mean/std
    errors per layer), so every style layer counts alike. `identity` adds the pixel error of decoding the
    content's own features (alpha 0), which keeps the decoder an inverse of the encoder while it learns style.
    `palette` recolours each content to its style's colours first (what inference does with AdaINConfig.palette)."""
    with torch.no_grad():
        if palette:
            content = color.match_color_histogram(content, style)
        style_features = encoder(style)
        content_features = encoder(content)[ENCODER_LAYER]
        target = adain(content_features, feature_stats(style_features[ENCODER_LAYER]))
    output = decoder(target)
    output_features = encoder(output)
    style_loss = relative_mean_std_loss if relative else mean_std_loss
    content_term = F.mse_loss(output_features[ENCODER_LAYER], target)
    terms = {
        "content": content_term / target.square().mean() if relative else content_term,
        "style": sum(w * style_loss(output_features[name], style_features[name]) for w, name in zip(layer_weights, STYLE_LAYERS)),
    }
    if identity:
        terms["identity"] = F.mse_loss(decoder(content_features), content)
    if colour:
        terms["colour"] = relative_mean_std_loss(output, style)
    return terms


RECONSTRUCTION_LAYERS = ("relu1_1", "relu2_1", "relu3_1")
DECODER, SUMMARY = "decoder.safetensors", "decoder.json"


def reconstruction_losses(encoder: VGGFeatures, decoder, content: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
    """Decode each image's own relu4_1 features: pixel MSE plus relative feature errors at shallow layers."""
    images = torch.cat([content, style])
    with torch.no_grad():
        target = encoder(images)
    output = decoder(target[ENCODER_LAYER])
    features = encoder(output)
    perceptual = sum(F.mse_loss(features[n], target[n]) / target[n].square().mean().clamp_min(1e-6) for n in RECONSTRUCTION_LAYERS)
    return {"pixel": F.mse_loss(output, images), "feature": perceptual}


def _recorded_iterations(decoder_path: Path) -> int:
    """Iterations behind a decoder: from the JSON summary written beside it, or from the checkpoint of a run still
    going (its summary comes at the end); 0 when there is neither."""
    for summary in (decoder_path.with_suffix(".json"), decoder_path.parent / "decoder.json"):
        if summary.is_file():
            info = read_json(summary)
            return int(info.get("total_iterations", info.get("iterations", 0)))
    if has_training_state(decoder_path.parent / CHECKPOINT):
        _, info = load_training_state(decoder_path.parent / CHECKPOINT)
        return int(info.get("init_iterations", 0) + info.get("iteration", 0))
    return 0


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


RESUMABLE = ("iterations", "max_minutes", "checkpoint_every", "log_every", "workers", "device")  # what --resume may change


def train(config: AdaINTrainConfig, out: Path, resume: bool = False, show_progress: bool = False) -> dict:
    """Train (or resume) into `out`; returns the summary written to out/decoder.json."""
    config.validate()
    out = Path(out)
    check_run_folder(out, resume)
    rank, world = _distributed()
    device = select_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    seed_everything(config.seed)
    contents = collect_images(config.content_dirs, config.holdout_contents)
    styles = collect_images(config.style_dirs, config.holdout_styles)

    layout = torch.channels_last if config.channels_last and device.type == "cuda" else torch.contiguous_format
    encoder = VGGFeatures(STYLE_LAYERS).to(device, memory_format=layout)
    decoder = Decoder(config.upsample).to(device, memory_format=layout)
    init_iterations = 0
    if config.init_decoder and not resume:
        decoder.load_state_dict(load_decoder(config.init_decoder).state_dict())
        init_iterations = _recorded_iterations(Path(config.init_decoder))
    optimizer = torch.optim.Adam(decoder.parameters(), lr=config.lr)
    averaged = EMA(decoder, config.ema) if config.ema else None
    start = 0
    if resume:
        states, info = load_training_state(out / CHECKPOINT)
        decoder.load_state_dict(states["decoder"])
        optimizer.load_state_dict(states["optimizer"])
        if averaged is not None:
            averaged.load_state_dict(states["ema"])
        start = info["iteration"]
        init_iterations = info.get("init_iterations", 0)
        trim_log(out / LOG, "iteration", start)  # a killed run's lines past its checkpoint are written again
    model = torch.nn.parallel.DistributedDataParallel(decoder) if world > 1 else decoder

    batch = config.batch_size
    data = PairSampler(contents, styles, config, start * batch * world, config.iterations * batch * world, rank, world)
    loader = DataLoader(data, batch_size=batch, num_workers=config.workers, pin_memory=device.type == "cuda",
                        persistent_workers=config.workers > 0, worker_init_fn=quiet_exit_on_sigterm)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "config.json", config_dict(config))
    if config.objective == "reconstruction":
        losses = reconstruction_losses
    else:
        losses = partial(adain_losses, relative=config.loss_scale == "relative", identity=config.identity_weight > 0,
                         colour=config.colour_weight > 0, palette=config.palette, layer_weights=tuple(config.style_layer_weights))
    weights = {"content": config.content_weight, "style": config.style_weight, "pixel": config.pixel_weight, "feature": 1.0,
               "identity": config.identity_weight, "colour": config.colour_weight}
    iteration, last, window, out_of_time = start, {}, LossWindow(), False

    def summarise(interrupted: bool) -> dict:
        return {
            "iterations": iteration, "init_iterations": init_iterations, "total_iterations": init_iterations + iteration,
            "interrupted": interrupted, "batch_size": batch * world, "crop": config.crop,
            "final_losses": last, "content_images": len(contents), "style_images": len(styles),
            "seconds_this_run": round(run.seconds, 1), "device": str(device), "world_size": world,
            "stopped_by_time_limit": out_of_time,
            "config": config_dict(config),
        }

    def checkpoint(interrupted: bool = False) -> str:
        if rank == 0:
            states = {"decoder": decoder.state_dict(), "optimizer": optimizer.state_dict()}
            if averaged is not None:
                states["ema"] = averaged.state_dict()
            save_training_state(out / CHECKPOINT, states, {"iteration": iteration, "init_iterations": init_iterations})
            save_decoder(averaged.module if averaged is not None else decoder, out / DECODER)
            if interrupted:
                write_json(out / SUMMARY, summarise(interrupted=True))
            if (out / LOG).is_file():
                plot_losses(out / LOG, out / "loss.png", "AdaIN decoder training")
        return f"{out / CHECKPOINT} and {out / DECODER} at iteration {iteration}; continue with --resume"

    def past_deadline() -> bool:
        late = run.out_of_time
        if world > 1 and run.deadline < math.inf:  # every rank must stop at the same iteration
            flag = torch.tensor([float(late)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            late = bool(flag.item())
        return late

    with TrainingRun(out, total=config.iterations, done=start, description="train-adain", max_minutes=config.max_minutes,
                     show_progress=show_progress, save=lambda: checkpoint(interrupted=True), writer=rank == 0) as run:
        for content, style in loader:
            for group in optimizer.param_groups:
                group["lr"] = config.lr / (1 + config.lr_decay * iteration)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
                content = content.to(device, non_blocking=True, memory_format=layout)
                terms = losses(encoder, model, content, style.to(device, non_blocking=True, memory_format=layout))
            window.add(optimizer_step(optimizer, {k: weights[k] * v for k, v in terms.items()}, iteration + 1))
            if averaged is not None:
                averaged.update(decoder)
            iteration += 1
            status = None
            if iteration % config.log_every == 0 or iteration == config.iterations:
                last = window.mean()
                rate = (iteration - start) / run.seconds
                run.log({"iteration": iteration, **last, "lr": optimizer.param_groups[0]["lr"], "it_per_s": round(rate, 3)})
                status = f"{rate:.2f} it/s  " + "  ".join(f"{k} {v:.3g}" for k, v in last.items())
            run.advance(status=status)
            if iteration % config.checkpoint_every == 0:
                checkpoint()
            if past_deadline():
                out_of_time = True
                break
    checkpoint()

    summary = summarise(interrupted=False)
    if world > 1:  # DDP keeps replicas identical; check it rather than assume it
        checksum = torch.tensor([sum(float(p.double().sum()) for p in decoder.parameters())], device=device, dtype=torch.float64)
        sums = [torch.zeros_like(checksum) for _ in range(world)]
        dist.all_gather(sums, checksum)
        summary["rank_checksums"] = [float(s) for s in sums]
        dist.barrier()  # leave together: a rank still tearing down gloo while another has exited can wait forever
        dist.destroy_process_group()
    if rank == 0:
        write_json(out / SUMMARY, summary)
    return summary
