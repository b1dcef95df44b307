#!/usr/bin/env bash
# Do transient classes need more data and steps? Train ResNet-mean, ResNet-ATT, M&mnet (as
# written, and with a_t scaled to sum to 1) and M&mnet-MS (a_t summing to 1) at the compact
# width on a benchmark twice the reproduction's size with twice its epochs (600 training clips,
# 24 epochs), 1 seed; print test metrics with the mean AP of transient (< 1 s) and long
# classes. About 10 minutes per system on one CPU core (M&mnet-MS about 20).
#   bash bench/schedule.sh [OUT]        (default runs/schedule; THREADS=1 by default)
# Finished systems are reused. Results are discussed in docs/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/schedule}"
THREADS="${THREADS:-1}"
export OMP_NUM_THREADS="$THREADS"
PY=.venv/bin/python
D="$OUT/data"
[ -f "$D/metadata/classes.txt" ] || $PY -m engine synth "$D" --n-train 600 --n-validation 100 --n-test 200 --seed 98 >/dev/null
C="--set channels=[128,192,192] --set stem=128 --set fc_hidden=256 --set micro_hidden=128 --set heads=64"
SYSTEMS=(
  "resnet-att|resnet-att|"
  "mmnet-unit|mmnet|--set attention_scale=unit"
  "resnet-mean|resnet-mean|"
  "mmnet-ms-unit|mmnet-ms|--set attention_scale=unit"
  "mmnet|mmnet|"
)
: > "$OUT/results.tsv"
for spec in "${SYSTEMS[@]}"; do
  IFS='|' read -r name m extra <<< "$spec"
  # shellcheck disable=SC2086
  [ -f "$OUT/$name/model.safetensors" ] || $PY -m engine --threads "$THREADS" train --data "$D" --method "$m" \
      --out "$OUT/$name" --epochs 24 --lr-step 16 --batch-size 32 --lr 0.05 --cache "$OUT/cache" $C $extra >/dev/null 2>&1
  $PY bench/report_line.py "$name" "$OUT/$name/model.safetensors" "$D" --tsv "$OUT/results.tsv" --note "$extra"
done
