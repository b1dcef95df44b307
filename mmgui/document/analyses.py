"""Analyses of clips by models: requested in the background, kept per (clip, model), and
their detected events under the workspace's event settings (median filter, minimum length)."""
from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, Signal

from engine.errors import AudioError, ModelFileError

from ..workers import AnalysisTask, TaskManager
from .clips import ClipStore
from .models import ModelStore


class AnalysisStore(QObject):
    analysisChanged = Signal(str, str)   # clip path, model path: an analysis arrived (or failed)
    eventsChanged = Signal()             # the event settings changed: every event list is new
    message = Signal(str, str)

    def __init__(self, tasks: TaskManager, clips: ClipStore, models: ModelStore, parent=None):
        super().__init__(parent)
        self.tasks, self.clip_store, self.model_store = tasks, clips, models
        self.analyses: dict[tuple[str, str], object] = {}     # (clip, model) -> engine Analysis
        self.errors: dict[tuple[str, str], str] = {}
        self.predictors: dict[str, object] = {}               # model path -> loaded Predictor
        self._pred_lock = threading.Lock()
        self._events: dict[tuple[str, str], list] = {}
        self.median_s = 0.0
        self.min_duration_s = 0.0

    def get(self, model: str | None, clip: str | None):
        return self.analyses.get((clip, model)) if model and clip else None

    def error(self, model: str | None, clip: str | None) -> str | None:
        return self.errors.get((clip, model)) if model and clip else None

    def is_running(self, model: str | None, clip: str | None) -> bool:
        return self.tasks.find(("analysis", clip, model)) is not None

    def request(self, clip_path: str, model_path: str, batch: bool = False, label: str = ""):
        """Start the analysis of a clip by a model unless it is known, failed or under way."""
        key = (clip_path, model_path)
        if key in self.analyses or key in self.errors:
            return None
        entry = self.model_store.model(model_path)
        clip = self.clip_store.clip(clip_path)
        if entry is None or entry.error or (clip is not None and clip.error):
            return None
        existing = self.tasks.find(("analysis", clip_path, model_path))
        if existing is not None:
            existing.batch = getattr(existing, "batch", False) or batch
            return existing
        task = AnalysisTask(clip_path, model_path, self.predictors, self._pred_lock,
                            label or f"{entry.name}: analysis of {os.path.basename(clip_path)}")
        task.batch = batch
        task.signals.done.connect(lambda a, k=key: self._done(k, a))
        task.signals.error.connect(lambda msg, kind, k=key: self._failed(k, msg, kind))
        return self.tasks.submit(task, "compute", priority=0 if batch else 1)

    def request_all(self, clip_paths: list[str], model_paths: list[str]) -> int:
        """Analyze every clip with every model (in the background); the number of analyses started."""
        todo = [(c, m) for c in clip_paths for m in model_paths
                if m and (c, m) not in self.analyses and not getattr(self.clip_store.clip(c), "error", None)]
        for i, (c, m) in enumerate(todo):
            name = self.model_store.model(m).name
            self.request(c, m, batch=True, label=f"{name}: {os.path.basename(c)} ({i + 1}/{len(todo)})")
        return len(todo)

    def cancel_except(self, clip_path: str | None) -> None:
        """Drop interactive analyses of clips other than ``clip_path`` (batch analyses go on)."""
        self.tasks.cancel(lambda t: t.key and t.key[0] == "analysis" and t.key[1] != clip_path
                          and not getattr(t, "batch", False))

    def _done(self, key, analysis) -> None:
        self.analyses[key] = analysis
        entry = self.model_store.model(key[1])
        self.message.emit(f"{entry.name if entry else 'model'}: analyzed {os.path.basename(key[0])} "
                          f"({analysis.duration:.1f} s)", "info")
        self._events.pop(key, None)
        self.clip_store.note_duration(key[0], analysis.duration)
        self.analysisChanged.emit(*key)
        self.clip_store.clipUpdated.emit(key[0])

    def _failed(self, key, msg: str, kind) -> None:
        """A broken model file disables the model; unreadable audio marks the clip; the rest,
        the pair."""
        clip_path, model_path = key
        if isinstance(kind, type) and issubclass(kind, ModelFileError):
            self.model_store.mark_broken(model_path, msg)
        else:
            self.errors[key] = msg
            if isinstance(kind, type) and issubclass(kind, AudioError):
                self.clip_store.note_error(clip_path, msg)
        self.message.emit(msg, "error")
        self.analysisChanged.emit(*key)
        self.clip_store.clipUpdated.emit(clip_path)

    # ------------------------------------------------------------------ events
    def events(self, model: str | None, clip: str | None) -> list:
        """Detected events of an analysis under the current settings ([] until analyzed)."""
        key = (clip, model)
        if key not in self._events:
            a = self.analyses.get(key)
            if a is None:
                return []
            self._events[key] = a.events(median_s=self.median_s, min_duration_s=self.min_duration_s)
        return self._events[key]

    def detected_labels(self, model: str, clip_path: str) -> set[str] | None:
        if (clip_path, model) not in self.analyses:
            return None
        return {e.label for e in self.events(model, clip_path)}

    def disagreement(self, clip_path: str, a: str | None, b: str | None) -> tuple[set[str], set[str]] | None:
        """(labels only A detects, labels only B detects) on a clip, once both analyzed it."""
        if not a or not b:
            return None
        la, lb = self.detected_labels(a, clip_path), self.detected_labels(b, clip_path)
        if la is None or lb is None:
            return None
        return la - lb, lb - la

    def set_event_settings(self, median_s: float, min_duration_s: float) -> None:
        self.median_s, self.min_duration_s = float(median_s), float(min_duration_s)
        self._events.clear()
        self.eventsChanged.emit()
