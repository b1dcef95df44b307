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
