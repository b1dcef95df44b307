"""Decode and screen recordings; find files cut from one original.

Every recording is decoded to mono float32 at the dataset's rate, its silent ends trimmed
(frames of 10 ms more than 45 dB below the loudest frame) and measured: duration, RMS and peak
(dBFS), clipped fraction (samples at |x| >= 0.99), the rate it was stored at and its bandwidth
(frequency below which 99 % of the energy lies). :func:`screen` rejects a recording, with the
reason, when it is too short or too long, silent, clipped or stored below 11.025 kHz.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from ...audio import resample

MIN_S, MAX_S = 0.08, 30.0
MIN_PEAK_DBFS = -50.0
MAX_CLIPPED = 0.002          # fraction of samples at full scale
MIN_NATIVE_SR = 11025
DUP_RATE = 4000              # rate the duplicate search compares waveforms at
DUP_NCC = 0.9                # normalized cross-correlation above which two files are cuts of one original


@dataclass
class Recording:
    """One decoded sound: samples (N,) float32 at ``sr``; the rest describes where it comes from."""
    label: str                 # class name, or "bg:<kind>" for backgrounds
    package: str
    version: str
    path: str                  # path inside the package ('!' enters a .rcc container)
    license: str
    group: str                 # original recording it was cut from (split unit)
    samples: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.float32))
    sr: int = 44100
    native_sr: int = 0
    stats: dict = field(default_factory=dict)
    rejected: str = ""         # reason, empty when kept
    part: int = 0              # index of the event cut from the file (SPLIT_AT_GAPS classes), else 0


def decode(data: bytes, sr: int) -> tuple[np.ndarray, int]:
    """Bytes of a WAV/OGG/FLAC/MP3 file -> (mono float32 at ``sr``, the file's own rate)."""
    x, native = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    x = x - x.mean()                       # some files carry a DC offset
    if native != sr:
        x = resample(x, int(native), sr)
    return np.ascontiguousarray(x, dtype=np.float32), int(native)


def trim(x: np.ndarray, sr: int, floor_db: float = 45.0) -> np.ndarray:
    """Drop leading and trailing 10-ms frames more than ``floor_db`` below the loudest frame."""
    hop = max(1, sr // 100)
    n = len(x) // hop
    if n == 0:
        return x
    e = (x[:n * hop].reshape(n, hop) ** 2).mean(axis=1)
    keep = np.flatnonzero(e > e.max() * 10 ** (-floor_db / 10))
    if len(keep) == 0:
        return x[:0]
    return x[keep[0] * hop:min(len(x), (keep[-1] + 1) * hop)]


def split_at_gaps(x: np.ndarray, sr: int, gap_s: float = 0.15, floor_db: float = 30.0,
                  min_s: float = 0.05) -> list[np.ndarray]:
    """Cut a recording of several separate sounds into single events at silent gaps.

    A gap is at least ``gap_s`` of 10-ms frames more than ``floor_db`` below the loudest frame;
    parts shorter than ``min_s`` are dropped. Each part is trimmed again (45 dB)."""
    hop = max(1, sr // 100)
    n = len(x) // hop
    if n == 0:
        return [x] if len(x) else []
    e = (x[:n * hop].reshape(n, hop) ** 2).mean(axis=1)
    active = e > e.max() * 10 ** (-floor_db / 10)
    parts, start, quiet = [], None, 0
    min_gap = max(1, int(round(gap_s * 100)))
    for i, a in enumerate(active):
        if a:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_gap:
                parts.append((start, i - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        parts.append((start, n - quiet))
    out = []
    for a, b in parts:
        lo, hi = max(0, a * hop - hop), min(len(x), b * hop + hop)   # one frame of margin each side
        seg = trim(x[lo:hi], sr)
        if len(seg) >= min_s * sr:
            out.append(seg)
    return out


def measure(x: np.ndarray, sr: int, native_sr: int) -> dict:
    """Duration (s), RMS and peak (dBFS), clipped fraction, native rate and 99 %-energy bandwidth (Hz)."""
    if len(x) == 0:
        return {"duration": 0.0, "rms_db": -200.0, "peak_db": -200.0, "clipped": 0.0,
                "native_sr": native_sr, "bandwidth_hz": 0.0}
    spec = np.abs(np.fft.rfft(x[: sr * 5])) ** 2
    cum = np.cumsum(spec)
    bw = float(np.searchsorted(cum, 0.99 * cum[-1]) * sr / (2 * max(1, len(spec) - 1)))
    return {"duration": round(len(x) / sr, 4),
            "rms_db": round(float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)), 2),
            "peak_db": round(float(20 * np.log10(np.abs(x).max() + 1e-10)), 2),
            "clipped": round(float(np.mean(np.abs(x) >= 0.99)), 5),
            "native_sr": native_sr, "bandwidth_hz": round(bw, 1)}


def screen(stats: dict, background: bool = False) -> str:
    """The reason to reject a recording with these stats, or '' to keep it."""
    if stats["native_sr"] < MIN_NATIVE_SR:
        return f"stored at {stats['native_sr']} Hz (< {MIN_NATIVE_SR})"
    if stats["peak_db"] < MIN_PEAK_DBFS:
        return "silent"
    if stats["duration"] < (1.0 if background else MIN_S):
        return f"too short ({stats['duration']:.2f} s)"
    if stats["duration"] > MAX_S:
        return f"too long ({stats['duration']:.1f} s)"
    if stats["clipped"] > MAX_CLIPPED:
        return f"clipped ({100 * stats['clipped']:.2f} % of samples at full scale)"
    return ""


def max_ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Largest normalized cross-correlation of the shorter signal against every position in the longer."""
    if len(a) < len(b):
        a, b = b, a
    if len(b) < 0.1 * DUP_RATE:
        return 0.0
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    num = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)[: len(a) - len(b) + 1]
    csum = np.concatenate([[0.0], np.cumsum(a.astype(np.float64) ** 2)])
    win = csum[len(b):] - csum[: len(a) - len(b) + 1]
    den = np.sqrt(np.maximum(win, 1e-20) * float(np.sum(b.astype(np.float64) ** 2)))
    valid = win > 1e-3 * win.max()
    return float(np.max(np.abs(num[valid]) / den[valid])) if valid.any() else 0.0


def merge_duplicates(recs: list[Recording], sr: int) -> list[tuple[str, str, float]]:
    """Merge the groups of recordings that are cuts of one another (NCC >= DUP_NCC at DUP_RATE Hz).

    Compares every pair of kept recordings (a few hundred: fast). Returns the merged pairs
    (path, path, ncc); ``group`` of the merged recordings is set to one shared name.
    """
    from scipy.signal import butter, sosfilt

    sos = butter(2, 100.0, "highpass", fs=DUP_RATE, output="sos")
    small = [sosfilt(sos, resample(r.samples, sr, DUP_RATE)) if len(r.samples) else r.samples for r in recs]
    parent = {r.group: r.group for r in recs}

    def find(g: str) -> str:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    pairs = []
    for i in range(len(recs)):
        for j in range(i + 1, len(recs)):
            if find(recs[i].group) == find(recs[j].group):
                continue
            c = max_ncc(small[i], small[j])
            if c >= DUP_NCC:
                pairs.append((recs[i].path, recs[j].path, round(c, 3)))
                a, b = sorted((find(recs[i].group), find(recs[j].group)))
                parent[b] = a
    for r in recs:
        r.group = find(r.group)
    return pairs
