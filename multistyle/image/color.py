"""Colour handling for colour-preserving style transfer (Gatys et al. 2017, "Controlling perceptual factors").

Luminance-only transfer: stylise the luminance channel, then put the content's chroma back.
Colour histogram matching: give the style image the content's colour mean and covariance (or, the other way round,
give a stylised output its style's palette: AdaIN's `palette`).
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


def colour_moments(image: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, the RGB mean (B, 3, 1) and covariance (B, 3, 3) over the pixels (a small ridge keeps it invertible),
    in float32 even under bf16 autocast (a bf16 covariance need not be positive definite)."""
    with torch.autocast(image.device.type, enabled=False):
        flat = image.flatten(2).float()
        mean = flat.mean(2, keepdim=True)
        centred = flat - mean
        cov = centred @ centred.transpose(1, 2) / flat.shape[2] + eps * torch.eye(3, device=image.device)
    return mean, cov


def match_colour_moments(source: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """`source` linearly recoloured (Cholesky-based) to the given RGB mean and covariance. The ridge `eps` on the
    source's own covariance bounds the gain where it has almost no spread (a flat channel is not blown up into noise)."""
    own_mean, own_cov = colour_moments(source, eps)
    with torch.autocast(source.device.type, enabled=False):
        transform = torch.linalg.cholesky(cov.float()) @ torch.linalg.inv(torch.linalg.cholesky(own_cov))
        matched = torch.baddbmm(mean.float() - transform @ own_mean, transform, source.flatten(2).float())
    return matched.reshape(source.shape).to(source.dtype).clamp_(0, 1)


def match_color_histogram(source: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """`source` with its RGB mean and covariance matched to `reference`'s; image by image for batches of equal
    size, or one reference for every source when the reference batch is 1."""
    return match_colour_moments(source, *colour_moments(reference, eps))


def recolour(image: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor, amount: float = 1.0) -> torch.Tensor:
    """`image` moved `amount` of the way to its linear recolouring with the RGB mean (B, 3, 1) and covariance (B, 3, 3)."""
    matched = match_colour_moments(image, mean.to(image), cov.to(image))
    return matched if amount == 1 else torch.lerp(image, matched, amount)
