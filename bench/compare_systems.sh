# Shared by bench/formulations.sh and bench/schedule.sh (sourced, not run): train a list of
# systems on one synthetic benchmark at the compact width, then print one line of test metrics
# per system (bench/report_line.py) and collect them in OUT/results.tsv.
#
# The caller sets, before `source`:
#   OUT          output folder (data, cache, one run folder per system, results.tsv)
#   SYNTH_ARGS   arguments of `mmnet synth` for the benchmark (sizes and data seed)
#   TRAIN_ARGS   schedule arguments of `mmnet train` (epochs, lr step, batch size, lr)
#   SYSTEMS      array of "name|method|extra training options" (extra options come after the
#                compact width, so a later --set wins)
# and calls run_systems. THREADS (default 1) sets torch's CPU threads. Finished systems are
# reused; each training log is OUT/<name>.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS="${THREADS:-1}"
export OMP_NUM_THREADS="$THREADS"
PY="${PY:-.venv/bin/python}"   # PY=/path/to/python overrides (e.g. a shared venv)
NICE="${NICE:-nice -n 10}"
COMPACT="--set channels=[128,192,192] --set stem=128 --set fc_hidden=256 --set micro_hidden=128 --set heads=64"

run_systems() {
  local data="$OUT/data" spec name method extra
  mkdir -p "$OUT"
  # shellcheck disable=SC2086
  [ -f "$data/metadata/classes.txt" ] || $NICE $PY -m engine synth "$data" $SYNTH_ARGS >/dev/null
  : > "$OUT/results.tsv"
  for spec in "${SYSTEMS[@]}"; do
    IFS='|' read -r name method extra <<< "$spec"
    if [ ! -f "$OUT/$name/model.safetensors" ]; then
      # shellcheck disable=SC2086
      $NICE /usr/bin/time -a -o "$OUT/times.txt" -f "$name: %e s wall, %U s user + %S s system CPU" \
        $PY -m engine --threads "$THREADS" train --data "$data" --method "$method" --out "$OUT/$name" \
          --cache "$OUT/cache" $TRAIN_ARGS $COMPACT $extra > "$OUT/$name.log" 2>&1 \
        || { echo "$name: training failed, see $OUT/$name.log" >&2; return 1; }
    fi
    $NICE $PY bench/report_line.py "$name" "$OUT/$name/model.safetensors" "$data" --tsv "$OUT/results.tsv" --note "$extra"
  done
}
