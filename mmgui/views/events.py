"""Event rolls: reference (ground truth) vs detected events, one band per class (as sed_vis).

Each class has a band; inside it one lane for the reference events (when the clip
has strong labels) and one lane per model shown.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .. import theme
from .base import ClassAxis, TimePane, format_time
from .predictions import analysis_state, doc_current

MAX_ALL_CLASSES = 8    # above this many classes, only classes with events get a band


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
        self.items: list = []
        self.rows: list[str] = []
        self.lanes: list[tuple[str, str, list]] = []   # (key, label, events)
        doc.analysisChanged.connect(self._analysis_changed)
        doc.currentClipChanged.connect(lambda _p: self.redraw())
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
        for it in self.items:
            self.removeItem(it)
        self.items = []
        doc = self.doc
        clip = doc.current
        lanes = []
        if clip is not None and self.reference and clip.strong is not None:
            lanes.append(("ref", "reference", [(on, off, lab, 1.0) for on, off, lab in clip.strong]))
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
            self.items.append(bar)
        # separators between class bands
        # (over the clip only: a line a million seconds long is a shape 1e8 px wide in an SVG export)
        end = max([doc.duration()] + [e[1] for _, _, evs in lanes for e in (evs or [])] + [1.0])
        sep = pg.PlotCurveItem(np.tile([0.0, end], len(classes) + 1),
                               np.repeat(np.arange(len(classes) + 1, dtype=float), 2),
                               connect="pairs", pen=pg.mkPen(theme.GRID, width=1))
        self.addItem(sep, ignoreBounds=True)
        self.items.append(sep)
        self.vb.setLimits(yMin=0, yMax=len(classes))
        self.vb.setYRange(0, len(classes), padding=0)
        d = doc.duration()
        if d:
            self.set_time_limits(d)

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
            for e in evs or []:
                if e[2] == cls and e[0] <= x <= e[1]:
                    score = "" if key == "ref" else f", peak d_t {e[3]:.2f}"
                    return text + f"   {label}: {e[0]:.3f}–{e[1]:.3f} s{score}"
            text += f"   {label}"
        return text
