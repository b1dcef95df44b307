"""Source rules of the GUI that a crash taught us, checked on every module of ``mmgui/``.

pyqtgraph's ``ImageItem.setImage`` without explicit ``levels`` computes them while painting
float data; with another Python thread running, PySide6 was seen to segfault there (found by
the Live tab's work). Every image in the app therefore passes its levels.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

MMGUI = Path(__file__).resolve().parents[1] / "mmgui"


def _calls(name: str):
    for path in sorted(MMGUI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield path, node


def test_every_set_image_passes_its_levels():
    calls = list(_calls("setImage"))
    assert len(calls) >= 4, "the scan found too few setImage calls: is it reading mmgui/?"
    missing = [f"{p.relative_to(MMGUI.parent)}:{n.lineno}" for p, n in calls
               if not any(k.arg == "levels" for k in n.keywords)]
    assert not missing, f"setImage without levels= (pyqtgraph computes them while painting): {missing}"


def test_the_scan_sees_a_call_without_levels(tmp_path, monkeypatch):
    bad = tmp_path / "mmgui"
    bad.mkdir()
    (bad / "view.py").write_text("def draw(item, img):\n    item.setImage(img, autoLevels=True)\n")
    monkeypatch.setattr(sys.modules[__name__], "MMGUI", bad)
    found = [n for _, n in _calls("setImage")]
    assert len(found) == 1 and not any(k.arg == "levels" for k in found[0].keywords)
