"""Child process of tests/test_gui_annotate.py: edits annotations in a loop until it is killed.

``python tests/annotate_kill_child.py CLIP``: a QApplication (offscreen), an AnnotationStore with
autosave on CLIP, and every 10 ms one more event ``e<i>`` at ``i * 0.01`` s; after each edit it
prints ``edit <i> <UNIX time>`` (flushed), so the test knows what was done and when.
"""
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mmgui.annotations.autosave import AutoSaver  # noqa: E402
from mmgui.annotations.store import Annotation, AnnotationStore  # noqa: E402


def main(clip: str) -> None:
    app = QApplication([])
    store = AnnotationStore()
    AutoSaver(store, fallback_dir=os.path.dirname(clip) + "/fallback")
    store.set_current(clip)
    count = [0]

    def edit():
        i = count[0]
        store.add(clip, Annotation(i * 0.01, i * 0.01 + 0.005, f"e{i}"))
        count[0] += 1
        print(f"edit {i} {time.time():.6f}", flush=True)

    timer = QTimer()
    timer.timeout.connect(edit)
    timer.start(10)
    print("ready", flush=True)
    app.exec()


if __name__ == "__main__":
    main(sys.argv[1])
