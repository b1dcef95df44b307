"""engine/losses.py: cases written to kill the mutants that test_losses.py and test_losses_hand.py let
survive (bench/mutation.md). Every expected value is written out with math.log from the formulas
in the docstrings, never computed by engine.losses.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.losses import (class_weights, macro_loss, method_loss, micro_loss, micro_options, micro_terms,
                           micro_weights, plat_loss, plat_targets, slat_loss, wlat_loss)
from engine.models import make_config
from engine.models.network import METHOD_TABLE
from engine.models.output import ModelOutput, ScaleOutput

approx = pytest.approx


def close(tensor, expected, rtol=1e-6):
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=rtol)


def _bce(y: float, p: float) -> float:
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def _logit(p):
    p = torch.as_tensor(p, dtype=torch.float32)
    return torch.log(p / (1 - p))


def _scale(d, cam=None, logits=None):
    d = torch.tensor(d, dtype=torch.float32)
    return ScaleOutput(d, 0.18, "stage3", segment_logits=_logit(d) if logits is None else logits,
                       class_attention=None if cam is None else torch.tensor(cam, dtype=torch.float32))


D = [[[0.8, 0.3], [0.1, 0.6], [0.5, 0.9]]]        # one clip, T = 3 segments, C = 2 classes
Y = torch.tensor([[1.0, 0.0]])
W = torch.tensor([2.0, 0.5])


def test_slat_and_wlat_with_class_weights_by_hand():
    s = _scale(D)
    # SLAT: every segment against the clip's labels, class-weighted mean over classes, mean over segments
    slat = sum(2.0 * _bce(1, row[0]) + 0.5 * _bce(0, row[1]) for row in D[0]) / 2 / 3
    assert slat_loss(ModelOutput(clip_probs=torch.zeros(1, 2), scales=[s]), Y, W).item() == approx(slat, rel=1e-5)
    # WLAT: the clip prediction against the labels, class-weighted
    clip = torch.tensor([[0.6, 0.4]])
    wlat = (2.0 * _bce(1, 0.6) + 0.5 * _bce(0, 0.4)) / 2
    assert wlat_loss(ModelOutput(clip_probs=clip, scales=[s]), Y, W).item() == approx(wlat, rel=1e-5)
    assert wlat_loss(ModelOutput(clip_probs=clip, scales=[s]), Y).item() == approx(
        (_bce(1, 0.6) + _bce(0, 0.4)) / 2, rel=1e-5)


def test_segment_terms_use_the_logits_beyond_the_probability_clamp():
    # a present class whose segment logit is -30: BCE from the logit is softplus(30) = 30.0 nats,
    # where the probability (sigmoid(-30) ~ 9e-14) would be clamped at 1e-7 (16.1 nats)
    logits = torch.tensor([[[-30.0]]])
    s = _scale(torch.sigmoid(logits).tolist(), cam=[[[1.0]]], logits=logits)
    y = torch.tensor([[1.0]])
    assert slat_loss(ModelOutput(clip_probs=torch.zeros(1, 1), scales=[s]), y).item() == approx(30.0, rel=1e-5)
    # the clip path too: from the clip logit (30 nats), from the probabilities when there is no logit
    clip = ModelOutput(clip_probs=torch.sigmoid(torch.tensor([[-30.0, 0.0]])), clip_logits=torch.tensor([[-30.0, 0.0]]))
    assert macro_loss(clip, torch.tensor([[1.0, 0.0]])).item() == approx((30.0 + math.log(2)) / 2, rel=1e-5)
    probs_only = ModelOutput(clip_probs=torch.tensor([[0.8, 0.3]]))
    assert macro_loss(probs_only, Y, W).item() == approx((2.0 * _bce(1, 0.8) + 0.5 * _bce(0, 0.3)) / 2, rel=1e-5)
    # PLAT: the macro term (clip 0.5: ln 2) plus the segment term against the extrapolated label 1
    out = ModelOutput(clip_probs=torch.tensor([[0.5]]), clip_logits=torch.zeros(1, 1), scales=[s])
    assert plat_loss(out, y).item() == approx(math.log(2) + 30.0, rel=1e-5)


def test_plat_targets_per_clip_and_class_peaks():
    # B = 2 clips, T = 3, C = 2; each (clip, class) has its own peak, threshold 0.5 of it
    cam = torch.tensor([[[0.9, 0.25], [0.3, 0.4], [0.45, 0.1]],     # peaks .9 and .4 -> >= .45, >= .2
                        [[0.1, 0.8], [0.2, 0.1], [0.05, 0.7]]])     # peaks .2 and .8 -> >= .1, >= .4
    y = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    t = plat_targets(cam, y)                                         # default threshold 0.5, inclusive
    assert t[0].tolist() == [[1, 1], [0, 1], [1, 0]]
    assert t[1].tolist() == [[1, 0], [1, 0], [0, 0]]                # class 1 absent from clip 1
    # a class whose activation is 0 everywhere has no extrapolated segment (not 0 >= 0.5 * 0)
    assert plat_targets(torch.zeros(1, 2, 1), torch.ones(1, 1)).tolist() == [[[0.0], [0.0]]]
    s = _scale([[[0.7], [0.4]]])
    with pytest.raises(ValueError, match="^PLAT needs the class activation map of a training-mode forward pass$"):
        plat_loss(ModelOutput(clip_probs=torch.tensor([[0.5]]), scales=[s]), torch.tensor([[1.0]]))


def test_segment_means_leave_padded_segments_out():
    # SLAT on 3 clips of T = 3 (C = 1, all positive): 2, 1 and 0 real segments (the rest is padding);
    # each clip averages its real segments, a clip without any counts 0, then the mean over clips
    d = [[[0.8], [0.6], [0.1]], [[0.3], [0.9], [0.5]], [[0.2], [0.2], [0.2]]]
    s = _scale(d)
    s.valid = torch.tensor([[True, True, False], [True, False, False], [False, False, False]])
    expected = ((_bce(1, 0.8) + _bce(1, 0.6)) / 2 + _bce(1, 0.3) / 1 + 0.0) / 3
    out = ModelOutput(clip_probs=torch.zeros(3, 1), scales=[s])
    assert slat_loss(out, torch.ones(3, 1)).item() == approx(expected, rel=1e-5)



def test_class_weights_clip_shares_to_half_a_clip_and_check_shapes():
    # N = 4 clips: class 0 in every clip, class 1 in none; shares clipped to [1/8, 7/8], mean 1/2:
    # w0 = ((1/2 / 7/8) * (1/8 / 1/2)) ** beta = (1/7) ** beta, w1 = ((1/2 / 1/8) * (7/8 / 1/2)) ** beta = 7 ** beta
    labels = [[1, 0]] * 4
    w = class_weights(labels, beta=0.3)
    assert w.dtype == torch.float32
    assert w.tolist() == approx([(1 / 7) ** 0.3, 7 ** 0.3], rel=1e-6)
    assert class_weights(labels, beta=1.0).tolist() == approx([1 / 7, 7.0], rel=1e-6)
    assert class_weights([[1, 0]], beta=0.3).tolist() == approx([1.0, 1.0])        # one clip: shares 1/2
    assert class_weights(labels).tolist() == approx([(1 / 7) ** 0.3, 7 ** 0.3], rel=1e-6)   # default beta 0.3
    for bad in ([1, 0, 1], [[[1, 0]]], np.zeros((0, 2))):            # 1-D, 3-D, no clip
        with pytest.raises(ValueError, match="^labels must be N x C with N > 0$"):
            class_weights(bad)



def test_micro_options_follow_the_configuration():
    # every option read from the configuration (README's ModelConfig fields), both ways
    cfg = make_config("mmnet", 2, attention_scale="unit", detach_attention=True, micro_negatives="uniform",
                      micro_attention="label", clip_loss_on="ensemble")
    assert micro_options(cfg) == {"attention_scale": "unit", "detach_attention": True, "negatives": "uniform",
                                  "label_attention": True}
    assert micro_options(make_config("mmnet", 2)) == {"attention_scale": "heads", "detach_attention": False,
                                                      "negatives": "attention", "label_attention": False}



def test_method_loss_routes_each_baseline_to_its_objective():
    # one output for every kind; its clip logit (-30, 0) deliberately disagrees with its clip
    # probabilities (.6, .4), so the value says which path was used (logits: pool, PLAT's macro term)
    cam = [[[0.9, 0.2], [0.3, 0.9], [0.5, 0.1]]]                 # PLAT targets of class 0: t = 0, 2
    out = ModelOutput(clip_probs=torch.tensor([[0.6, 0.4]]), clip_logits=torch.tensor([[-30.0, 0.0]]),
                      scales=[_scale(D, cam=cam)])
    y = torch.tensor([[1, 0]])                                  # integer labels are accepted
    from_logits = (2.0 * 30.0 + 0.5 * math.log(2)) / 2
    from_probs = (2.0 * _bce(1, 0.6) + 0.5 * _bce(0, 0.4)) / 2
    slat = sum(2.0 * _bce(1, row[0]) + 0.5 * _bce(0, row[1]) for row in D[0]) / 2 / 3
    plat_seg = sum(2.0 * _bce(t, row[0]) + 0.5 * _bce(0, row[1]) for t, row in zip((1, 0, 1), D[0])) / 2 / 3
    expected = {"pool": ("macro", from_logits), "wlat": ("clip", from_probs), "slat": ("segment", slat),
                "att": ("clip", from_probs), "att-class": ("clip", from_probs), "plat": ("total", from_logits + plat_seg)}
    for method, (_, kind) in METHOD_TABLE.items():
        if kind not in expected:
            continue
        key, value = expected[kind]
        loss, parts = method_loss(out, y, make_config(method, 2), W)
        assert loss.item() == approx(value, rel=1e-5), method
        assert parts == {key: approx(value, rel=1e-5)}, method


def test_mmnet_clip_term_on_macro_or_ensemble_with_class_weights():
    s = _scale(D)
    s.attention = torch.tensor([[1.0, 0.5, 0.5]])
    s.head_logits = torch.zeros(1, 2, 3)
    micro = sum(a * (2.0 * _bce(1, row[0]) + 0.5 * _bce(0, row[1])) for a, row in zip((1.0, 0.5, 0.5), D[0])) / 2
    probs, ens = torch.tensor([[0.6, 0.4]]), torch.tensor([[0.7, 0.2]])
    cases = [  # (config options, output's ensemble logits, expected clip term)
        (dict(clip_loss_on="macro"), None, (2.0 * _bce(1, 0.6) + 0.5 * _bce(0, 0.4)) / 2),
        (dict(clip_loss_on="ensemble", ensemble_mode="prob"), None, (2.0 * _bce(1, 0.7) + 0.5 * _bce(0, 0.2)) / 2),
        # logits present (and here disagreeing with the probabilities): the clip term comes from them
        (dict(clip_loss_on="ensemble", ensemble_mode="logit"), torch.tensor([[-30.0, 0.0]]),
         (2.0 * 30.0 + 0.5 * math.log(2)) / 2),
    ]
    for options, ens_logits, clip in cases:
        out = ModelOutput(clip_probs=probs, clip_logits=_logit(probs), ensemble_probs=ens,
                          ensemble_logits=ens_logits, scales=[s])
        loss, parts = method_loss(out, Y, make_config("mmnet", 2, micro_weight=0.5, **options), W)
        assert parts == {"macro": approx(clip, rel=1e-5), "micro": approx(micro, rel=1e-5)}, options
        assert loss.item() == approx(clip + 0.5 * micro, rel=1e-5)


def test_probabilities_are_clamped_to_eps_and_one_minus_eps():
    # WLAT has only probabilities: p = 0 for a present class costs -ln(1e-7) = 16.118 nats, p = 1 for an
    # absent one -ln(1 - float32(1 - 1e-7)) = -ln(2 ** -23) = 23 ln 2 = 15.942 (not torch's cap of 100)
    out = ModelOutput(clip_probs=torch.tensor([[0.0, 1.0]]))
    assert wlat_loss(out, Y).item() == approx((-math.log(1e-7) + 23 * math.log(2)) / 2, rel=1e-4)



def test_micro_weights_defaults_unit_scale_and_errors():
    s = _scale(D)
    s.attention = torch.tensor([[1.2, 0.6, 0.6]], requires_grad=True)     # T = 3, m = 2 heads below
    s.head_logits = torch.zeros(1, 2, 3)
    # defaults: eq. 7's W = a_t w_c on every class, the gradient kept
    got = micro_weights(s, Y, W)
    close(got.detach(), [[[2.4, 0.6], [1.2, 0.3], [1.2, 0.3]]])
    assert got.requires_grad
    # "unit" divides by m (the head count, 2; not T = 3), or by sum_t a_t (2.4) without head logits
    close(micro_weights(s, Y, W, attention_scale="unit").detach(), [[[1.2, 0.3], [0.6, 0.15], [0.6, 0.15]]])
    s.head_logits = None
    close(micro_weights(s, Y, attention_scale="unit").detach(), [[[0.5, 0.5], [0.25, 0.25], [0.25, 0.25]]])
    two = ScaleOutput(torch.full((2, 3, 2), 0.5), 0.18, "stage3", attention=torch.tensor([[1.2, 0.6, 0.6], [1.0, 1.0, 2.0]]))
    close(micro_weights(two, torch.ones(2, 2), attention_scale="unit")[:, :, 0], [[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]])
    with pytest.raises(ValueError, match="^negatives must be attention or uniform, not 'other'$"):
        micro_weights(s, Y, negatives="other")
    with pytest.raises(ValueError, match="^scale stage3 has no label-specific attention$"):
        micro_weights(s, Y, label_attention=True)
    micro_loss(s, Y).backward()                                        # by default the gradient reaches a_t
    assert s.attention.grad is not None and s.attention.grad.abs().sum() > 0
    s.attention = None
    with pytest.raises(ValueError, match="^scale stage3 has no attention: not a micro head$"):
        micro_weights(s, Y)


def test_micro_terms_from_probabilities_when_there_are_no_logits():
    d = [[[0.8, 0.3], [0.0, 1.0], [0.5, 0.9]]]          # t = 1: p = 0 on the present class, 1 on the absent one
    s = ScaleOutput(torch.tensor(d), 0.18, "stage3")
    got = micro_terms(s, Y)
    eps_cost, one_cost = -math.log(1e-7), 23 * math.log(2)   # clamped at 1e-7 and float32(1 - 1e-7)
    close(got, [[[_bce(1, 0.8), _bce(0, 0.3)], [eps_cost, one_cost], [_bce(1, 0.5), _bce(0, 0.9)]]], rtol=1e-4)


def test_micro_loss_mean_divides_each_clip_by_its_own_real_segments():
    # B = 2 clips of T = 3 (C = 2, labels (1, 0)): 2 and 1 real segments, a_t (1, 1, -) and (2, -, -)
    s = _scale([D[0], D[0]])
    s.attention = torch.tensor([[1.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    s.valid = torch.tensor([[True, True, False], [True, False, False]])
    clip0 = ((_bce(1, 0.8) + _bce(1, 0.1)) / 2 + (_bce(0, 0.3) + _bce(0, 0.6)) / 2) / 2
    clip1 = (2 * _bce(1, 0.8) / 1 + 2 * _bce(0, 0.3) / 1) / 2
    got = micro_loss(s, torch.tensor([[1.0, 0.0], [1.0, 0.0]]), reduction="mean")
    assert got.item() == approx((clip0 + clip1) / 2, rel=1e-5)
    # without a mask the mean is over all T = 3 segments (not over the C = 2 classes)
    one = _scale(D)
    one.attention = torch.ones(1, 3)
    one = micro_loss(one, Y, W, negatives="uniform", reduction="mean").item()       # a_t = 1
    assert one == approx(sum(2.0 * _bce(1, r[0]) + _bce(0, r[1]) for r in D[0]) / 3 / 2, rel=1e-5)
    with pytest.raises(ValueError, match="^reduction must be sum or mean, not 'max'$"):
        micro_loss(s, Y, reduction="max")
