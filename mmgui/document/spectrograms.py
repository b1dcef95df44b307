"""Display spectrograms (pyramids filled in the background) of the last few clips shown, and
the audio samples handed to the player.

Recordings up to ``FULL_RATE_PLAYBACK_S`` keep their samples at the model's rate for playback;
longer ones are played from a 22.05 kHz copy (memory: 318 MB per hour instead of 635 MB).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..pyramid import SpectrogramPyramid
from ..workers import PlaybackAudioTask, SpectrogramTask, TaskManager, error_text

FULL_RATE_PLAYBACK_S = 1200.0
LONG_PLAYBACK_SR = 22050


@dataclass
class SpectrogramEntry:
    """The display spectrogram of one clip (a pyramid filled in the background)."""

    path: str
    pyramid: SpectrogramPyramid | None = None     # created by the task once it knows the features
    mel_hz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    duration: float = 0.0                         # seconds
    finished: bool = False
    error: str | None = None
    levels: tuple[float, float] | None = None     # dB range for the colour map (1st, 99.9th percentile)
    task: object = field(default=None, repr=False)


class SpectrogramStore(QObject):
    spectrogramChanged = Signal(str)               # clip path: more frames, finished, or failed
    specLevelsChanged = Signal(float, float)
    playbackAudio = Signal(str, object, int)       # clip path, samples (mono float32), sr
    durationKnown = Signal(str, float)             # clip path, seconds (from the header)
    failed = Signal(str, str)                      # clip path, message
    message = Signal(str, str)

    def __init__(self, tasks: TaskManager, parent=None, max_entries: int = 3):
        super().__init__(parent)
        self.tasks = tasks
        self.entries: OrderedDict[str, SpectrogramEntry] = OrderedDict()
        self.max_entries = max_entries
        self.levels: tuple[float, float] | None = None
        self.playback_enabled = True     # False: no player, so samples are never kept for it
        self.shown: str | None = None    # the clip whose audio the player should get
        self._audio_path: str | None = None

    def get(self, path: str | None) -> SpectrogramEntry | None:
        return self.entries.get(path) if path else None

    def show(self, path: str, feature_settings: dict) -> SpectrogramEntry:
        """Make sure the clip's spectrogram exists or is being computed, and its audio reaches the player."""
        self.shown = path
        entry = self.entries.get(path)
        if entry is not None and (entry.finished or entry.error or (entry.task and not entry.task.is_cancelled)):
            self.entries.move_to_end(path)
            if entry.finished and self._audio_path != path:
                self._start_playback_audio(path, entry, feature_settings)
            return entry
        try:
            from engine import audio   # numpy + soundfile only: cheap on the GUI thread

            inf = audio.info(path)
        except Exception as exc:  # noqa: BLE001 - any failure is shown on the clip
            entry = self.entries[path] = SpectrogramEntry(path)
            self._failed(path, error_text(exc))
            return entry
        entry = self.entries[path] = SpectrogramEntry(path, duration=inf.duration)
        while len(self.entries) > self.max_entries:
            old_path, old = next(iter(self.entries.items()))
            if old.task is not None:
                old.task.cancel()
            self.entries.pop(old_path)
        self.durationKnown.emit(path, entry.duration)
        task = SpectrogramTask(path, entry, feature_settings,
                               keep_audio_s=FULL_RATE_PLAYBACK_S if self.playback_enabled else -1.0)
        entry.task = task
        task.signals.partial.connect(lambda _n, p=path: self._partial(p))
        task.signals.done.connect(lambda r, p=path, f=dict(feature_settings): self._done(p, r, f))
        task.signals.failed.connect(lambda msg, p=path: self._failed(p, msg))
        self.tasks.submit(task, "io")
        return entry

    def cancel_except(self, path: str | None) -> None:
        self.tasks.cancel(lambda t: t.key and t.key[0] in ("spectrogram", "playback") and t.key[1] != path)

    def clear(self) -> None:
        self.tasks.cancel(lambda t: t.key and t.key[0] in ("spectrogram", "playback"))
        self.entries.clear()
        self.shown = None

    def set_levels(self, levels) -> None:
        levels = (float(levels[0]), float(levels[1]))
        if levels != self.levels:
            self.levels = levels
            self.specLevelsChanged.emit(*levels)

    def _partial(self, path: str) -> None:
        entry = self.entries.get(path)
        if entry is None:
            return
        if entry.levels is None and entry.pyramid is not None and entry.pyramid.frames:
            data = entry.pyramid.full()
            lo, hi = np.percentile(data[:, :: max(1, data.shape[1] // 4000)], [1.0, 99.9])
            entry.levels = (float(np.floor(max(0.0, lo))), float(np.ceil(max(hi, lo + 1.0))))
            if path == self.shown:
                self.set_levels(entry.levels)
        self.spectrogramChanged.emit(path)

    def _done(self, path: str, result: dict, feature_settings: dict) -> None:
        entry = self.entries.get(path)
        if entry is None:
            return
        entry.finished = True
        entry.duration = result["duration"]
        entry.task = None
        self._partial(path)
        if path == self.shown:
            if result.get("samples") is not None:
                self._audio_path = path
                self.playbackAudio.emit(path, result["samples"], int(result["sr"]))
            else:
                self._start_playback_audio(path, entry, feature_settings)

    def _start_playback_audio(self, path: str, entry: SpectrogramEntry, feature_settings: dict) -> None:
        if not self.playback_enabled or self.tasks.find(("playback", path)) is not None:
            return
        sr = int(feature_settings.get("sr", 44100)) if entry.duration <= FULL_RATE_PLAYBACK_S else LONG_PLAYBACK_SR
        task = PlaybackAudioTask(path, sr)
        task.signals.done.connect(lambda result, p=path: self._audio_ready(p, result))
        self.tasks.submit(task, "io")

    def _audio_ready(self, path: str, result: dict) -> None:
        if path == self.shown:
            self._audio_path = path
            self.playbackAudio.emit(path, result["samples"], int(result["sr"]))

    def _failed(self, path: str, msg: str) -> None:
        entry = self.entries.get(path)
        if entry is not None:
            entry.error = msg
            entry.task = None
        self.failed.emit(path, msg)
        self.message.emit(msg, "error")
        self.spectrogramChanged.emit(path)
