"""Training one per-style network (Johnson et al. 2016; Ulyanov et al. 2016/2017): a perceptual loss from
our VGG-19, the style's Gram matrices computed once, content crops from a folder of photos. Texture mode
trains on noise with the style term alone. Runs inside the shared training scaffolding (core/run.py).

OUT/ holds model.safetensors (fp16) + model.json (architecture, config, figures), log.jsonl, loss.png and
checkpoint/ (what --resume needs).
"""
import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from multistyle.core.checkpoint import load_training_state, save_tensors, save_training_state, write_json
from multistyle.core.config import config_dict
from multistyle.core.losses import gram_matrix, total_variation
from multistyle.core.plot import plot_losses
from multistyle.core.run import (
    CHECKPOINT,
    EMA,
    LOG,
    LossWindow,
    TrainingRun,
    check_run_folder,
    optimizer_step,
    trim_log,
    warm_up_lr,
)
from multistyle.core.runtime import (
    check_precision,
    compute_dtype,
    describe_machine,
    quiet_exit_on_sigterm,
    seed_everything,
    select_device,
)
from multistyle.core.vgg import LAYER_NAMES, VGGFeatures
from multistyle.errors import ConfigError
from multistyle.image.data import collect_images, random_crop
from multistyle.image.fast import TransformNet, load_network, style_palette
from multistyle.image.io import load_image
from multistyle.samples import resolve_style

MODEL = "model.safetensors"
MIN_CROP_STD, FLAT_RETRIES = 0.02, 10
RESUMABLE = ("iterations", "max_minutes", "checkpoint_every", "log_every", "workers", "device", "precision")


@dataclass
class FastTrainConfig:
    style: str = ""  # the style (or texture) image
    content_dirs: tuple[str, ...] = ()
    holdout_contents: tuple[str, ...] = ("tubingen.jpg", "golden_gate.jpg", "sailboat.jpg")  # the benchmark's photos
    style_size: int = 512  # long side of the style image whose Gram matrices are the targets
    crop: int = 256
    min_short: int = 256  # content photos resized to a random short side in [min_short, resize_short], then cropped
    resize_short: int = 512
    batch_size: int = 4
    iterations: int = 40_000
    lr: float = 1e-3
    content_layers: tuple[str, ...] = ("relu3_1",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    content_weight: float = 1.0  # both terms are relative errors, so these weights compare directly
    style_weight: float = 10.0
    tv_weight: float = 0.0
    channels: tuple[int, ...] = (32, 64, 128)
    blocks: int = 5
    texture: bool = False  # Ulyanov et al.'s texture network: noise in, no content term
    checkpoint_every: int = 200
    log_every: int = 20
    workers: int = 1
    max_minutes: float = 0.0
    init_weights: str = ""  # a trained network (model.safetensors + its JSON) to continue from, with a fresh optimiser
    # A warm start's fresh Adam ramps its lr up over this many steps: at the full lr its first steps knocked a
    # trained network's style loss from 2.9 to 469 (the_scream, 128-px crops).
    warmup: int = 100
    # Ship an exponential moving average of the weights, with this decay per step (0: the last step's weights). At
    # 0.998 the average trailed the last weights on 6 of 7 styles after 2,860 iterations from scratch (style distance
    # 0.55 against 0.40 for woman_with_hat): these short schedules end while the network is still improving.
    ema: float = 0.0
    # Huang et al. (2017), real-time video: a temporal term makes the output follow motion, so a clip needs no flow at
    # inference (`multistyle video --method fast --temporal 0`). Each crop gets a second frame by a random small
    # motion (shift, rotation, zoom: synthetic_motion) whose flow is exact, and the term is the mean squared
    # difference between the second frame's output and the first output moved the same way, where the motion keeps
    # pixels inside the frame. 0: no temporal term.
    temporal_weight: float = 0.0
    motion: float = 4.0  # pixels: the synthetic motion's largest shift (rotation and zoom move the border as far)
    seed: int = 0
    device: str = "auto"
    # The loss network's (VGG-19's) weights and activations; the trained network stays float32. "auto": bf16 on CPUs
    # with AMX, else fp32 (runtime.compute_dtype's training rule).
    precision: str = "auto"

    def validate(self) -> None:
        check_precision(self.precision, ConfigError)
        if not self.style:
            raise ConfigError("give the STYLE image to train for")
        if not self.texture and not self.content_dirs:
            raise ConfigError("give --content-dir (photos to learn from), or --texture")
        at_least = {"style_size": 32, "crop": 32, "min_short": 32, "resize_short": 32, "batch_size": 1, "iterations": 1,
                    "blocks": 0, "checkpoint_every": 1, "log_every": 1, "workers": 0, "warmup": 0}
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise ConfigError(f"{name.replace('_', '-')} must be at least {low}, not {getattr(self, name)}")
        if self.crop % 4:
            raise ConfigError(f"crop must be a multiple of 4, not {self.crop}")
        if len(self.channels) != 3 or min(self.channels) < 1:
            raise ConfigError("channels must be three positive widths, e.g. [32, 64, 128]")
        unknown = sorted(set(self.content_layers + self.style_layers) - set(LAYER_NAMES))
        if unknown or not self.style_layers:
            raise ConfigError(f"unknown VGG-19 layer {', '.join(unknown)}" if unknown else "style_layers must name a layer")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"ema is a decay per step in [0, 1), not {self.ema}")
        if self.lr <= 0 or min(self.content_weight, self.style_weight, self.tv_weight, self.max_minutes) < 0:
            raise ConfigError("lr must be positive; the weights and max_minutes non-negative")
        if self.temporal_weight < 0 or not 0 <= self.motion <= self.crop / 4:
            raise ConfigError(f"temporal_weight must be non-negative and motion between 0 and crop/4 pixels, not "
                              f"{self.temporal_weight} and {self.motion}")
        if self.temporal_weight and not self.motion:
            raise ConfigError("the temporal term needs motion above 0 pixels (with none it is always 0)")
        if self.temporal_weight and self.texture:
            raise ConfigError("the temporal term is for photos and video, not texture networks")


class CropSampler(Dataset):
    """Item k: a random content crop (or, in texture mode, uniform noise), determined by (seed, k) alone."""

    def __init__(self, contents: list[Path], config: FastTrainConfig, start: int, stop: int):
        self.contents, self.config, self.indices = contents, config, range(start, stop)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> torch.Tensor:
        cfg, index = self.config, self.indices[i]
        if cfg.texture:
            return torch.rand(3, cfg.crop, cfg.crop, generator=torch.Generator().manual_seed(cfg.seed * 1_000_003 + index))
        rng = random.Random(cfg.seed * 1_000_003 + index)
        draws = []
        for _ in range(FLAT_RETRIES):  # wallpapers have flat areas: a constant crop teaches nothing and blew up training
            crop = random_crop(rng.choice(self.contents), rng, cfg.crop, cfg.min_short, cfg.resize_short)
            spread = float(crop.std())
            if spread >= MIN_CROP_STD:
                return crop
            draws.append((spread, crop))
        return max(draws, key=lambda draw: draw[0])[1]  # the least flat of the draws


class PerceptualLoss:
    """Relative content error at the content layers, relative Gram error at the style layers, total variation."""

    def __init__(self, vgg: VGGFeatures, config: FastTrainConfig, style: torch.Tensor):
        self.vgg, self.config = vgg, config
        with torch.no_grad():
            features = vgg(style)
            self.grams = {name: gram_matrix(features[name]) for name in config.style_layers}

    def __call__(self, output: torch.Tensor, content: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.config
        features = self.vgg(output)
        style = sum(((gram_matrix(features[n]) - g).square().sum((1, 2)) / g.square().sum()).mean() for n, g in self.grams.items())
        terms = {"style": cfg.style_weight * style / len(self.grams)}
        if not cfg.texture:
            with torch.no_grad():
                targets = self.vgg(content)
            # relative to the batch's feature energy, not each crop's: a near-black crop has almost none (NaN at step 524)
            content_error = sum((features[n] - targets[n]).square().mean() / (targets[n].square().mean() + 1e-8)
                                for n in cfg.content_layers)
            terms["content"] = cfg.content_weight * content_error / len(cfg.content_layers)
        if cfg.tv_weight:
            terms["tv"] = cfg.tv_weight * total_variation(output)
        return terms


def synthetic_motion(frames: torch.Tensor, motion: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each (N, 3, H, W) frame moved by its own random shift (up to `motion` pixels), rotation and zoom (moving the
    border up to as far): (moved frames, the sampling grid that moves any image the same way, and where that grid
    stays inside the frame, (N, 1, H, W))."""
    n, _, h, w = frames.shape
    draw = lambda *shape: torch.rand(*shape, generator=generator) * 2 - 1  # noqa: E731
    shift, angle, zoom = draw(n, 2) * motion, draw(n) * motion / max(h, w), 1 + draw(n) * motion / max(h, w)
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    theta = torch.stack([torch.stack([cos, -sin * h / w, 2 * shift[:, 0] / w], 1),
                         torch.stack([sin * w / h, cos, 2 * shift[:, 1] / h], 1)], 1).to(frames)
    grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
    moved = F.grid_sample(frames, grid, padding_mode="border", align_corners=False)
    inside = (grid.abs() <= 1).all(-1, keepdim=True).permute(0, 3, 1, 2).to(frames)
    return moved, grid, inside


def temporal_error(net: torch.nn.Module, frames: torch.Tensor, outputs: torch.Tensor, motion: float,
                   generator: torch.Generator) -> torch.Tensor:
    """Mean squared difference, where the motion stays inside the frame, between the output of moved frames and the
    frames' outputs moved the same way (Huang et al. 2017's temporal loss, with an exact flow)."""
    moved, grid, inside = synthetic_motion(frames, motion, generator)
    follows = F.grid_sample(outputs, grid, padding_mode="border", align_corners=False)
    return ((net(moved) - follows).square() * inside).sum() / (inside.sum() * 3).clamp_min(1)


def train(config: FastTrainConfig, out: Path, resume: bool = False, show_progress: bool = False) -> dict:
    """Train (or resume) one style's network into `out`; returns the figures written to out/model.json."""
    config.validate()
    out = Path(out)
    check_run_folder(out, resume)
    device = select_device(config.device)
    seed_everything(config.seed)
    style_file = resolve_style(config.style)  # a bundled painting's name becomes its file
    style = load_image(style_file, config.style_size)
    palette = style_palette(style_file)
    contents = [] if config.texture else collect_images(config.content_dirs, config.holdout_contents)
    layers = tuple(dict.fromkeys(config.style_layers + (() if config.texture else config.content_layers)))
    vgg = VGGFeatures(layers).to(device, compute_dtype(config.precision, device, training=True))
    loss_fn = PerceptualLoss(vgg, config, style.to(device))
    net = TransformNet(config.channels, config.blocks).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    start, seconds_before, warm_start = 0, 0.0, None
    if config.init_weights and not resume:  # a warm start: the earlier iterations and seconds count on
        earlier, info = load_network(config.init_weights)
        if info.get("architecture") != {"channels": list(config.channels), "blocks": config.blocks}:
            raise ConfigError(f"{config.init_weights}: its architecture {info.get('architecture')} differs from this config's")
        net.load_state_dict(earlier.state_dict())
        start, seconds_before = int(info.get("iterations", 0)), float(info.get("seconds", 0.0))
        warm_start = {"from": str(config.init_weights), "iterations": start}
        if start >= config.iterations:
            raise ConfigError(f"{config.init_weights} already has {start} iterations; set iterations above that")
    # The average starts from the network as it stands (a warm start's weights), not from zero.
    ema = EMA(net, config.ema) if config.ema else None
    if resume:
        states, info = load_training_state(out / CHECKPOINT)
        net.load_state_dict(states["net"])
        optimizer.load_state_dict(states["optimizer"])
        if ema is not None:
            ema.load_state_dict(states.get("ema", states["net"]))
        start, seconds_before, warm_start = info["iteration"], info.get("seconds", 0.0), info.get("warm_start")
        trim_log(out / LOG, "iteration", start)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", config_dict(config))
    data = CropSampler(contents, config, start * config.batch_size, config.iterations * config.batch_size)
    loader = DataLoader(data, batch_size=config.batch_size, num_workers=config.workers, worker_init_fn=quiet_exit_on_sigterm,
                        persistent_workers=config.workers > 0)
    iteration, window, last, first = start, LossWindow(), {}, None

    def figures(interrupted: bool) -> dict:
        return {
            "name": Path(config.style).stem, "style": str(config.style), "texture": config.texture,
            "architecture": {"channels": list(config.channels), "blocks": config.blocks},
            "iterations": iteration, "crop": config.crop, "batch_size": config.batch_size,
            "seconds": round(seconds_before + run.seconds, 1), "machine": describe_machine(device), "device": str(device),
            "palette": palette, "content_images": len(contents), "first_losses": first, "final_losses": last, "interrupted": interrupted,
            **({"warm_start": warm_start} if warm_start else {}), "config": config_dict(config),
        }

    def checkpoint(interrupted: bool = False) -> str:
        states = {"net": net.state_dict(), "optimizer": optimizer.state_dict()}
        if ema is not None:
            states["ema"] = ema.state_dict()
        save_training_state(out / CHECKPOINT, states,
                            {"iteration": iteration, "seconds": seconds_before + run.seconds, "warm_start": warm_start})
        shipped = ema.module if ema is not None else net
        save_tensors(out / MODEL, {k: v.half() for k, v in shipped.state_dict().items()})
        write_json(out / "model.json", figures(interrupted))
        plot_losses(out / LOG, out / "loss.png", f"per-style network: {Path(config.style).stem}")
        return f"{out / CHECKPOINT} and {out / MODEL} at iteration {iteration}; continue with --resume"

    with TrainingRun(out, total=config.iterations, done=start, description=f"train-fast {Path(config.style).stem}",
                     max_minutes=config.max_minutes, show_progress=show_progress, save=lambda: checkpoint(True)) as run:
        for batch in loader:
            batch = batch.to(device)
            if config.init_weights:
                warm_up_lr(optimizer, config.lr, config.warmup)
            outputs = net(batch)
            terms = loss_fn(outputs, batch)
            if config.temporal_weight:  # a motion drawn from (seed, iteration): a resumed run repeats it
                motion = torch.Generator().manual_seed(config.seed * 1_000_003 + iteration)
                terms["temporal"] = config.temporal_weight * temporal_error(net, batch, outputs, config.motion, motion)
            window.add(optimizer_step(optimizer, terms, iteration + 1))
            if ema is not None:
                ema.update(net)
            iteration += 1
            status = None
            if iteration % config.log_every == 0 or iteration == config.iterations:
                last = window.mean()
                first = first or last
                run.log({"iteration": iteration, **last, "it_per_s": round((iteration - start) / run.seconds, 3)})
                status = "  ".join(f"{k} {v:.3g}" for k, v in last.items())
            run.advance(status=status)
            if iteration % config.checkpoint_every == 0:
                checkpoint()
            if run.out_of_time:
                break
    checkpoint()
    return figures(interrupted=False)
