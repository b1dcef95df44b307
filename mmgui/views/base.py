"""Building blocks shared by the time-aligned panes.

Every pane is a pyqtgraph PlotItem whose x axis is time in seconds. Panes of one
panel are x-linked; they show the playhead (from the document), the loop region,
seek on click, select a loop with Shift+drag, and describe what is under the
mouse (:meth:`TimePane.readout`).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QTextOption
from PySide6.QtWidgets import QGraphicsTextItem

from .. import theme
from ..qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py


class TimeViewBox(pg.ViewBox):
    """A ViewBox that seeks on a plain click and selects a region on Shift+drag."""

    sigSeek = Signal(float)
    sigRegionSelect = Signal(float, float, bool)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton and not (ev.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            ev.accept()
            self.sigSeek.emit(float(self.mapSceneToView(ev.scenePos()).x()))
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            t0 = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
            t1 = float(self.mapSceneToView(ev.scenePos()).x())
            self.sigRegionSelect.emit(min(t0, t1), max(t0, t1), bool(ev.isFinish()))
            return
        super().mouseDragEvent(ev, axis)


class MelAxis(pg.AxisItem):
    """Left axis of a mel spectrogram: rows are mel bands, ticks are labelled in Hz."""

    MAJOR = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000]
    MINOR = [300, 700, 1500, 3000, 7000, 15000]

    def __init__(self, *args, **kw):
        super().__init__("left", *args, **kw)
        self.hz = np.zeros(0)

    def set_frequencies(self, hz: np.ndarray) -> None:
        self.hz = np.asarray(hz, np.float64)
        self.picture = None
        self.update()

    def hz_to_row(self, hz):
        """Position (rows; band i spans [i, i+1]) of a frequency in Hz."""
        if not len(self.hz):
            return np.asarray(hz, float)
        return np.interp(hz, self.hz, np.arange(len(self.hz)) + 0.5)

    def row_to_hz(self, y):
        if not len(self.hz):
            return float(y)
        return float(np.interp(y - 0.5, np.arange(len(self.hz)), self.hz))

    def tickValues(self, minVal, maxVal, size):
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)
        if not len(self.hz):
            return super().tickValues(minVal, maxVal, size)
        lo, hi = self.hz[0], self.hz[-1]
        major = [f for f in self.MAJOR if lo <= f <= hi]
        minor = [f for f in self.MINOR if lo <= f <= hi]
        rows_major = [float(self.hz_to_row(f)) for f in major]
        rows_minor = [float(self.hz_to_row(f)) for f in minor]
        px_per_row = size / max(maxVal - minVal, 1e-9)
        # keep labels at least 14 px apart
        keep, last = [], -1e9
        for r in rows_major:
            if minVal <= r <= maxVal and (r - last) * px_per_row >= 14:
                keep.append(r)
                last = r
        extra = [r for r in rows_minor if minVal <= r <= maxVal
                 and all(abs(r - k) * px_per_row >= 14 for k in keep)] if px_per_row * len(self.hz) > 300 else []
        return [(1.0, keep + extra)]

    def tickStrings(self, values, scale, spacing):
        if not len(self.hz):
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            f = self.row_to_hz(v)
            f = min([*self.MAJOR, *self.MINOR], key=lambda x: abs(x - f)) if len(self.hz) else f
            out.append(f"{f / 1000:g}k" if f >= 1000 else f"{f:g}")
        return out


class ClassAxis(pg.AxisItem):
    """Left axis naming class rows (row i spans [i, i+1]): every row is labelled, in a font
    sized to the row height (7 to 11 px), so that a bright row is never read as its neighbour's."""

    MIN_PX, MAX_PX = 7, 11

    def __init__(self, *args, **kw):
        super().__init__("left", *args, **kw)
        self.names: list[str] = []
        self.font_px = self.MAX_PX
        small = QFont()
        small.setPixelSize(self.font_px)
        self.setStyle(tickFont=small, textFillLimits=[(0, 1.0)])

    def set_names(self, names: list[str]) -> None:
        self.names = list(names)
        self.picture = None
        self.update()

    def row_pixels(self) -> float:
        """Screen pixels per class row."""
        vb = self.linkedView()
        if vb is None:
            return float(self.MAX_PX)
        (_, _), (y0, y1) = vb.viewRange()
        return vb.height() / max(abs(y1 - y0), 1e-9)

    def generateDrawSpecs(self, p):
        px = int(np.clip(np.floor(self.row_pixels() * 0.9), self.MIN_PX, self.MAX_PX))   # the text box is ~1.05 font px
        if px != self.font_px:
            self.font_px = px
            font = QFont(self.style["tickFont"])
            font.setPixelSize(px)
            self.style["tickFont"] = font
        return super().generateDrawSpecs(p)

    def tickValues(self, minVal, maxVal, size):
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)
        if not self.names:
            return []
        px = size / max(maxVal - minVal, 1e-9)
        step = max(1, int(np.ceil(self.MIN_PX / max(px, 1e-9))))   # 1 unless rows are under 7 px
        vals = [i + 0.5 for i in range(0, len(self.names), step) if minVal <= i + 0.5 <= maxVal]
        return [(1.0, vals)]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            i = int(np.floor(v))
            name = self.names[i] if 0 <= i < len(self.names) else ""
            out.append(name if len(name) <= 14 else name[:13] + "…")
        return out


class Note(pg.TextItem):
    """A message over a ViewBox (no data, an error): wrapped to the box's width and centred in it,
    never cut at the sides; ``top`` pixels are left free for a title drawn over the data."""

    def __init__(self, vb: pg.ViewBox, top: float = 0.0, color: str = "#9aa0a6"):
        super().__init__("", color=color, anchor=(0, 0))
        self.vb, self.top = vb, float(top)
        self.setParentItem(vb)
        self.setZValue(200)
        opt = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.textItem.document().setDefaultTextOption(opt)
        self.hide()
        vb.sigResized.connect(self.place)

    def set(self, text: str) -> None:
        if text != self.textItem.toPlainText():
            self.setText(text)
        self.setVisible(bool(text))
        self.place()

    def text(self) -> str:
        return self.textItem.toPlainText() if self.isVisible() else ""

    def place(self, *_):
        if not self.isVisible():
            return
        r = self.vb.rect()
        self.setTextWidth(max(40.0, r.width() - 16.0))
        h = self.textItem.boundingRect().height()
        self.setPos(8.0, max(min(self.top, r.height() - h), (r.height() - h) / 2, 0.0))


class TimePane(pg.PlotItem):
    """A pane whose x axis is time in seconds, following the document's playhead and loop."""

    kind = "pane"
    title_outside = False      # True: a thin strip above the data holds the title (panes whose top rows matter)

    def __init__(self, doc, slot: str = "A", left_axis: pg.AxisItem | None = None, y_mouse: bool = False):
        vb = TimeViewBox()
        axes = {"left": left_axis} if left_axis is not None else None
        super().__init__(viewBox=vb, axisItems=axes)
        self.doc, self.slot = doc, slot
        self.vb = vb
        self.hideButtons()
        self.setClipToView(False)
        left = self.getAxis("left")
        left.setWidth(theme.LEFT_AXIS_WIDTH)
        left.setStyle(tickTextOffset=4, autoExpandTextSpace=False)
        bottom = self.getAxis("bottom")
        bottom.setStyle(tickTextOffset=2)
        bottom.enableAutoSIPrefix(False)      # "Time (s)" stays seconds (no "(x0.001)" on a short clip)
        vb.setMouseEnabled(x=True, y=y_mouse)
        vb.setDefaultPadding(0.0)
        vb.disableAutoRange()
        vb.setMenuEnabled(True)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=True,
                                        pen=pg.mkPen(theme.PLAYHEAD, width=1.5),
                                        hoverPen=pg.mkPen(theme.PLAYHEAD, width=3))
        self.playhead.setZValue(100)
        self.addItem(self.playhead, ignoreBounds=True)
        self.loop_item = pg.LinearRegionItem(brush=pg.mkBrush(*theme.LOOP),
                                             pen=pg.mkPen((120, 170, 255, 160), width=1))
        self.loop_item.setZValue(90)
        self.loop_item.hide()
        self.addItem(self.loop_item, ignoreBounds=True)
        # the pane's title is drawn over the top-left corner of the data (as Sonic Visualiser does),
        # so that no vertical space is spent on title rows
        self.title_html = ""
        self.title_item = QGraphicsTextItem()
        if self.title_outside:
            left, _top, right, bottom = self.layout.getContentsMargins()
            self.layout.setContentsMargins(left, 15, right, bottom)
            self.title_item.setParentItem(self)
            self.title_item.setPos(theme.LEFT_AXIS_WIDTH, -3)
        else:
            self.title_item.setParentItem(vb)
            self.title_item.setPos(2, 0)
        self.title_item.setZValue(150)
        self.title_item.setDefaultTextColor(QColor(theme.FOREGROUND))
        small = QFont()
        small.setPointSizeF(8.0)
        self.title_item.setFont(small)
        self.placeholder = Note(vb, top=0.0 if self.title_outside else 18.0)
        vb.sigResized.connect(self._fit_title)
        vb.sigSeek.connect(doc.request_seek)
        vb.sigRegionSelect.connect(self._region_selected)
        self.playhead.sigDragged.connect(lambda line: doc.request_seek(line.value()))
        self.loop_item.sigRegionChangeFinished.connect(self._loop_dragged)
        doc.playheadChanged.connect(self._playhead)
        doc.loopChanged.connect(self._loop)
        self._playhead(doc.playhead)
        self._loop(doc.loop)

    # ------------------------------------------------------------ helpers
    def setTitle(self, title=None, **_args):
        """Show ``title`` (simple HTML) over the top-left corner of the pane.

        ``title`` may be a list of versions, longest first: the longest that fits the pane's
        width is shown, and the last one wraps onto more lines rather than being cut.
        """
        if not hasattr(self, "title_item"):          # PlotItem.__init__ hides its own title row
            super().setTitle(None)
            return
        titles = [title] if isinstance(title, str) or title is None else list(title)
        self._titles = [t for t in titles if t]
        self.title_html = self._titles[0] if self._titles else ""
        self._fit_title()

    def _fit_title(self, *_):
        titles = getattr(self, "_titles", [])
        item = self.title_item
        item.setTextWidth(-1)
        if not titles:
            item.setHtml("")
            return
        avail = max(40.0, self.vb.width() - 6.0)
        for t in titles:
            item.setHtml(f"<span style='background-color: rgba(18, 19, 22, 200);'>&nbsp;{t}&nbsp;</span>")
            if item.boundingRect().width() <= avail:
                return
        item.setTextWidth(avail)

    def title_fits(self) -> bool:
        """Whether the title shown lies within the pane's width (for tests)."""
        r = self.title_item.mapRectToItem(self.vb, self.title_item.boundingRect())
        return r.right() <= self.vb.width() + 1.0

    def set_placeholder(self, text: str) -> None:
        """Show ``text`` (wrapped, centred) over the pane; "" hides it."""
        self.placeholder.set(text)

    def _playhead(self, t: float) -> None:
        self.playhead.blockSignals(True)
        self.playhead.setValue(t)
        self.playhead.blockSignals(False)

    def _loop(self, region) -> None:
        if region is None:
            self.loop_item.hide()
            return
        self.loop_item.blockSignals(True)
        self.loop_item.setRegion(region)
        self.loop_item.blockSignals(False)
        self.loop_item.show()

    def _loop_dragged(self) -> None:
        self.doc.set_loop(self.loop_item.getRegion())

    def _region_selected(self, t0: float, t1: float, finished: bool) -> None:
        self.doc.set_loop((t0, t1))

    def readout(self, x: float, y: float) -> str:
        """Text describing the point (x s, y) of this pane."""
        return ""

    def fit_rows(self, n_rows: int, row_px: float = 10.0) -> None:
        """Ask the layout for at least ``row_px`` pixels per class row (labels on every row)."""
        bottom = self.getAxis("bottom")
        extra = (15.0 if self.title_outside else 0.0) + (max(bottom.height(), 44.0) if bottom.isVisible() else 4.0)
        self.setMinimumHeight(n_rows * row_px + extra if n_rows else 0.0)

    def set_time_limits(self, duration: float) -> None:
        d = max(duration, 0.05)
        self.vb.setLimits(xMin=0.0, xMax=d, minXRange=min(0.05, d), maxXRange=d)


def pane_pixels(vb) -> int:
    """Screen pixels across a ViewBox (at least 1; 800 before the first layout)."""
    w = int(vb.width())
    return w if w > 0 else 800


def view_key(t0: float, t1: float, n_px: int) -> tuple:
    """What decides the columns drawn: the zoom (span and pixel count), not the position."""
    return (round(t1 - t0, 9), n_px)


def format_time(t: float) -> str:
    """Seconds as m:ss.mmm (h:mm:ss.mmm past an hour)."""
    t = max(0.0, float(t))
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{int(h)}:{int(m):02d}:{s:06.3f}"
    return f"{int(m)}:{s:06.3f}"
