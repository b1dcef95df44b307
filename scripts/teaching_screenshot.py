"""Screenshot of the Explain panel (docs/teaching.png): the demo clip with the bundled M&mnet-MS.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/teaching_screenshot.py docs/teaching.png [--step eq7]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--step", default="eq7")
    ap.add_argument("--size", default="1280x820")
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    from mmgui import theme

    app = QApplication([])
    theme.apply_palette(app)
    theme.configure_pyqtgraph()
    from mmgui.document import Document
    from mmgui.teaching.panel import ExplainPanel

    doc = Document()
    entry = doc.add_model(str(ROOT / "assets" / "models" / "mmnet-ms.safetensors"), "bundled")
    doc.set_slot("A", entry.path)
    doc.open_paths([str(ROOT / "assets" / "demo" / "demo.wav")])
    panel = ExplainPanel(doc)
    w, h = (int(v) for v in args.size.split("x"))
    panel.resize(w, h)
    panel.show()
    start = time.monotonic()
    while panel.steps.lesson is None and time.monotonic() - start < 120:
        app.processEvents()
        time.sleep(0.02)
    if panel.steps.lesson is None:
        print("the explanation did not arrive", file=sys.stderr)
        return 1
    panel.steps.set_step(args.step)
    for _ in range(5):
        app.processEvents()
    ok = panel.grab().save(args.out)
    doc.shutdown()
    print(args.out, Path(args.out).stat().st_size if ok else "not written")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
