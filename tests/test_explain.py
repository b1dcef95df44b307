"""engine.explain: the lesson's numbers against Predictor.analyze() and the loss functions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import engine
from engine.explain import MU_STEPS, explain, learning_history
from engine.losses import micro_loss, micro_weights
from tests.conftest import realistic_audio

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "demo" / "demo.wav"
MODELS = ROOT / "assets" / "models"
DEMO_LABELS = ["siren", "knock", "wind", "rain"]


@pytest.fixture(scope="module")
def bundled():
    out = {}
    for name in ("mmnet-ms", "resnet-att"):
        pred = engine.load_model(MODELS / f"{name}.safetensors", device="cpu")
        out[name] = (pred, pred.analyze(str(DEMO)), explain(pred, str(DEMO), labels=DEMO_LABELS))
    return out


def _eq7(sc, reduction: str) -> float:
    """Eq. 7 written from the lesson's arrays: sum_t W_{t,c} xi_{t,c}, then the mean over classes."""
    per_class = (sc.micro_weights * sc.micro_terms).sum(axis=0)
    if reduction == "mean":
        per_class = per_class / sc.n_segments
    return float(per_class.mean())


def test_mmnet_lesson_equals_analyze(bundled):
    pred, ana, les = bundled["mmnet-ms"]
    assert les.kind == "mmnet" and les.label_source == "reference"
    np.testing.assert_allclose(les.macro, ana.clip_macro, atol=1e-6)
    np.testing.assert_allclose(les.ensemble, ana.clip_ensemble, atol=1e-6)
    assert len(les.scales) == len(ana.scales) == 5
    for s, a in zip(les.scales, ana.scales):
        assert s.name == a.name and s.hop_s == pytest.approx(a.hop_s)
        np.testing.assert_allclose(s.times, a.times, atol=1e-9)
        np.testing.assert_allclose(s.segment_probs, a.segment_probs, atol=1e-6)
        np.testing.assert_allclose(s.attention, a.attention, rtol=1e-5, atol=1e-8)
        assert s.n_segments * s.hop_s == pytest.approx(les.duration, abs=s.hop_s)
    # segment lengths: 492 / 44100 s times the stride of each stage
    assert [round(s.hop_s, 4) for s in les.scales] == [0.0112, 0.0446, 0.1785, 0.0446, 0.0112]
    assert les.feature_map.shape == (192, les.primary.n_segments)
    assert les.pooled_features.shape == (192,)
    # the macro input is the time mean of the last feature map (eq. 2, mean pooling)
    np.testing.assert_allclose(les.pooled_features, les.feature_map.mean(axis=1), rtol=1e-4, atol=1e-5)


def test_eq7_weights_sum_to_the_loss(bundled):
    _, _, les = bundled["mmnet-ms"]
    assert les.micro_reduction == "sum"
    for sc in les.scales:
        assert sc.micro_weights.shape == sc.micro_terms.shape == sc.segment_probs.shape
        assert _eq7(sc, les.micro_reduction) == pytest.approx(sc.micro_loss, rel=1e-5)
        # attention_scale "unit": a_t / m, so each class's weights sum to 1 over the clip
        np.testing.assert_allclose(sc.micro_weights.sum(axis=0), 1.0, rtol=1e-5)
        np.testing.assert_allclose(sc.micro_weights[:, 0], sc.attention / 64, rtol=1e-5)
    assert les.micro_loss == pytest.approx(sum(s.micro_loss for s in les.scales), rel=1e-6)
    assert les.total_loss == pytest.approx(les.macro_loss + les.micro_weight * les.micro_loss, rel=1e-5)


def test_ensemble_grid_is_eq9(bundled):
    pred, ana, les = bundled["mmnet-ms"]
    assert les.mu == 0.5 and les.ensemble_grid.shape == (MU_STEPS, len(les.classes))
    np.testing.assert_allclose(les.ensemble_at(0.5), ana.clip_ensemble, atol=1e-6)
    for mu in (0.0, 0.13, 0.77, 1.0):
        np.testing.assert_allclose(les.ensemble_at(mu), mu * les.macro + (1 - mu) * les.y_att, atol=1e-6)
    # y_att is the mean over scales of sum_t alpha_t d_t, alpha summing to 1 over time
    for sc in les.scales:
        np.testing.assert_allclose(sc.alpha.sum(axis=0), 1.0, rtol=1e-5)
        np.testing.assert_allclose(sc.pooled, (sc.alpha * sc.segment_probs).sum(axis=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(les.y_att, np.mean([s.pooled for s in les.scales], axis=0), atol=1e-7)


def test_resnet_att_lesson_is_its_own_pooling(bundled):
    pred, ana, les = bundled["resnet-att"]
    assert les.kind == "att-class" and les.macro is None and les.ensemble_grid is None
    np.testing.assert_allclose(les.clip_probs, ana.clip_macro, atol=1e-6)
    sc = les.primary
    np.testing.assert_allclose(sc.segment_probs, ana.scales[0].segment_probs, atol=1e-6)
    assert sc.alpha.shape == sc.segment_probs.shape               # one attention per class
    np.testing.assert_allclose(sc.alpha.sum(axis=0), 1.0, rtol=1e-5)
    np.testing.assert_allclose((sc.alpha * sc.segment_probs).sum(axis=0), les.clip_probs, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError):
        les.ensemble_at(0.5)


@pytest.mark.parametrize("method,opts", [
    ("mmnet", dict(variant="authors-code")),
    ("mmnet-ms", dict(variant="label-specific")),
    ("mmnet", dict(attention_scale="heads", micro_reduction="mean")),
    ("resnet-att", {}),
])
def test_variants(tiny_model_file, tmp_path, method, opts):
    path = tiny_model_file(method, **opts)
    wav = tmp_path / "clip.wav"
    sf.write(wav, realistic_audio(4.0, seed=3), 44100)
    pred = engine.load_model(path, device="cpu")
    ana = pred.analyze(str(wav))
    weights = np.array([1.5, 0.5, 1.0, 2.0], np.float32)
    les = explain(pred, str(wav), labels=["class_1"], class_weights=weights)
    np.testing.assert_allclose(les.clip_probs, ana.clip_macro, atol=1e-6)
    assert les.labels.tolist() == [0, 1, 0, 0]
    if les.kind != "mmnet":
        assert les.scales[0].micro_weights is None
        np.testing.assert_allclose(les.primary.attention, ana.scales[0].attention, rtol=1e-5, atol=1e-8)
        return
    np.testing.assert_allclose(les.ensemble, ana.clip_ensemble, atol=1e-6)
    for sc in les.scales:
        assert _eq7(sc, les.micro_reduction) == pytest.approx(sc.micro_loss, rel=1e-5)
        if opts.get("variant") in ("authors-code", "label-specific"):
            # negatives weigh 1, positives a_t * w_c
            np.testing.assert_allclose(sc.micro_weights[:, [0, 2, 3]], 1.0)
            a = sc.class_attention[:, 1] if sc.class_attention is not None else sc.attention
            np.testing.assert_allclose(sc.micro_weights[:, 1], a * 0.5, rtol=1e-5)
    if pred.model.config.ensemble_mode == "logit":
        assert not np.allclose(les.ensemble_at(0.3), 0.3 * les.macro + 0.7 * les.y_att, atol=1e-4)
    np.testing.assert_allclose(les.ensemble_at(pred.model.config.mu), les.ensemble, atol=1e-6)


def test_micro_weights_drive_micro_loss_on_a_padded_batch():
    """micro_loss is sum_t W * BCE with W = micro_weights, padded segments weighing 0."""
    from engine.models import ScaleOutput

    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3)
    att = torch.softmax(torch.randn(2, 4, 5), dim=2).sum(dim=1)
    valid = torch.tensor([[True] * 5, [True, True, True, False, False]])
    s = ScaleOutput(torch.sigmoid(logits), 0.1, "s", segment_logits=logits, attention=att, valid=valid)
    y = torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    W = micro_weights(s, y, negatives="uniform")
    assert torch.all(W[1, 3:] == 0) and torch.all(W[0, :, 1] == 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[:, None].expand_as(logits), reduction="none")
    assert float(micro_loss(s, y, negatives="uniform")) == pytest.approx(float((W * bce).sum(1).mean()), rel=1e-6)


def test_long_recording_explains_one_window(tiny_model_file, tmp_path):
    pred = engine.load_model(tiny_model_file("mmnet"), device="cpu")
    wav = tmp_path / "long.wav"
    sf.write(wav, realistic_audio(14.0, seed=4), 44100)
    les = explain(pred, str(wav), start_s=2.0)
    hop = pred.feature_config.frame_hop_s
    assert les.duration == pytest.approx(pred.window_frames * hop, abs=1e-3)
    assert les.primary.times[0] == pytest.approx(2.0)
    assert les.label_source == "predicted"
    with pytest.raises(ValueError):
        explain(pred, str(wav), labels=["not-a-class"])


def test_learning_history_over_snapshots(tmp_path):
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from engine.runs import snapshots
    from tests.conftest import TINY

    run = tmp_path / "run"
    for epoch in (0, 1, 2):
        torch.manual_seed(epoch)
        model = build("mmnet", 3, **TINY).eval()
        save_model(ModelBundle(model, FeatureConfig(), ["a", "b", "c"], Normalizer.identity(128)),
                   run / "snapshots" / f"epoch-{epoch:03d}.safetensors")
    wav = tmp_path / "clip.wav"
    sf.write(wav, realistic_audio(3.0, seed=5), 44100)
    seen = []
    hist = learning_history(snapshots(run), str(wav), labels=["b"], progress=seen.append)
    assert [e for e, _ in hist] == [0, 1, 2] and seen[-1] == 1.0
    atts = [les.primary.attention for _, les in hist]
    assert not np.allclose(atts[0], atts[1])
    direct = engine.load_model(run / "snapshots" / "epoch-001.safetensors", device="cpu").analyze(str(wav))
    np.testing.assert_allclose(hist[1][1].primary.segment_probs, direct.scale(None).segment_probs, atol=1e-6)


def test_pooling_model_has_no_segment_level(tiny_model_file, tmp_path):
    pred = engine.load_model(tiny_model_file("resnet-mean"), device="cpu")
    wav = tmp_path / "clip.wav"
    sf.write(wav, realistic_audio(3.0, seed=6), 44100)
    les = explain(pred, str(wav), labels=["class_0"])
    assert les.kind == "pool" and les.scales == [] and les.ensemble_grid is None
    np.testing.assert_allclose(les.macro, pred.analyze(str(wav)).clip_macro, atol=1e-6)
    np.testing.assert_allclose(les.pooled_features, les.feature_map.mean(axis=1), rtol=1e-4, atol=1e-5)
