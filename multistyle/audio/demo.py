"""The audio part of `multistyle demo`: a synthesised melody restyled by a synthesised rain texture."""
from collections.abc import Iterator
from pathlib import Path

from multistyle.audio.config import GrinsteinConfig, TextureConfig
from multistyle.audio.io import save_wav
from multistyle.audio.samples import melody, percussive_texture
from multistyle.audio.transfer import AudioTransfer

DEMO_SECONDS = 2.0


def run_audio_demo(out: Path, show_progress: bool = True) -> Iterator[str]:
    rate = GrinsteinConfig().sample_rate
    content, style = out / "audio_content_melody.wav", out / "audio_style_rain.wav"
    save_wav(melody(DEMO_SECONDS, rate), content, rate)
    save_wav(percussive_texture(DEMO_SECONDS, rate), style, rate)
    yield f"audio/inputs: {content} and {style} (synthesised)"
    result = AudioTransfer(steps=10, show_progress=show_progress)(content, style)  # 10 of the default 20: the demo stays under 2 minutes
    result.save(out / "audio_transfer.wav", content=str(content), style=str(style))
    yield f"audio/transfer: {out / 'audio_transfer.wav'} with .png and .json ({result.summary()})"
    result = AudioTransfer(TextureConfig(), show_progress=show_progress).texture(style, DEMO_SECONDS)
    result.save(out / "audio_texture.wav", style=str(style), requested_seconds=DEMO_SECONDS)
    yield f"audio/texture: {out / 'audio_texture.wav'} with .png and .json ({result.summary()})"
