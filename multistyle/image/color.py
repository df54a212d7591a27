"""Colour handling for colour-preserving style transfer (Gatys et al. 2017, "Controlling perceptual factors").

Luminance-only transfer: stylise the luminance channel, then put the content's chroma back.
Colour histogram matching: give the style image the content's colour mean and covariance.
"""
import torch

# NTSC YIQ, the colour space Gatys et al. use for luminance-only transfer.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]]
)


def rgb_to_yiq(rgb: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(rgb), rgb)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_YIQ).to(yiq), yiq)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance Y."""
    return rgb_to_yiq(rgb)[:, :1]


def match_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The style's luminance, shifted and scaled to the content's luminance mean and std, as a grey RGB image."""
    y_style, y_content = luminance(style), luminance(content)
    matched = (y_style - y_style.mean()) / (y_style.std() + 1e-6) * y_content.std() + y_content.mean()
    return matched.expand(-1, 3, -1, -1)


def grey(rgb: torch.Tensor) -> torch.Tensor:
    """Luminance repeated over three channels: what VGG sees in luminance-only transfer."""
    return luminance(rgb).expand(-1, 3, -1, -1)


def with_chroma_of(luma_image: torch.Tensor, chroma_source: torch.Tensor) -> torch.Tensor:
    """Luminance of `luma_image` combined with the I and Q channels of `chroma_source` (same size)."""
    yiq = torch.cat([luminance(luma_image), rgb_to_yiq(chroma_source)[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1)


def match_color_histogram(source: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """`source` with its RGB mean and covariance matched to `reference`'s (linear, Cholesky-based)."""
    def stats(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = img.reshape(3, -1)
        mean = flat.mean(1, keepdim=True)
        centred = flat - mean
        cov = centred @ centred.T / flat.shape[1] + eps * torch.eye(3, dtype=img.dtype)
        return mean, cov

    mean_s, cov_s = stats(source)
    mean_r, cov_r = stats(reference)
    transform = torch.linalg.cholesky(cov_r) @ torch.linalg.inv(torch.linalg.cholesky(cov_s))
    matched = transform @ (source.reshape(3, -1) - mean_s) + mean_r
    return matched.reshape(source.shape).clamp(0, 1)
