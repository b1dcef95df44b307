import math

import pytest
import torch

from engine.models import METHODS, build, count_parameters, make_config
from tests.conftest import TINY

# Table 1 of the paper (DCASE17: 17 classes)
PAPER_PARAMS = {"convnet-mean": 1.54e6, "resnet-mean": 3.70e6, "resnet-max": 3.70e6, "resnet-wlat": 3.70e6,
                "resnet-slat": 3.70e6, "resnet-plat": 3.72e6, "resnet-att": 4.14e6, "resnet-att-class": 4.14e6,
                "mmnet": 4.16e6}


def test_method_names():
    assert METHODS == ("convnet-mean", "resnet-mean", "resnet-max", "resnet-wlat", "resnet-slat",
                       "resnet-plat", "resnet-att", "resnet-att-class", "mmnet", "mmnet-ms")


@pytest.mark.parametrize("method", list(PAPER_PARAMS))
def test_parameter_counts_near_table_1(method):
    n = count_parameters(build(method, 17))
    print(f"{method}: {n / 1e6:.2f}M parameters (paper {PAPER_PARAMS[method] / 1e6:.2f}M)")
    assert abs(n - PAPER_PARAMS[method]) / PAPER_PARAMS[method] < 0.10


def test_mmnet_ms_has_2l_minus_1_scales_and_segment_length():
    model = build("mmnet-ms", 17).eval()
    hops = model.scale_hops_s
    assert len(hops) == 5  # L = 3 stages + 2 upsampled maps
    last = build("mmnet", 17).scale_hops_s
    assert len(last) == 1 and abs(last[0] - 0.18) < 0.005  # the paper's 0.18 s segments
    print("mmnet-ms:", count_parameters(model) / 1e6, "M parameters, hops", [round(h, 4) for h in hops])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_returns_the_common_output(method):
    model = build(method, 5, **TINY).eval()
    x = torch.randn(2, 128, 300)  # not a multiple of the stride
    with torch.no_grad():
        out = model(x)
    assert out.clip_probs.shape == (2, 5)
    assert torch.all((out.clip_probs >= 0) & (out.clip_probs <= 1))
    if method in ("convnet-mean", "resnet-mean", "resnet-max"):
        assert not out.has_segment_level and out.scales == []
    else:
        assert out.has_segment_level
    for s in out.scales:
        stride = round(s.hop_s / model.config.frame_hop_s)
        assert s.segment_probs.shape == (2, math.ceil(300 / stride), 5)
        if s.attention is not None:
            assert s.attention.shape == (2, s.segment_probs.shape[1])
    if method.startswith("mmnet"):
        assert out.ensemble_probs is not None
        heads = TINY["heads"]
        for s in out.scales:  # eq. 6: softmax over time per head, summed over heads
            assert torch.allclose(s.attention.sum(dim=1), torch.full((2,), float(heads)), atol=1e-3)
    else:
        assert out.ensemble_probs is None


def test_ensemble_is_eq_9_and_can_be_switched_off():
    model = build("mmnet", 3, mu=0.3, **TINY).eval()
    x = torch.randn(1, 128, 160)
    with torch.no_grad():
        out = model(x)
        s = out.scales[0]
        alpha = torch.softmax(s.attention, dim=1)
        y_att = (alpha[..., None] * s.segment_probs).sum(dim=1)
        expected = 0.3 * out.clip_probs + 0.7 * y_att
        assert torch.allclose(out.ensemble_probs, expected, atol=1e-6)
        assert model(x, ensemble=False).ensemble_probs is None
        model.config.ensemble = False
        assert model(x).ensemble_probs is None


def test_authors_code_variant_mixes_logits():
    cfg = make_config("mmnet", 3, variant="authors-code")
    assert cfg.clip_loss_on == "ensemble" and cfg.ensemble_mode == "logit" and cfg.detach_attention
    model = build("mmnet", 3, variant="authors-code", **TINY).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 128, 64))
    assert out.ensemble_logits is not None
    assert torch.allclose(out.ensemble_probs, torch.sigmoid(out.ensemble_logits))


def test_bad_names_and_options_are_refused():
    with pytest.raises(ValueError, match="unknown method"):
        build("resnet-foo", 3)
    with pytest.raises(ValueError, match="ensemble_mode"):
        build("mmnet", 3, ensemble_mode="median")
    with pytest.raises(ValueError, match="variant"):
        build("mmnet", 3, variant="nope")
    with pytest.raises(ValueError, match=r"unknown model option heeds; choose from .*heads"):
        build("mmnet", 3, heeds=8)
