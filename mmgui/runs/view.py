"""The Runs tab: the runs of a runs folder (status, progress, speed, ETA), live curves of the selected
runs overlaid, the current run's log, metrics of finished runs and attention over epochs.

Buttons act on the selected runs: Cancel (SIGTERM: the run stops after a checkpoint), Resume
(continue from the checkpoint), Open model (into the document, slot A), Compare (two finished runs:
both models into slots A and B, their validation clips opened; ``compareRequested`` asks the window
to show the comparison).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from ..workers import FunctionTask, TaskManager
from .curves import CurvesWidget
from .metrics import MetricsWidget
from .watch import AttentionWatch, _validation_clips

COLUMNS = ("run", "method", "status", "progress", "speed", "ETA", "best mAP")
MAX_OVERLAID = 12


def fmt_eta(seconds) -> str:
    if seconds is None:
        return ""
    s = int(round(float(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def status_text(run) -> str:
    """What the status column says: the status, and why for failed / interrupted / waiting runs."""
    if run.status == "queued" and run.waiting:
        return "queued (generating the synthetic data)"
    if run.status == "running" and run.progress is None and run.features and run.features[0] < run.features[1]:
        return f"running (features {run.features[0]}/{run.features[1]})"
    if run.status == "interrupted":
        return "interrupted: " + ("resume offered" if run.resumable else "start again offered")
    if run.status in ("failed", "cancelled") and run.reason:
        return f"{run.status}: {run.reason}"
    return run.status


class RunsView(QWidget):
    """Watches a :class:`~mmgui.runs.model.RunsModel`; ``doc`` (optional) receives models and clips."""

    compareRequested = Signal(str, str)     # model A, model B (both added to the document, slots set)
    trainRequested = Signal()
    modelOpened = Signal(str)

    def __init__(self, model, doc=None, tasks: TaskManager | None = None, parent=None):
        super().__init__(parent)
        self.model = model
        self.doc = doc
        self.tasks = tasks or (doc.tasks if doc is not None else TaskManager(self))
        self._rows: list[str] = []
        self._log_of: str | None = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.buttons = {}
        for key, text, slot in (("train", "Train…", self.trainRequested.emit), ("cancel", "Cancel", self.cancel),
                                ("resume", "Resume", self.resume), ("open", "Open model", self.open_model),
                                ("compare", "Compare", self.compare), ("folder", "Runs folder…", self.choose_root)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[key] = b
        self.root_label = QLabel()
        bar.addWidget(self.root_label, 1)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)   # status and reason
        self.table.itemSelectionChanged.connect(self._selection_changed)
        split.addWidget(self.table)
        self.tabs = QTabWidget()
        self.curves = CurvesWidget()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.metrics = MetricsWidget(self.tasks)
        self.watch = AttentionWatch(self.tasks)
        for w, title in ((self.curves, "Curves"), (self.log, "Log"), (self.metrics, "Metrics"),
                         (self.watch, "Attention over epochs")):
            self.tabs.addTab(w, title)
        split.addWidget(self.tabs)
        split.setSizes([220, 380])
        layout.addWidget(split, 1)
        self._redraw = QTimer(self)          # curves and metrics at most 5 times a second
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(200)
        self._redraw.timeout.connect(self._draw_selection)
        model.runsChanged.connect(self.rebuild)
        model.runChanged.connect(self._run_changed)
        model.epochAdded.connect(self._epoch_added)
        model.logAdded.connect(self._log_added)
        self.rebuild()

    # ------------------------------------------------------------------ table
    def rebuild(self) -> None:
        selected = set(self.selected_paths())
        self.table.blockSignals(True)
        runs = self.model.ordered()
        self._rows = [r.path for r in runs]
        self.table.setRowCount(len(runs))
        for i, run in enumerate(runs):
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            self.table.setCellWidget(i, 3, bar)
            self._fill(i, run)
        self.table.clearSelection()
        for i, path in enumerate(self._rows):
            if path in selected:
                self.table.selectRow(i)
        self.table.blockSignals(False)
        if self._rows and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        self.root_label.setText(self.model.root or "")
        self.table.resizeColumnsToContents()
        self._selection_changed()

    def _fill(self, i: int, run) -> None:
        speed = f"{run.speed:.1f} clips/s" if run.speed else ""
        best = run.best_mAP
        for j, text in ((0, run.name), (1, run.method), (2, status_text(run)), (4, speed), (5, fmt_eta(run.eta_s)),
                        (6, "" if best is None else f"{best:.3f}")):
            item = self.table.item(i, j)
            if item is None:
                self.table.setItem(i, j, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)
        self.table.item(i, 2).setToolTip(run.reason or "")
        bar = self.table.cellWidget(i, 3)
        bar.setValue(int(round(run.fraction * 1000)))
        done = max(run.history) if run.history else 0
        bar.setFormat(f"epoch {done}/{run.epochs}" if run.epochs else "%p%")

    def row_of(self, path: str) -> int:
        return self._rows.index(path) if path in self._rows else -1

    def _run_changed(self, path: str) -> None:
        i = self.row_of(path)
        run = self.model.run(path)
        if i < 0 or run is None:
            self.rebuild()
            return
        self._fill(i, run)
        self._update_buttons()
        if path in self.selected_paths():
            self._redraw.start()

    def _epoch_added(self, path: str, _epoch: int) -> None:
        if path in self.selected_paths() or not self.selected_paths():
            self._redraw.start()

    def _log_added(self, path: str, line: str) -> None:
        if path == self._log_of:
            self.log.appendPlainText(line)

    # -------------------------------------------------------------- selection
    def selected_paths(self) -> list[str]:
        rows = sorted(ix.row() for ix in self.table.selectionModel().selectedRows())
        return [self._rows[r] for r in rows if r < len(self._rows)]

    def selected_runs(self) -> list:
        return [r for r in (self.model.run(p) for p in self.selected_paths()) if r is not None]

    def current_run(self):
        runs = self.selected_runs()
        return runs[0] if runs else None

    def select(self, path: str) -> None:
        """Make ``path`` the only selected run."""
        i = self.row_of(path)
        if i >= 0:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().select(self.table.model().index(i, 0), flags)

    def _selection_changed(self) -> None:
        run = self.current_run()
        if run is None or run.path != self._log_of:
            self._log_of = run.path if run is not None else None
            self.log.setPlainText("\n".join(run.log) if run is not None else "")
            self.log.moveCursor(self.log.textCursor().MoveOperation.End)
        self._update_buttons()
        self._draw_selection()

    def _draw_selection(self) -> None:
        runs = self.selected_runs() or self.model.ordered()
        self.curves.show_runs(runs[:MAX_OVERLAID])
        self.metrics.show_runs(runs)
        self.watch.set_run(self.current_run())

    def _update_buttons(self) -> None:
        runs = self.selected_runs()
        self.buttons["cancel"].setEnabled(any(r.status in ("queued", "running") for r in runs))
        self.buttons["resume"].setEnabled(any(r.process is None and r.status != "queued"
                                              and (r.resumable or r.startable) for r in runs))
        self.buttons["open"].setEnabled(any(r.model for r in runs))
        self.buttons["compare"].setEnabled(len(runs) == 2 and all(r.model for r in runs))

    # ---------------------------------------------------------------- actions
    def cancel(self) -> None:
        for run in self.selected_runs():
            self.model.cancel(run.path)

    def resume(self) -> None:
        for run in self.selected_runs():
            self.model.resume(run.path)

    def open_model(self) -> None:
        run = next((r for r in self.selected_runs() if r.model), None)
        if run is None:
            return
        if self.doc is not None:
            self.doc.add_model(run.model, "trained")
            self.doc.set_slot("A", run.model)
        self.modelOpened.emit(run.model)

    def compare(self) -> None:
        """Two finished runs: models into slots A and B, their (first run's) validation clips opened."""
        runs = [r for r in self.selected_runs() if r.model]
        if len(runs) != 2:
            return
        a, b = runs[0].model, runs[1].model
        if self.doc is not None:
            for slot, path in (("A", a), ("B", b)):
                self.doc.add_model(path, "trained")
                self.doc.set_slot(slot, path)
            fn = partial(_validation_clips, str(runs[0].config.get("data")), int(runs[0].config.get("seed") or 0))
            task = FunctionTask("Validation clips", fn, ("run-compare-clips", a, b))
            task.signals.done.connect(self._open_clips)
            task.signals.failed.connect(partial(self.model.message.emit, level="error"))
            self.tasks.submit(task, "io")
        self.compareRequested.emit(a, b)

    def _open_clips(self, paths: list) -> None:
        if self.doc is not None and paths:
            self.doc.open_paths(paths)

    def choose_root(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Runs folder", self.model.root or str(Path.home()))
        if path:
            self.model.set_root(path)
