#!/usr/bin/env bash
# Shen et al. 2017 on Yelp: train the evaluator (TextCNN classifier + GPT-2 LM), the cross-aligned
# autoencoder, choose its style strength on dev (ACCURACY % dev transfer accuracy, default 80), then score
# it beside every system in $DATA/peers (one markdown table).
# Usage: recipes/text_yelp.sh [OUT_DIR]
#   CONFIG=configs/text/yelp_crossalign_gpu.toml for the model that ships (4.4 h on one CPU thread),
#   CONFIG=configs/text/yelp_crossalign_cpu.toml for a smaller 2-hour CPU model (default: the paper's settings);
#   MINUTES=120 stops training after two hours, keeping the best evaluation so far (--max-minutes)
#   DATA (default ../shared/data/yelp), BEAM (default 1), DEVICE (default auto)
# Rerunning continues where it stopped: a finished evaluator is kept, an unfinished model resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/text_yelp}
DATA=${DATA:-../shared/data/yelp}
CONFIG=${CONFIG:-configs/text/yelp_crossalign.toml}
BEAM=${BEAM:-1}
ACCURACY=${ACCURACY:-80}
DEVICE=${DEVICE:-auto}
MS=${MULTISTYLE:-.venv/bin/multistyle}
[ -f "$DATA/sentiment.train.0" ] || { echo "error: $DATA is not a Shen-format folder; set DATA" >&2; exit 2; }
mkdir -p "$OUT"

if [ ! -f "$OUT/evaluator/evaluator.json" ]; then
  "$MS" text train-evaluator --data "$DATA" --out "$OUT/evaluator" --config configs/text/evaluator.toml --device "$DEVICE"
fi
if [ -d "$OUT/model/checkpoint" ]; then
  "$MS" text train --data "$DATA" --out "$OUT/model" --resume --evaluator "$OUT/evaluator" --device "$DEVICE" \
    ${MINUTES:+--max-minutes "$MINUTES"}
else
  "$MS" text train --data "$DATA" --out "$OUT/model" --config "$CONFIG" --evaluator "$OUT/evaluator" --device "$DEVICE" \
    ${MINUTES:+--max-minutes "$MINUTES"}
fi
"$MS" text calibrate --model "$OUT/model" --data "$DATA" --evaluator "$OUT/evaluator" --accuracy "$ACCURACY" --device "$DEVICE"
[ -f "$OUT/model/selector.safetensors" ] || "$MS" text train-selector --model "$OUT/model" --data "$DATA" --device "$DEVICE"
"$MS" text evaluate --data "$DATA" --evaluator "$OUT/evaluator" --model "$OUT/model" --peers --beam "$BEAM" \
  --save-outputs "$OUT/ours" --table "$OUT/text_yelp.md" --device "$DEVICE"
echo "table: $OUT/text_yelp.md; outputs: $OUT/ours.{0,1}; model: $OUT/model"
