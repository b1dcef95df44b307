"""The common event record of every label format, and the typed result of an import.

Times are seconds from the start of the clip; frequencies are Hz. Fields a format
cannot carry stay None on import (see docs/formats.md for which format carries what).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Event:
    """One labelled region.

    onset, offset: seconds (None for both on a weak, clip-level label); label: class name;
    low_hz, high_hz: optional frequency range; score: optional confidence in [0, 1];
    source: who made it (an annotator, a model file name); clip: the audio file it belongs
    to (a file name or a path relative to the dataset folder); extra: format-specific columns
    kept for a faithful round trip (Raven's Selection/View/Channel and measurements,
    Sonic Visualiser's region value), as text.
    """

    onset: float | None
    offset: float | None
    label: str
    low_hz: float | None = None
    high_hz: float | None = None
    score: float | None = None
    source: str | None = None
    clip: str | None = None
    extra: dict = field(default_factory=dict, hash=False)

    @property
    def is_weak(self) -> bool:
        return self.onset is None

    @property
    def duration(self) -> float | None:
        return None if self.onset is None or self.offset is None else self.offset - self.onset

    @property
    def has_frequency(self) -> bool:
        return self.low_hz is not None or self.high_hz is not None

    def with_(self, **changes) -> "Event":
        """A copy with some fields changed (dataclasses.replace)."""
        return replace(self, **changes)

    def as_tuple(self) -> tuple[str, float, float, str]:
        """``(clip, onset, offset, label)``: the event tuples of :mod:`engine.metrics`."""
        return (self.clip or "", float(self.onset), float(self.offset), self.label)


@dataclass(frozen=True)
class Problem:
    """A line of an imported file that was left out: 1-based line number and the reason."""

    line: int
    reason: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.path else f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    """What an import gave: the events read, the lines left out, and the format used."""

    events: list[Event]
    problems: list[Problem]
    format: str
    path: str = ""
    clips: list[str] = field(default_factory=list)  # clips listed without events (DCASE empty rows)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: how many events were read and how many lines were left out."""
        text = f"{len(self.events)} events read from {self.path or 'the file'} ({self.format})"
        if self.problems:
            text += f"; {len(self.problems)} bad lines left out, first: {self.problems[0]}"
        return text


def select_events(events: Iterable[Event], *, labels: Sequence[str] | None = None,
                  clips: Sequence[str] | None = None, sources: Sequence[str] | None = None,
                  min_score: float | None = None, indices: Sequence[int] | None = None) -> list[Event]:
    """The events matching every given criterion (all of them when none is given).

    indices: positions in ``events`` (a GUI selection); min_score: events without a score pass.
    """
    events = list(events)
    if indices is not None:
        events = [events[i] for i in indices]
    out = []
    for e in events:
        if labels is not None and e.label not in labels:
            continue
        if clips is not None and e.clip not in clips and (e.clip is None or Path(e.clip).name not in clips):
            continue
        if sources is not None and e.source not in sources:
            continue
        if min_score is not None and e.score is not None and e.score < min_score:
            continue
        out.append(e)
    return out


def fmt_number(value: float) -> str:
    """A time or frequency as text, exactly: the shortest decimal that reads back as the
    same float, never in exponent notation (``1.5``, ``2.0``, ``0.00001``)."""
    import numpy as np

    return np.format_float_positional(float(value), trim="0")


def parse_number(text: str, what: str, *, allow_negative: bool = False) -> float:
    """A finite number from a field, or ValueError naming ``what`` (the caller adds the line)."""
    t = text.strip()
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"{what} {t!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{what} {t!r} is not finite")
    if v < 0 and not allow_negative:
        raise ValueError(f"{what} {t!r} is negative")
    return v


def check_times(onset: float, offset: float) -> None:
    if offset < onset:
        raise ValueError(f"offset {fmt_number(offset)} is before onset {fmt_number(onset)}")


def check_writable(text: str, forbidden: str, what: str) -> None:
    """ValueError when a label or name holds a character the format uses as a separator."""
    bad = [c for c in forbidden if c in text]
    if bad:
        names = {"\t": "tab", "\n": "line break", "\r": "carriage return", ",": "comma"}
        raise ValueError(f"{what} {text!r} cannot be written in this format "
                         f"(it holds a {names.get(bad[0], repr(bad[0]))})")
