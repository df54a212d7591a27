"""The fluency language model: a small word-level GPT-2 (transformers), built from a config and trained here.

Nothing is downloaded: the architecture comes from GPT2Config, the weights from our own training split.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.errors import InputError
from multistyle.text.config import EvaluatorConfig
from multistyle.text.data import Sentences, make_batch
from multistyle.text.fit import fit
from multistyle.text.vocab import EOS, GO, PAD, Vocab

TIED = "lm_head.weight"  # GPT-2 ties its output layer to the input embedding; saved once, as the latter


def build_gpt2(vocab_size: int, config: EvaluatorConfig) -> nn.Module:
    from multistyle.text.metrics import require_eval_extra

    transformers = require_eval_extra("transformers")  # imported here: it takes seconds
    GPT2Config, GPT2LMHeadModel = transformers.GPT2Config, transformers.GPT2LMHeadModel

    gpt2_config = GPT2Config(
        vocab_size=vocab_size, n_positions=config.max_len + 1, n_embd=config.lm_dim, n_layer=config.lm_layers,
        n_head=config.lm_heads, resid_pdrop=config.lm_dropout, embd_pdrop=config.lm_dropout, attn_pdrop=config.lm_dropout,
        bos_token_id=GO, eos_token_id=EOS, pad_token_id=PAD,
    )
    return GPT2LMHeadModel(gpt2_config)


class LanguageModel:
    def __init__(self, net: nn.Module, vocab: Vocab, max_len: int):
        self.net, self.vocab, self.max_len = net, vocab, max_len

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def token_losses(self, sentences: Sentences) -> tuple[torch.Tensor, int]:
        """Summed negative log-likelihood of every word and <eos> given its prefix, and the number of those tokens.

        """
        batch = make_batch([self.vocab.encode(s[: self.max_len]) for s in sentences], [0] * len(sentences)).to(self.device)
        logits = self.net(input_ids=batch.decoder_input, attention_mask=(batch.decoder_input != PAD).long()).logits
        nll = F.cross_entropy(logits.flatten(0, 1), batch.target.flatten(), ignore_index=PAD, reduction="sum")
        return nll, int((batch.target != PAD).sum())

    @torch.no_grad()
    def perplexity(self, sentences: Sentences, batch_size: int = 256) -> float:
        self.net.eval()
        total, count = 0.0, 0
        for start in range(0, len(sentences), batch_size):
            nll, n = self.token_losses(sentences[start : start + batch_size])
            total, count = total + float(nll), count + n
        return math.exp(total / max(1, count))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.net.state_dict().items() if k != TIED}

    @classmethod
    def from_state_dict(cls, weights: dict[str, torch.Tensor], vocab: Vocab, config: EvaluatorConfig, source: str) -> "LanguageModel":
        net = build_gpt2(len(vocab), config)
        try:
            missing, unexpected = net.load_state_dict(weights, strict=False)
        except RuntimeError as e:
            raise InputError(f"{source}: language model weights do not fit the config ({str(e).strip().splitlines()[-1].strip()})") from None
        if unexpected or set(missing) - {TIED}:
            raise InputError(f"{source}: not weights of this language model (missing {len(missing)}, unexpected {len(unexpected)} tensors)")
        return cls(net.eval(), vocab, config.max_len)


def train_language_model(
    sentences: Sentences, vocab: Vocab, config: EvaluatorConfig, device: torch.device, show_progress: bool = False
) -> tuple[LanguageModel, int]:
    """The trained language model and the number of steps it took."""
    lm = LanguageModel(build_gpt2(len(vocab), config).to(device), vocab, config.max_len)

    def batch_loss(batch: Sentences) -> torch.Tensor:
        nll, n = lm.token_losses(batch)
        return nll / n

    steps = fit(lm.net, sentences, batch_loss, epochs=config.lm_epochs, batch_size=config.batch_size, lr=config.lr,
                max_steps=config.max_steps, seed=config.seed, description="language model", show_progress=show_progress)
    lm.net.eval()
    return lm, steps
