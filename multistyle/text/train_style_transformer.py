"""Training the Style Transformer (Dai et al. 2019): checkpointed, resumable, in pieces.

One step is `d_steps` discriminator updates and then one generator update, each on a fresh batch holding both
styles (the paper alternates 10 and 5). For its first `pretrain_steps` the generator only reconstructs and the
discriminator waits. After that the generator's loss is

    self_weight * (rewrite x in its own style s: teacher-forced NLL of x)
  + cycle_weight * (write x in the other style with soft words, read that back in style s: NLL of x)
  + style_weight * (the discriminator's cross-entropy of that rewrite against "real, style not-s")

and the discriminator learns to tell real sentences (and the generator's rewrites in their own style) from its
rewrites into the other style. The rewrite is soft, so both the cycle and the style signal reach the generator.

OUT/ holds what the cross-aligned trainer's folder holds (config.json with "model": "style-transformer", vocab.txt,
model.safetensors, calibration.json, figures.json, log.jsonl, checkpoint/); every `eval_every` steps the dev
evaluation may replace model.safetensors (multistyle.text.train.selection_key; without an evaluator's classifier,
the latest evaluation is kept).
"""
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_

from multistyle.core.checkpoint import save_training_state
from multistyle.core.run import CHECKPOINT, TrainingRun, check_run_folder
from multistyle.core.run import run_config as core_run_config
from multistyle.core.runtime import flush_denormals, seed_everything, select_device
from multistyle.text.bundle import save_config, save_weights
from multistyle.text.classifier import StyleClassifier
from multistyle.text.config import StyleTransformerConfig
from multistyle.text.data import Batch, training_batches
from multistyle.text.style_transformer import StyleDiscriminator, StyleTransformer, lengths_until_eos
from multistyle.text.train import (
    DevSet,
    evaluate_dev,
    load_corpus,
    mean_losses,
    restore,
    restore_rng,
    rng_states,
    save_calibration,
    selection_key,
    write_figures,
)

# What a resumed run may change: its length and schedule, and the balance of its losses (a later piece may push
# harder on style once reconstruction is learnt).
RESUMABLE = ("max_steps", "max_minutes", "checkpoint_every", "eval_every", "d_steps", "self_weight", "cycle_weight",
             "style_weight", "device")

log = logging.getLogger(__name__)


def source_words(batch: Batch) -> torch.Tensor:
    return batch.decoder_input[:, 1:]


class Trainer:
    """The Style Transformer, its discriminator, and their optimisers."""

    def __init__(self, vocab_size: int, config: StyleTransformerConfig, device: torch.device):
        self.config, self.device = config, device
        self.model = StyleTransformer(vocab_size, config).to(device)
        self.discriminator = StyleDiscriminator(vocab_size, config).to(device)
        self.f_optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr)

    def rewrite(self, batch: Batch, styles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each sentence written in `styles` as soft words (B, T, V), and their lengths up to the first likeliest <eos>.
        Three words longer than the batch's longest source at most (the model's own limit otherwise)."""
        lengths = batch.lengths.to(self.device)
        encoded = self.model.encode(source_words(batch), lengths, styles)
        steps = min(self.config.max_len + 1, batch.target.shape[1] + 3)
        soft = self.model.soft_generate(encoded, steps, self.config.temperature)
        return soft, lengths_until_eos(soft.argmax(dim=-1))

    def d_step(self, batch: Batch) -> float:
        """One discriminator update: real sentences and own-style rewrites as real, other-style rewrites as not."""
        styles, other = batch.labels, 1 - batch.labels
        self.model.eval()  # each player is read in eval mode while the other learns
        self.discriminator.train()
        with torch.no_grad():
            own, own_lengths = self.rewrite(batch, styles)
            flipped, flipped_lengths = self.rewrite(batch, other)
        d = self.discriminator
        real_lengths = batch.lengths.to(self.device)
        parts = [(source_words(batch), real_lengths, styles, True), (own, own_lengths, styles, True),
                 (flipped, flipped_lengths, other, False)]
        if d.conditional:  # a real sentence asked about the style it lacks is "not real in that style"
            parts.append((source_words(batch), real_lengths, other, False))
        loss = sum(F.cross_entropy(d(words, lengths, asked), d.labels(asked, real)) for words, lengths, asked, real in parts)
        self.d_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm_(d.parameters(), self.config.grad_clip)
        self.d_optimizer.step()
        return loss.item() / len(parts)

    def f_step(self, batch: Batch, pretraining: bool) -> dict[str, float]:
        """One generator update; while pretraining, self-reconstruction alone."""
        config = self.config
        self.model.train()
        self.discriminator.eval()
        self_loss = self.model.reconstruction_nll(batch).mean()
        losses = {"self": self_loss.item(), "cycle": 0.0, "style": 0.0}
        loss = config.self_weight * self_loss
        if not pretraining:
            other = 1 - batch.labels
            soft, lengths = self.rewrite(batch, other)
            encoded = self.model.encode(soft, lengths, batch.labels)
            cycle = self.model.sentence_nll(self.model.teacher_forced(encoded, batch.decoder_input), batch.target).mean()
            style = F.cross_entropy(self.discriminator(soft, lengths, other), self.discriminator.labels(other, real=True))
            loss = loss + config.cycle_weight * cycle + config.style_weight * style
            losses.update(cycle=cycle.item(), style=style.item())
        params = list(self.model.parameters())
        self.f_optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=params)  # the discriminator is only read here
        clip_grad_norm_(params, config.grad_clip)
        self.f_optimizer.step()
        return losses

    def state(self) -> dict:
        rng = rng_states(self.device)
        return {"model": self.model.state_dict(), "discriminator": self.discriminator.state_dict(),
                "f_optimizer": self.f_optimizer.state_dict(), "d_optimizer": self.d_optimizer.state_dict(), "rng": rng}

    def load_state(self, states: dict) -> None:
        self.model.load_state_dict(states["model"])
        self.discriminator.load_state_dict(states["discriminator"])
        self.f_optimizer.load_state_dict(states["f_optimizer"])
        self.d_optimizer.load_state_dict(states["d_optimizer"])
        restore_rng(states["rng"], self.device)


def run_config(out_dir: str | Path, file: str | Path | None, resume: bool, sets: tuple[str, ...] = (), **flags) -> StyleTransformerConfig:
    """A new run's config (defaults < file < --set < flags), or a resumed run's saved config with schedule changes."""
    return core_run_config(StyleTransformerConfig, out_dir, resume, RESUMABLE, file, sets, **flags)


def dev_subset(dev: DevSet, per_style: int) -> DevSet:
    """The first `per_style` dev sentences of each style (load_corpus puts the negatives first)."""
    keep = [i for style in (0, 1) for i in [j for j, label in enumerate(dev.labels) if label == style][:per_style]]
    return DevSet([dev.sentences[i] for i in keep], [dev.ids[i] for i in keep], [dev.labels[i] for i in keep])


def train(data_dir: str | Path, out_dir: str | Path, config: StyleTransformerConfig, *, resume: bool = False,
          classifier: StyleClassifier | None = None, show_progress: bool = False) -> dict:
    """Train on DATA's train split, evaluating on the start of its dev split every `eval_every` steps; returns the figures."""
    config.validate()
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT
    check_run_folder(out_dir, resume)
    device = select_device(config.device)
    flush_denormals()
    seed_everything(config.seed)
    vocab, (neg_ids, pos_ids), dev = load_corpus(data_dir, out_dir, config, resume)
    dev = dev_subset(dev, config.dev_sentences)
    save_config(out_dir, config)

    trainer = Trainer(len(vocab), config, device)
    run = restore(trainer, out_dir, resume)
    seconds_before = run.seconds

    def batches() -> Iterator[Batch]:
        """Training batches from where the run stands, epoch after epoch; run.epoch and run.batch follow them."""
        while True:
            epoch = training_batches(neg_ids, pos_ids, config.batch_size, seed=config.seed * 100_003 + run.epoch)
            while run.batch < len(epoch):
                run.batch += 1
                yield epoch[run.batch - 1].to(device)
            run.epoch, run.batch = run.epoch + 1, 0

    def save_checkpoint() -> str:
        run.seconds = seconds_before + loop.seconds
        save_training_state(checkpoint, trainer.state(), dataclasses.asdict(run))
        return f"{checkpoint} at step {run.step}; continue with --resume"

    def evaluate() -> None:
        metrics = evaluate_dev(trainer.model, dev, vocab, config, classifier)
        record = {"epoch": run.epoch + 1, "step": run.step, "seconds": round(seconds_before + loop.seconds, 1),
                  "train": {k: round(v, 4) for k, v in mean_losses(recent).items()},
                  "dev": {k: round(v, 4) for k, v in metrics.items()}}
        loop.log(record)
        # Without a classifier the dev loss would keep the end of pretraining, a copier: keep the latest instead.
        latest = classifier is None
        if latest or run.best is None or selection_key(record["dev"], config.target_accuracy) > selection_key(run.best["dev"], config.target_accuracy):
            run.best = record
            save_weights(out_dir, trainer.model)
            if record["dev"].get("calibrated_accuracy", -1) >= config.target_accuracy:
                save_calibration(out_dir, record, config.target_accuracy)

    stream = batches()
    recent: list[dict[str, float]] = []
    out_of_time = False
    with TrainingRun(out_dir, total=config.max_steps, done=run.step, description="style transformer",
                     max_minutes=config.max_minutes, show_progress=show_progress, save=save_checkpoint) as loop:
        while run.step < config.max_steps:
            pretraining = run.step < config.pretrain_steps
            d_losses = [] if pretraining else [trainer.d_step(next(stream)) for _ in range(config.d_steps)]
            losses = trainer.f_step(next(stream), pretraining)
            if d_losses:
                losses["d"] = sum(d_losses) / len(d_losses)
            recent = (recent + [losses])[-100:]
            run.step += 1
            means = mean_losses(recent)
            out_of_time = loop.out_of_time
            if run.step % config.eval_every == 0 or run.step == config.max_steps or out_of_time:
                evaluate()  # before advance(), which would save and stop on a Ctrl-C without it
                save_checkpoint()
            elif run.step % config.checkpoint_every == 0:
                save_checkpoint()
            loop.advance(status=f"{'pretraining ' if pretraining else ''}self {means['self']:.2f} cycle {means['cycle']:.2f} "
                         f"style {means['style']:.2f}" + (f" d {means['d']:.2f}" if "d" in means else ""))
            if out_of_time:
                break

    epochs = round(run.epoch + run.batch / -(-max(len(neg_ids), len(pos_ids)) // config.batch_size), 2)
    selected_by = (f"dev self-BLEU at the calibrated strength (the smallest reaching {config.target_accuracy} % dev transfer "
                   "accuracy), among evaluations reaching it" if classifier else "the latest dev evaluation")
    return write_figures(out_dir, "Style Transformer (Dai et al. 2019)", data_dir, (neg_ids, pos_ids), vocab, run, epochs,
                         out_of_time, device, selected_by, parameters=sum(p.numel() for p in trainer.model.parameters()))
