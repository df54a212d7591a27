"""multistyle: neural style transfer for images, text and audio.

    from multistyle import AdaIN
    AdaIN.from_pretrained()("photo.jpg", "painting.jpg").image.save("out.png")

One entry per method (Gatys, AdaIN, FastStyle, Photoreal, VideoTransfer, TextTransfer, AudioTransfer), each with
from_pretrained, .to(device, dtype) and a call on paths or in-memory data (one or a list) returning an Output;
settings are dataclasses (GatysConfig, ..., and the trainers' AdaINTrainConfig, FastTrainConfig, CrossAlignConfig). Errors a user can fix are
MultistyleError subclasses. Names are imported on first use, so `import multistyle` stays light.
"""
from typing import TYPE_CHECKING

from multistyle.errors import ConfigError, InputError, MultistyleError, OptimizationError, ResourceError, WeightsError, WriteError

__version__ = "0.1.0"

# The public API: name -> the module that defines it. A new method is its module plus one line here.
_API = {
    "Gatys": "multistyle.image.gatys",
    "GatysConfig": "multistyle.image.gatys",
    "AdaIN": "multistyle.image.adain",
    "AdaINConfig": "multistyle.image.adain",
    "FastStyle": "multistyle.image.fast",
    "FastStyleConfig": "multistyle.image.fast",
    "Photoreal": "multistyle.image.photoreal",
    "PhotorealConfig": "multistyle.image.photoreal",
    "ImageResult": "multistyle.image.result",
    "TextTransfer": "multistyle.text.transfer",
    "TextResult": "multistyle.text.transfer",
    "AudioTransfer": "multistyle.audio.transfer",
    "AudioResult": "multistyle.audio.transfer",
    "GrinsteinConfig": "multistyle.audio.config",
    "VideoTransfer": "multistyle.video.stylize",
    "VideoConfig": "multistyle.video.stylize",
    "VideoResult": "multistyle.video.stylize",
    "Output": "multistyle.core.pipeline",
    # training and evaluation settings (the `train-*` and `text` commands' configs)
    "AdaINTrainConfig": "multistyle.image.train_adain",
    "FastTrainConfig": "multistyle.image.train_fast",
    "TextureConfig": "multistyle.audio.config",
    "CrossAlignConfig": "multistyle.text.config",
    "TransferConfig": "multistyle.text.config",
}

__all__ = [*_API, "MultistyleError", "InputError", "ConfigError", "WeightsError", "ResourceError", "OptimizationError", "WriteError"]

if TYPE_CHECKING:
    from multistyle.audio.config import GrinsteinConfig, TextureConfig
    from multistyle.audio.transfer import AudioResult, AudioTransfer
    from multistyle.core.pipeline import Output
    from multistyle.image.adain import AdaIN, AdaINConfig
    from multistyle.image.fast import FastStyle, FastStyleConfig
    from multistyle.image.gatys import Gatys, GatysConfig
    from multistyle.image.photoreal import Photoreal, PhotorealConfig
    from multistyle.image.result import ImageResult
    from multistyle.image.train_adain import AdaINTrainConfig
    from multistyle.image.train_fast import FastTrainConfig
    from multistyle.text.config import CrossAlignConfig, TransferConfig
    from multistyle.text.transfer import TextResult, TextTransfer
    from multistyle.video.stylize import VideoConfig, VideoResult, VideoTransfer


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'multistyle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
