"""The audio part of `multistyle demo`: a synthesised melody restyled by a synthesised rain texture."""
from collections.abc import Iterator
from pathlib import Path

from multistyle.audio.io import save_wav
from multistyle.audio.samples import melody, percussive_texture
from multistyle.audio.config import GrinsteinConfig, TextureConfig
from multistyle.audio.transfer import texture_files, transfer_files

DEMO_SECONDS = 4.0


def run_audio_demo(out: Path, show_progress: bool = True) -> Iterator[str]:
    config = GrinsteinConfig()
    content, style = out / "audio_content_melody.wav", out / "audio_style_rain.wav"
    save_wav(melody(DEMO_SECONDS, config.sample_rate), content, config.sample_rate)
    save_wav(percussive_texture(DEMO_SECONDS, config.sample_rate), style, config.sample_rate)
    yield f"audio/inputs: {content} and {style} (synthesised)"
    result = transfer_files(content, style, out / "audio_transfer.wav", config, show_progress=show_progress)
    yield f"audio/transfer: {out / 'audio_transfer.wav'} with .png and .json ({result.summary()})"
    result = texture_files(style, out / "audio_texture.wav", TextureConfig(), seconds=DEMO_SECONDS, show_progress=show_progress)
    yield f"audio/texture: {out / 'audio_texture.wav'} with .png and .json ({result.summary()})"
