"""The clip list: files of the workspace with their labels, what each model detects, where
the two models disagree (filterable), and model A's errors against the clip's reference
(false positives + missed reference events, :mod:`mmgui.evaluation.reference`).

A click on a column header sorts by it (numbers as numbers; again: the other way); rows are
found by clip path, never by position, so a sorted list still opens the clip clicked."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..evaluation.reference import clip_reference, model_errors
from .base import format_time

COLUMNS = ["File", "Length", "A vs B", "Labels", "A detects", "B detects", "A errors"]
COL_DISAGREE, COL_LABELS, COL_A, COL_B, COL_ERRORS = 2, 3, 4, 5, 6
SORT_ROLE = Qt.ItemDataRole.UserRole          # a number to sort by (cells without one: by text)
PATH_ROLE = Qt.ItemDataRole.UserRole + 1      # the clip's path (column 0)


class Cell(QTableWidgetItem):
    """A cell that sorts by its SORT_ROLE number when both have one; cells without a number (not
    analyzed, no reference) come after those with one in either order; others by text."""

    def __lt__(self, other) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is not None and b is not None:
            return a < b
        if a is not None or b is not None:
            table = self.tableWidget()
            descending = (table is not None and
                          table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
            return (a is None) if descending else (a is not None)
        return self.text().lower() < other.text().lower()


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
        hh.setSortIndicatorShown(False)
        hh.setSectionsClickable(True)
        hh.sectionClicked.connect(self._header_clicked)
        self.sort_column: int | None = None       # sorted by this column (None: the workspace's order)
        self.sort_order = Qt.SortOrder.AscendingOrder
        for i, w in enumerate((130, 54, 120, 120, 110, 110)):
            self.table.setColumnWidth(i, w)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.analyze_all)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.only_disagree)
        lay.addWidget(self.table, 1)
        self._cells: dict[str, QTableWidgetItem] = {}   # clip path -> its row's first cell
        self._selecting = False
        self.filter.textChanged.connect(self.apply_filter)
        self.only_disagree.toggled.connect(self.apply_filter)
        self.analyze_all.clicked.connect(self.start_analyze_all)
        self.table.itemSelectionChanged.connect(self._selected)
        doc.clipsChanged.connect(self.rebuild)
        doc.clipUpdated.connect(self.update_row)
        doc.currentClipChanged.connect(self._current_changed)
        doc.slotsChanged.connect(self.refresh_all)
        doc.analysisChanged.connect(self.update_row)     # (clip, model): the clip's row
        self.rebuild()

    def rebuild(self) -> None:
        self._selecting = True
        self.table.setRowCount(len(self.doc.clips))
        self._cells = {}
        for i, clip in enumerate(self.doc.clips):
            self._fill(i, clip)
            self._cells[clip.path] = self.table.item(i, 0)
        self._sort()
        self._selecting = False
        self.apply_filter()
        self._current_changed(self.doc.current.path if self.doc.current else "")

    def refresh_all(self) -> None:
        for clip in self.doc.clips:
            self.update_row(clip.path)

    def row_of(self, path: str) -> int | None:
        """The table row showing clip ``path`` (None when not listed)."""
        cell = self._cells.get(path)
        return None if cell is None else self.table.row(cell)

    def update_row(self, path: str) -> None:
        i = self.row_of(path)
        clip = self.doc.clip(path)
        if i is None or clip is None:
            return
        key = self._sort_key(i)
        self._fill(i, clip)
        if key != self._sort_key(i):
            self._sort()
        self._filter_row(self.row_of(path), clip)

    # ------------------------------------------------------------------ sorting
    def _header_clicked(self, column: int) -> None:
        if self.sort_column == column:
            self.sort_order = (Qt.SortOrder.DescendingOrder if self.sort_order == Qt.SortOrder.AscendingOrder
                               else Qt.SortOrder.AscendingOrder)
        else:
            self.sort_column, self.sort_order = column, Qt.SortOrder.AscendingOrder
        self._sort()

    def sort_by(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows by ``column`` (as a click on its header does)."""
        self.sort_column, self.sort_order = column, order
        self._sort()

    def _sort_key(self, row: int):
        item = self.table.item(row, self.sort_column) if self.sort_column is not None else None
        return None if item is None else (item.data(SORT_ROLE), item.text())

    def _sort(self) -> None:
        if self.sort_column is None:
            return
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSortIndicator(self.sort_column, self.sort_order)
        selecting, self._selecting = self._selecting, True
        self.table.sortItems(self.sort_column, self.sort_order)
        self._selecting = selecting
        self.apply_filter()          # hidden rows follow their clips

    def paths_in_order(self) -> list[str]:
        """The listed clips' paths in the table's order (hidden rows left out)."""
        return [self.table.item(i, 0).data(PATH_ROLE) for i in range(self.table.rowCount())
                if not self.table.isRowHidden(i)]

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
        errors = model_errors(doc, "A", clip)
        cells.append("" if errors is None else
                     f"{errors['errors']} ({errors['false_positives']} FP, {errors['misses']} missed)")
        if dis is not None:
            only_a, only_b = dis
            parts = ([f"A only: {', '.join(sorted(only_a))}"] if only_a else []) + \
                    ([f"B only: {', '.join(sorted(only_b))}"] if only_b else [])
            cells[COL_DISAGREE] = "; ".join(parts) if parts else "agree"
        for j, text in enumerate(cells):
            item = self.table.item(i, j)
            if item is None:
                item = Cell()
                self.table.setItem(i, j, item)
            item.setText(text)
            item.setToolTip(clip.error or (clip.path if j == 0 else text))
            item.setData(SORT_ROLE, None)
            if clip.error:
                item.setForeground(QBrush(QColor("#ff6b6b")))
            elif j == COL_DISAGREE and dis is not None and (dis[0] or dis[1]):
                item.setForeground(QBrush(QColor("#ffd166")))
            else:
                item.setForeground(QBrush(QColor("#c8ccd4")))
        self.table.item(i, 0).setData(PATH_ROLE, clip.path)
        if clip.duration:
            self.table.item(i, 1).setData(SORT_ROLE, float(clip.duration))
        if errors is not None:
            err = self.table.item(i, COL_ERRORS)
            err.setData(SORT_ROLE, errors["errors"])
            _, source = clip_reference(doc, clip)
            err.setToolTip(f"Model A against the clip's {source}: {errors['false_positives']} false positive(s), "
                           f"{errors['misses']} missed reference event(s) (event-based, 200 ms collar)")
            if errors["errors"]:
                err.setForeground(QBrush(QColor("#ff8c69")))
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
            i = self.row_of(clip.path)
            if i is not None:
                self._filter_row(i, clip)

    def visible_paths(self) -> list[str]:
        """Paths of the rows shown, in the workspace's order (:meth:`paths_in_order`: the table's)."""
        return [c.path for c in self.doc.clips if not self.table.isRowHidden(self.row_of(c.path))]

    def _selected(self) -> None:
        if self._selecting:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            path = self.table.item(rows[0].row(), 0).data(PATH_ROLE)
            self.doc.set_current(path)

    def _current_changed(self, path: str) -> None:
        i = self.row_of(path)
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
