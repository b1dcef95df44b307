"""The clip list: files and dataset clips of the workspace, and which one is current.

A :class:`Clip` wraps what is known before analysis (``ClipInfo``: path, weak and strong
labels) plus what reading its header told (duration in seconds, or an error).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..datasets import ClipInfo, Collection, open_dataset, open_folder
from ..workers import FunctionTask, TaskManager, error_text


@dataclass
class Clip:
    info: ClipInfo
    duration: float | None = None      # seconds, once the header (or an analysis) told it
    error: str | None = None           # why the clip cannot be read, once known

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def weak(self):
        return self.info.weak

    @property
    def strong(self):
        return self.info.strong


class ClipStore(QObject):
    """Ordered clips, a path index and the current clip; folders are scanned in the background."""

    clipsChanged = Signal()            # the list changed (added, cleared)
    clipUpdated = Signal(str)          # one clip's duration/status/analyses changed
    currentClipChanged = Signal(str)   # path ("" for none)
    folderRead = Signal(str, bool)     # the first clip a folder scan added (or found), select it?
    message = Signal(str, str)         # text, level

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.clips: list[Clip] = []
        self._index: dict[str, Clip] = {}
        self.current: Clip | None = None

    def clip(self, path: str | None = None) -> Clip | None:
        """The clip at ``path``, or the current one when ``path`` is None."""
        return self.current if path is None else self._index.get(path)

    def open_folder(self, root: str, split: str | None = None, select: bool = True) -> FunctionTask:
        """Scan a folder (or one split of a dataset, read by ``engine.data``) in the background."""
        task = FunctionTask(f"Reading {os.path.basename(root) or root}", _scan_folder, ("scan", root, split),
                            args=(root, split))
        task.signals.done.connect(lambda coll, r=root, s=select: self._folder_read(r, coll, s))
        task.signals.failed.connect(lambda msg, r=root: self.message.emit(f"{r}: {msg}", "error"))
        return self.tasks.submit(task, "io")

    def _folder_read(self, root: str, coll: Collection, select: bool) -> None:
        for w in coll.warnings:
            self.message.emit(w, "warning")
        if not coll.clips:
            self.message.emit(f"{root}: no audio files found", "warning")
            return
        self.message.emit(f"Opened {coll.title}", "info")
        self.folderRead.emit(self.add(coll.clips) or "", select)

    def add(self, infos: list[ClipInfo]) -> str | None:
        """Add clips (known paths are skipped) and read their durations in the background.
        Returns the clip to show: the first new one, else the first given."""
        new = []
        for info in infos:
            if info.path in self._index:
                continue
            clip = Clip(info)
            self.clips.append(clip)
            self._index[info.path] = clip
            new.append(clip)
        self.clipsChanged.emit()
        if new:
            self._scan_durations([c.path for c in new])
        target = new[0] if new else (self._index.get(infos[0].path) if infos else None)
        return target.path if target is not None else None

    def _scan_durations(self, paths: list[str]) -> None:
        task = FunctionTask(f"Reading {len(paths)} file header(s)", _read_durations, ("durations", len(paths)),
                            args=(paths,))
        task.signals.done.connect(self._durations_read)
        self.tasks.submit(task, "io")

    def _durations_read(self, result: dict) -> None:
        for path, (dur, err) in result.items():
            clip = self._index.get(path)
            if clip is None:
                continue
            if dur is not None:
                clip.duration = dur
            if err and not clip.error:
                clip.error = err
            self.clipUpdated.emit(path)

    def note_duration(self, path: str, seconds: float) -> None:
        """Record a duration learnt elsewhere (a spectrogram, an analysis) if none is known."""
        clip = self._index.get(path)
        if clip is not None and clip.duration is None and seconds:
            clip.duration = float(seconds)
            self.clipUpdated.emit(path)

    def note_error(self, path: str, message: str) -> None:
        clip = self._index.get(path)
        if clip is not None:
            clip.error = message
            self.clipUpdated.emit(path)

    def clear(self) -> None:
        self.clips.clear()
        self._index.clear()
        self.current = None
        self.clipsChanged.emit()
        self.currentClipChanged.emit("")

    def set_current(self, path: str | None) -> bool:
        """Make ``path`` current; False when it already was (nothing emitted)."""
        clip = self._index.get(path) if path else None
        if clip is self.current:
            return False
        self.current = clip
        self.currentClipChanged.emit(path or "")
        return True


# --------------------------------------------------------------- pool-thread work (no Qt objects)
def _scan_folder(task, root: str, split: str | None) -> Collection:
    return open_dataset(root, split) if split else open_folder(root)


def _read_durations(task, paths: list[str]) -> dict[str, tuple[float | None, str | None]]:
    from engine import audio

    out = {}
    for i, path in enumerate(paths):
        task.check()
        try:
            out[path] = (audio.info(path).duration, None)
        except Exception as exc:  # noqa: BLE001 - every failure is reported on its clip
            out[path] = (None, error_text(exc))
        task.report(i / max(1, len(paths)))
    return out
