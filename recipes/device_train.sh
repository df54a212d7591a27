#!/usr/bin/env bash
# One GPU call for issues 3 and 4, after recipes/device_pack.sh, through the device tool with carry [".device"]:
#   MINUTES=6.5 recipes/device_train.sh
# For MINUTES, side by side on the one GPU, whichever parts were packed: the AdaIN decoder (warm-started from the
# shipped one, bf16) and Gatys (500 L-BFGS) on the 18 held-out pairs, then the new decoder's quality against those
# Gatys outputs and AdaIN's batched GPU speed; the text models of TEXT_RUNS (variants of
# configs/text/yelp_crossalign_gpu.toml), each calibrated on dev. The runs
# (without their optimiser checkpoints; text weights in fp16) come back as $OUT/results.tgz.part-*:
#   cat results.tgz.part-* | tar xz
# Afterwards, here: benchmarks/text_peers.py --evaluator out/text_yelp/evaluator --model DIR/text_NAME.
# The fast part (PARTS=fast): every shipped per-style network trained anew with configs/image/fast_cpu.toml, the CPU
# recipe, as it stands (its iterations, bf16 loss network; only device and data loading differ), one process per
# style, and fast_styles.py's Gatys outputs for the held-out photos: the runs come back as fast_NAME/ (model =
# what the run ships, a moving average where the config sets ema; raw = the last step's weights) and gatys/, for
# benchmarks/fast_styles.py here.
set -uo pipefail
shopt -s nullglob  # a part that was not packed leaves its globs empty
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder the results go to}"
MINUTES=${MINUTES:-6.5}
PY=${PYTHON:-python3}
D=.device
W=${WORK:-/tmp/multistyle_device}
export PYTHONPATH="$PWD:$PWD/$D${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
rm -rf "$W" && mkdir -p "$W/yelp"
ADAIN=$([ -d "$D/adain_corpus" ] && echo 1)
FAST=$([ -d "$D/fast_corpus" ] && echo 1)
# Text runs: NAME=KEY:VALUE,... each overriding configs/text/yelp_crossalign_gpu.toml.
# The default: the config with two seeds (the seed moved the CPU model's accuracy by 4 points); pick on dev.
TEXT_RUNS=${TEXT_RUNS:-"seed0= seed1=seed:1"}
[ -d "$D/yelp" ] || TEXT_RUNS=""
[ -n "$ADAIN$FAST$TEXT_RUNS" ] || { echo "error: nothing packed in $D (recipes/device_pack.sh)" >&2; exit 2; }
for f in "$D"/yelp/*.gz; do gunzip -c "$f" > "$W/yelp/$(basename "$f" .gz)"; done
for run in $TEXT_RUNS; do
  edits=(-e ""); IFS=, read -ra pairs <<< "${run#*=}"
  for pair in "${pairs[@]}"; do edits+=(-e "s/^${pair%%:*} = .*/${pair%%:*} = ${pair#*:}/"); done
  sed "${edits[@]}" configs/text/yelp_crossalign_gpu.toml > "$W/${run%%=*}.toml"
done
"$PY" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')" \
  | tee "$W/machine.txt" || exit 1

if [ -n "$ADAIN" ]; then
  "$PY" -m multistyle image train-adain --config configs/image/adain.toml --content-dir "$D/adain_corpus/content" \
    --style-dir "$D/adain_corpus/style" --out "$W/adain" --init-decoder multistyle/image/weights/adain_decoder.safetensors \
    --seed 7 --precision bf16 --workers "${WORKERS:-10}" --max-minutes "$MINUTES" --checkpoint-every 5000 --quiet > "$W/adain.log" 2>&1 &
  timeout "$(( ${MINUTES%.*} * 60 + 60 ))" "$PY" benchmarks/adain_quality.py --gatys-only --data "$D/heldout" \
    --gatys-cache "$W/gatys_cache" > "$W/gatys.log" 2>&1 &
fi
if [ -n "$FAST" ]; then
  for info in multistyle/image/weights/fast/*.json; do
    "$PY" - "$info" "$D" "$W/fast_$(basename "$info" .json)" "$MINUTES" "${FAST_DEVICE:-cuda}" > "$W/fast_$(basename "$info" .json).log" 2>&1 <<'PYTHON' &
import json
import sys
from pathlib import Path
from multistyle.core.run import run_config
from multistyle.image.train_fast import FastTrainConfig, train
info, device_dir, out, minutes = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
cfg = run_config(FastTrainConfig, out, False, (), "configs/image/fast_cpu.toml", style=str(device_dir / "images" / "style" / Path(info["style"]).name),
                 content_dirs=(str(device_dir / "fast_corpus"),), channels=tuple(info["architecture"]["channels"]),
                 blocks=info["architecture"]["blocks"], device=sys.argv[5], precision="bf16", workers=2, max_minutes=minutes, checkpoint_every=500)
print(train(cfg, Path(out))["iterations"], "iterations")
PYTHON
  done
  timeout "$(( ${MINUTES%.*} * 60 + 30 ))" "$PY" benchmarks/fast_styles.py --gatys-only --make-gatys 18 --data "$D/images" \
    --gatys-cache "$W/gatys" --device "${FAST_DEVICE:-cuda}" > "$W/gatys.log" 2>&1 &
fi
for run in $TEXT_RUNS; do
  name=${run%%=*}
  "$PY" -m multistyle text train --data "$W/yelp" --config "$W/$name.toml" --evaluator "$D/evaluator" --out "$W/text_$name" \
    --max-minutes "$MINUTES" --quiet > "$W/text_$name.log" 2>&1 &
done
while [ -n "$(jobs -r)" ]; do
  sleep "${EVERY:-60}"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
  tail -qn1 "$W"/adain/log.jsonl "$W"/fast_*/log.jsonl 2>/dev/null
done
wait
tail -n 3 "$W"/*.log

if [ -n "$ADAIN" ]; then
  "$PY" benchmarks/adain_quality.py --decoder "$W/adain/decoder.safetensors" --data "$D/heldout" --gatys-cache "$W/gatys_cache" \
    --skip-uncached --out "$W/quality" > "$W/quality.log" 2>&1
  tail -n 3 "$W/quality.log"
  "$PY" benchmarks/adain_speed.py --gpu-only --decoder "$W/adain/decoder.safetensors" --out "$W/adain_speed_gpu.md" > "$W/speed.log" 2>&1
  cat "$W/adain_speed_gpu.md" "$W/speed.log" | tail -n 12
fi
for run in "$W"/fast_*/; do  # the last step's weights beside the average, for the benchmark; then drop the optimiser
  "$PY" -c "import shutil, sys; from pathlib import Path; from multistyle.core.checkpoint import load_training_state, save_tensors; \
run = Path(sys.argv[1]); save_tensors(run / 'raw.safetensors', {k: v.half() for k, v in load_training_state(run / 'checkpoint')[0]['net'].items()}); \
shutil.copy(run / 'model.json', run / 'raw.json')" "$run" && rm -rf "$run/checkpoint"
done
for weights in "$W"/text_*/model.safetensors; do  # fp16 halves the 36 MiB of fp32 weights; loading casts them back
  "$PY" -c "import sys; from safetensors.torch import load_file, save_file; \
p = sys.argv[1]; save_file({k: v.half() for k, v in load_file(p).items()}, p)" "$weights"
done
tar czf - -C "$W" --exclude checkpoint --exclude yelp . | split -b 15M - "$OUT/results.tgz.part-"
ls -l "$OUT"
