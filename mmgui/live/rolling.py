"""Rolling panes of the Live tab: spectrogram, d_t of one scale, attention of every scale.

All three share one time axis, in seconds before the newest audio (0 = now, fixed: the
items move, the axes are not re-ticked every frame). The
spectrogram and the d_t heatmap are :class:`RollingImage` buffers: new columns shift the
buffer left and fill its right end (nothing is recomputed; the spectrogram's columns are the
log-mel frames the analyzer computes anyway, ``StreamAnalyzer(on_frames=...)``). The
attention curves keep the last ``span_s`` seconds of every scale's newest a_t, drawn as a
density (a_t / segment length, 1/s) so that scales of different segment lengths compare.
"""
from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from .. import theme
from ..views.base import ClassAxis, MelAxis


class RollingImage:
    """rows x n columns; ``push(cols)`` shifts the buffer left by k = cols.shape[1] and writes the
    new columns at its right end. ``end`` counts columns pushed since the start (absolute)."""

    def __init__(self, rows: int, n: int, fill: float = 0.0):
        self.data = np.full((int(rows), int(n)), fill, np.float32)
        self.fill = fill
        self.end = 0

    def push(self, cols: np.ndarray) -> None:
        k = cols.shape[1]
        if not k:
            return
        n = self.data.shape[1]
        if k >= n:
            self.data[:] = cols[:, -n:]
        else:
            self.data[:, :-k] = self.data[:, k:]     # numpy copies overlapping slices correctly
            self.data[:, -k:] = cols
        self.end += k

    def skip_to(self, end: int) -> None:
        """Columns [self.end, end) never arrived (dropped): push blanks for them."""
        gap = min(int(end) - self.end, self.data.shape[1])
        if gap > 0:
            self.push(np.full((self.data.shape[0], gap), self.fill, np.float32))
            self.end = int(end)


class LivePanes(pg.GraphicsLayoutWidget):
    """The three x-linked panes. ``set_info`` configures them for a session; ``add_frames`` /
    ``add_hop`` take data; ``draw(t_end)`` (from the view's frame timer) scrolls and repaints."""

    def __init__(self, span_s: float = 10.0, parent=None):
        super().__init__(parent)
        self.span_s = span_s
        self.mel_axis = MelAxis()
        self.spec = self.addPlot(row=0, col=0, axisItems={"left": self.mel_axis})
        self.spec.setTitle("Live log-mel spectrogram")
        self.spec_img = pg.ImageItem(axisOrder="row-major")
        self.spec.addItem(self.spec_img)
        self.class_axis = ClassAxis()
        self.dt = self.addPlot(row=1, col=0, axisItems={"left": self.class_axis})
        self.dt_img = pg.ImageItem(axisOrder="row-major")
        self.dt_img.setLookupTable(pg.colormap.get(theme.HEATMAP_CMAP).getLookupTable(nPts=256))
        self.dt_img.setLevels((0.0, 1.0))
        self.dt.addItem(self.dt_img)
        self.att = self.addPlot(row=2, col=0)
        self.att.setLabel("left", "a_t (1/s)")
        self.att.setLabel("bottom", "Time (s, 0 = the newest audio)")
        self.att.addLegend(offset=(-10, 5), colCount=5)
        for p in (self.spec, self.dt, self.att):
            p.getAxis("left").setWidth(theme.LEFT_AXIS_WIDTH)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
        self.dt.setXLink(self.spec)
        self.att.setXLink(self.spec)
        self.spec.setXRange(-span_s, 0.0, padding=0.0)
        self.t_end = 0.0
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.ci.layout.setRowStretchFactor(2, 1)
        self.spec_img.setLookupTable(pg.colormap.get(theme.SPECTROGRAM_CMAP).getLookupTable(nPts=256))
        self.spec_buf: RollingImage | None = None
        self.dt_buf: RollingImage | None = None
        self.frame_hop_s = 0.0
        self.dt_scale = 0
        self.dt_hop_s = 0.0
        self.curves: list[pg.PlotDataItem] = []
        self._att: list[deque] = []
        self._dirty = set()
        self._levels_due = 0
        self._levels: tuple[float, float] | None = None
        self.columns_drawn = 0     # spectrogram columns pushed (for tests and readouts)
        self.frames_drawn = 0      # repaints that moved the view

    # ---------------------------------------------------------- configuration
    def set_info(self, info) -> None:
        """Set up for a session (:class:`mmgui.live.session.SessionInfo`)."""
        self.frame_hop_s = info.frame_hop_s
        n = int(np.ceil(self.span_s / info.frame_hop_s))
        self.spec_buf = RollingImage(len(info.mel_hz), n, fill=np.nan)
        self.mel_axis.set_frequencies(info.mel_hz)
        self.class_axis.set_names(list(info.classes))
        self.classes = list(info.classes)
        self.dt_buf = None
        for c in self.curves:
            self.att.removeItem(c)
        self.curves, self._att = [], []
        self.att.legend.clear()
        self._levels_due = 0
        self._levels = None
        self.spec_img.clear()
        self.dt_img.clear()

    def _setup_scales(self, scales) -> None:
        """First hop: one attention curve per scale; d_t of the coarsest scale (the M&mnet primary)."""
        self.dt_scale = int(np.argmax([s.hop_s for s in scales])) if scales else 0
        for k, s in enumerate(scales):
            curve = self.att.plot(pen=pg.mkPen(theme.SCALE_COLOURS[k % len(theme.SCALE_COLOURS)], width=1.5),
                                  name=f"{s.name} ({1000 * s.hop_s:.0f} ms)")
            self.curves.append(curve)
            self._att.append(deque())
        self.set_dt_scale(self.dt_scale, scales)

    def set_dt_scale(self, index: int, scales=None) -> None:
        """Show the d_t of scale ``index`` (the buffer restarts)."""
        self.dt_scale = index
        hop = scales[index].hop_s if scales else self.dt_hop_s
        self.dt_hop_s = hop
        self.dt_buf = RollingImage(len(self.classes), int(np.ceil(self.span_s / hop)), fill=np.nan)
        self.dt.setTitle(f"d_t, scale {scales[index].name if scales else index} ({1000 * hop:.0f} ms)")

    # ---------------------------------------------------------- data
    def add_frames(self, frames: np.ndarray, frame_end: int) -> None:
        if self.spec_buf is None:
            return
        self.spec_buf.skip_to(frame_end - frames.shape[1])
        self.spec_buf.push(frames)
        self.columns_drawn += frames.shape[1]
        self._dirty.add("spec")

    def add_hop(self, hop) -> None:
        if self.spec_buf is None or not hop.scales:
            return
        if not self.curves:
            self._setup_scales(hop.scales)
        s = hop.scales[min(self.dt_scale, len(hop.scales) - 1)]
        if self.dt_buf is not None and len(s.times):
            self.dt_buf.skip_to(int(round(s.times[0] / s.hop_s)))
            self.dt_buf.push(np.asarray(s.segment_probs, np.float32).T)
            self._dirty.add("dt")
        for k, sc in enumerate(hop.scales[:len(self._att)]):
            if sc.attention is not None and len(sc.times):
                q = self._att[k]
                q.append((sc.times + 0.5 * sc.hop_s, np.asarray(sc.attention) / sc.hop_s))
                while q and q[0][0][-1] < hop.window_end - self.span_s - 1.0:
                    q.popleft()
                self._dirty.add(("att", k))

    # ---------------------------------------------------------- drawing
    def draw(self, t_end: float) -> bool:
        """Move the items so that stream time ``t_end`` is at 0 and redraw what changed; True when
        anything did."""
        if self.spec_buf is None or not self._dirty:
            return False
        fh = self.frame_hop_s
        if "spec" in self._dirty:
            buf = self.spec_buf
            n = buf.data.shape[1]
            if self._levels_due <= 0 or self._levels is None:
                finite = buf.data[np.isfinite(buf.data)]
                if finite.size:
                    lo, hi = np.percentile(finite, [2.0, 99.9])
                    self._levels = (float(lo), float(max(hi, lo + 1e-3)))
                    self._levels_due = 30
            self._levels_due -= 1
            # never an image without levels: pyqtgraph then raises inside paint(), and an exception
            # in a paint override corrupted PySide6 6.11.3's reference counts (crashes seen here)
            if self._levels is not None:
                self.spec_img.setImage(np.nan_to_num(buf.data, nan=self._levels[0]), autoLevels=False,
                                       levels=self._levels)
                self.spec_img.setRect(QRectF((buf.end - n) * fh - t_end, 0.0, n * fh, buf.data.shape[0]))
        if self.dt_buf is not None:
            b = self.dt_buf
            if "dt" in self._dirty:
                self.dt_img.setImage(np.nan_to_num(b.data, nan=0.0), autoLevels=False, levels=(0.0, 1.0))
            n = b.data.shape[1]
            self.dt_img.setRect(QRectF((b.end - n) * self.dt_hop_s - t_end, 0.0, n * self.dt_hop_s, b.data.shape[0]))
        for k, curve in enumerate(self.curves):
            if self._att[k] and (("att", k) in self._dirty or t_end != self.t_end):
                # new x data rather than moving the item: setPos on curves every frame crashed
                # PySide6 6.11 / pyqtgraph 0.14 (a freed method object in the paint override lookup)
                curve.setData(np.concatenate([t for t, _ in self._att[k]]) - t_end,
                              np.concatenate([a for _, a in self._att[k]]))
        self._dirty.clear()
        self.t_end = t_end
        self.frames_drawn += 1
        return True
