#!/usr/bin/env bash
# Li & Wand-style results beside Gatys's on two pairs: a portrait restyled by another portrait (similar objects,
# the case patch matching was made for) and
# Tübingen by a painting; Gram and MRF side by side in docs/gatys_vs_mrf.jpg.
# Usage: SIZE=384 STEPS=150 recipes/image_mrf.sh   (about 10 minutes a run on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
IMAGES=${IMAGES:-../shared/data/images}
OUT=${OUT:-out/mrf}
SIZE=${SIZE:-384}
STEPS=${STEPS:-150}
mkdir -p "$OUT"
run() {  # name content style
  "$PY" -m multistyle image gatys "$2" "$3" -o "$OUT/$1_gram.png" --size "$SIZE" --steps "$STEPS" --scales 2 --quiet
  "$PY" -m multistyle image gatys "$2" "$3" -o "$OUT/$1_mrf.png" --size "$SIZE" --steps "$STEPS" --scales 2 --style-loss mrf --quiet
}
run portrait "$IMAGES/style/picasso_self_portrait.jpg" "$IMAGES/style/frida_kahlo.jpg"
run tubingen "$IMAGES/content/tubingen.jpg" "$IMAGES/style/starry_night.jpg"
"$PY" -m multistyle image grid \
  "$IMAGES/style/picasso_self_portrait.jpg" "$IMAGES/style/frida_kahlo.jpg" "$OUT/portrait_gram.png" "$OUT/portrait_mrf.png" \
  "$IMAGES/content/tubingen.jpg" "$IMAGES/style/starry_night.jpg" "$OUT/tubingen_gram.png" "$OUT/tubingen_mrf.png" \
  --columns 4 --height 192 -o docs/gatys_vs_mrf.jpg
