"""Heads over a feature map X (B x K x T). "Fully connected on each temporal
slice" is written as 1x1 convolutions, so one call covers every segment.

Masks: ``mask`` is B x T bool, True on segments that hold real input (clips
shorter than the training window are zero-padded; their padded segments must
not enter any softmax over time). None means every segment is real.
"""
from __future__ import annotations

import torch
from torch import nn


def mlp_1x1(cin: int, hidden: int, n_hidden: int, cout: int, kernel: int = 1) -> nn.Sequential:
    """``n_hidden`` layers of (conv -> BN -> ReLU) of width ``hidden``, then a conv to ``cout``.

    Works on B x K x T; ``kernel`` is the width over segments of every conv (1: a fully
    connected layer on each segment; 3: the authors' f_det/f_att, 3 segments of context).
    With T = 1 and kernel 1 it is a plain fully connected stack.
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be an odd number >= 1, not {kernel}")
    mods, c = [], cin
    for _ in range(n_hidden):
        mods += [nn.Conv1d(c, hidden, kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(hidden),
                 nn.ReLU(inplace=True)]
        c = hidden
    mods.append(nn.Conv1d(c, cout, kernel, padding=kernel // 2))
    return nn.Sequential(*mods)


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor | None, dim: int) -> torch.Tensor:
    """Softmax over ``dim`` with masked-out entries at exactly 0.

    mask broadcasts against logits (True = keep); every slice must keep at least one entry.
    """
    if mask is None:
        return torch.softmax(logits, dim=dim)
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=dim)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None, dim: int) -> torch.Tensor:
    """Mean over ``dim`` of the entries where mask is True (mask broadcasts against x)."""
    if mask is None:
        return x.mean(dim=dim)
    m = mask.to(x.dtype).expand_as(x)
    return (x * m).sum(dim=dim) / m.sum(dim=dim).clamp_min(1.0)


class MacroHead(nn.Module):
    """f_cls of eq. 2: temporal pooling (mean or max) then FC 1024-BN-ReLU x2 then FC to classes.

    forward(X: B x K x T, mask B x T) -> clip logits B x C (padded segments left out of the
    pooling). ``segment_logits`` applies the same classifier to every slice (PLAT's CAM).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 1024, n_hidden: int = 2, pool: str = "mean"):
        super().__init__()
        if pool not in ("mean", "max"):
            raise ValueError(f"pooling must be mean or max, not {pool!r}")
        self.pool = pool
        self.cls = mlp_1x1(cin, hidden, n_hidden, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        m = None if mask is None else mask[:, None, :]
        if self.pool == "mean":
            pooled = masked_mean(x, m, dim=2).unsqueeze(2)
        else:
            pooled = (x if m is None else x.masked_fill(~m, float("-inf"))).amax(dim=2, keepdim=True)
        return self.cls(pooled)[:, :, 0]

    def segment_logits(self, x: torch.Tensor) -> torch.Tensor:
        """B x K x T -> B x T x C."""
        return self.cls(x).transpose(1, 2)


class MicroHead(nn.Module):
    """The micro subnet of M&mnet on one scale (eqs. 4 to 6).

    f_det: K -> (hidden) -> C segment logits; f_att: K -> (hidden) -> m heads.
    ``hidden = 0`` gives single layers; with ``kernel = 3`` that is the authors' code
    (f_det and f_att single convolutions over 3 segments; m = 384 heads: +0.46M
    parameters, Table 1's figure). The default (one hidden FC layer of 384, kernel 1)
    also gives about +0.46M.
    ``label_mix``: label-specific attention a_{t,c} = m * sum_h pi_{c,h} softmax_t(v_{t,h}),
    pi_c = softmax_h(mix_c) a learned per-class mix of the m heads (C x m parameters).
    forward(X) -> (segment logits B x T x C, head logits B x m x T); ``attention`` turns
    the head logits into a_t (B x T, sums to m over time) and a_{t,c} (B x T x C or None).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 384, heads: int = 384, kernel: int = 1,
                 label_mix: bool = False):
        super().__init__()
        n_hidden = 1 if hidden else 0
        self.det = mlp_1x1(cin, hidden or cin, n_hidden, n_classes, kernel)
        self.att = mlp_1x1(cin, hidden or cin, n_hidden, heads, kernel)
        self.heads = heads
        self.mix = nn.Parameter(torch.zeros(n_classes, heads)) if label_mix else None

    def forward(self, x: torch.Tensor):
        return self.det(x).transpose(1, 2), self.att(x)     # B x T x C, B x m x T

    def attention(self, head_logits: torch.Tensor, mask: torch.Tensor | None = None):
        """(a_t B x T, a_{t,c} B x T x C or None) from head logits B x m x T (eq. 6)."""
        per_head = masked_softmax(head_logits, None if mask is None else mask[:, None, :], dim=2)
        a = per_head.sum(dim=1)
        a_class = None
        if self.mix is not None:
            pi = torch.softmax(self.mix, dim=1)                               # C x m, rows sum to 1
            a_class = self.heads * torch.einsum("bht,ch->btc", per_head, pi)  # sums to m over t per class
        return a, a_class


class ClassAttentionHead(nn.Module):
    """``resnet-att-class``: ATT of Xu et al. 2017a, a per-class attention over time.

    y_c = sum_t softmax_t(att_{t,c}) * sigmoid(cla_{t,c}).
    The classifier is the macro FC stack applied to every segment (as in WLAT,
    which ATT extends) and the attention branch one hidden FC layer of the same
    width: 3.56M + 0.41M parameters, near Table 1's 4.14M.
    forward(X, mask) -> (segment logits B x T x C, class attention B x T x C, clip probs B x C).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 1024, n_hidden: int = 2):
        super().__init__()
        self.cla = mlp_1x1(cin, hidden, n_hidden, n_classes)
        self.att = mlp_1x1(cin, hidden, min(n_hidden, 1), n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        seg_logits = self.cla(x).transpose(1, 2)
        att = masked_softmax(self.att(x), None if mask is None else mask[:, None, :], dim=2).transpose(1, 2)
        clip = (att * torch.sigmoid(seg_logits)).sum(dim=1).clamp(0.0, 1.0)
        return seg_logits, att, clip


class SharedAttentionHead(nn.Module):
    """``resnet-att``: the seed paper's reading of ATT, one label-agnostic score per segment.

    The paper (sec. 2.3) contrasts M&mnet's m heads with ATT's "single attention score of
    each segment", and its Fig. 5 draws one a_t curve for ResNet-ATT: a_t = softmax_t(att_t)
    shared by all classes, y_c = sum_t a_t sigmoid(cla_{t,c}). Same classifier and attention
    widths as :class:`ClassAttentionHead`, the attention ending in 1 output instead of C.
    forward(X, mask) -> (segment logits B x T x C, a_t B x T, clip probs B x C).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 1024, n_hidden: int = 2):
        super().__init__()
        self.cla = mlp_1x1(cin, hidden, n_hidden, n_classes)
        self.att = mlp_1x1(cin, hidden, min(n_hidden, 1), 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        seg_logits = self.cla(x).transpose(1, 2)
        a = masked_softmax(self.att(x)[:, 0], mask, dim=1)                    # B x T
        clip = (a.unsqueeze(2) * torch.sigmoid(seg_logits)).sum(dim=1).clamp(0.0, 1.0)
        return seg_logits, a, clip
