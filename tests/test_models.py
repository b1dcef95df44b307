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


# ---------------------------------------------------------------- issue 16: the two ATT readings
def _set_conv(conv, weight, bias=None):
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(weight, dtype=torch.float32).reshape(conv.weight.shape))
        if bias is not None:
            conv.bias.copy_(torch.tensor(bias, dtype=torch.float32))


def test_resnet_att_is_one_shared_attention_by_hand():
    from engine.models.heads import ClassAttentionHead, SharedAttentionHead

    # K = 1 channel, T = 2 segments, C = 2 classes, no hidden layer
    head = SharedAttentionHead(1, 2, hidden=1, n_hidden=0).eval()
    _set_conv(head.cla[0], [[1.0], [-1.0]], [0.0, 0.0])          # cla logits: c0 = x, c1 = -x
    _set_conv(head.att[0], [[math.log(3.0)]], [0.0])              # att logit = ln3 * x
    x = torch.tensor([[[0.0, 1.0]]])                               # B x K x T
    with torch.no_grad():
        seg_logits, a, clip = head(x)
    # a = softmax(0, ln 3) = (1/4, 3/4), one score per segment shared by both classes
    assert a.shape == (1, 2) and torch.allclose(a, torch.tensor([[0.25, 0.75]]))
    s1 = 1 / (1 + math.exp(-1))
    assert clip[0, 0].item() == pytest.approx(0.25 * 0.5 + 0.75 * s1, rel=1e-6)        # 0.673294
    assert clip[0, 1].item() == pytest.approx(0.25 * 0.5 + 0.75 * (1 - s1), rel=1e-6)  # 0.326706
    # Xu et al.'s reading: one attention per class, each summing to 1 over time
    per_class = ClassAttentionHead(1, 2, hidden=1, n_hidden=0).eval()
    _set_conv(per_class.cla[0], [[1.0], [-1.0]], [0.0, 0.0])
    _set_conv(per_class.att[0], [[math.log(3.0)], [-math.log(3.0)]], [0.0, 0.0])
    with torch.no_grad():
        _, att, clip_c = per_class(x)
    assert torch.allclose(att[0, :, 0], torch.tensor([0.25, 0.75])) and torch.allclose(att[0, :, 1], torch.tensor([0.75, 0.25]))
    assert clip_c[0, 1].item() == pytest.approx(0.75 * 0.5 + 0.25 * (1 - s1), rel=1e-6)


def test_two_att_readings_differ_only_in_the_attention_output_layer():
    shared, per_class = build("resnet-att", 17), build("resnet-att-class", 17)
    # the last attention layer maps the 1024 hidden units to 1 score or to C = 17 scores
    assert count_parameters(per_class) - count_parameters(shared) == 1024 * 16 + 16
    model = build("resnet-att", 5, **TINY).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 128, 320))
    s = out.scales[0]
    assert s.class_attention is None and torch.allclose(s.attention.sum(dim=1), torch.ones(2), atol=1e-5)


BUNDLED_ATT_PROBS = [  # assets/models/resnet-att.safetensors on torch.randn(2, 128, 896) seeded 16,
    # computed with the code before issue 16 (when "resnet-att" meant the per-class model)
    [0.133294, 0.028779, 0.152749, 0.006754, 0.688162, 0.599524, 0.003055, 0.020605, 0.031016, 0.001869,
     0.833289, 0.007256, 0.003218, 0.000439],
    [0.108438, 0.014739, 0.185212, 0.008506, 0.659728, 0.535363, 0.003837, 0.022041, 0.0336, 0.003253,
     0.772163, 0.010006, 0.000913, 0.00033]]


def test_bundled_resnet_att_file_loads_as_resnet_att_class_with_the_same_outputs():
    from pathlib import Path

    from engine.modelfile import load_bundle, read_metadata

    path = Path(__file__).resolve().parents[1] / "assets" / "models" / "resnet-att.safetensors"
    meta = read_metadata(path)
    assert meta["method"] == "resnet-att-class" and meta["model_config"]["config_version"] == 2
    bundle = load_bundle(path)
    assert bundle.config.method == "resnet-att-class" and bundle.config.kind == "att-class"
    x = torch.randn(2, 128, 896, generator=torch.Generator().manual_seed(16))
    with torch.no_grad():
        out = bundle.model(x)
    assert torch.allclose(out.clip_probs, torch.tensor(BUNDLED_ATT_PROBS), atol=2e-6)
    assert out.scales[0].class_attention is not None


def test_config_version_maps_old_resnet_att_only():
    from engine.models import ModelConfig

    old = make_config("resnet-att-class", 3).to_dict()
    old.pop("config_version")
    old["method"] = "resnet-att"
    assert ModelConfig.from_dict(old).method == "resnet-att-class"         # version 1: Xu et al.'s
    new = make_config("resnet-att", 3).to_dict()
    assert new["config_version"] == 2 and ModelConfig.from_dict(new).method == "resnet-att"
    mm = make_config("mmnet", 3).to_dict()
    mm.pop("config_version")
    assert ModelConfig.from_dict(mm).method == "mmnet"


def test_saved_resnet_att_round_trips(tiny_model_file):
    from engine.modelfile import load_bundle

    for method in ("resnet-att", "resnet-att-class"):
        assert load_bundle(tiny_model_file(method, 3)).config.method == method


# ------------------------------------------------- issue 16: authors' f_det/f_att and shortcuts
def test_authors_micro_head_is_two_kernel_3_convolutions():
    from engine.models.heads import MicroHead

    head = MicroHead(384, 17, hidden=0, heads=384, kernel=3)
    # f_det 384 x 17 x 3 + 17, f_att 384 x 384 x 3 + 384: Table 1's +0.46M
    assert count_parameters(head) == 384 * 17 * 3 + 17 + 384 * 384 * 3 + 384 == 462353
    # three segments of context: segment 5 moves when segment 4 or 6 does, not when 3 does
    head.eval()
    x = torch.randn(1, 384, 10)
    with torch.no_grad():
        base = head(x)[0][0, 5]
        for t, moves in ((4, True), (6, True), (3, False)):
            y = x.clone()
            y[0, :, t] += 1.0
            assert (not torch.allclose(head(y)[0][0, 5], base)) == moves


def test_shortcut_on_every_block_adds_a_384x384_projection():
    changed, every = build("resnet-mean", 17), build("resnet-mean", 17, shortcut="all")
    assert count_parameters(every) - count_parameters(changed) == 384 * 384
    # the paper's 3.70M ResNet: the authors' all-projection blocks come within 0.5 %
    assert abs(count_parameters(every) - 3.70e6) / 3.70e6 < 0.005
    # TINY: stem 32, blocks 32->32, 32->48, 48->48: a projection only where the width changes
    blocks = build("resnet-mean", 3, **TINY).backbone.blocks
    assert [b.shortcut is not None for b in blocks] == [False, True, False]
    blocks = build("resnet-mean", 3, shortcut="all", **TINY).backbone.blocks
    assert [b.shortcut is not None for b in blocks] == [True, True, True]


# ------------------------------------------------------ issue 16: eq. 9 pooling and label-specific a_{t,c}
def test_ensemble_pooling_options_by_hand():
    from engine.models.output import ModelOutput, ScaleOutput

    seg = torch.tensor([[[0.9], [0.1]]])
    s = ScaleOutput(seg, 0.18, "stage3", segment_logits=torch.log(seg / (1 - seg)),
                    attention=torch.tensor([[1.5, 0.5]]))
    out = ModelOutput(clip_probs=torch.tensor([[0.5]]), clip_logits=torch.tensor([[0.0]]), scales=[s], primary_scale=0)
    e = math.e
    expected = {"softmax": e / (e + 1),              # softmax(1.5, 0.5)
                "unit": 0.75,                         # a / sum a
                "zscore": e ** 2 / (e ** 2 + 1)}      # a standardized = (1, -1)
    for mode, w0 in expected.items():
        model = build("mmnet", 1, ensemble_pooling=mode, mu=0.0, **TINY)
        probs, _ = model.ensemble(out)
        assert probs.item() == pytest.approx(w0 * 0.9 + (1 - w0) * 0.1, rel=1e-5), mode


def test_ensemble_primary_scale_only():
    model = build("mmnet-ms", 2, ensemble_scales="primary", mu=0.0, **TINY).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 128, 192))
    p = out.scales[out.primary_scale]
    alpha = torch.softmax(p.attention, dim=1).unsqueeze(2)
    assert out.primary_scale == 2 and torch.allclose(out.ensemble_probs, (alpha * p.segment_probs).sum(dim=1), atol=1e-6)


def test_label_specific_attention_by_hand():
    from engine.models.heads import MicroHead

    head = MicroHead(4, 2, hidden=0, heads=2, label_mix=True)
    with torch.no_grad():
        head.mix.copy_(torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]]))   # pi_0 = (1/2, 1/2), pi_1 = (3/4, 1/4)
    head_logits = torch.tensor([[[0.0, math.log(3.0)], [0.0, 0.0]]])        # head 0 -> (1/4, 3/4), head 1 -> (1/2, 1/2)
    a, a_class = head.attention(head_logits)
    assert torch.allclose(a, torch.tensor([[0.75, 1.25]]))
    assert torch.allclose(a_class[0, :, 0], torch.tensor([0.75, 1.25]))     # 2 * (1/2 (1/4, 3/4) + 1/2 (1/2, 1/2))
    assert torch.allclose(a_class[0, :, 1], torch.tensor([0.625, 1.375]))   # 2 * (3/4 (1/4, 3/4) + 1/4 (1/2, 1/2))
    # masking the second segment: each head's softmax runs over the first only
    a_m, a_class_m = head.attention(head_logits, torch.tensor([[True, False]]))
    assert torch.allclose(a_m, torch.tensor([[2.0, 0.0]])) and torch.allclose(a_class_m[0, 1], torch.zeros(2))


def test_label_specific_model_pools_each_class_by_its_own_attention():
    model = build("mmnet", 3, variant="label-specific", mu=0.0, **TINY).eval()
    with torch.no_grad():
        model.micro[0].mix.normal_()
        out = model(torch.randn(2, 128, 160))
    s = out.scales[0]
    assert s.class_attention.shape == (2, s.segment_probs.shape[1], 3)
    assert torch.allclose(s.class_attention.sum(dim=1), torch.full((2, 3), float(TINY["heads"])), atol=1e-4)
    alpha = s.class_attention / s.class_attention.sum(dim=1, keepdim=True)
    assert torch.allclose(out.ensemble_probs, (alpha * s.segment_probs).sum(dim=1), atol=1e-6)


# ------------------------------------------------------------ issue 16: padded frames (n_valid)
@pytest.mark.parametrize("method", ["mmnet", "mmnet-ms", "resnet-att", "resnet-att-class"])
def test_padded_segments_get_no_attention(method):
    model = build(method, 3, **TINY).eval()
    x = torch.randn(2, 128, 320)
    n_valid = torch.tensor([320, 100])
    with torch.no_grad():
        out = model(x, n_valid=n_valid)
    for s in out.scales:
        stride = round(s.hop_s / model.config.frame_hop_s)
        real = math.ceil(100 / stride)
        assert s.valid is not None and s.valid[1].sum().item() == real and s.valid[0].all()
        total = TINY["heads"] if method.startswith("mmnet") else 1.0
        assert torch.all(s.attention[1, real:] == 0)
        assert s.attention[1, :real].sum().item() == pytest.approx(total, rel=1e-4)
        if s.class_attention is not None:
            assert torch.all(s.class_attention[1, real:] == 0)
    # the padded frames' content no longer reaches the clip prediction through the attention
    # pooling (it still reaches the real segments near the boundary through the convolutions)
    if method.startswith("resnet-att"):
        y = x.clone()
        y[1, :, 200:] = 50.0
        with torch.no_grad():
            out2 = model(y, n_valid=n_valid)
        assert torch.allclose(out.clip_probs[0], out2.clip_probs[0])
        s, s2 = out.scales[0], out2.scales[0]
        assert torch.allclose(s.segment_probs[1, :3], s2.segment_probs[1, :3], atol=1e-5)


def test_full_length_n_valid_changes_nothing():
    model = build("mmnet", 3, **TINY).eval()
    x = torch.randn(2, 128, 320)
    with torch.no_grad():
        a, b = model(x), model(x, n_valid=torch.tensor([320, 320]))
    assert torch.equal(a.ensemble_probs, b.ensemble_probs) and b.scales[0].valid is None
