"""The Slaney mel scale and mel filterbank, in numpy: ``librosa.mel_frequencies`` and
``librosa.filters.mel`` (htk=False, norm="slaney") without importing librosa.

Why not librosa itself: importing ``librosa.filters`` pulls in scipy.signal and numba, 1 to 2.6 s
of CPU on the app's start-up path before the first analysis can be drawn, for a 128 x 1025
matrix computed once per feature configuration. The formulas are librosa's (Slaney 1998's
Auditory Toolbox scale: linear below 1 kHz, logarithmic above); ``tests/test_melscale.py``
checks both functions against librosa on several configurations.
"""
from __future__ import annotations

import numpy as np

_F_SP = 200.0 / 3           # Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz) -> np.ndarray:
    """Slaney mels of frequencies ``hz`` (Hz), any shape."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log = hz >= _MIN_LOG_HZ
    return np.where(log, _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP, mel)


def mel_to_hz(mel) -> np.ndarray:
    """Frequencies in Hz of Slaney mels ``mel``, any shape."""
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL)), _F_SP * mel)


def mel_frequencies(n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """``n_mels`` frequencies (Hz) equally spaced in mels from ``fmin`` to ``fmax``, both included."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Triangular filters, area-normalized (Slaney): n_mels x (1 + n_fft // 2), float32.

    Band i rises from edge i to centre i + 1 and falls to edge i + 2 of ``n_mels + 2`` mel-spaced
    edges between ``fmin`` and ``fmax`` (default sr / 2); each row is scaled by 2 / (its width in Hz).
    """
    fmax = sr / 2 if fmax is None else fmax
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    edges = mel_frequencies(n_mels + 2, fmin, fmax)
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)
