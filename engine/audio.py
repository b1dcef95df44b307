"""Reading audio: any file soundfile (or librosa's fallback) can read, any sample
rate (resampled with soxr), any channel count (downmixed to mono), any length.

Everything returned is float32 mono at the requested rate. Problems with a file
raise :class:`AudioError` whose message names the file and the reason, so that
the CLI can print one line and the GUI can show it and go on.

For long recordings :func:`iter_blocks` streams the file in blocks with a
streaming resampler, so memory stays bounded whatever the file's length.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


from .errors import AudioError  # noqa: F401  (re-exported: engine.audio.AudioError)

# The file name suffixes (lower case) the engine treats as audio, everywhere it lists files: folders
# given to ``mmnet predict`` / ``mmnet batch``, datasets' audio folders, sound packages.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au", ".m4a", ".opus")


def is_audio_name(name: str | os.PathLike) -> bool:
    """Whether a file name (or path) ends in one of :data:`AUDIO_SUFFIXES` (any case)."""
    return os.fspath(name).lower().endswith(AUDIO_SUFFIXES)


def audio_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursively, hidden files and folders left out), sorted by path;
    ``[folder]`` when it is a file. Raises :class:`AudioError` when it does not exist."""
    root = Path(folder)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise AudioError(f"{folder}: no such folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and is_audio_name(p.name)
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


@dataclass
class AudioClip:
    """samples: float32 mono (N,) at ``sr`` Hz; path: where it came from (None for arrays)."""

    samples: np.ndarray
    sr: int
    path: str | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sr


@dataclass
class AudioInfo:
    """What a file holds without reading it: native rate (Hz), channels, frames, seconds."""

    path: str
    sr: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sr if self.sr else 0.0


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample mono float32 samples with soxr (high quality), or return them unchanged."""
    if orig_sr == target_sr:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(samples, dtype=np.float32), orig_sr, target_sr, quality="HQ").astype(
        np.float32, copy=False
    )


def _check_exists(path: str) -> None:
    if not os.path.exists(path):
        raise AudioError(f"{path}: no such file")
    if os.path.isdir(path):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes)")


def info(path: str | os.PathLike) -> AudioInfo:
    """Rate, channels and length of an audio file, reading only its header."""
    path = str(path)
    _check_exists(path)
    import soundfile as sf

    try:
        i = sf.info(path)
        return AudioInfo(path, int(i.samplerate), int(i.channels), int(i.frames))
    except Exception as exc:
        # formats libsndfile does not read: decode once (slow but rare)
        clip = _load_fallback(path, None, exc)
        return AudioInfo(path, clip.sr, 1, len(clip.samples))


def _to_mono(data: np.ndarray) -> np.ndarray:
    if data.ndim == 2:
        data = data.mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32)


def _validate(samples: np.ndarray, path: str) -> np.ndarray:
    if samples.size == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{path}: the audio holds NaN or infinite samples")
    return samples


def _load_fallback(path: str, sr: int | None, first_error: Exception | None = None) -> AudioClip:
    """Decode formats libsndfile cannot read through librosa/audioread (needs ffmpeg or similar)."""
    import warnings

    # librosa's notices about this very fallback ("PySoundFile failed", audioread's deprecation):
    # the caller gets an AudioError or the samples. Filters, not catch_warnings(): that swaps the
    # process-wide filter list and is not safe with the app's loading threads.
    warnings.filterwarnings("ignore", message="PySoundFile failed", category=UserWarning)
    warnings.filterwarnings("ignore", message=r"librosa\.core\.audio\.__audioread_load", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"audioread(\.|$)")   # aifc, audioop...
    try:
        import librosa

        y, file_sr = librosa.load(path, sr=sr, mono=True)
    except Exception as exc:  # audioread / ffmpeg failures come in many types
        reason = first_error if first_error is not None else exc
        text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        raise AudioError(f"{path}: not a readable audio file ({text})") from None
    return AudioClip(_validate(np.asarray(y, np.float32), path), int(file_sr), path)


def load_audio(path: str | os.PathLike, sr: int | None = 44100) -> AudioClip:
    """Read a whole file as mono float32, resampled to ``sr`` Hz (None keeps the native rate)."""
    path = str(path)
    _check_exists(path)
    import soundfile as sf

    try:
        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:
        return _load_fallback(path, sr, exc)
    samples = _validate(_to_mono(data), path)
    if sr is not None and file_sr != sr:
        samples = resample(samples, int(file_sr), sr)
        file_sr = sr
    return AudioClip(samples, int(file_sr), path)


def iter_blocks(path: str | os.PathLike, sr: int, block_s: float = 60.0) -> Iterator[np.ndarray]:
    """Stream a file as consecutive mono float32 blocks at ``sr`` Hz of about ``block_s`` seconds.

    Memory is bounded by one block whatever the file's length. Concatenating
    the blocks gives the same samples as :func:`load_audio` (up to the
    resampler's streaming, which is seamless).
    """
    path = str(path)
    _check_exists(path)
    import soundfile as sf

    try:
        handle = sf.SoundFile(path)
    except Exception as exc:
        clip = _load_fallback(path, sr, exc)
        step = max(1, int(block_s * sr))
        for start in range(0, len(clip.samples), step):
            yield clip.samples[start:start + step]
        return
    with handle:
        file_sr = int(handle.samplerate)
        stream = None
        if file_sr != sr:
            import soxr

            stream = soxr.ResampleStream(file_sr, sr, 1, dtype="float32", quality="HQ")
        step = max(1, int(block_s * file_sr))
        got_any = False
        while True:
            try:
                data = handle.read(step, dtype="float32", always_2d=True)
            except Exception as exc:  # a damaged or truncated file fails part-way (FLAC "lost sync")
                text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise AudioError(f"{path}: the audio cannot be decoded after {handle.tell() / file_sr:.1f} s "
                                 f"({text})") from None
            last = len(data) < step
            block = _to_mono(data)
            if not np.all(np.isfinite(block)):
                raise AudioError(f"{path}: the audio holds NaN or infinite samples")
            if stream is not None:
                block = stream.resample_chunk(block, last=last).astype(np.float32, copy=False)
            if len(block):
                got_any = True
                yield block
            if last:
                break
        if not got_any:
            raise AudioError(f"{path}: the file holds no audio samples")


def as_clip(path_or_samples, sr: int | None, target_sr: int) -> AudioClip:
    """A path or an array (with its ``sr``) as an :class:`AudioClip` at ``target_sr``."""
    if isinstance(path_or_samples, (str, os.PathLike, Path)):
        return load_audio(path_or_samples, target_sr)
    if isinstance(path_or_samples, AudioClip):
        clip = path_or_samples
        return AudioClip(resample(clip.samples, clip.sr, target_sr), target_sr, clip.path)
    if sr is None:
        raise AudioError("samples given without their sample rate (pass sr=...)")
    samples = np.asarray(path_or_samples, dtype=np.float32)
    if samples.ndim == 2:  # (N, channels) or (channels, N): the shorter axis is channels
        samples = samples.mean(axis=1 if samples.shape[0] > samples.shape[1] else 0)
    if samples.ndim != 1:
        raise AudioError(f"expected mono or multi-channel samples, got shape {samples.shape}")
    samples = _validate(np.ascontiguousarray(samples, np.float32), "<samples>")
    return AudioClip(resample(samples, int(sr), target_sr), target_sr, None)
