"""How engine.infer cuts a window's output and merges windows, on hand-made network outputs
(the survivors of a mutmut run, bench/mutation.md). No network runs here: the values in and
out are written by hand, so a swapped index, a lost window or a mean instead of a maximum fails."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import load_model
from engine.models.output import ModelOutput, ScaleOutput
from engine.stream import Window


@pytest.fixture
def predictor(tiny_model_file):
    return load_model(tiny_model_file("mmnet-ms", 3), device="cpu")


def test_window_geometry_in_frames(predictor):
    cfg = predictor.feature_config
    assert cfg.clip_frames == 896 and predictor.model.stride == 16       # the paper's settings (README)
    assert predictor.window_frames == 896 and predictor.margin_frames == 64   # 10.0 s and 0.71 s


def test_the_default_device_is_cuda_when_there_is_one(monkeypatch):
    """default_device() is "cuda" exactly when torch sees a GPU, else "cpu" (a CPU-only machine
    never takes the first branch, so it is forced here)."""
    from engine.infer import default_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")


def test_the_predictor_runs_on_the_device_asked_for_else_the_default(tiny_model_file, monkeypatch):
    """load(path, device) and Predictor(bundle, device) put the model on that device; without one,
    on default_device(), patched here to torch's "meta" device (no data) so that the default path
    differs from "cpu" on a machine without a GPU."""
    import engine.infer as infer
    from engine.modelfile import load_bundle

    path = tiny_model_file("mmnet-ms", 3)                      # a pathlib.Path
    monkeypatch.setattr(infer, "default_device", lambda: torch.device("meta"))
    meta, cpu = torch.device("meta"), torch.device("cpu")
    for p, dev in ((infer.Predictor.load(path), meta), (infer.Predictor.load(path, "cpu"), cpu),
                   (infer.Predictor(load_bundle(path)), meta), (infer.Predictor(load_bundle(path), "cpu", "m"), cpu)):
        assert p.device == dev and {q.device for q in p.model.parameters()} == {dev}
        assert not p.model.training and p.classes == ["class_0", "class_1", "class_2"]
    assert infer.Predictor.load(path).path == str(path) and infer.Predictor(load_bundle(path)).path is None


def _output(ensemble: bool, hop: float) -> ModelOutput:
    """Two clips, three classes; scale 'fine' one segment a frame, 'coarse' one per 4 frames."""
    fine = torch.arange(2 * 20 * 3, dtype=torch.float32).reshape(2, 20, 3) / 1000
    coarse = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3) / 100
    att = torch.arange(2 * 5, dtype=torch.float32).reshape(2, 5)
    return ModelOutput(clip_probs=torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
                       ensemble_probs=torch.tensor([[0.7, 0.8, 0.9], [0.15, 0.25, 0.35]]) if ensemble else None,
                       scales=[ScaleOutput(fine, hop, "fine"), ScaleOutput(coarse, 4 * hop, "coarse", attention=att)],
                       primary_scale=1)


def test_a_window_keeps_its_core_segments(predictor):
    hop = predictor.feature_config.frame_hop_s
    out = _output(True, hop)
    # frames [10, 30); the core [14, 28) is frames 4..17 of the window: fine segments 4..17,
    # coarse segments 1..4 (the one holding frames 16..19 is kept: it starts inside the core)
    rec = predictor._extract(Window(10, 30, 14, 28), out, 1)
    assert rec["start"] == 14 and rec["primary"] == 1
    np.testing.assert_allclose(rec["macro"], [0.4, 0.5, 0.6])
    np.testing.assert_allclose(rec["ensemble"], [0.15, 0.25, 0.35])
    (n0, h0, p0, a0), (n1, h1, p1, a1) = rec["scales"]
    assert (n0, h0, a0) == ("fine", hop, None) and (n1, h1) == ("coarse", 4 * hop)
    np.testing.assert_array_equal(p0, out.scales[0].segment_probs[1, 4:18].numpy())
    np.testing.assert_array_equal(p1, out.scales[1].segment_probs[1, 1:5].numpy())
    np.testing.assert_array_equal(a1, [6.0, 7.0, 8.0, 9.0])
    assert predictor._extract(Window(10, 30, 14, 28), _output(False, hop), 0)["ensemble"] is None


def _record(start, macro, ensemble, fine, att):
    return {"start": start, "macro": np.asarray(macro, np.float32),
            "ensemble": None if ensemble is None else np.asarray(ensemble, np.float32), "primary": 0,
            "scales": [("s", 0.25, np.asarray(fine, np.float32), None if att is None else np.asarray(att, np.float32))]}


def test_windows_merge_in_time_order_with_maxima_over_windows(predictor):
    hop = predictor.feature_config.frame_hop_s
    W = predictor.window_frames
    # given out of order, as batches of equal-length windows may finish
    results = [
        _record(2 * W, [0.1, 0.2, 0.1], [0.3, 0.1, 0.2], [[0.5, 0.5, 0.5]], [3.0]),
        _record(0, [0.6, 0.1, 0.2], [0.5, 0.2, 0.1], [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]], [1.0, 1.5]),
        _record(W, [0.2, 0.7, 0.3], [0.1, 0.6, 0.4], [[0.9, 0.8, 0.7]], [2.0]),
    ]
    kept = [torch.ones(128, 2), 2 * torch.ones(128, 1)]
    a = predictor._merge(results, 25.0, "x.wav", kept)
    assert a.duration == 25.0 and a.source == "x.wav" and a.classes == ["class_0", "class_1", "class_2"]
    assert a.method == "mmnet-ms" and a.primary_scale == 0 and a.frame_hop_s == hop
    assert a.window_s == pytest.approx(W * hop)
    np.testing.assert_allclose(a.window_times, [0.0, W * hop, 2 * W * hop])
    np.testing.assert_allclose(a.window_probs, [[0.5, 0.2, 0.1], [0.1, 0.6, 0.4], [0.3, 0.1, 0.2]])
    np.testing.assert_allclose(a.clip_macro, [0.6, 0.7, 0.3])
    np.testing.assert_allclose(a.clip_ensemble, [0.5, 0.6, 0.4])
    (s,) = a.scales
    assert (s.name, s.hop_s) == ("s", 0.25)
    np.testing.assert_allclose(s.segment_probs, [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4], [0.9, 0.8, 0.7], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(s.attention, [1.0, 1.5, 2.0, 3.0])
    np.testing.assert_allclose(s.times, [0.0, 0.25, 0.5, 0.75])
    assert s.segment_probs.dtype == np.float32 and s.attention.dtype == np.float32
    np.testing.assert_array_equal(a.log_mel, np.c_[np.ones((128, 2)), 2 * np.ones((128, 1))])
    np.testing.assert_allclose(a.thresholds, predictor.thresholds)


def test_without_ensemble_the_windows_hold_the_clip_path(predictor):
    results = [_record(0, [0.6, 0.1, 0.2], None, [[0.1, 0.2, 0.3]], None),
               _record(896, [0.2, 0.7, 0.3], None, [[0.9, 0.8, 0.7]], None)]
    a = predictor._merge(results, 12.0, None, None)
    assert a.clip_ensemble is None and a.log_mel is None and a.scales[0].attention is None
    np.testing.assert_allclose(a.window_probs, [[0.6, 0.1, 0.2], [0.2, 0.7, 0.3]])
    np.testing.assert_allclose(a.clip_macro, [0.6, 0.7, 0.3])
    assert predictor._merge(results, 12.0, None, []).log_mel.shape == (128, 0)


def test_the_models_own_feature_settings_are_used(tmp_path, audio_3s):
    """A model trained on other log-mel settings (here fmin 50 Hz, log gain 100) is analyzed with
    them, not with the defaults every other test model has."""
    from engine.features import FeatureConfig, Normalizer, log_mel
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from tests.conftest import TINY

    torch.manual_seed(0)
    cfg = FeatureConfig(fmin=50.0, log_gain=100.0)
    bundle = ModelBundle(build("mmnet-ms", 2, **TINY).eval(), cfg, ["a", "b"],
                         Normalizer(np.full(128, 1.0), np.full(128, 2.0)))
    save_model(bundle, tmp_path / "m.safetensors")
    predictor = load_model(tmp_path / "m.safetensors", device="cpu")
    assert predictor.feature_config == cfg
    a = predictor.analyze(audio_3s, sr=44100, keep_features=True)
    np.testing.assert_allclose(a.log_mel, log_mel(audio_3s, 44100, cfg).numpy(), atol=1e-4)
    assert np.abs(a.log_mel - log_mel(audio_3s, 44100).numpy()).max() > 0.1
    assert predictor.analyze(audio_3s, sr=44100).log_mel is None                 # kept only when asked


def test_progress_counts_frames_and_the_source_is_kept(predictor, tmp_path):
    """progress() after each block is the share of the recording's frames computed so far."""
    import soundfile as sf
    from engine.audio import AudioClip
    from tests.conftest import realistic_audio

    cfg = predictor.feature_config
    y = realistic_audio(25.0, seed=2)
    path = tmp_path / "r.wav"
    sf.write(path, y, 44100, subtype="FLOAT")
    total = 1 + len(y) // cfg.hop_length                       # 2241 frames (centred STFT)
    # after k blocks of 5 s the centred STFT has emitted the frames whose window fits:
    # 1 + (k * 5 s - n_fft / 2) // hop; the 5th block is not the end yet, the end gives 1.0
    expected = [(1 + (k * 5 * 44100 - cfg.n_fft // 2) // cfg.hop_length) / total for k in range(1, 6)] + [1.0]
    assert expected[0] == pytest.approx(0.2, abs=0.002) and expected[4] < 1.0
    for source, kw, name in ((y, {"sr": 44100}, None), (path, {}, str(path)),
                             (AudioClip(y, 44100, "take.wav"), {}, "take.wav")):
        seen = []
        a = predictor.analyze(source, block_s=5.0, progress=seen.append, **kw)
        assert seen == pytest.approx(expected, abs=1e-9), name
        assert a.source == name and a.duration == pytest.approx(25.0)
        assert a.window_times.tolist() == pytest.approx([0.0, 10.0, 20.0], abs=0.02)



def test_progress_is_capped_at_one_and_ends_at_one_when_the_header_misstates_the_length(
        predictor, tmp_path, monkeypatch):
    """The frame estimate comes from the file's header (audio.info); when it is wrong, progress()
    still stays in [0, 1] and its last call is exactly 1.0. A 12-s file read in 5-s blocks (3 blocks,
    then the end); the header is made to claim 24 s, then 1 s."""
    import soundfile as sf
    import engine.infer as infer
    from engine.audio import AudioInfo
    from tests.conftest import realistic_audio

    y = realistic_audio(12.0, seed=4)                          # 529200 samples
    path = tmp_path / "r.wav"
    sf.write(path, y, 44100, subtype="FLOAT")
    # frames emitted after each block: 1 + (samples - n_fft / 2) // hop, n_fft 2048, hop 492:
    # 1 + 219476 // 492 = 447, 1 + 439976 // 492 = 895, 1 + 528176 // 492 = 1074 (of 1076 in all)
    for claimed, expected in ((2 * 529200, [447 / 2152, 895 / 2152, 1074 / 2152, 1.0]),  # 1 + 1058400 // 492
                              (44100, [1.0, 1.0, 1.0, 1.0])):                          # 1 + 44100 // 492 = 90
        monkeypatch.setattr(infer.audio_mod, "info", lambda p, n=claimed: AudioInfo(str(p), 44100, 1, n))
        seen = []
        a = predictor.analyze(path, block_s=5.0, progress=seen.append)
        assert seen == pytest.approx(expected, abs=1e-12), claimed
        assert a.duration == pytest.approx(12.0)               # the decoded length, not the header's
