"""Readouts of a live session, measured on the GUI thread (Qt-free).

- latency: wall clock when a hop's prediction is drawn minus the wall clock at which the last
  sample of its analysis window was captured (``HopResult.wall_time``: the device callback's
  arrival time, or the time a file played as live was due), in seconds; p50 / p95 over the
  last 200 hops;
- hops per second: hops drawn during the last 5 s;
- dropped: frames the ring had no room for (the analysis fell 30 s behind), plus callbacks the
  device flagged (input overflow);
- CPU: the process's CPU time (every thread: GUI, worker, audio) over wall time, in % of one
  core, over the last 2 s or more; and the worker's own CPU time per hop (inference).
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np


class LiveStats:
    def __init__(self, clock=time.time, cpu_clock=time.process_time, mono=time.monotonic):
        self._clock, self._cpu, self._mono = clock, cpu_clock, mono
        self.latencies: deque[float] = deque(maxlen=200)
        self.infer_cpu: deque[float] = deque(maxlen=200)
        self._hop_times: deque[float] = deque(maxlen=400)
        self.dropped_frames = 0
        self.overruns = 0
        self.status_flags = 0
        self.hops = 0
        self._cpu_mark = (self._mono(), self._cpu())
        self.cpu_percent: float | None = None

    def hop_drawn(self, capture_wall: float, infer_cpu_s: float | None = None) -> float:
        """A hop whose window ended at ``capture_wall`` (UNIX s) was drawn now; returns its latency (s)."""
        now = self._clock()
        lat = now - capture_wall
        if np.isfinite(lat):
            self.latencies.append(lat)
        if infer_cpu_s is not None:
            self.infer_cpu.append(infer_cpu_s)
        self._hop_times.append(self._mono())
        self.hops += 1
        return lat

    def input_state(self, dropped_frames: int, overruns: int, status_flags: int) -> None:
        self.dropped_frames, self.overruns, self.status_flags = int(dropped_frames), int(overruns), int(status_flags)

    def sample_cpu(self, min_interval: float = 2.0) -> float | None:
        """Update the process CPU readout when ``min_interval`` s have passed since the last one."""
        t, c = self._mono(), self._cpu()
        t0, c0 = self._cpu_mark
        if t - t0 >= min_interval:
            self.cpu_percent = 100.0 * (c - c0) / (t - t0)
            self._cpu_mark = (t, c)
        return self.cpu_percent

    def hops_per_second(self, span: float = 5.0) -> float:
        now = self._mono()
        recent = [t for t in self._hop_times if now - t <= span]
        if len(recent) < 2:
            return float(len(recent)) / span
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])

    def latency_percentiles(self) -> tuple[float, float] | None:
        if not self.latencies:
            return None
        lat = np.asarray(self.latencies)
        return float(np.percentile(lat, 50)), float(np.percentile(lat, 95))

    def text(self) -> str:
        parts = []
        lp = self.latency_percentiles()
        parts.append("latency " + (f"{1000 * lp[0]:.0f} ms (p95 {1000 * lp[1]:.0f})" if lp else "–"))
        parts.append(f"{self.hops_per_second():.2f} hops/s")
        if self.infer_cpu:
            parts.append(f"inference {1000 * float(np.median(self.infer_cpu)):.0f} ms CPU/hop")
        parts.append("CPU " + (f"{self.cpu_percent:.0f} %" if self.cpu_percent is not None else "–"))
        dropped = f"dropped {self.dropped_frames} frames"
        if self.overruns or self.status_flags:
            dropped += f" ({self.overruns} overruns, {self.status_flags} device warnings)"
        parts.append(dropped)
        return " · ".join(parts)
