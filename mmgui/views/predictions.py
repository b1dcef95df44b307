"""Predictions of one model: clip-level bars, segment-level heatmap d_t and curves.

Zoomed out over a long recording, the heatmap shows the maximum of d_t over the
segments under each column (a :class:`SpectrogramPyramid` of d_t), so a short
detection stays visible at any zoom.

The heatmap is classes x segments of one scale drawn on that scale's own time
grid (segment t covers [times[t], times[t] + hop_s]); the curves show d_t of the
selected classes with their thresholds.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from .. import theme
from ..pyramid import SpectrogramPyramid
from .base import ClassAxis, Note, TimePane, format_time, pane_pixels, view_key


def pane_status(doc, slot: str) -> tuple[object, str]:
    """(analysis or None, placeholder text) for a pane showing model ``slot`` on the current clip."""
    if doc.current is None:
        return None, ""
    entry = doc.model(slot) if doc.slots.get(slot) else None
    if entry is None:
        return None, f"No model {slot}: choose one in the Models panel"
    a = doc.analysis(slot)
    if a is not None:
        return a, ""
    state = analysis_state(doc, slot)
    if state == "analyzing":
        return None, f"{entry.name}: analyzing…"
    if state == "cancelled":
        return None, f"{entry.name}: not analyzed (cancelled). Analysis ▸ Analyze all clips runs it."
    return None, state


def analysis_state(doc, slot: str) -> str:
    """Why model ``slot`` has no analysis of the current clip: "analyzing" (running or about to),
    "cancelled" (nothing will come), or the error text (the file, the model or the analysis failed)."""
    entry = doc.model(slot) if doc.slots.get(slot) else None
    err = doc.analysis_error(slot)
    if err:
        return f"{entry.name if entry else slot}: analysis failed\n{err}"
    if entry is not None and entry.error:
        return f"{entry.name}: unusable model file\n{entry.error}"
    clip = doc.current
    spec = doc.spectrogram(clip.path) if clip is not None else None
    clip_err = (clip.error if clip is not None else None) or (spec.error if spec is not None else None)
    if clip_err:
        return f"Cannot read this file:\n{clip_err}"
    if doc.is_analyzing(slot) or doc.tasks.busy:
        return "analyzing"
    return "cancelled"


def pick_scale(analysis, name: str | None):
    """The scale called ``name`` if the model has it, else its primary scale."""
    if not analysis.scales:
        return None
    if name:
        for s in analysis.scales:
            if s.name == name:
                return s
    return analysis.scale(None)


def step_xy(times: np.ndarray, hop: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points for a 'left' step curve covering the last segment too."""
    x = np.append(np.asarray(times, np.float64), times[-1] + hop if len(times) else hop)
    return x, np.append(np.asarray(y, np.float64), y[-1] if len(y) else 0.0)


class StatusWatch:
    """Mixin for a view of one model's analysis (``self.doc``, ``self.analysis``, ``redraw()``):
    redraw when the current clip turns out unreadable or the background work ends, so that
    "analyzing…" never outlives the analysis."""

    def watch_status(self) -> None:
        self.doc.clipUpdated.connect(self._status_clip_updated)
        self.doc.busyChanged.connect(self._status_busy)

    def _status_clip_updated(self, path: str) -> None:
        if path == doc_current(self.doc) and self.analysis is None:
            self.redraw()

    def _status_busy(self, busy: bool) -> None:
        if not busy and self.analysis is None:
            self.redraw()


class _ModelPane(StatusWatch, TimePane):
    """A pane that draws one model's analysis of the current clip and redraws on change."""

    def __init__(self, doc, slot, left_axis=None):
        super().__init__(doc, slot, left_axis=left_axis)
        self.analysis = None
        doc.analysisChanged.connect(self._analysis_changed)
        doc.currentClipChanged.connect(self.redraw)
        doc.slotsChanged.connect(self.redraw)
        doc.displayChanged.connect(self.redraw)
        doc.modelsChanged.connect(self.redraw)
        self.watch_status()

    def _analysis_changed(self, clip_path: str, model_path: str) -> None:
        if doc_current(self.doc) == clip_path and self.doc.slots.get(self.slot) == model_path:
            self.redraw()

    def model_name(self) -> str:
        entry = self.doc.model(self.slot) if self.doc.slots.get(self.slot) else None
        return entry.name if entry else f"model {self.slot}"

    def redraw(self) -> None:
        raise NotImplementedError


def doc_current(doc) -> str | None:
    return doc.current.path if doc.current is not None else None


class SegmentHeatmapPane(_ModelPane):
    """d_t as a classes x time image for the chosen scale."""

    kind = "heatmap"
    title_outside = True

    def __init__(self, doc, slot: str = "A"):
        self.class_axis = ClassAxis()
        super().__init__(doc, slot, left_axis=self.class_axis)
        self.vb.invertY(True)           # first class on top, as in the event rows
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(False)     # the pyramid gives one column per pixel at most
        self.image.setLevels((0.0, 1.0))
        self.image.setZValue(-10)
        self.addItem(self.image)
        self.scale = None
        self.pyramid = None         # max-decimated levels of d_t, so long recordings draw only what is seen
        self._shown = None
        self.vb.sigXRangeChanged.connect(lambda *_: self.refresh())
        self.vb.sigResized.connect(lambda *_: self.refresh())
        self.redraw()

    def redraw(self) -> None:
        a, text = pane_status(self.doc, self.slot)
        self.analysis = a
        self.scale = None
        if a is None or not a.scales:
            self.image.clear()
            self.pyramid = self._shown = None
            self.class_axis.set_names([])
            if a is not None:
                text = f"{self.model_name()} ({a.method}): no segment level"
            self.setTitle(f"{self.model_name()} · segment predictions d_t", size="9pt", justify="left")
            self.set_placeholder(text)
            self.vb.setYRange(0, 1, padding=0)
            return
        sc = pick_scale(a, self.doc.scale)
        self.scale = sc
        n = len(sc.times)
        self.pyramid = SpectrogramPyramid(len(a.classes), sc.hop_s, capacity=max(1, n))
        self.pyramid.append(np.ascontiguousarray(sc.segment_probs.T, dtype=np.float32))
        self.pyramid.finish()
        self._shown = None
        self.refresh()
        self.class_axis.set_names(a.classes)
        self.fit_rows(len(a.classes))
        self.vb.setLimits(yMin=0, yMax=len(a.classes))
        self.vb.setYRange(0, len(a.classes), padding=0)
        self.set_time_limits(max(a.duration, n * sc.hop_s))
        name, ms = self.model_name(), f"{sc.hop_s * 1000:.0f} ms"
        self.setTitle([f"{name} · segment predictions d_t · {sc.name} ({ms})", f"{name} · d_t · {sc.name} ({ms})",
                       f"{name} · d_t · {sc.name}", f"d_t · {sc.name}"])
        self.set_placeholder("")

    def refresh(self) -> None:
        """Draw the columns of d_t that are in view (max over segments when zoomed out)."""
        pyr = self.pyramid
        if pyr is None:
            return
        (t0, t1), _ = self.vb.viewRange()
        n_px = pane_pixels(self.vb)
        key = view_key(t0, t1, n_px)
        if self._shown is not None:
            k, start, end = self._shown
            if k == key and start <= max(t0, 0.0) and (end >= t1 or end >= pyr.duration - 1e-9):
                return
        sel = pyr.columns(t0, t1, n_px)
        if sel is None:
            return
        img, start, end, _level, _dt = sel
        self.image.setImage(img, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(start, 0.0, end - start, float(pyr.n_mels))
        self._shown = (key, start, end)

    def readout(self, x: float, y: float) -> str:
        a, sc = self.analysis, self.scale
        if a is None or sc is None:
            return f"t {format_time(x)}"
        c = int(np.floor(y))
        t = int(np.floor(x / sc.hop_s))
        if 0 <= c < len(a.classes) and 0 <= t < len(sc.times):
            return (f"t {format_time(x)}   {a.classes[c]}   d_t = {sc.segment_probs[t, c]:.3f}   "
                    f"segment {t} [{sc.times[t]:.3f}, {sc.times[t] + sc.hop_s:.3f}] s ({sc.name})"
                    f"   threshold {a.thresholds[c]:.2f}")
        return f"t {format_time(x)}"


class SegmentCurvesPane(_ModelPane):
    """d_t over time for the selected classes, with their thresholds dashed."""

    kind = "curves"

    def __init__(self, doc, slot: str = "A"):
        super().__init__(doc, slot)
        self.setLabel("left", "d_t")
        self.vb.setLimits(yMin=-0.02, yMax=1.3)
        self.vb.setYRange(0, 1.3, padding=0)       # headroom for the title
        self.getAxis("left").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])
        self.drawn: list = []
        self.class_curves: dict[str, pg.PlotDataItem] = {}
        self.redraw()

    def redraw(self) -> None:
        for c in self.drawn:
            self.removeItem(c)
        self.drawn = []
        self.class_curves: dict[str, pg.PlotDataItem] = {}
        a, text = pane_status(self.doc, self.slot)
        self.analysis = a
        self.setTitle(f"{self.model_name()} · d_t of selected classes", size="9pt", justify="left")
        if a is None or not a.scales:
            self.set_placeholder(text if a is None else f"{self.model_name()} ({a.method}): no segment level")
            return
        self.set_placeholder("")
        sc = pick_scale(a, self.doc.scale)
        shown = self.doc.shown_classes(a)
        keys = []
        for k, name in enumerate(shown):
            c = a.classes.index(name)
            colour = theme.CLASS_COLOURS[k % len(theme.CLASS_COLOURS)]
            x, y = step_xy(sc.times, sc.hop_s, sc.segment_probs[:, c])
            curve = pg.PlotDataItem(x, y, stepMode="left", pen=pg.mkPen(colour, width=1.5))
            thr = pg.InfiniteLine(float(a.thresholds[c]), angle=0,
                                  pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            self.addItem(curve)
            curve.opts["autoDownsampleFactor"] = 1.5   # min/max of ~1.5 segments per pixel: all peaks, few lines
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)          # after addItem: it needs the ViewBox
            self.addItem(thr, ignoreBounds=True)
            self.drawn += [curve, thr]
            self.class_curves[name] = curve
            keys.append(f"<span style='color:{colour}'>━ {name}</span>")
        if not shown:
            self.set_placeholder("Click classes in the clip predictions to draw their curves")
        self.set_time_limits(a.duration)
        name, legend = self.model_name(), "  ".join(keys)
        self.setTitle([f"{name} · d_t · {sc.name} · {legend}  <span style='color:#9aa0a6'>(dashed: thresholds)</span>",
                       f"{name} · d_t · {sc.name} · {legend}", f"d_t · {legend}"])

    def readout(self, x: float, y: float) -> str:
        a = self.analysis
        if a is None or not a.scales:
            return f"t {format_time(x)}"
        sc = pick_scale(a, self.doc.scale)
        t = int(np.floor(x / sc.hop_s))
        if not 0 <= t < len(sc.times):
            return f"t {format_time(x)}"
        parts = [f"{n} {sc.segment_probs[t, a.classes.index(n)]:.3f}" for n in self.doc.shown_classes(a)]
        return f"t {format_time(x)}   d_t ({sc.name}): " + ",  ".join(parts)


class ClipPredictionsView(StatusWatch, pg.GraphicsLayoutWidget):
    """Clip-level probabilities of one model, sorted, macro and ensemble, thresholds marked.

    Clicking a class toggles its curve in the d_t pane.
    """

    def __init__(self, doc, slot: str = "A", parent=None):
        super().__init__(parent)
        self.doc, self.slot = doc, slot
        self.setMinimumWidth(260)
        self.plot = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.getAxis("left").setWidth(150)
        self.plot.getAxis("left").setStyle(textFillLimits=[(0, 1.0)])
        self.plot.setLabel("bottom", "probability")
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        self.plot.vb.setXRange(0, 1, padding=0.02)
        self.items = []
        self.order: list[int] = []
        self.analysis = None
        self.placeholder = Note(self.plot.vb)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        doc.analysisChanged.connect(self.redraw)
        doc.currentClipChanged.connect(self.redraw)
        doc.slotsChanged.connect(self.redraw)
        doc.displayChanged.connect(self.redraw)
        doc.modelsChanged.connect(self.redraw)
        self.watch_status()
        self.redraw()

    def redraw(self) -> None:
        for it in self.items:
            self.plot.removeItem(it)
        self.items = []
        a, text = pane_status(self.doc, self.slot)
        self.analysis = a
        entry = self.doc.model(self.slot) if self.doc.slots.get(self.slot) else None
        self.plot.setTitle(entry.name if entry else "—", size="9pt")
        if a is None:
            self.order = []
            self.plot.getAxis("left").setTicks([[]])
            self.placeholder.set(text)
            self.plot.vb.setYRange(0, 1)
            return
        self.placeholder.set("")
        probs = np.asarray(a.clip_probs, np.float32)
        order = list(np.argsort(-probs, kind="stable"))
        self.order = order
        n = len(order)
        ys = np.arange(n)[::-1].astype(float)            # the most probable class on top
        shown = set(self.doc.shown_classes(self.doc.analysis("A")) if self.slot == "A" else [])
        macro = np.asarray(a.clip_macro)[order]
        thr = np.asarray(a.thresholds)[order]
        has_ens = a.clip_ensemble is not None
        h = 0.36 if has_ens else 0.6
        on = probs[order] >= thr
        mb = [pg.mkBrush("#7f8c9d") if not has_ens and not o else pg.mkBrush("#9fb3c8") for o in on]
        macro_bar = pg.BarGraphItem(x0=np.zeros(n), y=ys + (h / 2 if has_ens else 0), width=macro, height=h,
                                    brushes=mb, pen=pg.mkPen(None), name="macro")
        self.plot.addItem(macro_bar)
        self.items.append(macro_bar)
        if has_ens:
            ens = np.asarray(a.clip_ensemble)[order]
            eb = [pg.mkBrush(theme.SLOT_COLOURS["A"] if o else "#8a5a2b") for o in on]
            ens_bar = pg.BarGraphItem(x0=np.zeros(n), y=ys - h / 2, width=ens, height=h, brushes=eb,
                                      pen=pg.mkPen(None), name="ensemble")
            self.plot.addItem(ens_bar)
            self.items.append(ens_bar)
        # thresholds: a white tick across each row
        tx = np.repeat(thr, 2)
        ty = np.column_stack([ys - 0.45, ys + 0.45]).ravel()
        ticks = pg.PlotCurveItem(tx, ty, connect="pairs", pen=pg.mkPen("#ffffff", width=2))
        self.plot.addItem(ticks)
        self.items.append(ticks)
        labels = []
        for y, i in zip(ys, order):
            name = a.classes[i]
            mark = "▶ " if name in shown else ""
            labels.append((float(y), f"{mark}{name}  {probs[i]:.2f}"))
        axis = self.plot.getAxis("left")
        fm = QFontMetrics(axis.style.get("tickFont") or axis.font())
        axis.setWidth(min(260, max(fm.horizontalAdvance(t) for _, t in labels) + 18))
        axis.setTicks([labels])
        self.plot.vb.setYRange(-0.6, n - 0.4, padding=0)

    def _clicked(self, ev) -> None:
        if self.analysis is None or not self.order or self.slot != "A":
            return
        p = self.plot.vb.mapSceneToView(ev.scenePos())
        n = len(self.order)
        row = int(round(p.y()))
        if 0 <= row < n and self.plot.sceneBoundingRect().contains(ev.scenePos()):
            cls = self.analysis.classes[self.order[n - 1 - row]]
            self.doc.toggle_class(cls)
