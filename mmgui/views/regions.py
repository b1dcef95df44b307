"""Annotation regions drawn over a pyqtgraph PlotItem whose x axis is time in seconds.

The y axis is either mel bands (the spectrogram pane: its left axis has ``hz_to_row`` and
``row_to_hz`` and band i spans [i, i+1]) or Hz (any other plot). A region without a frequency
range spans the whole height; a time-frequency box spans its range.

Mouse: Ctrl+drag draws a new region over the whole height (a time range), Ctrl+Shift+drag a
time-frequency box (Shift+drag alone stays the loop selection); dragging a region's left or
right edge changes its onset or offset, a box's top or bottom edge its frequency range,
dragging inside it moves it; a click selects it, a double click opens the label picker.
Each drag is one undoable edit, committed when the mouse is released. Keyboard shortcuts are
window actions (see :mod:`mmgui.annotations.install`).

``attach(plot_item, store, doc)`` adds a :class:`RegionLayer` to a plot and returns it.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen

from ..annotations.store import Annotation, WeakAttr

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
FILL = {"selected": 70, "manual": 40, "accepted": 40, "proposal": 24, "rejected": 12}   # alpha of the fill
EDGE_PX = 5.0          # how close to an edge (screen pixels) the pointer grabs it
MIN_DRAW_PX = 3.0      # a Ctrl+drag shorter than this draws nothing

STYLE = {   # status -> (RGB, pen style)
    "manual": ((90, 210, 120), Qt.PenStyle.SolidLine),
    "accepted": ((90, 170, 255), Qt.PenStyle.SolidLine),
    "proposal": ((255, 190, 60), Qt.PenStyle.DashLine),
    "rejected": ((150, 150, 150), Qt.PenStyle.DotLine),
}


class RegionItem(pg.GraphicsObject):
    """One annotation: a rectangle in data coordinates (x s, y rows or Hz) with a label."""

    layer = WeakAttr()

    def __init__(self, layer: "RegionLayer", ann: Annotation):
        super().__init__()
        self.layer, self.ann = layer, ann
        self.box = (0.0, 0.0, 0.0, 0.0)   # t0, t1, y0, y1 (data)
        self.selected = False
        self._drag = None                 # (zone, box at the start)
        self.setAcceptHoverEvents(True)
        self.setZValue(95)                # over the loop region (90), under the playhead (100)
        self.text = pg.TextItem("", anchor=(0, 0))
        self.text.setParentItem(self)
        self.set_annotation(ann)

    # ------------------------------------------------------------ geometry
    def set_annotation(self, ann: Annotation) -> None:
        self.ann = ann
        self.set_box(self.layer.box_of(ann))
        color, _ = STYLE[ann.status]
        score = f" {ann.score:.2f}" if ann.score is not None and ann.status == "proposal" else ""
        self.text.setText(ann.label + score, color=QColor(*color))

    def set_box(self, box) -> None:
        t0, t1, y0, y1 = box
        self.prepareGeometryChange()
        self.box = (min(t0, t1), max(t0, t1), min(y0, y1), max(y0, y1))
        self.text.setPos(self.box[0], self.box[3])
        self.update()

    def boundingRect(self) -> QRectF:
        t0, t1, y0, y1 = self.box
        return QRectF(t0, y0, max(t1 - t0, 1e-9), max(y1 - y0, 1e-9))

    def paint(self, p, *_args) -> None:
        color, style = STYLE[self.ann.status]
        pen = QPen(QColor(255, 255, 255) if self.selected else QColor(*color), 2.5 if self.selected else 1.5, style)
        pen.setCosmetic(True)
        p.setPen(pen)
        fill = FILL["selected" if self.selected else self.ann.status]
        if not self.ann.is_box:
            fill //= 2                    # a time range covers every band: let the spectrogram show
        p.setBrush(QBrush(QColor(*color, fill)))
        p.drawRect(self.boundingRect())

    # ------------------------------------------------------------ mouse
    def zone(self, pos: QPointF) -> str:
        """What a point (data coordinates) grabs: 'left', 'right', 'low', 'high' edge or 'inside'."""
        t0, t1, y0, y1 = self.box
        px = abs(self.pixelWidth() or 1e-3) * EDGE_PX
        py = abs(self.pixelHeight() or 1e-3) * EDGE_PX
        px = min(px, (t1 - t0) / 3)    # a short region keeps a middle to move it by
        if abs(pos.x() - t0) <= px:
            return "left"
        if abs(pos.x() - t1) <= px:
            return "right"
        if self.ann.is_box:
            py = min(py, (y1 - y0) / 3)
            if abs(pos.y() - y0) <= py:
                return "low"
            if abs(pos.y() - y1) <= py:
                return "high"
        return "inside"

    def hoverEvent(self, ev) -> None:
        if ev.isExit():
            self.unsetCursor()
            return
        if not (ev.modifiers() & CTRL) and ev.acceptDrags(LEFT):
            z = self.zone(ev.pos())
            self.setCursor({"left": Qt.CursorShape.SizeHorCursor, "right": Qt.CursorShape.SizeHorCursor,
                            "low": Qt.CursorShape.SizeVerCursor, "high": Qt.CursorShape.SizeVerCursor,
                            }.get(z, Qt.CursorShape.SizeAllCursor))
        ev.acceptClicks(LEFT)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != LEFT:
            ev.ignore()
            return
        ev.accept()
        self.layer.select(self.ann.id)
        if ev.double():
            self.layer.ask_label(self.ann.id)

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != LEFT or (ev.isStart() and ev.modifiers() & CTRL):
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._drag = (self.zone(ev.buttonDownPos()), self.box)
            self.layer.select(self.ann.id)
        if self._drag is None:
            return
        zone, (t0, t1, y0, y1) = self._drag
        d = ev.pos() - ev.buttonDownPos()
        dx, dy = d.x(), d.y()
        if zone == "inside":
            dt = max(dx, -t0)                      # not before the start of the clip
            box = (t0 + dt, t1 + dt, y0 + dy, y1 + dy) if self.ann.is_box else (t0 + dt, t1 + dt, y0, y1)
        else:
            box = {"left": (t0 + dx, t1, y0, y1), "right": (t0, t1 + dx, y0, y1),
                   "low": (t0, t1, y0 + dy, y1), "high": (t0, t1, y0, y1 + dy)}[zone]
        self.set_box(box)
        if ev.isFinish():
            self._drag = None
            self.layer.commit(self.ann.id, self.box)


class DrawOverlay(pg.GraphicsObject):
    """Covers the ViewBox (its own pixel coordinates); takes Ctrl+drags to draw new regions."""

    layer = WeakAttr()

    def __init__(self, layer: "RegionLayer"):
        super().__init__()
        self.layer = layer
        self.band: QRectF | None = None
        self.vb = layer.vb
        self.setParentItem(self.vb)
        self.setZValue(1e6)
        self.setAcceptHoverEvents(True)
        self.vb.sigResized.connect(self._resized)

    def _resized(self, *_):
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        return QRectF(self.vb.rect())

    def paint(self, p, *_args) -> None:
        if self.band is not None:
            pen = QPen(QColor(255, 255, 255, 200), 1.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(QBrush(QColor(255, 255, 255, 40)))
            p.drawRect(self.band)

    def hoverEvent(self, ev) -> None:
        if not ev.isExit() and ev.modifiers() & CTRL:
            ev.acceptDrags(LEFT)          # before a region or the loop region claims the drag

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != LEFT or not (ev.modifiers() & CTRL):
            ev.ignore()
            return
        ev.accept()
        a, b = ev.buttonDownPos(), ev.pos()
        box = bool(ev.modifiers() & SHIFT)
        r = self.boundingRect()
        band = QRectF(a, b).normalized()
        if not box:
            band = QRectF(band.left(), r.top(), band.width(), r.height())
        self.prepareGeometryChange()
        self.band = band
        self.update()
        if ev.isFinish():
            self.band = None
            self.update()
            if band.width() >= MIN_DRAW_PX:
                vb = self.vb
                p0, p1 = vb.mapToView(band.bottomLeft()), vb.mapToView(band.topRight())
                self.layer.draw(p0.x(), p1.x(), (min(p0.y(), p1.y()), max(p0.y(), p1.y())) if box else None)


class RegionLayer(QObject):
    """The regions of the current clip over one plot, kept in step with the store."""

    store = WeakAttr()
    doc = WeakAttr()
    plot = WeakAttr()

    def __init__(self, plot_item, store, doc):
        super().__init__(store)
        self.plot, self.store, self.doc = plot_item, store, doc
        self.vb = plot_item.getViewBox()
        self.axis = plot_item.getAxis("left")
        self.items: dict[int, RegionItem] = {}
        self.overlay = DrawOverlay(self)
        store.changed.connect(self._store_changed)
        store.selectionChanged.connect(self._selection_changed)
        doc.currentClipChanged.connect(self._clip_changed)
        self.vb.sigYRangeChanged.connect(self._y_changed)
        self.rebuild()

    # ------------------------------------------------------------ coordinates
    def _mel(self) -> np.ndarray | None:
        hz = getattr(self.axis, "hz", None)
        return hz if hz is not None and len(hz) and hasattr(self.axis, "hz_to_row") else None

    def hz_to_y(self, hz: float) -> float:
        return float(self.axis.hz_to_row(hz)) if self._mel() is not None else float(hz)

    def y_to_hz(self, y: float) -> float:
        return max(0.0, float(self.axis.row_to_hz(y))) if self._mel() is not None else max(0.0, float(y))

    def y_span(self) -> tuple[float, float]:
        """The y extent of a region without a frequency range: every mel band, else the visible range."""
        mel = self._mel()
        if mel is not None:
            return 0.0, float(len(mel))
        y0, y1 = self.vb.viewRange()[1]
        return float(y0), float(y1)

    def box_of(self, ann: Annotation) -> tuple[float, float, float, float]:
        lo, hi = self.y_span()
        y0 = lo if ann.low_hz is None else self.hz_to_y(ann.low_hz)
        y1 = hi if ann.high_hz is None else self.hz_to_y(ann.high_hz)
        return ann.onset, ann.offset, y0, y1

    # ------------------------------------------------------------ store -> items
    def clip(self) -> str:
        return self.doc.current.path if self.doc.current else ""

    def rebuild(self) -> None:
        clip = self.clip()
        anns = {a.id: a for a in self.store.events(clip)} if clip else {}
        for ident in [i for i in self.items if i not in anns]:
            item = self.items.pop(ident)
            self.plot.removeItem(item)
        sel = self.store.selected[1] if self.store.selected[0] == clip else 0
        for ident, ann in anns.items():
            item = self.items.get(ident)
            if item is None:
                item = self.items[ident] = RegionItem(self, ann)
                self.plot.addItem(item, ignoreBounds=True)
            elif item._drag is None:
                item.set_annotation(ann)
            item.selected = ident == sel
            item.update()
        for ident, lane in lanes(list(anns.values())).items():
            self.items[ident].text.setAnchor((0, -lane))   # overlapping events: labels one under another

    def _store_changed(self, clip: str) -> None:
        if clip == self.clip():
            self.rebuild()

    def _clip_changed(self, _path: str) -> None:
        self.rebuild()

    def _selection_changed(self, clip: str, ident: int) -> None:
        for i, item in self.items.items():
            on = clip == self.clip() and i == ident
            if item.selected != on:
                item.selected = on
                item.update()

    def _y_changed(self, *_):
        if self._mel() is None:
            for item in self.items.values():
                if not item.ann.is_box:
                    item.set_annotation(item.ann)

    # ------------------------------------------------------------ edits
    def select(self, ident: int) -> None:
        self.store.select(self.clip(), ident)

    def draw(self, t0: float, t1: float, y_range=None) -> int:
        """Add a region from t0 to t1 s (and y_range in plot units for a box); returns its id."""
        clip = self.clip()
        if not clip:
            return 0
        t0, t1 = sorted((max(0.0, t0), max(0.0, t1)))
        dur = getattr(self.doc.current, "duration", None)
        if dur:
            t0, t1 = min(t0, dur), min(t1, dur)
        low = high = None
        if y_range is not None:
            low, high = sorted((self.y_to_hz(y_range[0]), self.y_to_hz(y_range[1])))
        label = getattr(self.store, "default_label", "") or "event"
        ident = self.store.add(clip, Annotation(t0, t1, label, low, high))
        self.select(ident)
        return ident

    def commit(self, ident: int, box) -> None:
        """A drag ended: the region's new box (data coordinates) becomes an undoable move."""
        ann = self.store.get(self.clip(), ident)
        if ann is None:
            return
        t0, t1, y0, y1 = box
        if ann.is_box:
            lo = None if ann.low_hz is None else self.y_to_hz(y0)
            hi = None if ann.high_hz is None else self.y_to_hz(y1)
            self.store.move(self.clip(), ident, t0, t1, lo, hi)
        else:
            self.store.move(self.clip(), ident, t0, t1)
        item = self.items.get(ident)
        if item is not None:            # a move that changed nothing emits nothing: put it back
            item.set_annotation(self.store.get(self.clip(), ident) or ann)

    def ask_label(self, ident: int) -> None:
        """Ask for the region's label (whoever listens to ``store.labelRequested`` shows the picker)."""
        self.store.labelRequested.emit(self.clip(), ident)


def lanes(anns) -> dict[int, int]:
    """A lane (0, 1, ...) per event such that events overlapping in time get different lanes."""
    ends: list[float] = []          # the offset of the last event in each lane
    out = {}
    for a in sorted(anns, key=lambda a: (a.onset, a.offset, a.id)):
        lane = next((k for k, end in enumerate(ends) if end <= a.onset), len(ends))
        if lane == len(ends):
            ends.append(a.offset)
        else:
            ends[lane] = a.offset
        out[a.id] = lane
    return out


def attach(plot_item, store, doc) -> RegionLayer:
    """Show and edit the current clip's annotations on ``plot_item`` (the spectrogram's PlotItem)."""
    return RegionLayer(plot_item, store, doc)


__all__ = ["attach", "RegionLayer", "RegionItem", "DrawOverlay", "STYLE"]
