#!/usr/bin/env bash
# Mutation testing of one core module with mutmut (outside CI; see bench/mutation.md).
#
#   bench/mutation.sh MODULE [TEST ...]
#   bench/mutation.sh engine/losses.py            # the module's own targeted test selection
#   JOBS=2 bench/mutation.sh mmgui/pyramid.py
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
        engine/losses.py)   TESTS=(tests/test_losses.py tests/test_losses_hand.py) ;;
        engine/infer.py)    TESTS=(tests/test_infer.py tests/test_infer_windows.py) ;;
        engine/metrics.py)  TESTS=(tests/test_metrics.py) ;;
        engine/analysis.py) TESTS=(tests/test_infer.py tests/test_infer_windows.py) ;;
        mmgui/pyramid.py)   TESTS=(tests/test_gui_pyramid.py tests/test_gui_display.py) ;;
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
nice -n 10 "$MUTMUT" run --max-children "${JOBS:-1}" || true
echo "mutmut over $MODULE with ${TESTS[*]}: $(( $(date +%s) - START )) s"
"$MUTMUT" results --all false 2>/dev/null || "$MUTMUT" results
