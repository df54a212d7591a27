#!/usr/bin/env bash
# Dai et al. 2019's Style Transformer on Yelp, in resumable pieces: train (CONFIG, default the 2-core CPU size),
# train its selector and choose its selection rule on dev, score it on the test split beside every system in $DATA/peers with the shipped evaluator.
# Usage: recipes/text_style_transformer.sh [OUT_DIR]
#   MINUTES=120 stops this piece of training after two hours (dev evaluation, checkpoint); rerun to continue.
#   STEPS (default: the config's max_steps) raises the run's length; CONFIG=configs/text/style_transformer.toml
#   is the paper's size (a GPU's); DATA (default ../shared/data/yelp), DEVICE (default auto).
# The model kept is the dev evaluation with the most self-BLEU at 88 % dev transfer accuracy (the issue's target).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/text_st}
DATA=${DATA:-../shared/data/yelp}
CONFIG=${CONFIG:-configs/text/style_transformer_cpu.toml}
DEVICE=${DEVICE:-auto}
MS=${MULTISTYLE:-.venv/bin/multistyle}
EVALUATOR=multistyle/text/weights/evaluator
[ -f "$DATA/sentiment.train.0" ] || { echo "error: $DATA is not a Shen-format folder; set DATA" >&2; exit 2; }
mkdir -p "$OUT"

if [ -d "$OUT/model/checkpoint" ]; then
  "$MS" text train --model style-transformer --data "$DATA" --out "$OUT/model" --resume --evaluator "$EVALUATOR" \
    --device "$DEVICE" ${MINUTES:+--max-minutes "$MINUTES"} ${STEPS:+--max-steps "$STEPS"}
else
  "$MS" text train --model style-transformer --data "$DATA" --out "$OUT/model" --config "$CONFIG" --evaluator "$EVALUATOR" \
    --device "$DEVICE" ${MINUTES:+--max-minutes "$MINUTES"} ${STEPS:+--max-steps "$STEPS"}
fi
if [ ! -f "$OUT/model/selector.safetensors" ]; then
  "$MS" text train-selector --model "$OUT/model" --data "$DATA" --device "$DEVICE"
  # The selection rule on dev: copy penalties (negative bonuses) and LM fusion among the candidates (docs/text.md).
  "${PYTHON:-.venv/bin/python}" recipes/text_selector_search.py --model "$OUT/model" --data "$DATA" --per-style 1000 \
    --strengths 0 0.5 --bonuses -4 -3 -2 -1 0 1 2 --lm-weights 0 0.3 0.6 1 1.5 --min-accuracy 90 --max-perplexity 60 \
    --max-candidates 8 --cache "$OUT/selector_search.npz" --write
fi
"$MS" text evaluate --data "$DATA" --model "$OUT/model" --peers --save-outputs "$OUT/ours" --table "$OUT/text_st.md" \
  --device "$DEVICE"
echo "table: $OUT/text_st.md; outputs: $OUT/ours.{0,1}; model: $OUT/model"
