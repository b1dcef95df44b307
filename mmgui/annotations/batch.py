"""The batch tab: models A (and B) over a folder, recursively, in the background, as a table.

The work is :func:`engine.batch.iter_batch` in a :class:`BatchTask` on the document's
"compute" pool (``doc.tasks``): each clip's row arrives as soon as it is analysed (the task's
``partial`` signal), with progress, and Cancel stops it between clips. The table (clip,
duration s, top classes of A and B with their probabilities, events and short events of each,
worst A/B disagreement |p_A - p_B| with its class and time) sorts by any column and filters
by text; a double click opens the clip in the workspace. Exports: the table as CSV
(``engine.batch.write_table_csv``) and every event of A (or B) as one DCASE TSV.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QTableView, QVBoxLayout, QWidget)

from ..workers import Task

HEADERS = ["Clip", "Duration (s)", "Top A", "Events A", "Short A", "Top B", "Events B", "Short B",
           "Disagreement", "Class", "Time (s)", "Error"]


class BatchTask(Task):
    """``iter_batch(folder, A, B)`` in a pool thread; each BatchItem goes out through ``partial``.
    Holds paths only (no Qt object); loads its own copies of the models."""

    def __init__(self, folder: str, model_a: str, model_b: str | None = None, batch_size: int = 8):
        super().__init__(f"Batch analysis of {Path(folder).name}", key=("batch", folder))
        self.folder, self.model_a, self.model_b, self.batch_size = folder, model_a, model_b, batch_size

    def work(self):
        from engine import load_model
        from engine.batch import iter_batch

        a = load_model(self.model_a, device="cpu")
        b = load_model(self.model_b, device="cpu") if self.model_b else None
        n = 0
        for item in iter_batch(self.folder, a, b, batch_size=self.batch_size,
                               progress=lambda done, total, _clip: self.report(done / max(total, 1)),
                               cancel=lambda: self.is_cancelled):
            self.signals.partial.emit(item)
            n += 1
        return n


def _cell(value, text: str | None = None) -> QStandardItem:
    """An item showing ``text`` (default: the value) and sorting by ``value`` (numbers as numbers)."""
    item = QStandardItem()
    item.setEditable(False)
    if value is None or value == "":
        item.setData("", Qt.ItemDataRole.DisplayRole)
    elif isinstance(value, (int, float)):
        item.setData(float(value), Qt.ItemDataRole.UserRole)
        item.setData(text if text is not None else (f"{value:.3f}" if isinstance(value, float) else str(value)),
                     Qt.ItemDataRole.DisplayRole)
    else:
        item.setData(str(value), Qt.ItemDataRole.DisplayRole)
    return item


def _top(top) -> str:
    return "; ".join(f"{c} {p:.2f}" for c, p in (top or []))


def row_cells(row) -> list[QStandardItem]:
    d = row.disagreement
    return [_cell(row.clip), _cell(row.duration), _cell(_top(row.top_a)), _cell(row.events_a), _cell(row.short_a),
            _cell(_top(row.top_b)), _cell(row.events_b), _cell(row.short_b),
            _cell(None if d is None else d.value), _cell(None if d is None else d.label),
            _cell(None if d is None else d.time), _cell(row.error or "")]


class _SortProxy(QSortFilterProxyModel):
    """Numbers sort as numbers (UserRole), text as text; the filter looks at every column."""

    def lessThan(self, left, right) -> bool:
        a, b = left.data(Qt.ItemDataRole.UserRole), right.data(Qt.ItemDataRole.UserRole)
        if a is not None and b is not None:
            return float(a) < float(b)
        if (a is None) != (b is None):
            return a is None
        return str(left.data() or "") < str(right.data() or "")


class BatchView(QWidget):
    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.items: list = []          # engine.batch.BatchItem, in arrival order
        self.folder = ""
        self.task = None
        top = QHBoxLayout()
        self.folder_btn = QPushButton("Folder…")
        self.folder_btn.clicked.connect(self.choose_folder)
        self.run_btn = QPushButton("Analyze with A and B")
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter rows (any column)")
        for w in (self.folder_btn, self.run_btn, self.cancel_btn, self.progress, self.filter):
            top.addWidget(w)
        exports = QHBoxLayout()
        self.status = QLabel("Choose a folder; models A and B analyze every audio file in it")
        exports.addWidget(self.status, 1)
        for text, slot in (("Export table (CSV)…", self.export_table_dialog),
                           ("Export events of A (TSV)…", self.export_events_dialog)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            exports.addWidget(b)
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(HEADERS)
        self.proxy = _SortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.doubleClicked.connect(self._open_row)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(exports)
        lay.addWidget(self.table, 1)

    # ------------------------------------------------------------ running
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to analyze")
        if folder:
            self.folder = folder
            self.status.setText(folder)

    def run(self, folder: str | None = None) -> Task | None:
        folder = folder or self.folder
        a, b = self.doc.slots.get("A"), self.doc.slots.get("B")
        if not folder or not a:
            self.doc.message.emit("Batch: choose a folder and put a model in slot A", "warning")
            return None
        self.cancel()
        self.folder, self.items = folder, []
        self.model.removeRows(0, self.model.rowCount())
        task = BatchTask(folder, a, b)
        task.signals.partial.connect(self._item)
        task.signals.progress.connect(self._progress)
        task.signals.done.connect(self._done)
        task.signals.failed.connect(self._failed)
        task.signals.cancelled.connect(self._cancelled)
        self.task = self.doc.tasks.submit(task, "compute")
        self.cancel_btn.setEnabled(True)
        self.status.setText(f"Analyzing {folder}…")
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _item(self, item) -> None:
        self.items.append(item)
        self.model.appendRow(row_cells(item.row))

    def _progress(self, fraction: float) -> None:
        self.progress.setValue(int(1000 * fraction))

    def _finish(self, text: str, level: str = "info") -> None:
        self.task = None
        self.cancel_btn.setEnabled(False)
        self.status.setText(text)
        self.doc.message.emit(text, level)

    def _done(self, n) -> None:
        self.progress.setValue(1000)
        self._finish(f"Batch: {n} clips analyzed in {self.folder}")

    def _failed(self, reason: str) -> None:
        self._finish(f"Batch analysis failed: {reason}", "error")

    def _cancelled(self) -> None:
        self._finish(f"Batch analysis cancelled after {len(self.items)} clips", "warning")

    # ------------------------------------------------------------ rows and exports
    def _open_row(self, index) -> None:
        src = self.proxy.mapToSource(index)
        if 0 <= src.row() < len(self.items):
            path = self.items[src.row()].row.path
            self.doc.open_paths([path])
            self.doc.set_current(path)

    def export_table(self, path: str) -> None:
        from engine.batch import write_table_csv

        write_table_csv(path, [it.row for it in self.items])

    def export_events(self, path: str, which: str = "a") -> None:
        from engine.batch import write_events_tsv

        write_events_tsv(path, self.items, which)

    def _export(self, title: str, filt: str, fn) -> None:
        path, _ = QFileDialog.getSaveFileName(self, title, "", filt)
        if not path:
            return
        try:
            fn(path)
        except (OSError, ValueError) as exc:
            self.doc.message.emit(f"Not exported: {exc}", "error")
            return
        self.doc.message.emit(f"Exported to {path}", "info")

    def export_table_dialog(self) -> None:
        self._export("Export the batch table", "CSV (*.csv)", self.export_table)

    def export_events_dialog(self) -> None:
        self._export("Export the events of model A", "DCASE TSV (*.tsv)", self.export_events)
