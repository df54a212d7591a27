#!/usr/bin/env bash
# Train the AdaIN decoder: build the corpus from installable photos, then train with configs/image/adain.toml.
# Usage: recipes/image_adain_train.sh [extra train-adain flags, e.g. --iterations 40000 --resume]
# GPU: run on a CUDA machine; several GPUs: TORCHRUN="torchrun --nproc_per_node 8 -m" recipes/image_adain_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [ ! -d out/adain_corpus/content ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq gnome-backgrounds plasma-workspace-wallpapers mate-backgrounds \
      ukui-wallpapers lomiri-wallpapers sway-backgrounds >/dev/null || echo "warning: some wallpaper packages did not install"
  fi
  "$PY" recipes/build_adain_corpus.py out/adain_corpus --shared "${IMAGES:-../shared/data/images}"
fi
${TORCHRUN:-$PY -m} multistyle image train-adain --config configs/image/adain.toml --out out/adain "$@"
