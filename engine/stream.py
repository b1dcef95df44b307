"""Windows over a stream of feature frames, for file analysis and for live input.

Both ways of analyzing audio share the same pieces:

- :class:`FrameBuffer` holds the log-mel frames that windows still to come need,
  indexed by absolute frame number, and forgets the rest (bounded memory).
- :class:`TilingPlanner` plans the windows of file analysis (``Predictor.analyze``):
  cores of W frames tile the recording, each window adds M frames of context on
  each side, and only its core is kept; a recording of at most W + 2M frames is one
  window.
- :class:`SlidingPlanner` plans the windows of a live stream: every hop a window of
  the newest min(W, frames so far) frames; each window owns ("reports") the hop of
  frames that ends ``delay`` frames before its end.
- :class:`StreamAnalyzer` is fed blocks of samples at any rate and channel count
  (downmixed, then resampled with soxr's streaming resampler), computes log-mel
  frames incrementally (:class:`engine.features.LogMelStream`) and, for every hop,
  returns a :class:`HopResult`: clip probabilities of the window, the newest
  segments' d_t and a_t per scale, and events with stream and wall-clock times.
- :class:`SampleRing` is the bounded, thread-safe hand-over from an audio callback
  (which only copies into it) to the worker that feeds the analyzer.

A window's outputs are those of ``analyze()`` of the same audio (one pass over the
window's frames); they differ only in the 3 frames at each window edge, which the
stream computes from the real neighbouring samples where ``analyze()`` of a cut-out
pads with zeros (see ``tests/test_stream.py`` for the measured bound).

Units: frames are log-mel frames (``FeatureConfig.frame_hop_s``, 11.16 ms by
default); stream time is seconds of audio since the first sample fed; wall-clock
times are UNIX seconds.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .analysis import Analysis, Event


@dataclass(frozen=True)
class Window:
    """A window of input frames [start, stop) that owns (keeps or reports) frames [core_start, core_stop)."""

    start: int
    stop: int
    core_start: int
    core_stop: int


class FrameBuffer:
    """Feature frames (n_mels x k) by absolute frame index; frames before ``start`` are forgotten."""

    def __init__(self, n_mels: int, device: str | torch.device = "cpu"):
        self.frames = torch.zeros(n_mels, 0, device=device)
        self.start = 0

    @property
    def end(self) -> int:
        """One past the newest frame held (= frames seen so far)."""
        return self.start + self.frames.shape[1]

    def append(self, new: torch.Tensor) -> None:
        if new.shape[1]:
            self.frames = torch.cat([self.frames, new.to(self.frames.device)], dim=1)

    def get(self, start: int, stop: int) -> torch.Tensor:
        """Frames [start, stop) (absolute indices), n_mels x (stop - start)."""
        if start < self.start or stop > self.end:
            raise IndexError(f"frames [{start}, {stop}) not held (holding [{self.start}, {self.end}))")
        return self.frames[:, start - self.start:stop - self.start]

    def drop_before(self, frame: int) -> None:
        """Forget the frames before ``frame``."""
        drop = min(max(0, frame - self.start), self.frames.shape[1])
        if drop:
            self.frames = self.frames[:, drop:]
            self.start += drop


class TilingPlanner:
    """The windows of file analysis.

    Cores of ``window`` frames tile the recording from frame 0; each window adds
    ``margin`` frames of context on each side (fewer at the ends), so segment
    predictions are seamless across windows. A recording of at most
    ``window + 2 * margin`` frames that ends before the first window is planned is
    analyzed in one pass. ``plan`` returns the windows whose input is complete.
    """

    def __init__(self, window: int, margin: int):
        self.window, self.margin = int(window), int(margin)
        self.next_core = 0

    def plan(self, n_frames: int, finished: bool) -> list[Window]:
        W, M = self.window, self.margin
        out = []
        while self.next_core < n_frames or (finished and self.next_core == 0):
            core_stop = self.next_core + W
            if finished and n_frames <= W + 2 * M and self.next_core == 0:
                w = Window(0, n_frames, 0, n_frames)          # short recording: one pass
            elif core_stop + M <= n_frames or finished:
                w = Window(max(0, self.next_core - M), min(core_stop + M, n_frames), self.next_core,
                           min(core_stop, n_frames))
            else:
                break
            out.append(w)
            self.next_core = w.core_stop
            if w.core_stop >= n_frames and finished:
                break
        return out

    def first_needed(self) -> int:
        """The first frame a later window can still need."""
        return self.next_core - self.margin


class SlidingPlanner:
    """The windows of a live stream.

    A window ends every ``hop`` frames and holds the newest min(``window``,
    available) frames; its start is a multiple of ``align`` (the model's coarsest
    stride) so that segments of every window fall on one grid of absolute times.
    Each window owns the frames [end - delay - hop, end - delay): the hop it reports.
    ``final(n)`` gives the last window of a finished stream, which reports what is left.
    """

    def __init__(self, window: int, hop: int, align: int = 1, delay: int = 0):
        if hop <= 0 or window <= 0 or hop > window:
            raise ValueError(f"need 0 < hop ({hop}) <= window ({window}) frames")
        if delay < 0 or delay + hop > window:
            raise ValueError(f"the delay ({delay} frames) plus the hop must fit in the window ({window})")
        self.window, self.hop, self.align, self.delay = int(window), int(hop), max(1, int(align)), int(delay)
        self.next_end = self.hop
        self.reported = 0      # frames [0, reported) are owned by windows already planned

    def _start(self, end: int) -> int:
        a = self.align
        return max(0, -(-(end - self.window) // a) * a)

    def plan(self, n_frames: int) -> list[Window]:
        out = []
        while self.next_end <= n_frames:
            end = self.next_end
            core_stop = max(self.reported, end - self.delay)
            out.append(Window(self._start(end), end, self.reported, core_stop))
            self.reported = core_stop
            self.next_end += self.hop
        return out

    def final(self, n_frames: int) -> Window | None:
        """The window reporting the frames a finished stream of ``n_frames`` still owes (None: nothing)."""
        if n_frames <= self.reported or n_frames <= 0:
            return None
        w = Window(self._start(n_frames), n_frames, self.reported, n_frames)
        self.reported = n_frames
        self.next_end = n_frames + self.hop
        return w

    def first_needed(self) -> int:
        """The first frame a later window (the final one included) can still need."""
        return self._start(self.next_end - self.hop)


# --------------------------------------------------------------------------- results
@dataclass
class StreamEvent:
    """An event in a stream: onset/offset in stream seconds and as wall-clock UNIX seconds.

    offset is None while the event is still going on; score is its peak segment probability.
    """

    label: str
    onset: float
    offset: float | None
    score: float
    onset_wall: float
    offset_wall: float | None = None

    def to_event(self) -> Event:
        return Event(round(self.onset, 4), round(self.offset if self.offset is not None else self.onset, 4),
                     self.label, round(self.score, 4))

    def to_dict(self) -> dict:
        return {"label": self.label, "onset": round(self.onset, 4),
                "offset": None if self.offset is None else round(self.offset, 4), "score": round(self.score, 4),
                "onset_wall": round(self.onset_wall, 4),
                "offset_wall": None if self.offset_wall is None else round(self.offset_wall, 4)}


@dataclass
class NewSegments:
    """One scale's segments reported by a hop: ``times`` (k,) stream seconds of each segment's
    start, ``segment_probs`` (k x C) d_t, ``attention`` (k,) a_t (None without attention)."""

    name: str
    hop_s: float
    times: np.ndarray
    segment_probs: np.ndarray
    attention: np.ndarray | None


@dataclass
class HopResult:
    """What one hop of a stream gives.

    index: hop number from 0. window_start / window_end: the analysis window in stream
    seconds; wall_time: wall clock (UNIX s) of the window's last sample.
    clip_probs: (C,) the window's clip-level probabilities (the ensemble's where there is
    one). scales: the newest segments of every scale (the frames this hop reports).
    events: events that ended in this hop; open_events: events still going on.
    analysis: the whole window's :class:`Analysis` (times relative to ``window_start``),
    as ``analyze()`` would give for the same audio; None with ``keep_analysis=False``.
    """

    index: int
    window_start: float
    window_end: float
    wall_time: float
    clip_probs: np.ndarray
    scales: list[NewSegments]
    events: list[StreamEvent] = field(default_factory=list)
    open_events: list[StreamEvent] = field(default_factory=list)
    analysis: Analysis | None = None

    def to_dict(self, classes: list[str] | None = None, decimals: int = 4) -> dict:
        """The JSON form (one line of ``mmnet monitor --jsonl``)."""
        d = {"hop": self.index, "window_start": round(self.window_start, 4), "window_end": round(self.window_end, 4),
             "wall_time": round(self.wall_time, 3), "clip_probs": np.round(self.clip_probs, decimals).tolist(),
             "scales": [{"name": s.name, "hop_s": s.hop_s, "times": np.round(s.times, 4).tolist(),
                         "segment_probs": np.round(s.segment_probs, decimals).tolist(),
                         "attention": None if s.attention is None else np.round(s.attention, decimals).tolist()}
                        for s in self.scales],
             "events": [e.to_dict() for e in self.events],
             "open_events": [e.to_dict() for e in self.open_events]}
        if classes is not None:
            d["classes"] = list(classes)
        return d


class EventTracker:
    """Turns per-segment activity into events, one class at a time, as segments arrive.

    A class is active in a segment when the segment's probability reaches
    ``segment_threshold`` and the window's clip probability reaches the class's tagging
    threshold (the gating of :meth:`Analysis.events`). Runs of active segments are events.
    """

    def __init__(self, classes: list[str], thresholds: np.ndarray, segment_threshold):
        self.classes = list(classes)
        self.thresholds = np.asarray(thresholds, np.float32)
        self.segment_threshold = np.broadcast_to(np.asarray(segment_threshold, np.float32), (len(classes),))
        self.open: dict[int, StreamEvent] = {}

    def update(self, times: np.ndarray, probs: np.ndarray, seg_s: float, clip_probs: np.ndarray,
               wall) -> list[StreamEvent]:
        """times (k,) segment starts in stream s; probs (k x C); wall: stream s -> wall clock. Returns closed events."""
        gate = clip_probs >= self.thresholds
        active = (probs >= self.segment_threshold[None, :]) & gate[None, :]
        closed = []
        for i, t in enumerate(times):
            for c in range(len(self.classes)):
                ev = self.open.get(c)
                if active[i, c]:
                    if ev is None:
                        self.open[c] = StreamEvent(self.classes[c], float(t), None, float(probs[i, c]), wall(float(t)))
                    else:
                        ev.score = max(ev.score, float(probs[i, c]))
                elif ev is not None:
                    ev.offset, ev.offset_wall = float(t), wall(float(t))
                    closed.append(self.open.pop(c))
        return closed

    def close_all(self, t: float, wall) -> list[StreamEvent]:
        closed = []
        for c in sorted(self.open):
            ev = self.open.pop(c)
            ev.offset, ev.offset_wall = max(t, ev.onset), wall(max(t, ev.onset))
            closed.append(ev)
        return closed


# --------------------------------------------------------------------------- analyzer
class StreamAnalyzer:
    """Live analysis of a stream of sample blocks with one model (a :class:`engine.infer.Predictor`).

    sr, channels: the input's rate (Hz) and channel count; blocks are (n,) or (n x channels)
    float arrays (sounddevice's layout), downmixed to mono and resampled to the model's rate
    with soxr's streaming resampler (no seams between blocks).
    hop_s: seconds between analyses (default 0.5), rounded to a multiple of the model's
    coarsest segment (0.18 s for the paper's M&mnet: 0.5 -> 0.536 s) so that every window's
    segments fall on one time grid; ``hop_s`` on the object is the value used.
    window_s: analysis window (default: the model's training clip, 10 s). Until that much
    audio has arrived, windows hold everything so far.
    delay_s: report the segments that end this long before the window's end (default 0:
    the newest, with no right context; a delay gives them the context offline analysis has).
    thresholds / segment_threshold / scale: event detection as in :meth:`Analysis.events`
    (None: the model's tuned thresholds and primary scale).
    on_frames: called with every batch of new log-mel frames (n_mels x k tensor, unstandardized)
    as they are computed, before any analysis of them: a live display can draw the frames the
    analyzer computes anyway instead of computing a spectrogram of its own.
    Memory is bounded: the resampler's and STFT's few thousand samples, and the feature
    frames of one window plus ``batch_size`` hops.
    """

    def __init__(self, predictor, sr: int, channels: int = 1, *, hop_s: float = 0.5, window_s: float | None = None,
                 delay_s: float = 0.0, thresholds=None, segment_threshold=0.5, scale: int | str | None = None,
                 ensemble: bool | None = None, batch_size: int = 4, keep_analysis: bool = True, on_frames=None):
        from .features import LogMelStream

        self.predictor = predictor
        cfg = predictor.feature_config
        self.cfg = cfg
        self.sr_in, self.channels = int(sr), int(channels)
        if self.sr_in <= 0 or self.channels <= 0:
            raise ValueError(f"bad stream format: {sr} Hz, {channels} channels")
        stride = predictor.model.stride
        fh = cfg.frame_hop_s
        W = predictor.window_frames if window_s is None else max(stride, int(round(window_s / fh / stride)) * stride)
        H = max(stride, int(round(hop_s / fh / stride)) * stride)
        H = min(H, W)
        D = min(int(round(delay_s / fh / stride)) * stride, W - H)
        self.planner = SlidingPlanner(W, H, stride, D)
        self.window_s, self.hop_s, self.delay_s = W * fh, H * fh, D * fh
        self.ensemble, self.batch_size, self.keep_analysis = ensemble, max(1, int(batch_size)), keep_analysis
        self.features = LogMelStream(cfg, predictor.device)
        self.buffer = FrameBuffer(cfg.n_mels, predictor.device)
        self._resampler = None
        if self.sr_in != cfg.sr:
            import soxr

            self._resampler = soxr.ResampleStream(self.sr_in, cfg.sr, 1, dtype="float32", quality="HQ")
        thr = predictor.thresholds if thresholds is None else np.broadcast_to(
            np.asarray(thresholds, np.float32), (len(predictor.classes),))
        self.thresholds = np.asarray(thr, np.float32)
        self.tracker = EventTracker(predictor.classes, self.thresholds, segment_threshold)
        self._scale_choice = scale
        self._event_scale: int | None = None
        self.n_in = 0               # input samples (per channel) fed
        self.n_bad = 0              # non-finite input samples replaced by 0
        self.n_hops = 0
        self._anchor = (0.0, None)  # (stream s of the last input sample, its wall clock)
        self._pending: list[Window] = []
        self._finished = False
        self.on_frames = on_frames

    # ---------------------------------------------------------------- facts
    @property
    def classes(self) -> list[str]:
        return self.predictor.classes

    @property
    def stream_time(self) -> float:
        """Seconds of input fed so far."""
        return self.n_in / self.sr_in

    def wall(self, t: float) -> float:
        """Wall clock (UNIX s) of stream time ``t``, from the newest block's arrival."""
        t_anchor, w_anchor = self._anchor
        if w_anchor is None:
            return float("nan")
        return w_anchor - (t_anchor - t)

    # ---------------------------------------------------------------- input
    def _mono(self, block) -> np.ndarray:
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 2:
            if x.shape[1] != self.channels:
                raise ValueError(f"a block of {x.shape[1]} channels in a stream of {self.channels}")
            x = x.mean(axis=1) if self.channels > 1 else x[:, 0]
        elif x.ndim != 1 or self.channels != 1:
            raise ValueError(f"expected blocks of shape (n, {self.channels}), got {x.shape}")
        bad = ~np.isfinite(x)
        if bad.any():
            self.n_bad += int(bad.sum())
            x = np.where(bad, 0.0, x).astype(np.float32)
        return np.ascontiguousarray(x, dtype=np.float32)

    def feed(self, block, wall_time: float | None = None) -> list[HopResult]:
        """Add a block of samples; returns the hops it completed (possibly none).

        wall_time: wall clock (UNIX s) of the block's last sample (default: now).
        """
        if self._finished:
            raise RuntimeError("the stream is finished")
        x = self._mono(block)
        self.n_in += len(x)
        self._anchor = (self.stream_time, time.time() if wall_time is None else float(wall_time))
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=False).astype(np.float32, copy=False)
        return self._consume(x, last=False)

    def finish(self) -> list[HopResult]:
        """End of the stream: analyze what is left and close open events."""
        if self._finished:
            return []
        tail = np.zeros(0, np.float32)
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(tail, last=True).astype(np.float32, copy=False)
        results = self._consume(tail, last=True)
        self._finished = True
        return results

    def _consume(self, x: np.ndarray, last: bool) -> list[HopResult]:
        hop_samples = self.planner.hop * self.cfg.hop_length
        results = []
        pieces = [x[i:i + hop_samples] for i in range(0, len(x), hop_samples)] or [x]
        for piece in pieces:
            if len(piece):
                self._append(self.features.feed(piece))
            self._pending.extend(self.planner.plan(self.buffer.end))
            if len(self._pending) >= self.batch_size:
                results += self._run_pending()
        if last:
            self._append(self.features.finish())
            self._pending.extend(self.planner.plan(self.buffer.end))
            w = self.planner.final(self.buffer.end)
            if w is not None:
                self._pending.append(w)
        if self._pending:
            results += self._run_pending()
        if last:
            end_s = min(self.buffer.end * self.cfg.frame_hop_s, self.features.n_samples / self.cfg.sr)
            closed = self.tracker.close_all(end_s, self.wall)
            if closed:
                if results:
                    results[-1].events += closed
                    results[-1].open_events = []
                else:
                    results.append(HopResult(self.n_hops, end_s, end_s, self.wall(end_s),
                                             np.zeros(len(self.classes), np.float32), [], closed, []))
                    self.n_hops += 1
        return results

    def _append(self, frames: torch.Tensor) -> None:
        if frames.shape[1]:
            self.buffer.append(frames)
            if self.on_frames is not None:
                self.on_frames(frames)

    def _run_pending(self) -> list[HopResult]:
        windows, self._pending = self._pending, []
        by_len: dict[int, list[Window]] = {}
        for w in windows:
            by_len.setdefault(w.stop - w.start, []).append(w)
        outputs = {}
        for group in by_len.values():
            for i in range(0, len(group), self.batch_size):
                chunk = group[i:i + self.batch_size]
                x = torch.stack([self.buffer.get(w.start, w.stop) for w in chunk])
                out = self.predictor.forward_features(x, self.ensemble)
                for j, w in enumerate(chunk):
                    outputs[w] = (out, j)
        self.buffer.drop_before(self.planner.first_needed())
        return [self._hop(w, *outputs[w]) for w in windows]

    def _hop(self, w: Window, out, j: int) -> HopResult:
        fh = self.cfg.frame_hop_s
        n = w.stop - w.start
        rec = self.predictor._extract(Window(0, n, 0, n), out, j)
        analysis = self.predictor._merge([rec], n * fh, None, None)
        if self._event_scale is None and analysis.scales:
            self._event_scale = self.predictor_scale_index(analysis)
        new = []
        for sc in analysis.scales:
            stride = int(round(sc.hop_s / fh))
            a = (w.core_start - w.start) // stride
            b = -(-(w.core_stop - w.start) // stride)
            new.append(NewSegments(sc.name, sc.hop_s, (w.start + np.arange(a, b) * stride) * fh,
                                   sc.segment_probs[a:b],
                                   None if sc.attention is None else sc.attention[a:b]))
        clip = analysis.clip_probs
        if new:
            ev_sc = new[self._event_scale]
            closed = self.tracker.update(ev_sc.times, ev_sc.segment_probs, ev_sc.hop_s, clip, self.wall)
        else:  # no segment level: the reported frames form one segment with the clip probabilities
            closed = self.tracker.update(np.array([w.core_start * fh]), clip[None, :], (w.core_stop - w.core_start) * fh,
                                         clip, self.wall) if w.core_stop > w.core_start else []
        result = HopResult(self.n_hops, w.start * fh, w.stop * fh, self.wall(w.stop * fh), clip, new, closed,
                           [StreamEvent(**vars(e)) for e in self.tracker.open.values()],
                           analysis if self.keep_analysis else None)
        self.n_hops += 1
        return result

    def predictor_scale_index(self, analysis: Analysis) -> int:
        """Index of the scale events are read from (the chosen one, else the primary one)."""
        which = self._scale_choice
        if which is None:
            return analysis.primary_scale or 0
        if isinstance(which, int):
            return which
        return [s.name for s in analysis.scales].index(analysis.scale(which).name)


class SampleRing:
    """A bounded FIFO of sample frames between an audio callback and a worker thread.

    ``write`` (from the callback) only copies; when the ring is full the block's frames
    that do not fit are dropped and counted (``dropped_frames``, ``overruns``), never
    blocking the callback. ``read`` takes everything waiting (frames x channels).
    capacity: frames (per channel).
    """

    def __init__(self, capacity: int, channels: int = 1):
        self._data = np.zeros((int(capacity), int(channels)), np.float32)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._read = 0       # total frames read
        self._written = 0    # total frames written
        self.dropped_frames = 0
        self.overruns = 0

    @property
    def capacity(self) -> int:
        return len(self._data)

    def __len__(self) -> int:
        with self._lock:
            return self._written - self._read

    def write(self, block) -> int:
        """Copy ``block`` (frames x channels, or frames for mono); returns the frames kept."""
        x = np.asarray(block, np.float32)
        if x.ndim == 1:
            x = x[:, None]
        with self._lock:
            free = self.capacity - (self._written - self._read)
            n = min(len(x), free)
            if n < len(x):
                self.dropped_frames += len(x) - n
                self.overruns += 1
            pos = self._written % self.capacity
            first = min(n, self.capacity - pos)
            self._data[pos:pos + first] = x[:first]
            self._data[:n - first] = x[first:n]
            self._written += n
            self._ready.notify_all()
            return n

    def read(self, timeout: float | None = None) -> np.ndarray:
        """All frames waiting (frames x channels), waiting up to ``timeout`` s for some (empty if none)."""
        with self._lock:
            if self._written == self._read and timeout:
                self._ready.wait(timeout)
            n = self._written - self._read
            pos = self._read % self.capacity
            first = min(n, self.capacity - pos)
            out = np.concatenate([self._data[pos:pos + first], self._data[:n - first]])
            self._read += n
            return out
