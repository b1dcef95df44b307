#!/usr/bin/env bash
# The app's bundled comparison results (Compare tab > Benchmark results) from bench/fair_seeds.sh's
# run folders: every ROOT/fair-REGIME-sSEED of the two regimes, through bench/aggregate_seeds.py --json.
#   bash bench/fair_results_json.sh [ROOT] [OUT]     (ROOT default runs, OUT assets/results/fair-comparison.json)
# OUT is rewritten (both benchmarks, built in OUT.new, then moved: a failure leaves OUT as it was); the
# Markdown tables go to stdout. PY: the Python to use.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${1:-runs}"
OUT="${2:-assets/results/fair-comparison.json}"
PY="${PY:-python}"
SIZE="mmnet synth --n-train 300 --n-validation 60 --n-test 150 --seed 97"
TRAIN="compact width (stem 128, stages 128-192-192, FC 256, m = 64 heads), 10 epochs, batch 32, SGD lr 0.05 / 10 after 7 epochs"
NEW="$OUT.new"
rm -f "$NEW"
for regime in mixed one; do
  mapfile -t folders < <(ls -d "$ROOT"/fair-$regime-s* 2>/dev/null | sort -V)
  [ "${#folders[@]}" -gt 0 ] || { echo "no $ROOT/fair-$regime-s* run folders" >&2; exit 2; }
  if [ "$regime" = mixed ]; then
    title="Synthetic, several events a clip"
    data="$SIZE (0 to 4 events a clip)"
  else
    title="Synthetic, one event a clip"
    data="$SIZE --one-event-per-clip"
  fi
  echo "== $regime: ${folders[*]}"
  "$PY" bench/aggregate_seeds.py "${folders[@]}" --baseline resnet-att --focus mmnet-authors \
    --json "$NEW" --benchmark "$regime" --title "$title" \
    --description "Test split (150 clips) of $data; $TRAIN. Issue 16's fair comparison (docs/results.md section 0)." \
    --note "trainings: REGIME=$regime SEEDS=\"1 2 0\" bash bench/fair_seeds.sh ROOT (bench/fair_comparison.sh per system and seed); JSON: bash bench/fair_results_json.sh ROOT"
done
mv "$NEW" "$OUT"
ls -l "$OUT"
