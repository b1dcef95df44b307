import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from engine import load_model
from engine.analysis import Analysis, Event, ScaleAnalysis
from engine.audio import AudioError
from engine.features import log_mel
from tests.conftest import realistic_audio


def test_analyze_a_short_clip(tiny_model_file, audio_3s):
    predictor = load_model(tiny_model_file("mmnet-ms", 4))
    a = predictor.analyze(audio_3s, sr=44100, keep_features=True)
    assert a.classes == predictor.classes and a.duration == pytest.approx(3.0)
    assert a.clip_macro.shape == (4,) and a.clip_ensemble.shape == (4,)
    assert [s.name for s in a.scales] == ["stage1", "stage2", "stage3", "up1", "up2"]
    for s in a.scales:
        assert s.segment_probs.shape[1] == 4
        assert len(s.times) == len(s.segment_probs) == len(s.attention)
        assert s.times[-1] < 3.0 <= s.times[-1] + s.hop_s + 1e-9
    assert a.log_mel.shape == (128, 1 + len(audio_3s) // 492)
    # the same as running the network on the whole clip
    out = predictor.forward_features(log_mel(audio_3s, 44100)[None])
    np.testing.assert_allclose(a.clip_ensemble, out.ensemble_probs[0].numpy(), atol=1e-6)
    no_ep = predictor.analyze(audio_3s, sr=44100, ensemble=False)
    assert no_ep.clip_ensemble is None
    np.testing.assert_allclose(no_ep.clip_probs, a.clip_macro, atol=1e-6)


def test_long_recording_is_seamless(tiny_model_file, tmp_path):
    predictor = load_model(tiny_model_file("mmnet-ms", 3))
    y = realistic_audio(35.0, seed=3)
    path = tmp_path / "long.wav"
    sf.write(path, y, 44100, subtype="FLOAT")
    seen = []
    a = predictor.analyze(path, progress=seen.append, block_s=7.0, batch_size=2)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert len(a.window_times) == 4 and a.window_probs.shape == (4, 3)
    # the clip score is the maximum over windows (window_probs hold the ensemble when there is one);
    # the per-window values themselves are checked in test_infer_windows.py
    assert a.clip_ensemble is not None
    np.testing.assert_allclose(a.clip_probs, a.window_probs.max(axis=0))
    whole = predictor.forward_features(log_mel(y, 44100)[None])
    for s_whole, s in zip(whole.scales, a.scales):
        ref = s_whole.segment_probs[0].numpy()
        assert ref.shape == s.segment_probs.shape
        # windows overlap by more than the receptive field: same segment predictions
        np.testing.assert_allclose(s.segment_probs, ref, atol=2e-3)


def test_cancel(tiny_model_file):
    from engine.infer import Cancelled

    predictor = load_model(tiny_model_file("resnet-att", 3))
    seen, polls = [], []

    def cancel_after_two_blocks():
        polls.append(len(seen))
        return len(seen) >= 2

    with pytest.raises(Cancelled):
        predictor.analyze(realistic_audio(25.0), sr=44100, block_s=5.0, progress=seen.append,
                          cancel=cancel_after_two_blocks)
    # stopped mid-analysis, after work was done and before the end, at the first poll that asked
    assert len(seen) == 2 and 0 < seen[-1] < 1 and polls[-1] == 2


def test_bad_audio_is_an_audio_error(tiny_model_file, tmp_path):
    predictor = load_model(tiny_model_file("mmnet", 3))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 10)
    with pytest.raises(AudioError):
        predictor.analyze(bad)


def _analysis(probs, clip, hop=0.5, thresholds=0.5):
    probs = np.asarray(probs, np.float32)
    return Analysis(classes=["a", "b"], duration=len(probs) * hop, clip_macro=np.asarray(clip, np.float32),
                    clip_ensemble=None, scales=[ScaleAnalysis("s", hop, np.arange(len(probs)) * hop, probs)],
                    thresholds=np.full(2, thresholds, np.float32), primary_scale=0)


def test_events_thresholds_gating_and_filters():
    probs = [[0.9, 0.1], [0.8, 0.6], [0.2, 0.7], [0.9, 0.7], [0.1, 0.2], [0.7, 0.1]]
    a = _analysis(probs, clip=[0.9, 0.9])
    assert a.events() == [Event(0.0, 1.0, "a", 0.9), Event(0.5, 2.0, "b", 0.7),
                          Event(1.5, 2.0, "a", 0.9), Event(2.5, 3.0, "a", 0.7)]
    # the segment threshold is separate from the tagging thresholds
    assert [e for e in a.events(segment_threshold=0.75) if e.label == "b"] == []
    assert a.events(thresholds=0.95) == []
    # tagging gates detection: class b is not tagged at clip level
    gated = _analysis(probs, clip=[0.9, 0.1]).events()
    assert {e.label for e in gated} == {"a"}
    assert len(_analysis(probs, clip=[0.9, 0.1]).events(gate_with_clip=False)) == 4
    # bridging one-segment gaps joins the three events of class a
    assert [e for e in a.events(min_gap_s=0.5) if e.label == "a"] == [Event(0.0, 3.0, "a", 0.9)]
    assert all(e.offset - e.onset >= 1.0 for e in a.events(min_duration_s=1.0))
    # a median filter over 3 segments: a -> (0.9, 0.8, 0.8, 0.2, 0.7, 0.7) fills the dip at 1.0 s
    # and removes the blip at 1.5 s
    assert [e for e in a.events(median_s=1.5) if e.label == "a"] == [Event(0.0, 1.5, "a", 0.9),
                                                                     Event(2.0, 3.0, "a", 0.7)]


def test_cli_predict_json_and_tsv(tiny_model_file, tmp_path, audio_3s):
    model = tiny_model_file("mmnet-ms", 4)
    wav = tmp_path / "clip.wav"
    sf.write(wav, audio_3s, 44100)
    proc = subprocess.run([sys.executable, "-m", "engine", "predict", model, str(wav), "--format", "json",
                           "--threshold", "0.3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout.splitlines()[0])
    assert set(obj) >= {"classes", "clip", "scales", "events"}
    assert set(obj["clip"]) >= {"macro", "ensemble"} and len(obj["scales"]) == 5
    assert set(obj["scales"][0]) >= {"hop_s", "times", "segment_probs", "attention"}
    for e in obj["events"]:
        assert set(e) == {"onset", "offset", "label", "score"}
    tsv = subprocess.run([sys.executable, "-m", "engine", "predict", model, str(tmp_path), "--format", "tsv",
                          "--threshold", "0.0", "--segment-threshold", "0.0"], capture_output=True, text=True, timeout=300)
    lines = tsv.stdout.strip().splitlines()
    assert lines[0] == "filename\tonset\toffset\tevent_label"
    assert len(lines) > 1 and all(l.split("\t")[0] == "clip.wav" for l in lines[1:])
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-m", "engine", "predict", model, str(bad)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "broken.wav" in proc.stderr


def test_cli_info(tiny_model_file):
    model = tiny_model_file("resnet-att", 2)
    proc = subprocess.run([sys.executable, "-m", "engine", "info", model], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0
    meta = json.loads(proc.stdout)
    assert meta["method"] == "resnet-att" and meta["classes"] == ["class_0", "class_1"]
    proc = subprocess.run([sys.executable, "-m", "engine", "info", "/nonexistent.safetensors"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "no such model file" in proc.stderr
