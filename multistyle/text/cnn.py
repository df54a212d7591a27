"""Kim (2014)'s convolutional sentence classifier, over any sequence of vectors.

Shen et al. use it twice: as the discriminators (over generator hidden states) and as the
evaluation classifier (over word embeddings).
"""
import torch
import torch.nn.functional as F
from torch import nn


class TextCNN(nn.Module):
    """Convolutions of several widths, leaky ReLU, max over time, dropout, one logit per sequence."""

    def __init__(self, dim_in: int, filter_sizes: tuple[int, ...], n_filters: int, dropout: float):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(dim_in, n_filters, width) for width in filter_sizes)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(n_filters * len(filter_sizes), 1)
        self.widest = max(filter_sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, dim_in) -> (B,) logits."""
        x = x.transpose(1, 2)
        if x.shape[-1] < self.widest:  # a sequence shorter than a filter is zero-padded
            x = F.pad(x, (0, self.widest - x.shape[-1]))
        pooled = [F.leaky_relu(conv(x), 0.01).amax(dim=-1) for conv in self.convs]
        return self.output(self.dropout(torch.cat(pooled, dim=1))).squeeze(-1)
