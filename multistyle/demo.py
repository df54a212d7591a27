"""`multistyle demo`: each modality on inputs that ship with the package or its dependencies."""
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

from multistyle.image.gatys import GatysConfig, stylize_files
from multistyle.image.io import load_image, save_image, side_by_side

DEMO_CONTENT = "chelsea.png"  # scikit-image's bundled photos
DEMO_STYLE = "ihc.png"


def skimage_sample(name: str) -> Path:
    return Path(str(importlib.resources.files("skimage") / "data" / name))


def run_demo(out: Path, show_progress: bool = True) -> Iterator[str]:
    out.mkdir(parents=True, exist_ok=True)
    content, style = skimage_sample(DEMO_CONTENT), skimage_sample(DEMO_STYLE)
    result_path = out / "image_gatys.png"
    config = GatysConfig(size=256, steps=60, scales=2, style_weight=1e2)
    result = stylize_files(content, [style], result_path, config, show_progress=show_progress)
    panel = side_by_side([load_image(content), load_image(style), result.image])
    save_image(panel, out / "image_gatys_panel.png")
    yield f"image/gatys: {result_path} and image_gatys_panel.png ({result.iterations} evaluations, {result.seconds:.0f} s)"
    # --- text demo ---
    # --- audio demo ---
    from multistyle.audio.demo import run_audio_demo

    yield from run_audio_demo(out, show_progress=show_progress)
