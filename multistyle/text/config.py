"""Configs of the text models: the cross-aligned autoencoder and the evaluators (classifier, language model)."""
import math
from dataclasses import dataclass

from multistyle.errors import InputError


@dataclass
class CrossAlignConfig:
    """Shen et al. (2017)'s settings; configs/text/yelp_crossalign.toml repeats them."""

    # data
    max_len: int = 20  # tokens; longer training sentences are truncated
    min_count: int = 5  # a word enters the vocabulary when the training split has it this often
    subword_vocab: int = 0  # > 0: a SentencePiece vocabulary of this many pieces instead of words (max_len then counts pieces)
    # model
    dim_emb: int = 100
    dim_y: int = 200  # style part of the generator's initial state
    dim_z: int = 500  # content part: the encoder's code
    dropout: float = 0.5
    filter_sizes: tuple[int, ...] = (1, 2, 3, 4, 5)  # discriminators' TextCNN
    n_filters: int = 128
    # training
    batch_size: int = 64  # sentences of each style per batch
    lr: float = 5e-4
    adam_betas: tuple[float, ...] = (0.9, 0.999)
    rho: float = 1.0  # weight of the adversarial term
    adv_threshold: float = 1.2  # the autoencoder takes the adversarial term only while both discriminators' losses are below this
    warmup_steps: int = 0  # the autoencoder only reconstructs for this many first steps (the discriminators still learn)
    adv_grad_cap: float = 0.0  # if > 0, the adversarial gradient's norm is capped at this multiple of the reconstruction gradient's
    gamma_init: float = 0.1  # softmax temperature of the free-running generator
    gamma_decay: float = 0.5  # per epoch
    gamma_min: float = 0.001
    epochs: int = 20
    max_steps: int = 0  # stop after this many steps in all; 0: run every epoch
    max_minutes: float = 0.0  # stop this run after this long (dev evaluation, checkpoint; --resume continues); 0: no limit
    checkpoint_every: int = 1000  # steps
    target_accuracy: float = 80.0  # dev transfer accuracy (%) each evaluation is calibrated to; the kept one has the most self-BLEU there
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        positive = ("max_len", "min_count", "dim_emb", "dim_y", "dim_z", "n_filters", "batch_size", "epochs", "checkpoint_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if not 0 <= self.dropout < 1:
            raise InputError("dropout must be in [0, 1)")
        if not self.filter_sizes or min(self.filter_sizes) < 1:
            raise InputError("filter_sizes must be positive widths")
        if not 0 < self.gamma_min <= self.gamma_init or not 0 < self.gamma_decay <= 1:
            raise InputError("need 0 < gamma_min <= gamma_init and 0 < gamma_decay <= 1")
        if self.subword_vocab and self.subword_vocab < 100:
            raise InputError("subword_vocab must be 0 (words) or at least 100 pieces")
        if self.lr <= 0 or min(self.max_steps, self.max_minutes, self.warmup_steps, self.adv_grad_cap) < 0:
            raise InputError("lr must be positive, and max_steps, max_minutes, warmup_steps and adv_grad_cap non-negative")

    def gamma(self, epoch: int) -> float:
        return max(self.gamma_min, self.gamma_init * self.gamma_decay**epoch)


@dataclass
class StyleTransformerConfig:
    """Dai et al. (2019)'s Style Transformer; configs/text/style_transformer.toml repeats the paper's settings."""

    model: str = "style-transformer"  # marks the run folder's config.json as this model's
    # data
    max_len: int = 20  # tokens; longer training sentences are truncated
    min_count: int = 5
    subword_vocab: int = 0
    # model
    d_model: int = 256
    heads: int = 4
    layers: int = 4  # encoder and decoder each
    ff: int = 1024  # feed-forward width
    dropout: float = 0.0
    discriminator: str = "multi"  # multi (3 classes: rewrite, negative, positive) or conditional (real or not, given a style)
    discriminator_layers: int = 4
    # training
    batch_size: int = 64  # sentences of each style per batch
    lr: float = 1e-4  # both players, Adam
    pretrain_steps: int = 500  # self-reconstruction alone first
    d_steps: int = 2  # discriminator updates before each generator update (the paper: 10 per 5)
    self_weight: float = 0.25
    cycle_weight: float = 0.5
    style_weight: float = 1.0  # the discriminator's signal
    temperature: float = 1.0  # of the soft words the rewrite is written in
    grad_clip: float = 5.0
    max_steps: int = 10000  # generator updates in all
    max_minutes: float = 0.0  # stop this run after this long (dev evaluation, checkpoint; --resume continues); 0: no limit
    checkpoint_every: int = 100  # generator updates
    eval_every: int = 500  # generator updates between dev evaluations
    dev_sentences: int = 500  # of each style, from the start of the dev split, at each evaluation
    target_accuracy: float = 88.0  # dev transfer accuracy (%) each evaluation is calibrated to; the kept one has the most self-BLEU there
    seed: int = 0
    device: str = "auto"

    def validate(self) -> None:
        positive = ("max_len", "min_count", "d_model", "heads", "layers", "ff", "discriminator_layers", "batch_size",
                    "checkpoint_every", "eval_every", "dev_sentences", "max_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if self.model != "style-transformer":
            raise InputError(f"model must be 'style-transformer' in this config, not {self.model!r}")
        if self.d_model % self.heads:
            raise InputError("d_model must be a multiple of heads")
        if self.discriminator not in ("multi", "conditional"):
            raise InputError(f"discriminator must be multi or conditional, not {self.discriminator!r}")
        if not 0 <= self.dropout < 1:
            raise InputError("dropout must be in [0, 1)")
        if self.subword_vocab and self.subword_vocab < 100:
            raise InputError("subword_vocab must be 0 (words) or at least 100 pieces")
        if self.lr <= 0 or self.temperature <= 0 or self.grad_clip <= 0:
            raise InputError("lr, temperature and grad_clip must be positive")
        if min(self.pretrain_steps, self.d_steps, self.self_weight, self.cycle_weight, self.style_weight, self.max_minutes) < 0:
            raise InputError("pretrain_steps, d_steps, the loss weights and max_minutes must not be negative")


@dataclass
class EvaluatorConfig:
    """The style classifier (a TextCNN, as Shen et al. evaluated with) and the fluency language model (a small GPT-2)."""

    max_len: int = 50  # tokens seen by either model
    min_count: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    # classifier
    classifier_epochs: int = 2
    classifier_dim_emb: int = 100
    classifier_filter_sizes: tuple[int, ...] = (3, 4, 5)
    classifier_n_filters: int = 128
    classifier_dropout: float = 0.5
    # language model
    lm_epochs: int = 1
    lm_layers: int = 2
    lm_dim: int = 128
    lm_heads: int = 4
    lm_dropout: float = 0.1
    max_steps: int = 0  # per model; 0: full epochs

    def validate(self) -> None:
        for name in ("max_len", "min_count", "batch_size", "classifier_dim_emb", "classifier_n_filters", "lm_layers", "lm_dim", "lm_heads"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if self.classifier_epochs < 0 or self.lm_epochs < 0 or self.max_steps < 0:
            raise InputError("epochs and max_steps must not be negative")
        if self.lm_dim % self.lm_heads:
            raise InputError("lm_dim must be a multiple of lm_heads")


@dataclass
class SelectorConfig:
    """The selection models (`text train-selector`, see multistyle.text.selector) and the rule that picks a candidate."""

    max_len: int = 20  # training sentences are truncated to the autoencoder's length
    batch_size: int = 64
    seed: int = 1  # the evaluator's is 0
    device: str = "auto"
    # classifier: logistic regression on words and hashed bigrams
    buckets: int = 131072
    classifier_epochs: int = 2
    classifier_lr: float = 0.01
    # language model: one GRU layer
    lm_dim_emb: int = 128
    lm_dim_h: int = 256
    lm_epochs: int = 1
    lr: float = 1e-3
    # selection
    # (strength, copy bonus[, LM weight]) of each candidate: chosen on the dev split from an 8 x 4 grid (strengths 0-2, bonuses 0-4) by
    # recipes/text_selector_search.py
    candidates: tuple[tuple[float, ...], ...] = ((0.0, 0.0), (0.35, 0.0), (0.35, 4.0), (0.7, 0.0), (0.7, 2.0), (0.7, 4.0),
                                                 (1.0, 0.0), (1.5, 2.0), (1.5, 4.0), (2.0, 4.0))
    threshold: float = 0.35  # a candidate is accepted when the classifier gives the target style at least this
    fluency_weight: float = 0.3  # of the mean log-probability per token, against the content overlap in [0, 1]

    def validate(self) -> None:
        for name in ("max_len", "batch_size", "buckets", "lm_dim_emb", "lm_dim_h"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1")
        if self.classifier_epochs < 0 or self.lm_epochs < 0 or self.lr <= 0 or self.classifier_lr <= 0:
            raise InputError("epochs must not be negative and learning rates must be positive")
        if not self.candidates or any(len(c) not in (2, 3) or c[0] < 0 or min(c[2:], default=0) < 0 or not all(map(math.isfinite, c))
                                      for c in self.candidates):
            raise InputError("candidates must be a non-empty list of [strength >= 0, copy bonus] or [strength, copy bonus, "
                             "LM weight >= 0] (a negative bonus is a copy penalty; an LM weight, the Style Transformer's, "
                             "adds the selector's language model to its decoding)")
        if not 0 < self.threshold < 1 or self.fluency_weight < 0:
            raise InputError("threshold must be in (0, 1) and fluency_weight >= 0")


@dataclass
class TransferConfig:
    """Settings of `text transfer` (and the defaults of TextTransfer's call)."""

    to: str = "flip"  # positive, negative, or flip (each sentence to the style it lacks)
    beam: int = 1  # beam width; 1 is greedy decoding
    strength: float | None = None  # style strength; None: the model's calibrated one, or per sentence with select
    select: bool = True  # pick among the selector's strength ladder per sentence (when the model has a selector)
    keep_tokens: bool = False  # space-separated corpus tokens instead of detokenised text
    device: str = "auto"


@dataclass
class CalibrationConfig:
    """Settings of `text calibrate`: the strengths swept and the dev accuracy the chosen one must reach."""

    accuracy: float = 80.0  # dev transfer accuracy (%)
    step: float = 0.05  # strengths tried: 0, step, 2 step, ...
    max_strength: float = 1.0
    beam: int = 1
    device: str = "auto"


@dataclass
class EvaluationConfig:
    """Settings of `text evaluate`."""

    beam: int = 1  # beam width for --model
    strength: float | None = None  # style strength for --model; None: its calibrated one, or per sentence with select
    select: bool = True  # --model picks among its selector's strength ladder per sentence
    peers: bool = False  # also score every system in DATA/peers
    by_direction: bool = False  # add a table that scores each direction alone
    device: str = "auto"
