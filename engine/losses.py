"""Training objectives of every method (paper eqs. 3, 7, 8, 10, 11 and the baselines of Fig. 3).

Conventions: y is B x C in {0, 1}; class weights w are C (eq. 11, ones when
beta = 0). The binary cross-entropy xi(y, p) of eq. 3 sums over classes; here
it is the class-weighted *mean* over classes and the mean over the batch, a
constant 1/C factor on every term (macro and micro alike), so the balance of
eq. 8 is unchanged and the learning rate keeps the same meaning for any C.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .models.network import ModelConfig
from .models.output import ModelOutput, ScaleOutput

EPS = 1e-7


def class_weights(labels, beta: float = 0.3) -> torch.Tensor:
    """Eq. 11: w_c = ((p_mean / p_c) * ((1 - p_c) / (1 - p_mean))) ** beta.

    labels: N x C binary clip labels of the training set. p_c is the share of
    clips holding class c (clipped to [1/(2N), 1 - 1/(2N)] so that a class
    absent from or present in every clip gets a finite weight).
    Returns a float32 tensor of C weights.
    """
    y = np.asarray(labels, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] == 0:
        raise ValueError("labels must be N x C with N > 0")
    if beta == 0:
        return torch.ones(y.shape[1])
    n = y.shape[0]
    p = np.clip(y.mean(axis=0), 0.5 / n, 1 - 0.5 / n)
    p_mean = p.mean()
    w = ((p_mean / p) * ((1 - p) / (1 - p_mean))) ** beta
    return torch.as_tensor(w, dtype=torch.float32)


def _weighted_mean(per_class: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last (class) axis with optional class weights: (...) x C -> (...)."""
    if weights is not None:
        per_class = per_class * weights.to(per_class)
    return per_class.mean(dim=-1)


def bce(target: torch.Tensor, probs: torch.Tensor | None = None, logits: torch.Tensor | None = None,
        weights: torch.Tensor | None = None) -> torch.Tensor:
    """xi(y, y_hat) per example: class-weighted mean BCE over the last axis.

    Give ``logits`` when available (numerically stable), otherwise ``probs``.
    Shapes broadcast: target ... x C -> result ... .
    """
    if logits is not None:
        target = target.expand_as(logits)
        per = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    else:
        p = probs.clamp(EPS, 1 - EPS)
        target = target.expand_as(p)
        per = F.binary_cross_entropy(p, target, reduction="none")
    return _weighted_mean(per, weights)


def macro_loss(output: ModelOutput, y: torch.Tensor, weights=None) -> torch.Tensor:
    """Eq. 3 on the clip path: mean over the batch of xi(y, y_hat)."""
    return bce(y, output.clip_probs, output.clip_logits, weights).mean()


def micro_terms(scale: ScaleOutput, y: torch.Tensor) -> torch.Tensor:
    """The per-segment term of eq. 7 before weighting: BCE(y_c, d_{t,c}), B x T x C (nats).

    From the segment logits when the scale has them (numerically stable), else its probabilities.
    """
    if scale.segment_logits is not None:
        return F.binary_cross_entropy_with_logits(scale.segment_logits,
                                                  y.unsqueeze(1).expand_as(scale.segment_logits),
                                                  reduction="none")
    p = scale.segment_probs.clamp(EPS, 1 - EPS)
    return F.binary_cross_entropy(p, y.unsqueeze(1).expand_as(p), reduction="none")


def micro_weights(scale: ScaleOutput, y: torch.Tensor, weights=None, *, attention_scale: str = "heads",
                  detach_attention: bool = False, negatives: str = "attention",
                  label_attention: bool = False) -> torch.Tensor:
    """W_{t,c}, the weight eq. 7 gives segment t's BCE for class c: B x T x C.

    W_{t,c} = a_t w_c for every class ("attention", eq. 7 with eq. 11's class weights ``weights``,
    C values, ones when None) or a_t w_c on the clip's positive classes (y = 1) and 1 on its
    negatives ("uniform", authors' code). a_t is a_{t,c} with ``label_attention``. attention_scale
    "heads" keeps a_t as eq. 6 defines it (summing to m over time), "unit" divides by m (sums to 1).
    detach_attention stops the gradient through a_t. Padded segments (scale.valid False) weigh 0.
    :func:`micro_loss` is sum_t (or mean_t) W * :func:`micro_terms`, so these are the loss's own weights.
    """
    if label_attention:
        a = scale.class_attention                                          # B x T x C
        if a is None:
            raise ValueError(f"scale {scale.name} has no label-specific attention")
    else:
        if scale.attention is None:
            raise ValueError(f"scale {scale.name} has no attention: not a micro head")
        a = scale.attention.unsqueeze(2)                                   # B x T x 1
    if attention_scale == "unit":
        heads = scale.head_logits.shape[1] if scale.head_logits is not None else a.sum(dim=1, keepdim=True)
        a = a / heads
    if detach_attention:
        a = a.detach()
    n_classes = y.shape[-1]
    w = weights.to(a) if weights is not None else torch.ones(n_classes, dtype=a.dtype, device=a.device)
    pos = y.unsqueeze(1).to(a)                                             # B x 1 x C
    if negatives == "uniform":
        W = pos * a * w + (1 - pos)
    elif negatives == "attention":
        W = (a * w).expand(-1, -1, n_classes)
    else:
        raise ValueError(f"negatives must be attention or uniform, not {negatives!r}")
    if scale.valid is not None:
        W = W * scale.valid.unsqueeze(2).to(W)
    return W


def micro_options(config: ModelConfig) -> dict:
    """The keyword options of :func:`micro_loss` / :func:`micro_weights` that ``config`` trains with."""
    return dict(attention_scale=config.attention_scale, detach_attention=config.detach_attention,
                negatives=config.micro_negatives, label_attention=config.micro_attention == "label")


def micro_loss(scale: ScaleOutput, y: torch.Tensor, weights=None, *, attention_scale: str = "heads",
               detach_attention: bool = False, reduction: str = "sum", negatives: str = "attention",
               label_attention: bool = False) -> torch.Tensor:
    """Eq. 7 and the authors' form of it, averaged over the batch.

    Per clip: mean over classes c of sum_t W_{t,c} BCE(y_c, d_{t,c}) ("sum", eq. 7) or of
    mean_t W_{t,c} BCE(y_c, d_{t,c}) ("mean" over the clip's real segments, authors' code),
    W_{t,c} from :func:`micro_weights` (which documents the options), the BCE from
    :func:`micro_terms`.
    """
    W = micro_weights(scale, y, weights, attention_scale=attention_scale, detach_attention=detach_attention,
                      negatives=negatives, label_attention=label_attention)
    per = micro_terms(scale, y)                                            # B x T x C
    total = (W * per).sum(dim=1)                                           # B x C
    if reduction == "mean":
        mask = scale.valid
        n = mask.sum(dim=1, keepdim=True).to(total) if mask is not None else per.shape[1]
        total = total / n
    elif reduction != "sum":
        raise ValueError(f"reduction must be sum or mean, not {reduction!r}")
    return total.mean(dim=1).mean()


def multiscale_micro_loss(output: ModelOutput, y, weights=None, **kw) -> torch.Tensor:
    """Eq. 10: the sum over all scales of eq. 7 (one scale for plain M&mnet)."""
    return sum(micro_loss(s, y, weights, **kw) for s in output.scales)


def _segment_mean(per_segment: torch.Tensor, scale: ScaleOutput) -> torch.Tensor:
    """Mean over the batch of each clip's mean over its real segments: B x T -> scalar."""
    if scale.valid is None:
        return per_segment.mean()
    m = scale.valid.to(per_segment)
    return ((per_segment * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)).mean()


def slat_loss(output: ModelOutput, y, weights=None) -> torch.Tensor:
    """SLAT (Hershey et al.): every segment takes the clip's labels; mean over segments of xi(y, d_t)."""
    s = output.scales[0]
    return _segment_mean(bce(y.unsqueeze(1), s.segment_probs, s.segment_logits, weights), s)


def wlat_loss(output: ModelOutput, y, weights=None) -> torch.Tensor:
    """WLAT (Kumar et al.): xi(y, mean_t d_t), the clip prediction being the mean of segment predictions."""
    return bce(y, output.clip_probs, None, weights).mean()


def att_loss(output: ModelOutput, y, weights=None) -> torch.Tensor:
    """ATT (both readings): xi(y, sum_t att_t * cla_t), att shared (resnet-att) or per class (resnet-att-class)."""
    return bce(y, output.clip_probs, None, weights).mean()


def plat_targets(cam: torch.Tensor, y: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """PLAT's extrapolated segment labels: 1 where the clip has the class and its
    class activation is at least ``threshold`` times its maximum over time.

    cam: B x T x C activations of the macro classifier on each segment; y: B x C.
    """
    peak = cam.amax(dim=1, keepdim=True).clamp_min(EPS)
    return ((cam >= threshold * peak).float() * y.unsqueeze(1)).detach()


def plat_loss(output: ModelOutput, y, weights=None, threshold: float = 0.5) -> torch.Tensor:
    """PLAT (Diba et al.): macro BCE plus segment BCE against CAM-extrapolated labels."""
    s = output.scales[0]
    if s.class_attention is None:
        raise ValueError("PLAT needs the class activation map of a training-mode forward pass")
    target = plat_targets(s.class_attention, y, threshold)
    return macro_loss(output, y, weights) + _segment_mean(bce(target, s.segment_probs, s.segment_logits, weights), s)


def method_loss(output: ModelOutput, y: torch.Tensor, config: ModelConfig,
                weights: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The training objective of ``config.method``; returns (loss, parts for logging)."""
    kind = config.kind
    y = y.to(output.clip_probs.dtype)
    if kind == "pool":
        loss = macro_loss(output, y, weights)
        return loss, {"macro": float(loss.detach())}
    if kind == "wlat":
        loss = wlat_loss(output, y, weights)
        return loss, {"clip": float(loss.detach())}
    if kind == "slat":
        loss = slat_loss(output, y, weights)
        return loss, {"segment": float(loss.detach())}
    if kind in ("att", "att-class"):
        loss = att_loss(output, y, weights)
        return loss, {"clip": float(loss.detach())}
    if kind == "plat":
        loss = plat_loss(output, y, weights, config.plat_threshold)
        return loss, {"total": float(loss.detach())}
    # M&mnet, eq. 8 (eq. 10 for several scales)
    if config.clip_loss_on == "ensemble":
        if output.ensemble_logits is not None:
            clip = bce(y, None, output.ensemble_logits, weights).mean()
        else:
            clip = bce(y, output.ensemble_probs, None, weights).mean()
    else:
        clip = macro_loss(output, y, weights)
    micro = multiscale_micro_loss(output, y, weights, reduction=config.micro_reduction, **micro_options(config))
    loss = clip + config.micro_weight * micro
    return loss, {"macro": float(clip.detach()), "micro": float(micro.detach())}
