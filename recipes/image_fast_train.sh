#!/usr/bin/env bash
# Train per-style networks on this CPU (configs/image/fast_cpu.toml), one style after another, each on one thread
# under a time limit; rerunning continues every unfinished style (--resume), and a style that ships
# (multistyle/image/weights/fast/STYLE.safetensors) but has no run here is continued from the shipped weights
# (--init-weights) at lr FINE_LR (default 3e-4: at the config's 1e-3 a trained network's style distance swung by
# 0.3 between checkpoints; at 3e-4 udnie went 0.515 -> 0.482 and woman_with_hat 0.405 -> 0.313).
# A style given as STYLE_IMAGE:WEIGHT trains with that content weight (issue 35: the networks trained at 1 painted
# over the photo; choose the weight on benchmarks/image_quality.py --photos validation, which the config holds out).
# recipes/ship_fast_style.py copies a finished run into multistyle/image/weights/fast/.
# A style given as NAME=STYLE_IMAGE[:WEIGHT] trains into out/fast/NAME and continues the shipped NAME (the painting's
# file name need not be the network's, e.g. woman_with_hat=../shared/data/images/style/woman-with-hat-matisse.jpg:3).
# SETS passes further config overrides to new runs, e.g. SETS='--set content_layers=["relu3_1","relu4_1"]' (the shipped
# wave and udnie; each model's JSON keeps its whole config and history).
# Usage: MINUTES=120 recipes/image_fast_train.sh [NAME=]STYLE_IMAGE[:CONTENT_WEIGHT] [...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -d out/adain_corpus/content ] || "$PY" recipes/build_adain_corpus.py out/adain_corpus --shared "${IMAGES:-../shared/data/images}"
export OMP_NUM_THREADS=${THREADS:-1}
for spec in "$@"; do
  name=$( [[ "$spec" == *=* ]] && echo "${spec%%=*}" || true)
  spec=${spec#*=}
  style=${spec%%:*}
  weight=$( [ "$spec" != "$style" ] && echo --set "content_weight=${spec#*:}" || true)
  name=${name:-$(basename "${style%.*}")}
  out="out/fast/$name"
  if [ -f "$out/checkpoint/state.safetensors" ]; then
    nice "$PY" -m multistyle image train-fast --out "$out" --resume --max-minutes "${MINUTES:-120}" --quiet || echo "$style: stopped"
  else
    shipped="multistyle/image/weights/fast/$name.safetensors"
    nice "$PY" -m multistyle image train-fast "$style" --config configs/image/fast_cpu.toml --out "$out" --max-minutes "${MINUTES:-120}" $weight ${SETS:-} \
      $( [ -f "$shipped" ] && echo --init-weights "$shipped" --set "lr=${FINE_LR:-3e-4}") --quiet || echo "$style: stopped"
  fi
done
