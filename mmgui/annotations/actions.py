"""What the Annotate menu, the shortcuts and the annotations dock do, on the current clip.

:class:`Annotator` acts on the document's current clip and the store's selection: delete,
accept, reject, relabel (label picker: the models' classes, the labels in use, or a new one),
next/previous event (selects it and moves the playhead to it), play the region (loop it and
start playback), proposals from model A or B (asking for the analysis when it is missing and
proposing when it arrives), bulk accept above a score, import and export with file dialogs.
Results and bad input are reported through ``doc.message``; nothing here raises to Qt.
"""
from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog

from . import files, proposals
from .store import WeakAttr

FORMAT_FILTERS = {   # engine.labels format -> file dialog filter
    "dcase": "DCASE strong TSV (*.tsv)", "dcase-weak": "DCASE weak TSV (*.tsv)",
    "audacity": "Audacity label track (*.txt)", "raven": "Raven selection table (*.selections.txt)",
    "sv": "Sonic Visualiser layer CSV (*.sv.csv)", "csv": "Plain CSV, every field (*.csv)",
}
SUFFIXES = {"dcase": ".tsv", "dcase-weak": ".tsv", "audacity": ".txt", "raven": ".selections.txt",
            "sv": ".sv.csv", "csv": ".csv"}


class Annotator(QObject):
    """The annotation actions on the current clip; the dock (``set_panel``) gives the selected rows."""

    store = WeakAttr()
    doc = WeakAttr()

    def __init__(self, store, doc, parent=None, play=None):
        super().__init__(parent)
        self.store, self.doc = store, doc
        self.play = play                 # callable starting playback (the window's transport)
        self.panel = lambda: None        # weak reference to the dock's panel (its selection, dialogs' parent)
        self._waiting: set[tuple[str, str]] = set()   # (clip, model path) proposals wait for
        store.labelRequested.connect(self._label_requested)
        doc.analysisChanged.connect(self._analysis_arrived)

    # ------------------------------------------------------------ helpers
    def clip(self) -> str:
        return self.doc.current.path if self.doc.current else ""

    def say(self, text: str, level: str = "info") -> None:
        self.doc.message.emit(text, level)

    def set_panel(self, panel) -> None:
        self.panel = weakref.ref(panel)

    @property
    def parent_widget(self):
        return self.panel()

    def selected_ids(self) -> list[int]:
        panel = self.panel()
        ids = panel.selected_ids() if panel is not None else []
        c, i = self.store.selected
        if not ids and c == self.clip() and i:
            ids = [i]
        return ids

    def known_labels(self) -> list[str]:
        """Labels to pick from: the models' classes (A, then B), the dataset's labels of the open
        clips (weak and strong), then the labels in use."""
        out: list[str] = []
        for slot in ("A", "B"):
            entry = self.doc.model(slot)
            out += entry.classes if entry is not None else []
        for clip in self.doc.clips:
            out += list(clip.weak or []) + [label for _, _, label in (clip.strong or [])]
        for clip in self.store.clips():
            out += [a.label for a in self.store.events(clip)]
        return list(dict.fromkeys(out))       # first occurrence wins, order kept

    # ------------------------------------------------------------ one event
    def delete_selected(self) -> None:
        if self.clip():
            self.store.delete(self.clip(), self.selected_ids())

    def _decide(self, status: str) -> None:
        """Accept or reject the selected proposals (manual events are yours: delete those instead)."""
        clip = self.clip()
        ids = [i for i in self.selected_ids() if (a := self.store.get(clip, i)) is not None and a.status != "manual"]
        if not ids:
            self.say("Select a proposal to accept or reject (N / P go through the events)", "warning")
            return
        self.store.set_status(clip, ids, status)
        self.step(1)

    def accept_selected(self) -> None:
        self._decide("accepted")

    def reject_selected(self) -> None:
        self._decide("rejected")

    def relabel_selected(self, label: str | None = None) -> None:
        ids = self.selected_ids()
        if not ids or not self.clip():
            self.say("Select an event first (click it, or N / P)", "warning")
            return
        if label is None:
            ann = self.store.get(self.clip(), ids[0])
            label = self.pick_label(ann.label if ann else "")
        if label:
            self.store.relabel(self.clip(), ids, label)
            self.store.default_label = label

    def relabel_dialog(self) -> None:
        """Change the selected events' label with the picker (a slot: takes no argument)."""
        self.relabel_selected(None)

    def pick_label(self, initial: str = "") -> str | None:
        """The label picker: a list of known labels, editable for a new one."""
        choices = self.known_labels()
        if initial and initial not in choices:
            choices.insert(0, initial)
        index = choices.index(initial) if initial in choices else 0
        text, ok = QInputDialog.getItem(self.parent_widget, "Label", "Label (pick one or type a new one):",
                                        choices or [""], index, True)
        text = text.strip()
        return text if ok and text else None

    def _label_requested(self, clip: str, ident: int) -> None:
        if clip == self.clip():
            self.store.select(clip, ident)
            self.relabel_selected(None)

    def step(self, delta: int) -> None:
        """Select the next (delta > 0) or previous event of the clip and move the playhead to its onset."""
        clip = self.clip()
        events = self.store.events(clip) if clip else []
        if not events:
            return
        c, cur = self.store.selected
        ids = [a.id for a in events]
        if c == clip and cur in ids:
            k = ids.index(cur) + (1 if delta > 0 else -1)
        else:
            t = self.doc.playhead
            later = [i for i, a in enumerate(events) if a.onset >= t - 1e-9]
            k = (later[0] if later else len(events)) if delta > 0 else (later[0] - 1 if later else len(events) - 1)
        k = max(0, min(len(events) - 1, k))
        self.store.select(clip, events[k].id)
        self.doc.request_seek(events[k].onset)

    def play_selected(self) -> None:
        """Loop the selected event's time range and play it."""
        ann = self.store.selected_event(self.clip())
        if ann is None:
            self.say("Select an event to play", "warning")
            return
        set_loop = getattr(self.doc, "set_loop", None)
        if set_loop is not None:
            set_loop((ann.onset, max(ann.offset, ann.onset + 0.01)))
        self.doc.request_seek(ann.onset)
        if self.play is not None:
            self.play()

    # ------------------------------------------------------------ proposals
    def propose(self, slot: str) -> None:
        clip = self.clip()
        try:
            n = proposals.propose(self.store, self.doc, slot, clip)
        except LookupError as exc:
            self.say(f"No proposals: {exc}", "warning")
            return
        if n is None:
            entry = self.doc.model(slot)
            self._waiting.add((clip, entry.path))
            self.doc.request_analysis(clip, entry.path)
            self.say(f"Analyzing with {entry.name}; its events will be proposed when it is done")
            return
        self.say(f"{n} events of model {slot} proposed")

    def _analysis_arrived(self, clip: str, model_path: str) -> None:
        if (clip, model_path) not in self._waiting:
            return
        self._waiting.discard((clip, model_path))
        if self.doc.analysis(model_path, clip) is None:
            return
        n = self.store.add_proposals(clip, proposals.as_proposals(self.doc.events(model_path, clip),
                                                                  proposals.source_name(model_path)),
                                     proposals.source_name(model_path))
        self.say(f"{n} events of {Path(model_path).name} proposed")

    def accept_above_spin(self) -> int:
        """Accept the proposals with a score at least the dock's spin box value."""
        panel = self.panel()
        return self.accept_above(panel.score_spin.value() if panel is not None else 0.5)

    def accept_above(self, min_score: float) -> int:
        if not self.clip():
            return 0
        n = self.store.accept_above(self.clip(), float(min_score))
        self.say(f"{n} proposals with score ≥ {min_score:g} accepted")
        return n

    # ------------------------------------------------------------ files
    def clip_paths(self) -> list[str]:
        return [c.path for c in (self.doc.clips or [])]

    def import_dialog(self) -> None:
        filters = ";;".join(["Label files (*.tsv *.txt *.csv)", *FORMAT_FILTERS.values()])
        path, chosen = QFileDialog.getOpenFileName(self.parent_widget, "Import annotations", "", filters)
        if path:
            fmt = next((k for k, v in FORMAT_FILTERS.items() if v == chosen), None)
            self.import_path(path, fmt)

    def import_path(self, path: str, fmt: str | None = None):
        from engine.errors import DatasetError

        try:
            report = files.import_file(self.store, path, self.clip_paths(), self.clip() or None, fmt)
        except (DatasetError, ValueError) as exc:
            self.say(f"Nothing imported: {exc}", "error")
            return None
        self.say(report.summary(), "warning" if report.problems or report.unmatched else "info")
        return report

    def export_dialog(self, scope: str = "clip") -> None:
        """scope: 'clip' (this clip), 'selected', 'folder' (every open clip, one file), 'per-clip'."""
        filters = ";;".join(FORMAT_FILTERS.values())
        if scope == "per-clip":
            folder = QFileDialog.getExistingDirectory(self.parent_widget, "Export one file per clip into")
            if not folder:
                return
            fmt, ok = QInputDialog.getItem(self.parent_widget, "Format", "Format of the files:",
                                           list(FORMAT_FILTERS), 0, False)
            if ok:
                self.export_to(folder, fmt, scope)
            return
        path, chosen = QFileDialog.getSaveFileName(self.parent_widget, "Export annotations", "", filters)
        if path:
            fmt = next((k for k, v in FORMAT_FILTERS.items() if v == chosen), None)
            if fmt and not path.lower().endswith(SUFFIXES[fmt]):
                path += SUFFIXES[fmt]
            self.export_to(path, fmt, scope)

    def export_to(self, path: str, fmt: str | None, scope: str = "clip", statuses=files.LABEL_STATUSES):
        """Write the events of ``scope`` (see :meth:`export_dialog`); returns the files or None."""
        clips = self.clip_paths() if scope in ("folder", "per-clip") else [self.clip()]
        clips = [c for c in clips if c]
        ids = self.selected_ids() if scope == "selected" else None
        if scope == "selected":
            statuses = None             # what was selected, whatever its status
        root = _common_root(clips) if len(clips) > 1 else None
        try:
            out = files.export(self.store, path, clips, fmt, ids=ids, statuses=statuses, root=root,
                               per_clip=scope == "per-clip")
        except (ValueError, OSError) as exc:
            self.say(f"Not exported: {exc}", "error")
            return None
        self.say(f"Annotations exported to {out[0] if len(out) == 1 else Path(path)} ({len(out)} file(s))")
        return out


def _common_root(clips) -> str:
    import os

    return os.path.commonpath([str(Path(c).parent) for c in clips])
