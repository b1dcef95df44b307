"""The annotations of every clip, edited only through undoable commands.

An :class:`Annotation` is one labelled region of a clip: ``onset``/``offset`` in seconds from
the start of the clip, ``label``, an optional frequency range ``low_hz``/``high_hz`` (Hz),
``status`` (``manual``: drawn or imported by the annotator; ``proposal``: a model's event not
yet decided; ``accepted``/``rejected``: a decided proposal), ``source`` (the model that
proposed it, or the file it was imported from), ``score`` in [0, 1] (proposals) and ``extra``
(a format's other columns, kept for the round trip). Records are immutable; an edit replaces
a record by another with the same ``id``.

:class:`AnnotationStore` holds them per clip (the clip's absolute path is the key). Every edit
is a QUndoCommand pushed on the clip's own QUndoStack (all stacks are in one QUndoGroup whose
active stack is the current clip's, so Undo/Redo act on the clip on screen). A clip is
*dirty* while its stack is not at its clean index; the autosaver marks it clean after
writing it (:meth:`AnnotationStore.mark_saved`). Loading a clip's saved annotations is not an
edit (not undoable, clean afterwards).
"""
from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack

from . import commands

STATUSES = ("manual", "proposal", "accepted", "rejected")
_ids = itertools.count(1)


def new_id() -> int:
    """A process-wide unique annotation id."""
    return next(_ids)


@dataclass(frozen=True)
class Annotation:
    """One event of a clip (times in s, frequencies in Hz); see the module docstring."""

    onset: float
    offset: float
    label: str
    low_hz: float | None = None
    high_hz: float | None = None
    status: str = "manual"
    source: str | None = None
    score: float | None = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)
    id: int = field(default_factory=new_id, compare=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown annotation status {self.status!r} (one of {', '.join(STATUSES)})")
        if not (self.offset >= self.onset >= 0.0):
            raise ValueError(f"an event needs 0 <= onset <= offset (got {self.onset}, {self.offset})")

    def with_(self, **changes) -> "Annotation":
        """A copy with ``changes``, keeping the id (an edit of the same event)."""
        return replace(self, **changes)

    @property
    def is_box(self) -> bool:
        """Whether the event has a frequency range (a time-frequency box)."""
        return self.low_hz is not None or self.high_hz is not None

    @property
    def is_label(self) -> bool:
        """Whether the event counts as a label (manual or accepted), not a pending or rejected proposal."""
        return self.status in ("manual", "accepted")

    def to_event(self, clip: str | None = None):
        """As an :class:`engine.labels.Event` (status in ``extra['status']``)."""
        from engine.labels import Event

        extra = dict(self.extra)
        extra["status"] = self.status
        return Event(self.onset, self.offset, self.label, self.low_hz, self.high_hz, self.score,
                     self.source, clip, extra)

    @classmethod
    def from_event(cls, e, status: str | None = None, source: str | None = None) -> "Annotation":
        """From an :class:`engine.labels.Event` (a weak event has no times: ValueError)."""
        if e.onset is None or e.offset is None:
            raise ValueError(f"the clip-level label {e.label!r} has no times")
        extra = {k: v for k, v in (e.extra or {}).items() if v != ""}   # an empty cell: no value
        kept = extra.pop("status", None)
        st = status or (kept if kept in STATUSES else "manual")
        return cls(float(e.onset), float(e.offset), e.label, e.low_hz, e.high_hz, st,
                   e.source or source, e.score, extra)


class WeakAttr:
    """An attribute held through a weak reference: the objects the store (or the document) owns
    refer back to it with one, so that no reference cycle runs through Qt objects (a cycle would
    leave their destruction to the cyclic collector, on whichever thread it runs)."""

    def __set_name__(self, owner, name):
        self.key = "_weak_" + name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        ref = obj.__dict__.get(self.key)
        return ref() if ref is not None else None

    def __set__(self, obj, value):
        obj.__dict__[self.key] = weakref.ref(value)


class AnnotationStore(QObject):
    """Per-clip annotations with per-clip undo stacks, dirty state and a shared selection."""

    changed = Signal(str)                 # clip path: its annotations changed (edit, undo, load)
    dirtyChanged = Signal(str, bool)      # clip path, dirty
    selectionChanged = Signal(str, int)   # clip path, id (0: none)
    currentChanged = Signal(str)          # the clip the undo actions act on
    labelRequested = Signal(str, int)     # clip path, id: the user asks to change this event's label

    def __init__(self, parent=None):
        super().__init__(parent)
        self.undo_group = QUndoGroup(self)
        self._data: dict[str, dict[int, Annotation]] = {}
        self._stacks: dict[str, QUndoStack] = {}
        self._loaded: set[str] = set()
        self._revisions: dict[str, int] = {}   # clip -> count of changes (edits, undos, loads)
        self.current = ""
        self.selected: tuple[str, int] = ("", 0)
        self.loader = None   # weakref.WeakMethod of a callable(clip) reading a clip's saved annotations
        self.default_label = ""   # the label of a newly drawn region ("" -> "event")

    # ----------------------------------------------------------------- reading
    def clips(self) -> list[str]:
        """Clips that have (or had) annotations in this session."""
        return list(self._data)

    def events(self, clip: str) -> list[Annotation]:
        """The clip's annotations, by onset (then offset, then id)."""
        return sorted(self._data.get(clip, {}).values(), key=lambda a: (a.onset, a.offset, a.id))

    def get(self, clip: str, ident: int) -> Annotation | None:
        return self._data.get(clip, {}).get(ident)

    def stack(self, clip: str) -> QUndoStack:
        """The clip's undo stack (created on first use)."""
        st = self._stacks.get(clip)
        if st is None:
            st = QUndoStack(self.undo_group)
            st.cleanChanged.connect(self._clean_changed)
            self._stacks[clip] = st
        return st

    @property
    def undo_stack(self) -> QUndoStack:
        """The current clip's undo stack."""
        return self.stack(self.current)

    def is_dirty(self, clip: str) -> bool:
        st = self._stacks.get(clip)
        return st is not None and not st.isClean()

    def dirty_clips(self) -> list[str]:
        return [c for c, st in self._stacks.items() if not st.isClean()]

    def revision(self, clip: str) -> int:
        """A number that changes with every change of the clip's annotations (the autosaver's check)."""
        return self._revisions.get(clip, 0)

    def is_loaded(self, clip: str) -> bool:
        return clip in self._loaded

    # ----------------------------------------------------------------- state
    def set_current(self, clip: str) -> None:
        """The clip on screen: its stack becomes the undo group's active one."""
        self.current = clip or ""
        self.undo_group.setActiveStack(self.stack(self.current))
        self.currentChanged.emit(self.current)

    def select(self, clip: str, ident: int = 0) -> None:
        if (clip, ident) != self.selected:
            self.selected = (clip, ident)
            self.selectionChanged.emit(clip, ident)

    def selected_event(self, clip: str | None = None) -> Annotation | None:
        c, i = self.selected
        if clip is not None and c != clip:
            return None
        return self.get(c, i)

    def load(self, clip: str, annotations) -> None:
        """Replace a clip's annotations with saved ones: not an edit (no undo, clean afterwards)."""
        self._data[clip] = {a.id: a for a in annotations}
        self._revisions[clip] = self.revision(clip) + 1
        self._loaded.add(clip)
        st = self.stack(clip)
        st.clear()
        st.setClean()
        self.changed.emit(clip)

    def ensure_loaded(self, clip: str) -> None:
        """Read the clip's saved annotations if this session has not yet (through ``loader``)."""
        fn = self.loader() if self.loader is not None else None
        if clip not in self._loaded and fn is not None:
            fn(clip)

    def mark_loaded(self, clip: str) -> None:
        """Nothing was saved for ``clip``: it starts empty (its saved state is known)."""
        self._loaded.add(clip)
        self._data.setdefault(clip, {})

    def mark_saved(self, clip: str) -> None:
        self.stack(clip).setClean()

    def _clean_changed(self, clean: bool) -> None:
        st = self.sender()
        for clip, s in self._stacks.items():
            if s is st:
                self.dirtyChanged.emit(clip, not clean)
                return

    def apply_records(self, clip: str, records: dict[int, Annotation | None]) -> None:
        """Put ``records`` (id -> record, None: removed) into the clip; called by the commands only."""
        data = self._data.setdefault(clip, {})
        self._revisions[clip] = self.revision(clip) + 1
        for ident, rec in records.items():
            if rec is None:
                data.pop(ident, None)
            else:
                data[ident] = rec
        if self.selected[0] == clip and self.selected[1] not in data:
            self.select(clip, 0)
        self.changed.emit(clip)

    # ----------------------------------------------------------------- edits (undoable)
    def _push(self, clip: str, cls, *args, **kw):
        """Read the clip's saved state first (``loader``), then build and push a command; returns it."""
        self.ensure_loaded(clip)
        self._loaded.add(clip)
        cmd = cls(self, clip, *args, **kw)
        if not cmd.is_empty():
            self.stack(clip).push(cmd)
        return cmd

    def add(self, clip: str, annotation: Annotation) -> int:
        """Add one event; returns its id."""
        self._push(clip, commands.AddCommand, [annotation])
        return annotation.id

    def delete(self, clip: str, ids) -> bool:
        return not self._push(clip, commands.DeleteCommand, ids).is_empty()

    def move(self, clip: str, ident: int, onset: float, offset: float,
             low_hz=commands.KEEP, high_hz=commands.KEEP) -> bool:
        """Move or resize an event: times in s; frequency edges in Hz (None: no edge), left as they
        are unless given."""
        return not self._push(clip, commands.MoveCommand, ident, onset, offset, low_hz, high_hz).is_empty()

    def relabel(self, clip: str, ids, label: str) -> bool:
        return not self._push(clip, commands.RelabelCommand, ids, label).is_empty()

    def set_status(self, clip: str, ids, status: str) -> bool:
        """Accept (``accepted``), reject (``rejected``) or reopen (``proposal``) events."""
        return not self._push(clip, commands.StatusCommand, ids, status).is_empty()

    def accept_above(self, clip: str, min_score: float, source: str | None = None) -> int:
        """Accept every pending proposal with score >= ``min_score`` (of ``source`` when given);
        returns how many (one undo step)."""
        return self._push(clip, commands.BulkAcceptCommand, min_score, source).count

    def add_proposals(self, clip: str, annotations, source: str) -> int:
        """Add a model's events as proposals, replacing its earlier pending proposals (one undo step)."""
        return len(self._push(clip, commands.ImportCommand, annotations, replace_source=source,
                              text=f"Proposals of {source}").added)

    def add_many(self, clip: str, annotations, text: str = "Import") -> int:
        """Add events (an import) as one undo step."""
        return len(self._push(clip, commands.ImportCommand, annotations, text=text).added)


__all__ = ["Annotation", "AnnotationStore", "STATUSES", "WeakAttr", "new_id"]
