"""Audacity label tracks (File > Export > Labels; File > Import > Labels).

A label is ``start<TAB>end<TAB>text`` in seconds (start == end for a point label). A label
made on a spectrogram with a spectral selection is followed by its frequency line
``\\<TAB>low<TAB>high`` in Hz, where -1 stands for an undefined edge. Only labels with a
frequency range get the line, so one file can mix both kinds. Carries onset, offset, label,
low_hz, high_hz; one clip per file.

Written here rather than through crowsetta 5.1.2 (checked: see engine/labels/__init__.py):
crowsetta's ``aud-bbox`` pairs lines two by two, so a file where some labels lack a frequency
line fails on the first such label; ``aud-seq`` does not read frequency lines; both refuse a
whole file for one bad line, without its line number.
"""
from __future__ import annotations

import os
from typing import Iterable

from .common import Problems, lines, write_text
from .record import Event, ImportResult, check_times, check_writable, fmt_number, parse_number

UNDEFINED_HZ = -1.0


def _hz(text: str, what: str) -> float | None:
    v = parse_number(text, what, allow_negative=True)
    if v < 0:  # Audacity's UndefinedFrequency is -1
        return None
    return v


def read(path: str | os.PathLike, clip: str | None = None) -> ImportResult:
    events: list[Event] = []
    problems = Problems(path)
    last: int | None = None      # index of the label a frequency line may follow
    skip_freq = False            # the label line before was bad: its frequency line goes with it
    for n, text in lines(path):
        fields = text.split("\t")
        if fields[0].strip() == "\\":
            if skip_freq:
                skip_freq = False
                continue
            if last is None:
                problems.add(n, "a frequency line (\\ low high) without a label line before it")
                continue
            try:
                if len(fields) != 3:
                    raise ValueError(f"expected '\\<TAB>low Hz<TAB>high Hz', got {len(fields)} fields")
                low, high = _hz(fields[1], "low frequency"), _hz(fields[2], "high frequency")
                if low is not None and high is not None and high < low:
                    raise ValueError(f"high frequency {fields[2].strip()} is below low frequency {fields[1].strip()}")
            except ValueError as exc:
                problems.add(n, str(exc))
                last = None
                continue
            events[last] = events[last].with_(low_hz=low, high_hz=high)
            last = None
            continue
        skip_freq = False
        try:
            if len(fields) < 2:
                raise ValueError("expected start<TAB>end<TAB>label")
            start = parse_number(fields[0], "start")
            end = parse_number(fields[1], "end")
            check_times(start, end)
        except ValueError as exc:
            problems.add(n, str(exc))
            last, skip_freq = None, True
            continue
        events.append(Event(start, end, "\t".join(fields[2:]).strip(), clip=clip))
        last = len(events) - 1
    return ImportResult(events, problems, "audacity", str(path))


def write(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None) -> None:
    """One clip's events as an Audacity label track, with frequency lines where there is a range."""
    out = []
    clips = set()
    for e in events:
        if e.is_weak:
            raise ValueError(f"the clip-level label {e.label!r} has no times; Audacity labels need them")
        check_writable(e.label, "\t\n\r", "label")
        clips.add(e.clip)
        out.append(f"{fmt_number(e.onset)}\t{fmt_number(e.offset)}\t{e.label}")
        if e.has_frequency:
            low = UNDEFINED_HZ if e.low_hz is None else e.low_hz
            high = UNDEFINED_HZ if e.high_hz is None else e.high_hz
            out.append(f"\\\t{fmt_number(low)}\t{fmt_number(high)}")
    clips.discard(None)
    if len(clips) > 1 and clip is None:
        raise ValueError(f"an Audacity label track holds one clip; these events come from {len(clips)} "
                         "clips (write one file per clip)")
    write_text(path, "\n".join(out) + ("\n" if out else ""))
