"""The one output type every model returns.

Shapes: B clips, C classes, T_l segments at scale l. Probabilities are in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ScaleOutput:
    """Segment-level output of one temporal scale.

    segment_probs: B x T_l x C, the segment predictions d_t (eq. 4).
    segment_logits: B x T_l x C before the sigmoid (None when the method only has probabilities).
    attention: B x T_l, the attention score a_t (eq. 6: softmax over time per
        head, summed over heads, so it sums to the number of heads over time);
        None for methods without attention (WLAT, SLAT, PLAT).
    class_attention: B x T_l x C, class-wise attention: resnet-att-class (each class sums to 1
        over time), M&mnet with micro_attention="label" (a_{t,c}, each class sums to m), PLAT's CAM.
    hop_s: seconds between segments (and length of one segment).
    name: a short label ("stage3", "up1", ...).
    """

    segment_probs: torch.Tensor
    hop_s: float
    name: str
    segment_logits: torch.Tensor | None = None
    attention: torch.Tensor | None = None
    class_attention: torch.Tensor | None = None
    # raw per-head attention logits B x m x T_l (before the softmax); used by the losses
    head_logits: torch.Tensor | None = None
    # B x T_l bool, True on segments holding real input (None: all of them); set when the
    # forward pass was given n_valid for zero-padded clips
    valid: torch.Tensor | None = None


@dataclass
class ModelOutput:
    """clip_probs: B x C clip-level predictions of the method's clip path (the
    macro head for mean/max pooling, PLAT, M&mnet; the pooled segment
    predictions for WLAT, SLAT, ATT).
    clip_logits: B x C before the sigmoid, when the clip path has logits.
    ensemble_probs: B x C, eq. 9 (M&mnet only, None when the ensemble is off).
    scales: segment-level outputs, finest backbone stage first; empty for
        methods that have no segment level (ConvNet/ResNet with mean or max pooling).
    """

    clip_probs: torch.Tensor
    clip_logits: torch.Tensor | None = None
    ensemble_probs: torch.Tensor | None = None
    ensemble_logits: torch.Tensor | None = None
    scales: list[ScaleOutput] = field(default_factory=list)
    primary_scale: int | None = None

    @property
    def has_segment_level(self) -> bool:
        return bool(self.scales)

    @property
    def predictions(self) -> torch.Tensor:
        """The method's final clip-level probabilities: the ensemble when there is one."""
        return self.ensemble_probs if self.ensemble_probs is not None else self.clip_probs
