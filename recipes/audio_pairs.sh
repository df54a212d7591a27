#!/usr/bin/env bash
# Grinstein et al. audio style transfer on the clips of Ulyanov & Lebedev's demo, plus two textures.
# Usage: recipes/audio_pairs.sh [OUT_DIR] [extra flags for `multistyle audio transfer`, e.g. --extractor auditory]
# Needs ../shared/data/audio (the project's data folder), or set AUDIO to a folder with the same mp3s.
# imperial x usa is the pair whose result Ulyanov & Lebedev published (peers/): compare with
# benchmarks/audio_quality.py. Each transfer of a 10 s clip takes about 40 s on a 2-core CPU, each texture 15 s.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/audio_pairs}
shift || true
AUDIO=${AUDIO:-../shared/data/audio}
MS=${MULTISTYLE:-.venv/bin/multistyle}
PAIRS="imperial:usa usa:imperial gettysburg:fire russia:valkyries"
TEXTURES="fire valkyries"
[ -d "$AUDIO" ] || { echo "error: $AUDIO not found; set AUDIO" >&2; exit 2; }
mkdir -p "$OUT"
for pair in $PAIRS; do
  content=${pair%%:*} style=${pair##*:}
  "$MS" audio transfer "$AUDIO/$content.mp3" "$AUDIO/$style.mp3" -o "$OUT/${content}_content_${style}_style.wav" "$@"
done
for style in $TEXTURES; do
  "$MS" audio texture "$AUDIO/$style.mp3" -o "$OUT/${style}_texture.wav" --seconds 10
done
[ -f "$AUDIO/peers/ulyanov_imperial_content_usa_style.wav" ] && \
  echo "peer result to compare by ear: $AUDIO/peers/ulyanov_imperial_content_usa_style.wav"
echo "outputs (wav + spectrogram png + json report each): $OUT"
