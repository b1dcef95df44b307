"""Sonic Visualiser annotation layers exported as CSV (File > Export Annotation Layer).

Layers read (times in seconds, header row optional, comma- or tab-separated):

- Boxes (time-frequency boxes): ``START,END,EXTENT START,EXTENT END,LABEL``: onset, offset,
  low_hz, high_hz, label;
- Regions: ``TIME,VALUE,DURATION,LABEL``: onset, value, duration, label; the value is kept in
  ``Event.extra["value"]``;
- Time instants: ``TIME,LABEL``: onset == offset.

Without a header the layer is told by the number of leading numeric fields (4: box,
3: region, 1: instants); a region whose label is a number needs the header or
``layer="region"``. Times exported "in frames" are not read (they need the sample rate).

Written: Boxes when any event has a frequency range, else Regions (value = the event's
kept value, else its score, else 0), with the header row. Carries onset, offset, label, and
low_hz/high_hz (boxes) or the region value; one clip per file.
"""
from __future__ import annotations

import csv
import io
import os
from typing import Iterable

from .common import Problems, lines, write_text
from .record import Event, ImportResult, check_times, check_writable, fmt_number, parse_number

BOX_HEADER = ["START", "END", "EXTENT START", "EXTENT END", "LABEL"]
REGION_HEADER = ["TIME", "VALUE", "DURATION", "LABEL"]


def _split(text: str) -> list[str]:
    delim = "\t" if "\t" in text and "," not in text else ","
    return next(csv.reader([text], delimiter=delim))


from ..data.formats import _is_number  # noqa: E402  (one definition, shared with the dataset readers)


def _layer_of_header(fields: list[str]) -> str | None:
    up = [f.strip().upper() for f in fields]
    if up[:2] == ["START", "END"]:
        return "box"
    if up[:3] == ["TIME", "VALUE", "DURATION"]:
        return "region"
    if up[:1] == ["TIME"] and len(up) <= 2:
        return "instants"
    return None


def _layer_of_row(fields: list[str]) -> str:
    k = 0
    while k < len(fields) and _is_number(fields[k]):
        k += 1
    return {4: "box", 5: "box", 3: "region", 1: "instants", 2: "region"}.get(k, "region")


def read(path: str | os.PathLike, clip: str | None = None, layer: str | None = None) -> ImportResult:
    events: list[Event] = []
    problems = Problems(path)
    first = True
    for n, text in lines(path):
        try:
            fields = _split(text)
        except csv.Error as exc:
            problems.add(n, str(exc))
            continue
        if first:
            first = False
            head = _layer_of_header(fields)
            if head is not None:
                layer = layer or head
                continue
        kind = layer or _layer_of_row(fields)
        try:
            if kind == "box":
                if len(fields) < 4:
                    raise ValueError("a box row needs start, end, low and high")
                onset, offset = parse_number(fields[0], "start"), parse_number(fields[1], "end")
                check_times(onset, offset)
                low, high = parse_number(fields[2], "extent start"), parse_number(fields[3], "extent end")
                low, high = min(low, high), max(low, high)
                label = ",".join(fields[4:]).strip()
                events.append(Event(onset, offset, label, low, high, clip=clip))
            elif kind == "region":
                if len(fields) < 3:
                    raise ValueError("a region row needs time, value and duration")
                onset = parse_number(fields[0], "time")
                parse_number(fields[1], "value", allow_negative=True)
                duration = parse_number(fields[2], "duration")
                label = ",".join(fields[3:]).strip()
                events.append(Event(onset, onset + duration, label, clip=clip,
                                    extra={"value": fields[1].strip()}))
            else:
                onset = parse_number(fields[0], "time")
                events.append(Event(onset, onset, ",".join(fields[1:]).strip(), clip=clip))
        except ValueError as exc:
            problems.add(n, str(exc))
    return ImportResult(events, problems, "sv", str(path))


def write(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None,
          layer: str | None = None) -> None:
    events = list(events)
    clips = {e.clip for e in events} - {None}
    if len(clips) > 1 and clip is None:
        raise ValueError(f"a Sonic Visualiser layer holds one clip; these events come from {len(clips)} "
                         "clips (write one file per clip)")
    layer = layer or ("box" if any(e.has_frequency for e in events) else "region")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(BOX_HEADER if layer == "box" else REGION_HEADER)
    for e in events:
        if e.is_weak:
            raise ValueError(f"the clip-level label {e.label!r} has no times; a layer needs them")
        check_writable(e.label, "\n\r", "label")
        if layer == "box":
            low = 0.0 if e.low_hz is None else e.low_hz
            high = low if e.high_hz is None else e.high_hz
            w.writerow([fmt_number(e.onset), fmt_number(e.offset), fmt_number(low), fmt_number(high), e.label])
        else:
            value = e.extra.get("value", fmt_number(e.score) if e.score is not None else "0")
            w.writerow([fmt_number(e.onset), value, fmt_number(e.offset - e.onset), e.label])
    write_text(path, buf.getvalue())
