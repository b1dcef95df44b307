"""The Evaluate tab: models A and B against the reference of the current clip or of every listed
clip that has one (annotations, else dataset strong labels), side by side.

Evaluate reads the clips' saved annotations, starts the analyses that are missing (in the
background, then evaluates), and runs :func:`mmgui.evaluation.compute.evaluate_job` on the
"compute" pool. Shown: one row per class and a first row for all classes (segment-based ER and F1
at 1 s, event-based F1 with a 200 ms collar, tagging AP and F1 at the model's thresholds, PSDS1 and
PSDS2 from the segment scores), and one row per clip with each model's false positives and
misses (sortable; a double click opens the clip). A change of the evaluated clips' analyses,
annotations or event settings, of the models, or (for the current clip) of the clip on screen,
marks the result out of date.
"""
from __future__ import annotations

import math
import os
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..workers import FunctionTask
from .compute import evaluate_job, gather
from .reference import load_annotations

SCOPES = ("Current clip", "All clips with a reference")
# (header, key of a per-class row, key of the all-classes row, tooltip)
METRICS = [
    ("seg ER", "segment_ER", "segment_ER", "Segment-based error rate (1-s segments; lower is better)"),
    ("seg F1", "segment_F1", "segment_F1", "Segment-based F1 (1-s segments)"),
    ("event F1", "event_F1", "event_F1", "Event-based F1 (onset collar 200 ms, offset max(200 ms, 50 %))"),
    ("AP", "AP", "mAP", "Tagging average precision over the clips (all classes: the mean)"),
    ("tag F1", "tag_F1", "F1_class_mean", "Tagging F1 at the model's thresholds (all classes: the class mean)"),
    ("PSDS1", "psds1", "psds1", "PSDS scenario 1 (DTC = GTC = 0.7, localization matters)"),
    ("PSDS2", "psds2", "psds2", "PSDS scenario 2 (DTC = GTC = 0.1, CTTC 0.3: recognition matters)"),
]
CLIP_COLUMNS = ["Clip", "Reference", "Ref. events"]


def fmt(v) -> str:
    """A metric as text: 3 decimals, "—" when undefined."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:.3f}"


def _item(text: str, number=None, tip: str = "") -> QTableWidgetItem:
    """A cell showing ``text``, or ``number`` (then it sorts as a number)."""
    item = QTableWidgetItem()
    item.setData(Qt.ItemDataRole.DisplayRole, number if number is not None else text)
    item.setToolTip(tip or (text if number is None else str(number)))
    return item


def _table(columns: int) -> QTableWidget:
    t = QTableWidget(0, columns)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(22)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    t.setWordWrap(False)
    return t


class EvaluationView(QWidget):
    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.scope = QComboBox()
        self.scope.addItems(SCOPES)
        self.scope.setToolTip("Evaluate on the clip on screen, or on every clip of the list with strong labels "
                              "(its annotations, else the dataset's)")
        self.run_button = QPushButton("Evaluate")
        self.run_button.setToolTip("Compare models A and B with the reference (missing analyses are run first)")
        self.status = QLabel("Evaluate models A and B against annotations or dataset strong labels.")
        self.status.setWordWrap(True)
        self.classes = _table(0)
        self.clips = _table(len(CLIP_COLUMNS))
        self.clips.setSortingEnabled(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Clips:"))
        top.addWidget(self.scope)
        top.addWidget(self.run_button)
        top.addWidget(self.status, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.classes)
        split.addWidget(self.clips)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.result: dict | None = None
        self.evaluated: set[str] = set()
        self.stale = False
        self._generation = 0
        self._waiting = False          # for analyses started by Evaluate
        self.run_button.clicked.connect(self._clicked)
        self.clips.itemDoubleClicked.connect(self._open_clip)
        doc.clipUpdated.connect(self._clip_updated)
        doc.slotsChanged.connect(self._mark_stale)
        doc.currentClipChanged.connect(self._current_changed)
        doc.busyChanged.connect(self._busy_changed)

    # ------------------------------------------------------------------ running
    def scope_paths(self) -> list[str]:
        if self.scope.currentIndex() == 0:
            return [self.doc.current.path] if self.doc.current is not None else []
        return [c.path for c in self.doc.clips if not c.error]

    def evaluate(self, analyze_missing: bool = True) -> bool:
        """Start an evaluation of the chosen clips; False when there is nothing to evaluate (said why)."""
        doc = self.doc
        paths = self.scope_paths()
        load_annotations(doc, paths)
        data = gather(doc, paths)
        if not data["models"]:
            return self._say("Choose a model A (and B) to evaluate.")
        if analyze_missing and data["missing"]:
            for clip, model in data["missing"]:
                doc.request_analysis(clip, model, batch=True)
            self._waiting = True
            return self._say(f"Analyzing {len(data['missing'])} clip/model pair(s) first…", True)
        if not data["sources"]:
            why = ("no clip has a reference (annotate events or open a dataset with strong labels)"
                   if not data["missing"] else "the analyses of the clips with a reference failed")
            return self._say(f"Nothing to evaluate: {why}.")
        self._generation += 1
        options = {"median_s": doc.median_s, "min_duration_s": doc.min_duration_s}
        task = FunctionTask("Evaluation against annotations", evaluate_job, key=("evaluate", self._generation),
                            args=(data["reference"], data["models"], options))
        task.signals.done.connect(partial(self._done, self._generation, data))
        task.signals.failed.connect(partial(self._failed, self._generation))
        doc.tasks.cancel(lambda t: t.key[:1] == ("evaluate",))
        doc.tasks.submit(task, "compute")
        self.evaluated = set(data["sources"])
        left = data["no_reference"] + len(data["missing"])
        note = f" ({left} without a reference or an analysis left out)" if left and len(paths) > 1 else ""
        return self._say(f"Evaluating {len(data['sources'])} clip(s)…{note}", True)

    def _clicked(self) -> None:
        self.evaluate()      # not connected directly: clicked's "checked" argument would be analyze_missing

    def _say(self, text: str, ok: bool = False) -> bool:
        self.status.setText(text)
        return ok

    def _busy_changed(self, busy: bool) -> None:
        if not busy and self._waiting:
            self._waiting = False
            self.evaluate(analyze_missing=False)

    def _done(self, generation: int, data: dict, result: dict) -> None:
        if generation != self._generation:
            return
        result["names"], result["sources"] = data["names"], data["sources"]
        self.result = result
        self.stale = False
        self._fill_classes(result)
        self._fill_clips(result)
        sources = sorted(set(data["sources"].values()))
        notes = [f"{result['n_reference']} reference events in {len(data['sources'])} clip(s) ({', '.join(sources)})"]
        if result["weak_left_out"]:
            notes.append(f"{result['weak_left_out']} clip-level labels left out")
        for slot, rep in result["models"].items():
            if rep.get("psds_error"):
                notes.append(f"PSDS of {slot}: {rep['psds_error']}")
        self.status.setText("; ".join(notes) + ".")

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.status.setText(f"The evaluation failed: {message}")
            self.doc.message.emit(f"Evaluation: {message}", "error")

    def _clip_updated(self, path: str) -> None:
        if path in self.evaluated:
            self._mark_stale()

    def _current_changed(self, path: str) -> None:
        if self.scope.currentIndex() == 0 and path not in self.evaluated:
            self._mark_stale()

    def _mark_stale(self) -> None:
        if self.result is not None and not self.stale:
            self.stale = True
            self.status.setText("Out of date (clip, analyses, annotations, models or event settings changed): "
                                "Evaluate again. " + self.status.text())

    # ------------------------------------------------------------------ tables
    def _fill_classes(self, result: dict) -> None:
        slots = list(result["models"])
        headers = ["Class", "Ref. events"] + [f"{s} {m[0]}" for s in slots for m in METRICS]
        t = self.classes
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        for j, (s, m) in enumerate(((s, m) for s in slots for m in METRICS), start=2):
            t.horizontalHeaderItem(j).setToolTip(f"{s}: {result['names'][s]} · {m[3]}")
        classes: list[str] = []
        for rep in result["models"].values():
            classes += [c for c in rep["per_class"] if c not in classes]
        t.setRowCount(1 + len(classes))
        bold = QFont()
        bold.setBold(True)
        row = [_item("All classes"), _item(str(result["n_reference"]))]
        row += [_item(fmt(result["models"][s]["overall"].get(m[2]))) for s in slots for m in METRICS]
        for j, it in enumerate(row):
            it.setFont(bold)
            t.setItem(0, j, it)
        for i, c in enumerate(classes, start=1):
            pcs = {s: result["models"][s]["per_class"].get(c, {}) for s in slots}
            n_ref = next(pc["n_ref"] for pc in pcs.values() if pc)
            t.setItem(i, 0, _item(c))
            t.setItem(i, 1, _item(str(n_ref)))
            for j, (s, m) in enumerate(((s, m) for s in slots for m in METRICS), start=2):
                known = c in result["models"][s]["classes"]
                t.setItem(i, j, _item(fmt(pcs[s].get(m[1])) if known else "unknown",
                                      tip="" if known else f"{result['names'][s]} has no class {c!r}"))
        t.resizeColumnsToContents()

    def _fill_clips(self, result: dict) -> None:
        slots = list(result["models"])
        headers = CLIP_COLUMNS + [f"{s} {k}" for s in slots for k in ("errors", "FP", "missed")]
        t = self.clips
        t.setSortingEnabled(False)
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(result["clips"]))
        for i, row in enumerate(result["clips"]):
            name = _item(os.path.basename(row["clip"]), tip=row["clip"])
            name.setData(Qt.ItemDataRole.UserRole, row["clip"])
            cells = [name, _item(result["sources"].get(row["clip"], "")), _item("", row["n_ref"])]
            cells += [_item("", row[f"{s}_{k}"]) for s in slots for k in ("errors", "fp", "miss")]
            for j, it in enumerate(cells):
                t.setItem(i, j, it)
        t.setSortingEnabled(True)
        t.sortItems(3, Qt.SortOrder.DescendingOrder)     # model A's errors, worst first
        t.resizeColumnsToContents()

    def _open_clip(self, item: QTableWidgetItem) -> None:
        path = self.clips.item(item.row(), 0).data(Qt.ItemDataRole.UserRole)
        if path and self.doc.clip(path) is not None:
            self.doc.set_current(path)

    # ------------------------------------------------------------------ reading (tests, export)
    def class_values(self) -> dict[str, dict[str, str]]:
        """The per-class table as {row name: {column header: text}}."""
        t = self.classes
        heads = [t.horizontalHeaderItem(j).text() for j in range(t.columnCount())]
        return {t.item(i, 0).text(): {heads[j]: t.item(i, j).text() for j in range(1, t.columnCount())}
                for i in range(t.rowCount())}
