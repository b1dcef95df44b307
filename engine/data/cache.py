"""A disk cache of log-mel features, one ``.npy`` per clip, and a torch-friendly view for training.

Layout: ``CACHE_DIR/logmel-<config hash>/<aa>/<path hash>-<stat hash>.npy`` where the config
hash covers :meth:`FeatureConfig.to_dict` and the storage dtype, the path hash the audio
file's absolute path, and the stat hash its size and modification time (ns). Changing the
feature config uses another folder; changing the file (content, size or mtime) gives
another entry name, so the features are recomputed; the superseded entry of the same path
is deleted when the new one is written. ``config.json`` in each folder says what it holds.

Entries are n_mels x frames, float16 by default (half the disk; the log-mel values lie in
about [0, 25], so the rounding error is below 0.01, far under the per-bin standard
deviation) or float32 (``dtype="float32"``, bit-identical to :func:`engine.features.log_mel`).
They are written atomically (a temporary file, then a rename) and read memory-mapped
(``np.load(..., mmap_mode="r", allow_pickle=False)``), so a training crop reads only its
frames. An entry that cannot be read back (truncated, wrong shape, NaN) is recomputed.
Audio problems raise :class:`engine.audio.AudioError`.

Files longer than ``STREAM_ABOVE_S`` seconds are read block by block
(:func:`engine.audio.iter_blocks` + :class:`engine.features.LogMelStream`), so memory is
bounded by the features, not by the audio.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from ..audio import AudioError, _check_exists, info, iter_blocks, load_audio
from ..features import FeatureConfig, LogMelStream, Normalizer, RunningStats, log_mel

CACHE_VERSION = 1
STREAM_ABOVE_S = 300.0

Progress = Callable[[int, int], None]


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def config_key(config: FeatureConfig, dtype: str = "float16") -> str:
    """A short hash naming everything the cached values depend on besides the audio."""
    spec = {"features": config.to_dict(), "dtype": dtype, "version": CACHE_VERSION}
    return _sha1(json.dumps(spec, sort_keys=True))[:16]


class FeatureCache:
    """Log-mel features of audio files, computed once and kept on disk.

    cache_dir: folder of the cache (shared by configs); feature_config: the representation
    (default the paper's); dtype: 'float16' (default) or 'float32' on disk.
    """

    def __init__(self, cache_dir: str | os.PathLike, feature_config: FeatureConfig | None = None, *,
                 dtype: str = "float16"):
        if dtype not in ("float16", "float32"):
            raise ValueError(f"dtype must be 'float16' or 'float32', not {dtype!r}")
        self.config = feature_config or FeatureConfig()
        self.dtype = np.dtype(dtype)
        self.key = config_key(self.config, dtype)
        self.root = Path(cache_dir)
        self.dir = self.root / f"logmel-{self.key}"
        self._described = False

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.dir)!r})"

    # ---------------------------------------------------------------- entries
    def entry_path(self, path: str | os.PathLike) -> Path:
        """Where the features of ``path`` in its current state are stored (AudioError if it is missing)."""
        path = os.path.abspath(os.fspath(path))
        _check_exists(path)
        st = os.stat(path)
        ph = _sha1(path)[:20]
        sh = _sha1(f"{st.st_size}:{st.st_mtime_ns}")[:10]
        return self.dir / ph[:2] / f"{ph}-{sh}.npy"

    def contains(self, path: str | os.PathLike) -> bool:
        """True when an entry for the file in its current state exists (not checked for damage)."""
        try:
            return self.entry_path(path).exists()
        except AudioError:
            return False

    def _read(self, entry: Path) -> np.ndarray | None:
        """The memory-mapped entry, or None when it is missing or damaged."""
        try:
            arr = np.load(entry, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError):  # missing, truncated, not an .npy
            return None
        if arr.ndim != 2 or arr.shape[0] != self.config.n_mels or arr.shape[1] < 1 or arr.dtype != self.dtype:
            return None
        return arr

    def open(self, path: str | os.PathLike) -> np.ndarray:
        """Features of ``path`` (n_mels x frames) in the on-disk dtype, memory-mapped when cached.

        Computes and stores them first when missing or damaged.
        """
        entry = self.entry_path(path)
        arr = self._read(entry)
        if arr is None:
            arr = self._compute_and_store(path, entry)
        return arr

    def get(self, path: str | os.PathLike) -> np.ndarray:
        """Features of ``path`` as a float32 array n_mels x frames (computed and stored if needed)."""
        entry = self.entry_path(path)
        arr = self._read(entry)
        if arr is not None:
            out = np.array(arr, dtype=np.float32)
            if np.isfinite(out).all():
                return out
        return np.array(self._compute_and_store(path, entry), dtype=np.float32)

    def frames(self, path: str | os.PathLike) -> int:
        """Number of feature frames of ``path``."""
        return int(self.open(path).shape[1])

    # -------------------------------------------------------------- computing
    def compute(self, path: str | os.PathLike) -> np.ndarray:
        """Features of ``path`` (float32, n_mels x frames) without touching the cache."""
        cfg = self.config
        path = os.fspath(path)
        if info(path).duration > STREAM_ABOVE_S:
            stream = LogMelStream(cfg)
            parts = [stream.feed(block).numpy() for block in iter_blocks(path, cfg.sr, block_s=60.0)]
            parts.append(stream.finish().numpy())
            return np.concatenate(parts, axis=1).astype(np.float32, copy=False)
        clip = load_audio(path, cfg.sr)
        return log_mel(clip.samples, cfg.sr, cfg).numpy()

    def _describe(self) -> None:
        if self._described:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        desc = self.dir / "config.json"
        if not desc.exists():
            text = json.dumps({"features": self.config.to_dict(), "dtype": self.dtype.name,
                               "version": CACHE_VERSION}, indent=2)
            _atomic_write_bytes(desc, text.encode("utf-8"))
        self._described = True

    def _compute_and_store(self, path, entry: Path) -> np.ndarray:
        feats = self.compute(path)
        if not np.isfinite(feats).all():
            raise AudioError(f"{path}: the features are not finite")
        arr = np.ascontiguousarray(feats.astype(self.dtype, copy=False))
        self._describe()
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, arr, allow_pickle=False)
            os.replace(tmp, entry)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        prefix = entry.name.split("-")[0] + "-"
        for old in entry.parent.glob(prefix + "*.npy"):  # superseded versions of the same file
            if old != entry:
                try:
                    old.unlink()
                except OSError:
                    pass
        return arr

    def build(self, paths: Iterable[str | os.PathLike], workers: int = 2,
              progress: Progress | str | None = "auto") -> dict:
        """Compute the missing entries of ``paths``, ``workers`` at a time (threads).

        progress: a callback ``(done, total)`` called as entries are computed, "auto" for a
        progress line on stderr when it is a terminal (tqdm when installed), None for silence.
        Audio errors do not stop the build: they are returned in ``failed`` as (path, reason).
        Returns {"total", "cached", "computed", "failed", "seconds"}.
        """
        t0 = time.time()
        unique = list(dict.fromkeys(os.fspath(p) for p in paths))
        todo, failed, cached = [], [], 0
        for p in unique:
            try:
                entry = self.entry_path(p)
            except AudioError as exc:
                failed.append((p, _reason(exc, p)))
                continue
            if entry.exists():
                cached += 1
            else:
                todo.append((p, entry))
        callback, close = _progress_callback(progress, len(todo))
        done = computed = 0
        workers = max(1, int(workers or 1))
        old_threads = torch.get_num_threads()
        try:
            if workers > 1 and len(todo) > 1:
                # each worker thread runs its own torch ops: share the cores instead of oversubscribing
                torch.set_num_threads(max(1, old_threads // workers))
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    futures = {pool.submit(self._compute_and_store, p, entry): p for p, entry in todo}
                    for fut in as_completed(futures):
                        exc = fut.exception()
                        if isinstance(exc, AudioError):
                            failed.append((futures[fut], _reason(exc, futures[fut])))
                        elif exc is not None:
                            raise exc
                        else:
                            computed += 1
                        done += 1
                        if callback:
                            callback(done, len(todo))
            else:
                for p, entry in todo:
                    try:
                        self._compute_and_store(p, entry)
                        computed += 1
                    except AudioError as exc:
                        failed.append((p, _reason(exc, p)))
                    done += 1
                    if callback:
                        callback(done, len(todo))
        finally:
            torch.set_num_threads(old_threads)
            if close:
                close()
        return {"total": len(unique), "cached": cached, "computed": computed, "failed": failed,
                "seconds": round(time.time() - t0, 3)}

    def clear(self) -> None:
        """Delete this config's entries (other configs' folders are left alone)."""
        import shutil

        if self.dir.exists():
            shutil.rmtree(self.dir)
        self._described = False


def _reason(exc: Exception, path) -> str:
    text, prefix = str(exc), f"{os.fspath(path)}: "
    if text.startswith(prefix):
        return text[len(prefix):]
    abs_prefix = f"{os.path.abspath(os.fspath(path))}: "
    return text[len(abs_prefix):] if text.startswith(abs_prefix) else text


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _progress_callback(progress, total: int):
    """(callback, close) for a progress option; "auto" draws on a terminal only."""
    if total == 0 or progress is None:
        return None, None
    if callable(progress):
        return progress, None
    if progress != "auto" or not sys.stderr.isatty():
        return None, None
    try:
        from tqdm import tqdm  # optional
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, desc="features", unit="clip")
        return (lambda done, _total: bar.update(done - bar.n)), bar.close
    start = time.time()

    def line(done: int, total: int) -> None:
        rate = done / max(time.time() - start, 1e-6)
        eta = (total - done) / rate if rate > 0 else 0
        sys.stderr.write(f"\rfeatures {done}/{total} ({100 * done // total}%, {rate:.1f} clips/s, "
                         f"{eta:.0f} s left) ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return line, None


# ------------------------------------------------------------------ torch view
class ClipFeatureSet:
    """Fixed-length feature crops of a dataset's clips, for training and evaluation.

    ``set[i]`` (or ``set.get(i, epoch)``) returns (features float32 tensor n_mels x clip_frames,
    labels float32 tensor C, n_valid): clips shorter than ``clip_frames`` are zero-padded in
    log-mel space (log1p(0) = 0 is exact silence) and ``n_valid`` says how many frames are
    real; longer clips are cut to ``clip_frames``: from the start when ``train`` is False, at a
    random offset when True. The offset depends only on (seed, epoch, i), so a resumed run
    sees the same crops; ``set_epoch`` chooses the epoch ``set[i]`` uses.
    """

    def __init__(self, dataset, cache: FeatureCache, clip_frames: int | None = None, *,
                 train: bool = False, seed: int = 0):
        self.paths = [it.path for it in dataset.items]
        self.classes = list(dataset.classes)
        self.labels = torch.from_numpy(dataset.labels_matrix())
        self.cache = cache
        self.clip_frames = int(clip_frames or cache.config.clip_frames)
        self.train = bool(train)
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def get(self, i: int, epoch: int | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(features n_mels x clip_frames, labels C, number of real frames) of clip ``i``."""
        if not 0 <= i < len(self.paths):
            raise IndexError(f"clip {i} out of range ({len(self.paths)} clips)")
        feats, valid = self._crop(self.cache.open(self.paths[i]), i, epoch)
        if not np.isfinite(feats).all():  # a damaged entry: get() recomputes it
            feats, valid = self._crop(self.cache.get(self.paths[i]), i, epoch)
        return torch.from_numpy(feats), self.labels[i].clone(), valid

    def _crop(self, arr: np.ndarray, i: int, epoch: int | None) -> tuple[np.ndarray, int]:
        n, want = arr.shape[1], self.clip_frames
        if n < want:
            feats = np.zeros((arr.shape[0], want), np.float32)
            feats[:, :n] = arr
            return feats, n
        start = 0
        if self.train and n > want:
            rng = np.random.default_rng([self.seed, self.epoch if epoch is None else int(epoch), i])
            start = int(rng.integers(0, n - want + 1))
        return np.array(arr[:, start:start + want], dtype=np.float32), want

    def __getitem__(self, i: int):
        return self.get(int(i))


def feature_stats(feature_set: ClipFeatureSet, *, max_clips: int | None = None, seed: int = 0) -> Normalizer:
    """Per-mel-bin mean and std over the valid (unpadded) frames of a feature set.

    max_clips: use a seeded random subset of that many clips (None: all).
    """
    n = len(feature_set)
    if n == 0:
        raise ValueError("no clips to compute feature statistics from")
    indices = range(n)
    if max_clips is not None and max_clips < n:
        indices = sorted(np.random.default_rng(seed).choice(n, size=max_clips, replace=False).tolist())
    stats = RunningStats()
    for i in indices:
        feats, _, valid = feature_set.get(i, epoch=0) if hasattr(feature_set, "get") else feature_set[i]
        if valid > 0:
            stats.update(feats[:, :valid])
    return stats.normalizer()
