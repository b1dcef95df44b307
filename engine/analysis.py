"""The result of analyzing one recording with one model, and event extraction.

Times are in seconds from the start of the recording. C classes, T_l segments
at scale l, W analysis windows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np


class Event(NamedTuple):
    """A detected (or annotated) event: onset and offset in seconds, label, score in [0, 1]."""

    onset: float
    offset: float
    label: str
    score: float = 1.0


@dataclass
class ScaleAnalysis:
    """One temporal scale: ``times`` (T,) start of each segment in s; ``segment_probs`` (T x C);
    ``attention`` (T,) a_t as the model computes it (None for methods without attention);
    ``hop_s`` the segment length in s."""

    name: str
    hop_s: float
    times: np.ndarray
    segment_probs: np.ndarray
    attention: np.ndarray | None = None

    def to_dict(self, decimals: int = 5) -> dict:
        return {
            "name": self.name,
            "hop_s": self.hop_s,
            "times": np.round(self.times, decimals).tolist(),
            "segment_probs": np.round(self.segment_probs, decimals).tolist(),
            "attention": None if self.attention is None else np.round(self.attention, decimals).tolist(),
        }


def primary_scale_index(meta: dict) -> int | None:
    """Index of the primary scale in a model file's metadata ``scales`` (None: no segment level).

    Files written since the field existed name it (``primary_scale``); for older files the
    rule is the model's: the last backbone stage, which is the scale with the longest hop.
    ``Analysis.scale(None)`` gives the same scale once a clip is analyzed.
    """
    scales = meta.get("scales") or []
    if not scales:
        return None
    if meta.get("primary_scale") is not None:
        return int(meta["primary_scale"])
    hops = [float(s["hop_s"]) for s in scales]
    return hops.index(max(hops))


@dataclass
class Analysis:
    """Clip- and segment-level predictions of one model on one recording.

    clip_macro: (C,) the clip path's probabilities; clip_ensemble: (C,) eq. 9
    (None without ensemble). For recordings longer than one analysis window
    these are the maxima over windows, and ``window_times`` (W,) / ``window_probs``
    (W x C) keep the per-window values (the ensemble's when there is one).
    log_mel: (n_mels x frames) unstandardized features when asked for, frames
    ``frame_hop_s`` apart.
    """

    classes: list[str]
    duration: float
    clip_macro: np.ndarray
    clip_ensemble: np.ndarray | None
    scales: list[ScaleAnalysis]
    thresholds: np.ndarray
    method: str = ""
    source: str | None = None
    primary_scale: int | None = None
    window_s: float = 0.0
    window_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    window_probs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    log_mel: np.ndarray | None = None
    frame_hop_s: float = 0.0

    @property
    def clip_probs(self) -> np.ndarray:
        """The final clip-level probabilities: the ensemble where there is one."""
        return self.clip_ensemble if self.clip_ensemble is not None else self.clip_macro

    @property
    def has_segment_level(self) -> bool:
        return bool(self.scales)

    def tags(self, thresholds: Sequence[float] | None = None) -> list[str]:
        """Class names whose clip probability reaches its threshold."""
        thr = self._thresholds(thresholds)
        return [c for c, p, t in zip(self.classes, self.clip_probs, thr) if p >= t]

    def _thresholds(self, thresholds) -> np.ndarray:
        if thresholds is None:
            return np.asarray(self.thresholds, np.float32)
        thr = np.broadcast_to(np.asarray(thresholds, np.float32), (len(self.classes),))
        return thr

    def scale(self, which: int | str | None = None) -> ScaleAnalysis:
        """A scale by index or name; None gives the primary one (the last backbone stage, 0.18 s)."""
        if not self.scales:
            raise ValueError(f"{self.method or 'this model'} has no segment level")
        if which is None:
            return self.scales[self.primary_scale or 0]
        if isinstance(which, str):
            for s in self.scales:
                if s.name == which:
                    return s
            raise ValueError(f"no scale named {which!r}; scales: {[s.name for s in self.scales]}")
        return self.scales[which]

    def events(self, thresholds: Sequence[float] | float | None = None, *, scale: int | str | None = None,
               segment_threshold: Sequence[float] | float = 0.5, median_s: float = 0.0,
               min_duration_s: float = 0.0, min_gap_s: float = 0.0, gate_with_clip: bool = True) -> list[Event]:
        """Events as (onset s, offset s, label, score), sorted by onset.

        Tagging gates detection, as in DCASE systems: with ``gate_with_clip`` a
        class is only detected inside windows whose clip-level probability
        reaches its tagging threshold (``thresholds``: one value, one per class,
        or None for the model's tuned class thresholds). Inside, a class is
        active in the segments whose probability reaches ``segment_threshold``
        (one value or one per class). ``median_s``: median filter length over
        time; gaps shorter than ``min_gap_s`` are bridged; events shorter than
        ``min_duration_s`` are dropped. The score is the event's peak segment
        probability. Models without a segment level give one event per window
        and tagged class, spanning the window.
        """
        thr = self._thresholds(thresholds)
        if not self.scales:
            return self._window_events(thr)
        seg_thr = np.broadcast_to(np.asarray(segment_threshold, np.float32), (len(self.classes),))
        sc = self.scale(scale)
        probs = sc.segment_probs
        if median_s > 0:
            from scipy.ndimage import median_filter

            size = max(1, int(round(median_s / sc.hop_s)))
            size += 1 - size % 2
            if size > 1:
                probs = median_filter(probs, size=(size, 1), mode="nearest")
        active = probs >= seg_thr[None, :]
        if gate_with_clip:
            active &= self._window_gate(sc.times, thr)
        if min_gap_s > 0:
            active = _bridge_gaps(active, int(round(min_gap_s / sc.hop_s)))
        edges = np.diff(np.pad(active.astype(np.int8), ((1, 1), (0, 0))), axis=0)
        on_t, on_c = np.nonzero(edges == 1)
        off_t, off_c = np.nonzero(edges == -1)
        # nonzero is row-major; sort both by (class, time) so onsets pair with offsets
        on = np.lexsort((on_t, on_c))
        off = np.lexsort((off_t, off_c))
        on_t, on_c, off_t = on_t[on], on_c[on], off_t[off]
        events = []
        for t0, t1, c in zip(on_t, off_t, on_c):
            onset = float(sc.times[t0])
            offset = float(min(sc.times[t1 - 1] + sc.hop_s, self.duration))
            if offset - onset < min_duration_s:
                continue
            events.append(Event(round(onset, 4), round(offset, 4), self.classes[c],
                                round(float(probs[t0:t1, c].max()), 4)))
        events.sort(key=lambda e: (e.onset, e.label))
        return events

    def _window_gate(self, times: np.ndarray, thr: np.ndarray) -> np.ndarray:
        """T x C: whether the window holding each segment is tagged with each class."""
        if len(self.window_times) <= 1:
            return (self.clip_probs >= thr)[None, :]
        idx = np.clip(np.searchsorted(self.window_times, times, side="right") - 1, 0, len(self.window_times) - 1)
        return self.window_probs[idx] >= thr[None, :]

    def _window_events(self, thr: np.ndarray) -> list[Event]:
        starts = self.window_times if len(self.window_times) else np.zeros(1)
        probs = self.window_probs if len(self.window_probs) else self.clip_probs[None, :]
        events = []
        for i, (start, row) in enumerate(zip(starts, probs)):
            end = starts[i + 1] if i + 1 < len(starts) else self.duration
            for c in np.nonzero(row >= thr)[0]:
                events.append(Event(round(float(start), 4), round(float(end), 4), self.classes[c],
                                    round(float(row[c]), 4)))
        return events

    def to_dict(self, events: list[Event] | None = None, decimals: int = 5) -> dict:
        """The JSON form of ``mmnet predict --format json``."""
        ev = self.events() if events is None else events
        return {
            "file": self.source,
            "method": self.method,
            "duration": round(self.duration, 4),
            "classes": list(self.classes),
            "thresholds": np.round(self.thresholds, decimals).tolist(),
            "clip": {
                "macro": np.round(self.clip_macro, decimals).tolist(),
                "ensemble": None if self.clip_ensemble is None else np.round(self.clip_ensemble, decimals).tolist(),
            },
            "windows": {
                "window_s": self.window_s,
                "times": np.round(self.window_times, decimals).tolist(),
                "probs": np.round(self.window_probs, decimals).tolist(),
            },
            "scales": [s.to_dict(decimals) for s in self.scales],
            "events": [e._asdict() for e in ev],
        }


def _bridge_gaps(active: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill inactive runs of at most ``max_gap`` segments lying between two active ones (T x C)."""
    if max_gap <= 0:
        return active
    from scipy.ndimage import binary_closing

    out = binary_closing(active, structure=np.ones((max_gap + 1, 1), bool), border_value=0)
    # closing must not extend events at the borders
    return out | active


def events_to_tsv(rows: list[tuple[str, Event]]) -> str:
    """DCASE TSV (header ``filename onset offset event_label``) of (filename, event) pairs."""
    lines = ["filename\tonset\toffset\tevent_label"]
    for name, e in rows:
        lines.append(f"{name}\t{e.onset:.3f}\t{e.offset:.3f}\t{e.label}")
    return "\n".join(lines) + "\n"
