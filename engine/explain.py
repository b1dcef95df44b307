"""Every number of the teaching lesson, computed by the model and the loss functions themselves.

:func:`explain` runs one analysis window (the whole clip for a recording of at most one
window plus its margins, 11.4 s at the paper's settings, exactly the pass
:meth:`engine.infer.Predictor.analyze` makes) and keeps, beside what ``analyze`` keeps:

- the feature map X (K x T) of the last backbone stage and each scale's segment grid;
- the pooled feature vector the macro head classifies (eq. 2; K values) and its prediction;
- each scale's d_t (T x C) and a_t (T), and the weight eq. 7 gives each segment's BCE for each
  class, from :func:`engine.losses.micro_weights` (the loss's own code), with the terms and the
  loss value of :func:`engine.losses.micro_loss`;
- alpha_t of eq. 9 per scale (:meth:`SoundEventModel.pooling_weights`), y_att, and the model's
  eq. 9 at every mu of a 0.01 grid (:meth:`SoundEventModel.ensemble`);
- for ResNet-ATT models their own attention pooling (a_t or a_{t,c}, the pooled clip output).

Nothing here re-derives a formula the engine has: the arrays come from the model's forward
pass (hooks read its intermediate tensors) and from ``engine.losses``. Times in seconds
from the start of the recording, C classes, T_l segments at scale l, K feature channels.
The model runs in eval mode (BatchNorm with its running statistics), so the loss values are
what this clip would cost the trained model, not what it cost during training (train-mode BN).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from . import audio as audio_mod
from .errors import Cancelled
from .losses import macro_loss, method_loss, micro_loss, micro_options, micro_terms, micro_weights

MU_STEPS = 101          # eq. 9 is evaluated by the model at mu = 0, 0.01, ..., 1


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().float().cpu().numpy()


@dataclass
class ScaleLesson:
    """One temporal scale. ``times`` (T,) segment starts in s, each ``hop_s`` s long; ``channels`` K_l.

    segment_probs: d_t, T x C. attention: a_t, T (None without attention). class_attention:
    a_{t,c} or ATT's per-class attention, T x C (None when shared). alpha: the pooling weights
    of the clip output (eq. 9's alpha_t for M&mnet, ATT's own attention), T x 1 or T x C,
    summing to 1 over T. pooled: sum_t alpha_t d_t, C. For M&mnet also the eq. 7 parts for
    the lesson's labels: micro_weights W (T x C), micro_terms BCE(y_c, d_{t,c}) (T x C, nats),
    micro_loss (the value of :func:`engine.losses.micro_loss` on this clip).
    """

    name: str
    hop_s: float
    channels: int
    times: np.ndarray
    segment_probs: np.ndarray
    attention: np.ndarray | None
    class_attention: np.ndarray | None
    alpha: np.ndarray | None
    pooled: np.ndarray | None
    micro_weights: np.ndarray | None = None
    micro_terms: np.ndarray | None = None
    micro_loss: float | None = None

    @property
    def n_segments(self) -> int:
        return len(self.times)

    def alpha_for(self, c: int) -> np.ndarray | None:
        """The pooling weights (T,) of class index ``c``."""
        if self.alpha is None:
            return None
        return self.alpha[:, 0] if self.alpha.shape[1] == 1 else self.alpha[:, c]

    def share_inside(self, onset: float, offset: float, c: int = 0) -> float | None:
        """Fraction of class ``c``'s pooling weight on segments overlapping [onset, offset] s."""
        a = self.alpha_for(c)
        if a is None:
            return None
        inside = (self.times < offset) & (self.times + self.hop_s > onset)
        return float(a[inside].sum() / max(float(a.sum()), 1e-12))


@dataclass
class Lesson:
    """The explained window of one recording with one model (see the module).

    log_mel: n_mels x F unstandardized, frames ``frame_hop_s`` apart from ``start_s``.
    feature_map: K x T, the last backbone stage. pooled_features: K (macro head input; None
    without macro head). macro: C, the macro head (None for ATT). clip_probs: C, the method's
    clip path (macro for M&mnet, the attention pooling for ATT). y_att: C, eq. 9's pooled
    segment predictions (mean over the ensemble's scales). ensemble: C at the model's mu.
    mu_grid (M,) and ensemble_grid (M x C): eq. 9 computed by the model at each mu.
    labels: C in {0, 1}, the y of eq. 7 (``label_source`` "reference" or "predicted": the
    model's own tags where the clip has no labels). class_weights: the w_c used (C).
    """

    source: str | None
    method: str
    kind: str
    classes: list[str]
    thresholds: np.ndarray
    start_s: float
    duration: float
    frame_hop_s: float
    log_mel: np.ndarray
    feature_map: np.ndarray
    pooled_features: np.ndarray | None
    macro: np.ndarray | None
    clip_probs: np.ndarray
    y_att: np.ndarray | None
    ensemble: np.ndarray | None
    mu: float | None
    ensemble_mode: str
    mu_grid: np.ndarray
    ensemble_grid: np.ndarray | None
    scales: list[ScaleLesson]
    primary_scale: int
    ensemble_scales: list[int]
    labels: np.ndarray
    label_source: str
    class_weights: np.ndarray
    micro_reduction: str = "sum"
    micro_weight: float = 1.0
    macro_loss: float | None = None
    micro_loss: float | None = None
    total_loss: float | None = None
    extra: dict = field(default_factory=dict)      # the model's eq. 7 / eq. 9 options, by ModelConfig name

    @property
    def has_micro(self) -> bool:
        return self.kind == "mmnet"

    @property
    def primary(self) -> ScaleLesson:
        return self.scales[self.primary_scale]

    def class_index(self, name: str) -> int:
        return self.classes.index(name)

    def ensemble_at(self, mu: float) -> np.ndarray:
        """Eq. 9 as the model computes it at the grid point nearest ``mu`` (0.01 steps): C."""
        if self.ensemble_grid is None:
            raise ValueError(f"{self.method} has no ensemble prediction (eq. 9)")
        i = int(np.clip(np.rint(float(mu) * (len(self.mu_grid) - 1)), 0, len(self.mu_grid) - 1))
        return self.ensemble_grid[i]

    def recalls(self, name: str) -> bool:
        """Whether the final clip probability of class ``name`` reaches its threshold."""
        c = self.class_index(name)
        final = self.ensemble if self.ensemble is not None else self.clip_probs
        return bool(final[c] >= self.thresholds[c])


def _read_window(source, sr: int, start_s: float, length_s: float | None):
    """(samples float32 at ``sr``, path or None) of [start_s, start_s + length_s] (None: to the end).

    A path is streamed with :func:`engine.audio.iter_blocks` in 60-s blocks, as ``analyze`` reads it.
    """
    if isinstance(source, (str, os.PathLike)):
        path = str(source)
        a = int(round(start_s * sr))
        b = None if length_s is None else a + int(round(length_s * sr))
        parts, pos = [], 0
        for block in audio_mod.iter_blocks(path, sr, 60.0):
            n = len(block)
            if pos + n > a:
                parts.append(block[max(0, a - pos):(None if b is None else max(0, b - pos))])
            pos += n
            if b is not None and pos >= b:
                break
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if len(samples) == 0:
            raise audio_mod.AudioError(f"{path}: no audio after {start_s:.2f} s")
        return samples.astype(np.float32, copy=False), path
    clip = source
    samples = clip.samples[int(round(start_s * sr)):]
    if length_s is not None:
        samples = samples[:int(round(length_s * sr))]
    return np.asarray(samples, np.float32), clip.path


def explain(predictor, source, *, labels: Sequence[str] | None = None, start_s: float = 0.0,
            class_weights: Sequence[float] | np.ndarray | None = None,
            cancel: Callable[[], bool] | None = None) -> Lesson:
    """The lesson's numbers for ``source`` (a path or an :class:`engine.audio.AudioClip` at the
    model's rate) with ``predictor`` (:class:`engine.infer.Predictor`).

    The window explained starts at ``start_s``; it is the whole rest of the recording when that is
    at most one analysis window plus two margins, else one window (10 s). labels: the clip's
    label names for eq. 7 (None: the model's own tags, ``label_source`` "predicted").
    class_weights: eq. 11's w_c (the model file does not keep them; None: ones).
    """
    cfg = predictor.feature_config
    model = predictor.model
    hop = cfg.frame_hop_s
    limit_s = (predictor.window_frames + 2 * predictor.margin_frames) * hop
    if not isinstance(source, (str, os.PathLike)):
        source = audio_mod.as_clip(source, cfg.sr, cfg.sr)
    samples, path = _read_window(source, cfg.sr, start_s, limit_s + 1.0)
    if len(samples) > int(limit_s * cfg.sr):
        samples = samples[:int(round(predictor.window_frames * hop * cfg.sr))]
    if cancel is not None and cancel():
        raise Cancelled("explanation cancelled")
    from .features import log_mel

    feats = log_mel(samples, cfg.sr, cfg)                                   # n_mels x F
    captured: dict[str, torch.Tensor] = {}
    hooks = [model.backbone.register_forward_hook(lambda m, i, o: captured.__setitem__("maps", o))]
    if model.macro is not None:
        hooks.append(model.macro.cls.register_forward_pre_hook(
            lambda m, i: captured.__setitem__("pooled", i[0])))
    try:
        out = predictor.forward_features(feats[None])
    finally:
        for h in hooks:
            h.remove()
    return _lesson(predictor, out, captured, feats, samples, path, start_s, labels, class_weights)


def _lesson(predictor, out, captured, feats, samples, path, start_s, labels, class_weights) -> Lesson:
    model = predictor.model
    mcfg = model.config
    classes = list(predictor.classes)
    C = len(classes)
    kind = mcfg.kind
    thresholds = np.asarray(predictor.thresholds, np.float32)
    clip_probs = _np(out.clip_probs[0])
    final = _np(out.predictions[0])
    if labels is None:
        y = (final >= thresholds).astype(np.float32)
        source_kind = "predicted"
    else:
        unknown = [n for n in labels if n not in classes]
        if unknown:
            raise ValueError(f"labels not among the model's classes: {', '.join(unknown)}")
        y = np.array([1.0 if c in labels else 0.0 for c in classes], np.float32)
        source_kind = "reference"
    w = np.ones(C, np.float32) if class_weights is None else np.asarray(class_weights, np.float32).reshape(C)
    y_t = torch.as_tensor(y, device=out.clip_probs.device)[None]
    w_t = torch.as_tensor(w, device=out.clip_probs.device)
    hop = predictor.feature_config.frame_hop_s
    scales = []
    channels = {name: k for name, k, _ in model.scale_specs}
    for s in out.scales:
        alpha = pooled = None
        W = terms = loss = None
        if kind == "mmnet":
            alpha = model.pooling_weights(s)[0]
            pooled = model.attention_pooled(s)[0][0]
            opts = micro_options(mcfg)
            W = micro_weights(s, y_t, w_t, **opts)[0]
            terms = micro_terms(s, y_t)[0]
            loss = float(micro_loss(s, y_t, w_t, reduction=mcfg.micro_reduction, **opts))
        elif kind in ("att", "att-class"):
            alpha = s.class_attention[0] if s.class_attention is not None else s.attention[0][:, None]
            pooled = out.clip_probs[0]
        T = s.segment_probs.shape[1]
        scales.append(ScaleLesson(
            name=s.name, hop_s=float(s.hop_s), channels=int(channels.get(s.name, 0)),
            times=start_s + np.arange(T, dtype=np.float64) * s.hop_s,
            segment_probs=_np(s.segment_probs[0]), attention=_np(None if s.attention is None else s.attention[0]),
            class_attention=_np(None if s.class_attention is None else s.class_attention[0]),
            alpha=_np(alpha), pooled=_np(pooled), micro_weights=_np(W), micro_terms=_np(terms), micro_loss=loss))
    mu_grid = np.linspace(0.0, 1.0, MU_STEPS)
    ens_grid = y_att = None
    ens_idx: list[int] = []
    m_loss = mi_loss = total = None
    if kind == "mmnet":
        ens_idx = model.ensemble_scale_indices(out)
        ens_grid = np.stack([_np(model.ensemble(out, mu=float(m))[0][0]) for m in mu_grid])
        y_att = np.mean([scales[i].pooled for i in ens_idx], axis=0)
        m_loss = float(macro_loss(out, y_t, w_t))
        mi_loss = float(sum(sc.micro_loss for sc in scales))
        total = float(method_loss(out, y_t, mcfg, w_t)[0])
    elif kind != "pool":
        total = float(method_loss(out, y_t, mcfg, w_t)[0])
    fmap = captured["maps"][-1][0]
    pooled_feats = captured.get("pooled")
    return Lesson(
        source=path, method=mcfg.method, kind=kind, classes=classes, thresholds=thresholds, start_s=float(start_s),
        duration=len(samples) / predictor.feature_config.sr, frame_hop_s=hop, log_mel=_np(feats),
        feature_map=_np(fmap[:, :-(-feats.shape[1] // model.stride)]),
        pooled_features=None if pooled_feats is None else _np(pooled_feats[0, :, 0]),
        macro=clip_probs if model.macro is not None else None, clip_probs=clip_probs,
        y_att=y_att, ensemble=_np(None if out.ensemble_probs is None else out.ensemble_probs[0]),
        mu=float(mcfg.mu) if kind == "mmnet" else None, ensemble_mode=mcfg.ensemble_mode, mu_grid=mu_grid,
        ensemble_grid=ens_grid, scales=scales, primary_scale=int(out.primary_scale or 0), ensemble_scales=ens_idx,
        labels=y, label_source=source_kind, class_weights=w, micro_reduction=mcfg.micro_reduction,
        micro_weight=float(mcfg.micro_weight), macro_loss=m_loss, micro_loss=mi_loss, total_loss=total,
        extra={k: getattr(mcfg, k) for k in ("ensemble_pooling", "micro_negatives", "attention_scale",
                                             "detach_attention", "clip_loss_on", "variant")})


def learning_history(snapshot_paths: Sequence[tuple[int, str | os.PathLike]], source, *,
                     labels: Sequence[str] | None = None, device: str = "cpu",
                     progress: Callable[[float], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> list[tuple[int, Lesson]]:
    """(epoch, :class:`Lesson`) of ``source`` under each snapshot (``engine.runs.snapshots(run)``).

    Snapshots are loaded one at a time (float16 weights, read back as float32 models).
    """
    from .infer import Predictor

    out = []
    for k, (epoch, path) in enumerate(snapshot_paths):
        if cancel is not None and cancel():
            raise Cancelled("cancelled")
        pred = Predictor.load(path, device=device)
        out.append((int(epoch), explain(pred, source, labels=labels, cancel=cancel)))
        if progress is not None:
            progress((k + 1) / max(1, len(snapshot_paths)))
    return out
