#!/usr/bin/env bash
# Run M&m Studio: sets up what it needs on first use, then opens the window.
#   ./mmstudio.sh                 the demo clip with the bundled models
#   ./mmstudio.sh FILES...        open these audio files
#   ./mmstudio.sh --screenshot OUT.png [FILES...]   save a screenshot and exit
set -euo pipefail
source "$(dirname "$0")/scripts/bootstrap.sh" app
cd "$MM_ROOT"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  case " $* " in
    *" --screenshot "*) export QT_QPA_PLATFORM=offscreen ;;
    *) echo "mmstudio: no display (DISPLAY is not set). Run it in a desktop session, or under Xvfb:" >&2
       echo "  Xvfb :99 -screen 0 1280x800x24 & DISPLAY=:99 ./mmstudio.sh" >&2
       exit 1 ;;
  esac
fi
exec "$MM_PYTHON" main.py "$@"
