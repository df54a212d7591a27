"""A small AdaIN (issue 41): the same encoder -> AdaIN -> decoder at a fraction of the arithmetic.

Made in two steps by one run (recipes/train_adain_small.py):
1. `compress`: keep a subset of each layer's channels, in VGG-19 up to relu4_1 and in the trained decoder alike, and
   refit every kept layer by least squares so that its pre-activations match the full network's on training crops
   given the narrower layer below it (channel selection with reconstruction, in the manner of He et al. 2017's
   channel pruning). Kept channels are chosen by how much they carry into the next layer. The small encoder's relu*_1
   channels are a subset of VGG-19's, so AdaIN's statistics and a VGG-19 loss keep their meaning for it.
2. `multistyle.image.train_small`: fine-tune both small networks against the full model's outputs (distillation).

A small model is one safetensors file holding encoder and decoder, its widths in the metadata
(multistyle.image.adain.save_network / load_network).
"""
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.core.vgg import caffe_preprocess
from multistyle.image.adain import ENCODER_LAYER, AdaINNetwork, Decoder, adain, feature_stats

SMALL_WIDTHS = (24, 48, 96, 192)  # 0.375 of VGG-19's at relu1_1..relu4_1: about 7x fewer multiply-adds


def _patches(x: torch.Tensor, pad: str, positions: torch.Tensor) -> torch.Tensor:
    """3x3 neighbourhoods of `x` (N, C, H, W) at flat `positions` (into N*H*W), as rows (len, C*9) plus a 1 for the
    bias; zero padding as VGG's convs, reflection as the decoder's."""
    n, c, h, w = x.shape
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect" if pad == "reflect" else "constant")
    cols = F.unfold(padded, 3)  # (N, C*9, H*W)
    rows = cols.transpose(1, 2).reshape(n * h * w, c * 9)[positions]
    return torch.cat([rows, torch.ones(len(rows), 1, dtype=rows.dtype)], 1)


def _fit(rows: torch.Tensor, targets: torch.Tensor, ridge: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares rows @ [W; b] ~ targets with a small ridge, relative to each column's own energy (the bias
    column's is far below a pixel's)."""
    gram = rows.T.double() @ rows.double()
    gram += torch.diag(ridge * gram.diagonal() + 1e-12)
    solution = torch.linalg.solve(gram, rows.T.double() @ targets.double()).float()
    return solution[:-1].T, solution[-1]


def _keep(activation: torch.Tensor, next_weight: torch.Tensor | None, k: int) -> torch.Tensor:
    """The k output channels that carry most into the next layer: rms activation x norm of the next conv's weights
    on that channel (all channels when there are k or fewer)."""
    if activation.shape[1] <= k:
        return torch.arange(activation.shape[1])
    score = activation.square().mean((0, 2, 3)).sqrt()
    if next_weight is not None:
        score = score * next_weight.square().sum((0, 2, 3)).sqrt()
    return score.topk(k).indices.sort().values


def _conv_layers(module: nn.Sequential) -> Iterator[tuple[int, nn.Conv2d]]:
    for i, layer in enumerate(module):
        conv = layer[1] if isinstance(layer, nn.Sequential) else layer
        if isinstance(conv, nn.Conv2d):
            yield i, conv


class Compressor:
    """Builds a small AdaINNetwork from a full one, layer by layer, on a batch of training crops."""

    def __init__(self, full: AdaINNetwork, widths: tuple[int, ...] = SMALL_WIDTHS, samples: int = 40_000, seed: int = 0):
        self.full, self.widths, self.samples = full.eval(), tuple(widths), samples
        self.generator = torch.Generator().manual_seed(seed)
        self.small = AdaINNetwork(Decoder(full.decoder.upsample, self.widths), self.widths).eval()
        self.kept: dict[str, torch.Tensor] = {}  # the full encoder's channels each small relu layer keeps

    def _positions(self, x: torch.Tensor) -> torch.Tensor:
        total = x.shape[0] * x.shape[2] * x.shape[3]
        return torch.randperm(total, generator=self.generator)[: min(self.samples, total)]

    @torch.no_grad()
    def encoder(self, images: torch.Tensor) -> None:
        big, small = self.full.encoder.encoder, self.small.encoder.encoder
        names = big.names
        x_big = x_small = caffe_preprocess(images)
        kept_in = torch.arange(3)
        for i, name in enumerate(names):
            layer = big.layers[name]
            if not isinstance(layer, nn.Conv2d):
                x_big, x_small = layer(x_big), small.layers[name](x_small)
                if name.startswith("relu"):
                    self.kept[name] = kept_in
                continue
            block = int(name[4])
            z = layer(x_big)
            # the next conv, or for conv4_1 (relu4_1 feeds the decoder) the decoder's first
            following = next((big.layers[n] for n in names[i + 1:] if isinstance(big.layers[n], nn.Conv2d)), self.full.decoder.net[0][1])
            kept_out = _keep(F.relu(z), following.weight, self.widths[block - 1])
            positions = self._positions(z)
            rows = _patches(x_small, "zeros", positions)
            targets = z[:, kept_out].permute(0, 2, 3, 1).reshape(-1, len(kept_out))[positions]
            weight, bias = _fit(rows, targets)
            conv = small.layers[name]
            conv.weight.copy_(weight.reshape(conv.weight.shape))
            conv.bias.copy_(bias)
            x_big, x_small, kept_in = z, conv(x_small), kept_out
        self.kept[ENCODER_LAYER] = kept_in

    @torch.no_grad()
    def decoder(self, contents: torch.Tensor, styles: torch.Tensor) -> None:
        """Fit the decoder on AdaIN targets of (content, style) pairs, half of them at alpha 0 (the content's own
        features), so the small decoder learns to rebuild photos as well as to paint."""
        big_features = self.full.encode(contents)
        small_features = self.small.encode(contents)
        half = len(contents) // 2
        x_big = torch.cat([big_features[:half], adain(big_features[half:], feature_stats(self.full.encode(styles[half:])))])
        x_small = torch.cat([small_features[:half], adain(small_features[half:], feature_stats(self.small.encode(styles[half:])))])
        big, small = self.full.decoder.net, self.small.decoder.net
        convs = list(_conv_layers(big))
        for j, (i, conv) in enumerate(convs):
            z = conv(F.pad(x_big, (1, 1, 1, 1), mode="reflect"))
            small_conv = small[i][1]
            following = convs[j + 1][1].weight if j + 1 < len(convs) else None
            kept_out = _keep(F.relu(z), following, small_conv.out_channels)
            positions = self._positions(z)
            rows = _patches(x_small, "reflect", positions)
            targets = z[:, kept_out].permute(0, 2, 3, 1).reshape(-1, len(kept_out))[positions]
            weight, bias = _fit(rows, targets)
            small_conv.weight.copy_(weight.reshape(small_conv.weight.shape))
            small_conv.bias.copy_(bias)
            x_big, x_small = z, small_conv(F.pad(x_small, (1, 1, 1, 1), mode="reflect"))
            nxt = convs[j + 1][0] if j + 1 < len(convs) else len(big)
            for layer_index in range(i + 1, nxt):  # ReLU and upsampling between this conv and the next
                x_big, x_small = big[layer_index](x_big), small[layer_index](x_small)


def multiply_adds(network: AdaINNetwork, height: int = 512, width: int = 512) -> int:
    """Multiply-adds of one content's encode + decode at height x width (convolutions only)."""
    total = 0
    hooks = []

    def count(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        total += output.numel() // output.shape[0] * module.in_channels * math.prod(module.kernel_size)

    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(count))
    with torch.no_grad():
        features = network.encode(torch.zeros(1, 3, height, width))
        network.decoder(features)
    for hook in hooks:
        hook.remove()
    return total
