#!/usr/bin/env bash
# Screenshot of the main window with the demo analysis (docs/screenshot.png by default).
#
#   scripts/screenshot.sh [OUT.png] [-- main.py arguments...]
#
# Runs the app in a real X server (Xvfb, 1400x900x24) when Xvfb is installed, else with Qt's
# offscreen platform; `main.py --screenshot` waits until the analyses are drawn, saves the
# window and exits (non-zero, with the reason on stderr, if something failed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${MM_PYTHON:-$ROOT/.venv/bin/python}"
OUT="${1:-docs/screenshot.png}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$(dirname "$OUT")"

XPID=""
cleanup() { [ -n "$XPID" ] && kill "$XPID" 2>/dev/null || true; }
trap cleanup EXIT

if command -v Xvfb >/dev/null 2>&1; then
    N=99
    while [ -e "/tmp/.X${N}-lock" ] || [ -e "/tmp/.X11-unix/X${N}" ]; do N=$((N + 1)); done
    Xvfb ":${N}" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
    XPID=$!
    for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${N}" ] && break; sleep 0.1; done
    if [ -e "/tmp/.X11-unix/X${N}" ]; then
        export DISPLAY=":${N}" QT_QPA_PLATFORM=xcb
        echo "screenshot: Xvfb on :${N}" >&2
    else
        echo "screenshot: Xvfb did not start; using the offscreen platform" >&2
        export QT_QPA_PLATFORM=offscreen
    fi
else
    echo "screenshot: no Xvfb; using the offscreen platform" >&2
    export QT_QPA_PLATFORM=offscreen
fi
"$PY" main.py --screenshot "$OUT" --size 1400x900 "$@"
echo "screenshot: $OUT" >&2
