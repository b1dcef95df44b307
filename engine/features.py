"""Log-mel features, batched in torch (CPU or CUDA).

The representation follows the paper and its authors' code: 44.1 kHz mono, a
centred STFT with n_fft 2048 (46.4 ms) and hop 492 samples (11.16 ms), the
power spectrum projected on librosa's 128-band Slaney mel filterbank from 0 Hz
to sr/2, then compressed with log(1 + 10000 * mel).

The filterbank is librosa's, computed by ``engine.melscale`` (numpy; importing librosa's would cost
1-2.6 s of start-up) once per config and cached; the STFT (framing + real FFT) runs in torch so that a batch of clips is one call. The result matches
``librosa.feature.melspectrogram(..., center=True, pad_mode="constant")``
within float32 rounding (see ``tests/test_features.py``).

Shapes: a batch of B clips of up to N samples gives B x n_mels x frames, with
``frames = 1 + N // hop_length`` (centred frames, like librosa).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from . import melscale


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that defines the input representation; saved with every model.

    sr: sample rate in Hz the audio is resampled to.
    n_fft, hop_length: STFT size and hop in samples.
    n_mels, fmin, fmax: mel bands and their range in Hz (fmax None = sr / 2).
    log_gain: the C in log(1 + C * mel).
    clip_seconds: the training clip length (clips are padded or cut to it).
    """

    sr: int = 44100
    n_fft: int = 2048
    hop_length: int = 492
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    log_gain: float = 10000.0
    clip_seconds: float = 10.0

    @property
    def frame_hop_s(self) -> float:
        """Seconds between two feature frames."""
        return self.hop_length / self.sr

    @property
    def clip_frames(self) -> int:
        """Frames of a training clip (896 at the paper's setting, as in the authors' code)."""
        return int(round(self.clip_seconds * self.sr)) // self.hop_length

    def n_frames(self, n_samples: int) -> int:
        """Frames of a clip of ``n_samples`` samples (centred STFT)."""
        return 1 + n_samples // self.hop_length

    def mel_frequencies(self) -> np.ndarray:
        """Centre frequency in Hz of each mel band (n_mels,), for axes."""
        fmax = self.fmax if self.fmax is not None else self.sr / 2
        return melscale.mel_frequencies(self.n_mels + 2, self.fmin, fmax)[1:-1]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown feature config keys: {sorted(unknown)}")
        return cls(**data)


@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> torch.Tensor:
    """librosa's Slaney mel filterbank (engine.melscale) as a float32 tensor (n_mels x (1 + n_fft/2))."""
    return torch.from_numpy(np.ascontiguousarray(melscale.mel_filterbank(sr, n_fft, n_mels, fmin, fmax)))


@functools.lru_cache(maxsize=8)
def _window(n_fft: int) -> torch.Tensor:
    # librosa's default window: scipy's periodic Hann.
    return torch.hann_window(n_fft, periodic=True, dtype=torch.float32)


def log_mel_batch(
    samples: torch.Tensor | np.ndarray,
    config: FeatureConfig | None = None,
    lengths: Sequence[int] | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mel of a zero-padded batch of mono clips already at ``config.sr``.

    samples: B x N float (or N for one clip), on CPU or CUDA.
    lengths: true length of each clip in samples (None: all N).
    Returns (features B x n_mels x frames float32 on the same device,
    frames per clip as a LongTensor of B). Frames past a clip's own length are
    those of the zero padding; use the returned frame counts to ignore them.
    """
    cfg = config or FeatureConfig()
    x = torch.as_tensor(samples, dtype=torch.float32)
    if x.ndim == 1:
        x = x.unsqueeze(0)
    if x.ndim != 2:
        raise ValueError(f"expected B x N samples, got shape {tuple(x.shape)}")
    batch, n = x.shape
    if lengths is None:
        lengths_t = torch.full((batch,), n, dtype=torch.long)
    else:
        lengths_t = torch.as_tensor(lengths, dtype=torch.long).cpu()
        # zero what lies past each clip's length, so padding is true silence
        mask = torch.arange(n, device=x.device)[None, :] < lengths_t.to(x.device)[:, None]
        x = x * mask
    # centred frames with zero padding, as librosa's default
    half = cfg.n_fft // 2
    feats = _log_mel_frames(torch.nn.functional.pad(x, (half, half)), cfg).contiguous()
    frames = 1 + lengths_t // cfg.hop_length
    return feats, frames


def _log_mel_frames(padded: torch.Tensor, cfg: FeatureConfig, chunk: int = 1024) -> torch.Tensor:
    """Log-mel of every full n_fft window of ``padded`` (B x N or N) every hop_length samples.

    Returns B x n_mels x frames (n_mels x frames for 1-D input). Frames are laid
    out time-major (frames x F) so the FFT and the filterbank product run on
    contiguous memory. On CPU the work goes clip by clip in chunks of ``chunk``
    frames that stay in cache: about 4 times faster than one huge batched call,
    which is memory-bound, and memory stays bounded for hour-long inputs.
    """
    one = padded.ndim == 1
    x = padded[None] if one else padded
    n_fft, hop = cfg.n_fft, cfg.hop_length
    n_frames = 0 if x.shape[-1] < n_fft else 1 + (x.shape[-1] - n_fft) // hop
    window = _window(n_fft).to(x.device)
    basis_t = _mel_basis(cfg.sr, n_fft, cfg.n_mels, cfg.fmin, cfg.fmax).to(x.device).T  # F x n_mels
    out = torch.empty(x.shape[0], n_frames, cfg.n_mels, device=x.device)
    if n_frames:
        frames = x.unfold(-1, n_fft, hop)                     # B x frames x n_fft (a view)
        step = n_frames if x.device.type != "cpu" else chunk
        for b in range(x.shape[0]):
            for s0 in range(0, n_frames, step):
                spec = torch.fft.rfft(frames[b, s0:s0 + step] * window, dim=-1)
                power = spec.real.square() + spec.imag.square()
                torch.matmul(power, basis_t, out=out[b, s0:s0 + step])
    out.mul_(cfg.log_gain).log1p_()
    out = out.transpose(1, 2)
    return out[0] if one else out


def log_mel(samples, sr: int, config: FeatureConfig | None = None) -> torch.Tensor:
    """Log-mel of one mono clip: samples (N,) at ``sr`` Hz -> (n_mels x frames) float32 tensor.

    The clip is resampled to ``config.sr`` first when ``sr`` differs. The
    result is not standardized (see :class:`Normalizer`).
    """
    cfg = config or FeatureConfig()
    x = np.asarray(samples, dtype=np.float32) if not torch.is_tensor(samples) else samples
    if x.ndim != 1:
        raise ValueError(f"expected a mono clip (N,), got shape {tuple(x.shape)}")
    if sr != cfg.sr:
        from .audio import resample

        x = resample(np.asarray(x, dtype=np.float32), sr, cfg.sr)
    feats, _ = log_mel_batch(x, cfg)
    return feats[0]


class LogMelStream:
    """Log-mel of an audio stream fed block by block, identical to :func:`log_mel` on the whole signal.

    ``feed(samples)`` returns the frames (n_mels x k tensor) that became
    complete; ``finish()`` returns the last ones. Memory: one block plus one
    FFT window, whatever the stream's length.
    """

    def __init__(self, config: FeatureConfig | None = None, device: str | torch.device = "cpu"):
        self.cfg = config or FeatureConfig()
        self.device = torch.device(device)
        # centred frames: the signal starts with n_fft // 2 zeros (librosa's constant padding)
        self._buf = torch.zeros(self.cfg.n_fft // 2, device=self.device)
        self.n_samples = 0
        self.n_frames = 0
        self._done = False

    def _frames(self, upto: int) -> torch.Tensor:
        """Frames whose window lies inside the buffer (first ``upto`` frames at most)."""
        cfg = self.cfg
        if upto <= 0:
            return torch.zeros(cfg.n_mels, 0, device=self.device)
        used = (upto - 1) * cfg.hop_length + cfg.n_fft
        feats = _log_mel_frames(self._buf[:used], cfg).contiguous()
        self._buf = self._buf[upto * cfg.hop_length:]
        self.n_frames += upto
        return feats

    def feed(self, samples) -> torch.Tensor:
        if self._done:
            raise RuntimeError("stream already finished")
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).to(self.device).reshape(-1)
        self._buf = torch.cat([self._buf, x])
        self.n_samples += x.numel()
        cfg = self.cfg
        ready = 0 if self._buf.numel() < cfg.n_fft else 1 + (self._buf.numel() - cfg.n_fft) // cfg.hop_length
        return self._frames(ready)

    def finish(self) -> torch.Tensor:
        self._done = True
        cfg = self.cfg
        total = 1 + self.n_samples // cfg.hop_length
        remaining = total - self.n_frames
        self._buf = torch.cat([self._buf, torch.zeros(cfg.n_fft // 2 + cfg.hop_length, device=self.device)])
        return self._frames(remaining)


@dataclass
class Normalizer:
    """Per-mel-bin standardization with training statistics: (x - mean) / std.

    mean, std: float32 arrays of n_mels. They travel with the model file.
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self):
        self.mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        self.std = np.maximum(np.asarray(self.std, dtype=np.float32).reshape(-1), 1e-5)
        if self.mean.shape != self.std.shape:
            raise ValueError("mean and std must have the same number of mel bins")

    @classmethod
    def identity(cls, n_mels: int) -> "Normalizer":
        return cls(np.zeros(n_mels, np.float32), np.ones(n_mels, np.float32))

    @classmethod
    def fit(cls, features: Sequence[torch.Tensor | np.ndarray]) -> "Normalizer":
        """Statistics over the frames of unpadded feature matrices (each n_mels x frames)."""
        acc = RunningStats()
        for f in features:
            acc.update(f)
        return acc.normalizer()

    def apply(self, feats: torch.Tensor) -> torch.Tensor:
        """Standardize ``feats`` (... x n_mels x frames)."""
        mean = torch.as_tensor(self.mean, device=feats.device)[:, None]
        std = torch.as_tensor(self.std, device=feats.device)[:, None]
        return (feats - mean) / std


class RunningStats:
    """Per-bin mean and std accumulated over many (n_mels x frames) matrices in float64."""

    def __init__(self):
        self.count = 0
        self.sum = None
        self.sumsq = None

    def update(self, feats) -> None:
        f = torch.as_tensor(feats).to(torch.float64)
        if self.sum is None:
            self.sum = torch.zeros(f.shape[0], dtype=torch.float64)
            self.sumsq = torch.zeros(f.shape[0], dtype=torch.float64)
        self.sum += f.sum(dim=1)
        self.sumsq += f.square().sum(dim=1)
        self.count += f.shape[1]

    def normalizer(self) -> Normalizer:
        if not self.count:
            raise ValueError("no frames to compute statistics from")
        mean = self.sum / self.count
        var = (self.sumsq / self.count - mean.square()).clamp_min(0)
        return Normalizer(mean.numpy(), var.sqrt().numpy())
