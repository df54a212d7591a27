"""Training the cross-aligned autoencoder (Shen et al. 2017, Algorithm 1): checkpointed, resumable.

Each step encodes a batch holding both styles and makes two hidden-state sequences per sentence:
`real`, the generator reconstructing the sentence in its own style (teacher-forced), and
`transferred`, the generator writing the same content in the other style (free-running on soft
words). Discriminator s learns to tell real style-s sequences from sequences transferred into s;
the autoencoder minimises reconstruction + rho * (the discriminators' loss on transferred sequences
labelled real), which aligns them. That non-saturating form is what Shen et al.'s released code
optimises. The paper's minimax form (reconstruction - rho * discriminator loss) also pushes the real,
teacher-forced states to look fake, against reconstruction: on Yelp with the CPU config it ended its
second epoch at a dev reconstruction loss of 41 nats a sentence and a dev self-BLEU of 0.5.

OUT/ holds config.json, vocab.txt (or subwords.model), model.safetensors (the best on dev so far) and its calibration.json
(style strength), figures.json, log.jsonl (one line per dev evaluation) and checkpoint/ (all that resuming
needs).
"""
import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.core.checkpoint import (
    load_training_state,
    save_training_state,
    write_json,
)
from multistyle.core.run import CHECKPOINT, LOG, TrainingRun, check_run_folder, trim_log
from multistyle.core.run import run_config as core_run_config
from multistyle.core.runtime import describe_machine, flush_denormals, seed_everything, select_device
from multistyle.errors import WeightsError
from multistyle.text.bundle import (
    CALIBRATION,
    FIGURES,
    TrainedModel,
    save_config,
    save_weights,
)
from multistyle.text.calibrate import calibration_record, strength_sweep
from multistyle.text.classifier import StyleClassifier
from multistyle.text.cnn import TextCNN
from multistyle.text.config import CrossAlignConfig
from multistyle.text.data import (
    STYLES,
    Batch,
    Sentences,
    batches_in_length_order,
    read_split,
    training_batches,
)
from multistyle.text.model import CrossAlignedAutoencoder
from multistyle.text.vocab import AnyVocab, SubwordVocab, Vocab, load_vocab, save_vocab

RESUMABLE = ("epochs", "max_steps", "max_minutes", "checkpoint_every", "device")  # what a resumed run may change

log = logging.getLogger(__name__)


def rng_states(device: torch.device) -> dict:
    """The random generators' states a checkpoint keeps (the CPU's, and the GPU's where training runs on one)."""
    rng = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def restore_rng(rng: dict, device: torch.device) -> None:
    torch.set_rng_state(rng["cpu"])
    if device.type == "cuda" and "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"], device)


class Trainer:
    """The autoencoder, one discriminator per style, and their optimisers."""

    def __init__(self, vocab_size: int, config: CrossAlignConfig, device: torch.device):
        self.config, self.device = config, device
        self.model = CrossAlignedAutoencoder(vocab_size, config).to(device)
        dim_h = config.dim_y + config.dim_z
        self.discriminators = nn.ModuleList(
            TextCNN(dim_h, config.filter_sizes, config.n_filters, config.dropout) for _ in STYLES
        ).to(device)
        self.ae_optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=config.adam_betas)
        self.d_optimizer = torch.optim.Adam(self.discriminators.parameters(), lr=config.lr, betas=config.adam_betas)

    def adversarial_losses(self, real: torch.Tensor, transferred: torch.Tensor, labels: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(per style s, the discriminator's cross-entropy of telling real style-s sequences (1) from ones
        transferred into s (0); the generator's loss, the discriminators' cross-entropy on transferred sequences labelled 1)."""
        d_losses, g_loss = [], 0.0
        for style, discriminator in enumerate(self.discriminators):
            real_logits = discriminator(real[labels == style])
            fake_logits = discriminator(transferred[labels != style])
            d_losses.append(
                F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
            )
            g_loss = g_loss + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        return d_losses, g_loss

    def step(self, batch: Batch, gamma: float, warm_up: bool = False) -> dict[str, float]:
        """One update of both players on one batch; returns the losses it saw. While warming up the
        autoencoder only reconstructs: a short run learns to copy content before it learns to transfer."""
        self.model.train()
        self.discriminators.train()
        reconstruction, real, transferred = self.model(batch, gamma)
        d_losses, g_loss = self.adversarial_losses(real, transferred, batch.labels)
        d_loss = sum(d_losses)
        # As in Shen et al.'s code: a discriminator near chance (loss 2 ln 2 = 1.39) gives the
        # autoencoder noise, not a direction, so the adversarial term waits until both are better.
        adversarial = not warm_up and max(loss.item() for loss in d_losses) < self.config.adv_threshold

        self.d_optimizer.zero_grad(set_to_none=True)
        self.ae_optimizer.zero_grad(set_to_none=True)
        # One forward pass serves both players: each loss flows into its own player's parameters only.
        d_loss.backward(inputs=list(self.discriminators.parameters()), retain_graph=True)
        params = list(self.model.parameters())
        if not adversarial:
            reconstruction.backward(inputs=params)
        elif self.config.adv_grad_cap:
            self.backward_capped(reconstruction, g_loss, params)
        else:
            (reconstruction + self.config.rho * g_loss).backward(inputs=params)
        self.d_optimizer.step()
        self.ae_optimizer.step()
        return {"rec": reconstruction.item(), "g": g_loss.item(), "d0": d_losses[0].item(), "d1": d_losses[1].item(),
                "adv": float(adversarial)}

    def backward_capped(self, reconstruction: torch.Tensor, g_loss: torch.Tensor, params: list[nn.Parameter]) -> None:
        """Gradients of reconstruction + rho * g_loss, the second scaled down to at most adv_grad_cap times the
        first's norm. Through softmax(logits / gamma) the adversarial gradient grows like 1 / gamma: on Yelp at
        gamma 0.1 it was 300 times the reconstruction gradient's norm, and Adam then all but stops reconstructing."""
        def grads(loss: torch.Tensor, retain: bool) -> list[torch.Tensor]:
            found = torch.autograd.grad(loss, params, retain_graph=retain, allow_unused=True)
            return [torch.zeros_like(p) if g is None else g for p, g in zip(params, found)]

        rec_grads, adv_grads = grads(reconstruction, True), grads(g_loss, False)
        rec_norm, adv_norm = (torch.linalg.vector_norm(torch.stack([g.norm() for g in gs])) for gs in (rec_grads, adv_grads))
        scale = self.config.rho * min(1.0, (self.config.adv_grad_cap * rec_norm / adv_norm.clamp_min(1e-12)).item())
        for p, rec, adv in zip(params, rec_grads, adv_grads):
            p.grad = rec + scale * adv

    def state(self) -> dict:
        rng = rng_states(self.device)
        return {
            "model": self.model.state_dict(),
            "discriminators": self.discriminators.state_dict(),
            "ae_optimizer": self.ae_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(),
            "rng": rng,
        }

    def load_state(self, states: dict) -> None:
        self.model.load_state_dict(states["model"])
        self.discriminators.load_state_dict(states["discriminators"])
        self.ae_optimizer.load_state_dict(states["ae_optimizer"])
        self.d_optimizer.load_state_dict(states["d_optimizer"])
        restore_rng(states["rng"], self.device)


@dataclass
class RunState:
    """Where training stands; saved with every checkpoint."""

    step: int = 0
    epoch: int = 0
    batch: int = 0  # the next batch of the epoch
    seconds: float = 0.0
    best: dict | None = None  # the log record of the best dev evaluation


@dataclass
class DevSet:
    sentences: Sentences
    ids: list[list[int]]
    labels: list[int]


@torch.no_grad()
def evaluate_dev(model: CrossAlignedAutoencoder, dev: DevSet, vocab: AnyVocab, config: CrossAlignConfig,
                 classifier: StyleClassifier | None) -> dict[str, float]:
    """Dev reconstruction loss and, with a classifier, transfer accuracy and self-BLEU: as trained
    (strength 0) and at the calibrated strength, the smallest reaching config.target_accuracy."""
    model.eval()
    device = next(model.parameters()).device
    total = sum(model.reconstruction_nll(batch.to(device)).sum().item() for _, batch in batches_in_length_order(dev.ids, dev.labels, 256))
    metrics = {"rec": total / len(dev.ids)}
    if classifier is not None:
        negatives = dev.labels.count(0)  # load_corpus puts them first
        sweep = strength_sweep(TrainedModel(model, vocab, config), dev.sentences[:negatives], dev.sentences[negatives:],
                               classifier, config.target_accuracy)
        metrics.update(accuracy=sweep[0]["accuracy"], self_bleu=sweep[0]["self_bleu"], strength=sweep[-1]["strength"],
                       calibrated_accuracy=sweep[-1]["accuracy"], calibrated_self_bleu=sweep[-1]["self_bleu"])
    return metrics


def selection_key(dev: dict[str, float], target_accuracy: float) -> tuple[int, float]:
    """Orders dev evaluations, best last. Strength trades content for style, so compare each evaluation at
    its calibrated strength: one reaching the target accuracy beats any that does not; among those that
    do, more content (self-BLEU) wins; among the others, more accuracy. Without a classifier: lower
    reconstruction loss."""
    if "accuracy" not in dev:
        return 0, -dev["rec"]
    accuracy = dev.get("calibrated_accuracy", dev["accuracy"])  # evaluations logged before calibration existed
    if accuracy >= target_accuracy:
        return 1, dev.get("calibrated_self_bleu", dev["self_bleu"])
    return 0, accuracy


def save_calibration(out_dir: Path, record: dict, target_accuracy: float) -> None:
    """The kept model's strength, from the dev evaluation that kept it (text calibrate writes a fuller one).
    A model that never reaches the target gets none, so it transfers as trained."""
    dev = record["dev"]
    row = {"strength": dev["strength"], "accuracy": dev["calibrated_accuracy"], "self_bleu": dev["calibrated_self_bleu"]}
    write_json(out_dir / CALIBRATION, calibration_record(row, target_accuracy, epoch=record["epoch"], step=record["step"]))


def load_corpus(data_dir: str | Path, out_dir: Path, config: CrossAlignConfig, resume: bool) -> tuple[AnyVocab, tuple, DevSet]:
    """The vocabulary (built from the training split, or the resumed run's), training ids per style, the dev set."""
    train_neg, train_pos = read_split(data_dir, "train", config.max_len)
    dev_neg, dev_pos = read_split(data_dir, "dev", config.max_len)
    if resume:
        vocab = load_vocab(out_dir)
    elif config.subword_vocab:
        vocab = SubwordVocab.train(train_neg + train_pos, config.subword_vocab)
    else:
        vocab = Vocab.build(train_neg + train_pos, config.min_count)
    save_vocab(out_dir, vocab)

    def encode(sentence: list[str]) -> list[int]:
        return vocab.encode(sentence)[: config.max_len]

    train_ids = tuple([encode(s) for s in sentences] for sentences in (train_neg, train_pos))
    dev_sentences = dev_neg + dev_pos
    dev = DevSet(dev_sentences, [encode(s) for s in dev_sentences], [0] * len(dev_neg) + [1] * len(dev_pos))
    return vocab, train_ids, dev


def mean_losses(records: list[dict[str, float]]) -> dict[str, float]:
    """Each loss's mean over the records that hold it."""
    keys = dict.fromkeys(k for r in records for k in r)
    return {k: sum(r[k] for r in records if k in r) / sum(k in r for r in records) for k in keys}


def run_config(out_dir: str | Path, file: str | Path | None, resume: bool, sets: tuple[str, ...] = (), **flags) -> CrossAlignConfig:
    """A new run's config (defaults < file < --set < flags), or a resumed run's saved config with schedule changes."""
    return core_run_config(CrossAlignConfig, out_dir, resume, RESUMABLE, file, sets, **flags)


def train(
    data_dir: str | Path,
    out_dir: str | Path,
    config: CrossAlignConfig,
    *,
    resume: bool = False,
    classifier: StyleClassifier | None = None,
    show_progress: bool = False,
) -> dict:
    """Train on DATA's train split, evaluating on its dev split after every epoch; returns the run's figures."""
    config.validate()
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT
    check_run_folder(out_dir, resume)
    device = select_device(config.device)
    flush_denormals()
    seed_everything(config.seed)
    vocab, (neg_ids, pos_ids), dev = load_corpus(data_dir, out_dir, config, resume)
    save_config(out_dir, config)

    trainer = Trainer(len(vocab), config, device)
    run = restore(trainer, out_dir, resume)

    batches_per_epoch = math.ceil(max(len(neg_ids), len(pos_ids)) / config.batch_size)
    last_step = config.epochs * batches_per_epoch
    if config.max_steps:
        last_step = min(last_step, config.max_steps)
    seconds_before = run.seconds
    out_of_time = False

    def save_checkpoint() -> str:
        run.seconds = seconds_before + loop.seconds
        save_training_state(checkpoint, trainer.state(), dataclasses.asdict(run))
        return f"{checkpoint} at step {run.step}; continue with --resume"

    recent: list[dict[str, float]] = []
    with TrainingRun(out_dir, total=last_step, done=run.step, description="cross-aligned AE", max_minutes=config.max_minutes,
                     show_progress=show_progress, save=save_checkpoint) as loop:
        while run.step < last_step and not out_of_time:
            gamma = config.gamma(run.epoch)
            batches = training_batches(neg_ids, pos_ids, config.batch_size, seed=config.seed * 100_003 + run.epoch)
            for batch in batches[run.batch :]:
                recent = (recent + [trainer.step(batch.to(device), gamma, warm_up=run.step < config.warmup_steps)])[-100:]
                run.step += 1
                run.batch += 1
                means = mean_losses(recent)
                if run.step % config.checkpoint_every == 0:
                    save_checkpoint()
                loop.advance(status=f"epoch {run.epoch + 1} rec {means['rec']:.2f} g {means['g']:.2f} "
                             f"d {means['d0']:.2f}/{means['d1']:.2f} adv {means['adv']:.0%} gamma {gamma:.3g}")
                if run.step == last_step:
                    break
                if loop.out_of_time:  # evaluate what there is, then stop
                    out_of_time = True
                    break

            dev_metrics = evaluate_dev(trainer.model, dev, vocab, config, classifier)
            record = {"epoch": run.epoch + 1, "step": run.step, "seconds": round(seconds_before + loop.seconds, 1),
                      "gamma": gamma, "train": {k: round(v, 4) for k, v in mean_losses(recent).items()},
                      "dev": {k: round(v, 4) for k, v in dev_metrics.items()}}
            loop.log(record)
            if run.best is None or selection_key(record["dev"], config.target_accuracy) > selection_key(run.best["dev"], config.target_accuracy):
                run.best = record
                save_weights(out_dir, trainer.model)
                if record["dev"].get("calibrated_accuracy", -1) >= config.target_accuracy:
                    save_calibration(out_dir, record, config.target_accuracy)
            if run.batch == len(batches):
                run.epoch, run.batch = run.epoch + 1, 0
            save_checkpoint()
            loop.check_interrupt()

    return write_figures(out_dir, "cross-aligned autoencoder (Shen et al. 2017)", data_dir, (neg_ids, pos_ids), vocab, run,
                         round(run.step / batches_per_epoch, 2), out_of_time, device,
                         f"dev self-BLEU at the calibrated strength (the smallest reaching {config.target_accuracy} % dev "
                         "transfer accuracy), among evaluations reaching it" if classifier else "dev reconstruction loss")


def restore(trainer, out_dir: Path, resume: bool) -> RunState:
    """A new run's state, or (resuming) the checkpoint's, loaded into `trainer`, with the log trimmed to it."""
    if not resume:
        return RunState()
    checkpoint = out_dir / CHECKPOINT
    states, info = load_training_state(checkpoint)
    try:
        trainer.load_state(states)
    except (RuntimeError, KeyError) as e:
        raise WeightsError(f"{checkpoint}: does not fit this run's config and vocabulary ({e})") from None
    run = RunState(**info)
    trim_log(out_dir / LOG, "step", run.step)
    return run


def write_figures(out_dir: Path, method: str, data_dir: str | Path, train_ids: tuple, vocab: AnyVocab, run: RunState,
                  epochs: float, out_of_time: bool, device: torch.device, selected_by: str, **more) -> dict:
    """figures.json: what a run trained on, how long, on what, and its kept dev evaluation; returned too."""
    figures = {"method": method, "data": str(data_dir), "train_sentences": [len(ids) for ids in train_ids],
               "vocab_size": len(vocab), **more, "steps": run.step, "epochs": epochs, "seconds": round(run.seconds, 1),
               "stopped_by_time_limit": out_of_time, "device": str(device), "machine": describe_machine(device),
               "selected_by": selected_by, "best": run.best}
    write_json(out_dir / FIGURES, figures)
    return figures
