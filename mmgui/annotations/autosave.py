"""Automatic, atomic saving of each clip's annotations, and their restoring.

Where: beside the clip as ``<audio file>.annotations.csv`` (``street.wav`` ->
``street.wav.annotations.csv``); when the clip's folder cannot be written (a read-only
dataset), in ``fallback_dir`` as ``<sha1 of the clip's absolute path, 12 hex>-<audio file
name>.annotations.csv`` (default ``~/.local/share/mmstudio/annotations``). Restoring reads
whichever of the two exists (the newer when both do).

Format: the plain CSV of :mod:`engine.labels` (``filename,onset,offset,label,low_hz,high_hz,
score,source`` then ``status`` and any other column an import brought), which keeps every field
of an :class:`~mmgui.annotations.store.Annotation`; ``mmnet convert`` reads it as it is. (A DCASE
strong TSV cannot: its readers refuse a fifth column.)

When: an edit starts a single-shot timer of ``delay_ms`` (500 ms) that later edits do not
restart, so a clip is written at most ``delay_ms`` plus the write after its first unsaved
edit, even while edits keep coming. A write (on a background thread: the GUI never waits for
the disk) goes to a temporary file in the same folder, is flushed to disk (fsync), then
renamed over the old file (``os.replace``): a crash or a kill at any moment leaves the old
file or the new one, never a mixture.
"""
from __future__ import annotations

import hashlib
import os
import queue
import time
import weakref
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from .store import Annotation, WeakAttr

SUFFIX = ".annotations.csv"


def default_fallback_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local/share") / "mmstudio" / "annotations"


def beside_path(clip: str) -> Path:
    """The annotation file next to the clip."""
    return Path(str(clip) + SUFFIX)


def fallback_path(clip: str, folder: str | os.PathLike) -> Path:
    """The annotation file of a clip whose folder is read-only."""
    key = hashlib.sha1(str(Path(clip).resolve()).encode("utf-8")).hexdigest()[:12]
    return Path(folder) / f"{key}-{Path(clip).name}{SUFFIX}"


def write_annotations(path: str | os.PathLike, clip: str, annotations) -> None:
    """Write a clip's annotations atomically (temporary file, fsync, rename)."""
    from engine.labels import plaincsv

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.saving")
    plaincsv.write(tmp, [a.to_event(Path(clip).name) for a in annotations])
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_annotations(path: str | os.PathLike):
    """(annotations, problems) of a saved file; bad lines are problems (line numbers), not errors.
    DatasetError when the file cannot be read at all."""
    from engine.labels import read_labels

    result = read_labels(path, "csv")
    anns, problems = [], list(result.problems)
    for e in result.events:
        try:
            anns.append(Annotation.from_event(e))
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    return anns, problems


def write_first(targets, clip: str, annotations) -> tuple[str, str, float]:
    """Write to the first target that works: (path written or "", the last error, seconds taken).
    Runs on the save thread: no Qt object here."""
    t0 = time.perf_counter()
    error = ""
    for target in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_annotations(target, clip, annotations)
        except (OSError, ValueError) as exc:
            error = f"{target}: {getattr(exc, 'strerror', None) or exc}"
            continue
        return str(target), "", time.perf_counter() - t0
    return "", error, time.perf_counter() - t0


class AutoSaver(QObject):
    """Saves the store's dirty clips shortly after each edit and restores clips when asked.

    Writes run on one background thread (fsync can take tens of milliseconds), from an
    immutable snapshot of the clip's records taken on the GUI thread; the thread holds no Qt
    object and hands its results back through a queue that a GUI-thread timer drains every
    20 ms. A clip becomes clean only when what was written is still its latest revision.
    :meth:`flush` (closing, quitting, Ctrl+S) writes synchronously and waits for writes under way.

    The store's ``loader`` is set to :meth:`restore`, so a clip's saved annotations are read
    before its first edit in a session (an edit never overwrites a file it has not read).
    """

    store = WeakAttr()

    saved = Signal(str, str)       # clip path, file written
    message = Signal(str, str)     # text, level ("info" | "warning" | "error")

    def __init__(self, store, delay_ms: int = 500, fallback_dir: str | os.PathLike | None = None, parent=None):
        super().__init__(parent if parent is not None else store)
        self.store = store
        self.fallback_dir = Path(fallback_dir) if fallback_dir is not None else default_fallback_dir()
        self.paths: dict[str, Path] = {}      # where each clip was last saved or read
        self.pending: set[str] = set()
        self.write_seconds: deque = deque(maxlen=200)   # seconds of the last writes (file, fsync, rename)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotation-save")
        self._inflight: list[Future] = []
        self._results: queue.SimpleQueue = queue.SimpleQueue()   # (clip, revision, path, error, seconds)
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(20)
        self._drain_timer.timeout.connect(self._drain)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(delay_ms))
        self.timer.timeout.connect(self._save_pending)
        store.changed.connect(self._changed)
        store.loader = weakref.WeakMethod(self.restore)   # weak: no cycle store <-> saver

    def _changed(self, clip: str) -> None:
        if not clip or not self.store.is_loaded(clip):
            return
        self.pending.add(clip)
        if not self.timer.isActive():
            self.timer.start()

    def _save_pending(self, wait: bool = False) -> None:
        self.timer.stop()
        for clip in sorted(self.pending):
            if self.store.is_dirty(clip):
                self.save(clip, wait=wait)
            else:
                self.pending.discard(clip)

    def flush(self) -> None:
        """Write every clip with unsaved edits now and wait until written (closing, quitting)."""
        self.wait()
        self._save_pending(wait=True)

    def wait(self) -> None:
        """Wait for the writes under way and take their results."""
        for f in self._inflight:
            f.result()
        self._inflight.clear()
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                result = self._results.get_nowait()
            except queue.Empty:
                break
            self._written(*result)
        self._inflight = [f for f in self._inflight if not f.done()]
        if not self._inflight and self._results.empty():
            self._drain_timer.stop()

    def path_for(self, clip: str) -> Path:
        return self.paths.get(clip) or beside_path(clip)

    def save(self, clip: str, wait: bool = False) -> None:
        """Write ``clip`` (in the background unless ``wait``); falls back to ``fallback_dir`` when
        the file beside the clip cannot be written."""
        anns = self.store.events(clip)          # immutable records: a snapshot
        rev = self.store.revision(clip)
        targets = [self.path_for(clip)]
        fb = fallback_path(clip, self.fallback_dir)
        if targets[0] != fb:
            targets.append(fb)
        self.pending.discard(clip)
        if wait:
            self._written(clip, rev, *write_first(targets, clip, anns))
            return
        results = self._results

        def job():                      # on the save thread: paths, records and a queue, no Qt object
            results.put((clip, rev, *write_first(targets, clip, anns)))

        self._inflight.append(self._pool.submit(job))
        if not self._drain_timer.isActive():
            self._drain_timer.start()

    def _written(self, clip: str, rev: int, path: str, error: str, seconds: float) -> None:
        if not path:
            self.pending.add(clip)
            self.message.emit(f"Annotations of {Path(clip).name} could not be saved ({error}); "
                              "they are kept in memory and saved again at the next edit", "error")
            return
        self.write_seconds.append(seconds)
        self.paths[clip] = Path(path)
        if self.store.revision(clip) == rev:
            self.store.mark_saved(clip)
        self.saved.emit(clip, path)

    def saved_file(self, clip: str) -> Path | None:
        """The existing annotation file of ``clip`` (the newer of beside and fallback), or None."""
        found = [p for p in (beside_path(clip), fallback_path(clip, self.fallback_dir)) if p.is_file()]
        return max(found, key=lambda p: p.stat().st_mtime) if found else None

    def restore(self, clip: str) -> int:
        """Read the clip's saved annotations into the store (once per session); returns how many."""
        if not clip or self.store.is_loaded(clip):
            return 0
        path = self.saved_file(clip)
        if path is None:
            self.store.mark_loaded(clip)
            return 0
        from engine.errors import DatasetError

        try:
            anns, problems = read_annotations(path)
        except DatasetError as exc:
            self.store.mark_loaded(clip)
            self.paths[clip] = path.with_name(path.name + ".recovered")   # never overwrite what could not be read
            self.message.emit(f"Saved annotations could not be read ({exc}); new edits go to "
                              f"{self.paths[clip].name}", "error")
            return 0
        self.paths[clip] = path
        self.store.load(clip, anns)
        if problems:
            self.message.emit(f"{path}: {len(problems)} bad lines left out, first: {problems[0]}", "warning")
        return len(anns)
