"""Entry point of M&m Studio (``mmnet-studio`` / ``python main.py``).

    python main.py                      # the real-sound demo clip analyzed by the two real-sound models
    python main.py --demo synthetic     # the synthetic benchmark's demo clip and models
    python main.py FILES_OR_FOLDERS...  # audio files, folders, datasets, model files (.safetensors)
    python main.py --screenshot OUT.png [FILES...]   # draw, save the window, exit (0 = all drawn)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

T_START = time.monotonic()
T_START_WALL = time.time()
FEATURES_LATEST_MS = 4000       # the feature pages are built by then even if no analysis is ever drawn


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="mmnet-studio", description="M&m Studio: sound event analysis workspace")
    ap.add_argument("paths", nargs="*", help="audio files, folders, datasets (DIR/audio, DIR/metadata) or models")
    ap.add_argument("--model", action="append", default=[], metavar="FILE",
                    help="a model file to use (first = A, second = B); repeatable")
    ap.add_argument("--split", default=None, help="dataset split to open (default: test, else the first)")
    ap.add_argument("--no-demo", action="store_true", help="start with an empty workspace")
    ap.add_argument("--demo", choices=("realsounds", "synthetic"), default=None,
                    help="demo clip and model pair to open (default: realsounds where its files are present, "
                         "else synthetic)")
    ap.add_argument("--screenshot", metavar="OUT.png", help="save the window once the analyses are drawn, then exit")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds --screenshot waits at most (default 300)")
    ap.add_argument("--size", default="1400x900", help="window size WxH (default 1400x900)")
    ap.add_argument("--tab", choices=("analysis", "compare", "results"), default="analysis",
                    help="tab shown first (results: the Compare tab's benchmark results)")
    ap.add_argument("--no-audio", action="store_true", help="do not open the audio output")
    ap.add_argument("--timings", action="store_true", help="print start-up timings as JSON on stderr")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and \
            not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux"):
        if not args.screenshot:
            print("mmnet-studio: no display (DISPLAY is not set). Run it in a desktop session, under "
                  "Xvfb (xvfb-run), or with --screenshot OUT.png to draw offscreen.", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not os.environ.get("MMGUI_NO_PREWARM"):
        import threading

        threading.Thread(target=_prewarm, name="prewarm", daemon=True).start()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .qtcompat import install as qt_guard

    qt_guard()   # before any Qt object: PySide6 6.12.0 reference-count bug (see mmgui/qtcompat.py)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("M&m Studio")
    app.setOrganizationName("MMStudio")
    from . import gcpolicy

    gcpolicy.install(app)   # cyclic garbage is collected on this (the GUI) thread only: see gcpolicy
    from . import theme

    theme.apply_palette(app)
    theme.configure_pyqtgraph()
    from .mainwindow import MainWindow

    win = MainWindow(player=None if args.no_audio else "auto", features=False)   # features: in start()
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
        win.resize(w, h)
    except ValueError:
        print(f"mmnet-studio: bad --size {args.size!r}, expected WxH", file=sys.stderr)
        return 2
    if args.tab in ("compare", "results"):
        win.show_tab("compare")
    if args.tab == "results":
        win.compare.show_results()
    win.show()
    t_shown = time.monotonic()

    def start():
        explicit = [os.path.abspath(m) for m in args.model + [p for p in args.paths
                                                               if p.lower().endswith(".safetensors")]]
        win.opener.discover_models(background=True, then=lambda: assign(explicit))
        if args.paths:
            if args.split:
                for p in args.paths:
                    if os.path.isdir(p):
                        win.opener.open_dataset(p, args.split)
                win.open_paths([p for p in args.paths if not os.path.isdir(p)])
            else:
                win.open_paths(args.paths)
        opened = bool(args.paths) or (not args.no_demo and win.opener.open_demo(args.demo))
        if not opened:          # nothing to analyze: nothing to wait for
            finish_startup()
            return
        # The feature pages (Live, Batch, Evaluate, Runs, Explain: ~0.4 s) and the start-up
        # collection wait for the first painted analysis (or FEATURES_LATEST_MS): built earlier,
        # they hold the GIL while torch is imported and the first analysis runs (bench/README.md).
        win.firstAnalysisPainted.connect(lambda _t: QTimer.singleShot(0, finish_startup))   # not inside paint
        QTimer.singleShot(FEATURES_LATEST_MS, finish_startup)

    def finish_startup(*_):
        if not win.features:
            win.install_features()
            gcpolicy.freeze_startup()   # what exists now (modules, the window) is never scanned again

    def assign(explicit):
        if explicit:
            win.doc.add_models_async([(m, "opened") for m in explicit], then=lambda: [
                win.doc.set_slot(slot, m) for slot, m in zip(("A", "B"), explicit)
                if win.doc.model(m) is not None and not win.doc.model(m).error])
        else:
            win.doc.fill_empty_slots()

    QTimer.singleShot(0, start)
    result = {"code": 0}
    missing = [p for p in args.paths + args.model if not os.path.exists(p)]
    if args.screenshot:
        _arm_screenshot(app, win, args, result, [f"{p}: no such file or folder" for p in missing])
    else:
        for p in missing:
            print(f"mmnet-studio: {p}: no such file or folder", file=sys.stderr)
    code = app.exec()
    if args.timings:
        t = {k: round(v - T_START, 3) for k, v in win.timings.items()}
        t["window_shown"] = round(t_shown - T_START, 3)
        print(json.dumps({"timings_s": t, "t0_wall": T_START_WALL}), file=sys.stderr)
    return result["code"] or code


def _prewarm() -> None:
    """Import torch and the engine (about 1.7 s) while Qt starts."""
    try:
        from engine import features, infer  # noqa: F401
    except Exception:  # noqa: BLE001 - only a head start; the real work reports its own errors
        pass


def screenshot_state(win) -> tuple[bool, list[str]]:
    """(the window is done: background work over and the current clip drawn, problems found)."""
    doc = win.doc
    if not doc.is_idle():
        return False, []
    problems = []
    if doc.current is None:
        problems.append("no clip is open" + (f" ({win.errors[-1]})" if win.errors else ""))
        return True, problems
    spec = doc.spectrogram()
    if spec is not None and spec.error:
        problems.append(spec.error)
    elif doc.current.error:
        problems.append(doc.current.error)
    slots = [s for s in ("A", "B") if doc.slots.get(s)]
    if not slots:
        problems.append("no usable model to analyze with (give one with --model FILE)")
    for s in slots:
        if doc.analysis(s) is None:
            entry = doc.model(s)
            problems.append(doc.analysis_error(s) or (entry.error if entry and entry.error else
                                                      f"model {s} did not analyze the clip"))
    return True, sorted(set(problems))


def _arm_screenshot(app, win, args, result, errors=()) -> None:
    """Save the window once drawn, then quit; exit code 1 when anything (``errors`` too) went wrong."""
    from PySide6.QtCore import QTimer

    deadline = time.monotonic() + args.timeout
    state = {"settle": 0}

    def poll():
        done, problems = screenshot_state(win)
        if not done and time.monotonic() < deadline:
            return
        # let queued redraws run, then grab
        state["settle"] += 1
        if state["settle"] < 3:
            return
        timer.stop()
        problems = list(errors) + problems
        if not done:
            problems = problems + [f"timed out after {args.timeout:.0f} s waiting for the analyses"]
        try:
            win.analysis.graphics.viewport().repaint()
            win.exporter.export_window(args.screenshot)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"could not save the screenshot: {exc}")
        for p in problems:
            print(f"mmnet-studio: {p}", file=sys.stderr)
        if not problems:
            doc = win.doc
            shown = [f"clip {doc.current.name}" if doc.current else "no clip"]
            shown += [f"{slot}: {doc.model(slot).name}" for slot in ("A", "B") if doc.model(slot) is not None]
            print(f"mmnet-studio: saved {args.screenshot} ({'; '.join(shown)})", file=sys.stderr)
        result["code"] = 1 if problems else 0
        win.close()
        app.quit()

    timer = QTimer(win)
    timer.setInterval(100)
    timer.timeout.connect(poll)
    timer.start()


if __name__ == "__main__":
    sys.exit(main())
