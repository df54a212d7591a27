#!/usr/bin/env bash
# Train per-style networks on this CPU (configs/image/fast_cpu.toml), one style after another, each on one thread
# under a time limit; rerunning continues every unfinished style (--resume), and a style that ships
# (multistyle/image/weights/fast/STYLE.safetensors) but has no run here is continued from the shipped weights
# (--init-weights). The trained model.safetensors/json are what multistyle/image/weights/fast/ ships (copy them
# there as STYLE.safetensors / STYLE.json).
# Usage: MINUTES=120 recipes/image_fast_train.sh STYLE_IMAGE [STYLE_IMAGE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -d out/adain_corpus/content ] || "$PY" recipes/build_adain_corpus.py out/adain_corpus --shared "${IMAGES:-../shared/data/images}"
export OMP_NUM_THREADS=${THREADS:-1}
for style in "$@"; do
  out="out/fast/$(basename "${style%.*}")"
  if [ -f "$out/checkpoint/state.safetensors" ]; then
    nice "$PY" -m multistyle image train-fast --out "$out" --resume --max-minutes "${MINUTES:-120}" --quiet || echo "$style: stopped"
  else
    shipped="multistyle/image/weights/fast/$(basename "${style%.*}").safetensors"
    nice "$PY" -m multistyle image train-fast "$style" --config configs/image/fast_cpu.toml --out "$out" --max-minutes "${MINUTES:-120}" \
      ${shipped:+$( [ -f "$shipped" ] && echo --init-weights "$shipped")} --quiet || echo "$style: stopped"
  fi
done
