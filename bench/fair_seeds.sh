#!/usr/bin/env bash
# Issue 16 re-run: bench/fair_comparison.sh at several training seeds, one regime per call.
#   REGIME=one SEEDS="1 2" bash bench/fair_seeds.sh [ROOT]        (ROOT default runs)
# Each seed gets ROOT/fair-REGIME-sSEED (its own models, times.txt, logs); the benchmark data
# (mmnet synth, data seed DATA_SEED, default 97) and the feature cache are built once, in the
# first seed's folder, and linked from the others (same data for every seed). The systems run
# in PASSES (";"-separated lists of system names): every seed finishes a pass before the next
# pass starts, so the main systems get all their seeds first. Each system is one call of
# fair_comparison.sh (ONLY=name); its results.tsv line is appended to all-results.tsv, which
# bench/aggregate_seeds.py reads. A system already in all-results.tsv with a trained model is
# skipped, so a stopped run resumes. DEADLINE=HH:MM (UTC) starts nothing after that time.
# EPOCHS (10) and LR_STEP (7) as in docs/results.md section 0; N_TRAIN etc. pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
REGIME="${REGIME:-mixed}"
ROOT="$(realpath -m "${1:-runs}")"
SEEDS="${SEEDS:-0 1 2}"
PASSES="${PASSES:-resnet-mean resnet-att mmnet-authors;resnet-att-class mmnet-label;mmnet-ms-unit}"
export EPOCHS="${EPOCHS:-10}" LR_STEP="${LR_STEP:-7}" REGIME
first=""
IFS=';' read -ra pass_list <<< "$PASSES"
for systems in "${pass_list[@]}"; do
  for seed in $SEEDS; do
    out="$ROOT/fair-$REGIME-s$seed"
    mkdir -p "$out"
    if [ -z "$first" ]; then
      first="$out"
    elif [ "$out" != "$first" ] && [ ! -e "$out/data" ]; then
      ln -s "$first/data" "$out/data"
      ln -s "$first/cache" "$out/cache"
    fi
    for name in $systems; do
      if [ -f "$out/$name/model.safetensors" ] && grep -q "^$name	" "$out/all-results.tsv" 2>/dev/null; then
        continue
      fi
      if [ -n "${DEADLINE:-}" ] && [[ "$(date -u +%H:%M)" > "$DEADLINE" || "$(date -u +%H:%M)" == "$DEADLINE" ]]; then
        echo "== $(date -u +%H:%M:%S) deadline $DEADLINE: not starting $name seed $seed"
        continue
      fi
      echo "== $(date -u +%H:%M:%S) regime $REGIME seed $seed: $name"
      SEED="$seed" ONLY="$name" bash bench/fair_comparison.sh "$out"
      cat "$out/results.tsv" >> "$out/all-results.tsv"
    done
  done
done
echo "== $(date -u +%H:%M:%S) done"
