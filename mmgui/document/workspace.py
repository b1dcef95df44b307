"""The open workspace: one evented model per concern, and the rules that tie them together.

Rooms: ``clip_store`` (clips, current clip), ``model_store`` (model files, A/B slots),
``analysis_store`` (analyses per (clip, model), events), ``spectrogram_store`` (display
spectrograms, playback samples), ``timeline`` (playhead, loop, view range) and ``display``
(what the panes show). Features that arrive later attach their own model here
(``annotations``, ``live``, ``runs``) instead of growing this class.

Views read the rooms (directly, or through the forwarding names below, which keep one
vocabulary for views and tests) and subscribe to their signals; they never call each other.
The workspace starts background work when the current clip needs it (its spectrogram, its
analyses by models A and B) and cancels work for clips no longer shown.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal

from ..datasets import ClipInfo, is_audio, is_model, strong_for_file
from ..qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py
from ..workers import TaskManager
from .analyses import AnalysisStore
from .clips import ClipStore
from .display import DisplaySettings
from .models import SLOTS, ModelStore
from .spectrograms import SpectrogramStore
from .timeline import Timeline


def _forward(room: str, name: str, doc: str = ""):
    """A read-only attribute that is ``self.<room>.<name>`` (signals, lists, methods)."""
    return property(lambda self: getattr(getattr(self, room), name), doc=doc or f"{room}.{name}")


class Workspace(QObject):
    message = Signal(str, str)              # text, level: "info" | "warning" | "error"
    busyChanged = Signal(bool)
    progressChanged = Signal(str, float)

    # ---- names views use, forwarded to the room that owns them
    clips = _forward("clip_store", "clips")
    clipsChanged = _forward("clip_store", "clipsChanged")
    clipUpdated = _forward("clip_store", "clipUpdated")
    currentClipChanged = _forward("clip_store", "currentClipChanged")
    clip = _forward("clip_store", "clip")
    open_folder = _forward("clip_store", "open_folder")
    models = _forward("model_store", "models")
    slots = _forward("model_store", "slots")
    modelsChanged = _forward("model_store", "modelsChanged")
    slotsChanged = _forward("model_store", "slotsChanged")
    model = _forward("model_store", "model")
    add_model = _forward("model_store", "add")
    add_models_async = _forward("model_store", "add_async")
    scale_names = _forward("model_store", "scale_names")
    feature_settings = _forward("model_store", "feature_settings")
    analyses = _forward("analysis_store", "analyses")
    errors = _forward("analysis_store", "errors")
    analysisChanged = _forward("analysis_store", "analysisChanged")
    spectrogramChanged = _forward("spectrogram_store", "spectrogramChanged")
    specLevelsChanged = _forward("spectrogram_store", "specLevelsChanged")
    playbackAudio = _forward("spectrogram_store", "playbackAudio")
    set_spec_levels = _forward("spectrogram_store", "set_levels")
    playheadChanged = _forward("timeline", "playheadChanged")
    seekRequested = _forward("timeline", "seekRequested")
    loopChanged = _forward("timeline", "loopChanged")
    viewRangeChanged = _forward("timeline", "viewRangeChanged")
    set_playhead = _forward("timeline", "set_playhead")
    request_seek = _forward("timeline", "request_seek")
    set_loop = _forward("timeline", "set_loop")
    set_view_range = _forward("timeline", "set_view_range")
    zoom = _forward("timeline", "zoom")
    pan = _forward("timeline", "pan")
    fit = _forward("timeline", "fit")
    playhead = _forward("timeline", "playhead")
    loop = _forward("timeline", "loop")
    view_range = _forward("timeline", "view_range")
    displayChanged = _forward("display", "displayChanged")
    set_scale = _forward("display", "set_scale")
    set_attention_scale = _forward("display", "set_attention_scale")
    set_attention_per_second = _forward("display", "set_attention_per_second")
    shown_classes = _forward("display", "shown_classes")
    set_selected_classes = _forward("display", "set_selected_classes")
    scale = _forward("display", "scale")
    attention_scale = _forward("display", "attention_scale")
    attention_per_second = _forward("display", "attention_per_second")
    selected_classes = _forward("display", "selected_classes")
    median_s = _forward("analysis_store", "median_s")
    min_duration_s = _forward("analysis_store", "min_duration_s")
    spec_levels = _forward("spectrogram_store", "levels")

    def __init__(self, parent=None, tasks: TaskManager | None = None):
        super().__init__(parent)
        self.tasks = tasks or TaskManager(self)
        self.tasks.busyChanged.connect(self.busyChanged)
        self.tasks.progressChanged.connect(self.progressChanged)
        self.clip_store = ClipStore(self.tasks, self)
        self.model_store = ModelStore(self.tasks, self)
        self.analysis_store = AnalysisStore(self.tasks, self.clip_store, self.model_store, self)
        self.spectrogram_store = SpectrogramStore(self.tasks, self)
        self.timeline = Timeline(self.duration, self)
        self.display = DisplaySettings(self)
        for room in (self.clip_store, self.model_store, self.analysis_store, self.spectrogram_store):
            room.message.connect(self.message)
        self.clip_store.folderRead.connect(self._clips_added)
        self.spectrogram_store.durationKnown.connect(self._duration_known)
        self.spectrogram_store.failed.connect(self.clip_store.note_error)
        self.analysis_store.eventsChanged.connect(self._events_changed)
        self._model_a: str | None = None
        self.model_store.slotsChanged.connect(self._slots_changed)   # first: views redraw after this

    # ------------------------------------------------------------------ state
    @property
    def current(self):
        return self.clip_store.current

    @property
    def playback_enabled(self) -> bool:
        return self.spectrogram_store.playback_enabled

    @playback_enabled.setter
    def playback_enabled(self, on: bool) -> None:
        self.spectrogram_store.playback_enabled = bool(on)

    def _current_path(self, clip_path: str | None) -> str | None:
        return clip_path or (self.current.path if self.current else None)

    def is_idle(self) -> bool:
        return not self.tasks.busy

    def shutdown(self) -> None:
        self.tasks.shutdown()

    # ------------------------------------------------------------------ opening
    def open_paths(self, paths, select: bool = True) -> None:
        """Open audio files, model files and folders (datasets or folders of audio)."""
        clips, models = [], []
        for p in paths:
            p = os.path.abspath(os.path.expanduser(str(p)))
            if os.path.isdir(p):
                self.clip_store.open_folder(p, select=select and not clips)
            elif is_model(p):
                models.append(p)
            elif not os.path.exists(p):
                self.message.emit(f"{p}: no such file", "error")
            else:
                clips.append(ClipInfo(p, strong=strong_for_file(p) if is_audio(p) else None))
        if models:
            self.model_store.add_async([(m, "opened") for m in models],
                                       then=lambda ms=tuple(models): self.model_store.assign_opened(list(ms)))
        if clips:
            self.add_clips(clips, select=select)

    def add_clips(self, infos: list[ClipInfo], select: bool = True) -> None:
        self._clips_added(self.clip_store.add(infos) or "", select)

    def _clips_added(self, first: str, select: bool) -> None:
        if select and first:
            self.set_current(first)

    def clear_clips(self) -> None:
        self.tasks.cancel(lambda t: t.key and t.key[0] == "analysis")
        self.spectrogram_store.clear()
        self.clip_store.clear()

    # ------------------------------------------------------------------ current clip
    def set_current(self, path: str | None) -> None:
        """Show another clip: views hear of it with the timeline already cleared, then the
        work for other clips is dropped (except batch analyses) and this clip's is started."""
        if self.clip_store.clip(path) is self.current or (not path and self.current is None):
            return
        self.timeline.reset(announce=False)
        self.clip_store.set_current(path)
        self.timeline.reset()
        self.spectrogram_store.cancel_except(path)
        self.analysis_store.cancel_except(path)
        self.ensure_current()

    def step_clip(self, delta: int) -> None:
        """The previous (-1) or next (+1) clip of the list."""
        clips = self.clips
        if clips:
            i = clips.index(self.current) if self.current in clips else -1
            self.set_current(clips[max(0, min(len(clips) - 1, i + delta))].path)

    def ensure_current(self) -> None:
        """Start what the current clip needs: its spectrogram and the analyses by A and B."""
        clip = self.current
        if clip is None:
            return
        self.spectrogram_store.show(clip.path, self.model_store.feature_settings())
        for slot in SLOTS:
            if self.slots[slot]:
                self.analysis_store.request(clip.path, self.slots[slot])

    def _duration_known(self, path: str, seconds: float) -> None:
        self.clip_store.note_duration(path, seconds)
        if self.current is not None and self.current.path == path and self.view_range is None:
            self.timeline.set_view_range(0.0, max(seconds, 0.1), None)

    def duration(self) -> float:
        """Seconds of the current clip: from its spectrogram, its header, or an analysis."""
        clip = self.current
        if clip is None:
            return 0.0
        entry = self.spectrogram_store.get(clip.path)
        if entry is not None and entry.duration:
            return entry.duration
        if clip.duration:
            return clip.duration
        for slot in SLOTS:
            a = self.analysis(slot)
            if a is not None:
                return a.duration
        return 0.0

    # ------------------------------------------------------------------ models
    def set_slot(self, slot: str, path: str | None) -> None:
        self.model_store.set_slot(slot, path)

    def swap_slots(self) -> None:
        self.model_store.swap()

    def _slots_changed(self) -> None:
        """Whoever changed a slot: a new model A resets what the panes show (its scales and
        classes are other ones), and the current clip gets analyzed by the new models."""
        if self.slots["A"] != self._model_a:
            self._model_a = self.slots["A"]
            self.display.reset_for_model()
        self.ensure_current()

    def fill_empty_slots(self) -> None:
        self.model_store.fill_empty_slots()

    # ------------------------------------------------------------------ analyses
    def analysis(self, slot_or_model: str, clip_path: str | None = None):
        return self.analysis_store.get(self.model_store.path_of(slot_or_model), self._current_path(clip_path))

    def analysis_error(self, slot_or_model: str, clip_path: str | None = None) -> str | None:
        return self.analysis_store.error(self.model_store.path_of(slot_or_model), self._current_path(clip_path))

    def is_analyzing(self, slot_or_model: str, clip_path: str | None = None) -> bool:
        return self.analysis_store.is_running(self.model_store.path_of(slot_or_model),
                                              self._current_path(clip_path))

    def request_analysis(self, clip_path: str, model_path: str, batch: bool = False, label: str = ""):
        return self.analysis_store.request(clip_path, model_path, batch, label)

    def analyze_all(self) -> int:
        """Analyze every clip of the list with models A and B (in the background)."""
        return self.analysis_store.request_all([c.path for c in self.clips], [self.slots["A"], self.slots["B"]])

    def events(self, slot_or_model: str, clip_path: str | None = None) -> list:
        return self.analysis_store.events(self.model_store.path_of(slot_or_model), self._current_path(clip_path))

    def detected_labels(self, model: str, clip_path: str) -> set[str] | None:
        return self.analysis_store.detected_labels(model, clip_path)

    def disagreement(self, clip_path: str) -> tuple[set[str], set[str]] | None:
        return self.analysis_store.disagreement(clip_path, self.slots["A"], self.slots["B"])

    def set_event_settings(self, median_s: float, min_duration_s: float) -> None:
        self.analysis_store.set_event_settings(median_s, min_duration_s)

    def _events_changed(self) -> None:
        self.display.displayChanged.emit()
        for c in self.clips:
            self.clip_store.clipUpdated.emit(c.path)

    # ------------------------------------------------------------------ display
    def toggle_class(self, name: str) -> None:
        self.display.toggle_class(name, self.analysis("A"))

    def spectrogram(self, clip_path: str | None = None):
        return self.spectrogram_store.get(self._current_path(clip_path))
