"""AdaIN models on the validation photos, for choosing training settings (issue 41's small AdaIN), never for reporting.

Each of image_quality.py's 8 validation photos with one painting that no held-out list names, at 512 px, raw (no
palette, no degrid), judged by benchmarks/measures.py (style, structure kept, content kept, colour); the means print
one line a model.

    python benchmarks/adain_validation.py full out/adain_small/run/model.safetensors [--threads 1]
"""
import argparse
from pathlib import Path

import torch
from image_quality import DATA, VALIDATION
from measures import Judge

from multistyle import AdaIN
from multistyle.image.io import load_image

PAINTINGS = ["rain_princess.jpg", "mosaic.jpg", "en_campo_gris.jpg", "feathers.jpg", "scene_de_rue.jpg", "asheville.jpg",
             "stars2.jpg", "brushstrokes.jpg"]  # in the AdaIN corpus, on no held-out list
SIZE = 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="full (the shipped model) or a decoder's or small model's file")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pairs = [(DATA / content, DATA / "style" / painting) for (content, _), painting in zip(VALIDATION, PAINTINGS)]
    images = {pair: (load_image(pair[0], SIZE), load_image(pair[1], SIZE)) for pair in pairs}
    judge = Judge()
    for name in args.models:
        model = AdaIN.from_pretrained(None if name == "full" else Path(name), size=SIZE, precision="fp32", palette=False, degrid=False)
        with torch.no_grad():
            scores = [judge(model(c, s).tensor, *images[(c, s)]) for c, s in pairs]
        means = {k: round(sum(x[k] for x in scores) / len(scores), 3) for k in Judge.MEASURES}
        print(f"{name}: {means}", flush=True)


if __name__ == "__main__":
    main()
