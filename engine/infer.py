"""Inference on recordings of any length with bounded memory.

A recording is streamed (audio blocks -> :class:`LogMelStream`) and analyzed in
windows of the training clip length (10 s) that overlap by a context margin on
each side; only each window's central part is kept, so segment predictions are
seamless across windows (the convolutions see the same context as in one
pass). A recording no longer than a window plus its margins is analyzed in a
single pass. The window planning lives in :mod:`engine.stream`, which also
analyzes live input (:meth:`Predictor.stream`). Attention (softmax over time) and clip-level predictions are by
nature relative to the window they were computed on, as in training.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

import numpy as np
import torch

from . import audio as audio_mod
from .analysis import Analysis, ScaleAnalysis
from .modelfile import ModelBundle, load_bundle, read_metadata
from .models.output import ModelOutput
from .stream import FrameBuffer, TilingPlanner, Window


from .errors import Cancelled  # noqa: F401  (re-exported: raised through the ``cancel`` callback)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Predictor:
    """A loaded model ready to analyze audio. Build with ``engine.load_model(path)``."""

    def __init__(self, bundle: ModelBundle, device: str | torch.device | None = None, path: str | None = None):
        self.device = torch.device(device) if device is not None else default_device()
        self.bundle = bundle
        self.model = bundle.model.to(self.device).eval()
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device | None = None) -> "Predictor":
        dev = torch.device(device) if device is not None else default_device()
        return cls(load_bundle(path, device="cpu"), dev, str(path))

    # ------------------------------------------------------------------ facts
    @property
    def classes(self) -> list[str]:
        return self.bundle.classes

    @property
    def method(self) -> str:
        return self.bundle.config.method

    @property
    def feature_config(self):
        return self.bundle.feature_config

    @property
    def thresholds(self) -> np.ndarray:
        return self.bundle.thresholds

    def metadata(self) -> dict:
        return self.bundle.metadata()

    @property
    def window_frames(self) -> int:
        """Frames per analysis window: the training clip length, a multiple of the model's stride."""
        s = self.model.stride
        return max(s, (self.feature_config.clip_frames // s) * s)

    @property
    def margin_frames(self) -> int:
        """Context frames on each side of a window (4 segments of the coarsest scale, 0.7 s)."""
        return 4 * self.model.stride

    # ------------------------------------------------------------- inference
    @torch.no_grad()
    def forward_features(self, feats: torch.Tensor, ensemble: bool | None = None) -> ModelOutput:
        """Standardize and run the network: feats B x n_mels x T (unstandardized log-mel)."""
        x = self.bundle.normalizer.apply(feats.to(self.device, torch.float32))
        return self.model(x, ensemble=ensemble)

    def analyze(self, path_or_samples, sr: int | None = None, *, ensemble: bool | None = None,
                keep_features: bool = False, batch_size: int = 8, block_s: float = 60.0,
                progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> Analysis:
        """Analyze a file path, an :class:`AudioClip`, or samples (with their ``sr``).

        Windows (:class:`engine.stream.TilingPlanner`): a recording of at most one window
        plus two margins (``window_frames + 2 * margin_frames``, 11.4 s at the paper's
        settings) is one pass. A longer one is cut into windows whose cores of
        ``window_frames`` (10 s) tile it from 0 s (the last core is shorter), each seeing
        ``margin_frames`` (0.71 s) of context on each side; segment predictions and
        attention are taken from each window's core, so they are seamless.
        Clip scores on long recordings: ``window_times`` / ``window_probs`` keep every
        window's clip probabilities (the ensemble's where there is one), and
        ``clip_macro`` / ``clip_ensemble`` are their maxima over windows, class by class
        (a class is present in the recording if it is present in some window).

        ensemble: override the model's eq. 9 switch (False = "M&mnet without EP").
        keep_features: keep the log-mel (n_mels x frames) in the result (for views).
        progress: called with the fraction done in [0, 1]; cancel: polled, True stops with :class:`Cancelled`.
        Raises :class:`engine.audio.AudioError` for unusable audio.
        """
        cfg = self.feature_config
        source = None
        if isinstance(path_or_samples, (str, os.PathLike)):
            source = str(path_or_samples)
            total_s = audio_mod.info(source).duration
            blocks: Iterable[np.ndarray] = audio_mod.iter_blocks(source, cfg.sr, block_s)
        else:
            clip = audio_mod.as_clip(path_or_samples, sr, cfg.sr)
            source = clip.path
            total_s = clip.duration
            step = int(block_s * cfg.sr)
            blocks = (clip.samples[i:i + step] for i in range(0, len(clip.samples), step))
        est_frames = max(1, cfg.n_frames(int(round(total_s * cfg.sr))))
        return self._run(blocks, est_frames, source, ensemble, keep_features, batch_size, progress, cancel)

    def stream(self, sr: int, channels: int = 1, **options):
        """A :class:`engine.stream.StreamAnalyzer` for live input of ``sr`` Hz and ``channels``
        channels (options: hop_s, window_s, delay_s, thresholds, segment_threshold, scale, ...)."""
        from .stream import StreamAnalyzer

        return StreamAnalyzer(self, sr, channels, **options)

    def _run(self, blocks, est_frames, source, ensemble, keep_features, batch_size, progress, cancel) -> Analysis:
        from .features import LogMelStream

        cfg = self.feature_config
        stream = LogMelStream(cfg, self.device)
        held = FrameBuffer(cfg.n_mels, self.device)
        planner = TilingPlanner(self.window_frames, self.margin_frames)
        kept = [] if keep_features else None
        pending: list[Window] = []
        results: list[dict] = []
        finished = False
        block_iter = iter(blocks)

        def flush(windows: list[Window]):
            # group windows of equal length into batches
            by_len: dict[int, list[Window]] = {}
            for w in windows:
                by_len.setdefault(w.stop - w.start, []).append(w)
            for group in by_len.values():
                for i in range(0, len(group), batch_size):
                    chunk = group[i:i + batch_size]
                    x = torch.stack([held.get(w.start, w.stop) for w in chunk])
                    out = self.forward_features(x, ensemble)
                    for j, w in enumerate(chunk):
                        results.append(self._extract(w, out, j))

        while True:
            if cancel is not None and cancel():
                raise Cancelled("analysis cancelled")
            try:
                block = next(block_iter)
                new = stream.feed(block)
            except StopIteration:
                new = stream.finish()
                finished = True
            held.append(new)
            if kept is not None and new.shape[1]:
                kept.append(new.cpu())
            pending += planner.plan(held.end, finished)
            if pending and (len(pending) >= batch_size or finished):
                flush(pending)
                pending = []
                held.drop_before(planner.first_needed())  # frames no later window needs
            if progress is not None:
                progress(min(1.0, held.end / est_frames) if not finished else 1.0)
            if finished:
                break
        return self._merge(results, stream.n_samples / cfg.sr, source, kept)

    def _extract(self, w: Window, out: ModelOutput, j: int) -> dict:
        """The part of window ``w`` (item ``j`` of a batch output) that it owns, as small numpy arrays."""
        hop = self.feature_config.frame_hop_s
        rec = {"start": w.core_start, "macro": out.clip_probs[j].float().cpu().numpy(),
               "ensemble": None if out.ensemble_probs is None else out.ensemble_probs[j].float().cpu().numpy(),
               "primary": out.primary_scale, "scales": []}
        for s in out.scales:
            stride = int(round(s.hop_s / hop))
            first = (w.core_start - w.start) // stride
            last = -(-(w.core_stop - w.start) // stride)
            rec["scales"].append((s.name, float(s.hop_s), s.segment_probs[j, first:last].float().cpu().numpy(),
                                  None if s.attention is None else s.attention[j, first:last].float().cpu().numpy()))
        return rec

    def _merge(self, results: list[dict], duration: float, source, kept) -> Analysis:
        cfg = self.feature_config
        hop = cfg.frame_hop_s
        results.sort(key=lambda r: r["start"])
        scales = []
        for k, (name, hop_s, _, att0) in enumerate(results[0]["scales"]):
            probs = np.concatenate([r["scales"][k][2] for r in results], axis=0).astype(np.float32)
            att = None if att0 is None else np.concatenate([r["scales"][k][3] for r in results]).astype(np.float32)
            times = np.arange(len(probs), dtype=np.float64) * hop_s
            scales.append(ScaleAnalysis(name, hop_s, times, probs, att))
        win_macro_a = np.stack([r["macro"] for r in results]).astype(np.float32)
        has_ens = results[0]["ensemble"] is not None
        win_ens_a = np.stack([r["ensemble"] for r in results]).astype(np.float32) if has_ens else None
        window_probs = win_ens_a if win_ens_a is not None else win_macro_a
        win_times = [r["start"] * hop for r in results]
        if kept is not None:
            log_mel = torch.cat(kept, dim=1).numpy() if kept else np.zeros((cfg.n_mels, 0), np.float32)
        else:
            log_mel = None
        return Analysis(
            classes=list(self.classes), duration=duration,
            clip_macro=win_macro_a.max(axis=0),
            clip_ensemble=None if win_ens_a is None else win_ens_a.max(axis=0),
            scales=scales, thresholds=np.asarray(self.thresholds, np.float32), method=self.method,
            source=source, primary_scale=results[0]["primary"],
            window_s=self.window_frames * hop, window_times=np.asarray(win_times, np.float64),
            window_probs=window_probs, log_mel=log_mel, frame_hop_s=hop,
        )


def model_info(path: str | os.PathLike) -> dict:
    """The metadata of a model file (``mmnet info``), reading only its header."""
    return read_metadata(path)
