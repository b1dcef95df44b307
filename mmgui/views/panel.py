"""A column of time-aligned panes (Sonic Visualiser style), x-linked in seconds.

The panel keeps its panes in step with the document's view range, so that two
panels (the analysis tab and the comparison tab) show the same stretch of time,
and shows what is under the mouse in a readout line.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import theme
from .attention import AttentionPane
from .events import EventsPane
from .predictions import SegmentCurvesPane, SegmentHeatmapPane
from .spectrogram import SpectrogramPane, make_colorbar


class TimePanel(QWidget):
    """Base: a GraphicsLayoutWidget of TimePanes sharing the x axis, plus a readout line."""

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.layout.setSpacing(2)
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet("color: #c8ccd4; font-family: monospace; padding: 2px 6px;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.graphics, 1)
        lay.addWidget(self.readout)
        self.panes: list = []
        self._bars: list = []          # (colour bar, pane it follows)
        self._applying = False
        self._pending = None
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        doc.viewRangeChanged.connect(self._doc_range)
        doc.currentClipChanged.connect(self._clip_changed)

    def register(self, pane) -> None:
        if self.panes:
            pane.setXLink(self.panes[0])
        else:
            pane.vb.sigXRangeChanged.connect(self._pane_range)
        self.panes.append(pane)

    @property
    def master(self):
        return self.panes[0]

    def _pane_range(self, vb, rng) -> None:
        # a hidden panel's panes move when their limits change; only what the user sees is the view range
        if not self._applying and self.isVisible():
            self.doc.set_view_range(rng[0], rng[1], self)

    def _doc_range(self, t0: float, t1: float, source) -> None:
        if source is self:
            return
        if self.isVisible():
            self._set_range(t0, t1)
        else:
            self._pending = (t0, t1)

    def _clip_changed(self, _path: str = "") -> None:
        self.readout.setText(" ")             # the previous clip's values mean nothing here
        if self.doc.view_range is not None:
            self._set_range(*self.doc.view_range)
        elif self.doc.duration() > 0:
            self.doc.fit()                    # a clip seen before: the whole of it, as on first opening
        elif self.panes:
            # nothing to show (no clip, an unreadable or empty file): not the previous clip's zoom
            self._applying = True
            try:
                for p in self.panes:
                    p.set_time_limits(1.0)
                self.master.vb.setXRange(0.0, 1.0, padding=0)
            finally:
                self._applying = False

    def _set_range(self, t0, t1) -> None:
        self._applying = True
        try:
            d = self.doc.duration()
            if d > 0:
                for p in self.panes:
                    p.set_time_limits(d)
            self.master.vb.setXRange(t0, t1, padding=0)
        finally:
            self._applying = False
        self._pending = None

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self.doc.view_range is not None:
            self._set_range(*self.doc.view_range)

    def _mouse_moved(self, pos) -> None:
        d = self.doc.duration()
        for p in self.panes:
            if p.vb.sceneBoundingRect().contains(pos):
                v = p.vb.mapSceneToView(pos)
                inside = d > 0 and 0.0 <= v.x() <= d
                self.readout.setText((p.readout(float(v.x()), float(v.y())) if inside else "") or " ")
                return
        self.readout.setText(" ")

    def align_bar(self, bar, pane) -> None:
        """Keep colour bar ``bar`` as tall as ``pane``'s data area (so that the end labels of two
        stacked bars never meet)."""
        self._bars.append((bar, pane))
        pane.vb.sigResized.connect(self._align_bars)

    def _align_bars(self, *_) -> None:
        for bar, pane in self._bars:
            outer, inner = pane.sceneBoundingRect(), pane.vb.sceneBoundingRect()
            if outer.height() <= 0:
                continue
            top, bottom = inner.top() - outer.top(), outer.bottom() - inner.bottom()
            left, mt, right, mb = bar.layout.getContentsMargins()
            if abs(mt - top) > 0.5 or abs(mb - bottom) > 0.5:
                bar.layout.setContentsMargins(left, top, right, bottom)

    def pane(self, kind: str, slot: str | None = None):
        for p in self.panes:
            if p.kind == kind and (slot is None or p.slot == slot):
                return p
        return None


class AnalysisPanel(TimePanel):
    """Spectrogram, d_t heatmap, d_t curves, attention and event rows of model A."""

    def __init__(self, doc, slot: str = "A", parent=None):
        super().__init__(doc, parent)
        self.slot = slot
        g = self.graphics.ci
        self.spectrogram = SpectrogramPane(doc, slot)
        self.heatmap = SegmentHeatmapPane(doc, slot)
        self.curves = SegmentCurvesPane(doc, slot)
        self.attention = AttentionPane(doc, slot)
        self.events = EventsPane(doc, ("A", "B"))
        rows = [(self.spectrogram, 30), (self.heatmap, 25), (self.curves, 12), (self.attention, 12),
                (self.events, 21)]
        for r, (pane, stretch) in enumerate(rows):
            g.addItem(pane, row=r, col=0)
            g.layout.setRowStretchFactor(r, stretch)
            self.register(pane)
            if pane is not self.events and pane is not self.spectrogram:
                pane.hideAxis("bottom")         # one time axis under the spectrogram, one under the events
        self.spec_bar = make_colorbar([self.spectrogram.image], levels=doc.spec_levels or (0, 10),
                                      label="log-mel")
        g.addItem(self.spec_bar, row=0, col=1)
        self.heat_bar = pg.ColorBarItem(values=(0, 1), colorMap=theme.HEATMAP_CMAP, width=12, interactive=False,
                                        label="d_t")
        self.heat_bar.setImageItem([self.heatmap.image])
        g.addItem(self.heat_bar, row=1, col=1)
        self.align_bar(self.spec_bar, self.spectrogram)
        self.align_bar(self.heat_bar, self.heatmap)
        self._bar_guard = False
        self.spec_bar.sigLevelsChanged.connect(self._bar_changed)
        doc.specLevelsChanged.connect(self._levels_changed)

    def _bar_changed(self, bar) -> None:
        if not self._bar_guard:
            self.doc.set_spec_levels(bar.levels())

    def _levels_changed(self, lo: float, hi: float) -> None:
        self._bar_guard = True
        self.spec_bar.setLevels((lo, hi))
        self._bar_guard = False
