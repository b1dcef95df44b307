"""Headless live monitoring: ``mmnet monitor`` and ``mmnet devices``.

``mmnet monitor MODEL --device NAME|INDEX`` records an input device (sounddevice), or
``--file F [--as-live]`` replays a file in blocks (paced in real time with ``--as-live``),
analyzes it with :class:`engine.stream.StreamAnalyzer` and prints JSON lines on stdout:
``{"type": "event", ...}`` for every event when it ends, ``{"type": "alert", ...}`` for alerts
(:mod:`engine.alerts`, the model's saved alert settings), with ``--jsonl`` also
``{"type": "hop", ...}`` with every hop's clip probabilities, and a last ``{"type": "end", ...}``
(stream seconds, hops, dropped frames, reason). ``--record OUT.wav`` writes the input as received
(its own rate and channels) and ``OUT.tsv``, the DCASE TSV of its events. SIGINT/SIGTERM or
``--duration`` end it cleanly (exit 0); a device that fails ends it with exit 3 after writing what
was recorded.

The device callback only copies into a :class:`engine.stream.SampleRing`; the main thread
feeds the analyzer. :class:`PacedFileSource` plays a file into such a ring from a thread of its
own, like a device (the application's "file as live" and ``bench/bench_live.py``), and
:class:`Recording` writes the input and its events (shared with the application).

CPU: torch runs on one thread while monitoring (:func:`torch_threads`). With two OpenMP
threads, the second one spin-waits after each of the many small per-block operations (log-mel
of 20-50 ms blocks, one network pass per hop); measured on 2 shared cores with the bundled
M&mnet-MS at a 0.54-s hop, 2 minutes in real time (``bench/bench_live.py``): 86 % of one core
with 2 threads (and late hops: p95 latency 2.7 s), 8.6 % with 1 (p95 latency 58 ms).
"""
from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

BLOCK_S = 0.05  # replay block length (s)


# --------------------------------------------------------------------------- devices
def list_input_devices() -> tuple[list[dict], str | None]:
    """Input devices as dicts {index, name, channels, default_samplerate, hostapi, default}, and a
    reason when none can be listed (no PortAudio, no sound system). A device whose query fails is
    left out; an odd name never stops the listing."""
    try:
        import sounddevice as sd
    except Exception as exc:  # OSError: PortAudio library not found
        return [], f"no sound system available ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    try:
        n = len(sd.query_devices())
    except Exception as exc:
        return [], f"cannot list devices ({exc})"
    try:
        default_in = sd.default.device[0]
    except Exception:
        default_in = -1
    out = []
    for i in range(n):
        try:
            d = sd.query_devices(i)
            if int(d.get("max_input_channels", 0)) <= 0:
                continue
            try:
                api = sd.query_hostapis(int(d.get("hostapi", 0)))["name"]
            except Exception:
                api = "?"
            name = str(d.get("name", f"device {i}")).encode("utf-8", "replace").decode("utf-8")
            out.append({"index": i, "name": name, "channels": int(d["max_input_channels"]),
                        "default_samplerate": float(d.get("default_samplerate") or 0), "hostapi": api,
                        "default": i == default_in})
        except Exception:
            continue
    return out, None


def resolve_device(spec: str) -> dict:
    """An input device by index or by (part of) its name; ``ValueError`` with the choices otherwise."""
    devices, reason = list_input_devices()
    if reason:
        raise ValueError(reason)
    if spec.strip().isdigit():
        for d in devices:
            if d["index"] == int(spec):
                return d
    else:
        exact = [d for d in devices if d["name"] == spec]
        part = [d for d in devices if spec.lower() in d["name"].lower()]
        if exact or len(part) == 1:
            return (exact or part)[0]
        if len(part) > 1:
            raise ValueError(f"{len(part)} input devices match {spec!r}: " + "; ".join(
                f"{d['index']}: {d['name']}" for d in part))
    raise ValueError(f"no input device {spec!r}; inputs: " + ("; ".join(
        f"{d['index']}: {d['name']}" for d in devices) or "none"))


# --------------------------------------------------------------------------- sources
class FileSource:
    """A file replayed in blocks at its own rate and channels; paced in real time when ``live``."""

    def __init__(self, path: str, live: bool):
        import soundfile as sf

        from .audio import _check_exists
        from .errors import AudioError

        _check_exists(path)
        try:
            self._f = sf.SoundFile(path)
        except Exception as exc:
            raise AudioError(f"{path}: not a readable audio file ({str(exc).splitlines()[0]})") from None
        self.sr, self.channels, self.live = int(self._f.samplerate), int(self._f.channels), live
        self._t0 = None
        self._wall0 = None
        self._pos = 0
        self.dropped_frames = 0
        self.last_wall: float | None = None   # wall clock (UNIX s) of the last sample read

    def read(self, timeout: float = 0.1) -> np.ndarray | None:
        """The next block (frames x channels); None at the end."""
        n = max(1, int(BLOCK_S * self.sr))
        block = self._f.read(n, dtype="float32", always_2d=True)
        if not len(block):
            return None
        if self._t0 is None:
            self._t0, self._wall0 = time.monotonic(), time.time()
        due = (self._pos + len(block)) / self.sr
        if self.live:   # the block "arrives" once its last sample has been played
            time.sleep(max(0.0, self._t0 + due - time.monotonic()))
            self.last_wall = self._wall0 + due
        else:
            self.last_wall = time.time()
        self._pos += len(block)
        return block

    def close(self):
        self._f.close()


class DeviceSource:
    """An input device through sounddevice: the callback copies into a ring, ``read`` takes from it."""

    def __init__(self, device: dict, sr: float | None, channels: int | None):
        import sounddevice as sd

        from .stream import SampleRing

        self.sr = int(sr or device["default_samplerate"] or 44100)
        self.channels = int(channels or min(2, device["channels"]))
        self.ring = SampleRing(self.sr * 30, self.channels)
        self.status_flags = 0
        self.error: str | None = None
        self.last_wall: float | None = None

        def callback(indata, frames, t, status):
            if status:
                self.status_flags += 1
            self.ring.write(indata)
            self._written_wall = time.time()

        self._written_wall = None

        def finished():
            if self.error is None and not self._closing:
                self.error = "the input stream stopped (device gone or sound server restarted)"

        self._closing = False
        self.stream = sd.InputStream(device=device["index"], samplerate=self.sr, channels=self.channels,
                                     dtype="float32", callback=callback, finished_callback=finished)
        self.stream.start()

    @property
    def dropped_frames(self) -> int:
        return self.ring.dropped_frames

    def read(self, timeout: float = 0.1) -> np.ndarray | None:
        block = self.ring.read(timeout=timeout)
        if len(block) == 0 and self.error:
            raise OSError(self.error)
        self.last_wall = self._written_wall   # everything written so far was read: the newest sample's time
        return block

    def close(self):
        self._closing = True
        try:
            self.stream.stop()
            self.stream.close()
        except Exception:
            pass



class PacedFileSource:
    """A file played into a :class:`engine.stream.SampleRing` by a thread of its own, as a device would.

    speed: 1.0 plays in real time, 2.0 twice as fast; 0 plays as fast as the reader takes the
    blocks (never dropping: the player waits for room in the ring). ``read`` / ``close`` /
    ``dropped_frames`` / ``last_wall`` / ``error`` as :class:`DeviceSource`; ``read`` returns None
    at the end of the file and raises ``OSError`` when reading the file failed midway (after the
    frames read before the failure). ``last_wall``: the wall clock (UNIX s) at which the newest
    frame read was due (paced) or read (speed 0).
    """

    def __init__(self, path: str, speed: float = 1.0, block_s: float = 0.02, capacity_s: float = 30.0):
        import soundfile as sf

        from .audio import _check_exists
        from .errors import AudioError
        from .stream import SampleRing

        _check_exists(path)
        try:
            self._f = sf.SoundFile(path)
        except Exception as exc:
            raise AudioError(f"{path}: not a readable audio file ({str(exc).splitlines()[0]})") from None
        self.path = path
        self.sr, self.channels = int(self._f.samplerate), int(self._f.channels)
        self.speed = max(0.0, float(speed))
        self.block = max(1, int(block_s * self.sr))
        self.ring = SampleRing(max(self.block * 2, int(capacity_s * self.sr)), self.channels)
        self.error: str | None = None
        self.last_wall: float | None = None
        self._frames_read = 0
        self._ended = False
        self._closing = threading.Event()
        self._wall0 = time.time()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._play, name="mm-file-player", daemon=True)
        self._thread.start()

    @property
    def dropped_frames(self) -> int:
        return self.ring.dropped_frames

    def _read_block(self) -> np.ndarray:
        """The next block of the file (frames x channels; empty at the end)."""
        return self._f.read(self.block, dtype="float32", always_2d=True)

    def _play(self) -> None:
        pos = 0
        try:
            while not self._closing.is_set():
                block = self._read_block()
                if not len(block):
                    break
                if self.speed > 0:   # the block "arrives" once its last sample has been played
                    self._closing.wait(max(0.0, self._t0 + (pos + len(block)) / self.sr / self.speed
                                            - time.monotonic()))
                else:
                    while len(self.ring) + len(block) > self.ring.capacity and not self._closing.is_set():
                        time.sleep(0.002)
                self.ring.write(block)
                pos += len(block)
        except Exception as exc:  # noqa: BLE001 - any read failure ends the stream with its reason
            self.error = f"{self.path}: reading failed ({type(exc).__name__}: {exc})"
        self._ended = True

    def read(self, timeout: float = 0.1) -> np.ndarray | None:
        ended = self._ended
        block = self.ring.read(timeout=timeout)
        if not len(block) and ended:
            if self.error:
                raise OSError(self.error)
            return None
        self._frames_read += len(block)
        self.last_wall = (self._wall0 + self._frames_read / self.sr / self.speed) if self.speed > 0 else time.time()
        return block

    def close(self):
        self._closing.set()
        self._thread.join(timeout=2.0)
        self._f.close()


class Recording:
    """The input written to an audio file as received (its rate and channels) and, on ``close``,
    the DCASE TSV of its events beside it (``OUT.tsv``).

    offset_s: the stream time (s) of the recording's first sample; events are stored in the
    recording's time (stream time - offset, clipped at 0). Writes are flushed by ``close``, which
    is safe to call twice.
    """

    def __init__(self, path: str, sr: int, channels: int, offset_s: float = 0.0):
        import soundfile as sf

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tsv_path = self.path.with_suffix(".tsv")
        self.sr, self.offset_s = int(sr), float(offset_s)
        self.frames = 0
        self.events = []
        self._f = sf.SoundFile(str(self.path), "w", samplerate=self.sr, channels=int(channels),
                               subtype="FLOAT" if self.path.suffix.lower() == ".wav" else None)

    @property
    def seconds(self) -> float:
        return self.frames / self.sr

    def write(self, block) -> None:
        if self._f is not None:
            self._f.write(block)
            self.frames += len(block)

    def add_events(self, events) -> None:
        """StreamEvents (stream times) that ended while recording."""
        from .analysis import Event

        for e in events:
            on = max(0.0, e.onset - self.offset_s)
            off = max(on, (e.offset if e.offset is not None else e.onset) - self.offset_s)
            self.events.append(Event(round(on, 4), round(min(off, self.seconds), 4), e.label, round(e.score, 4)))

    def close(self) -> None:
        from .analysis import events_to_tsv

        if self._f is None:
            return
        self._f.close()
        self._f = None
        name = self.path.name
        self.tsv_path.write_text(events_to_tsv([(name, e) for e in self.events]))


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch on ``n`` threads inside the block (process-wide; None: leave as is)."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if n:
            torch.set_num_threads(before)

# --------------------------------------------------------------------------- monitor
def monitor(predictor, source, out=sys.stdout, *, hop_s=0.5, jsonl=False, record: str | None = None,
            duration: float | None = None, alerts=None, stop: threading.Event | None = None, threads: int | None = 1,
            **stream_options) -> dict:
    """Run ``source`` through a stream analyzer until its end, ``duration`` s or ``stop``; print JSON lines.

    threads: torch threads while monitoring (see the module; None leaves the setting alone).
    Returns the summary also printed as the last line ({"type": "end", ...})."""
    with torch_threads(threads):
        return _monitor(predictor, source, out, hop_s, jsonl, record, duration, alerts, stop, stream_options)


def _monitor(predictor, source, out, hop_s, jsonl, record, duration, alerts, stop, stream_options) -> dict:
    from .alerts import AlertTracker

    sa = predictor.stream(source.sr, source.channels, hop_s=hop_s, keep_analysis=False, **stream_options)
    tracker = AlertTracker(predictor.classes, alerts) if alerts is not None else None
    writer = Recording(record, source.sr, source.channels) if record else None
    events = []
    reason, error = "end of input", None

    def emit(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    def handle(hops):
        for h in hops:
            if jsonl:
                emit({"type": "hop", "hop": h.index, "time": round(h.window_end, 4), "wall": round(h.wall_time, 3),
                      "clip_probs": dict(zip(predictor.classes, np.round(h.clip_probs, 4).tolist()))})
            for e in h.events:
                events.append(e)
                emit({"type": "event", **e.to_dict()})
            if writer is not None:
                writer.add_events(h.events)
            if tracker is not None:
                for a in tracker.update(h.window_end, h.clip_probs, h.wall_time):
                    emit({"type": "alert", **a.to_dict()})

    try:
        while True:
            if stop is not None and stop.is_set():
                reason = "stopped"
                break
            if duration is not None and sa.stream_time >= duration:
                reason = "duration reached"
                break
            try:
                block = source.read(timeout=0.1)
            except OSError as exc:
                reason, error = "device failed", str(exc)
                break
            if block is None:
                break
            if not len(block):
                continue
            if duration is not None:
                block = block[:max(0, int(round((duration - sa.stream_time) * source.sr)))]
            if writer is not None:
                writer.write(block)
            handle(sa.feed(block, wall_time=source.last_wall))
        handle(sa.finish())
    finally:
        source.close()
        if writer is not None:
            writer.close()
    summary = {"type": "end", "reason": reason, "error": error, "seconds": round(sa.stream_time, 4),
               "hops": sa.n_hops, "events": len(events), "dropped_frames": int(source.dropped_frames)}
    emit(summary)
    return summary


def add_monitor_arguments(p) -> None:
    p.add_argument("model", help="model file (.safetensors)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--device", help="input device: index or (part of) its name (see mmnet devices)")
    src.add_argument("--file", help="replay an audio file instead of a device")
    p.add_argument("--as-live", action="store_true", help="with --file: pace the replay in real time")
    p.add_argument("--samplerate", type=float, default=None, help="device rate in Hz (default: the device's)")
    p.add_argument("--channels", type=int, default=None, help="device channels (default: up to 2)")
    p.add_argument("--hop", type=float, default=0.5, help="seconds between analyses (default 0.5; rounded to the "
                   "model's coarsest segment)")
    p.add_argument("--window", type=float, default=None, help="analysis window in s (default: the model's, 10 s)")
    p.add_argument("--delay", type=float, default=0.0, help="report segments this many seconds behind the newest "
                   "(default 0: at once; about 1 s gives them the right context offline analysis has)")
    p.add_argument("--threshold", type=float, default=None, help="tagging threshold for all classes "
                   "(default: the model's tuned thresholds)")
    p.add_argument("--segment-threshold", type=float, default=0.5, help="segment probability of an active class")
    p.add_argument("--record", default=None, metavar="OUT.wav", help="write the input and OUT.tsv (its events)")
    p.add_argument("--jsonl", action="store_true", help="also print every hop's clip probabilities")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds of input")
    p.add_argument("--alerts", default=None, help="alert settings JSON (default: the model's saved settings, "
                   "else its thresholds with 5 s refractory time)")
    p.add_argument("--compute", default="cpu", help="where the model runs: cpu (default) or cuda")


def run_monitor(args) -> int:
    from . import load_model
    from .alerts import AlertSettings, settings_path

    if args.as_live and not args.file:
        raise ValueError("--as-live goes with --file")
    predictor = load_model(args.model, device=args.compute)
    alerts_file = Path(args.alerts) if args.alerts else settings_path(args.model)
    if args.alerts or alerts_file.exists():
        alerts = AlertSettings.load(alerts_file)
    else:
        alerts = AlertSettings.for_model(predictor.classes, predictor.thresholds)
    if args.file:
        source = FileSource(args.file, args.as_live)
    else:
        device = resolve_device(args.device)
        try:
            source = DeviceSource(device, args.samplerate, args.channels)
        except Exception as exc:
            print(f"mmnet: cannot open input device {device['index']} ({device['name']}): {exc}", file=sys.stderr)
            return 3
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda s, f: stop.set())
    try:
        summary = monitor(predictor, source, hop_s=args.hop, jsonl=args.jsonl, record=args.record,
                          duration=args.duration, alerts=alerts, stop=stop, window_s=args.window,
                          thresholds=args.threshold, segment_threshold=args.segment_threshold,
                          delay_s=args.delay)
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
    if summary["error"]:
        print(f"mmnet monitor: {summary['error']}", file=sys.stderr)
        return 3
    return 0


def add_devices_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per device")


def run_devices(args) -> int:
    devices, reason = list_input_devices()
    if reason:
        print(f"mmnet: {reason}", file=sys.stderr)
        return 1
    for d in devices:
        if args.json:
            print(json.dumps(d))
        else:
            print(f"{d['index']:3d}{' *' if d['default'] else '  '} {d['name']}  ({d['channels']} ch, "
                  f"{d['default_samplerate']:.0f} Hz, {d['hostapi']})")
    if not devices and not args.json:
        print("no input devices", file=sys.stderr)
    return 0
