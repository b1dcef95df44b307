"""Heads over a feature map X (B x K x T). "Fully connected on each temporal
slice" is written as 1x1 convolutions, so one call covers every segment.
"""
from __future__ import annotations

import torch
from torch import nn


def mlp_1x1(cin: int, hidden: int, n_hidden: int, cout: int) -> nn.Sequential:
    """``n_hidden`` layers of (1x1 conv -> BN -> ReLU) of width ``hidden``, then a 1x1 conv to ``cout``.

    Works on B x K x T; with T = 1 it is a plain fully connected stack.
    """
    mods, c = [], cin
    for _ in range(n_hidden):
        mods += [nn.Conv1d(c, hidden, 1, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)]
        c = hidden
    mods.append(nn.Conv1d(c, cout, 1))
    return nn.Sequential(*mods)


class MacroHead(nn.Module):
    """f_cls of eq. 2: temporal pooling (mean or max) then FC 1024-BN-ReLU x2 then FC to classes.

    forward(X: B x K x T) -> clip logits B x C. ``segment_logits`` applies the
    same classifier to every slice (used by PLAT's class activation map).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 1024, n_hidden: int = 2, pool: str = "mean"):
        super().__init__()
        if pool not in ("mean", "max"):
            raise ValueError(f"pooling must be mean or max, not {pool!r}")
        self.pool = pool
        self.cls = mlp_1x1(cin, hidden, n_hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=2, keepdim=True) if self.pool == "mean" else x.amax(dim=2, keepdim=True)
        return self.cls(pooled)[:, :, 0]

    def segment_logits(self, x: torch.Tensor) -> torch.Tensor:
        """B x K x T -> B x T x C."""
        return self.cls(x).transpose(1, 2)


class MicroHead(nn.Module):
    """The micro subnet of M&mnet on one scale (eqs. 4 to 6).

    f_det: K -> (hidden) -> C segment logits; f_att: K -> (hidden) -> m heads.
    ``hidden = 0`` gives single 1x1 layers, as in the authors' code (f_att a
    1x1 conv with m = 384 heads); the default hidden layer reproduces the
    paper's +0.46M parameters (Table 1).
    forward(X) -> (segment logits B x T x C, head logits B x m x T, a_t B x T).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 384, heads: int = 384):
        super().__init__()
        n_hidden = 1 if hidden else 0
        self.det = mlp_1x1(cin, hidden or cin, n_hidden, n_classes)
        self.att = mlp_1x1(cin, hidden or cin, n_hidden, heads)
        self.heads = heads

    def forward(self, x: torch.Tensor):
        seg_logits = self.det(x).transpose(1, 2)           # B x T x C
        head_logits = self.att(x)                          # B x m x T
        a = torch.softmax(head_logits, dim=2).sum(dim=1)   # eq. 6: B x T, sums to m over time
        return seg_logits, head_logits, a


class ClassAttentionHead(nn.Module):
    """ATT of Xu et al. 2017a: per-class classifier and per-class attention over time.

    y_c = sum_t softmax_t(att_{t,c}) * sigmoid(cla_{t,c}).
    The classifier is the macro FC stack applied to every segment (as in WLAT,
    which ATT extends) and the attention branch one hidden FC layer of the same
    width: 3.56M + 0.41M parameters, near Table 1's 4.14M.
    forward(X) -> (segment logits B x T x C, class attention B x T x C, clip probs B x C).
    """

    def __init__(self, cin: int, n_classes: int, hidden: int = 1024, n_hidden: int = 2):
        super().__init__()
        self.cla = mlp_1x1(cin, hidden, n_hidden, n_classes)
        self.att = mlp_1x1(cin, hidden, min(n_hidden, 1), n_classes)

    def forward(self, x: torch.Tensor):
        seg_logits = self.cla(x).transpose(1, 2)
        att = torch.softmax(self.att(x), dim=2).transpose(1, 2)
        clip = (att * torch.sigmoid(seg_logits)).sum(dim=1).clamp(0.0, 1.0)
        return seg_logits, att, clip
