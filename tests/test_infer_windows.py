"""How a long recording's windows combine into clip-level scores (README: "clip-level
probabilities of a file are the maxima over windows; per-window values are kept in
window_probs").

Each window's values are recomputed here independently: the network run on that window's
frames of the whole file's log-mel (the window plus its context margins), so a clip score
taken from one window only, or averaged instead of maximized, fails.
"""
import numpy as np
import pytest
import soundfile as sf

from engine import load_model
from engine.features import log_mel
from tests.conftest import realistic_audio

SR = 44100


def _uneven_recording(seconds: float = 34.0) -> np.ndarray:
    """Quiet noise for 11 s, then tones, chirps and clicks: windows that look different."""
    y = realistic_audio(seconds, seed=5)
    rng = np.random.default_rng(1)
    y[: 11 * SR] = 0.003 * rng.standard_normal(11 * SR).astype(np.float32)
    t = np.arange(len(y) - 22 * SR) / SR
    y[22 * SR:] += (0.3 * np.sign(np.sin(2 * np.pi * 3 * t)) * np.sin(2 * np.pi * 1500 * t)).astype(np.float32)
    return y


def _expected_windows(predictor, feats, ensemble=None):
    """(window starts in frames, macro W x C, ensemble W x C or None) from the documented geometry."""
    W, M = predictor.window_frames, predictor.margin_frames
    n = feats.shape[1]
    starts = list(range(0, n, W))
    macro, ens = [], []
    for s in starts:
        out = predictor.forward_features(feats[None, :, max(0, s - M):min(n, s + W + M)], ensemble)
        macro.append(out.clip_probs[0].numpy())
        ens.append(None if out.ensemble_probs is None else out.ensemble_probs[0].numpy())
    return starts, np.stack(macro), (None if ens[0] is None else np.stack(ens))


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    y = _uneven_recording()
    path = tmp_path_factory.mktemp("long") / "uneven.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    return path, y


def test_window_probs_and_clip_scores_of_a_long_recording(tiny_model_file, long_file):
    path, y = long_file
    predictor = load_model(tiny_model_file("mmnet-ms", 3))
    a = predictor.analyze(path, block_s=6.0, batch_size=2)
    feats = log_mel(y, SR)
    starts, macro, ens = _expected_windows(predictor, feats)
    hop = predictor.feature_config.frame_hop_s
    assert len(starts) == 4
    np.testing.assert_allclose(a.window_times, np.asarray(starts) * hop, atol=1e-9)
    assert a.window_s == pytest.approx(predictor.window_frames * hop)
    # window_probs: each window's eq. 9 ensemble, as the network gives it on that window
    np.testing.assert_allclose(a.window_probs, ens, atol=2e-4)
    # clip scores: the maxima over windows, for the macro path and the ensemble alike
    np.testing.assert_allclose(a.clip_macro, macro.max(axis=0), atol=2e-4)
    np.testing.assert_allclose(a.clip_ensemble, ens.max(axis=0), atol=2e-4)
    np.testing.assert_allclose(a.clip_probs, ens.max(axis=0), atol=2e-4)
    # the recording is uneven enough that the first window, the mean or the macro path differ
    assert np.abs(macro.max(axis=0) - macro[0]).max() > 1e-2
    assert np.abs(ens.max(axis=0) - ens[0]).max() > 1e-2
    assert np.abs(ens.max(axis=0) - ens.mean(axis=0)).max() > 1e-2
    assert np.abs(ens - macro).max() > 1e-3


def test_without_ensemble_windows_hold_the_macro_path(tiny_model_file, long_file):
    path, y = long_file
    predictor = load_model(tiny_model_file("mmnet", 3))
    a = predictor.analyze(path, ensemble=False, batch_size=3)
    _, macro, ens = _expected_windows(predictor, log_mel(y, SR), ensemble=False)
    assert ens is None and a.clip_ensemble is None
    np.testing.assert_allclose(a.window_probs, macro, atol=2e-4)
    np.testing.assert_allclose(a.clip_macro, macro.max(axis=0), atol=2e-4)
    assert np.abs(macro.max(axis=0) - macro.mean(axis=0)).max() > 1e-2


def test_windows_gate_detection_and_give_events_without_segment_level(tiny_model_file, long_file):
    """Tagging is decided per window: a class tagged in one window only is detected only there;
    methods without a segment level give one event per tagged window, spanning it."""
    path, y = long_file
    predictor = load_model(tiny_model_file("resnet-mean", 3))
    a = predictor.analyze(path)
    _, macro, _ = _expected_windows(predictor, log_mel(y, SR))
    np.testing.assert_allclose(a.window_probs, macro, atol=2e-4)
    assert not a.has_segment_level
    c = int(np.argmax(macro.max(axis=0) - macro.min(axis=0)))      # the class varying most over windows
    thr = np.full(3, 2.0, np.float32)
    thr[c] = float((macro[:, c].max() + macro[:, c].min()) / 2)
    events = a.events(thresholds=thr)
    tagged = np.nonzero(macro[:, c] >= thr[c])[0]
    assert 0 < len(tagged) < len(macro)
    ends = list(a.window_times[1:]) + [a.duration]
    assert [(e.onset, e.offset, e.label) for e in events] == [
        (round(float(a.window_times[k]), 4), round(float(ends[k]), 4), a.classes[c]) for k in tagged]
    for e, k in zip(events, tagged):
        assert e.score == pytest.approx(macro[k, c], abs=2e-4)
