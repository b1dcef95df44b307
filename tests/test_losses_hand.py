"""Hand-computed values of the objectives test_losses.py leaves open: PLAT (macro + extrapolated
segment term), ATT, eq. 10 over several scales, and the class-weighted micro loss.

Every expected value is written out from the paper's formulas with plain math.log, so a
changed reduction (a sum turned into a mean, a dropped term, a lost class weight) fails.
"""
import math

import pytest
import torch

from engine.losses import att_loss, method_loss, micro_loss, multiscale_micro_loss, plat_loss
from engine.models import make_config
from engine.models.network import METHOD_TABLE
from engine.models.output import ModelOutput, ScaleOutput


def _method_of_kind(kind: str, multiscale: bool = False) -> str:
    """A method name of the given objective kind (robust to renamed methods)."""
    names = [m for m, (_, k) in METHOD_TABLE.items() if k == kind]
    if kind == "mmnet":
        names = [m for m in names if m.endswith("-ms") == multiscale]
    return names[0]


def _logit(p):
    p = torch.as_tensor(p, dtype=torch.float32)
    return torch.log(p / (1 - p))


def _bce(y: float, p: float) -> float:
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def _scale(d, a=None, cam=None, heads=2, name="stage3", hop=0.18):
    d = torch.tensor(d, dtype=torch.float32)
    return ScaleOutput(d, hop, name, segment_logits=_logit(d),
                       attention=None if a is None else torch.tensor(a, dtype=torch.float32),
                       class_attention=None if cam is None else torch.tensor(cam, dtype=torch.float32),
                       head_logits=None if a is None else torch.zeros(d.shape[0], heads, d.shape[1]))


# ------------------------------------------------------------------ micro, eq. 7 with class weights
def test_class_weighted_micro_loss_by_hand():
    # one clip, two segments, two classes; y = (1, 0); weights w = (2, 0.5)
    d = [[[0.8, 0.3], [0.1, 0.6]]]
    a = [[1.5, 0.5]]                      # m = 2 heads: sums to 2
    s = _scale(d, a)
    y = torch.tensor([[1.0, 0.0]])
    w = torch.tensor([2.0, 0.5])
    seg0 = (2.0 * _bce(1, 0.8) + 0.5 * _bce(0, 0.3)) / 2   # class-weighted mean over classes
    seg1 = (2.0 * _bce(1, 0.1) + 0.5 * _bce(0, 0.6)) / 2
    expected = 1.5 * seg0 + 0.5 * seg1                     # sum_t a_t xi(y, d_t)
    assert micro_loss(s, y, w).item() == pytest.approx(expected, rel=1e-5)           # 2.15232
    assert micro_loss(s, y, w, attention_scale="unit").item() == pytest.approx(expected / 2, rel=1e-5)
    # unweighted differs: the weights are really used
    plain = 1.5 * (_bce(1, 0.8) + _bce(0, 0.3)) / 2 + 0.5 * (_bce(1, 0.1) + _bce(0, 0.6)) / 2
    assert micro_loss(s, y).item() == pytest.approx(plain, rel=1e-5)
    assert abs(plain - expected) > 0.1


def test_micro_loss_averages_over_the_batch():
    # two clips: the result is the mean of each clip's sum over time
    s = _scale([[[0.8], [0.1]], [[0.4], [0.7]]], a=[[1.5, 0.5], [1.0, 1.0]])
    y = torch.tensor([[1.0], [0.0]])
    clip0 = 1.5 * _bce(1, 0.8) + 0.5 * _bce(1, 0.1)
    clip1 = 1.0 * _bce(0, 0.4) + 1.0 * _bce(0, 0.7)
    assert micro_loss(s, y).item() == pytest.approx((clip0 + clip1) / 2, rel=1e-5)


# ---------------------------------------------------------------------------- eq. 10, several scales
def _two_scale_output():
    fine = _scale([[[0.8], [0.1], [0.6], [0.3]]], a=[[0.5, 0.5, 0.5, 0.5]], name="stage2", hop=0.045)
    coarse = _scale([[[0.7], [0.2]]], a=[[1.2, 0.8]], name="stage3", hop=0.18)
    return fine, coarse


def test_eq_10_sums_eq_7_over_scales():
    fine, coarse = _two_scale_output()
    y = torch.tensor([[1.0]])
    l_fine = 0.5 * (_bce(1, 0.8) + _bce(1, 0.1) + _bce(1, 0.6) + _bce(1, 0.3))
    l_coarse = 1.2 * _bce(1, 0.7) + 0.8 * _bce(1, 0.2)
    out = ModelOutput(clip_probs=torch.tensor([[0.5]]), clip_logits=torch.zeros(1, 1), scales=[fine, coarse])
    total = multiscale_micro_loss(out, y)
    assert total.item() == pytest.approx(l_fine + l_coarse, rel=1e-5)   # a sum, not a mean (4.1 vs 2.05)
    # through the multi-scale M&mnet objective: macro + lambda * eq. 10
    cfg = make_config(_method_of_kind("mmnet", multiscale=True), 1, micro_weight=0.5)
    loss, parts = method_loss(out, y, cfg)
    assert parts["micro"] == pytest.approx(l_fine + l_coarse, rel=1e-5)
    assert loss.item() == pytest.approx(math.log(2) + 0.5 * (l_fine + l_coarse), rel=1e-5)


def test_clip_loss_on_the_ensemble_uses_the_ensemble_output():
    # the authors' variant: the clip term is xi(y, ensemble) instead of xi(y, macro)
    s = _scale([[[0.8], [0.1]]], a=[[1.5, 0.5]])
    out = ModelOutput(clip_probs=torch.tensor([[0.5]]), clip_logits=torch.zeros(1, 1),
                      ensemble_probs=torch.tensor([[0.9]]), ensemble_logits=_logit([[0.9]]), scales=[s])
    cfg = make_config(_method_of_kind("mmnet"), 1, clip_loss_on="ensemble")
    loss, parts = method_loss(out, torch.tensor([[1.0]]), cfg)
    micro = 1.5 * _bce(1, 0.8) + 0.5 * _bce(1, 0.1)
    assert parts["macro"] == pytest.approx(_bce(1, 0.9), rel=1e-5)
    assert loss.item() == pytest.approx(_bce(1, 0.9) + micro, rel=1e-5)


# ------------------------------------------------------------------------------------------- PLAT
def test_plat_loss_by_hand():
    # one clip, three segments, two classes; only class 0 is present
    cam = [[[0.9, 0.2], [0.3, 0.9], [0.5, 0.1]]]           # >= 0.5 * peak: class 0 at t = 0, 2
    d = [[[0.7, 0.2], [0.4, 0.6], [0.6, 0.1]]]
    s = _scale(d, cam=cam)
    clip = torch.tensor([[0.8, 0.3]])
    out = ModelOutput(clip_probs=clip, clip_logits=_logit(clip), scales=[s])
    y = torch.tensor([[1.0, 0.0]])
    macro = (_bce(1, 0.8) + _bce(0, 0.3)) / 2
    targets = [(1, 0), (0, 0), (1, 0)]
    segment = sum((_bce(t0, row[0]) + _bce(t1, row[1])) / 2 for (t0, t1), row in zip(targets, d[0])) / 3
    assert plat_loss(out, y, threshold=0.5).item() == pytest.approx(macro + segment, rel=1e-5)  # 0.96637
    # class weights apply to both terms
    w = torch.tensor([2.0, 0.5])
    macro_w = (2 * _bce(1, 0.8) + 0.5 * _bce(0, 0.3)) / 2
    segment_w = sum((2 * _bce(t0, row[0]) + 0.5 * _bce(t1, row[1])) / 2
                    for (t0, t1), row in zip(targets, d[0])) / 3
    assert plat_loss(out, y, w, threshold=0.5).item() == pytest.approx(macro_w + segment_w, rel=1e-5)
    # through method_loss with the configured threshold: 0.95 keeps only the peak segment
    cfg = make_config(_method_of_kind("plat"), 2, plat_threshold=0.95)
    loss, _ = method_loss(out, y, cfg)
    targets = [(1, 0), (0, 0), (0, 0)]
    segment = sum((_bce(t0, row[0]) + _bce(t1, row[1])) / 2 for (t0, t1), row in zip(targets, d[0])) / 3
    assert loss.item() == pytest.approx(macro + segment, rel=1e-5)


def test_plat_needs_the_class_activation_map():
    s = _scale([[[0.7], [0.4]]])
    out = ModelOutput(clip_probs=torch.tensor([[0.5]]), clip_logits=torch.zeros(1, 1), scales=[s])
    with pytest.raises(ValueError, match="class activation"):
        plat_loss(out, torch.tensor([[1.0]]))


# -------------------------------------------------------------------------------------------- ATT
def test_att_loss_by_hand():
    # clip prediction sum_t att_t * cla_t, per class, then the class-weighted BCE
    att = [[0.25, 0.75], [0.6, 0.4]]          # T x C: each class sums to 1 over time
    cla = [[0.8, 0.2], [0.4, 0.5]]
    p = [sum(att[t][c] * cla[t][c] for t in range(2)) for c in range(2)]   # (0.5, 0.455)
    y = torch.tensor([[1.0, 0.0]])
    s = _scale([cla], cam=[att])
    out = ModelOutput(clip_probs=(s.class_attention * s.segment_probs).sum(dim=1), scales=[s])
    expected = (_bce(1, p[0]) + _bce(0, p[1])) / 2
    assert att_loss(out, y).item() == pytest.approx(expected, rel=1e-5)
    w = torch.tensor([2.0, 0.5])
    loss, parts = method_loss(out, y, make_config(_method_of_kind("att"), 2), w)
    assert loss.item() == pytest.approx((2 * _bce(1, p[0]) + 0.5 * _bce(0, p[1])) / 2, rel=1e-5)


def test_att_model_clip_output_is_the_attended_sum():
    """The ATT network's clip output is sum_t att_t * cla_t with att a softmax over time."""
    from engine.models import build
    from tests.conftest import TINY

    torch.manual_seed(0)
    model = build("resnet-att-class", 3, **TINY).eval()   # Xu et al.'s per-class attention
    with torch.no_grad():
        out = model(torch.randn(2, 128, 64))
    s = out.scales[0]
    att = s.class_attention
    assert torch.allclose(att.sum(dim=1), torch.ones(2, 3), atol=1e-5)
    assert torch.allclose(out.clip_probs, (att * s.segment_probs).sum(dim=1).clamp(0, 1), atol=1e-6)
    y = torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    p = out.clip_probs.double().clamp(1e-7, 1 - 1e-7)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert att_loss(out, y).item() == pytest.approx(expected.item(), rel=1e-5)
