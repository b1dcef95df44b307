"""Background work for the GUI: cancellable tasks on thread pools that report progress.

Every long operation (reading a folder, computing a spectrogram, loading a model,
analyzing a recording) is a :class:`Task` run on a :class:`QThreadPool`; it
reports progress and its result through Qt signals, which Qt delivers on the GUI
thread. Cancelling sets a flag the task polls (``Predictor.analyze`` polls it
once per audio block), so a cancelled task ends within a block.

Two pools: "io" (spectrograms, playback audio, folder scans) and "compute"
(model loading and analysis), each one thread: analyses run one after another
(a model is never used by two threads) while the spectrogram of the next clip
is being drawn.

Thread rules (why the window cannot freeze on a Qt object dying in a pool thread):

- every Task is created on the GUI thread; its :class:`TaskSignals` (the only Qt object a
  pool thread touches) is given to the :class:`TaskManager` as parent on submission, so its
  C++ side is owned by Qt and can only be destroyed by ``deleteLater()``, which the manager
  calls on the GUI thread after ``finished``. A pool thread that drops the last Python
  reference to a finished task therefore destroys no QObject;
- what a task runs should hold no Qt object (``holds_qobject`` tells); even where one does,
  the cyclic collector never runs on a pool thread (``mmgui.gcpolicy``);
- failures are classified by type (``engine.errors``): ``task.error_type`` is the exception
  class, read on the GUI thread; no exception object (with its frames) crosses threads.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from engine.errors import Cancelled, MMError, ModelFileError, user_message

from .qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py


class TaskCancelled(Exception):
    """Raised inside a task when it notices it was cancelled."""


def error_text(exc: BaseException) -> str:
    """One line saying what went wrong, for the status bar and message boxes (decided by type)."""
    return user_message(exc)


class TaskSignals(QObject):
    progress = Signal(float)        # fraction in [0, 1]
    partial = Signal(object)        # intermediate result (e.g. more spectrogram frames)
    done = Signal(object)           # the result
    failed = Signal(str)            # one-line reason
    error = Signal(str, object)     # the same reason and the exception's class (decide by type)
    cancelled = Signal()
    finished = Signal()             # after any of done / failed / cancelled


class Task(QRunnable):
    """A unit of background work. Subclasses implement :meth:`work`."""

    def __init__(self, label: str, key: tuple = ()):
        super().__init__()
        self.setAutoDelete(False)
        self.label = label
        self.key = key
        self.signals = TaskSignals()   # parented to the TaskManager on submit (C++-owned)
        self._cancel = threading.Event()
        self._last_report = 0.0
        self.fraction = 0.0
        self.started = False
        self.error_type: type | None = None   # the exception class of a failure (decide by type)
        self.traceback = ""

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise TaskCancelled()

    def report(self, fraction: float, force: bool = False) -> None:
        """Progress, at most 20 times a second."""
        self.fraction = float(fraction)
        now = time.monotonic()
        if force or now - self._last_report > 0.05:
            self._last_report = now
            self.signals.progress.emit(self.fraction)

    def run(self) -> None:  # called on a pool thread
        self.started = True
        try:
            if self.is_cancelled:
                raise TaskCancelled()
            result = self.work()
        except (TaskCancelled, Cancelled):
            self.signals.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message
            self.error_type = type(exc)
            self.traceback = traceback.format_exc()
            self.signals.error.emit(error_text(exc), type(exc))
            self.signals.failed.emit(error_text(exc))
        else:
            self.signals.done.emit(result)
        self.signals.finished.emit()

    def work(self):
        raise NotImplementedError


def holds_qobject(fn: Callable) -> bool:
    """True when ``fn`` (a function, lambda or bound method) keeps a QObject alive: its ``self``,
    a default argument or a closure cell."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, QObject):
        return True
    fn = getattr(fn, "__func__", fn)
    values = list(getattr(fn, "__defaults__", None) or ())
    values += [c.cell_contents for c in (getattr(fn, "__closure__", None) or ()) if _filled(c)]
    return any(isinstance(v, QObject) for v in values)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


class FunctionTask(Task):
    """Run ``fn(task, *args)`` in the background.

    ``fn`` and ``args`` must not hold a Qt object (checked: TypeError otherwise). A closure
    over a widget would keep it alive inside the pool, and its last reference could then be
    dropped (and the widget finalized) on a pool thread: the deadlock of issue 9. Pass a
    module-level function and plain data; results come back through ``signals.done``.
    """

    def __init__(self, label: str, fn: Callable, key: tuple = (), args: tuple = ()):
        if holds_qobject(fn) or any(isinstance(a, QObject) for a in args):
            raise TypeError(f"FunctionTask {label!r}: the function or its arguments hold a Qt object; "
                            "pass a module-level function and plain data")
        super().__init__(label, key)
        self.fn = fn
        self.args = tuple(args)

    def work(self):
        return self.fn(self, *self.args)


class SpectrogramTask(Task):
    """Stream a file into a :class:`SpectrogramPyramid` (engine.audio + engine.features.LogMelStream).

    ``entry`` (a document SpectrogramEntry) receives the pyramid and the mel band
    frequencies before the first ``partial`` signal; ``partial`` follows each block
    so the view can draw what is there. Keeps the samples for playback when the
    recording is at most ``keep_audio_s`` long.
    """

    def __init__(self, path: str, entry, feature_settings: dict, block_s: float = 10.0,
                 keep_audio_s: float = 1200.0):
        super().__init__(f"Spectrogram of {path.rsplit('/', 1)[-1]}", ("spectrogram", path))
        self.path = path
        self.entry = entry
        self.settings = dict(feature_settings)
        self.block_s = block_s
        self.keep_audio_s = keep_audio_s

    def work(self):
        from engine import audio
        from engine.features import FeatureConfig, LogMelStream

        from .pyramid import SpectrogramPyramid

        cfg = FeatureConfig.from_dict(self.settings) if self.settings else FeatureConfig()
        inf = audio.info(self.path)
        n_est = int(round(inf.frames * cfg.sr / max(1, inf.sr)))
        total = max(1, cfg.n_frames(n_est))
        pyramid = SpectrogramPyramid(cfg.n_mels, cfg.frame_hop_s, capacity=total + 8)
        self.entry.mel_hz = cfg.mel_frequencies()
        self.entry.pyramid = pyramid
        keep = inf.duration <= self.keep_audio_s
        samples = np.zeros(n_est + cfg.sr, np.float32) if keep else None
        n = 0
        stream = LogMelStream(cfg)
        for block in audio.iter_blocks(self.path, cfg.sr, self.block_s):
            self.check()
            if keep:
                if n + len(block) > len(samples):
                    samples = np.concatenate([samples, np.zeros(len(block) + cfg.sr, np.float32)])
                samples[n:n + len(block)] = block
            n += len(block)
            pyramid.append(stream.feed(block).numpy())
            self.signals.partial.emit(pyramid.frames)
            self.report(pyramid.frames / total)
        pyramid.append(stream.finish().numpy())
        pyramid.finish()
        self.report(1.0, force=True)
        return {"duration": n / cfg.sr, "samples": samples[:n] if keep else None, "sr": cfg.sr}


class PlaybackAudioTask(Task):
    """Samples of a long recording for the player, at a reduced rate to bound memory."""

    def __init__(self, path: str, sr: int):
        super().__init__(f"Audio of {path.rsplit('/', 1)[-1]}", ("playback", path))
        self.path, self.sr = path, int(sr)

    def work(self):
        from engine import audio

        inf = audio.info(self.path)
        est = int(round(inf.frames * self.sr / max(1, inf.sr))) + self.sr
        out = np.zeros(est, np.float32)
        n = 0
        for block in audio.iter_blocks(self.path, self.sr, 60.0):
            self.check()
            if n + len(block) > len(out):
                out = np.concatenate([out, np.zeros(len(block), np.float32)])
            out[n:n + len(block)] = block
            n += len(block)
            self.report(n / max(1, est))
        return {"samples": out[:n], "sr": self.sr}


class AnalysisTask(Task):
    """Load a model (once; kept in ``predictors``) and analyze one file with it."""

    def __init__(self, clip_path: str, model_path: str, predictors: dict, lock: threading.Lock, label: str = ""):
        super().__init__(label or f"Analysis of {clip_path.rsplit('/', 1)[-1]}", ("analysis", clip_path, model_path))
        self.clip_path, self.model_path = clip_path, model_path
        self.predictors, self.lock = predictors, lock

    def work(self):
        import engine

        with self.lock:
            pred = self.predictors.get(self.model_path)
        if pred is None:
            try:
                pred = engine.load_model(self.model_path, device="cpu")
            except MMError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever stops loading makes the model unusable
                raise ModelFileError(f"{self.model_path}: cannot load ({user_message(exc)})") from None
            with self.lock:
                self.predictors[self.model_path] = pred
        self.check()
        # batches of 2 windows: the first ResNet layers of 8 windows at once take ~0.5 GB of activations
        return pred.analyze(self.clip_path, batch_size=2, progress=self.report, cancel=lambda: self.is_cancelled)


class TaskManager(QObject):
    """Runs tasks on named pools, keeps them alive until finished, sums up progress."""

    busyChanged = Signal(bool)
    progressChanged = Signal(str, float)   # label of the oldest running task, its fraction

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pools = {"io": QThreadPool(self), "compute": QThreadPool(self)}
        for p in self.pools.values():
            p.setMaxThreadCount(1)
        self.tasks: list[Task] = []

    def submit(self, task: Task, pool: str = "compute", priority: int = 0) -> Task:
        """Start ``task`` (call on the GUI thread); the manager owns its signals from now on."""
        self.tasks.append(task)
        task.signals.setParent(self)        # C++ ownership: only deleteLater() below destroys it
        task.signals.progress.connect(self._on_progress)
        task.signals.finished.connect(self._on_finished)
        was_busy = len(self.tasks) > 1
        self.pools[pool].start(task, priority)
        if not was_busy:
            self.busyChanged.emit(True)
        self._progress(task)
        return task

    def find(self, key: tuple) -> Task | None:
        for t in self.tasks:
            if t.key == key and not t.is_cancelled:
                return t
        return None

    def cancel(self, predicate: Callable[[Task], bool] | None = None) -> int:
        n = 0
        for t in list(self.tasks):
            if predicate is None or predicate(t):
                t.cancel()
                n += 1
        return n

    @property
    def busy(self) -> bool:
        return bool(self.tasks)

    def _task_of(self, signals) -> Task | None:
        for t in self.tasks:
            if t.signals is signals:
                return t
        return None

    def _on_progress(self, _fraction: float) -> None:
        task = self._task_of(self.sender())
        if task is not None:
            self._progress(task)

    def _on_finished(self) -> None:
        signals = self.sender()
        task = self._task_of(signals)
        if task is not None:
            self._finished(task)
        if signals is not None:
            signals.deleteLater()           # on the GUI thread, after every queued signal of the task

    def _progress(self, task: Task) -> None:
        running = [t for t in self.tasks if t.started and not t.is_cancelled] or self.tasks
        if running:
            t = running[0]
            pending = len(self.tasks) - 1
            label = t.label + (f"  (+{pending} queued)" if pending else "")
            self.progressChanged.emit(label, t.fraction)

    def _finished(self, task: Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        if self.tasks:
            self._progress(self.tasks[0])
        else:
            self.progressChanged.emit("", 1.0)
            self.busyChanged.emit(False)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel everything, wait for the threads, and drop what they posted (on closing).

        A task that finished just before the cancel has its results queued on the GUI
        thread; delivered later, they would reach the views of a closed document (a test
        saw a pane of an earlier window, already deleted, repainted that way). Destroying
        each remaining task's :class:`TaskSignals` now, on the GUI thread and with the
        threads done, removes those queued calls with it.
        """
        self.cancel()
        finished = True
        for p in self.pools.values():
            p.clear()
            finished = p.waitForDone(timeout_ms) and finished
        if not finished:            # a thread may still emit: leave its signals alone
            return
        for task in self.tasks:
            if shiboken6.isValid(task.signals):
                shiboken6.delete(task.signals)
        self.tasks.clear()
