import math

import numpy as np
import pytest
import torch

from engine.losses import (bce, class_weights, method_loss, micro_loss, plat_targets, slat_loss, wlat_loss)
from engine.errors import ConfigError
from engine.models import build, make_config
from engine.models.output import ModelOutput, ScaleOutput
from tests.conftest import TINY


def test_class_weights_eq_11():
    labels = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    # p = (0.75, 0.25), mean 0.5: w0 = ((0.5/0.75) * (0.25/0.5)) ** 0.3 = (1/3) ** 0.3
    w = class_weights(labels, beta=0.3)
    assert w[0].item() == pytest.approx((1 / 3) ** 0.3, rel=1e-6)   # 0.71922
    assert w[1].item() == pytest.approx(3 ** 0.3, rel=1e-6)         # 1.39039
    assert torch.equal(class_weights(labels, beta=0.0), torch.ones(2))
    # a class in no clip gets a finite (large) weight, not inf
    assert torch.isfinite(class_weights(np.array([[1, 0], [1, 0]]))).all()


def _scale(d, a=None, heads=2):
    d = torch.tensor(d, dtype=torch.float32)
    logits = torch.log(d / (1 - d))
    head_logits = torch.zeros(d.shape[0], heads, d.shape[1]) if a is not None else None
    return ScaleOutput(d, 0.18, "stage3", segment_logits=logits,
                       attention=None if a is None else torch.tensor(a, dtype=torch.float32),
                       head_logits=head_logits)


def test_micro_loss_eq_7_by_hand():
    # one clip, two segments, one class present: d = (0.8, 0.1), a = (1.5, 0.5) from m = 2 heads
    s = _scale([[[0.8], [0.1]]], a=[[1.5, 0.5]])
    y = torch.tensor([[1.0]])
    expected = 1.5 * -math.log(0.8) + 0.5 * -math.log(0.1)  # 0.33471 + 1.15129 = 1.48600
    assert micro_loss(s, y).item() == pytest.approx(expected, rel=1e-5)
    assert micro_loss(s, y, attention_scale="unit").item() == pytest.approx(expected / 2, rel=1e-5)


def test_bce_is_class_weighted_mean():
    y = torch.tensor([[1.0, 0.0]])
    p = torch.tensor([[0.8, 0.4]])
    w = torch.tensor([2.0, 1.0])
    expected = (2 * -math.log(0.8) + -math.log(0.6)) / 2
    assert bce(y, probs=p, weights=w).item() == pytest.approx(expected, rel=1e-5)
    logits = torch.log(p / (1 - p))
    assert bce(y, logits=logits, weights=w).item() == pytest.approx(expected, rel=1e-5)


def test_slat_and_wlat_by_hand():
    s = _scale([[[0.8], [0.1]]])
    y = torch.tensor([[1.0]])
    out = ModelOutput(clip_probs=s.segment_probs.mean(dim=1), scales=[s])
    # SLAT: every segment against the clip label
    assert slat_loss(out, y).item() == pytest.approx((-math.log(0.8) - math.log(0.1)) / 2, rel=1e-5)
    # WLAT: the mean prediction against the clip label
    assert wlat_loss(out, y).item() == pytest.approx(-math.log(0.45), rel=1e-5)


def test_plat_extrapolated_labels():
    cam = torch.tensor([[[0.9, 0.2], [0.3, 0.9], [0.5, 0.1]]])  # B x T x C
    y = torch.tensor([[1.0, 0.0]])
    target = plat_targets(cam, y, threshold=0.5)
    assert target[0, :, 0].tolist() == [1.0, 0.0, 1.0]   # >= 0.45
    assert target[0, :, 1].tolist() == [0.0, 0.0, 0.0]   # class absent from the clip


def test_mmnet_objective_is_eq_8():
    macro_logits = torch.tensor([[0.0]])
    s = _scale([[[0.8], [0.1]]], a=[[1.5, 0.5]])
    out = ModelOutput(clip_probs=torch.sigmoid(macro_logits), clip_logits=macro_logits, scales=[s])
    cfg = make_config("mmnet", 1, micro_weight=2.0)
    loss, parts = method_loss(out, torch.tensor([[1.0]]), cfg)
    micro = 1.5 * -math.log(0.8) + 0.5 * -math.log(0.1)
    assert loss.item() == pytest.approx(math.log(2) + 2.0 * micro, rel=1e-5)
    assert parts["macro"] == pytest.approx(math.log(2), rel=1e-5)


def _attention_grad(**config) -> float:
    torch.manual_seed(0)
    model = build("mmnet", 3, **TINY, **config).train()
    out = model(torch.randn(4, 128, 64))
    y = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
    loss, _ = method_loss(out, y, model.config, class_weights(y.numpy()))
    loss.backward()
    return sum(p.grad.abs().sum().item() for p in model.micro[0].att.parameters() if p.grad is not None)


def test_gradients_reach_the_attention_in_mmnet():
    assert _attention_grad() > 0
    # with the authors' detached weights and the clip loss on the macro output,
    # nothing would train the attention: that configuration is refused
    with pytest.raises(ConfigError, match="nothing would train the attention"):
        _attention_grad(detach_attention=True)
    assert _attention_grad(variant="authors-code") > 0  # it learns through the ensemble loss


@pytest.mark.parametrize("method", ["convnet-mean", "resnet-max", "resnet-wlat", "resnet-slat", "resnet-plat",
                                    "resnet-att", "resnet-att-class", "mmnet", "mmnet-ms"])
def test_every_method_trains_one_step(method):
    torch.manual_seed(0)
    model = build(method, 3, **TINY).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(4, 128, 64)
    y = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
    losses = []
    for _ in range(3):
        loss, parts = method_loss(model(x), y, model.config)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ------------------------------------------------------------------ issue 16: the authors' loss
def _two_class_scale(a=(1.5, 0.5), valid=None, class_attention=None):
    # one clip, T = 2 segments, C = 2 classes; class 0 present, class 1 absent; m = 2 heads
    d = torch.tensor([[[0.8, 0.2], [0.1, 0.6]]])                     # B x T x C
    s = ScaleOutput(d, 0.18, "stage3", segment_logits=torch.log(d / (1 - d)),
                    attention=torch.tensor([list(a)], requires_grad=True), head_logits=torch.zeros(1, 2, 2),
                    valid=valid, class_attention=class_attention)
    return s, torch.tensor([[1.0, 0.0]]), torch.tensor([2.0, 1.0])


L = math.log


def test_micro_loss_paper_form_with_class_weights_by_hand():
    s, y, w = _two_class_scale()
    # eq. 7: sum_t a_t mean_c w_c BCE: c0 positive (-ln d), c1 negative (-ln(1 - d))
    c0 = 2.0 * (1.5 * -L(0.8) + 0.5 * -L(0.1))
    c1 = 1.0 * (1.5 * -L(0.8) + 0.5 * -L(0.4))
    assert micro_loss(s, y, w).item() == pytest.approx((c0 + c1) / 2, rel=1e-5)


def test_micro_loss_authors_options_by_hand():
    s, y, w = _two_class_scale()
    # negatives weighted by 1 (no a_t, no class weight), positives by a_t w_c; summed over t
    c0 = 2.0 * (1.5 * -L(0.8) + 0.5 * -L(0.1))
    c1 = 1.0 * -L(0.8) + 1.0 * -L(0.4)
    uniform_sum = micro_loss(s, y, w, negatives="uniform")
    assert uniform_sum.item() == pytest.approx((c0 + c1) / 2, rel=1e-5)
    # the authors' micro loss: the mean over batch, classes and segments
    authors = micro_loss(s, y, w, negatives="uniform", reduction="mean")
    assert authors.item() == pytest.approx((c0 / 2 + c1 / 2) / 2, rel=1e-5)
    # a mean over segments but the paper's weights
    paper_mean = micro_loss(s, y, w, reduction="mean")
    assert paper_mean.item() == pytest.approx(micro_loss(s, y, w).item() / 2, rel=1e-5)
    # unit scale divides a_t (only) by m = 2
    unit = micro_loss(s, y, w, negatives="uniform", reduction="mean", attention_scale="unit")
    assert unit.item() == pytest.approx((c0 / 2 / 2 + c1 / 2) / 2, rel=1e-5)


def test_micro_loss_detached_attention_gets_no_gradient():
    for detach in (False, True):
        s, y, w = _two_class_scale()
        s.segment_logits.requires_grad_(True)
        micro_loss(s, y, w, negatives="uniform", reduction="mean", detach_attention=detach).backward()
        assert s.segment_logits.grad is not None and s.segment_logits.grad.abs().sum() > 0
        got = s.attention.grad
        assert (got is None or got.abs().sum() == 0) == detach
        if not detach:
            # d loss / d a_t = mean_c w_c BCE_{t,c} over the positive class only, / T (mean), / C
            assert got[0, 0].item() == pytest.approx(2.0 * -L(0.8) / 2 / 2, rel=1e-5)


def test_micro_loss_label_specific_attention_by_hand():
    a_tc = torch.tensor([[[1.8, 0.2], [0.2, 1.8]]])                  # B x T x C: class 0 at t = 0
    s, y, w = _two_class_scale(class_attention=a_tc)
    got = micro_loss(s, y, w, negatives="uniform", reduction="mean", label_attention=True)
    c0 = 2.0 * (1.8 * -L(0.8) + 0.2 * -L(0.1)) / 2                    # a_{t,0} on the positive class
    c1 = (-L(0.8) - L(0.4)) / 2                                      # negatives uniform: a_{t,1} unused
    assert got.item() == pytest.approx((c0 + c1) / 2, rel=1e-5)


def test_micro_loss_leaves_padded_segments_out():
    s, y, w = _two_class_scale(valid=torch.tensor([[True, False]]))
    # only t = 0 counts, and the mean over segments divides by 1
    c0 = 2.0 * 1.5 * -L(0.8)
    c1 = 1.0 * -L(0.8)
    assert micro_loss(s, y, w, negatives="uniform", reduction="mean").item() == pytest.approx((c0 + c1) / 2, rel=1e-5)
    assert micro_loss(s, y, w).item() == pytest.approx((2.0 * 1.5 * -L(0.8) + 1.5 * -L(0.8)) / 2, rel=1e-5)


def test_authors_code_objective_by_hand():
    # clip loss on the logit ensemble + the authors' micro loss, lambda = 1
    cfg = make_config("mmnet", 2, variant="authors-code")
    s, y, w = _two_class_scale()
    ens_logits = torch.tensor([[1.0, -2.0]])
    out = ModelOutput(clip_probs=torch.sigmoid(torch.zeros(1, 2)), clip_logits=torch.zeros(1, 2), scales=[s],
                      ensemble_probs=torch.sigmoid(ens_logits), ensemble_logits=ens_logits)
    loss, parts = method_loss(out, y, cfg, w)
    clip = (2.0 * -L(torch.sigmoid(torch.tensor(1.0)).item()) + 1.0 * -L(1 - torch.sigmoid(torch.tensor(-2.0)).item())) / 2
    c0 = 2.0 * (1.5 * -L(0.8) + 0.5 * -L(0.1)) / 2
    c1 = (-L(0.8) - L(0.4)) / 2
    assert parts["macro"] == pytest.approx(clip, rel=1e-5)
    assert parts["micro"] == pytest.approx((c0 + c1) / 2, rel=1e-5)
    assert loss.item() == pytest.approx(clip + (c0 + c1) / 2, rel=1e-5)


# ------------------------------------------- issue 16: what trains f_att, in every allowed combination
COMBOS = [dict(method=m, detach_attention=d, clip_loss_on=c, ensemble_mode=e, micro_attention=a, ensemble_scales=sc)
          for m in ("mmnet", "mmnet-ms") for d in (False, True) for c in ("macro", "ensemble")
          for e in ("prob", "logit") for a in ("shared", "label") for sc in ("all", "primary")
          if not (m == "mmnet" and sc == "primary")]


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_attention_gets_gradient_in_every_allowed_combination(combo):
    combo = dict(combo)
    method = combo.pop("method")
    refused = combo["detach_attention"] and (combo["clip_loss_on"] == "macro" or
                                             (method == "mmnet-ms" and combo["ensemble_scales"] == "primary"))
    if refused:
        with pytest.raises(ConfigError):
            make_config(method, 3, **combo)
        return
    torch.manual_seed(0)
    model = build(method, 3, **TINY, **combo).train()
    x = torch.randn(4, 128, 64)
    y = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
    loss, _ = method_loss(model(x, n_valid=torch.tensor([64, 40, 64, 20])), y, model.config, class_weights(y.numpy()))
    loss.backward()
    for head in model.micro:
        grads = [p.grad for p in head.att.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum().item() for g in grads) > 0
        if head.mix is not None:
            assert head.mix.grad is not None and head.mix.grad.abs().sum() > 0


def test_mu_one_with_detached_attention_is_refused():
    with pytest.raises(ConfigError, match="nothing would train"):
        make_config("mmnet", 3, variant="authors-code", mu=1.0)
