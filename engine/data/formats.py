"""Label file formats: readers and writers, with errors that name the file and the line.

Formats (see ``/work/shared/paper/NOTES.md``):

- weak TSV (DESED/DCASE): header ``filename\\tevent_labels``, labels comma-separated,
  an empty field for a clip without events. :func:`read_weak_tsv`, :func:`write_weak_tsv`.
- strong TSV (DESED/DCASE): ``filename\\tonset\\toffset\\tevent_label`` (seconds), with or
  without that header (DCASE 2017 Task 4 ships it header-less). A row with an empty label
  lists a clip without events. :func:`read_strong_tsv`, :func:`write_strong_tsv`.
- DCASE 2017 Task 4 weak labels: ``Y<id>_<start>_<end>.wav\\t<start>\\t<end>\\t<label>``,
  one row per (clip, label). :func:`read_dcase2017_weak`.
- AudioSet segment lists: ``# comments``, then ``YTID, start_seconds, end_seconds,
  "mid1,mid2"``, with ``class_labels_indices.csv`` (``index,mid,display_name``).
  :func:`read_audioset_segments`, :func:`read_audioset_classes`.
- Audacity label tracks: ``start\\tend\\tlabel`` (spectral-selection lines starting with a
  backslash are skipped). :func:`read_audacity_labels`, :func:`write_audacity_labels`.

Every malformed line raises :class:`DatasetError` whose message reads ``FILE:LINE: reason``.
Readers that need line numbers for later checks (the dataset layer checks labels against the
class list) use the ``*_rows`` variants, which keep the line number of each record.
"""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from ..audio import AUDIO_SUFFIXES  # noqa: F401  (re-exported: the engine's one list lives in engine.audio)
from ..errors import DatasetError  # noqa: F401  (re-exported)


class WeakRow(NamedTuple):
    filename: str
    labels: list[str]
    line: int


class StrongRow(NamedTuple):
    filename: str
    onset: float | None    # None on a row that lists a clip without events
    offset: float | None
    label: str             # "" on a row that lists a clip without events
    line: int


def _open_text(path: str | os.PathLike):
    try:
        return open(path, "r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such label file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not a label file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _lines(path: str | os.PathLike) -> Iterable[tuple[int, str]]:
    """(line number from 1, text without the line ending) for every non-blank line."""
    with _open_text(path) as f:
        try:
            for n, text in enumerate(f, 1):
                text = text.rstrip("\r\n")
                if text.strip():
                    yield n, text
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: not a UTF-8 text file ({exc.reason})") from None


def _time(value: str, path, line: int, what: str) -> float:
    try:
        t = float(value)
    except ValueError:
        raise DatasetError(f"{path}:{line}: {what} {value!r} is not a number of seconds") from None
    if not math.isfinite(t) or t < 0:
        raise DatasetError(f"{path}:{line}: {what} {value!r} must be a finite time >= 0")
    return t


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def split_labels(field: str) -> list[str]:
    """A comma-separated label field as a list of stripped, non-empty labels (order kept, no repeats)."""
    out: list[str] = []
    for part in field.split(","):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


# --------------------------------------------------------------------------- weak TSV
def read_weak_rows(path: str | os.PathLike, problems: list | None = None) -> list[WeakRow]:
    """Rows of a weak TSV (``filename\\tevent_labels``), header optional, with line numbers.

    problems: when a list is given, a bad line is appended to it as ``(line, reason)`` and
    skipped instead of raising :class:`DatasetError` (the rest of the file is read).
    """
    return _read_rows(path, _weak_row, problems)

def _read_rows(path, parse_line, problems: list | None) -> list:
    """``parse_line(path, n, text, first)`` over the file's lines: its rows (None, the header, is left
    out); a bad line raises, or with a ``problems`` list is appended to it as (line, reason) and skipped."""
    rows = []
    first = True
    for n, text in _lines(path):
        try:
            row = parse_line(path, n, text, first)
        except DatasetError as exc:
            if problems is None:
                raise
            problems.append((n, _reason(exc)))
            row = None
        first = False
        if row is not None:
            rows.append(row)
    return rows


def _file_name(path, n: int, fields: list[str], names: str) -> str:
    """The row's file name (its first field), after checking that it is there and that the row has no
    more fields than ``names`` (comma-separated) lists."""
    name = fields[0].strip()
    if not name:
        raise DatasetError(f"{path}:{n}: empty file name")
    most = len(names.split(","))
    if len(fields) > most:
        raise DatasetError(f"{path}:{n}: expected {most} tab-separated fields ({names}), got {len(fields)}")
    return name


def _reason(exc: DatasetError) -> str:
    """The reason part of a ``FILE:LINE: reason`` message."""
    parts = str(exc).split(": ", 1)
    return parts[1] if len(parts) == 2 and ":" in parts[0] else str(exc)


def _weak_row(path, n: int, text: str, first: bool) -> WeakRow | None:
    """One weak TSV line as a WeakRow (None for the header line)."""
    fields = text.split("\t")
    if first:
        if fields[0].strip().lower() == "filename":
            if len(fields) < 2:
                raise DatasetError(f"{path}:{n}: expected the header 'filename<TAB>event_labels'")
            return None
    name = _file_name(path, n, fields, "filename, event_labels")
    return WeakRow(name, split_labels(fields[1]) if len(fields) > 1 else [], n)


def read_weak_tsv(path: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """A weak TSV as [(filename, [labels])] in file order."""
    return [(r.filename, r.labels) for r in read_weak_rows(path)]


def write_weak_tsv(path: str | os.PathLike, rows: Iterable[tuple[str, Sequence[str]]]) -> None:
    """Write [(filename, labels)] as a weak TSV with its header."""
    lines = ["filename\tevent_labels"]
    for name, labels in rows:
        for label in labels:
            if "," in label or "\t" in label:
                raise ValueError(f"label {label!r} cannot be written in a weak TSV (comma or tab)")
        lines.append(f"{name}\t{','.join(labels)}")
    _write_text(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------- strong TSV
def read_strong_rows(path: str | os.PathLike, problems: list | None = None) -> list[StrongRow]:
    """Rows of a strong TSV (header optional), with line numbers; rows without a label are kept.

    problems: when a list is given, a bad line is appended to it as ``(line, reason)`` and
    skipped instead of raising :class:`DatasetError` (the rest of the file is read).
    """
    return _read_rows(path, _strong_row, problems)


def _strong_row(path, n: int, text: str, first: bool) -> StrongRow | None:
    """One strong TSV line as a StrongRow (None for the header line)."""
    fields = text.split("\t")
    if first:
        if len(fields) >= 2 and fields[0].strip().lower() == "filename" and not _is_number(fields[1]):
            return None
    name = _file_name(path, n, fields, "filename, onset, offset, label")
    fields = fields + [""] * (4 - len(fields))
    on_s, off_s, label = fields[1].strip(), fields[2].strip(), fields[3].strip()
    if not label:
        if on_s.lower() not in ("", "nan") or off_s.lower() not in ("", "nan"):
            raise DatasetError(f"{path}:{n}: an event with times but no label")
        return StrongRow(name, None, None, "", n)
    onset = _time(on_s, path, n, "onset")
    offset = _time(off_s, path, n, "offset")
    if offset < onset:
        raise DatasetError(f"{path}:{n}: offset {offset} is before onset {onset}")
    return StrongRow(name, onset, offset, label, n)


def read_strong_tsv(path: str | os.PathLike) -> list[tuple[str, float, float, str]]:
    """Events of a strong TSV as [(filename, onset s, offset s, label)] in file order.

    Accepts the DESED header ``filename\\tonset\\toffset\\tevent_label`` or none (DCASE 2017).
    Rows with an empty label (a clip without events) are left out.
    """
    return [(r.filename, r.onset, r.offset, r.label) for r in read_strong_rows(path) if r.label]


def _fmt_time(t: float) -> str:
    text = f"{float(t):.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def write_strong_tsv(path: str | os.PathLike, events: Iterable[tuple], *, header: bool = True,
                     empty: Iterable[str] = ()) -> None:
    """Write [(filename, onset, offset, label)] as a strong TSV (DESED header unless ``header=False``).

    ``empty``: names of clips without events, written as rows with empty fields so that the
    file lists every clip. Times are written with up to 6 decimals (microseconds).
    """
    lines = ["filename\tonset\toffset\tevent_label"] if header else []
    for name, onset, offset, label in events:
        if "\t" in label or "\n" in label:
            raise ValueError(f"label {label!r} cannot be written in a TSV (tab or line break)")
        lines.append(f"{name}\t{_fmt_time(onset)}\t{_fmt_time(offset)}\t{label}")
    for name in empty:
        lines.append(f"{name}\t\t\t")
    _write_text(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------ DCASE 2017 Task 4
def read_dcase2017_weak_rows(path: str | os.PathLike) -> list[WeakRow]:
    """DCASE 2017 Task 4 weak labels (``file\\tstart\\tend\\tlabel``), one WeakRow per line."""
    rows: list[WeakRow] = []
    for n, text in _lines(path):
        fields = text.split("\t")
        if not rows and fields[0].strip().lower() in ("filename", "file", "ytid"):
            continue  # a header line
        if len(fields) == 4:
            name, label = fields[0].strip(), fields[3].strip()
            _time(fields[1].strip(), path, n, "start")
            _time(fields[2].strip(), path, n, "end")
        elif len(fields) == 2:  # file<TAB>label: tolerated
            name, label = fields[0].strip(), fields[1].strip()
        else:
            raise DatasetError(f"{path}:{n}: expected 4 tab-separated fields (file, start, end, label), "
                               f"got {len(fields)}")
        if not name:
            raise DatasetError(f"{path}:{n}: empty file name")
        rows.append(WeakRow(name, [label] if label else [], n))
    return rows


def read_dcase2017_weak(path: str | os.PathLike) -> dict[str, list[str]]:
    """DCASE 2017 Task 4 weak labels merged per file: {filename: [labels]} (file order)."""
    out: dict[str, list[str]] = {}
    for r in read_dcase2017_weak_rows(path):
        labels = out.setdefault(r.filename, [])
        for label in r.labels:
            if label not in labels:
                labels.append(label)
    return out


# --------------------------------------------------------------------------- AudioSet
class SegmentRow(NamedTuple):
    ytid: str
    start: float
    end: float
    mids: list[str]
    line: int


def read_audioset_segments(path: str | os.PathLike) -> list[SegmentRow]:
    """An AudioSet segment CSV (``YTID, start_seconds, end_seconds, positive_labels``)."""
    rows: list[SegmentRow] = []
    with _open_text(path) as f:
        reader = csv.reader(f, skipinitialspace=True)
        try:
            for fields in reader:
                n = reader.line_num
                if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
                    continue
                if fields[0].strip().upper() == "YTID":
                    continue
                if len(fields) != 4:
                    raise DatasetError(f"{path}:{n}: expected 4 fields (YTID, start_seconds, end_seconds, "
                                       f"positive_labels), got {len(fields)}")
                start = _time(fields[1].strip(), path, n, "start_seconds")
                end = _time(fields[2].strip(), path, n, "end_seconds")
                rows.append(SegmentRow(fields[0].strip(), start, end, split_labels(fields[3]), n))
        except csv.Error as exc:
            raise DatasetError(f"{path}:{reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    return rows


def read_audioset_classes(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``class_labels_indices.csv`` as [(mid, display_name)] in index order."""
    out: list[tuple[int, str, str]] = []
    with _open_text(path) as f:
        reader = csv.reader(f, skipinitialspace=True)
        for fields in reader:
            n = reader.line_num
            if not fields or fields[0].strip().lower() == "index":
                continue
            if len(fields) < 3:
                raise DatasetError(f"{path}:{n}: expected index,mid,display_name")
            try:
                index = int(fields[0])
            except ValueError:
                raise DatasetError(f"{path}:{n}: index {fields[0]!r} is not an integer") from None
            out.append((index, fields[1].strip(), fields[2].strip()))
    out.sort()
    return [(mid, name) for _, mid, name in out]


def audioset_candidates(ytid: str, start: float, end: float) -> list[str]:
    """File stems an AudioSet segment may be stored under, most specific first."""
    span = f"{start:.3f}_{end:.3f}"
    return [f"Y{ytid}_{span}", f"{ytid}_{span}", f"Y{ytid}", ytid]


# --------------------------------------------------------------------------- Audacity
def read_audacity_labels(path: str | os.PathLike) -> list[tuple[float, float, str]]:
    """An Audacity label track export as [(start s, end s, label)]; point labels have start == end."""
    out: list[tuple[float, float, str]] = []
    for n, text in _lines(path):
        if text.startswith("\\"):  # spectral selection line (\tlow_hz\thigh_hz) of the label above
            continue
        fields = text.split("\t")
        if len(fields) < 2:
            raise DatasetError(f"{path}:{n}: expected start<TAB>end<TAB>label")
        start = _time(fields[0].strip(), path, n, "start")
        end = _time(fields[1].strip(), path, n, "end")
        if end < start:
            raise DatasetError(f"{path}:{n}: end {end} is before start {start}")
        out.append((start, end, "\t".join(fields[2:]).strip()))
    return out


def write_audacity_labels(path: str | os.PathLike, events: Iterable[tuple[float, float, str]]) -> None:
    """Write [(start s, end s, label)] as an Audacity label file (importable with File > Import > Labels)."""
    lines = []
    for start, end, label in events:
        lines.append(f"{float(start):.6f}\t{float(end):.6f}\t{label}")
    _write_text(path, "\n".join(lines) + ("\n" if lines else ""))


# -------------------------------------------------------------------------- classes
def read_class_list(path: str | os.PathLike) -> list[str]:
    """``classes.txt``: one class name per line (blank lines and ``#`` comments skipped)."""
    out: list[str] = []
    for n, text in _lines(path):
        name = text.strip()
        if name.startswith("#"):
            continue
        if name in out:
            raise DatasetError(f"{path}:{n}: class {name!r} listed twice")
        out.append(name)
    if not out:
        raise DatasetError(f"{path}: the class list is empty")
    return out


def _write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)
