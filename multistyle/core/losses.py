"""Loss functions shared by the image and audio style transfer methods.

Feature maps are (B, C, *spatial) tensors; every function reduces over all but the batch axis
and returns the batch mean, so a loss is a scalar whatever the input's shape.
"""
import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, *spatial) -> (B, C, C) Gram matrix normalised by the layer size (channels x positions)."""
    flat = features.flatten(2)
    return flat @ flat.transpose(1, 2) / (flat.shape[1] * flat.shape[2])


def gram_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between the Gram matrix of `features` and a target Gram matrix."""
    return F.mse_loss(gram_matrix(features), target_gram.expand(features.shape[0], -1, -1))


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Feature reconstruction loss: mean squared difference of activations."""
    return F.mse_loss(features, target)


def channel_mean_std(features: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over positions, each (B, C), in float32 even under bf16 autocast."""
    var, mean = torch.var_mean(features.float(), dim=tuple(range(2, features.dim())), unbiased=False)  # one pass, any layout
    return mean, (var + eps).sqrt()


def mean_std_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """AdaIN's style loss: squared distance of per-channel means plus that of per-channel stds."""
    mean, std = channel_mean_std(features)
    target_mean, target_std = channel_mean_std(target)
    target_mean = target_mean.expand_as(mean)
    target_std = target_std.expand_as(std)
    return F.mse_loss(mean, target_mean) + F.mse_loss(std, target_std)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, both directions (anisotropic TV)."""
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def relative_mean_std_loss(features: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale-free mean/std loss: ||mu - mu_t||^2 / ||mu_t||^2 + ||sigma - sigma_t||^2 / ||sigma_t||^2 per sample, averaged.
    Every layer weighs alike, so relu1_1's colours and fine strokes are not drowned by relu4_1's magnitudes."""
    mean, std = channel_mean_std(features)
    target_mean, target_std = channel_mean_std(target)
    target_mean, target_std = target_mean.expand_as(mean), target_std.expand_as(std)
    relative = (mean - target_mean).square().sum(1) / (target_mean.square().sum(1) + eps)
    return (relative + (std - target_std).square().sum(1) / (target_std.square().sum(1) + eps)).mean()


def patches(features: torch.Tensor, size: int = 3) -> torch.Tensor:
    """(1, C, H, W) -> (L, C * size * size): every size x size patch (stride 1), one row each."""
    return F.unfold(features, size).squeeze(0).transpose(0, 1)


class MRFTarget:
    """Li & Wand (2016)'s style target: the style's 3x3 neural patches at one layer, and the same patches
    normalised, as convolution kernels, so one convolution scores every output patch against every style patch."""

    def __init__(self, style_features: torch.Tensor | list[torch.Tensor], size: int = 3):
        """One feature map (1, C, H, W), or several (e.g. of rotated and scaled copies of the style): one patch bank."""
        maps = style_features if isinstance(style_features, list) else [style_features]
        self.size = size
        self.patches = torch.cat([patches(m, size) for m in maps])  # (N, C*k*k)
        kernels = self.patches / self.patches.norm(dim=1, keepdim=True).clamp_min(1e-8)
        self.kernels = kernels.view(-1, maps[0].shape[1], size, size)

    def nearest(self, features: torch.Tensor) -> torch.Tensor:
        """For every output patch, the index of the style patch with the highest normalised cross-correlation
        (the output patch's own norm does not change the argmax)."""
        with torch.no_grad():
            return F.conv2d(features.detach(), self.kernels).flatten(2).argmax(1).squeeze(0)

    def loss(self, features: torch.Tensor) -> torch.Tensor:
        """Mean squared distance of each output patch to its nearest style patch."""
        matched = self.patches[self.nearest(features)]
        return F.mse_loss(patches(features, self.size), matched)
