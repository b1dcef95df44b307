#!/usr/bin/env bash
# Mutation testing of one core module with mutmut (outside CI; see bench/mutation.md).
#
#   bench/mutation.sh MODULE [TEST ...]
#   bench/mutation.sh engine/losses.py            # the module's own targeted test selection
#   JOBS=2 bench/mutation.sh mmgui/pyramid.py
#   MUTANTS='engine.infer.x*_merge* engine.infer.x*_extract*' bench/mutation.sh engine/infer.py   # some functions only
#
# The working tree (tracked and untracked, not ignored files) is copied to a scratch folder
# ($MUTATION_DIR, default /tmp/mmstudio-mutation/<module>), mutmut mutates MODULE there and runs
# only the selected tests against each mutant, niced. Surviving mutants are listed at the end;
# `cd $MUTATION_DIR/<module> && mutmut show NAME` prints one as a diff.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODULE=${1:?usage: bench/mutation.sh MODULE [TEST ...]}
shift
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
MUTMUT=$(dirname "$PY")/mutmut
[ -x "$MUTMUT" ] || { echo "mutmut not found next to $PY: pip install mutmut==3.8.1 (into the same venv)" >&2; exit 2; }

# the targeted test selection of each core module (fast tests that exercise it)
if [ $# -gt 0 ]; then
    TESTS=("$@")
else
    case "$MODULE" in
        # the hand-computed loss tests; test_losses.py's model-building parametrized tests (every method
        # trains one step, attention gradient in every combination) take 60 s and more a survivor: left out
        engine/losses.py)   TESTS=(tests/test_losses_hand.py tests/test_mutants_losses.py
                                   $(for t in class_weights_eq_11 micro_loss_eq_7_by_hand bce_is_class_weighted_mean \
                                         slat_and_wlat_by_hand plat_extrapolated_labels mmnet_objective_is_eq_8 \
                                         gradients_reach_the_attention_in_mmnet micro_loss_paper_form_with_class_weights_by_hand \
                                         micro_loss_authors_options_by_hand micro_loss_detached_attention_gets_no_gradient \
                                         micro_loss_label_specific_attention_by_hand micro_loss_leaves_padded_segments_out \
                                         authors_code_objective_by_hand mu_one_with_detached_attention_is_refused; do
                                         echo "tests/test_losses.py::test_$t"; done)) ;;
        # the model-running infer tests, without the CLI ones (a subprocess each, 40 s a mutant)
        engine/infer.py)    TESTS=(tests/test_mutants_infer.py tests/test_infer_windows.py tests/test_infer.py::test_analyze_a_short_clip
                                   tests/test_infer.py::test_long_recording_is_seamless tests/test_infer.py::test_cancel
                                   tests/test_infer.py::test_bad_audio_is_an_audio_error) ;;
        engine/metrics.py)  TESTS=(tests/test_metrics.py tests/test_annotation_eval.py tests/test_mutants_metrics.py) ;;
        engine/analysis.py) TESTS=(tests/test_mutants_analysis.py tests/test_infer_windows.py
                                   tests/test_infer.py::test_analyze_a_short_clip tests/test_infer.py::test_long_recording_is_seamless
                                   tests/test_infer.py::test_events_thresholds_gating_and_filters tests/test_infer.py::test_cancel) ;;
        mmgui/pyramid.py)   TESTS=(tests/test_gui_pyramid.py tests/test_mutants_pyramid.py) ;;
        *) echo "no default test selection for $MODULE: name the tests after it" >&2; exit 2 ;;
    esac
fi
NAME=$(echo "$MODULE" | tr '/.' '__')
WORK=${MUTATION_DIR:-/tmp/mmstudio-mutation}/$NAME
rm -rf "$WORK"
mkdir -p "$WORK"
# copy the working tree as it is (including uncommitted tests), without .git, venvs and caches
git ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")
cd "$WORK"
TOP=${MODULE%%/*}
{
    echo "[mutmut]"
    echo "source_paths=$TOP"
    echo "only_mutate=$MODULE"
    echo "also_copy="
    for d in engine mmgui tests; do [ "$d" != "$TOP" ] && echo "    $d"; done
    echo "pytest_add_cli_args_test_selection="
    for t in "${TESTS[@]}"; do echo "    $t"; done
    echo "pytest_add_cli_args="
    echo "    -p"
    echo "    no:cacheprovider"
    echo "    -q"
    echo "    -x"
    echo "use_git_change_detection=false"
    echo "process_isolation=forkserver"   # torch is not fork-safe after its thread pool started
} > setup.cfg
# pyproject's [tool.mutmut] would take precedence over setup.cfg: keep pytest's settings only
"$PY" - <<'EOF'
import re, pathlib
p = pathlib.Path("pyproject.toml")
p.write_text(re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", p.read_text()))
EOF
export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1
unset PYTHONPATH
START=$(date +%s)
set -f                                   # MUTANTS: fnmatch patterns of mutant names, e.g. 'engine.infer.x*_merge*'
read -ra PATTERNS <<< "${MUTANTS:-}"
nice -n 10 "$MUTMUT" run --max-children "${JOBS:-1}" "${PATTERNS[@]}" || true
set +f
echo "mutmut over $MODULE with ${TESTS[*]}: $(( $(date +%s) - START )) s"
"$MUTMUT" results --all false 2>/dev/null || "$MUTMUT" results
echo "counts (killed / survived / timeout / no tests):"
"$MUTMUT" results --all true 2>/dev/null | awk '{print $2}' | sort | uniq -c
