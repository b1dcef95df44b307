"""Import and export of annotations in every format of :mod:`engine.labels`.

Export: the events of one clip, of a selection, or of several clips (a folder) merged into
one file (clip names relative to ``root``) or one file per clip. Which events: by default the
labels (``manual`` and ``accepted``); ``statuses=None`` writes every event, proposals and
rejected ones included (their status goes to the formats that keep extra columns: csv, raven).

Import: a file (or a folder of label files) into the store, one undo step per clip. Events
are matched to the open clips by their clip name (absolute path, path relative to a clip's
folder, or file name); events of one-clip formats (Audacity, Sonic Visualiser) and events
without a clip name go to ``current``. Bad lines are not imported and are listed with their
line numbers; the rest is.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .store import Annotation

LABEL_STATUSES = ("manual", "accepted")


def clip_name(clip: str, root: str | os.PathLike | None = None) -> str:
    """The name a clip gets in a label file: relative to ``root`` when inside it, else the file name."""
    if root is not None:
        try:
            return Path(clip).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(clip).name


def to_events(store, clips, *, ids=None, statuses=LABEL_STATUSES, root=None) -> list:
    """The chosen annotations as :class:`engine.labels.Event` records (clip names set).

    ids: only these annotation ids (a selection); statuses: only these (None: every event).
    """
    want = None if ids is None else {int(i) for i in ids}
    out = []
    for clip in clips:
        store.ensure_loaded(clip)
        for a in store.events(clip):
            if want is not None and a.id not in want:
                continue
            if statuses is not None and a.status not in statuses:
                continue
            out.append(a.to_event(clip_name(clip, root)))
    return out


def export(store, path: str | os.PathLike, clips, fmt: str | None = None, *, ids=None,
           statuses=LABEL_STATUSES, root=None, per_clip: bool = False) -> list[Path]:
    """Write the chosen events to ``path`` (a file; with ``per_clip`` a folder); returns the files.

    ValueError (a one-line reason) for what the format cannot hold, e.g. several clips in an
    Audacity track without ``per_clip``, or a label with a tab in a TSV.
    """
    from engine.labels import write_labels, write_per_clip

    events = to_events(store, clips, ids=ids, statuses=statuses, root=root)
    if per_clip:
        if fmt is None:
            raise ValueError("give the format of the per-clip files")
        return write_per_clip(path, events, fmt)
    clip = clip_name(clips[0], root) if len(clips) == 1 else None
    write_labels(path, events, fmt, clip=clip)
    return [Path(path)]


@dataclass
class ImportReport:
    """What an import did: events added per clip, lines left out (``FILE:LINE: reason``)."""

    path: str
    format: str
    added: dict = field(default_factory=dict)      # clip path -> number of events
    problems: list = field(default_factory=list)   # strings, with line numbers
    unmatched: int = 0                             # events whose clip is not open

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def summary(self) -> str:
        text = f"{self.total} events imported from {Path(self.path).name} ({self.format})"
        if len(self.added) > 1:
            text += f" into {len(self.added)} clips"
        if self.unmatched:
            text += f"; {self.unmatched} events of clips that are not open left out"
        if self.problems:
            shown = "; ".join(self.problems[:3]) + ("; …" if len(self.problems) > 3 else "")
            text += f"; {len(self.problems)} bad lines left out: {shown}"
        return text


def _match(name: str | None, clips: list[str], current: str | None) -> str | None:
    """The open clip an imported event's clip name means (None: not open)."""
    if not name:
        return current
    for cand in dict.fromkeys((name, name.replace("__", "/"))):   # write_per_clip writes a/b as a__b
        for c in clips:
            p = Path(c)
            if cand in (c, p.name, str(p.with_suffix(""))) or c.replace(os.sep, "/").endswith("/" + cand.lstrip("/")):
                return c
        for c in clips:    # a label file named after the clip's stem (street.txt for street.wav)
            if Path(cand).name == Path(c).stem and (cand == Path(cand).name or
                                                    str(Path(c).with_suffix("")).endswith(cand)):
                return c
    return None


def import_file(store, path: str | os.PathLike, clips, current: str | None = None,
                fmt: str | None = None) -> ImportReport:
    """Read ``path`` with :func:`engine.labels.read_labels` and add its events to the matching clips.

    DatasetError when the file cannot be read at all; ValueError when its format is unknown.
    """
    from engine.labels import read_labels

    clips = list(clips)
    if current and current not in clips:
        clips.append(current)
    res = read_labels(path, fmt, clip=Path(current).name if current else None)
    report = ImportReport(str(path), res.format, problems=[str(p) for p in res.problems])
    per_clip: dict[str, list[Annotation]] = {}
    source = Path(path).name
    for e in res.events:
        target = _match(e.clip, clips, current)
        if target is None:
            report.unmatched += 1
            continue
        try:
            ann = Annotation.from_event(e)
        except ValueError as exc:
            report.problems.append(f"{e.clip or source}: {exc} (not imported)")
            continue
        per_clip.setdefault(target, []).append(ann)
    for clip, anns in per_clip.items():
        report.added[clip] = store.add_many(clip, anns, text=f"Import {source}")
    return report
