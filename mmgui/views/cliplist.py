"""The clip list: files of the workspace with their labels, what each model detects, and
where the two models disagree (filterable)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .base import format_time

COLUMNS = ["File", "Length", "A vs B", "Labels", "A detects", "B detects"]
COL_DISAGREE, COL_LABELS, COL_A, COL_B = 2, 3, 4, 5


class ClipList(QWidget):
    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or label…")
        self.filter.setClearButtonEnabled(True)
        self.only_disagree = QCheckBox("Only A/B disagreements")
        self.only_disagree.setToolTip("Clips where one model detects a class that the other misses")
        self.analyze_all = QPushButton("Analyze all")
        self.analyze_all.setToolTip("Analyze every clip of the list with models A and B (in the background)")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for i, w in enumerate((130, 54, 120, 120, 110)):
            self.table.setColumnWidth(i, w)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.analyze_all)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.only_disagree)
        lay.addWidget(self.table, 1)
        self.rows: dict[str, int] = {}
        self._selecting = False
        self.filter.textChanged.connect(self.apply_filter)
        self.only_disagree.toggled.connect(self.apply_filter)
        self.analyze_all.clicked.connect(self.start_analyze_all)
        self.table.itemSelectionChanged.connect(self._selected)
        doc.clipsChanged.connect(self.rebuild)
        doc.clipUpdated.connect(self.update_row)
        doc.currentClipChanged.connect(self._current_changed)
        doc.slotsChanged.connect(self.refresh_all)
        doc.analysisChanged.connect(lambda c, m: self.update_row(c))
        self.rebuild()

    def rebuild(self) -> None:
        self._selecting = True
        self.table.setRowCount(len(self.doc.clips))
        self.rows = {}
        for i, clip in enumerate(self.doc.clips):
            self.rows[clip.path] = i
            self._fill(i, clip)
        self._selecting = False
        self.apply_filter()
        self._current_changed(self.doc.current.path if self.doc.current else "")

    def refresh_all(self) -> None:
        for clip in self.doc.clips:
            self.update_row(clip.path)

    def update_row(self, path: str) -> None:
        i = self.rows.get(path)
        clip = self.doc.clip(path)
        if i is None or clip is None:
            return
        self._fill(i, clip)
        self._filter_row(i, clip)

    def _fill(self, i: int, clip) -> None:
        doc = self.doc
        labels = ", ".join(clip.weak) if clip.weak else ("" if clip.strong is None else
                                                         ", ".join(sorted({e[2] for e in clip.strong})))
        cells = [clip.name, format_time(clip.duration)[:-4] if clip.duration else "", "", labels]
        dis = doc.disagreement(clip.path)
        for slot in ("A", "B"):
            m = doc.slots.get(slot)
            det = doc.detected_labels(m, clip.path) if m else None
            if det is None:
                err = doc.errors.get((clip.path, m)) if m else None
                cells.append("error" if err else ("…" if m and doc.is_analyzing(slot, clip.path) else ""))
            else:
                cells.append(", ".join(sorted(det)) or "—")
        if dis is not None:
            only_a, only_b = dis
            parts = ([f"A only: {', '.join(sorted(only_a))}"] if only_a else []) + \
                    ([f"B only: {', '.join(sorted(only_b))}"] if only_b else [])
            cells[COL_DISAGREE] = "; ".join(parts) if parts else "agree"
        for j, text in enumerate(cells):
            item = self.table.item(i, j)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(i, j, item)
            item.setText(text)
            item.setToolTip(clip.error or (clip.path if j == 0 else text))
            if clip.error:
                item.setForeground(QBrush(QColor("#ff6b6b")))
            elif j == COL_DISAGREE and dis is not None and (dis[0] or dis[1]):
                item.setForeground(QBrush(QColor("#ffd166")))
            else:
                item.setForeground(QBrush(QColor("#c8ccd4")))
        if clip.error:
            self.table.item(i, COL_DISAGREE).setText("unreadable: " + clip.error.split(": ", 1)[-1])

    def _filter_row(self, i: int, clip) -> None:
        text = self.filter.text().strip().lower()
        hide = False
        if text:
            hay = " ".join(self.table.item(i, j).text() for j in range(len(COLUMNS)) if self.table.item(i, j))
            hide = text not in hay.lower()
        if not hide and self.only_disagree.isChecked():
            dis = self.doc.disagreement(clip.path)
            hide = not (dis and (dis[0] or dis[1]))
        self.table.setRowHidden(i, hide)

    def apply_filter(self) -> None:
        for clip in self.doc.clips:
            i = self.rows.get(clip.path)
            if i is not None:
                self._filter_row(i, clip)

    def visible_paths(self) -> list[str]:
        return [c.path for c in self.doc.clips if not self.table.isRowHidden(self.rows[c.path])]

    def _selected(self) -> None:
        if self._selecting:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            path = self.doc.clips[rows[0].row()].path
            self.doc.set_current(path)

    def _current_changed(self, path: str) -> None:
        i = self.rows.get(path)
        self._selecting = True
        if i is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(i)
            self.table.scrollToItem(self.table.item(i, 0), QAbstractItemView.ScrollHint.EnsureVisible)
        self._selecting = False

    def start_analyze_all(self) -> None:
        """Analyze every listed clip with models A and B in the background (Ctrl+R)."""
        n = self.doc.analyze_all()
        self.doc.message.emit(f"Analyzing {n} clip/model pair(s) in the background" if n else
                              "Every clip is already analyzed by models A and B", "info")


__all__ = ["ClipList", "Qt"]
