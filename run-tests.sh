#!/usr/bin/env bash
# Run the test suite: sets up what it needs on first use (Debian packages when root,
# a local .venv), then runs pytest with Qt offscreen. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/scripts/bootstrap.sh" test
cd "$MM_ROOT"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$MM_PYTHON" -m pytest "$@"
