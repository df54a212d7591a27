"""Shen, Lei, Barzilay & Jaakkola (NIPS 2017): style transfer from non-parallel text by cross-alignment.

An encoder E(x, y) maps a sentence and its style to a content code z; a generator G(y, z) is a GRU
whose initial state is [style vector of y; z]. Transfer is G(y', E(x, y)). Training aligns, per
style, the generator's hidden states when it reconstructs real sentences (teacher forcing) with
those when it writes sentences transferred from the other style (free-running on soft words);
train.py holds the discriminators and the losses.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from multistyle.text.config import CrossAlignConfig
from multistyle.text.data import Batch
from multistyle.text.vocab import GO, PAD


class CrossAlignedAutoencoder(nn.Module):
    """Encoder and generator GRUs sharing one word embedding; hidden size dim_y + dim_z."""

    def __init__(self, vocab_size: int, config: CrossAlignConfig):
        super().__init__()
        self.dim_y = config.dim_y
        dim_h = config.dim_y + config.dim_z
        self.embedding = nn.Embedding(vocab_size, config.dim_emb, padding_idx=PAD)  # shared by E, G and soft words
        self.encoder_style = nn.Embedding(2, config.dim_y)
        self.encoder = nn.GRU(config.dim_emb, dim_h, batch_first=True)
        self.generator_style = nn.Embedding(2, config.dim_y)
        self.generator = nn.GRU(config.dim_emb, dim_h, batch_first=True)
        self.project = nn.Linear(dim_h, vocab_size)
        self.dropout = nn.Dropout(config.dropout)

    @property
    def vocab_size(self) -> int:
        return self.embedding.num_embeddings

    def encode(self, batch: Batch) -> torch.Tensor:
        """Content codes z (B, dim_z). The encoder starts from [style vector; 0] and keeps the part beyond dim_y."""
        style = self.encoder_style(batch.labels)
        h0 = torch.cat([style, style.new_zeros(len(batch), self.encoder.hidden_size - self.dim_y)], dim=1)
        words = self.dropout(self.embedding(batch.encoder_input))
        _, h = self.encoder(pack_padded_sequence(words, batch.lengths, batch_first=True, enforce_sorted=False), h0.unsqueeze(0))
        return h[0, :, self.dim_y :]

    def style_vector(self, labels: torch.Tensor, strength: float = 0.0) -> torch.Tensor:
        """The generator's vector for style `labels`, pushed `strength` times its distance further from the other style's.

        Strength 0 is the model as trained; above it, transfer accuracy rises and content falls.
        """
        own = self.generator_style(labels)
        return own if strength == 0 else own + strength * (own - self.generator_style(1 - labels))

    def initial_state(self, z: torch.Tensor, labels: torch.Tensor, strength: float = 0.0) -> torch.Tensor:
        """The generator's h0 for writing content z in style `labels` (at `strength`, see style_vector)."""
        return torch.cat([self.style_vector(labels, strength), z], dim=1)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.project(self.dropout(hidden))

    def teacher_forced(self, h0: torch.Tensor, decoder_input: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, dim_h) after each word of <go> w1 .. wn."""
        hidden, _ = self.generator(self.dropout(self.embedding(decoder_input)), h0.unsqueeze(0))
        return hidden

    def step(self, word_vectors: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One generator step from (B, dim_emb) input vectors: (next-word logits, new state)."""
        _, h = self.generator(self.dropout(word_vectors).unsqueeze(1), h.unsqueeze(0))
        return self.logits(h[0]), h[0]

    def go_vectors(self, n: int) -> torch.Tensor:
        return self.embedding.weight[GO].expand(n, -1)

    def soft_rollout(self, h0: torch.Tensor, steps: int, gamma: float) -> torch.Tensor:
        """Free-running hidden states (B, steps, dim_h), feeding back softmax(logits / gamma) @ embeddings.

        The soft word keeps the rollout differentiable; a small gamma makes it close to the argmax word.
        """
        x, h, states = self.go_vectors(len(h0)), h0, []
        for _ in range(steps):
            logits, h = self.step(x, h)
            states.append(h)
            x = F.softmax(logits / gamma, dim=-1) @ self.embedding.weight
        return torch.stack(states, dim=1)

    def sentence_nll(self, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B,) cross-entropy of each sentence's words and <eos>, summed over the sentence."""
        return F.cross_entropy(self.logits(hidden).transpose(1, 2), target, ignore_index=PAD, reduction="none").sum(dim=1)

    def reconstruction_nll(self, batch: Batch) -> torch.Tensor:
        """(B,) loss of rewriting each sentence in its own style, teacher-forced."""
        hidden = self.teacher_forced(self.initial_state(self.encode(batch), batch.labels), batch.decoder_input)
        return self.sentence_nll(hidden, batch.target)

    def forward(self, batch: Batch, gamma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction loss, real hidden sequences, transferred hidden sequences), both (B, n + 2, dim_h).

        The loss is per sentence, summed over its words, as in the paper: that sets its balance with
        the adversarial term. Real: h0 in the sentence's own style, then the teacher-forced states.
        Transferred: h0 in the other style, then as many free-running states.
        """
        z = self.encode(batch)
        h_own = self.initial_state(z, batch.labels)
        h_other = self.initial_state(z, 1 - batch.labels)
        teacher = self.teacher_forced(h_own, batch.decoder_input)
        real = torch.cat([h_own.unsqueeze(1), teacher], dim=1)
        transferred = torch.cat([h_other.unsqueeze(1), self.soft_rollout(h_other, teacher.shape[1], gamma)], dim=1)
        return self.sentence_nll(teacher, batch.target).mean(), real, transferred
