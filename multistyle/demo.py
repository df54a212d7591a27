"""`multistyle demo`: each modality on inputs that ship with the package or its dependencies."""
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

from multistyle.errors import WeightsError
from multistyle.image.gatys import Gatys
from multistyle.image.io import load_image, save_image, side_by_side

DEMO_CONTENT = "chelsea.png"  # scikit-image's bundled photos
DEMO_STYLE = "ihc.png"


def skimage_sample(name: str) -> Path:
    return Path(str(importlib.resources.files("skimage") / "data" / name))


def run_demo(out: Path, show_progress: bool = True) -> Iterator[str]:
    out.mkdir(parents=True, exist_ok=True)
    content, style = skimage_sample(DEMO_CONTENT), skimage_sample(DEMO_STYLE)
    result = Gatys(size=256, steps=60, scales=2, style_weight=1e2, show_progress=show_progress)(content, style)
    result.save(out / "image_gatys.png", content=str(content), styles=[str(style)])
    save_image(side_by_side([load_image(content), load_image(style), result.tensor]), out / "image_gatys_panel.png")
    yield (f"image/gatys: {out / 'image_gatys.png'} and image_gatys_panel.png "
           f"({result.details['iterations']} evaluations, {result.seconds:.0f} s)")
    yield adain_demo(out, content, style)
    yield text_demo()
    from multistyle.audio.demo import run_audio_demo

    yield from run_audio_demo(out, show_progress=show_progress)


def adain_demo(out: Path, content: Path, style: Path) -> str:
    """The shipped decoder at alpha 0.5 and 1, side by side with its inputs."""
    from multistyle.image.adain import AdaIN

    try:
        adain = AdaIN.from_pretrained(size=512)
    except WeightsError:
        return "image/adain: skipped, no decoder ships with this install (train one: recipes/image_adain_train.sh)"
    results = [adain(content, style, alpha=alpha) for alpha in (0.5, 1.0)]
    results[-1].save(out / "image_adain.png", content=str(content), styles=[str(style)])
    panel = side_by_side([load_image(content, 512), load_image(style, 512), *(r.tensor for r in results)])
    save_image(panel, out / "image_adain_panel.png")
    seconds = sum(r.seconds for r in results)
    return f"image/adain: {out / 'image_adain.png'} and image_adain_panel.png (alpha 0.5 and 1, {seconds:.1f} s for both)"


def text_demo() -> str:
    from multistyle.text.transfer import TextTransfer

    try:
        model = TextTransfer.from_pretrained()
    except WeightsError:
        return "text: skipped, no text model ships with this install yet (train one: recipes/text_yelp.sh)"
    sentence = "the food was cold and the staff was rude ."
    return f"text: {sentence!r} -> {model(sentence, to='positive').text!r}"
