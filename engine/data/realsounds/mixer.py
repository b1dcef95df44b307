"""Mix 10-second soundscapes from real recordings, with exact event times.

A clip is one real background (a recording looped with 50-ms cross-fades from random
offsets to fill the clip, at -45 to -25 dBFS RMS) plus 0 to 4 events of distinct classes, each
a whole recording placed at a random time (a recording longer than the clip is cut to a
random part of at most 90 % of it) with its RMS 0 to +20 dB relative to the background's.
Training clips augment each event (``augment=True``): speed/pitch change by resampling
(x0.85 to x1.18), random low-pass (2.5 to 9 kHz) or high-pass (80 to 400 Hz) filtering and
synthetic room reverberation (exponentially decaying noise, RT60 0.15 to 0.8 s). Labels are the
event's extent as placed (a reverberation tail 40 dB down is left outside it).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from ...audio import resample

EVENT_COUNT_P = (0.08, 0.30, 0.30, 0.20, 0.12)   # P(0..4 events in a clip)
EBR_DB = (0.0, 20.0)
BG_DB = (-45.0, -25.0)
FADE_S = 0.05


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2) + 1e-20))


def loop_background(rng: np.random.Generator, x: np.ndarray, n: int, sr: int) -> np.ndarray:
    """A length-``n`` signal made of pieces of ``x`` from random offsets, joined by cross-fades."""
    fade = int(FADE_S * sr)
    if len(x) <= 2 * fade:
        x = np.tile(x, int(np.ceil((2 * fade + 1) / max(1, len(x)))) + 1)
    out = np.zeros(n + len(x), np.float32)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    pos = 0
    while pos < n:
        start = int(rng.integers(0, max(1, len(x) // 2)))
        piece = x[start:].copy()
        if pos > 0:
            piece[:fade] *= ramp
            out[pos:pos + fade] *= ramp[::-1]
        out[pos:pos + len(piece)] += piece
        pos += len(piece) - fade
    return out[:n]


def augment(rng: np.random.Generator, x: np.ndarray, sr: int) -> np.ndarray:
    """Random speed/pitch, filtering and reverberation of one event (see the module docstring)."""
    speed = float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))
    if abs(speed - 1.0) > 0.01:
        x = resample(x, int(round(sr * speed)), sr)   # played faster: shorter and higher
    r = rng.random()
    if r < 0.35:
        sos = butter(4, float(rng.uniform(2500, 9000)), "lowpass", fs=sr, output="sos")
        x = sosfilt(sos, x).astype(np.float32)
    elif r < 0.55:
        sos = butter(2, float(rng.uniform(80, 400)), "highpass", fs=sr, output="sos")
        x = sosfilt(sos, x).astype(np.float32)
    if rng.random() < 0.35:
        rt60 = float(rng.uniform(0.15, 0.8))
        n = int(rt60 * sr)
        ir = rng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * np.arange(n) / n).astype(np.float32)
        ir[0] = 0.0
        ir /= np.sqrt(np.sum(ir ** 2)) + 1e-9
        wet = float(rng.uniform(0.1, 0.45))
        x = (x + wet * fftconvolve(x, ir)[: len(x)]).astype(np.float32)
    return x.astype(np.float32)


def make_mixture(rng: np.random.Generator, events: dict[str, list[np.ndarray]], backgrounds: list[np.ndarray],
                 sr: int, duration: float = 10.0, augment_events: bool = False):
    """One clip: returns (samples (N,) float32, [(onset s, offset s, label)], info dict).

    events: label -> recordings (trimmed, float32 at ``sr``) this split may use;
    backgrounds: recordings to loop under them. Labels in a clip are distinct.
    """
    n = int(round(duration * sr))
    bg_i = int(rng.integers(len(backgrounds)))
    bg = loop_background(rng, backgrounds[bg_i], n, sr)
    bg_level = 10 ** (rng.uniform(*BG_DB) / 20)
    bg *= bg_level / _rms(bg)
    out = bg.astype(np.float64)
    labels = sorted(events)
    k = int(rng.choice(len(EVENT_COUNT_P), p=EVENT_COUNT_P))
    chosen = rng.choice(len(labels), size=min(k, len(labels)), replace=False) if k else []
    placed, picks = [], []
    for ci in chosen:
        label = labels[int(ci)]
        ri = int(rng.integers(len(events[label])))
        x = events[label][ri]
        if augment_events:
            x = augment(rng, x, sr)
        max_len = int(0.9 * n)
        if len(x) > max_len:
            s = int(rng.integers(0, len(x) - max_len + 1))
            x = x[s:s + max_len]
        level = bg_level * 10 ** (rng.uniform(*EBR_DB) / 20)
        x = x * (level / _rms(x))
        onset = int(rng.integers(0, n - len(x) + 1))
        out[onset:onset + len(x)] += x
        placed.append((round(onset / sr, 6), round((onset + len(x)) / sr, 6), label))
        picks.append((label, ri))
    peak = float(np.abs(out).max())
    if peak > 0.98:
        out *= 0.98 / peak
    order = sorted(range(len(placed)), key=lambda i: placed[i])
    return (out.astype(np.float32), [placed[i] for i in order],
            {"background": bg_i, "events": [picks[i] for i in order]})
