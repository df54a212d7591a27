"""Feature extractors over a log-spectrogram, the comparison of Grinstein et al. (ICASSP 2018).

Each maps an (F, T) log-spectrogram to named features (what a content loss compares) and to the
statistics a style loss matches: Gram matrices for the two networks, texture statistics for the
auditory model. SoundNet, the paper's fourth extractor, needs weights that are not available offline.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from multistyle.audio.auditory import AuditoryStatistics
from multistyle.audio.spectral import magnitude_from_log
from multistyle.core.losses import gram_matrix
from multistyle.core.memory import check_memory
from multistyle.core.vgg import FLOATS_PER_PIXEL, VGGFeatures

EXTRACTORS = ("random", "vgg", "auditory")


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||value - target||^2 / ||target||^2.

    Raw Gram entries differ by orders of magnitude between extractors and layers; relative errors
    make one weight setting (and L-BFGS's fixed tolerances) fit all, and read as a fraction.
    """
    return (value - target).square().sum() / target.square().sum().clamp_min(1e-12)


def mean_relative_error(values: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(relative_error(values[name], target) for name, target in targets.items()) / len(targets)


class SpectrogramExtractor(nn.Module):
    """Base class: frozen, eval-mode, and at least `min_frames` frames of input.

    Subclasses define `features`; the style statistics default to Gram matrices of the features,
    and both distances to the mean relative squared error over layers.
    """

    min_frames: int = 1

    def features(self, log_spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def statistics(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: gram_matrix(value) for name, value in features.items()}

    def style_distance(self, statistics: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
        return mean_relative_error(statistics, targets)

    def content_distance(self, features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
        return mean_relative_error(features, targets)

    def activation_bytes(self, n_freqs: int, frames: int) -> float:
        """Bytes the features of an (n_freqs, frames) spectrogram take through a forward and backward pass."""
        raise NotImplementedError

    def check_fits(self, *log_spectrograms: torch.Tensor) -> None:
        """Raise ResourceError when these inputs' features would not fit in their device's free memory."""
        need = sum(self.activation_bytes(*s.shape) for s in log_spectrograms)
        check_memory(need, f"the {type(self).__name__} on {' and '.join(f'{s.shape[-1]} frames' for s in log_spectrograms)}",
                      log_spectrograms[0].device, hint="use shorter clips or a smaller --n-fft")

    def freeze(self) -> "SpectrogramExtractor":
        return self.eval().requires_grad_(False)


class RandomConvExtractor(SpectrogramExtractor):
    """Ulyanov & Lebedev's wide shallow net: one 1-D convolution over time (frequencies as channels), ReLU.

    Its weights are random and never trained; the seed makes them reproducible.
    """

    def __init__(self, n_freqs: int, filters: int = 4096, width: int = 11, seed: int = 0):
        super().__init__()
        self.conv = nn.Conv1d(n_freqs, filters, width, bias=False)  # no padding: edges add no fake silence
        generator = torch.Generator().manual_seed(seed)
        std = math.sqrt(2.0 / (n_freqs * width))  # He initialisation keeps ReLU activations at the input's scale
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) * std)
        self.min_frames = width
        self.freeze()

    def features(self, log_spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"relu": torch.relu(self.conv(log_spectrogram.unsqueeze(0)))}

    def activation_bytes(self, n_freqs: int, frames: int) -> float:
        # conv output, ReLU output and their gradients, float32
        return 4 * 4 * self.conv.out_channels * frames + 3 * 4 * n_freqs * frames


class VGGExtractor(SpectrogramExtractor):
    """Our ImageNet VGG-19 reading the log-spectrogram as a grey image (frequency by time).

    `full_scale` maps log-spectrogram values to the [0, 1] pixel range the network was trained on.
    """

    def __init__(self, layers: tuple[str, ...], pooling: str, full_scale: float):
        super().__init__()
        self.vgg = VGGFeatures(layers, pooling)
        self.full_scale = full_scale
        pools = sum(name.startswith("pool") for name in self.vgg.encoder.names)
        self.min_frames = 2**pools  # the deepest layer must keep at least one column
        self.freeze()

    def features(self, log_spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        grey = log_spectrogram / self.full_scale
        return self.vgg(grey.expand(1, 3, *grey.shape))

    def activation_bytes(self, n_freqs: int, frames: int) -> float:
        return FLOATS_PER_PIXEL * n_freqs * frames * 4 * 2


class AuditoryExtractor(SpectrogramExtractor):
    """McDermott & Simoncelli's texture statistics; the features are the compressed cochlear envelopes."""

    def __init__(self, statistics: AuditoryStatistics):
        super().__init__()
        self.model = statistics
        self.min_frames = 4  # moments and a modulation spectrum need a few frames
        self.freeze()

    def features(self, log_spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"envelopes": self.model.envelopes(magnitude_from_log(log_spectrogram)).unsqueeze(0)}

    def statistics(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.model.statistics(features["envelopes"])

    def activation_bytes(self, n_freqs: int, frames: int) -> float:
        # magnitudes and cochlear envelopes, then one modulation-filtered copy of the envelopes per band
        bands, modulation = self.model.filterbank.shape[0], self.model.modulation_bands
        return 3 * 4 * frames * (n_freqs + bands * (2 + modulation))

    def style_distance(self, statistics: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
        """Each statistic weighs the same; log band means compare as log ratios, the rest relatively."""
        others = {name: target for name, target in targets.items() if name != "log_mean"}
        log_mean = F.mse_loss(statistics["log_mean"], targets["log_mean"])
        return (log_mean + len(others) * mean_relative_error(statistics, others)) / len(targets)
