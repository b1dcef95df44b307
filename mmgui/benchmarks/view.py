"""The Compare tab's "Benchmark results": whole systems over training seeds, from a
comparison-results file (engine/comparison.py; the bundled one is
``assets/results/fair-comparison.json``, made by ``bench/aggregate_seeds.py --json``).

For the chosen benchmark: a sortable table (mean ± std per system and metric, or the paired
difference with a chosen baseline and the seeds where each system is ahead), a bar chart of one
metric with error bars and the seeds as dots, and a verdict line computed from the data. The
systems that the models in slots A and B are instances of (same method, same options) are
highlighted. Files are read on the "io" pool; a bad file leaves the shown results as they are
and says why.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout,
                               QWidget)

from engine import comparison as cmp

from ..document.models import PRETTY_METHODS, ROOT
from ..workers import FunctionTask
from .chart import BenchmarkChart
from .table import FIRST_METRIC, NAME_ROLE, BenchmarkTable

BUNDLED = ROOT / "assets" / "results" / "fair-comparison.json"
DEFAULT_BASELINE = "resnet-att"          # the seed paper's ResNet-ATT
MODES = (("mean", "Mean ± std over seeds"), ("paired", "Paired difference with the baseline"))
# how an option of a system reads in its display name (None: implied by the rest, not shown)
OPTION_WORDS = {("variant", "authors-code"): "authors' loss", ("variant", "label-specific"): "label-specific",
                ("variant", "paper"): "paper's loss", ("attention_scale", "unit"): "unit a_t",
                ("attention_scale", "heads"): "a_t / m", ("ensemble_pooling", "zscore"): "z-scored a_t",
                ("ensemble_pooling", "unit"): "a_t / sum a_t", ("ensemble_scales", "primary"): "primary scale",
                ("micro_hidden", "0"): None}


def display_label(system: cmp.System) -> str:
    """The file's label, else the method's name with its options in words ("M&mnet (authors' loss)")."""
    if system.label:
        return system.label
    if not system.method:
        return system.name
    words = [OPTION_WORDS.get((k, v), f"{k}={v}") for k, v in system.options.items()]
    words = [w for w in words if w]
    return PRETTY_METHODS.get(system.method, system.method) + (f" ({', '.join(words)})" if words else "")


def _load(task, path: str) -> cmp.Comparison:
    return cmp.load(path)


def _combo(tip: str, chars: int = 12) -> QComboBox:
    box = QComboBox()
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(chars)
    return box


class BenchmarkView(QWidget):
    """``results`` (a Comparison) from ``source``; ``open_path(path)`` reads another file."""

    def __init__(self, doc, parent=None, path: str | Path | None = BUNDLED):
        super().__init__(parent)
        self.doc = doc
        self.results: cmp.Comparison | None = None
        self.source = ""
        self.focus: str | None = None          # the system the verdict is about (a clicked row)
        self.chart_metric = "event_F1"
        self._filling = False
        self._generation = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        self.bench_box = _combo("Which benchmark (data set or regime) of the file", 12)
        self.mode_box = _combo("Absolute values, or each system's difference with the baseline, seed by seed", 10)
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.baseline_box = _combo("The system the others are paired with (difference, seeds ahead, verdict)", 10)
        self.metric_box = _combo("The metric of the chart (or click a cell of the table)", 6)
        for key, title in cmp.METRICS.items():
            self.metric_box.addItem(title, key)
        self.metric_box.setCurrentIndex(list(cmp.METRICS).index(self.chart_metric))
        self.open_button = QPushButton("Open results…")
        self.open_button.setToolTip("Open a comparison-results file (bench/aggregate_seeds.py --json OUT)")
        for text, widget, r in (("Benchmark", self.bench_box, row1), ("Show", self.mode_box, row1),
                                ("Baseline", self.baseline_box, row2), ("Chart", self.metric_box, row2)):
            r.addWidget(QLabel(text))
            r.addWidget(widget, 1)
        row2.addWidget(self.open_button)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self.info = self._label("color: #9aa0a6;")
        self.verdict = self._label("font-weight: bold; padding: 2px 0;")
        self.verdict.setToolTip("Computed from the file: one system against the baseline, paired seed by seed. "
                                "Click a row to take another system; p where p < 0.05 (paired t).")
        self.slots_note = self._label("color: #9aa0a6;")
        self.status = self._label("color: #ff6b6b;")
        self.status.hide()
        for w in (self.status, self.info, self.verdict, self.slots_note):
            lay.addWidget(w)
        self.table = BenchmarkTable()
        self.chart = BenchmarkChart()
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.table)
        self.split.addWidget(self.chart)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([230, 170])
        lay.addWidget(self.split, 1)

        self.bench_box.currentIndexChanged.connect(self._bench_changed)
        for box in (self.mode_box, self.baseline_box):
            box.currentIndexChanged.connect(self.refresh)
        self.metric_box.currentIndexChanged.connect(self._metric_changed)
        self.table.currentCellChanged.connect(self._cell_changed)
        self.open_button.clicked.connect(self.open_dialog)
        doc.slotsChanged.connect(self.refresh)
        doc.modelsChanged.connect(self.refresh)
        if path is not None:
            self.open_path(path)
        else:
            self.info.setText("No results: open a comparison-results file (bench/aggregate_seeds.py --json).")

    @staticmethod
    def _label(style: str) -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setStyleSheet(style)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # ================================================================ files
    def open_dialog(self) -> None:
        start = str(Path(self.source).parent) if self.source else str(BUNDLED.parent)
        path, _ = QFileDialog.getOpenFileName(self, "Open comparison results", start, "Comparison results (*.json)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> None:
        """Read ``path`` in the background; the results shown stay until it has been read."""
        self._generation += 1
        task = FunctionTask(f"Reading {Path(path).name}", _load, key=("benchmark-results", self._generation),
                            args=(str(path),))
        task.signals.done.connect(partial(self._loaded, self._generation, str(path)))
        task.signals.failed.connect(partial(self._failed, self._generation, str(path)))
        self.doc.tasks.submit(task, "io")

    def _loaded(self, generation: int, path: str, results: cmp.Comparison) -> None:
        if generation != self._generation:
            return
        self.results, self.source, self.focus = results, path, None
        self.status.hide()
        self._filling = True
        keep = self.bench_box.currentData()
        self.bench_box.clear()
        for b in results.benchmarks:
            self.bench_box.addItem(b.title or b.key, b.key)
        i = self.bench_box.findData(keep)
        self._filling = False
        self.bench_box.setCurrentIndex(max(i, 0))
        self._bench_changed()
        self.doc.message.emit(f"Benchmark results: {Path(path).name} ({len(results.benchmarks)} benchmark(s))", "info")

    def _failed(self, generation: int, path: str, message: str) -> None:
        if generation != self._generation:
            return
        kept = f" Still showing {Path(self.source).name}." if self.results is not None else ""
        self.status.setText(f"Could not open {Path(path).name}: {message}.{kept}")
        self.status.show()
        self.doc.message.emit(f"Benchmark results: {message}", "error")

    # ================================================================ choices
    def benchmark(self) -> cmp.Benchmark | None:
        if self.results is None or self.bench_box.currentData() is None:
            return None
        return self.results.benchmark(self.bench_box.currentData())

    def _bench_changed(self, *_):
        bench = self.benchmark()
        if self._filling or bench is None:
            return
        self._filling = True
        self.baseline_box.clear()
        for s in bench.systems.values():
            self.baseline_box.addItem(display_label(s), s.name)
        for choice in (bench.baseline, DEFAULT_BASELINE, next(iter(bench.systems), None)):
            if choice in bench.systems:
                self.baseline_box.setCurrentIndex(self.baseline_box.findData(choice))
                break
        self._filling = False
        self.focus = None
        self.refresh()

    def _metric_changed(self, *_):
        self.chart_metric = self.metric_box.currentData()
        self.refresh()

    def _cell_changed(self, row: int, col: int, *_):
        if self._filling or row < 0:
            return
        item = self.table.item(row, col)
        if item is not None:
            self.focus = item.data(NAME_ROLE)
        k = col - FIRST_METRIC
        if 0 <= k < len(cmp.KEYS) and cmp.KEYS[k] != self.chart_metric:
            self.metric_box.setCurrentIndex(k)          # refreshes
        else:
            self._show_verdict()

    def set_baseline(self, name: str) -> None:
        self.baseline_box.setCurrentIndex(self.baseline_box.findData(name))

    def set_mode(self, mode: str) -> None:
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))

    # ================================================================ showing
    def slot_systems(self, bench: cmp.Benchmark) -> dict[str, str | None]:
        """{"A": name of the system matching the model in slot A or None, "B": ...}."""
        out = {}
        for slot in ("A", "B"):
            entry = self.doc.model(slot) if self.doc.slots.get(slot) else None
            meta = (entry.meta or {}) if entry is not None else {}
            s = cmp.match_system(bench, meta.get("method"), meta.get("model_config")) if meta else None
            out[slot] = s.name if s else None
        return out

    def refresh(self, *_) -> None:
        bench = self.benchmark()
        if self._filling or bench is None:
            return
        self._filling = True
        try:
            slots = self.slot_systems(bench)
            mode, baseline = self.mode_box.currentData(), self.baseline_box.currentData()
            self.table.show_benchmark(bench, mode, baseline, slots, partial(_label_of, bench))
            self.chart.show_benchmark(bench, self.chart_metric, mode, baseline, slots, partial(_label_of, bench))
            self._show_info(bench, slots)
        finally:
            self._filling = False
        self._show_verdict()

    def focus_system(self, bench: cmp.Benchmark, baseline: str | None) -> str | None:
        """The clicked row's system, else B's or A's match, else the file's focus, else the file's
        baseline (when another baseline is chosen), else the first M&mnet system, else the first
        system; never the baseline."""
        slots = self.slot_systems(bench)
        names = [n for n in bench.systems if n != baseline]
        mmnet = [n for n in names if (bench.systems[n].method or "").startswith("mmnet")]
        for choice in (self.focus, slots["B"], slots["A"], bench.focus, bench.baseline, *mmnet[:1], *names[:1]):
            if choice in bench.systems and choice != baseline:
                return choice
        return None

    def _show_verdict(self) -> None:
        bench = self.benchmark()
        if bench is None:
            return
        baseline = self.baseline_box.currentData()
        focus = self.focus_system(bench, baseline)
        if focus is None or baseline is None:
            self.verdict.setText("Fewer than two systems: nothing to compare.")
            return
        self.verdict.setText(cmp.verdict(bench, focus, baseline, partial(_label_of, bench)))

    def _show_info(self, bench: cmp.Benchmark, slots: dict[str, str | None]) -> None:
        prov = bench.provenance
        seeds = bench.seeds()
        bits = [f"{Path(self.source).name}" + (" (bundled)" if Path(self.source) == BUNDLED else ""),
                f"{len(bench.systems)} systems, seeds {', '.join(map(str, seeds))}"]
        if prov.get("date"):
            bits.append(f"measured {prov['date']}")
        self.info.setText(" · ".join(bits))
        tip = [bench.description] if bench.description else []
        tip += [f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in prov.items() if v]
        self.info.setToolTip("\n".join(tip))
        notes = []
        for slot in ("A", "B"):
            entry = self.doc.model(slot) if self.doc.slots.get(slot) else None
            if entry is None:
                continue
            s = slots[slot]
            notes.append(f"{slot}: {entry.name} = {_label_of(bench, s)}" if s else
                         f"{slot}: {entry.name} — no system of this benchmark has its method and options")
        self.slots_note.setText("; ".join(notes) if notes else "Slots A and B are empty: no system highlighted.")


def _label_of(bench: cmp.Benchmark, name: str) -> str:
    return display_label(bench.systems[name]) if name in bench.systems else name
