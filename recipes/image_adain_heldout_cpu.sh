#!/usr/bin/env bash
# The shipped AdaIN decoder (multistyle/image/weights/adain_decoder.json), which never saw
# multistyle.image.data.HELD_OUT_PAINTINGS, for issue 35's judgement on 15 held-out photos x 12 held-out paintings.
# From a random start: stages 1 and 2 of recipes/image_adain_cpu.sh (invert relu4_1; then the scale-free AdaIN
# losses with style x3 and an identity term), then the style term x10 and x20 with a moving average of the weights
# (configs/image/adain_cpu_style.toml with --set), then x20 again on crops of images resized to a 512-px short side
# (as large as the pictures it is judged on) with relu1_1 and relu2_1 counted twice (the layers where it was furthest
# from the paintings), then x40. Nearest upsampling throughout. Every step chosen on the validation pairs
# (benchmarks/adain_validation.py); a bilinear, large-crop stage in the manner of stages 5-6 lost style and was dropped.
# Sessions 28-29 ran 2,504 + 2,360 + 760 + 1,038 + 1,134 + 1,805 iterations on one thread (about 6 hours); each stage
# resumes if stopped.
# Usage: recipes/image_adain_heldout_cpu.sh [OUT=out/adain_held MINUTES_1=70 MINUTES_2=75 MINUTES_3=25 MINUTES_4=35
#        MINUTES_5=35 MINUTES_6=52]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-out/adain_held}
INIT= STAGES=2 OUT="$OUT" MINUTES_1=${MINUTES_1:-70} MINUTES_2=${MINUTES_2:-75} recipes/image_adain_cpu.sh
export OMP_NUM_THREADS=1
style_stage() {  # folder, minutes, init weights, style weight, seed, further --set options
  if [ -f "$1/checkpoint/state.safetensors" ]; then
    nice "$PY" -m multistyle image train-adain --out "$1" --resume --max-minutes "$2" --quiet
  else
    nice "$PY" -m multistyle image train-adain --config configs/image/adain_cpu_style.toml --set style_weight="$4" \
      --set ema=0.99 "${@:6}" --out "$1" --init-decoder "$3" --seed "$5" --max-minutes "$2" --quiet
  fi
}
LARGE=(--set resize_short=512 --set min_short=256 --set "style_layer_weights=[2.0,2.0,1.0,1.0]")
style_stage "$OUT/stage3" "${MINUTES_3:-25}" "$OUT/stage2/decoder.safetensors" 10.0 5
style_stage "$OUT/stage4" "${MINUTES_4:-35}" "$OUT/stage3/decoder.safetensors" 20.0 6
style_stage "$OUT/stage5" "${MINUTES_5:-35}" "$OUT/stage4/decoder.safetensors" 20.0 9 "${LARGE[@]}"
style_stage "$OUT/stage6" "${MINUTES_6:-52}" "$OUT/stage5/decoder.safetensors" 40.0 140 "${LARGE[@]}"
"$PY" benchmarks/adain_validation.py full "$OUT/stage6/decoder.safetensors" --lite
