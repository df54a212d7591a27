"""A multi-layer encoder: one forward pass serves every layer a loss asks for."""
from collections.abc import Iterable, Sequence

import torch
from torch import nn


class MultiLayerEncoder(nn.Module):
    """A chain of named layers that returns the activations of the requested layers.

    The pass stops at the deepest requested layer, so asking for shallow layers is cheap.
    """

    def __init__(self, layers: Sequence[tuple[str, nn.Module]]):
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.names = list(self.layers.keys())

    def depth(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(self.names)}") from None

    def forward(self, x: torch.Tensor, names: Iterable[str]) -> dict[str, torch.Tensor]:
        wanted = set(names)
        if not wanted:
            return {}
        deepest = max(self.depth(name) for name in wanted)
        outputs = {}
        for name in self.names[: deepest + 1]:
            x = self.layers[name](x)
            if name in wanted:
                outputs[name] = x
        return outputs

    def truncated(self, deepest: str) -> "MultiLayerEncoder":
        """A new encoder sharing this one's modules, ending at `deepest` (saves memory and time)."""
        end = self.depth(deepest) + 1
        return MultiLayerEncoder([(name, self.layers[name]) for name in self.names[:end]])
