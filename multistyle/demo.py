"""`multistyle demo`: each modality on inputs that ship with the package or its dependencies.

Images: scikit-image's cat photo at its own size (451x300) in the styles of the bundled public-domain paintings, by
each image method (Gatys et al., AdaIN, a per-style network, texture synthesis), laid out in one labelled picture,
OUT/overview.png. Text: a sentence picked by TEXT_RULE, never by hand. Audio: synthesised clips.
"""
import importlib.resources
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from multistyle import samples
from multistyle.errors import WeightsError
from multistyle.image.io import load_image, save_image

OVERVIEW = "overview.png"
# Which bundled painting each method shows (the per-style network is the one trained on that painting).
PAINTINGS = {"gatys": "starry_night", "adain": "the_scream", "fast": "wave", "texture": "composition_vii"}
GATYS = {"size": 192, "scales": 2, "steps": 20}  # 40 evaluations at 96 px, then 20 at 192: a preview, not a finish
TEXTURE = {"side": 128, "scales": 3, "steps": 15}  # 60 evaluations at 32 px, 30 at 64, 15 at 128
REVIEWS = "reviews.txt"  # multistyle/text/reviews.txt: 20 review sentences written for this project (data/samples/)
TEXT_RULE = ("the first of the package's 20 review sentences, in file order, whose flipped rewrite the shipped "
             "evaluation classifier reads as the other sentiment than the sentence itself")


def skimage_sample(name: str) -> Path:
    return Path(str(importlib.resources.files("skimage") / "data" / name))


def demo_threads() -> tuple[int, str]:
    """One thread when other work already keeps the CPUs busy (1-minute load average at least the cores less one),
    else torch's default. On the 2-core host under a load of 6, a Gatys run took 28.8 s on one thread and 78.4 s
    on two: two threads that wait on each other beside other processes lose more than the second core gives."""
    import os

    import torch

    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    threads = 1 if cores > 1 and load >= cores - 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    return threads, f"threads: {threads} (load average {load:.1f} on {cores} cores)"


def run_demo(out: Path, show_progress: bool = True) -> Iterator[str]:
    out.mkdir(parents=True, exist_ok=True)
    yield demo_threads()[1]
    overview, lines = image_demo(out, show_progress)
    yield from lines
    yield text_demo()
    from multistyle.audio.demo import run_audio_demo

    yield from run_audio_demo(out, show_progress=show_progress)
    yield f"overview picture: {overview}"


def _timed(method: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = method()
    return result, time.perf_counter() - start


def image_demo(out: Path, show_progress: bool = True) -> tuple[Path, list[str]]:
    """Each image method on the photo with its painting; one result file per method and OUT/overview.png:
    a row of the inputs (the photo, the four paintings) over a row of what each method made of them."""
    from multistyle.image.figure import labelled_grid
    from multistyle.image.gatys import Gatys

    photo = samples.photo()
    photo_tensor = load_image(photo)
    painting = {method: samples.painting(name) for method, name in PAINTINGS.items()}
    lines: list[str] = []
    results = []

    gatys = Gatys(size=GATYS["size"], scales=GATYS["scales"], steps=GATYS["steps"], show_progress=show_progress)
    result = gatys(photo, painting["gatys"])
    result.save(out / "image_gatys.png", content=str(photo), styles=[str(painting["gatys"])])
    evaluations = result.details["iterations"]
    results.append((result.tensor, f"Gatys et al.: {evaluations} L-BFGS evaluations, {GATYS['size']} px, {result.seconds:.0f} s"))
    lines.append(f"image/gatys: {out / 'image_gatys.png'} ({evaluations} evaluations, {result.seconds:.0f} s)")

    line, cell = adain_demo(out, photo, painting["adain"])
    lines.append(line)
    results.append(cell)

    line, cell = fast_demo(out, photo, PAINTINGS["fast"])
    lines.append(line)
    results.append(cell)

    side = TEXTURE["side"]
    result = Gatys(scales=TEXTURE["scales"], steps=TEXTURE["steps"], show_progress=show_progress).texture(painting["texture"], (side, side))
    result.save(out / "image_texture.png", styles=[str(painting["texture"])])
    results.append((result.tensor, f"texture from noise (Gatys et al. 2015): {result.details['iterations']} evaluations, "
                                   f"{side}x{side}, {result.seconds:.0f} s"))
    lines.append(f"image/texture: {out / 'image_texture.png'} ({result.details['iterations']} evaluations, {result.seconds:.0f} s)")

    h, w = photo_tensor.shape[-2:]
    top = [(photo_tensor, f"the photo (scikit-image's cat), {w}x{h}")]
    top += [(load_image(painting[m]), f"{label}: {samples.title(PAINTINGS[m])}") for m, label in
            (("gatys", "Gatys et al."), ("adain", "AdaIN"), ("fast", "network for"), ("texture", "texture of"))]
    bottom = [(None, "Below each painting: what that method made. All at the photo's own size unless noted.")] + results
    overview = out / OVERVIEW
    save_image(labelled_grid(top + bottom, columns=5, height=220,
                             title="multistyle demo: one photo, four public-domain paintings, four image methods"), overview)
    return overview, lines


def adain_demo(out: Path, content: Path, style: Path) -> tuple[str, tuple]:
    """The shipped decoder at alpha 1, at the photo's own size."""
    from multistyle.image.adain import AdaIN

    try:
        adain = AdaIN.from_pretrained()
    except WeightsError:
        line = "image/adain: skipped, no decoder ships with this install (train one: recipes/image_adain_train.sh)"
        return line, (None, "AdaIN: skipped, no decoder in this install")
    result = adain(content, style)
    result.save(out / "image_adain.png", content=str(content), styles=[str(style)])
    return (f"image/adain: {out / 'image_adain.png'} ({result.seconds:.1f} s)",
            (result.tensor, f"AdaIN, the shipped decoder: one pass, {result.seconds:.1f} s"))


def fast_demo(out: Path, content: Path, name: str) -> tuple[str, tuple]:
    """The shipped per-style network `name`, at the photo's own size."""
    from multistyle.image.fast import FastStyle

    if name not in FastStyle.styles():
        return (f"image/fast: skipped, no {name!r} network ships with this install",
                (None, f"per-style network: skipped, no {name!r} network in this install"))
    result = FastStyle.from_pretrained(name)(content)
    result.save(out / "image_fast.png", content=str(content), style=name)
    return (f"image/fast: {out / 'image_fast.png'} (the {name!r} network, {result.seconds:.1f} s)",
            (result.tensor, f"per-style network {name!r} (Johnson et al.): one pass, {result.seconds:.1f} s"))


def review_sentences() -> list[str]:
    text = (importlib.resources.files("multistyle.text") / REVIEWS).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_demo() -> str:
    """The shipped model's flip of the sentence TEXT_RULE picks, printed as the model wrote it."""
    from multistyle.text.evaluator import SHIPPED_EVALUATOR, load_evaluator
    from multistyle.text.surface import prepare
    from multistyle.text.transfer import TextTransfer

    try:
        model = TextTransfer.from_pretrained()
        classifier = load_evaluator(SHIPPED_EVALUATOR).classifier
    except WeightsError:
        return "text: skipped, no text model ships with this install yet (train one: recipes/text_yelp.sh)"
    sentences = review_sentences()
    outputs = model(sentences, to="flip").texts
    before = classifier.predict([prepare(s)[0] for s in sentences])
    after = classifier.predict([prepare(o)[0] for o in outputs])
    flipped = [i for i in range(len(sentences)) if before[i] != after[i]]
    rule = f"picked as {TEXT_RULE}; {len(flipped)} of {len(sentences)} flip"
    if not flipped:
        return f"text: no sentence qualifies ({rule})"
    i = flipped[0]
    return f"text: {sentences[i]!r} -> {outputs[i]!r} (sentence {i + 1}, {rule})"
