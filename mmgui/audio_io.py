"""Audio output for the studio: a clip player driven by the stream's clock (devices: ``audio_devices``).

Importing this module never touches PortAudio: ``sounddevice`` is imported lazily on first use,
so the GUI starts (with playback disabled) on machines without ``libportaudio2`` or a sound server.

Design
------
* The PortAudio callback only copies samples: from the clip (held at the stream's sample rate)
  into the output block, advancing a read index, wrapping inside the loop region when one is
  set. It allocates no sample buffers and takes no locks. Requests from the GUI (seek, loop)
  reach it as single attribute assignments of immutable tuples, which are atomic under the GIL.
* For every run of clip frames it hands out, the callback writes one row into a preallocated
  ring: ``(dac_time, first_frame, n_frames, seek_generation)``, where ``dac_time`` is the stream
  clock time at which the first of those frames reaches the output (``outputBufferDacTime``).
* A ``QTimer`` on the GUI thread (~30 Hz) reads ``stream.time`` and looks up the ring row being
  heard now; the playhead is that row's first frame plus the time elapsed since its DAC time.
  So the cursor follows what is heard (output latency included), across seeks and loop wraps,
  and never runs ahead of the sound on a loaded machine.
* At the end of the clip the callback outputs silence and records when the last frame will be
  heard; the timer closes the stream at that moment and reports ``"stopped"``.
* Opening a stream can fail (device busy or gone): the player emits ``error`` with a one-line
  message and stays usable. The clip is played at its own rate when the device accepts it,
  otherwise resampled once (soxr) to the device's default rate.
"""
from __future__ import annotations

import time as _time

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from .audio_devices import audio_available, one_line, output_devices, sounddevice_module

__all__ = ["audio_available", "output_devices", "Player"]

def _close_boxed(box: list) -> None:
    stream, box[0] = box[0], None
    if stream is not None:
        try:
            stream.close(ignore_errors=True)  # discards pending buffers, like abort()
        except Exception:
            pass


class Player(QObject):
    """Plays one mono clip; the playhead follows the output stream's clock.

    Signals: ``positionChanged(float)`` (seconds, ~30 Hz while playing and on every seek/stop),
    ``stateChanged(str)`` (``"playing" | "paused" | "stopped"``), ``error(str)`` (one line).

    ``stop()`` returns the playhead to 0; reaching the end of the clip also gives ``"stopped"``
    but leaves the playhead at the end (``play()`` then starts again from 0). While a loop
    region is set, playback wraps inside it; a playhead outside the region jumps to its start.
    The samples given to ``set_audio`` are not copied when already contiguous float32: do not
    modify them while they are loaded.
    """

    positionChanged = Signal(float)
    stateChanged = Signal(str)
    error = Signal(str)

    TICK_MS = 33
    MIN_LOOP_S = 0.01
    _RING = 512

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.available, self.unavailable_reason = audio_available()
        self._samples = np.zeros(0, dtype=np.float32)
        self._sr = 44100
        self._rate_cache: dict[int, np.ndarray] = {}
        self._device: int | None = None
        self._state = "stopped"
        self._pos = 0.0                      # playhead (s) while not playing
        self._loop: tuple[float, float] | None = None
        # The open stream lives in a box that a destroyed-handler can close without `self`,
        # so that deleting the player (or its parent) silences it.
        self._box: list = [None]
        self.destroyed.connect(lambda *_, box=self._box: _close_boxed(box))
        self._last_emitted: float | None = None
        self._eof_wall: float | None = None
        self._seek_target = 0.0              # reported until the frames after a seek are heard
        self.xruns = 0                       # output underflows reported by PortAudio

        # --- shared with the audio callback (written by one side each, see _callback) ---
        self._buf = np.zeros(0, dtype=np.float32)   # clip at the stream's rate
        self._stream_sr = 44100
        self._latency = 0.0
        self._seq = 0                        # GUI: seek generation
        self._cmd = (0, 0)                   # GUI -> callback: (generation, frame)
        self._loop_frames: tuple[int, int] | None = None  # GUI -> callback
        self._cb_seq = 0                     # callback-private
        self._cb_read = 0                    # callback-private read index
        self._ring = np.zeros((self._RING, 4), dtype=np.float64)  # callback -> GUI
        self._ring_n = 0                     # rows published
        self._eof_dac = -1.0                 # callback -> GUI: when the last frame is heard

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._tick)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._shutdown)

    # ------------------------------------------------------------------ properties
    @property
    def _stream(self):
        return self._box[0]

    @property
    def state(self) -> str:
        return self._state

    @property
    def duration(self) -> float:
        return len(self._samples) / float(self._sr) if len(self._samples) else 0.0

    @property
    def position(self) -> float:
        if self._state == "playing" and self._stream is not None:
            return self._heard_seconds()
        return self._pos

    # ------------------------------------------------------------------ public API
    def set_audio(self, samples: np.ndarray, sr: int) -> None:
        """Load a mono clip (float32, any length); stops playback and puts the playhead at 0."""
        x = np.asarray(samples)
        if x.ndim == 2:  # (frames, channels), as soundfile returns
            x = x.mean(axis=1)
        if x.ndim != 1:
            raise ValueError(f"expected mono samples (frames,), got shape {np.shape(samples)}")
        if int(sr) <= 0:
            raise ValueError(f"sample rate must be positive, got {sr}")
        self._halt()
        self._samples = np.ascontiguousarray(x, dtype=np.float32)
        self._sr = int(sr)
        self._rate_cache = {}
        self._loop = None
        self._loop_frames = None
        self._pos = 0.0
        self._set_state("stopped")
        self._emit_position(0.0, force=True)

    def play(self) -> None:
        if self._state == "playing" or len(self._samples) == 0:
            return
        if not self.available:
            self.available, self.unavailable_reason = audio_available()
            if not self.available:
                self.error.emit(f"audio unavailable: {self.unavailable_reason}")
                return
        start = self._pos
        if start >= self.duration - 1e-3:
            start = 0.0
        if self._loop is not None and not (self._loop[0] <= start < self._loop[1]):
            start = self._loop[0]
        if not self._open_stream(start):
            return
        self._pos = start
        self._set_state("playing")
        self._emit_position(start, force=True)
        self._timer.start()

    def pause(self) -> None:
        if self._state != "playing":
            return
        self._pos = min(self._heard_seconds(), self.duration)
        self._halt()
        self._set_state("paused")
        self._emit_position(self._pos, force=True)

    def toggle(self) -> None:
        if self._state == "playing":
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        self._halt()
        self._pos = 0.0
        self._set_state("stopped")
        self._emit_position(0.0, force=True)

    def seek(self, seconds: float) -> None:
        """Move the playhead; while playing the change is heard after the output latency."""
        target = min(max(float(seconds), 0.0), self.duration)
        if self._state == "playing" and self._stream is not None:
            if self._loop is not None and not (self._loop[0] <= target < self._loop[1]):
                target = self._loop[0]
            self._request_frame(target)
        else:
            self._pos = target
        self._emit_position(target, force=True)

    def set_loop(self, start: float | None, end: float | None) -> None:
        """Loop ``[start, end)`` seconds while playing; ``None`` (or an empty region) clears it."""
        if start is None or end is None:
            self._loop = None
            self._loop_frames = None
            return
        a, b = sorted((float(start), float(end)))
        a, b = max(a, 0.0), min(b, self.duration)
        if b - a < self.MIN_LOOP_S:
            self._loop = None
            self._loop_frames = None
            return
        self._loop = (a, b)
        if self._stream is not None:
            self._loop_frames = self._frames_of(self._loop)
            if self._state == "playing":
                now = self._heard_seconds()
                if not (a <= now < b):
                    self.seek(a)

    def set_device(self, index: int | None) -> None:
        """Choose the output device (``None``: the system default); applies at once if playing."""
        index = None if index is None else int(index)
        if index == self._device:
            return
        self._device = index
        if self._state == "playing":
            self._pos = min(self._heard_seconds(), self.duration)
            self._halt()
            if self._open_stream(self._pos):
                self._timer.start()
            else:
                self._set_state("paused")
                self._emit_position(self._pos, force=True)

    # ------------------------------------------------------------------ audio thread
    def _callback(self, outdata, frames, time_info, status):
        # Runs on PortAudio's thread: copy samples, publish ring rows; nothing else.
        if status:
            self.xruns += 1
        cmd = self._cmd
        if cmd[0] != self._cb_seq:
            self._cb_seq = cmd[0]
            self._cb_read = cmd[1]
        seq = self._cb_seq
        r = self._cb_read
        buf = self._buf
        loop = self._loop_frames
        rate = self._stream_sr
        ring = self._ring
        size = self._RING
        k = self._ring_n
        dac = time_info.outputBufferDacTime
        if dac <= 0.0:
            dac = time_info.currentTime + self._latency
        filled = 0
        eof = False
        while filled < frames:
            if loop is not None:
                a, end = loop
                if r < a or r >= end:
                    r = a
            else:
                end = buf.shape[0]
            n = end - r
            if n <= 0:
                outdata[filled:] = 0.0
                eof = True
                break
            if n > frames - filled:
                n = frames - filled
            outdata[filled:filled + n] = buf[r:r + n, None]
            i = k % size
            ring[i, 0] = dac + filled / rate
            ring[i, 1] = r
            ring[i, 2] = n
            ring[i, 3] = seq
            k += 1
            r += n
            filled += n
        self._cb_read = r
        self._ring_n = k
        if eof:
            if self._eof_dac < 0.0:
                self._eof_dac = dac + filled / rate
        elif self._eof_dac >= 0.0:
            self._eof_dac = -1.0

    # ------------------------------------------------------------------ GUI thread internals
    def _frames_of(self, region: tuple[float, float]) -> tuple[int, int]:
        n = self._buf.shape[0]
        a = min(max(int(round(region[0] * self._stream_sr)), 0), n)
        b = min(max(int(round(region[1] * self._stream_sr)), a), n)
        return a, b

    def _request_frame(self, seconds: float) -> None:
        frame = min(max(int(round(seconds * self._stream_sr)), 0), self._buf.shape[0])
        self._seek_target = seconds
        self._seq += 1
        self._cmd = (self._seq, frame)

    def _buffer_for(self, rate: int) -> np.ndarray:
        if rate == self._sr:
            return self._samples
        if rate not in self._rate_cache:
            import soxr
            self._rate_cache = {rate: np.ascontiguousarray(
                soxr.resample(self._samples, self._sr, rate), dtype=np.float32)}
        return self._rate_cache[rate]

    def _choose_format(self, sd) -> tuple[int, int]:
        dev = self._device
        info = sd.query_devices(dev, "output") if dev is not None else sd.query_devices(kind="output")
        max_ch = int(info["max_output_channels"])
        if max_ch < 1:
            raise ValueError(f"device {info['name']!r} has no outputs")
        default_rate = int(round(info["default_samplerate"]))
        for rate in dict.fromkeys((self._sr, default_rate)):
            for ch in dict.fromkeys((1, min(2, max_ch))):
                try:
                    sd.check_output_settings(device=dev, channels=ch, dtype="float32",
                                             samplerate=rate)
                    return rate, ch
                except Exception:
                    continue
        return default_rate, min(2, max_ch)  # let opening the stream report the reason

    def _open_stream(self, start_s: float) -> bool:
        sd, err = sounddevice_module()
        if sd is None:
            self.error.emit(f"audio unavailable: {err}")
            return False
        stream = None
        try:
            rate, channels = self._choose_format(sd)
            self._buf = self._buffer_for(rate)
            self._stream_sr = rate
            self._ring_n = 0
            self._eof_dac = -1.0
            self._eof_wall = None
            self._loop_frames = self._frames_of(self._loop) if self._loop is not None else None
            self._request_frame(start_s)
            stream = sd.OutputStream(device=self._device, samplerate=rate, channels=channels,
                                     dtype="float32", callback=self._callback)
            self._latency = float(stream.latency)
            stream.start()
        except Exception as exc:
            if stream is not None:
                try:
                    stream.close(ignore_errors=True)
                except Exception:
                    pass
            self.error.emit(f"cannot open audio output: {one_line(exc)}")
            return False
        self._box[0] = stream
        return True

    def _halt(self) -> None:
        """Close the stream (pending buffers are discarded) and stop the timer; no signals."""
        self._timer.stop()
        _close_boxed(self._box)

    def _shutdown(self) -> None:
        self._halt()

    def _heard_seconds(self) -> float:
        """Clip time being heard now, from the stream clock and the callback's ring."""
        stream = self._stream
        if stream is None:
            return self._pos
        try:
            now = stream.time
        except Exception:
            return self._pos
        rate = float(self._stream_sr)
        ring = self._ring
        n = self._ring_n
        size = self._RING
        for k in range(n - 1, max(n - size, -1), -1):  # newest first; row n % size may be in writing
            t0, first, count, seq = ring[k % size]
            if t0 <= now:
                if int(seq) != self._seq:  # a seek is not audible yet
                    return self._seek_target
                return (first + min(count, (now - t0) * rate)) / rate
        return self._seek_target  # nothing audible yet (stream starting)

    def _tick(self) -> None:
        stream = self._stream
        if self._state != "playing" or stream is None:
            self._timer.stop()
            return
        try:
            alive = stream.active
            now = stream.time
        except Exception:
            alive, now = False, 0.0
        eof = self._eof_dac
        if eof >= 0.0:
            if self._eof_wall is None:
                self._eof_wall = _time.monotonic()
            overdue = _time.monotonic() - self._eof_wall > self._latency + 0.5
            if now >= eof or overdue or not alive:
                self._finish()
                return
        elif not alive:
            self._pos = min(self._heard_seconds(), self.duration)
            self._halt()
            self._set_state("paused")
            self._emit_position(self._pos, force=True)
            self.error.emit("audio output stopped unexpectedly (device gone?)")
            return
        self._emit_position(min(self._heard_seconds(), self.duration))

    def _finish(self) -> None:
        self._halt()
        self._pos = self.duration
        self._emit_position(self._pos, force=True)
        self._set_state("stopped")

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _emit_position(self, seconds: float, force: bool = False) -> None:
        if force or self._last_emitted is None or abs(seconds - self._last_emitted) > 1e-6:
            self._last_emitted = seconds
            self.positionChanged.emit(float(seconds))
