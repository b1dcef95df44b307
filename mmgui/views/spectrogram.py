"""The mel-spectrogram pane: time in seconds, mel bands labelled in Hz, fixed colour levels.

Only the visible part is drawn, from the clip's :class:`SpectrogramPyramid`: at
most one image column per screen pixel, each the maximum of the frames under it, so
that a click of one frame stays visible at any zoom and any pane width.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from .. import theme
from .base import MelAxis, TimePane, format_time, pane_pixels, view_key


class SpectrogramPane(TimePane):
    kind = "spectrogram"

    def __init__(self, doc, slot: str = "A", title: bool = True):
        self.mel_axis = MelAxis()
        super().__init__(doc, slot, left_axis=self.mel_axis, y_mouse=True)
        self.setLabel("left", "Frequency", units="Hz")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("left").setLabel("Hz")
        self.setLabel("bottom", "Time (s)")
        if title:
            self.setTitle("Log-mel spectrogram")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(False)
        self.addItem(self.image)
        self.image.setZValue(-10)
        self._shown = None          # (path, level, start, end, frames)
        self._key = None            # view_key() of what is drawn
        self._binned = False
        self._configured = None     # the entry the axes were set up for
        self._path = None
        self.n_mels = 128
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.vb.sigXRangeChanged.connect(lambda *_: self.refresh())
        self.vb.sigResized.connect(lambda *_: self.refresh())
        doc.spectrogramChanged.connect(self._changed)
        doc.currentClipChanged.connect(self._clip_changed)
        doc.specLevelsChanged.connect(self._levels_changed)
        self._clip_changed(doc.current.path if doc.current else "")

    def _clip_changed(self, path: str) -> None:
        self._path = path or None
        self._clear()
        entry = self.doc.spectrogram(path) if path else None
        if entry is None:
            self.set_placeholder("" if path else "Open an audio file (File ▸ Open, or drop it here)")
            return
        if entry.error:
            self.set_placeholder(f"Cannot read this file:\n{entry.error}")
            return
        self._setup(entry)
        self.refresh()

    def _levels_changed(self, lo: float, hi: float) -> None:
        self.image.setLevels((lo, hi))

    def _clear(self) -> None:
        """Forget the picture drawn (another clip's, or one that failed)."""
        self.image.clear()
        self._shown = self._key = None

    def _setup(self, entry) -> None:
        if entry.pyramid is None or self._configured is entry:
            return
        self._configured = entry
        self.n_mels = entry.pyramid.n_mels
        if len(entry.mel_hz):
            self.mel_axis.set_frequencies(entry.mel_hz)
        self.vb.setLimits(yMin=0, yMax=self.n_mels, minYRange=4)
        self.vb.setYRange(0, self.n_mels, padding=0)
        if entry.duration:
            self.set_time_limits(entry.duration)
        if self.doc.spec_levels is not None:
            self.image.setLevels(self.doc.spec_levels)

    def _changed(self, path: str) -> None:
        if path != self._path:
            return
        entry = self.doc.spectrogram(path)
        if entry is None:
            return
        if entry.error:
            self._clear()
            self.set_placeholder(f"Cannot read this file:\n{entry.error}")
            return
        if self._shown is None:
            self._setup(entry)
        self._timer.start()   # coalesce bursts of progress into one redraw

    def refresh(self) -> None:
        entry = self.doc.spectrogram(self._path) if self._path else None
        if entry is None or entry.error:
            if self._shown is not None:
                self._clear()
            return
        pyr = entry.pyramid
        self._setup(entry)
        if pyr is None or not pyr.frames:
            self.set_placeholder("Computing spectrogram…")
            return
        self.set_placeholder("")
        (t0, t1), _ = self.vb.viewRange()
        n_px = pane_pixels(self.vb)
        key = view_key(t0, t1, n_px)
        if self._shown is not None:
            path, _lv, s, e, frames = self._shown
            if (path == self._path and self._key == key and s <= max(t0, 0) and
                    (e >= t1 or e >= pyr.duration - 1e-9) and frames == pyr.frames):
                return
        sel = pyr.columns(t0, t1, n_px)
        if sel is None:
            return
        img, start, end, level, dt = sel
        levels = self.doc.spec_levels or (0.0, float(img.max() or 1.0))
        self.image.setImage(img, autoLevels=False, levels=levels)
        self.image.setRect(start, 0.0, end - start, float(self.n_mels))
        self._shown = (self._path, level, start, end, pyr.frames)
        self._key = key
        self._binned = dt > 0          # each column the max of several frames

    def readout(self, x: float, y: float) -> str:
        if self._shown is None or not (0 <= y <= self.n_mels):
            return f"t {format_time(x)}"
        _, level, start, end, _ = self._shown
        img = self.image.image
        hz = self.mel_axis.row_to_hz(y)
        text = f"t {format_time(x)}   f {hz:,.0f} Hz (mel band {int(y)})"
        if img is not None and img.shape[1]:
            col = int((x - start) / (end - start) * img.shape[1])
            row = int(y)
            if 0 <= col < img.shape[1] and 0 <= row < img.shape[0]:
                text += f"   log-mel {img[row, col]:.2f}" + (" (max of zoomed-out column)" if self._binned else "")
        return text


def make_colorbar(images, levels=(0.0, 10.0), cmap: str = theme.SPECTROGRAM_CMAP, label: str = "") -> pg.ColorBarItem:
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, width=12, interactive=True, rounding=0.1,
                          label=label or None)
    bar.setImageItem(images)
    return bar


def image_rect(item: pg.ImageItem) -> tuple[float, float, float, float]:
    """(x, y, w, h) that an ImageItem occupies in its view, for tests and exports."""
    r = item.mapRectToParent(item.boundingRect())
    return r.x(), r.y(), r.width(), r.height()


__all__ = ["SpectrogramPane", "make_colorbar", "image_rect", "np"]
