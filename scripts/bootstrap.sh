#!/usr/bin/env bash
# Set-up shared by ./mmstudio.sh (app) and ./run-tests.sh (tests); sourced, not run.
#   source scripts/bootstrap.sh app|test
# 1. Debian runtime packages: installed with apt-get when running as root, otherwise
#    the exact missing ones are printed with the command that installs them.
# 2. A local virtual environment (.venv) from pyproject.toml, pinned by constraints.txt,
#    re-installed only when those files change. No CUDA build of torch is pulled on a
#    machine without an NVIDIA GPU: constraints.txt pins torch==2.13.0, which resolves to
#    the local CPU wheel here.
set -euo pipefail
MM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MM_MODE="${1:-app}"

mm_log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------
MM_PKGS_APP="libportaudio2 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libfontconfig1 libdbus-1-3"
MM_PKGS_TEST="xvfb xauth pulseaudio pulseaudio-utils libasound2-plugins librsvg2-bin"   # rsvg-convert: SVG exports rendered outside Qt
mm_pkgs="$MM_PKGS_APP"
[ "$MM_MODE" = test ] && mm_pkgs="$mm_pkgs $MM_PKGS_TEST"

if command -v dpkg-query >/dev/null 2>&1; then
  mm_missing=""
  for p in $mm_pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || mm_missing="$mm_missing $p"
  done
  if [ -n "$mm_missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${MM_NO_APT:-0}" != 1 ]; then
      mm_log "installing Debian packages:$mm_missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null || mm_log "apt-get update failed; trying the install anyway"
      if ! apt-get install -y -qq --no-install-recommends $mm_missing >/dev/null; then
        mm_log "could not install:$mm_missing (the app runs without sound or a screen; tests that need them are skipped)"
      fi
    else
      mm_log "missing Debian packages:$mm_missing"
      mm_log "install them with: sudo apt-get install$mm_missing"
      mm_log "(going on: playback, Xvfb or PulseAudio tests are disabled or skipped without them)"
    fi
  fi
else
  mm_log "not a Debian system: make sure PortAudio, Qt's xcb libraries, Xvfb and PulseAudio are installed"
fi

# --- Python virtual environment ----------------------------------------------------
MM_VENV="${MM_VENV:-$MM_ROOT/.venv}"
mm_python=""
for c in python3.11 python3.12 python3.13 python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    mm_python="$c"; break
  fi
done
if [ -z "$mm_python" ]; then
  mm_log "Python 3.11 or newer is needed (apt-get install python3 python3-venv)"; exit 1
fi
if [ ! -x "$MM_VENV/bin/python" ]; then
  mm_log "creating $MM_VENV with $($mm_python --version)"
  "$mm_python" -m venv "$MM_VENV" || { mm_log "venv creation failed (apt-get install python3-venv)"; exit 1; }
fi
mm_stamp="$MM_VENV/.mmstudio-stamp"
mm_want="$(cat "$MM_ROOT/pyproject.toml" "$MM_ROOT/constraints.txt" | sha256sum | cut -c1-16)"
if [ "$(cat "$mm_stamp" 2>/dev/null)" != "$mm_want" ]; then
  mm_log "installing Python packages into $MM_VENV (first time: about a minute)"
  "$MM_VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  if ! "$MM_VENV/bin/python" -m pip install -q -c "$MM_ROOT/constraints.txt" -e "$MM_ROOT[gui,test]" 2>&1 \
      | grep -v -E "^WARNING: Location .* is ignored" >&2; then :; fi
  "$MM_VENV/bin/python" -c "import torch, PySide6, pyqtgraph, librosa, safetensors" \
    || { mm_log "the Python install failed (see above)"; exit 1; }
  echo "$mm_want" > "$mm_stamp"
fi
export PATH="$MM_VENV/bin:$PATH"
export MM_PYTHON="$MM_VENV/bin/python"
