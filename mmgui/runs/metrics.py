"""Metrics of finished runs: a row per run (training's validation figures, and after "Evaluate", the
figures of :func:`engine.evaluate.evaluate` on the validation split: mAP, AUC, F1, segment and event
F1, PSDS1, the mAP of transient classes — median event under 1 s) and a per-class table of one run.

An evaluation is saved as ``RUN/evaluation-validation.json`` and shown again after a restart.
"""
from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from ..workers import FunctionTask

EVALUATION = "evaluation-validation.json"
RUN_COLUMNS = ("run", "method", "best epoch", "mAP", "AUC", "F1", "segment F1", "event F1", "PSDS1",
               "transient mAP")
CLASS_COLUMNS = ("class", "AP", "AUC", "F1", "segment F1", "event F1", "median event s")


_READ: dict[str, tuple[float, dict]] = {}    # path -> (mtime, evaluation): read again only when it changes


def load_evaluation(run_path: str) -> dict | None:
    """The run's saved evaluation (``RUN/evaluation-validation.json``), or None."""
    path = Path(run_path) / EVALUATION
    try:
        mtime = path.stat().st_mtime
        if str(path) not in _READ or _READ[str(path)][0] != mtime:
            _READ[str(path)] = (mtime, json.loads(path.read_text()))
        return _READ[str(path)][1]
    except (OSError, json.JSONDecodeError):
        return None


def transient_mAP(result: dict) -> float | None:
    """Mean AP of the classes whose median reference event is under 1 s (None without strong labels)."""
    bins = (result.get("by_duration") or {}).get("bins") or []
    return bins[0].get("mean_AP") if bins and bins[0].get("high_s") == 1.0 else None


def _evaluate(model: str, data: str, out: str, task) -> dict:
    """Pool thread: evaluate ``model`` on the validation split of ``data`` and save the result as ``out``."""
    from engine.evaluate import evaluate

    result = evaluate(model, data, "validation", device="cpu",
                      progress=lambda done, total: (task.check(), task.report(done / max(1, total))))
    tmp = Path(out).with_name(".evaluation.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=_jsonable))
    tmp.replace(out)
    return result


def _jsonable(v):
    return v.item() if hasattr(v, "item") else str(v)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


class MetricsWidget(QWidget):
    """The metrics of finished runs; :meth:`show_runs` with the runs to list (the first gets the class table)."""

    message = Signal(str, str)

    def __init__(self, tasks, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.runs = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.evaluate_button = QPushButton("Evaluate on validation clips")
        self.evaluate_button.setToolTip("tagging and detection metrics of the selected finished runs' models")
        self.evaluate_button.clicked.connect(self.evaluate_selected)
        self.status = QLabel("")
        row.addWidget(self.evaluate_button)
        row.addWidget(self.status, 1)
        layout.addLayout(row)
        split = QSplitter()
        self.table = QTableWidget(0, len(RUN_COLUMNS))
        self.table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.classes = QTableWidget(0, len(CLASS_COLUMNS))
        self.classes.setHorizontalHeaderLabels(CLASS_COLUMNS)
        for t in (self.table, self.classes):
            t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            t.verticalHeader().setVisible(False)
            split.addWidget(t)
        layout.addWidget(split, 1)

    def show_runs(self, runs) -> None:
        self.runs = [r for r in runs if r.status == "finished"]
        self.table.setRowCount(len(self.runs))
        for i, run in enumerate(self.runs):
            ev = load_evaluation(run.path)
            fin = run.finished or {}
            best = run.history.get(int(fin.get("best_epoch") or 0), {})
            if ev is not None:
                values = [ev.get("mAP"), ev.get("AUC"), ev.get("F1_class_mean"), ev.get("segment_F1"),
                          ev.get("event_F1"), ev.get("psds1"), transient_mAP(ev)]
            else:   # what training measured on the validation split (before "Evaluate")
                values = [run.best_mAP, best.get("val_AUC"), fin.get("val_F1_class_mean_tuned"),
                          None, None, None, None]
            cells = [run.name, run.method, fin.get("best_epoch")] + values
            for j, v in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(_cell(v)))
        self.table.resizeColumnsToContents()
        self._show_classes(load_evaluation(self.runs[0].path) if self.runs else None)
        self.evaluate_button.setEnabled(bool(self.runs))

    def _show_classes(self, ev: dict | None) -> None:
        per_class = (ev or {}).get("per_class") or {}
        durations = ((ev or {}).get("by_duration") or {}).get("classes") or {}
        self.classes.setRowCount(len(per_class))
        for i, (name, pc) in enumerate(per_class.items()):
            cells = [name, pc.get("AP"), pc.get("AUC"), pc.get("F1"), pc.get("segment_F1"), pc.get("event_F1"),
                     durations.get(name, {}).get("median_duration_s")]
            for j, v in enumerate(cells):
                self.classes.setItem(i, j, QTableWidgetItem(_cell(v)))
        self.classes.resizeColumnsToContents()

    def evaluate_selected(self) -> None:
        """Evaluate every listed finished run's model on its dataset's validation split, in the background."""
        for run in self.runs:
            key = ("run-evaluate", run.path)
            if self.tasks.find(key) is not None or not run.model:
                continue
            fn = partial(_evaluate, run.model, str(run.config.get("data")), str(Path(run.path) / EVALUATION))
            task = FunctionTask(f"Evaluating {run.name}", fn, key)
            task.signals.done.connect(self._evaluated)
            task.signals.failed.connect(partial(self._failed, run.name))
            self.tasks.submit(task, "compute")
            self.status.setText(f"evaluating {run.name}…")

    def _evaluated(self, _result) -> None:
        self.status.setText("")
        self.show_runs(self.runs)

    def _failed(self, name: str, msg: str) -> None:
        self.status.setText(f"{name}: {msg}")
        self.message.emit(f"evaluating {name}: {msg}", "error")
