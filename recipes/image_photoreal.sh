#!/usr/bin/env bash
# Luan et al. (2017)'s deep photo style transfer on their shared example pairs, with their segmentation maps, then a
# doodle (Champandard 2016) painted from a pair's reference photo and its map into the input's map; one grid:
# input | reference | ours | Luan et al.'s published result per pair.
# Usage: PAIRS="01 09" SIZE=256 STEPS=100 recipes/image_photoreal.sh   (2-8 minutes a pair at 256 px on 2 loaded cores;
# the paper's size is SIZE=700)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data/images/photoreal}
OUT=${OUT:-out/photoreal}
SIZE=${SIZE:-256}
STEPS=${STEPS:-100}
PAIRS=${PAIRS:-"01 09"}
mkdir -p "$OUT"
panels=()
for n in $PAIRS; do
  "$PY" -m multistyle image photoreal "$DATA/${n}_content.jpg" "$DATA/${n}_style.jpg" -o "$OUT/${n}_ours.png" \
    --content-seg "$DATA/${n}_content_seg.png" --style-seg "$DATA/${n}_style_seg.png" --size "$SIZE" --stage1-steps "$STEPS" --quiet
  panels+=("$DATA/${n}_content.jpg" "$DATA/${n}_style.jpg" "$OUT/${n}_ours.png" "$DATA/${n}_luan2017.jpg")
done
first=${PAIRS%% *}
"$PY" -m multistyle image doodle "$DATA/${first}_style.jpg" "$DATA/${first}_style_seg.png" "$DATA/${first}_content_seg.png" \
  -o "$OUT/${first}_doodle.png" --size "$SIZE" --steps "$STEPS" --quiet
"$PY" -m multistyle image grid "${panels[@]}" --columns 4 --height 192 -o "$OUT/grid.jpg"
echo "wrote $OUT/grid.jpg and $OUT/${first}_doodle.png"
