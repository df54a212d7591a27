#!/usr/bin/env bash
# Luan et al. (2017)'s deep photo style transfer on their shared example pairs, with their segmentation maps, then a
# doodle (Champandard 2016) painted from a pair's reference photo and its map into the input's map; one grid:
# input | reference | ours | Luan et al.'s published result per pair.
# Usage: PAIRS="01 09" SIZE=700 recipes/image_photoreal.sh   (the defaults: AdaIN stage 1, then 75 L-BFGS evaluations
# with the photorealism term, 2.5-6 minutes a pair at 700 px on 2 idle cores; FAST=1 is the fast path, stage 2 the
# closed-form solve alone, about 1.5 minutes; STAGE1=gatys STEPS=150 is the paper's optimised stage 1, over 20 minutes
# a pair at 700 px; STEPS is also the doodle's evaluations)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA:-../shared/data/images/photoreal}
OUT=${OUT:-out/photoreal}
SIZE=${SIZE:-700}
STEPS=${STEPS:-100}
STAGE1=${STAGE1:-adain}
PAIRS=${PAIRS:-"01 03 09 11 14 20 29 30 34 45 49 57"}
mkdir -p "$OUT"
panels=()
for n in $PAIRS; do
  "$PY" -m multistyle image photoreal "$DATA/${n}_content.jpg" "$DATA/${n}_style.jpg" -o "$OUT/${n}_ours.png" \
    --content-seg "$DATA/${n}_content_seg.png" --style-seg "$DATA/${n}_style_seg.png" --size "$SIZE" --stage1 "$STAGE1" --stage1-steps "$STEPS" \
    ${FAST:+--steps 0} --quiet
  panels+=("$DATA/${n}_content.jpg" "$DATA/${n}_style.jpg" "$OUT/${n}_ours.png" "$DATA/${n}_luan2017.jpg")
done
first=${PAIRS%% *}
"$PY" -m multistyle image doodle "$DATA/${first}_style.jpg" "$DATA/${first}_style_seg.png" "$DATA/${first}_content_seg.png" \
  -o "$OUT/${first}_doodle.png" --size 256 --steps "$STEPS" --quiet
"$PY" -m multistyle image grid "${panels[@]}" --columns 4 --height 192 -o "$OUT/grid.jpg"
echo "wrote $OUT/grid.jpg and $OUT/${first}_doodle.png"
