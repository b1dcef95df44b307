"""Two models side by side on the same clip, and a per-class table of their clip probabilities.

The two columns are x-linked and share their colour levels (one colour bar
drives both spectrograms; d_t is always drawn on [0, 1]).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from .. import theme
from .attention import AttentionPane
from .events import EventsPane
from .panel import TimePanel
from .predictions import SegmentHeatmapPane
from .spectrogram import SpectrogramPane, make_colorbar


class ColumnHeader(pg.LabelItem):
    """A column's title that never widens its column: the longest of its versions that fits
    is shown (both columns keep the same width, hence the same seconds per pixel)."""

    def __init__(self):
        self.versions: list[str] = []
        self._fitting = False
        super().__init__("", size="10pt")

    def set_versions(self, versions: list[str]) -> None:
        self.versions = list(versions)
        self._fit()

    def _fit(self) -> None:
        if self._fitting:          # setText() calls resizeEvent()
            return
        self._fitting = True
        try:
            avail = self.width()
            for v in self.versions:
                if self.text != v:
                    self.setText(v)
                if avail <= 0 or self.item.boundingRect().width() <= avail:
                    return
        finally:
            self._fitting = False

    def updateMin(self):
        h = self.item.boundingRect().height()
        self.setMinimumWidth(1)
        self.setMinimumHeight(h)
        self._sizeHint = {Qt.SizeHint.MinimumSize: (1, h), Qt.SizeHint.PreferredSize: (1, h),
                          Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        self.updateGeometry()

    def resizeEvent(self, ev):
        self._fit()
        super().resizeEvent(ev)


class ComparePanes(TimePanel):
    def __init__(self, doc, parent=None):
        super().__init__(doc, parent)
        g = self.graphics.ci
        self.headers = {}
        self.columns = {}
        for col, slot in enumerate(("A", "B")):
            head = ColumnHeader()
            g.addItem(head, row=0, col=col)
            self.headers[slot] = head
            spec = SpectrogramPane(doc, slot, title=False)
            heat = SegmentHeatmapPane(doc, slot)
            att = AttentionPane(doc, slot)
            ev = EventsPane(doc, (slot,))
            self.columns[slot] = (spec, heat, att, ev)
            for r, pane in enumerate((spec, heat, att, ev), start=1):
                g.addItem(pane, row=r, col=col)
                self.register(pane)
                if pane is not ev:
                    pane.hideAxis("bottom")     # one time axis, under the events (room for the rows)
        for r, s in zip(range(1, 5), (38, 24, 18, 20)):
            g.layout.setRowStretchFactor(r, s)
        g.layout.setRowStretchFactor(0, 1)
        g.layout.setColumnStretchFactor(0, 1)         # both columns the same width: same seconds per pixel
        g.layout.setColumnStretchFactor(1, 1)
        self.spec_bar = make_colorbar([self.columns["A"][0].image, self.columns["B"][0].image],
                                      levels=doc.spec_levels or (0, 10), label="log-mel")
        g.addItem(self.spec_bar, row=1, col=2)
        self.heat_bar = pg.ColorBarItem(values=(0, 1), colorMap=theme.HEATMAP_CMAP, width=12, interactive=False,
                                        label="d_t")
        self.heat_bar.setImageItem([self.columns["A"][1].image, self.columns["B"][1].image])
        g.addItem(self.heat_bar, row=2, col=2)
        self.align_bar(self.spec_bar, self.columns["A"][0])
        self.align_bar(self.heat_bar, self.columns["A"][1])
        self._guard = False
        self.spec_bar.sigLevelsChanged.connect(self._bar_changed)
        doc.specLevelsChanged.connect(self._levels_changed)
        doc.slotsChanged.connect(self._headers)
        doc.modelsChanged.connect(self._headers)
        self._headers()

    def _headers(self) -> None:
        for slot, head in self.headers.items():
            entry = self.doc.model(slot) if self.doc.slots.get(slot) else None
            colour = theme.SLOT_COLOURS[slot]
            box = f"<span style='color:{colour}'>■</span>"
            name = entry.name if entry else "—"
            versions = [f"{box} <b>{slot}: {name}</b>" + (f"  <span style='color:#9aa0a6'>({entry.method})</span>"
                                                          if entry else ""),
                        f"{box} <b>{slot}: {name}</b>", f"{box} <b>{slot}</b>"]
            head.set_versions(versions)

    def _bar_changed(self, bar) -> None:
        if not self._guard:
            self.doc.set_spec_levels(bar.levels())

    def _levels_changed(self, lo, hi) -> None:
        self._guard = True
        self.spec_bar.setLevels((lo, hi))
        self._guard = False


class ClassCompareTable(QTableWidget):
    """Per class: both models' clip probabilities, their difference, and who detects it."""

    HEADERS = ["Class", "A", "B", "B − A", "A detects", "B detects", "Reference"]

    def __init__(self, doc, parent=None):
        super().__init__(0, len(self.HEADERS), parent)
        self.doc = doc
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(self.HEADERS)):
            self.horizontalHeader().setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.setSortingEnabled(False)
        self.rows: list[tuple] = []
        doc.analysisChanged.connect(self.refresh)
        doc.currentClipChanged.connect(self.refresh)
        doc.slotsChanged.connect(self.refresh)
        doc.displayChanged.connect(self.refresh)
        self.cellDoubleClicked.connect(self._double_clicked)
        self.refresh()

    def refresh(self) -> None:
        doc = self.doc
        a, b = doc.analysis("A"), doc.analysis("B")
        ea, eb = (doc.model(s) if doc.slots.get(s) else None for s in ("A", "B"))
        self.setHorizontalHeaderLabels([
            "Class", f"A: {ea.name if ea else '—'}", f"B: {eb.name if eb else '—'}", "B − A",
            "A detects", "B detects", "Reference"])
        classes = []
        for x in (a, b):
            if x is not None:
                classes += [c for c in x.classes if c not in classes]
        ref = set()
        if doc.current is not None:
            if doc.current.weak:
                ref = set(doc.current.weak)
            elif doc.current.strong:
                ref = {e[2] for e in doc.current.strong}
        la = {e.label for e in doc.events("A")} if a is not None else set()
        lb = {e.label for e in doc.events("B")} if b is not None else set()
        rows = []
        for c in classes:
            pa = float(a.clip_probs[a.classes.index(c)]) if a is not None and c in a.classes else None
            pb = float(b.clip_probs[b.classes.index(c)]) if b is not None and c in b.classes else None
            diff = pb - pa if pa is not None and pb is not None else None
            rows.append((c, pa, pb, diff, c in la, c in lb, c in ref))
        rows.sort(key=lambda r: (-(abs(r[3]) if r[3] is not None else -1), r[0]))
        self.rows = rows
        self.setRowCount(len(rows))
        for i, (c, pa, pb, diff, da, dbb, rf) in enumerate(rows):
            cells = [c, _fmt(pa), _fmt(pb), "" if diff is None else f"{diff:+.3f}",
                     "yes" if da else "", "yes" if dbb else "", "yes" if rf else ""]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if j == 3 and diff is not None:
                    v = min(1.0, abs(diff))
                    col = QColor(76, 201, 240) if diff > 0 else QColor(255, 159, 67)
                    col.setAlphaF(0.15 + 0.6 * v)
                    item.setBackground(QBrush(col))
                if j in (4, 5) and da != dbb:
                    item.setForeground(QBrush(QColor("#ffd166")))
                self.setItem(i, j, item)

    def _double_clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.rows):
            self.doc.toggle_class(self.rows[row][0])


def _fmt(p):
    return "" if p is None else f"{p:.3f}"


class CompareView(QTabWidget):
    """The Compare tab: "A | B on this clip" (the two models' panes and per-class table) and
    "Benchmark results" (whole systems over training seeds, mmgui/benchmarks; built when first shown)."""

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.setDocumentMode(True)
        self.clip = QSplitter(Qt.Orientation.Vertical)
        self.panes = ComparePanes(doc)
        self.table = ClassCompareTable(doc)
        self.clip.addWidget(self.panes)
        self.clip.addWidget(self.table)
        self.clip.setStretchFactor(0, 4)
        self.clip.setStretchFactor(1, 1)
        self.clip.setSizes([700, 110])          # the panes first: the table scrolls
        self.benchmarks = None
        self._results_page = QWidget()
        QVBoxLayout(self._results_page).setContentsMargins(0, 0, 0, 0)
        self.addTab(self.clip, "A | B on this clip")
        self.addTab(self._results_page, "Benchmark results")
        self.setTabToolTip(1, "Systems over training seeds (mean ± std, paired differences) from a results file")
        self.currentChanged.connect(self._page_shown)

    def show_results(self):
        """Show the benchmark results page (built on first use); returns its BenchmarkView."""
        self.setCurrentWidget(self._results_page)
        return self.benchmarks

    def _page_shown(self, index: int) -> None:
        if self.widget(index) is self._results_page and self.benchmarks is None:
            from ..benchmarks.view import BenchmarkView

            self.benchmarks = BenchmarkView(self.doc)
            self._results_page.layout().addWidget(self.benchmarks)


__all__ = ["CompareView", "ComparePanes", "ClassCompareTable", "np"]
