"""A live monitoring session: input -> ring -> worker thread (analysis) -> GUI thread (drawing).

Threads:

- the *audio* side (the sounddevice callback of :class:`engine.monitor.DeviceSource`, or the
  player thread of :class:`engine.monitor.PacedFileSource`) only copies blocks into a ring;
- the session's *worker* (a Python thread it owns, :class:`_Worker`) opens the input, loads the
  model, takes whatever the ring holds, writes the recording, feeds the
  :class:`engine.stream.StreamAnalyzer` and hands each block's new spectrogram frames
  (:class:`BlockData`) and each hop (:class:`HopData`) to the GUI thread: through a queue, with a
  Qt signal of queued connection that wakes the GUI thread. It touches no widget and holds only
  :class:`_Signals`, which the session
  owns on the C++ side (Qt parent), so the worker can never destroy a Qt object;
- the GUI thread only draws (``mmgui.live.view``) and measures the readouts (:class:`LiveStats`).

Failure: an input that errors (callback status ends the stream, PortAudio error, a file that
cannot be read further) or goes silent for ``stall_s`` seconds ends the session with state
"failed" and the reason; the recording so far is closed properly (WAV and its TSV) and
:meth:`LiveSession.reconnect` starts again with the same settings. Nothing raises into Qt.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from .stats import LiveStats


@dataclass
class LiveOptions:
    """hop_s / window_s / delay_s / thresholds / segment_threshold: as
    :class:`engine.stream.StreamAnalyzer` (None: the model's). alerts: an
    :class:`engine.alerts.AlertSettings` (None: the model's saved settings, else its thresholds).
    stall_s: seconds without audio before the input counts as gone. threads: torch threads
    while monitoring (process-wide, set and restored by the session on the GUI thread; see
    :mod:`engine.monitor` for why one)."""

    hop_s: float = 0.5
    window_s: float | None = None
    delay_s: float = 0.0
    thresholds: object = None
    segment_threshold: float = 0.5
    alerts: object = None
    stall_s: float = 3.0
    threads: int | None = 1


@dataclass
class SessionInfo:
    """What the running session analyzes: for the view to set up its panes."""

    source: str
    sr: int
    channels: int
    classes: list[str]
    frame_hop_s: float
    mel_hz: np.ndarray
    hop_s: float
    window_s: float
    delay_s: float
    model_path: str


@dataclass
class BlockData:
    """One read from the ring: ``frames`` the new log-mel frames (n_mels x k float32, possibly
    k = 0), ``frame_end`` the absolute index after them, ``level_db`` the block's peak in dBFS,
    ``stream_time`` seconds fed so far, the input's drop counters and the recording's length (s)."""

    frames: np.ndarray
    frame_end: int
    level_db: float
    stream_time: float
    dropped_frames: int = 0
    overruns: int = 0
    status_flags: int = 0
    recording_s: float | None = None


@dataclass
class HopData:
    """A hop (:class:`engine.stream.HopResult`), the alerts it raised and the worker's CPU time for
    the feed that produced it (s)."""

    hop: object
    alerts: list = field(default_factory=list)
    infer_cpu_s: float = 0.0


class _Signals(QObject):
    """The only Qt object the worker touches (C++-owned by the session): ``ready`` (queued to the
    GUI thread) says that the session's queue holds news. The news travel in a Python queue
    tagged with their worker, so a stopped worker's late news are told apart (only its closed
    recording is still reported) and Qt converts no Python object between threads."""

    ready = Signal()


class _Worker:
    """The worker loop (no Qt object besides ``signals``)."""

    def __init__(self, spec, model_path: str, options: LiveOptions, signals: _Signals, news: queue.SimpleQueue,
                 predictors: dict, record_path: str | None):
        self.spec, self.model_path, self.options = spec, model_path, options
        self.signals, self.news, self.predictors = signals, news, predictors
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = threading.Event()
        self.record_path = record_path
        self.recording = None
        self._frames: list[np.ndarray] = []

    # ------------------------------------------------------------ helpers
    def _post(self, kind: str, *args) -> None:
        """Hand news to the GUI thread: (worker, kind, args) into the queue, then the queued signal."""
        self.news.put((self, kind, args))
        self.signals.ready.emit()

    def _predictor(self):
        """The model, loaded once per session (any failure to load becomes the session's error)."""
        import engine

        pred = self.predictors.get(self.model_path)
        if pred is None:
            pred = engine.load_model(self.model_path, device="cpu")
            # the first log-mel (the filterbank is built: seconds) and the first passes of a network
            # (kernels chosen) are slow: run them now, before the input starts, so no hop is late
            import torch
            from engine.features import LogMelStream

            cfg = pred.feature_config
            LogMelStream(cfg).feed(np.zeros(cfg.n_fft * 2, np.float32))
            for n in (pred.model.stride, pred.window_frames):
                pred.forward_features(torch.zeros(1, pred.feature_config.n_mels, n))
            self.predictors[self.model_path] = pred
        return pred

    def _alerts(self, predictor):
        from engine.alerts import AlertTracker

        from .alertsdialog import load_settings

        settings = self.options.alerts
        if settings is None:
            settings, _ = load_settings(self.model_path, predictor.classes, predictor.thresholds)
        return AlertTracker(predictor.classes, settings)

    def _open_recording(self, path: str, source, sa) -> None:
        from engine.monitor import Recording

        self._close_recording()
        try:
            self.recording = Recording(path, source.sr, source.channels, offset_s=sa.stream_time)
        except Exception as exc:  # noqa: BLE001 - a bad path is the user's mistake: say it, keep monitoring
            self._post("state", "running", f"cannot record to {path}: {exc}")

    def _close_recording(self) -> None:
        rec, self.recording = self.recording, None
        if rec is not None:
            try:
                rec.close()
                self._post("recording", str(rec.path), str(rec.tsv_path))
            except Exception as exc:  # noqa: BLE001
                self._post("state", "running", f"cannot finish the recording {rec.path}: {exc}")

    def _commands(self, source, sa) -> None:
        while True:
            try:
                cmd, arg = self.commands.get_nowait()
            except queue.Empty:
                return
            if cmd == "record":
                self._open_recording(arg, source, sa)
            elif cmd == "stop-record":
                self._close_recording()

    def _emit_hops(self, hops, tracker, cpu_s: float) -> None:
        for h in hops:
            alerts = tracker.update(h.window_end, h.clip_probs, h.wall_time) if len(h.clip_probs) else []
            if self.recording is not None:
                self.recording.add_events(h.events)
            self._post("hop", HopData(h, alerts, cpu_s / max(1, len(hops))))

    def _block(self, source, sa, level_db: float) -> None:
        frames = np.concatenate(self._frames, axis=1) if self._frames else np.zeros((sa.cfg.n_mels, 0), np.float32)
        self._frames = []
        ring = getattr(source, "ring", None)
        self._post("block", BlockData(
            frames, sa.buffer.end, level_db, sa.stream_time, int(source.dropped_frames),
            int(getattr(ring, "overruns", 0)), int(getattr(source, "status_flags", 0)),
            None if self.recording is None else self.recording.seconds))

    def _on_frames(self, frames) -> None:
        self._frames.append(np.array(frames.detach().cpu().numpy(), dtype=np.float32, copy=True))

    # ------------------------------------------------------------ the loop
    def run(self) -> None:
        from engine.errors import user_message

        state, message = "stopped", "stopped"
        source = None
        try:
            self._post("state", "starting", f"opening {self.spec.describe()}")
            predictor = self._predictor()
            source = self.spec.open()
            o = self.options
            sa = predictor.stream(source.sr, source.channels, hop_s=o.hop_s, window_s=o.window_s,
                                  delay_s=o.delay_s, thresholds=o.thresholds,
                                  segment_threshold=o.segment_threshold, keep_analysis=False,
                                  on_frames=self._on_frames)
            tracker = self._alerts(predictor)
            cfg = predictor.feature_config
            self._post("info", SessionInfo(self.spec.describe(), source.sr, source.channels,
                                           list(predictor.classes), cfg.frame_hop_s, cfg.mel_frequencies(),
                                           sa.hop_s, sa.window_s, sa.delay_s, self.model_path))
            if self.record_path:
                self._open_recording(self.record_path, source, sa)
            self._post("state", "running", f"listening to {self.spec.describe()}, {source.sr} Hz, "
                                           f"{source.channels} ch")
            state, message = self._loop(source, sa, tracker)
            c0 = time.thread_time()
            hops = sa.finish()
            self._emit_hops(hops, tracker, time.thread_time() - c0)
            self._block(source, sa, -120.0)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the session's state, never a crash
            state, message = "failed", user_message(exc) if not isinstance(exc, OSError) else str(exc)
        finally:
            if source is not None:
                try:
                    source.close()
                except Exception:  # noqa: BLE001 - a dead device may fail to close; it is gone anyway
                    pass
            self._close_recording()
            self._post("state", state, message)

    def _loop(self, source, sa, tracker) -> tuple[str, str]:
        last_data = time.monotonic()
        while not self.stop.is_set():
            self._commands(source, sa)
            try:
                block = source.read(timeout=0.05)
            except OSError as exc:
                return "failed", f"the input failed: {exc}"
            if block is None:
                return "stopped", "end of the input"
            if not len(block):
                if time.monotonic() - last_data > self.options.stall_s:
                    return "failed", (f"no audio from the input for {self.options.stall_s:g} s "
                                      "(device unplugged or sound server stopped)")
                continue
            last_data = time.monotonic()
            if self.recording is not None:
                self.recording.write(block)
            peak = float(np.max(np.abs(block))) if block.size else 0.0
            c0 = time.thread_time()
            hops = sa.feed(block, wall_time=source.last_wall)
            cpu = time.thread_time() - c0
            self._block(source, sa, 20 * np.log10(max(peak, 1e-6)))
            self._emit_hops(hops, tracker, cpu)
        return "stopped", "stopped"


class LiveSession(QObject):
    """Start, stop, record and reconnect one live input; signals arrive on the GUI thread.

    ``start(spec, model_path, options)``: spec from :mod:`mmgui.live.sources` (or any object with
    ``open()`` and ``describe()``). States: "idle", "starting", "running", "stopped", "failed".
    """

    stateChanged = Signal(str, str)
    infoChanged = Signal(object)
    blockReady = Signal(object)
    hopReady = Signal(object)
    recordingSaved = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._signals = _Signals(self)
        self._signals.ready.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._news: queue.SimpleQueue = queue.SimpleQueue()
        self.state, self.message = "idle", ""
        self.info: SessionInfo | None = None
        self.stats = LiveStats()
        self.recording_path: str | None = None      # the file being written (None: not recording)
        self.saved: list[tuple[str, str]] = []      # recordings closed in this session
        self._predictors: dict = {}
        self._worker: _Worker | None = None
        self._thread: threading.Thread | None = None
        self._last = None
        self._was_recording = False
        self._threads_before: int | None = None

    def _drain(self) -> None:
        """GUI thread: dispatch the news of the current worker (and the closed recordings of any)."""
        while True:
            try:
                worker, kind, args = self._news.get_nowait()
            except queue.Empty:
                return
            if kind == "recording":
                self._on_recording(*args)
            elif worker is self._worker:
                {"state": self._on_state, "info": self._on_info, "block": self._on_block,
                 "hop": self.hopReady.emit}[kind](*args)

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._worker.stop.is_set()

    def start(self, spec, model_path: str, options: LiveOptions | None = None, record_path: str | None = None) -> None:
        if self.active:
            self.stop()
        options = options or LiveOptions()
        self._last = (spec, model_path, options)
        self.stats = LiveStats()
        self.info = None
        self.recording_path = record_path
        self._was_recording = bool(record_path)
        self._set_threads(options.threads)
        self._worker = _Worker(spec, model_path, options, self._signals, self._news, self._predictors, record_path)
        self._thread = threading.Thread(target=self._worker.run, name="mm-live-worker", daemon=True)
        self.state, self.message = "starting", ""
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to finish (returns at once; "stopped" follows)."""
        if self._worker is not None:
            self._worker.stop.set()

    def reconnect(self) -> bool:
        """Start again with the last input, model and options (recording again if it was)."""
        if self._last is None:
            return False
        spec, model, options = self._last
        record = self._next_recording_path() if self.saved and self._was_recording else None
        self.start(spec, model, options, record)
        return True

    def _next_recording_path(self) -> str:
        from pathlib import Path

        last = Path(self.saved[-1][0])
        stem = last.stem.rsplit("-part", 1)[0]
        k = 2
        while (last.parent / f"{stem}-part{k}{last.suffix}").exists():
            k += 1
        return str(last.parent / f"{stem}-part{k}{last.suffix}")

    def start_recording(self, path: str) -> None:
        self.recording_path = str(path)
        self._was_recording = True
        if self._worker is not None and self.active:
            self._worker.commands.put(("record", str(path)))

    def stop_recording(self) -> None:
        self._was_recording = False
        if self._worker is not None:
            self._worker.commands.put(("stop-record", None))

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop and wait for the worker (on closing); False when it did not end in time."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # ------------------------------------------------------------ GUI thread
    def _set_threads(self, n: int | None) -> None:
        """torch threads while monitoring (None: leave as is, or restore the setting from before)."""
        import torch

        if n:
            if self._threads_before is None:
                self._threads_before = torch.get_num_threads()
            torch.set_num_threads(int(n))
        elif self._threads_before is not None:
            torch.set_num_threads(self._threads_before)
            self._threads_before = None

    def _on_state(self, state: str, message: str) -> None:
        if state in ("stopped", "failed"):
            self._set_threads(None)
        self.state, self.message = state, message
        if state in ("stopped", "failed"):
            self.recording_path = None
        self.stateChanged.emit(state, message)

    def _on_info(self, info: SessionInfo) -> None:
        self.info = info
        self.infoChanged.emit(info)

    def _on_block(self, block: BlockData) -> None:
        self.stats.input_state(block.dropped_frames, block.overruns, block.status_flags)
        self.blockReady.emit(block)

    def _on_recording(self, wav: str, tsv: str) -> None:
        self.saved.append((wav, tsv))
        if self.recording_path == wav:
            self.recording_path = None
        self.recordingSaved.emit(wav, tsv)
