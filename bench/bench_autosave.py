"""Annotation autosave: time on the GUI thread per save and time of the write (CSV, fsync, rename).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_autosave.py [--saves 20] [--dir DIR]

For 10, 100 and 1000 events in one clip: ``saves`` edits, each followed by ``AutoSaver.save``
(the snapshot on the GUI thread, the write on the save thread), waiting for each write.
Prints the median and the maximum of both, in milliseconds. DIR (default: a temporary folder)
decides the disk measured.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from mmgui import gcpolicy
    from mmgui.annotations.autosave import AutoSaver
    from mmgui.annotations.store import Annotation, AnnotationStore

    gcpolicy.install(app)
    folder = Path(args.dir or tempfile.mkdtemp())
    for n in (10, 100, 1000):
        clip = str(folder / f"bench{n}.wav")
        store = AnnotationStore()
        saver = AutoSaver(store, fallback_dir=folder / "fallback")
        store.add_many(clip, [Annotation(i * 0.1, i * 0.1 + 0.05, f"label{i % 7}", 100.0 + i, 5000.0 + i,
                                         "proposal", "mmnet-ms.safetensors", 0.5) for i in range(n)])
        gui = []
        for k in range(args.saves):
            store.relabel(clip, [store.events(clip)[0].id], f"x{k}")
            t0 = time.perf_counter()
            saver.save(clip)
            gui.append(time.perf_counter() - t0)
            saver.wait()
        w = list(saver.write_seconds)
        assert not store.is_dirty(clip)
        print(f"{n:5d} events: GUI thread per save median {statistics.median(gui) * 1e3:.2f} ms "
              f"(max {max(gui) * 1e3:.2f}); write median {statistics.median(w) * 1e3:.1f} ms (max {max(w) * 1e3:.1f})")
        Path(clip + ".annotations.csv").unlink(missing_ok=True)
    app.quit()


if __name__ == "__main__":
    main()
