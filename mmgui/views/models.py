"""The model picker: every known model file (bundled, trained, opened), its `mmnet info`
metadata, and which two are A and B."""
from __future__ import annotations

import html
import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QSplitter, QTextBrowser,
                               QVBoxLayout, QWidget)

from .. import theme


def metadata_html(entry) -> str:
    """The metadata of a model file as HTML (what ``mmnet info`` prints)."""
    if entry is None:
        return "<i>No model selected.</i>"
    if entry.error:
        return f"<b>{html.escape(entry.name)}</b><br><span style='color:#ff6b6b'>{html.escape(entry.error)}</span>"
    m = entry.meta or {}
    rows = [("File", entry.path), ("Origin", entry.origin), ("Method", m.get("method", "?")),
            ("Parameters", f"{m.get('parameters', 0):,}")]
    scales = m.get("scales") or []
    rows.append(("Scales", ", ".join(f"{s['name']} ({s['hop_s'] * 1000:.0f} ms)" for s in scales) or
                 "none (clip level only)"))
    classes = m.get("classes", [])
    thr = m.get("thresholds") or []
    rows.append(("Classes", f"{len(classes)}: " + ", ".join(
        f"{c} ({t:.2f})" if i < len(thr) else c for i, (c, t) in enumerate(zip(classes, thr + [0] * len(classes))))))
    fc = m.get("feature_config", {})
    rows.append(("Features", ", ".join(f"{k}={v}" for k, v in fc.items())))
    mc = m.get("model_config", {})
    rows.append(("Architecture", ", ".join(f"{k}={v}" for k, v in mc.items())))
    prov = m.get("provenance") or {}
    rows.append(("Provenance", html.escape(json.dumps(prov, indent=1))[:3000] if prov else "—"))
    body = "".join(f"<tr><td style='color:#9aa0a6;padding-right:8px;vertical-align:top'>{k}</td>"
                   f"<td>{v if k == 'Provenance' else html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<b>{html.escape(entry.name)}</b><table style='margin-top:4px'>{body}</table>"


class ModelPanel(QWidget):
    openRequested = Signal()

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.info = QTextBrowser()
        self.info.setOpenLinks(False)
        self.btn_a = QPushButton("Use as A")
        self.btn_b = QPushButton("Use as B")
        self.btn_swap = QPushButton("Swap")
        self.btn_open = QPushButton("Open…")
        for b, tip in ((self.btn_a, "Show this model in the analysis panes"),
                       (self.btn_b, "Compare model A with this model"),
                       (self.btn_swap, "Swap models A and B"),
                       (self.btn_open, "Open a model file (.safetensors)")):
            b.setToolTip(tip)
        buttons = QHBoxLayout()
        for b in (self.btn_a, self.btn_b, self.btn_swap, self.btn_open):
            buttons.addWidget(b)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.info)
        split.setSizes([120, 200])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(buttons)
        lay.addWidget(split, 1)
        self.btn_a.clicked.connect(lambda: self._use("A"))
        self.btn_b.clicked.connect(lambda: self._use("B"))
        self.btn_swap.clicked.connect(doc.swap_slots)
        self.btn_open.clicked.connect(self.openRequested)
        self.list.currentItemChanged.connect(self._show_info)
        self.list.itemDoubleClicked.connect(lambda _i: self._use("A"))
        doc.modelsChanged.connect(self.rebuild)
        doc.slotsChanged.connect(self.rebuild)
        self.rebuild()

    def selected_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _use(self, slot: str) -> None:
        p = self.selected_path()
        if p:
            self.doc.set_slot(slot, p)

    def rebuild(self) -> None:
        current = self.selected_path() or self.doc.slots.get("A")
        self.list.blockSignals(True)
        self.list.clear()
        for m in self.doc.models:
            tags = [s for s in ("A", "B") if self.doc.slots.get(s) == m.path]
            prefix = "".join(f"[{t}] " for t in tags)
            item = QListWidgetItem(f"{prefix}{m.name}   ({m.origin})")
            item.setData(Qt.ItemDataRole.UserRole, m.path)
            item.setToolTip(m.error or m.path)
            if m.error:
                item.setForeground(QBrush(QColor("#ff6b6b")))
            elif tags:
                item.setForeground(QBrush(QColor(theme.SLOT_COLOURS[tags[0]])))
            self.list.addItem(item)
            if m.path == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._show_info()

    def _show_info(self, *_):
        p = self.selected_path()
        self.info.setHtml(metadata_html(self.doc.model(p) if p else None))
