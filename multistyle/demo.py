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
    yield adain_demo(out, content, style)
    yield text_demo()
    from multistyle.audio.demo import run_audio_demo

    yield from run_audio_demo(out, show_progress=show_progress)


def adain_demo(out: Path, content: Path, style: Path) -> str:
    """The shipped decoder at alpha 0.5 and 1, side by side with its inputs."""
    import time

    from multistyle.image.adain import AdaINConfig, AdaINStylizer, load_for_adain, shipped_decoder_path

    if not shipped_decoder_path().is_file():
        return "image/adain: skipped, no decoder ships with this install (train one: recipes/image_adain_train.sh)"
    start = time.perf_counter()
    stylizer = AdaINStylizer(AdaINConfig(size=512))
    results = []
    for alpha in (0.5, 1.0):
        stylizer.config.alpha = alpha
        results.append(stylizer.stylize(content, [style]))
    seconds = time.perf_counter() - start
    save_image(results[-1], out / "image_adain.png")
    save_image(side_by_side([load_for_adain(content, 512), load_for_adain(style, 512), *results]), out / "image_adain_panel.png")
    return f"image/adain: {out / 'image_adain.png'} and image_adain_panel.png (alpha 0.5 and 1, {seconds:.1f} s for both)"


def text_demo() -> str:
    from multistyle import UserError
    from multistyle.text.transfer import shipped_model, transfer_lines

    try:
        shipped_model()
    except UserError:
        return "text: skipped, no text model ships with this install yet (train one: recipes/text_yelp.sh)"
    sentence = "the food was cold and the staff was rude ."
    return f"text: {sentence!r} -> {transfer_lines([sentence], 'positive')[0]!r}"
