"""Stress the rule "Qt objects die on the GUI thread" (issue 9): open and close the window and
its models many times while analyses, model loads and spectrogram pyramids run in the pool.

Every Qt wrapper the window creates gets a ``weakref.finalize`` that records the thread it dies
on; Python runs it wherever the wrapper is freed, so a count on a pool thread is exactly the
event that deadlocked the suite. A watchdog (``faulthandler.dump_traceback_later``) prints every
thread's stack and exits 3 if a cycle hangs, instead of hanging the caller.

    python tests/gui_stress.py [--cycles N] [--no-policy] [--hang-after S]

``--no-policy`` leaves Python's collector enabled on every thread (the state before the fix),
to show what the count catches. Prints one JSON line: cycles, finalized per thread name, seconds.
"""
from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import os
import sys
import threading
import time
import weakref
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=12)
    ap.add_argument("--no-policy", action="store_true", help="keep the interpreter's own collector")
    ap.add_argument("--hang-after", type=float, default=240.0, help="watchdog: dump stacks and exit 3 (s)")
    args = ap.parse_args(argv)
    faulthandler.dump_traceback_later(args.hang_after, exit=True)

    from PySide6.QtCore import QEventLoop, QObject, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from mmgui import gcpolicy
    from mmgui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    if not args.no_policy:
        gcpolicy.install(app)
    deaths: Counter = Counter()

    def spin(ms: int) -> None:
        """Run the event loop for ``ms`` (as the app does: deferred deletes included)."""
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def died(_name=None):
        deaths[threading.current_thread().name] += 1

    models = [str(ROOT / "assets" / "models" / f"{m}.safetensors") for m in ("resnet-att", "mmnet-ms")]
    clips = [str(ROOT / "assets" / "demo" / "demo.wav")]
    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "mm-stress.ini"), QSettings.Format.IniFormat)
    pool = QThreadPool.globalInstance()

    def load_like():
        import engine

        engine.load_model(models[0], device="cpu")
        _ = [[object()] for _ in range(100_000)]

    t0 = time.monotonic()
    for cycle in range(args.cycles):
        win = MainWindow(settings=settings, player=None)
        win.show()
        for obj in win.findChildren(QObject):
            weakref.finalize(obj, died)
        for m in models:
            win.doc.add_model(m, "bundled")
        win.doc.set_slot("A", models[cycle % 2])
        win.doc.set_slot("B", models[(cycle + 1) % 2])
        win.open_paths(clips, remember=False)
        spin(300 + 200 * (cycle % 4))                           # close at different stages of the work
        win.close()
        win.deleteLater()
        del win
        spin(50)
        # the closed window's Python cycles are garbage now; a pool thread allocates (as a model
        # load does) while the GUI thread waits: with the interpreter's collector, the pool
        # thread collects that garbage, and frees Qt wrappers there
        pool.start(load_like)
        pool.waitForDone(20000)
    QThreadPool.globalInstance().waitForDone(10000)
    spin(500)
    gc.collect()
    faulthandler.cancel_dump_traceback_later()
    off_main = sum(n for name, n in deaths.items() if name != "MainThread")
    print(json.dumps({"cycles": args.cycles, "policy": not args.no_policy, "finalized": dict(deaths),
                      "finalized_off_main": off_main, "seconds": round(time.monotonic() - t0, 1)}))
    return 0 if off_main == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
