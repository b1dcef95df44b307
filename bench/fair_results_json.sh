#!/usr/bin/env bash
# The app's bundled comparison results (Compare tab > Benchmark results) from bench/fair_seeds.sh's
# run folders, through bench/aggregate_seeds.py --json:
#   mixed, one   every ROOT/fair-REGIME-sSEED (10 epochs; both required)
#   one-long     every LONG_ROOT/fair-one-sSEED (24 epochs), if present
#   real         every ROOT/fair-real-sSEED (the real-sound dataset, data/ linked in), if present
#   real-bundled every ROOT/real-bundled-sSEED (the bundled real-sound models' recipe at several
#                training seeds: scripts/realsounds/train_bundled.py --seed S, then --stage tsv), if present
#   bash bench/fair_results_json.sh [ROOT] [OUT]     (ROOT default runs, OUT assets/results/fair-comparison.json,
#                                                      LONG_ROOT default ROOT-long)
# OUT is rewritten (built in OUT.new, then moved: a failure leaves OUT as it was); the Markdown
# tables go to stdout. PY: the Python to use.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${1:-runs}"
OUT="${2:-assets/results/fair-comparison.json}"
LONG_ROOT="${LONG_ROOT:-$ROOT-long}"
PY="${PY:-python}"
SIZE="mmnet synth --n-train 300 --n-validation 60 --n-test 150 --seed 97"
WIDTH="compact width (stem 128, stages 128-192-192, FC 256, m = 64 heads)"
TRAIN="$WIDTH, 10 epochs, batch 32, SGD lr 0.05 / 10 after 7 epochs"
NEW="$OUT.new"
rm -f "$NEW"

# add one benchmark: KEY TITLE DESCRIPTION NOTE FOLDER...
add() {
  local key="$1" title="$2" description="$3" note="$4"
  shift 4
  echo "== $key: $*"
  "$PY" bench/aggregate_seeds.py "$@" --baseline resnet-att --focus mmnet-authors-z \
    --json "$NEW" --benchmark "$key" --title "$title" --description "$description" --note "$note"
}
folders() { ls -d "$@" 2>/dev/null | sort -V || true; }

for regime in mixed one; do
  mapfile -t f < <(folders "$ROOT"/fair-$regime-s*)
  [ "${#f[@]}" -gt 0 ] || { echo "no $ROOT/fair-$regime-s* run folders" >&2; exit 2; }
  if [ "$regime" = mixed ]; then
    title="Synthetic, several events a clip"; data="$SIZE (0 to 4 events a clip)"
  else
    title="Synthetic, one event a clip"; data="$SIZE --one-event-per-clip"
  fi
  add "$regime" "$title" \
    "Test split (150 clips) of $data; $TRAIN. Issue 16's fair comparison (docs/results.md section 0)." \
    "trainings: REGIME=$regime SEEDS=\"0 1 2\" bash bench/fair_seeds.sh ROOT (bench/fair_comparison.sh per system and seed); JSON: bash bench/fair_results_json.sh ROOT" \
    "${f[@]}"
done
mapfile -t f < <(folders "$LONG_ROOT"/fair-one-s*)
if [ "${#f[@]}" -gt 0 ]; then
  add one-long "Synthetic, one event a clip, 24 epochs" \
    "Test split (150 clips) of $SIZE --one-event-per-clip; $WIDTH, 24 epochs, batch 32, SGD lr 0.05 / 10 after 16 epochs (docs/results.md section 0.3.4)." \
    "trainings: REGIME=one EPOCHS=24 LR_STEP=16 SEEDS=\"0 1 2\" bash bench/fair_seeds.sh LONG_ROOT" \
    "${f[@]}"
fi
mapfile -t f < <(folders "$ROOT"/fair-real-s*)
if [ "${#f[@]}" -gt 0 ]; then
  add real "Real sounds (recipe v2), unseen recordings" \
    "Test split (200 clips whose events are recordings never used in training) of mmnet realsounds data/realsounds --seed 0 (recipe version 2, 18 classes); $TRAIN (docs/results.md section 0.3.5)." \
    "trainings: ln -s DATA ROOT/fair-real-s0/data; EPOCHS=10 LR_STEP=7 SEED=0 ONLY=\"resnet-mean resnet-att mmnet-authors-z\" bash bench/fair_comparison.sh ROOT/fair-real-s0; cp results.tsv all-results.tsv" \
    "${f[@]}"
fi
mapfile -t f < <(folders "$ROOT"/real-bundled-s*)
if [ "${#f[@]}" -gt 0 ]; then
  "$PY" bench/aggregate_seeds.py "${f[@]}" --baseline resnet-att --focus resnet-att-class \
    --json "$NEW" --benchmark real-bundled --title "Real sounds (recipe v2), bundled models, unseen recordings" \
    --description "Test split (200 clips whose events are recordings never used in training) of mmnet realsounds data/realsounds --seed 0 (recipe version 2, 18 classes); the bundled real-sound models' recipe: compact width, 20 epochs, batch 16, SGD lr 0.05 / 10 after 12 epochs, thresholds with the chance guard (docs/results.md section 4). The logistic regression is deterministic: the same fit at every seed." \
    --note "trainings: PYTHONPATH=. python scripts/realsounds/train_bundled.py --stage STAGE --seed S --no-export --work W (seed 0: the bundled models), then --stage tsv --work W; W linked as ROOT/real-bundled-sS"
fi
mv "$NEW" "$OUT"
ls -l "$OUT"
