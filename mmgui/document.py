"""The open workspace: clips, models, analyses per (clip, model), selection, playhead.

Views read from the :class:`Document` and subscribe to its signals; they never call
each other. The document starts background work (``mmgui.workers``) when something
it needs is missing (the spectrogram of the current clip, the analyses of the
current clip by the two compared models) and announces results by signals.

Models are referred to by two slots: "A" (the selected model, shown in the
analysis panes) and "B" (the model it is compared with).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from .datasets import ClipInfo, Collection, is_audio, is_model, strong_for_file
from .pyramid import SpectrogramPyramid
from .qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py
from .workers import AnalysisTask, FunctionTask, PlaybackAudioTask, SpectrogramTask, TaskManager

PRETTY_METHODS = {
    "convnet-mean": "ConvNet-mean", "resnet-mean": "ResNet-mean", "resnet-max": "ResNet-max",
    "resnet-wlat": "ResNet-WLAT", "resnet-slat": "ResNet-SLAT", "resnet-plat": "ResNet-PLAT",
    "resnet-att": "ResNet-ATT", "resnet-att-class": "ResNet-ATT-class", "mmnet": "M&mnet", "mmnet-ms": "M&mnet-MS",
}
SLOTS = ("A", "B")
# recordings up to this length keep their 44.1 kHz samples for playback; longer ones are
# played from a 22.05 kHz copy (memory: 318 MB per hour instead of 635 MB)
FULL_RATE_PLAYBACK_S = 1200.0
LONG_PLAYBACK_SR = 22050


@dataclass
class ModelEntry:
    """A model file the workspace knows: its metadata (header only) or why it cannot be used."""

    path: str
    meta: dict | None = None
    error: str | None = None
    origin: str = "opened"        # "bundled" | "trained" | "opened"

    @property
    def method(self) -> str:
        return (self.meta or {}).get("method", "?")

    @property
    def classes(self) -> list[str]:
        return list((self.meta or {}).get("classes", []))

    @property
    def thresholds(self) -> np.ndarray:
        thr = (self.meta or {}).get("thresholds") or [0.5] * len(self.classes)
        return np.asarray(thr, np.float32)

    @property
    def name(self) -> str:
        pretty = PRETTY_METHODS.get(self.method, self.method)
        stem = Path(self.path).stem
        if self.origin == "trained":
            return f"{pretty} · {Path(self.path).parent.name}"
        if stem == self.method:
            return pretty
        return f"{pretty} · {stem}"

    @property
    def scales(self) -> list[dict]:
        return list((self.meta or {}).get("scales", []))


@dataclass
class Clip:
    info: ClipInfo
    duration: float | None = None
    error: str | None = None

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


@dataclass
class SpectrogramEntry:
    """The display spectrogram of one clip (a pyramid filled in the background)."""

    path: str
    pyramid: SpectrogramPyramid | None = None     # created by the task once it knows the features
    mel_hz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    duration: float = 0.0
    finished: bool = False
    error: str | None = None
    levels: tuple[float, float] | None = None
    task: object = field(default=None, repr=False)


class Document(QObject):
    clipsChanged = Signal()                 # the clip list changed (added, cleared)
    clipUpdated = Signal(str)               # one clip's duration/status/analyses changed
    currentClipChanged = Signal(str)        # path ("" for none)
    modelsChanged = Signal()                # models added or their state changed
    slotsChanged = Signal()                 # which models are A and B
    analysisChanged = Signal(str, str)      # clip path, model path: an analysis arrived (or failed)
    spectrogramChanged = Signal(str)        # clip path: more frames, finished, or failed
    specLevelsChanged = Signal(float, float)
    displayChanged = Signal()               # scale, attention mode, classes, event settings
    playheadChanged = Signal(float)
    seekRequested = Signal(float)
    loopChanged = Signal(object)            # (start, end) or None
    viewRangeChanged = Signal(float, float, object)   # t0, t1, the object that set it
    playbackAudio = Signal(str, object, int)          # clip path, samples (mono float32), sr
    message = Signal(str, str)              # text, level: "info" | "warning" | "error"
    busyChanged = Signal(bool)
    progressChanged = Signal(str, float)

    def __init__(self, parent=None, tasks: TaskManager | None = None):
        super().__init__(parent)
        self.tasks = tasks or TaskManager(self)
        self.tasks.busyChanged.connect(self.busyChanged)
        self.tasks.progressChanged.connect(self.progressChanged)
        self.clips: list[Clip] = []
        self._clip_index: dict[str, Clip] = {}
        self.current: Clip | None = None
        self.models: list[ModelEntry] = []
        self.slots: dict[str, str | None] = {"A": None, "B": None}
        self.analyses: dict[tuple[str, str], object] = {}
        self.errors: dict[tuple[str, str], str] = {}
        self._events: dict[tuple[str, str], list] = {}
        self.spectrograms: OrderedDict[str, SpectrogramEntry] = OrderedDict()
        self.max_spectrograms = 3
        self.predictors: dict[str, object] = {}
        self._pred_lock = threading.Lock()
        # display settings
        self.scale: str | None = None            # scale shown in the heatmap/curves (None: primary)
        self.attention_scale: str = "all"        # "all" or a scale name
        self.attention_per_second = True         # a_t / hop_s, comparable across scales
        self.selected_classes: list[str] | None = None   # None: the top classes of the clip
        self.median_s = 0.0
        self.min_duration_s = 0.0
        # playback
        self.playhead = 0.0
        self.loop: tuple[float, float] | None = None
        self.view_range: tuple[float, float] | None = None
        self.spec_levels: tuple[float, float] | None = None
        self._audio_path: str | None = None
        self.playback_enabled = True             # False: no player, so samples are never kept for it

    # ================================================================ opening
    def open_paths(self, paths, select: bool = True) -> None:
        """Open audio files, model files and folders (datasets or folders of audio)."""
        clips, models = [], []
        for p in paths:
            p = os.path.abspath(os.path.expanduser(str(p)))
            if os.path.isdir(p):
                self.open_folder(p, select=select and not clips)
            elif is_model(p):
                models.append(p)
            elif not os.path.exists(p):
                self.message.emit(f"{p}: no such file", "error")
            else:
                clips.append(ClipInfo(p, strong=strong_for_file(p) if is_audio(p) else None))
        if models:
            def assign(paths=models):
                for m in paths:
                    entry = self.model(m)
                    if entry is None or entry.error:
                        continue
                    if self.slots["A"] is None:
                        self.set_slot("A", m)
                    elif self.slots["B"] is None and self.slots["A"] != m:
                        self.set_slot("B", m)
            self.add_models_async([(m, "opened") for m in models], then=assign)
        if clips:
            self.add_clips(clips, select=select)

    def open_folder(self, root: str, split: str | None = None, select: bool = True) -> FunctionTask:
        """Scan a folder (or one split of a dataset) in the background and add its clips."""
        from .datasets import open_dataset, open_folder

        def scan(task):
            return open_dataset(root, split) if split else open_folder(root)

        task = FunctionTask(f"Reading {os.path.basename(root) or root}", scan, ("scan", root, split))

        def done(coll: Collection):
            for w in coll.warnings:
                self.message.emit(w, "warning")
            if not coll.clips:
                self.message.emit(f"{root}: no audio files found", "warning")
                return
            self.message.emit(f"Opened {coll.title}", "info")
            self.add_clips(coll.clips, select=select)

        task.signals.done.connect(done)
        task.signals.failed.connect(lambda msg: self.message.emit(f"{root}: {msg}", "error"))
        return self.tasks.submit(task, "io")

    def add_clips(self, infos: list[ClipInfo], select: bool = True) -> None:
        new = []
        for info in infos:
            if info.path in self._clip_index:
                continue
            clip = Clip(info)
            self.clips.append(clip)
            self._clip_index[info.path] = clip
            new.append(clip)
        self.clipsChanged.emit()
        if new:
            self._scan_durations(new)
        target = new[0] if new else (self._clip_index.get(infos[0].path) if infos else None)
        if select and target is not None:
            self.set_current(target.path)

    def _scan_durations(self, clips: list[Clip]) -> None:
        def scan(task):
            from engine import audio

            out = {}
            for i, c in enumerate(clips):
                task.check()
                try:
                    out[c.path] = (audio.info(c.path).duration, None)
                except Exception as exc:  # noqa: BLE001
                    from .workers import error_text

                    out[c.path] = (None, error_text(exc))
                task.report(i / max(1, len(clips)))
            return out

        task = FunctionTask(f"Reading {len(clips)} file header(s)", scan, ("durations", id(clips)))

        def done(result):
            for path, (dur, err) in result.items():
                clip = self._clip_index.get(path)
                if clip is None:
                    continue
                if dur is not None:
                    clip.duration = dur
                if err and not clip.error:
                    clip.error = err
                self.clipUpdated.emit(path)

        task.signals.done.connect(done)
        self.tasks.submit(task, "io")

    def clear_clips(self) -> None:
        self.tasks.cancel(lambda t: t.key and t.key[0] in ("spectrogram", "analysis", "playback"))
        self.clips.clear()
        self._clip_index.clear()
        self.current = None
        self.spectrograms.clear()
        self.clipsChanged.emit()
        self.currentClipChanged.emit("")

    def clip(self, path: str | None = None) -> Clip | None:
        if path is None:
            return self.current
        return self._clip_index.get(path)

    def set_current(self, path: str | None) -> None:
        clip = self._clip_index.get(path) if path else None
        if clip is self.current:
            return
        self.current = clip
        self.playhead = 0.0
        self.loop = None
        self.view_range = None
        # work for clips no longer shown is dropped, except batch analyses
        self.tasks.cancel(lambda t: t.key and t.key[0] in ("spectrogram", "playback") and t.key[1] != path)
        self.tasks.cancel(lambda t: t.key and t.key[0] == "analysis" and t.key[1] != path
                          and not getattr(t, "batch", False))
        self.currentClipChanged.emit(path or "")
        self.loopChanged.emit(None)
        self.playheadChanged.emit(0.0)
        if clip is not None:
            self.ensure_current()

    def step_clip(self, delta: int) -> None:
        if not self.clips:
            return
        i = self.clips.index(self.current) if self.current in self.clips else -1
        self.set_current(self.clips[max(0, min(len(self.clips) - 1, i + delta))].path)

    # ================================================================= models
    def add_model(self, path: str, origin: str = "opened") -> ModelEntry | None:
        """Add a model file (reads its header only); a bad file is listed with its error."""
        from engine.modelfile import ModelFileError, read_metadata

        path = os.path.abspath(path)
        for m in self.models:
            if m.path == path:
                return m
        entry = ModelEntry(path, origin=origin)
        try:
            entry.meta = read_metadata(path)
        except ModelFileError as exc:
            entry.error = str(exc)
        except Exception as exc:  # noqa: BLE001
            from .workers import error_text

            entry.error = f"{path}: {error_text(exc)}"
        if entry.error:
            self.message.emit(entry.error, "error")
            if origin == "opened" and not os.path.exists(path):
                return None
        self.models.append(entry)
        self.modelsChanged.emit()
        return entry

    def add_models_async(self, items: list[tuple[str, str]], then=None) -> FunctionTask:
        """Add model files (path, origin) reading their headers in the background, then call ``then()``."""

        def read(task):
            from engine.modelfile import read_metadata

            out = []
            for path, origin in items:
                entry = ModelEntry(os.path.abspath(path), origin=origin)
                try:
                    entry.meta = read_metadata(path)
                except Exception as exc:  # noqa: BLE001
                    from .workers import error_text

                    entry.error = error_text(exc)
                out.append(entry)
            return out

        def done(entries):
            known = {m.path for m in self.models}
            for e in entries:
                if e.error and e.origin == "opened":
                    self.message.emit(e.error, "error")
                if e.path not in known:
                    self.models.append(e)
                    known.add(e.path)
            self.modelsChanged.emit()
            if then is not None:
                then()

        task = FunctionTask(f"Reading {len(items)} model file(s)", read, ("models",))
        task.signals.done.connect(done)
        task.signals.failed.connect(lambda msg: self.message.emit(msg, "error"))
        return self.tasks.submit(task, "compute")

    def model(self, slot_or_path: str) -> ModelEntry | None:
        path = self.slots.get(slot_or_path, slot_or_path) if slot_or_path in SLOTS else slot_or_path
        for m in self.models:
            if m.path == path:
                return m
        return None

    def set_slot(self, slot: str, path: str | None) -> None:
        entry = self.model(path) if path else None
        if path and entry is None:
            entry = self.add_model(path)
            if entry is None:
                return
        if entry is not None and entry.error:
            self.message.emit(entry.error, "error")
            return
        if self.slots.get(slot) == (entry.path if entry else None):
            return
        self.slots[slot] = entry.path if entry else None
        if slot == "A":
            self.scale = None
            self.selected_classes = None
        self.slotsChanged.emit()
        self.ensure_current()

    def swap_slots(self) -> None:
        self.slots["A"], self.slots["B"] = self.slots["B"], self.slots["A"]
        self.scale = None
        self.selected_classes = None
        self.slotsChanged.emit()

    # =============================================================== analyses
    def analysis(self, slot_or_model: str, clip_path: str | None = None):
        model = self.slots.get(slot_or_model) if slot_or_model in SLOTS else slot_or_model
        clip_path = clip_path or (self.current.path if self.current else None)
        if not model or not clip_path:
            return None
        return self.analyses.get((clip_path, model))

    def analysis_error(self, slot_or_model: str, clip_path: str | None = None) -> str | None:
        model = self.slots.get(slot_or_model) if slot_or_model in SLOTS else slot_or_model
        clip_path = clip_path or (self.current.path if self.current else None)
        return self.errors.get((clip_path, model)) if model and clip_path else None

    def is_analyzing(self, slot_or_model: str, clip_path: str | None = None) -> bool:
        model = self.slots.get(slot_or_model) if slot_or_model in SLOTS else slot_or_model
        clip_path = clip_path or (self.current.path if self.current else None)
        return self.tasks.find(("analysis", clip_path, model)) is not None

    def ensure_current(self) -> None:
        """Start what the current clip needs: its spectrogram and the analyses by A and B."""
        clip = self.current
        if clip is None:
            return
        self._ensure_spectrogram(clip.path)
        for slot in SLOTS:
            model = self.slots[slot]
            if model:
                self.request_analysis(clip.path, model)

    def request_analysis(self, clip_path: str, model_path: str, batch: bool = False, label: str = ""):
        key = (clip_path, model_path)
        if key in self.analyses or key in self.errors:
            return None
        entry = self.model(model_path)
        clip = self._clip_index.get(clip_path)
        if entry is None or entry.error or (clip is not None and clip.error):
            return None
        existing = self.tasks.find(("analysis", clip_path, model_path))
        if existing is not None:
            existing.batch = getattr(existing, "batch", False) or batch
            return existing
        task = AnalysisTask(clip_path, model_path, self.predictors, self._pred_lock,
                            label or f"{entry.name}: analysis of {os.path.basename(clip_path)}")
        task.batch = batch
        task.signals.done.connect(lambda a, k=key: self._analysis_done(k, a))
        task.signals.failed.connect(lambda msg, k=key, t=task: self._analysis_failed(k, msg, t))
        return self.tasks.submit(task, "compute", priority=0 if batch else 1)

    def analyze_all(self) -> int:
        """Analyze every clip of the list with models A and B (in the background)."""
        todo = [(c.path, m) for c in self.clips for m in (self.slots["A"], self.slots["B"])
                if m and (c.path, m) not in self.analyses and not c.error]
        for i, (c, m) in enumerate(todo):
            self.request_analysis(c, m, batch=True,
                                  label=f"{self.model(m).name}: {os.path.basename(c)} ({i + 1}/{len(todo)})")
        return len(todo)

    def _analysis_done(self, key, analysis) -> None:
        self.analyses[key] = analysis
        entry = self.model(key[1])
        self.message.emit(f"{entry.name if entry else 'model'}: analyzed {os.path.basename(key[0])} "
                          f"({analysis.duration:.1f} s)", "info")
        self._events.pop(key, None)
        clip = self._clip_index.get(key[0])
        if clip is not None and clip.duration is None:
            clip.duration = analysis.duration
        self.analysisChanged.emit(*key)
        self.clipUpdated.emit(key[0])

    def _analysis_failed(self, key, msg: str, task) -> None:
        from engine.modelfile import ModelFileError  # noqa: F401  (message text is enough)

        clip_path, model_path = key
        entry = self.model(model_path)
        model_broken = model_path in msg and clip_path not in msg
        if model_broken and entry is not None:
            entry.error = msg
            self.modelsChanged.emit()
        else:
            self.errors[key] = msg
            clip = self._clip_index.get(clip_path)
            if clip is not None and clip_path in msg:
                clip.error = msg
        self.message.emit(msg, "error")
        self.analysisChanged.emit(*key)
        self.clipUpdated.emit(clip_path)

    # ================================================================= events
    def events(self, slot_or_model: str, clip_path: str | None = None) -> list:
        model = self.slots.get(slot_or_model) if slot_or_model in SLOTS else slot_or_model
        clip_path = clip_path or (self.current.path if self.current else None)
        key = (clip_path, model)
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

    def disagreement(self, clip_path: str) -> tuple[set[str], set[str]] | None:
        """(labels only A detects, labels only B detects) on a clip, once both analyzed it."""
        a, b = self.slots["A"], self.slots["B"]
        if not a or not b:
            return None
        la, lb = self.detected_labels(a, clip_path), self.detected_labels(b, clip_path)
        if la is None or lb is None:
            return None
        return la - lb, lb - la

    def set_event_settings(self, median_s: float, min_duration_s: float) -> None:
        self.median_s, self.min_duration_s = float(median_s), float(min_duration_s)
        self._events.clear()
        self.displayChanged.emit()
        for c in self.clips:
            self.clipUpdated.emit(c.path)

    # ============================================================ spectrogram
    def spectrogram(self, clip_path: str | None = None) -> SpectrogramEntry | None:
        clip_path = clip_path or (self.current.path if self.current else None)
        return self.spectrograms.get(clip_path) if clip_path else None

    def feature_settings(self) -> dict:
        """The feature configuration (as a dict) of model A, else B, else {} (the engine's defaults)."""
        for slot in SLOTS:
            entry = self.model(slot) if self.slots[slot] else None
            if entry is not None and entry.meta and entry.meta.get("feature_config"):
                return dict(entry.meta["feature_config"])
        return {}

    def _ensure_spectrogram(self, path: str) -> None:
        entry = self.spectrograms.get(path)
        if entry is not None and (entry.finished or entry.error or (entry.task and not entry.task.is_cancelled)):
            self.spectrograms.move_to_end(path)
            if entry.finished and self._audio_path != path:
                self._start_playback_audio(path, entry)
            return
        try:
            from engine import audio   # numpy + soundfile only: cheap on the GUI thread

            inf = audio.info(path)
        except Exception as exc:  # noqa: BLE001
            from .workers import error_text

            self.spectrograms[path] = SpectrogramEntry(path)
            self._spectrogram_failed(path, error_text(exc))
            return
        entry = SpectrogramEntry(path, duration=inf.duration)
        self.spectrograms[path] = entry
        while len(self.spectrograms) > self.max_spectrograms:
            old_path, old = next(iter(self.spectrograms.items()))
            if old.task is not None:
                old.task.cancel()
            self.spectrograms.pop(old_path)
        clip = self._clip_index.get(path)
        if clip is not None and clip.duration is None:
            clip.duration = entry.duration
            self.clipUpdated.emit(path)
        task = SpectrogramTask(path, entry, self.feature_settings(),
                               keep_audio_s=FULL_RATE_PLAYBACK_S if self.playback_enabled else -1.0)
        entry.task = task
        task.signals.partial.connect(lambda _n, p=path: self._spectrogram_partial(p))
        task.signals.done.connect(lambda r, p=path: self._spectrogram_done(p, r))
        task.signals.failed.connect(lambda msg, p=path: self._spectrogram_failed(p, msg))
        self.tasks.submit(task, "io")
        if self.view_range is None and self.current is not None and self.current.path == path:
            self.set_view_range(0.0, max(entry.duration, 0.1), None)

    def _spectrogram_partial(self, path: str) -> None:
        entry = self.spectrograms.get(path)
        if entry is None:
            return
        if entry.levels is None and entry.pyramid is not None and entry.pyramid.frames:
            data = entry.pyramid.full()
            lo, hi = np.percentile(data[:, :: max(1, data.shape[1] // 4000)], [1.0, 99.9])
            entry.levels = (float(np.floor(max(0.0, lo))), float(np.ceil(max(hi, lo + 1.0))))
            if path == (self.current.path if self.current else None):
                self.set_spec_levels(entry.levels)
        self.spectrogramChanged.emit(path)

    def _spectrogram_done(self, path: str, result: dict) -> None:
        entry = self.spectrograms.get(path)
        if entry is None:
            return
        entry.finished = True
        entry.duration = result["duration"]
        entry.task = None
        self._spectrogram_partial(path)
        if self.current is not None and self.current.path == path:
            if result.get("samples") is not None:
                self._audio_path = path
                self.playbackAudio.emit(path, result["samples"], int(result["sr"]))
            else:
                self._start_playback_audio(path, entry)

    def _start_playback_audio(self, path: str, entry: SpectrogramEntry) -> None:
        if not self.playback_enabled or self.tasks.find(("playback", path)) is not None:
            return
        sr = int(self.feature_settings().get("sr", 44100)) if entry.duration <= FULL_RATE_PLAYBACK_S \
            else LONG_PLAYBACK_SR
        task = PlaybackAudioTask(path, sr)

        def done(result, p=path):
            if self.current is not None and self.current.path == p:
                self._audio_path = p
                self.playbackAudio.emit(p, result["samples"], int(result["sr"]))

        task.signals.done.connect(done)
        self.tasks.submit(task, "io")

    def _spectrogram_failed(self, path: str, msg: str) -> None:
        entry = self.spectrograms.get(path)
        if entry is not None:
            entry.error = msg
            entry.task = None
        clip = self._clip_index.get(path)
        if clip is not None:
            clip.error = msg
            self.clipUpdated.emit(path)
        self.message.emit(msg, "error")
        self.spectrogramChanged.emit(path)

    def set_spec_levels(self, levels) -> None:
        levels = (float(levels[0]), float(levels[1]))
        if levels != self.spec_levels:
            self.spec_levels = levels
            self.specLevelsChanged.emit(*levels)

    # ================================================================ display
    def scale_names(self, slot: str = "A") -> list[str]:
        entry = self.model(slot) if self.slots.get(slot) else None
        return [s["name"] for s in entry.scales] if entry else []

    def set_scale(self, name: str | None) -> None:
        self.scale = name or None
        self.displayChanged.emit()

    def set_attention_scale(self, name: str) -> None:
        self.attention_scale = name or "all"
        self.displayChanged.emit()

    def set_attention_per_second(self, on: bool) -> None:
        self.attention_per_second = bool(on)
        self.displayChanged.emit()

    def shown_classes(self, analysis, limit: int = 3) -> list[str]:
        """Classes drawn as curves: the user's selection, else the clip's most probable ones."""
        if analysis is None:
            return []
        if self.selected_classes is not None:
            return [c for c in self.selected_classes if c in analysis.classes]
        order = np.argsort(-np.asarray(analysis.clip_probs))
        return [analysis.classes[i] for i in order[:limit]]

    def toggle_class(self, name: str) -> None:
        a = self.analysis("A")
        current = self.shown_classes(a) if a is not None else []
        current = [c for c in current if c != name] if name in current else current + [name]
        self.selected_classes = current
        self.displayChanged.emit()

    def set_selected_classes(self, names: list[str] | None) -> None:
        self.selected_classes = None if names is None else list(names)
        self.displayChanged.emit()

    # =============================================================== playback
    def duration(self) -> float:
        clip = self.current
        if clip is None:
            return 0.0
        entry = self.spectrograms.get(clip.path)
        if entry is not None and entry.duration:
            return entry.duration
        if clip.duration:
            return clip.duration
        for slot in SLOTS:
            a = self.analysis(slot)
            if a is not None:
                return a.duration
        return 0.0

    def set_playhead(self, t: float) -> None:
        """The playhead moved (from the player's stream clock, or a seek without audio)."""
        self.playhead = max(0.0, float(t))
        self.playheadChanged.emit(self.playhead)

    def request_seek(self, t: float) -> None:
        """A view asks to move the playhead to ``t`` seconds (click or drag)."""
        d = self.duration()
        t = max(0.0, min(float(t), d if d > 0 else float(t)))
        self.set_playhead(t)
        self.seekRequested.emit(t)

    def set_loop(self, region) -> None:
        if region is not None:
            a, b = sorted((float(region[0]), float(region[1])))
            d = self.duration()
            a, b = max(0.0, a), (min(b, d) if d > 0 else b)
            region = (a, b) if b - a > 1e-3 else None
        if region != self.loop:
            self.loop = region
            self.loopChanged.emit(region)

    # ============================================================= view range
    def set_view_range(self, t0: float, t1: float, source=None) -> None:
        if t1 <= t0:
            return
        rng = (float(t0), float(t1))
        if rng == self.view_range:
            return
        self.view_range = rng
        self.viewRangeChanged.emit(rng[0], rng[1], source)

    def zoom(self, factor: float, center: float | None = None) -> None:
        if self.view_range is None:
            return
        t0, t1 = self.view_range
        c = (t0 + t1) / 2 if center is None else center
        d = max(self.duration(), 1e-3)
        span = min(max((t1 - t0) * factor, 0.05), d)
        a = max(0.0, min(c - (c - t0) * span / (t1 - t0), d - span))
        self.set_view_range(a, a + span, None)

    def pan(self, fraction: float) -> None:
        if self.view_range is None:
            return
        t0, t1 = self.view_range
        d = max(self.duration(), 1e-3)
        shift = (t1 - t0) * fraction
        a = max(0.0, min(t0 + shift, d - (t1 - t0)))
        self.set_view_range(a, a + (t1 - t0), None)

    def fit(self) -> None:
        d = self.duration()
        if d > 0:
            self.set_view_range(0.0, d, None)

    # ================================================================== state
    def is_idle(self) -> bool:
        return not self.tasks.busy

    def shutdown(self) -> None:
        self.tasks.shutdown()
