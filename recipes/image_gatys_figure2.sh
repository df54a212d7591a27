#!/usr/bin/env bash
# Gatys et al. 2016, Figure 2: tubingen.jpg in the styles of five paintings, one grid PNG.
# Usage: recipes/image_gatys_figure2.sh [OUT_DIR]   (SIZE, STEPS, SCALES override the defaults below)
# Needs ../shared/data/images (the project's data folder), or set IMAGES to a folder with content/ and style/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/figure2}
IMAGES=${IMAGES:-../shared/data/images}
SIZE=${SIZE:-512}
STEPS=${STEPS:-300}
SCALES=${SCALES:-2}
MS=${MULTISTYLE:-.venv/bin/multistyle}
STYLES="shipwreck starry_night the_scream seated-nude composition_vii"
CONTENT="$IMAGES/content/tubingen.jpg"
[ -f "$CONTENT" ] || { echo "error: $CONTENT not found; set IMAGES" >&2; exit 2; }
mkdir -p "$OUT"
panels=("$CONTENT")
for style in $STYLES; do
  file=$(ls "$IMAGES/style/$style".* | head -n 1)
  if [ -f "$OUT/tubingen_$style.png" ]; then  # an interrupted run picks up where it stopped
    echo "keeping $OUT/tubingen_$style.png"
  else
    "$MS" image gatys "$CONTENT" "$file" -o "$OUT/tubingen_$style.png" --size "$SIZE" --steps "$STEPS" --scales "$SCALES"
  fi
  panels+=("$OUT/tubingen_$style.png")
done
"$MS" image grid "${panels[@]}" -o "$OUT/figure2.png" --columns 3 --height "$SIZE"
"$MS" image grid "${panels[@]}" -o "$OUT/figure2_small.jpg" --columns 3 --height 200
echo "grid: $OUT/figure2.png (reduced copy: $OUT/figure2_small.jpg)"
