"""Where the user is in the current clip: the playhead, the loop region and the visible time range
(all in seconds). ``duration`` is asked of the workspace (a callable), which knows the clip."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

MIN_SPAN_S = 0.05     # the narrowest view (50 ms)


class Timeline(QObject):
    playheadChanged = Signal(float)
    seekRequested = Signal(float)
    loopChanged = Signal(object)                      # (start, end) or None
    viewRangeChanged = Signal(float, float, object)   # t0, t1, the object that set it

    def __init__(self, duration: Callable[[], float], parent=None):
        super().__init__(parent)
        self.duration = duration
        self.playhead = 0.0
        self.loop: tuple[float, float] | None = None
        self.view_range: tuple[float, float] | None = None

    def reset(self, announce: bool = True) -> None:
        """A new clip: playhead at 0, no loop, no view range (set once the duration is known).
        ``announce=False`` only clears (views learn of the new clip first, then of this)."""
        self.playhead = 0.0
        self.loop = None
        self.view_range = None
        if announce:
            self.loopChanged.emit(None)
            self.playheadChanged.emit(0.0)

    def set_playhead(self, t: float) -> None:
        """The playhead moved (from the player's stream clock, or a seek without audio)."""
        self.playhead = max(0.0, float(t))
        self.playheadChanged.emit(self.playhead)

    def request_seek(self, t: float) -> None:
        """A view asks to move the playhead to ``t`` seconds (click or drag)."""
        d = self.duration()
        t = max(0.0, min(float(t), d if d > 0 else float(t)))
        self.set_playhead(t)
        self.seekRequested.emit(t)

    def set_loop(self, region) -> None:
        if region is not None:
            a, b = sorted((float(region[0]), float(region[1])))
            d = self.duration()
            a, b = max(0.0, a), (min(b, d) if d > 0 else b)
            region = (a, b) if b - a > 1e-3 else None
        if region != self.loop:
            self.loop = region
            self.loopChanged.emit(region)

    def set_view_range(self, t0: float, t1: float, source=None) -> None:
        if t1 <= t0:
            return
        rng = (float(t0), float(t1))
        if rng == self.view_range:
            return
        self.view_range = rng
        self.viewRangeChanged.emit(rng[0], rng[1], source)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Scale the visible span by ``factor`` around ``center`` (default: the middle)."""
        if self.view_range is None:
            return
        t0, t1 = self.view_range
        c = (t0 + t1) / 2 if center is None else center
        d = max(self.duration(), 1e-3)
        span = min(max((t1 - t0) * factor, MIN_SPAN_S), d)
        a = max(0.0, min(c - (c - t0) * span / (t1 - t0), d - span))
        self.set_view_range(a, a + span, None)

    def pan(self, fraction: float) -> None:
        """Shift the view by ``fraction`` of its span (negative: left)."""
        if self.view_range is None:
            return
        t0, t1 = self.view_range
        d = max(self.duration(), 1e-3)
        a = max(0.0, min(t0 + (t1 - t0) * fraction, d - (t1 - t0)))
        self.set_view_range(a, a + (t1 - t0), None)

    def fit(self) -> None:
        d = self.duration()
        if d > 0:
            self.set_view_range(0.0, d, None)

    def zoom_centre(self) -> float | None:
        """The playhead when it is in view (keyboard zoom keeps it in place), else None."""
        if self.view_range and self.view_range[0] <= self.playhead <= self.view_range[1]:
            return self.playhead
        return None
