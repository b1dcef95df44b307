"""Plain CSV: one event per row under a header row; every field of :class:`Event`.

Written columns: ``filename,onset,offset,label,low_hz,high_hz,score,source`` and then any
extra columns the events carry; an empty cell is an absent value. Read: the header names
the columns, in any order, with common aliases (``onset_s``/``start``/``begin``,
``offset_s``/``end``, ``event_label``/``annotation``/``class``, ``notated_path``/``file``/
``clip``, ...), so crowsetta's generic-seq CSV and most spreadsheets read as they are.
Unknown columns are kept in ``Event.extra``. Comma- or tab-separated (told by the header).
"""
from __future__ import annotations

import csv
import io
import os
from typing import Iterable

from ..errors import DatasetError
from .common import Problems, write_text
from .record import Event, ImportResult, check_times, fmt_number, parse_number

COLUMNS = ["filename", "onset", "offset", "label", "low_hz", "high_hz", "score", "source"]
ALIASES = {
    "filename": ("filename", "file", "clip", "audio", "audio_file", "notated_path", "begin file", "recording"),
    "onset": ("onset", "onset_s", "start", "start_s", "begin", "begin_s", "start_time", "begin time (s)", "t0"),
    "offset": ("offset", "offset_s", "end", "end_s", "stop", "end_time", "end time (s)", "t1"),
    "label": ("label", "event_label", "annotation", "class", "species", "name", "tag"),
    "low_hz": ("low_hz", "low_freq", "low freq (hz)", "f_low", "min_freq", "freq_low", "low_freq_hz"),
    "high_hz": ("high_hz", "high_freq", "high freq (hz)", "f_high", "max_freq", "freq_high", "high_freq_hz"),
    "score": ("score", "confidence", "probability", "prob"),
    "source": ("source", "proposer", "annotator", "model"),
}


def _map_header(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        for field_name, names in ALIASES.items():
            if key in names and field_name not in found:
                found[field_name] = i
                break
    return found


def read(path: str | os.PathLike, clip: str | None = None) -> ImportResult:
    problems = Problems(path)
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such label file") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    first_line = text.split("\n", 1)[0]
    delim = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    events: list[Event] = []
    header = None
    cols: dict[str, int] = {}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(reader.line_num, str(exc))
            continue
        n = reader.line_num
        if not fields or not "".join(fields).strip():
            continue
        if header is None:
            header = [h.strip() for h in fields]
            cols = _map_header(header)
            missing = [c for c in ("onset", "offset", "label") if c not in cols]
            if "label" in missing and "onset" not in missing:
                missing.remove("label")  # events without labels are allowed
            if missing:
                raise DatasetError(f"{path}:{n}: the header names no {' or '.join(missing)} column "
                                   f"(got: {', '.join(header)})")
            continue

        def cell(name):
            i = cols.get(name)
            return fields[i].strip() if i is not None and i < len(fields) else ""

        try:
            if len(fields) > len(header):
                raise ValueError(f"{len(fields)} fields for {len(header)} columns")
            on_s, off_s = cell("onset"), cell("offset")
            if on_s == "" and off_s == "":
                onset = offset = None  # a clip-level (weak) label
            else:
                onset, offset = parse_number(on_s, "onset"), parse_number(off_s, "offset")
                check_times(onset, offset)
            low = parse_number(cell("low_hz"), "low_hz") if cell("low_hz") else None
            high = parse_number(cell("high_hz"), "high_hz") if cell("high_hz") else None
            score = parse_number(cell("score"), "score", allow_negative=True) if cell("score") else None
        except ValueError as exc:
            problems.add(n, str(exc))
            continue
        used = set(cols.values())
        extra = {header[i]: fields[i] for i in range(min(len(fields), len(header))) if i not in used}
        events.append(Event(onset, offset, cell("label"), low, high, score, cell("source") or None,
                            cell("filename") or clip, extra))
    if header is None:
        raise DatasetError(f"{path}: empty CSV (a header row is needed)")
    return ImportResult(events, problems, "csv", str(path))


def write(path: str | os.PathLike, events: Iterable[Event], clip: str | None = None) -> None:
    events = list(events)
    extra_cols: list[str] = []
    for e in events:
        for k in e.extra:
            if k not in extra_cols and k.lower() not in COLUMNS:
                extra_cols.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS + extra_cols)

    def num(v):
        return "" if v is None else fmt_number(v)

    for e in events:
        w.writerow([e.clip or clip or "", num(e.onset), num(e.offset), e.label, num(e.low_hz), num(e.high_hz),
                    num(e.score), e.source or ""] + [str(e.extra.get(k, "")) for k in extra_cols])
    write_text(path, buf.getvalue())
