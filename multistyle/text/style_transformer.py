"""Dai, Liang, Qiu & Huang (ACL 2019): Style Transformer, unpaired text style transfer without a disentangled latent.

A Transformer encoder-decoder reads the sentence behind a style token and writes it in that style; there is no
content code to strip style from. Training (train_style_transformer.py) teaches it three things at once:
rewriting a sentence in its own style gives it back (self-reconstruction), rewriting it in the other style and
back again gives it back (cycle reconstruction), and a discriminator reads the rewrite as the other style. The
rewrite is written with soft words (softmax(logits / temperature) times the embeddings) so both signals reach
the generator through it.

The blocks are pre-norm and keep per-layer key/value caches, so writing a sentence costs one pass per word.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.text.config import StyleTransformerConfig
from multistyle.text.data import Batch
from multistyle.text.vocab import EOS, GO, PAD


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.key_value(source).chunk(2, dim=-1)
        return self.split(k), self.split(v)

    def forward(self, x: torch.Tensor, keys_values: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, d) attending over keys_values, each (B, heads, S, d / heads); mask broadcasts to (B, 1, T, S), True = attend."""
        k, v = keys_values
        y = F.scaled_dot_product_attention(self.split(self.query(x)), k, v, attn_mask=mask,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(x.shape))


class Block(nn.Module):
    """Self-attention, (for the decoder) attention over the encoder's states, and a feed-forward layer, each pre-norm."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float, cross: bool):
        super().__init__()
        self.self_attention = Attention(dim, heads, dropout)
        self.cross_attention = Attention(dim, heads, dropout) if cross else None
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(3 if cross else 2))
        self.feed_forward = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Linear(ff, dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, memory: tuple | None = None,
                memory_mask: torch.Tensor | None = None, cache: dict | None = None) -> torch.Tensor:
        """With `cache` (decoding word by word) x holds the new positions only; their keys and values join the cache."""
        h = self.norms[0](x)
        kv = self.self_attention.keys_values(h)
        if cache is not None:
            if "self" in cache:
                kv = tuple(torch.cat([old, new], dim=2) for old, new in zip(cache["self"], kv))
            cache["self"] = kv
        x = x + self.dropout(self.self_attention(h, kv, mask))
        if self.cross_attention is not None:
            x = x + self.dropout(self.cross_attention(self.norms[1](x), memory, memory_mask))
        return x + self.dropout(self.feed_forward(self.norms[-1](x)))


def causal_mask(length: int, device: torch.device) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(B, 1, 1, width): True on each sentence's first `lengths` positions."""
    return (torch.arange(width, device=lengths.device) < lengths.unsqueeze(1)).view(len(lengths), 1, 1, width)


def lengths_until_eos(words: torch.Tensor) -> torch.Tensor:
    """(B,) the number of words before the first <eos> of each row of (B, T) ids (T if none; at least 1). A rewrite is
    read up to there, as a real sentence is read without its <eos>: the discriminator gets no cue from the ending."""
    return (torch.cumsum(words == EOS, dim=1) == 0).sum(dim=1).clamp(min=1)


class Encoded:
    """The encoder's output for a batch, ready for the decoder: each layer's keys and values over it, and its mask."""

    def __init__(self, model: "StyleTransformer", states: torch.Tensor, mask: torch.Tensor):
        self.mask = mask
        self.keys_values = [block.cross_attention.keys_values(states) for block in model.decoder]

    @classmethod
    def cat(cls, parts: list["Encoded"]) -> "Encoded":
        """The encodings one after another, as one batch."""
        joined = object.__new__(cls)
        joined.mask = torch.cat([p.mask for p in parts])
        joined.keys_values = [tuple(torch.cat(t) for t in zip(*layer)) for layer in zip(*(p.keys_values for p in parts))]
        return joined


class StyleTransformer(nn.Module):
    """Encoder and decoder sharing one word embedding, which is also the output layer's weight."""

    def __init__(self, vocab_size: int, config: StyleTransformerConfig):
        super().__init__()
        d = config.d_model
        self.embedding = nn.Embedding(vocab_size, d, padding_idx=PAD)
        self.position = nn.Embedding(config.max_len + 2, d)  # the style token, then up to max_len + 1 words
        self.style = nn.Embedding(2, d)
        self.encoder = nn.ModuleList(Block(d, config.heads, config.ff, config.dropout, cross=False) for _ in range(config.layers))
        self.decoder = nn.ModuleList(Block(d, config.heads, config.ff, config.dropout, cross=True) for _ in range(config.layers))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout = nn.Dropout(config.dropout)
        for name, p in self.named_parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)
            if name.endswith("out.weight") or name.endswith("feed_forward.2.weight"):  # residual branches start small
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * config.layers))

    @property
    def vocab_size(self) -> int:
        return self.embedding.num_embeddings

    def word_vectors(self, words: torch.Tensor) -> torch.Tensor:
        """(B, T) ids, or (B, T, V) soft words (distributions over the vocabulary), as (B, T, d)."""
        return words @ self.embedding.weight if words.is_floating_point() else self.embedding(words)

    def style_vector(self, labels: torch.Tensor, strength: float = 0.0) -> torch.Tensor:
        """The style token of `labels`, pushed `strength` times its distance further from the other style's
        (0: as trained; higher flips more sentences and keeps fewer words, as for the cross-aligned model)."""
        own = self.style(labels)
        return own if strength == 0 else own + strength * (own - self.style(1 - labels))

    def encode(self, words: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, strength: float = 0.0) -> Encoded:
        """The sentence (ids or soft words, (B, T)), read behind the style token of `labels`."""
        width = words.shape[1] + 1
        x = torch.cat([self.style_vector(labels, strength).unsqueeze(1), self.word_vectors(words)], dim=1)
        x = self.dropout(x + self.position.weight[:width])
        mask = padding_mask(lengths + 1, width)
        for block in self.encoder:
            x = block(x, mask)
        return Encoded(self, self.encoder_norm(x), mask)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        return self.decoder_norm(states) @ self.embedding.weight.T + self.output_bias

    def teacher_forced(self, encoded: Encoded, decoder_input: torch.Tensor) -> torch.Tensor:
        """Next-word logits (B, T, V) after each word of <go> w1 .. wn (ids or soft words)."""
        width = decoder_input.shape[1]
        x = self.dropout(self.word_vectors(decoder_input) + self.position.weight[:width])
        mask = causal_mask(width, x.device)
        for block, memory in zip(self.decoder, encoded.keys_values):
            x = block(x, mask, memory, encoded.mask)
        return self.logits(x)

    def step(self, encoded: Encoded, vectors: torch.Tensor, position: int, caches: list[dict]) -> torch.Tensor:
        """Next-word logits (B, V) after one more input vector (B, d) at `position`, extending `caches` (one per layer)."""
        x = self.dropout(vectors + self.position.weight[position]).unsqueeze(1)
        for block, memory, cache in zip(self.decoder, encoded.keys_values, caches):
            x = block(x, None, memory, encoded.mask, cache)
        return self.logits(x[:, 0])

    def soft_generate(self, encoded: Encoded, steps: int, temperature: float) -> torch.Tensor:
        """Soft words (B, steps, V) written freely, each fed back as softmax(logits / temperature) @ embeddings."""
        n = encoded.mask.shape[0]
        vectors, caches, words = self.embedding.weight[GO].expand(n, -1), [{} for _ in self.decoder], []
        for t in range(steps):
            probabilities = F.softmax(self.step(encoded, vectors, t, caches) / temperature, dim=-1)
            words.append(probabilities)
            vectors = probabilities @ self.embedding.weight
        return torch.stack(words, dim=1)

    def sentence_nll(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) cross-entropy of each sentence's words and <eos>, summed over the sentence."""
        return F.cross_entropy(logits.transpose(1, 2), target, ignore_index=PAD, reduction="none").sum(dim=1)

    def reconstruction_nll(self, batch: Batch) -> torch.Tensor:
        """(B,) loss of rewriting each sentence in the style of batch.labels, teacher-forced (the cross-aligned model's
        name for it: the dev loss and each sentence's likelier style use it)."""
        encoded = self.encode(batch.decoder_input[:, 1:], batch.lengths.to(batch.labels.device), batch.labels)
        return self.sentence_nll(self.teacher_forced(encoded, batch.decoder_input), batch.target)


class StyleDiscriminator(nn.Module):
    """A Transformer encoder reading a sentence (ids or soft words) behind a class token.

    "multi" (Dai et al.'s multi-class discriminator): three classes, 0 for a rewrite, 1 + s for a real sentence of style s.
    "conditional": the class token is the style asked about, and two classes, 1 for a real sentence of that style.
    """

    def __init__(self, vocab_size: int, config: StyleTransformerConfig):
        super().__init__()
        d = config.d_model
        self.conditional = config.discriminator == "conditional"
        self.embedding = nn.Embedding(vocab_size, d, padding_idx=PAD)
        self.position = nn.Embedding(config.max_len + 2, d)
        self.token = nn.Embedding(2 if self.conditional else 1, d)
        self.blocks = nn.ModuleList(Block(d, config.heads, config.ff, config.dropout, cross=False)
                                    for _ in range(config.discriminator_layers))
        self.norm = nn.LayerNorm(d)
        self.classify = nn.Linear(d, 2 if self.conditional else 3)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, words: torch.Tensor, lengths: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """Class logits (B, classes); `styles` picks the class token of the conditional discriminator."""
        vectors = words @ self.embedding.weight if words.is_floating_point() else self.embedding(words)
        token = self.token(styles if self.conditional else torch.zeros_like(styles))
        width = words.shape[1] + 1
        x = torch.cat([token.unsqueeze(1), vectors], dim=1) + self.position.weight[:width]
        mask = padding_mask(lengths + 1, width)
        for block in self.blocks:
            x = block(x, mask)
        return self.classify(self.norm(x[:, 0]))

    def labels(self, styles: torch.Tensor, real: bool) -> torch.Tensor:
        """The class a sentence of `styles` should get: real, or a rewrite into that style."""
        if self.conditional:
            return torch.full_like(styles, int(real))
        return styles + 1 if real else torch.zeros_like(styles)
