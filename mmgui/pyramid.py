"""A multi-resolution cache of a spectrogram for display.

Level 0 holds every frame (n_mels x frames, float32); level k holds columns
that each summarize ``factor ** k`` frames by their maximum, so that transient
events stay visible at any zoom. Views ask for the columns covering a time
range at no more than about ``max_cols`` columns and draw only those: the cost
of a pan or a zoom depends on the width of the window, not on the length of the
recording.

The cache is filled block by block by a worker thread (:meth:`append`) while
the GUI thread reads (:meth:`select`); a lock keeps each read consistent.
Memory: ``4 * n_mels * frames * factor / (factor - 1)`` bytes, 220 MB for an hour
at 128 bands and 11.16 ms frames.
"""
from __future__ import annotations

import threading

import numpy as np


class SpectrogramPyramid:
    """Spectrogram (n_mels x frames) with max-decimated levels, filled progressively.

    hop_s: seconds between frames; capacity: expected number of frames (it grows if exceeded).
    """

    def __init__(self, n_mels: int, hop_s: float, capacity: int = 1024, factor: int = 4, top_cols: int = 1024):
        self.n_mels = int(n_mels)
        self.hop_s = float(hop_s)
        self.factor = int(factor)
        self.top_cols = int(top_cols)
        self._lock = threading.Lock()
        self._levels: list[np.ndarray] = []
        self._counts: list[int] = []
        self.finished = False
        self._alloc(max(1, int(capacity)))

    # ----------------------------------------------------------------- filling
    def _alloc(self, capacity: int) -> None:
        """(Re)allocate every level for ``capacity`` frames, keeping the frames already there."""
        sizes, cap = [], capacity
        while True:
            sizes.append(cap)
            if cap <= self.top_cols:
                break
            cap = -(-cap // self.factor)
        n0 = self._counts[0] if self._counts else 0
        old0 = self._levels[0] if self._levels else None
        self._levels = [np.zeros((self.n_mels, c), np.float32) for c in sizes]
        self._counts = [0] * len(sizes)
        if old0 is not None and n0:
            self._levels[0][:, :n0] = old0[:, :n0]
            self._counts[0] = n0
            self._reduce(final=self.finished)

    def append(self, frames: np.ndarray) -> None:
        """Add frames (n_mels x k) at the end."""
        frames = np.asarray(frames, np.float32)
        if frames.ndim != 2 or frames.shape[0] != self.n_mels:
            raise ValueError(f"expected {self.n_mels} x k frames, got {frames.shape}")
        k = frames.shape[1]
        if not k:
            return
        with self._lock:
            n0 = self._counts[0]
            if n0 + k > self._levels[0].shape[1]:
                self._alloc(max(n0 + k, int(self._levels[0].shape[1] * 1.5)))
            self._levels[0][:, n0:n0 + k] = frames
            self._counts[0] = n0 + k
            self._reduce(final=False)

    def finish(self) -> None:
        """No more frames: summarize the last partial columns of every level."""
        with self._lock:
            self.finished = True
            self._reduce(final=True)

    def _reduce(self, final: bool) -> None:
        f = self.factor
        for k in range(1, len(self._levels)):
            src, n_src = self._levels[k - 1], self._counts[k - 1]
            done = self._counts[k]
            full = n_src // f
            if full > done:
                block = src[:, done * f:full * f].reshape(self.n_mels, full - done, f)
                self._levels[k][:, done:full] = block.max(axis=2)
                done = full
            if final and n_src > done * f and done < self._levels[k].shape[1]:
                self._levels[k][:, done] = src[:, done * f:n_src].max(axis=1)
                done += 1
            self._counts[k] = done

    # ----------------------------------------------------------------- reading
    @property
    def frames(self) -> int:
        """Frames available at full resolution."""
        return self._counts[0]

    @property
    def n_levels(self) -> int:
        return len(self._levels)

    @property
    def duration(self) -> float:
        """Seconds covered by the frames available so far."""
        return self.frames * self.hop_s

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._levels)

    def full(self) -> np.ndarray:
        """The full-resolution frames available so far (a view, n_mels x frames)."""
        return self._levels[0][:, :self._counts[0]]

    def level_for(self, t0: float, t1: float, max_cols: int) -> int:
        """The finest level showing [t0, t1] in at most ``max_cols`` columns."""
        span = max(t1 - t0, self.hop_s) / self.hop_s
        k = 0
        while k + 1 < len(self._levels) and span / self.factor ** k > max_cols:
            k += 1
        return k

    def select(self, t0: float, t1: float, max_cols: int = 2048, margin: float = 0.25):
        """Columns covering [t0, t1] (plus ``margin`` of the span on each side).

        Returns (image n_mels x cols C-contiguous float32, start s, end s, level), or
        None when nothing is available there yet.
        """
        with self._lock:
            span = max(t1 - t0, self.hop_s)
            t0, t1 = t0 - margin * span, t1 + margin * span
            k = self.level_for(t0, t1, max_cols)
            col_s = self.hop_s * self.factor ** k
            n = self._counts[k]
            a = max(0, int(np.floor(t0 / col_s)))
            b = min(n, int(np.ceil(t1 / col_s)) + 1)
            if b <= a:
                return None
            img = np.ascontiguousarray(self._levels[k][:, a:b])
        # frames are centred on t = i * hop; column i covers [i * col_s, (i + 1) * col_s)
        return img, a * col_s, b * col_s, k

    def columns(self, t0: float, t1: float, n_px: int, margin: float = 0.25, slack: float = 1.02):
        """The image to draw [t0, t1] on ``n_px`` screen columns without losing any frame.

        When the span holds at most ``n_px`` frames, the frames themselves (level 0; each
        drawn over one pixel or more). Otherwise one column per ``dt = span / n_px * slack``
        seconds (a little over one pixel, so that scaling the image to the screen never
        skips a column), each the maximum of the frames whose centres fall in it (taken
        from the coarsest level whose columns are at most ``dt / factor`` wide, so that a
        frame lands at most an eighth of a column from its place). Bins sit on a grid
        of multiples of ``dt``, so panning at one zoom does not change them.

        Returns (image n_mels x cols C-contiguous float32, start s, end s, level, dt s),
        ``dt`` = 0 for the frames themselves; or None when nothing is available there yet.
        """
        n_px = max(1, int(n_px))
        span = max(t1 - t0, self.hop_s)
        if span / self.hop_s <= n_px:
            # level 0 for the margins too: at most (1 + 2 * margin) * n_px frames
            sel = self.select(t0, t1, max_cols=int(np.ceil(n_px * (1 + 2 * margin))) + 1, margin=margin)
            return None if sel is None else (*sel, 0.0)
        dt = span / n_px * slack
        with self._lock:
            k = 0
            while k + 1 < len(self._levels) and self.hop_s * self.factor ** (k + 2) <= dt:
                k += 1
            col_s = self.hop_s * self.factor ** k
            n = self._counts[k]
            first = max(0, int(np.floor((t0 - margin * span) / dt)))
            last = int(np.ceil((t1 + margin * span) / dt))        # bins [first, last)
            ca = max(0, int(np.floor(first * dt / col_s)))
            cb = min(n, int(np.ceil(last * dt / col_s)) + 1)
            if cb <= ca:
                return None
            src = self._levels[k][:, ca:cb]
            bins = np.floor(((np.arange(ca, cb) + 0.5) * col_s) / dt).astype(np.int64)
            keep = (bins >= first) & (bins < last)
            if not keep.any():
                return None
            lo = int(np.argmax(keep))
            hi = len(keep) - int(np.argmax(keep[::-1]))
            src, bins = src[:, lo:hi], bins[lo:hi] - first
            starts = np.flatnonzero(np.r_[True, np.diff(bins) > 0])
            reduced = np.maximum.reduceat(src, starts, axis=1)
        nb = int(bins[-1]) + 1
        have = np.full(nb, -1, np.int64)
        have[bins[starts]] = np.arange(len(starts))
        have = np.maximum.accumulate(have)       # a bin without a column (rounding) repeats its left neighbour
        img = np.ascontiguousarray(reduced[:, have], dtype=np.float32)
        return img, first * dt, (first + nb) * dt, k, dt
