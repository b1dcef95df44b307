"""DESED / DCASE label files (strong: ``filename onset offset event_label``; weak:
``filename event_labels``), through the readers of :mod:`engine.data.formats`.

Strong TSVs carry clip, onset, offset and label; weak TSVs clip and labels. A strong row
with an empty label lists a clip without events (kept in ``ImportResult.clips``).
"""
from __future__ import annotations

import os
from typing import Iterable

from ..data import formats
from .common import Problems, write_text
from .record import Event, ImportResult, check_writable, fmt_number


def _read(path: str | os.PathLike, reader) -> tuple[list, Problems]:
    """(rows, problems) of ``reader(path, problems=list)``: bad lines become the file's Problems."""
    raw: list = []
    rows = reader(path, problems=raw)
    problems = Problems(path)
    for line, reason in raw:
        problems.add(line, reason)
    return rows, problems


def read_strong(path: str | os.PathLike, clip: str | None = None) -> ImportResult:
    rows, problems = _read(path, formats.read_strong_rows)
    events = [Event(r.onset, r.offset, r.label, clip=r.filename) for r in rows if r.label]
    listed = [r.filename for r in rows if not r.label]
    return ImportResult(events, problems, "dcase", str(path), clips=listed)


def read_weak(path: str | os.PathLike, clip: str | None = None) -> ImportResult:
    rows, problems = _read(path, formats.read_weak_rows)
    events = [Event(None, None, label, clip=r.filename) for r in rows for label in r.labels]
    listed = [r.filename for r in rows if not r.labels]
    return ImportResult(events, problems, "dcase-weak", str(path), clips=listed)


def _clip_of(e: Event, clip: str | None) -> str:
    name = e.clip or clip
    if not name:
        raise ValueError(f"event {e.label!r} at {e.onset} s has no clip name; a DCASE TSV needs one "
                         "(give the clip name)")
    return name


def write_strong(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None,
                 empty: Iterable[str] = ()) -> None:
    """Events as a strong TSV with the DESED header; ``empty``: clips to list without events."""
    rows = []
    for e in events:
        if e.is_weak:
            raise ValueError(f"{_clip_of(e, clip)}: the clip-level label {e.label!r} has no onset/offset; "
                             "a strong TSV needs times (write a weak TSV instead)")
        check_writable(e.label, "\t\n\r", "label")
        name = _clip_of(e, clip)
        check_writable(name, "\t\n\r", "clip name")
        rows.append(f"{name}\t{fmt_number(e.onset)}\t{fmt_number(e.offset)}\t{e.label}")
    # formats.write_strong_tsv rounds to microseconds; here times are written exactly
    rows += [f"{name}\t\t\t" for name in empty]
    write_text(path, "\n".join(["filename\tonset\toffset\tevent_label", *rows]) + "\n")


def write_weak(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None,
               empty: Iterable[str] = ()) -> None:
    """The labels of each clip (strong events collapse to their labels) as a weak TSV."""
    per_clip: dict[str, list[str]] = {}
    for e in events:
        check_writable(e.label, "\t\n\r,", "label")
        labels = per_clip.setdefault(_clip_of(e, clip), [])
        if e.label not in labels:
            labels.append(e.label)
    for name in empty:
        per_clip.setdefault(name, [])
    formats.write_weak_tsv(path, list(per_clip.items()))
