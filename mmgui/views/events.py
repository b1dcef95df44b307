"""Event rolls: reference (ground truth) vs detected events, one band per class (as sed_vis).

Each class has a band; inside it one lane for the reference events (the clip's annotations,
else its dataset strong labels: :func:`mmgui.evaluation.reference.clip_reference`) and one lane
per model shown. Where there is a reference, each model's errors under the event-based criterion
are marked on its lane: a false positive is hatched red with a red outline; a reference event
the model missed is a dashed red outline with a red cross where the model should have had it.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush

from .. import theme
from ..evaluation.reference import SOURCE_ANNOTATIONS, clip_reference, model_errors
from .base import ClassAxis, TimePane, format_time
from .predictions import analysis_state, doc_current

MAX_ALL_CLASSES = 8    # above this many classes, only classes with events get a band
ERROR_COLOUR = "#ff4d4d"
ERROR_LEGEND = (f"<span style='color:{ERROR_COLOUR}'>▨</span> false positive  "
                f"<span style='color:{ERROR_COLOUR}'>✕</span> missed")


class EventsPane(TimePane):
    kind = "events"
    title_outside = True

    def __init__(self, doc, slots=("A", "B"), reference: bool = True):
        self.class_axis = ClassAxis()
        super().__init__(doc, slots[0], left_axis=self.class_axis)
        self.slots = list(slots)
        self.reference = reference
        self.vb.invertY(True)
        self.setLabel("bottom", "Time (s)")
        self._drawn: list = []   # what redraw added (PlotItem.items is pyqtgraph's own list)
        self.rows: list[str] = []
        self.lanes: list[tuple[str, str, list]] = []   # (key, label, events)
        self.errors: dict[str, dict] = {}   # slot -> model_errors(): flags of its lane's events
        doc.analysisChanged.connect(self._analysis_changed)
        doc.currentClipChanged.connect(self.redraw)
        doc.slotsChanged.connect(self.redraw)
        doc.displayChanged.connect(self.redraw)
        doc.clipUpdated.connect(self._clip_updated)
        doc.busyChanged.connect(self._busy)
        self.redraw()

    def _clip_updated(self, path: str) -> None:
        if path == doc_current(self.doc):
            self.redraw()

    def _busy(self, busy: bool) -> None:
        if not busy:
            self.redraw()      # "(analyzing…)" ends with the work, whatever came of it

    def _analysis_changed(self, clip_path: str, model_path: str) -> None:
        if doc_current(self.doc) == clip_path and model_path in [self.doc.slots.get(s) for s in self.slots]:
            self.redraw()

    def redraw(self) -> None:
        for it in self._drawn:
            self.removeItem(it)
        self._drawn = []
        doc = self.doc
        clip = doc.current
        lanes = []
        self.errors = {}
        ref, source = clip_reference(doc, clip) if self.reference else (None, "")
        if ref is not None:
            name = "reference (annotations)" if source == SOURCE_ANNOTATIONS else "reference"
            lanes.append(("ref", name, [(on, off, lab, 1.0) for on, off, lab in ref]))
        classes: list[str] = []
        for slot in self.slots:
            entry = doc.model(slot) if doc.slots.get(slot) else None
            if entry is None:
                continue
            for c in entry.classes:
                if c not in classes:
                    classes.append(c)
            a = doc.analysis(slot)
            evs = [tuple(e) for e in doc.events(slot)] if a is not None else None
            lanes.append((slot, entry.name, evs))
            flags = model_errors(doc, slot, clip) if ref is not None and doc.display.mark_errors else None
            if flags is not None:
                self.errors[slot] = flags
        for _, _, evs in lanes:
            for e in evs or []:
                if e[2] not in classes:
                    classes.append(e[2])
        if len(classes) > MAX_ALL_CLASSES:
            used = {e[2] for _, _, evs in lanes for e in (evs or [])}
            classes = [c for c in classes if c in used]
        self.rows = classes
        self.lanes = lanes
        self.class_axis.set_names(classes)
        self.fit_rows(len(classes))
        parts = []
        for key, label, evs in lanes:
            colour = theme.REFERENCE if key == "ref" else theme.SLOT_COLOURS.get(key, "#cccccc")
            parts.append(f"<span style='color:{colour}'>■</span> {label}{self._lane_state(key, evs)}")
        if self.errors:
            parts.append(ERROR_LEGEND)
        self.setTitle(["Events · " + "  ".join(parts), " ".join(parts)] if parts else "Events")
        if clip is None:
            self.set_placeholder("")
            return
        if not classes:
            analyzed = any(evs is not None for key, _, evs in lanes if key != "ref")
            self.set_placeholder("no events" if analyzed or clip.strong is not None else "")
            self.vb.setYRange(0, 1, padding=0)
            return
        self.set_placeholder("")
        n_lanes = max(1, len(lanes))
        lane_h = 0.84 / n_lanes
        index = {c: i for i, c in enumerate(classes)}
        for li, (key, label, evs) in enumerate(lanes):
            if not evs:
                continue
            evs = [e for e in evs if e[2] in index]
            if not evs:
                continue
            x0 = np.array([e[0] for e in evs], float)
            w = np.maximum(np.array([e[1] - e[0] for e in evs], float), 1e-3)
            y0 = np.array([index[e[2]] + 0.08 + li * lane_h for e in evs], float)
            colour = theme.REFERENCE if key == "ref" else theme.SLOT_COLOURS.get(key, "#cccccc")
            bar = pg.BarGraphItem(x0=x0, y0=y0, width=w, height=np.full(len(evs), lane_h * 0.9),
                                  brush=pg.mkBrush(colour), pen=pg.mkPen(pg.mkColor(colour).darker(160), width=1))
            self.addItem(bar)
            self._drawn.append(bar)
        for li, (key, _, _) in enumerate(lanes):
            if key in self.errors:
                self._draw_errors(self.errors[key], index, 0.08 + li * lane_h, lane_h * 0.9)
        # separators between class bands
        # (over the clip only: a line a million seconds long is a shape 1e8 px wide in an SVG export)
        end = max([doc.duration()] + [e[1] for _, _, evs in lanes for e in (evs or [])] + [1.0])
        sep = pg.PlotCurveItem(np.tile([0.0, end], len(classes) + 1),
                               np.repeat(np.arange(len(classes) + 1, dtype=float), 2),
                               connect="pairs", pen=pg.mkPen(theme.GRID, width=1))
        self.addItem(sep, ignoreBounds=True)
        self._drawn.append(sep)
        self.vb.setLimits(yMin=0, yMax=len(classes))
        self.vb.setYRange(0, len(classes), padding=0)
        d = doc.duration()
        if d:
            self.set_time_limits(d)

    def _draw_errors(self, flags: dict, index: dict, offset: float, height: float) -> None:
        """Mark a lane's false positives (hatched, red outline) and the reference events it
        missed (dashed red outline, red cross at their centre); ``offset``: the lane's top
        within a class band, ``height`` its bars' height (band units)."""
        red = pg.mkColor(ERROR_COLOUR)
        fps = [e for e, f in zip(flags["estimated"], flags["false_positive"]) if f and e[2] in index]
        missed = [r for r, f in zip(flags["reference"], flags["missed"]) if f and r[2] in index]
        for evs, brush, pen in ((fps, QBrush(red, Qt.BrushStyle.BDiagPattern), pg.mkPen(red, width=2)),
                                (missed, QBrush(Qt.BrushStyle.NoBrush), pg.mkPen(red, width=2, style=Qt.PenStyle.DashLine))):
            if not evs:
                continue
            x0 = np.array([e[0] for e in evs], float)
            y0 = np.array([index[e[2]] + offset for e in evs], float)
            w = np.maximum(np.array([e[1] - e[0] for e in evs], float), 1e-3)
            bar = pg.BarGraphItem(x0=x0, y0=y0, width=w, height=np.full(len(evs), height), brush=brush, pen=pen)
            self.addItem(bar)
            self._drawn.append(bar)
            if evs is missed:
                cross = pg.ScatterPlotItem(x0 + w / 2, y0 + height / 2, symbol="x", size=11,
                                           pen=pg.mkPen(red, width=1), brush=pg.mkBrush(red))
                self.addItem(cross)
                self._drawn.append(cross)

    def _lane_state(self, key: str, evs) -> str:
        """What the legend says after a model's name when its events are not there."""
        if evs is not None or key == "ref" or self.doc.current is None:
            return ""
        state = analysis_state(self.doc, key)
        if state == "analyzing":
            return " (analyzing…)"
        if state == "cancelled":
            return " (not analyzed)"
        return " (unreadable file)" if state.startswith("Cannot read") else " (failed)"

    def events_in_lane(self, key: str) -> list:
        for k, _, evs in self.lanes:
            if k == key:
                return evs or []
        return []

    def readout(self, x: float, y: float) -> str:
        if not self.rows:
            return f"t {format_time(x)}"
        row = int(np.floor(y))
        if not 0 <= row < len(self.rows):
            return f"t {format_time(x)}"
        cls = self.rows[row]
        n_lanes = max(1, len(self.lanes))
        lane = int((y - row - 0.08) / (0.84 / n_lanes))
        text = f"t {format_time(x)}   {cls}"
        if 0 <= lane < len(self.lanes):
            key, label, evs = self.lanes[lane]
            flags = self.errors.get(key)
            for i, e in enumerate(evs or []):
                if e[2] == cls and e[0] <= x <= e[1]:
                    score = "" if key == "ref" else f", peak d_t {e[3]:.2f}"
                    fp = " (false positive)" if flags and flags["false_positive"][i] else ""
                    return text + f"   {label}: {e[0]:.3f}–{e[1]:.3f} s{score}{fp}"
            for r, missed in zip(flags["reference"], flags["missed"]) if flags else ():
                if missed and r[2] == cls and r[0] <= x <= r[1]:
                    return text + f"   {label} missed {r[0]:.3f}–{r[1]:.3f} s"
            text += f"   {label}"
        return text
