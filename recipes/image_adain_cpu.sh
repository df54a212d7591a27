#!/usr/bin/env bash
# The CPU decoder recipe (issue 19): stage 1 inverts relu4_1 (adain_cpu_reconstruct.toml), stage 2 learns style
# with scale-free losses and an identity term (adain_cpu_style.toml), stage 3 adds an RGB palette term and more
# style (adain_cpu_colour.toml), stage 4 trains on contents recoloured to their style's palette with relu2_1 weighed
# up (adain_cpu_palette.toml), stage 5 switches to bilinear upsampling, crops from larger images and a stronger identity
# term (adain_cpu_fidelity.toml), stage 6 weighs the identity term up again and keeps a moving average of the weights
# (adain_cpu_fidelity2.toml); each on one thread under a time limit, each warm-started from the previous weights,
# so a budget spread over sessions accumulates. See multistyle/image/weights/adain_decoder.json for what shipped.
# Usage: MINUTES_1=40 MINUTES_2=35 MINUTES_3=35 MINUTES_4=80 MINUTES_5=30 MINUTES_6=85 recipes/image_adain_cpu.sh [OUT=out/adain_cpu]
# INIT= (empty) starts stage 1 from a random decoder: the way to a decoder that never saw any painting in
# multistyle.image.data.HELD_OUT_PAINTINGS (the shipped one saw six of them), e.g.
#   INIT= OUT=out/adain_held MINUTES_1=120 MINUTES_2=120 ... recipes/image_adain_cpu.sh
# STAGES=N stops after stage N (a session's budget spent on the first stages; the next call resumes them).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-out/adain_cpu}
INIT=${INIT-multistyle/image/weights/adain_decoder.safetensors}
[ -d out/adain_corpus/content ] || "$PY" recipes/build_adain_corpus.py out/adain_corpus --shared "${IMAGES:-../shared/data/images}"
export OMP_NUM_THREADS=1
run_stage() {  # config, folder, minutes, init weights; resumes a stage that has a checkpoint
  [ "${2##*stage}" -le "${STAGES:-6}" ] || exit 0
  if [ -f "$2/checkpoint/state.safetensors" ]; then
    nice "$PY" -m multistyle image train-adain --out "$2" --resume --max-minutes "$3" --quiet
  else
    nice "$PY" -m multistyle image train-adain --config "$1" --out "$2" ${4:+--init-decoder "$4"} --seed "${SEED:-1}" --max-minutes "$3" --quiet
  fi
}
run_stage configs/image/adain_cpu_reconstruct.toml "$OUT/stage1" "${MINUTES_1:-40}" "$INIT"
run_stage configs/image/adain_cpu_style.toml "$OUT/stage2" "${MINUTES_2:-35}" "$OUT/stage1/decoder.safetensors"
run_stage configs/image/adain_cpu_colour.toml "$OUT/stage3" "${MINUTES_3:-35}" "$OUT/stage2/decoder.safetensors"
run_stage configs/image/adain_cpu_palette.toml "$OUT/stage4" "${MINUTES_4:-80}" "$OUT/stage3/decoder.safetensors"
run_stage configs/image/adain_cpu_fidelity.toml "$OUT/stage5" "${MINUTES_5:-30}" "$OUT/stage4/decoder.safetensors"
run_stage configs/image/adain_cpu_fidelity2.toml "$OUT/stage6" "${MINUTES_6:-85}" "$OUT/stage5/decoder.safetensors"
"$PY" benchmarks/fast_quality.py --decoder shipped=multistyle/image/weights/adain_decoder.safetensors --decoder cpu_recipe="$OUT/stage6/decoder.safetensors"
