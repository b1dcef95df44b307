"""Raven Pro / Raven Lite selection tables (``*.selections.txt``, tab-separated, one header line).

Standard columns: ``Selection, View, Channel, Begin Time (s), End Time (s), Low Freq (Hz),
High Freq (Hz)``, then annotation and measurement columns. The label is read from the
annotation column (``Annotation`` unless told; else ``Label``, ``Species``, ``Class``,
``Call Type``, ``Tags``); multi-file tables give the clip in ``Begin File`` and the time in that
file in ``File Offset (s)``. Carries onset, offset, low_hz, high_hz, label, clip, and here
also ``Score`` and ``Source`` columns; every other column (Selection, View, Channel,
measurements) is kept in ``Event.extra`` and written back in its place. When a selection
has rows for several views (Waveform 1 and Spectrogram 1), one event is made, from the
spectrogram row.

Written here rather than through crowsetta 5.1.2 (checked: see engine/labels/__init__.py):
crowsetta refuses a whole table for one bad cell (a pandera SchemaError without the line),
and refuses good tables whose frequency columns happen to hold whole numbers (int64 is not
float64 for its schema).
"""
from __future__ import annotations

import os
from typing import Iterable

from .common import Problems, lines, write_text
from .record import Event, ImportResult, check_times, check_writable, fmt_number, parse_number

BEGIN, END, LOW, HIGH = "Begin Time (s)", "End Time (s)", "Low Freq (Hz)", "High Freq (Hz)"
FILE, OFFSET = "Begin File", "File Offset (s)"
LABEL_COLUMNS = ("Annotation", "Label", "Species", "Class", "Call Type", "Tags", "Sound Type")
STANDARD = ("Selection", "View", "Channel", BEGIN, END, LOW, HIGH)


def _find_label_column(header: list[str], annot_col: str | None) -> str | None:
    if annot_col:
        return annot_col if annot_col in header else None
    lower = {h.lower(): h for h in header}
    for name in LABEL_COLUMNS:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def read(path: str | os.PathLike, clip: str | None = None, annot_col: str | None = None) -> ImportResult:
    problems = Problems(path)
    events: list[Event] = []
    header: list[str] | None = None
    label_col = None
    by_selection: dict[str, int] = {}
    for n, text in lines(path):
        fields = [f.strip() for f in text.split("\t")]
        if header is None:
            header = fields
            missing = [c for c in (BEGIN, END) if c not in header]
            if missing:
                problems.add(n, f"not a Raven selection table header (no {', '.join(missing)} column)")
                return ImportResult([], problems, "raven", str(path))
            label_col = _find_label_column(header, annot_col)
            if label_col is None:
                problems.add(n, f"no annotation column ({annot_col or ', '.join(LABEL_COLUMNS)}); "
                                "events are read with empty labels")
            continue
        try:
            if len(fields) > len(header):
                raise ValueError(f"{len(fields)} fields for {len(header)} columns")
            row = dict(zip(header, fields + [""] * (len(header) - len(fields))))
            begin, end = parse_number(row[BEGIN], BEGIN), parse_number(row[END], END)
            check_times(begin, end)
            low = parse_number(row[LOW], LOW) if row.get(LOW) else None
            high = parse_number(row[HIGH], HIGH) if row.get(HIGH) else None
            if low is not None and high is not None and high < low:
                raise ValueError(f"{HIGH} {row[HIGH]} is below {LOW} {row[LOW]}")
            event_clip = row.get(FILE) or clip
            if row.get(OFFSET):  # multi-file table: the time inside Begin File
                onset = parse_number(row[OFFSET], OFFSET)
                offset = onset + (end - begin)
            else:
                onset, offset = begin, end
            score = parse_number(row["Score"], "Score") if row.get("Score") else None
        except ValueError as exc:
            problems.add(n, str(exc))
            continue
        known = {BEGIN, END, LOW, HIGH, FILE, OFFSET, "Score", "Source", label_col}
        extra = {k: v for k, v in row.items() if k not in known}
        if row.get(OFFSET):
            extra[BEGIN], extra[END] = row[BEGIN], row[END]
        event = Event(onset, offset, row.get(label_col, "") if label_col else "", low, high, score,
                      row.get("Source") or None, event_clip, extra)
        sel = row.get("Selection")
        if sel and sel in by_selection:  # another view of the same selection
            if row.get("View", "").lower().startswith("spectrogram"):
                events[by_selection[sel]] = event
            continue
        if sel:
            by_selection[sel] = len(events)
        events.append(event)
    return ImportResult(events, problems, "raven", str(path))


def write(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None,
          annot_col: str = "Annotation") -> None:
    """Events as a Raven selection table. Begin File is written when events name their clip;
    times are then file-relative (Raven's Begin Time over a file list needs the files'
    durations, which a label file does not have), repeated in File Offset (s)."""
    events = list(events)
    for e in events:
        if e.is_weak:
            raise ValueError(f"the clip-level label {e.label!r} has no times; a selection table needs them")
        check_writable(e.label, "\t\n\r", "label")
    with_file = any(e.clip for e in events)
    extra_cols: list[str] = []
    for e in events:
        for k in e.extra:
            if k not in STANDARD and k not in extra_cols and k not in (BEGIN, END):
                extra_cols.append(k)
    cols = list(STANDARD)
    if with_file:
        cols += [FILE, OFFSET]
    cols.append(annot_col)
    if any(e.score is not None for e in events):
        cols.append("Score")
    if any(e.source for e in events):
        cols.append("Source")
    cols += [c for c in extra_cols if c not in cols]
    out = ["\t".join(cols)]
    for i, e in enumerate(events, 1):
        row = {"Selection": str(i), "View": "Spectrogram 1", "Channel": "1"}
        row.update({k: str(v) for k, v in e.extra.items()})
        row.update({BEGIN: fmt_number(e.onset), END: fmt_number(e.offset),
                    LOW: "" if e.low_hz is None else fmt_number(e.low_hz),
                    HIGH: "" if e.high_hz is None else fmt_number(e.high_hz),
                    annot_col: e.label, "Score": "" if e.score is None else fmt_number(e.score),
                    "Source": e.source or ""})
        if with_file:
            row[FILE] = e.clip or clip or ""
            row[OFFSET] = fmt_number(e.onset)
        for v in row.values():
            check_writable(v, "\t\n\r", "value")
        out.append("\t".join(row.get(c, "") for c in cols))
    write_text(path, "\n".join(out) + "\n")
