#!/usr/bin/env bash
# Compare formulations of M&mnet that the paper leaves open or the authors' code chose
# differently, against ResNet-ATT and ResNet-mean, on one synthetic benchmark (1 seed, a compact
# width so that it runs in about 10 minutes on 2 CPU cores).
#   bash bench/formulations.sh [OUT]        (default runs/formulations)
# Prints one line of test metrics per system. Results are discussed in docs/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/formulations}"
PY=.venv/bin/python
D="$OUT/data"
[ -f "$D/metadata/classes.txt" ] || $PY -m engine synth "$D" --n-train 300 --n-validation 60 --n-test 100 --seed 99 >/dev/null
C="--set channels=[128,192,192] --set stem=128 --set fc_hidden=256 --set micro_hidden=128 --set heads=64"
for spec in "resnet-mean|" "resnet-att|" "mmnet|" "mmnet|--set attention_scale=unit" \
            "mmnet|--set attention_scale=unit --set detach_attention=true" "mmnet|--set variant=authors-code" \
            "mmnet-ms|" "mmnet-ms|--set attention_scale=unit"; do
  m=${spec%%|*}; extra=${spec#*|}; name=$m$(echo "$extra" | sed 's/ *--set /_/g; s/[^a-z0-9=_-]/_/g')
  [ -f "$OUT/$name/model.safetensors" ] || $PY -m engine train --data "$D" --method "$m" --out "$OUT/$name" \
      --epochs 8 --lr-step 4 --batch-size 32 --lr 0.05 --cache "$OUT/cache" $C $extra >/dev/null 2>&1
  $PY -m engine evaluate "$OUT/$name/model.safetensors" --data "$D" --json 2>/dev/null | $PY -c "
import json, sys
r = json.load(sys.stdin)
print(f\"{'$m $extra':60s}\", ' '.join(f'{k} {r[k]:.3f}' if r[k] is not None else f'{k} -' for k in ('mAP', 'AUC', 'F1_class_mean', 'segment_F1', 'event_F1')))"
done
