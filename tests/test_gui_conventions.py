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


def _lambda_views_on_document_signals(root: Path):
    """``doc.<signal>.connect(lambda ...: self...)``: a lambda is never disconnected when its view
    dies, so the document keeps calling into a deleted widget (CI saw a deleted ImageItem
    repainted this way). A bound method is disconnected with its object."""
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "connect" and node.args):
                continue
            target = node.func.value
            while isinstance(target, ast.Attribute):
                if isinstance(target.value, ast.Attribute) and target.value.attr == "doc":
                    target = ast.Name("doc")
                    break
                target = target.value
            uses_self = any(isinstance(n, ast.Name) and n.id == "self" for n in ast.walk(node.args[0]))
            if (isinstance(target, ast.Name) and target.id == "doc" and isinstance(node.args[0], ast.Lambda)
                    and uses_self):
                yield f"{path.relative_to(root.parent)}:{node.lineno}"


def test_views_connect_document_signals_to_bound_methods():
    found = list(_lambda_views_on_document_signals(MMGUI))
    assert not found, f"document signal connected to a lambda that holds a view: {found}"


def test_the_scan_sees_a_lambda_on_a_document_signal(tmp_path):
    bad = tmp_path / "mmgui"
    bad.mkdir()
    (bad / "view.py").write_text(
        "class Pane:\n"
        "    def __init__(self, doc):\n"
        "        doc.levelsChanged.connect(lambda lo, hi: self.image.setLevels((lo, hi)))\n"
        "        self.doc.display.displayChanged.connect(lambda: self.redraw())\n"
        "        doc.slotsChanged.connect(self.redraw)\n"
        "        doc.message.connect(lambda m: print(m))\n")
    assert [s.rsplit(":", 1)[1] for s in _lambda_views_on_document_signals(bad)] == ["3", "4"]
