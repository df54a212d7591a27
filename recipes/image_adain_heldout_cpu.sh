#!/usr/bin/env bash
# A decoder that never saw multistyle.image.data.HELD_OUT_PAINTINGS, for issue 35's judgement of AdaIN on 15 held-out
# photos x 12 held-out paintings (the shipped decoder trained on six of them). From a random start: stages 1 and 2 of
# recipes/image_adain_cpu.sh (invert relu4_1; then the scale-free AdaIN losses with style x3 and an identity term),
# then the style term x10 and x20 with a moving average of the weights (configs/image/adain_cpu_style.toml with --set),
# nearest upsampling throughout. On the validation pairs (benchmarks/adain_validation.py) each step bought style for a
# little structure; a bilinear, large-crop stage in the manner of stages 5-6 lost style and was dropped.
# Session 28 ran 2,504 + 2,360 + 760 + 1,038 iterations on one thread (about 4 hours); each stage resumes if stopped.
# Usage: recipes/image_adain_heldout_cpu.sh [OUT=out/adain_held MINUTES_1=70 MINUTES_2=75 MINUTES_3=25 MINUTES_4=35]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-out/adain_held}
INIT= STAGES=2 OUT="$OUT" MINUTES_1=${MINUTES_1:-70} MINUTES_2=${MINUTES_2:-75} recipes/image_adain_cpu.sh
export OMP_NUM_THREADS=1
style_stage() {  # folder, minutes, init weights, style weight
  if [ -f "$1/checkpoint/state.safetensors" ]; then
    nice "$PY" -m multistyle image train-adain --out "$1" --resume --max-minutes "$2" --quiet
  else
    nice "$PY" -m multistyle image train-adain --config configs/image/adain_cpu_style.toml --set style_weight="$4" \
      --set ema=0.99 --out "$1" --init-decoder "$3" --seed "$5" --max-minutes "$2" --quiet
  fi
}
style_stage "$OUT/stage3" "${MINUTES_3:-25}" "$OUT/stage2/decoder.safetensors" 10.0 5
style_stage "$OUT/stage4" "${MINUTES_4:-35}" "$OUT/stage3/decoder.safetensors" 20.0 6
"$PY" benchmarks/adain_validation.py full "$OUT/stage4/decoder.safetensors" --lite
