"""The undoable edits of an :class:`~mmgui.annotations.store.AnnotationStore`.

Each command records, for the events it touches, the record before and after (None: absent),
so that ``redo`` and ``undo`` put one set or the other back (``AnnotationStore.apply_records``).
Commands are built against the store's present state and pushed with ``QUndoStack.push``,
which calls ``redo`` at once. A command holds its store weakly: the store's stacks own the
commands (C++), so a strong reference back would be a cycle through Qt objects, which the
cyclic collector must never have to break (it would delete the commands under itself).
"""
from __future__ import annotations

import weakref

from PySide6.QtGui import QUndoCommand

KEEP = object()   # MoveCommand: leave the frequency edge as it is


class SwapCommand(QUndoCommand):
    """Replace some records of one clip by others; the base of every edit."""

    def __init__(self, store, clip: str, before: dict, after: dict, text: str):
        super().__init__(text)
        self._store, self.clip = weakref.ref(store), clip
        self.before, self.after = before, after

    def is_empty(self) -> bool:
        return self.before == self.after

    def redo(self) -> None:
        store = self._store()
        if store is not None:
            store.apply_records(self.clip, self.after)

    def undo(self) -> None:
        store = self._store()
        if store is not None:
            store.apply_records(self.clip, self.before)


def _records(store, clip: str, ids) -> dict:
    out = {}
    for i in ids:
        rec = store.get(clip, int(i))
        if rec is not None:
            out[rec.id] = rec
    return out


class AddCommand(SwapCommand):
    def __init__(self, store, clip: str, annotations):
        anns = list(annotations)
        text = f"Add {anns[0].label!r}" if len(anns) == 1 else f"Add {len(anns)} events"
        super().__init__(store, clip, {a.id: None for a in anns}, {a.id: a for a in anns}, text)


class DeleteCommand(SwapCommand):
    def __init__(self, store, clip: str, ids):
        recs = _records(store, clip, ids)
        text = f"Delete {len(recs)} event" + ("s" if len(recs) != 1 else "")
        super().__init__(store, clip, recs, {k: None for k in recs}, text)


class MoveCommand(SwapCommand):
    """Move or resize one event: new onset/offset (s) and, unless KEEP, frequency edges (Hz)."""

    def __init__(self, store, clip: str, ident: int, onset: float, offset: float, low_hz=KEEP, high_hz=KEEP):
        rec = store.get(clip, ident)
        before = {ident: rec} if rec is not None else {}
        after = {}
        if rec is not None:
            onset, offset = sorted((max(0.0, float(onset)), max(0.0, float(offset))))
            changes = dict(onset=onset, offset=offset)
            if low_hz is not KEEP:
                changes["low_hz"] = None if low_hz is None else float(low_hz)
            if high_hz is not KEEP:
                changes["high_hz"] = None if high_hz is None else float(high_hz)
            lo, hi = changes.get("low_hz", rec.low_hz), changes.get("high_hz", rec.high_hz)
            if lo is not None and hi is not None and hi < lo:
                changes["low_hz"], changes["high_hz"] = hi, lo
            after = {ident: rec.with_(**changes)}
        super().__init__(store, clip, before, after, "Move event")

    def is_empty(self) -> bool:
        return not self.after or self._same(self.before, self.after)

    @staticmethod
    def _same(a: dict, b: dict) -> bool:
        (ra,), (rb,) = a.values(), b.values()
        return (ra.onset, ra.offset, ra.low_hz, ra.high_hz) == (rb.onset, rb.offset, rb.low_hz, rb.high_hz)


class RelabelCommand(SwapCommand):
    def __init__(self, store, clip: str, ids, label: str):
        label = str(label).strip()
        if not label:
            raise ValueError("a label cannot be empty")
        recs = _records(store, clip, ids)
        super().__init__(store, clip, recs, {k: r.with_(label=label) for k, r in recs.items()},
                         f"Label {label!r}")


class StatusCommand(SwapCommand):
    def __init__(self, store, clip: str, ids, status: str):
        recs = _records(store, clip, ids)
        after = {k: r.with_(status=status) for k, r in recs.items()}
        verb = {"accepted": "Accept", "rejected": "Reject", "proposal": "Reopen", "manual": "Make manual"}
        super().__init__(store, clip, recs, after, f"{verb.get(status, status)} {len(recs)} event(s)")


class BulkAcceptCommand(SwapCommand):
    """Accept every pending proposal with a score >= ``min_score`` (optionally of one source)."""

    def __init__(self, store, clip: str, min_score: float, source: str | None = None):
        recs = {a.id: a for a in store.events(clip)
                if a.status == "proposal" and a.score is not None and a.score >= min_score
                and (source is None or a.source == source)}
        self.count = len(recs)
        super().__init__(store, clip, recs, {k: r.with_(status="accepted") for k, r in recs.items()},
                         f"Accept {len(recs)} proposals with score ≥ {min_score:g}")


class ImportCommand(SwapCommand):
    """Add many events at once; with ``replace_source``, that source's pending proposals go."""

    def __init__(self, store, clip: str, annotations, replace_source: str | None = None, text: str = "Import"):
        self.added = list(annotations)
        gone = {}
        if replace_source is not None:
            gone = {a.id: a for a in store.events(clip) if a.status == "proposal" and a.source == replace_source}
        before = dict(gone)
        before.update({a.id: None for a in self.added})
        after = {k: None for k in gone}
        after.update({a.id: a for a in self.added})
        super().__init__(store, clip, before, after, f"{text} ({len(self.added)} events)")

    def is_empty(self) -> bool:
        return not self.before and not self.after
