"""engine.analysis on hand-made analyses, expected values written out by hand (the survivors of a
mutmut run, bench/mutation.md): per-window gating on long recordings, gap bridging, scale and
threshold choice, the JSON and TSV forms, primary scales of model files."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.analysis import Analysis, Event, ScaleAnalysis, events_to_tsv, primary_scale_index

HOP = 0.5


def _analysis(seg, clip, *, windows=None, window_probs=None, thresholds=0.5, scales=None, primary=None,
              duration=None, method="m"):
    seg = np.asarray(seg, np.float32)
    if scales is None:
        scales = [ScaleAnalysis("s", HOP, np.arange(len(seg)) * HOP, seg)]
    extra = {}
    if windows is not None:
        extra = dict(window_s=3.0, window_times=np.asarray(windows, np.float64),
                     window_probs=np.asarray(window_probs, np.float32))
    return Analysis(classes=["a", "b"], duration=len(seg) * HOP if duration is None else duration,
                    clip_macro=np.asarray(clip, np.float32), clip_ensemble=None, scales=scales,
                    thresholds=np.full(2, thresholds, np.float32), primary_scale=primary, method=method,
                    **extra)


def test_each_window_gates_its_own_segments():
    """Two windows of 3 s: a is tagged in the second only, b in the first only; every segment
    is active. The segment at 3.0 s belongs to the second window."""
    seg = np.full((12, 2), 0.9)
    a = _analysis(seg, clip=[0.8, 0.8], windows=[0.0, 3.0], window_probs=[[0.1, 0.8], [0.5, 0.2]])
    # a window probability equal to the threshold tags (>=)
    assert a.events() == [Event(0.0, 3.0, "b", 0.9), Event(3.0, 6.0, "a", 0.9)]
    three = _analysis(np.full((18, 2), 0.9), clip=[0.8, 0.8], windows=[0.0, 3.0, 6.0],
                      window_probs=[[0.1, 0.8], [0.9, 0.1], [0.9, 0.8]])
    assert three.events() == [Event(0.0, 3.0, "b", 0.9), Event(3.0, 9.0, "a", 0.9), Event(6.0, 9.0, "b", 0.9)]
    # one window: the clip probabilities gate, and equality tags
    one = _analysis(np.full((4, 2), 0.9), clip=[0.5, 0.49])
    assert one.events() == [Event(0.0, 2.0, "a", 0.9)]


def test_bridging_fills_short_gaps_between_events_only():
    col = [0, 1, 1, 0, 0, 1, 0, 1, 0]
    seg = np.stack([np.asarray(col) * 0.9, np.zeros(9)], axis=1)
    a = _analysis(seg, clip=[0.9, 0.9])
    assert a.events() == [Event(0.5, 1.5, "a", 0.9), Event(2.5, 3.0, "a", 0.9), Event(3.5, 4.0, "a", 0.9)]
    # one segment bridged; the two-segment gap and the borders stay
    assert a.events(min_gap_s=0.5) == [Event(0.5, 1.5, "a", 0.9), Event(2.5, 4.0, "a", 0.9)]
    assert a.events(min_gap_s=1.0) == [Event(0.5, 4.0, "a", 0.9)]
    assert a.events(min_gap_s=0.2) == a.events()                  # rounds to 0 segments


def test_scales_by_index_name_and_primary():
    probs = np.zeros((4, 2), np.float32)
    scales = [ScaleAnalysis(n, h, np.arange(4) * h, probs + i) for i, (n, h) in
              enumerate([("fine", 0.1), ("mid", 0.2), ("coarse", 0.4)])]
    a = _analysis(probs, clip=[0.9, 0.9], scales=scales, primary=2)
    assert a.scale() is scales[2] and a.scale("mid") is scales[1] and a.scale(0) is scales[0]
    assert _analysis(probs, clip=[0.9, 0.9], scales=scales, primary=None).scale() is scales[0]
    with pytest.raises(ValueError, match=r"no scale named 'up'; scales: \['fine', 'mid', 'coarse'\]"):
        a.scale("up")
    for method, name in (("resnet-mean", "resnet-mean"), ("", "this model")):
        flat = _analysis(probs, clip=[0.9, 0.9], scales=[], method=method)
        with pytest.raises(ValueError, match=f"^{name} has no segment level$"):
            flat.scale()


def test_tags_and_thresholds():
    a = _analysis(np.zeros((2, 2)), clip=[0.5, 0.3], thresholds=0.4)
    assert a.tags() == ["a"]                                         # the model's thresholds
    assert a.tags(0.3) == ["a", "b"] and a.tags(0.51) == []          # one value for all, >=
    assert a.tags([0.6, 0.3]) == ["b"]                               # one per class
    b = _analysis(np.zeros((2, 2)), clip=[0.5, 0.3], thresholds=0.25)
    np.testing.assert_array_equal(b._thresholds(None), [0.25, 0.25])
    np.testing.assert_array_equal(b._thresholds([0.125, 0.5]), [0.125, 0.5])
    np.testing.assert_array_equal(b._thresholds(0.75), [0.75, 0.75])


def test_models_without_segment_level_or_windows_give_one_event_per_tag():
    a = _analysis(np.zeros((0, 2)), clip=[0.7, 0.2], scales=[], duration=4.2)
    assert a.events() == [Event(0.0, 4.2, "a", 0.7)]
    w = _analysis(np.zeros((0, 2)), clip=[0.7, 0.6], scales=[], duration=25.0, windows=[0.0, 10.0, 20.0],
                  window_probs=[[0.7, 0.1], [0.2, 0.6], [0.9, 0.55]])
    assert w.events() == [Event(0.0, 10.0, "a", 0.7), Event(10.0, 20.0, "b", 0.6),
                          Event(20.0, 25.0, "a", 0.9), Event(20.0, 25.0, "b", 0.55)]


def test_json_and_tsv_forms():
    seg = np.array([[0.123456, 0.9], [0.7, 0.2]])
    att = np.array([0.25, 0.75], np.float32)
    sc = ScaleAnalysis("stage3", HOP, np.array([0.0, 0.5]), seg, att)
    a = Analysis(classes=["a", "b"], duration=1.00004 + 0.4, clip_macro=np.array([0.81234, 0.9]),
                 clip_ensemble=np.array([0.7, 0.95]), scales=[sc], thresholds=np.array([0.5, 0.25]),
                 method="mmnet-ms", source="x.wav", primary_scale=0, window_s=10.0,
                 window_times=np.array([0.0]), window_probs=np.array([[0.7, 0.95]]))
    d = a.to_dict(decimals=2)
    assert d == {
        "file": "x.wav", "method": "mmnet-ms", "duration": 1.4, "classes": ["a", "b"],
        "thresholds": [0.5, 0.25],
        "clip": {"macro": [0.81, 0.9], "ensemble": [0.7, 0.95]},
        "windows": {"window_s": 10.0, "times": [0.0], "probs": [[0.7, 0.95]]},
        "scales": [{"name": "stage3", "hop_s": 0.5, "times": [0.0, 0.5], "segment_probs": [[0.12, 0.9], [0.7, 0.2]],
                    "attention": [0.25, 0.75]}],
        "events": [{"onset": 0.0, "offset": 0.5, "label": "b", "score": 0.9},
                   {"onset": 0.5, "offset": 1.0, "label": "a", "score": 0.7}],
    }
    assert sc.to_dict()["segment_probs"][0][0] == pytest.approx(0.12346, abs=1e-7)          # 5 decimals
    later = replace(a, window_times=np.array([0.0, 9.876543]), window_probs=np.array([[0.7, 0.95], [0.1, 0.2]]))
    assert later.to_dict(events=[], decimals=2)["windows"]["times"] == [0.0, 9.88]
    assert a.to_dict()["scales"][0]["segment_probs"][0][0] == pytest.approx(0.12346, abs=1e-7)   # 5 decimals
    given = [Event(0.1, 0.2, "a", 0.3)]
    assert a.to_dict(events=given)["events"] == [{"onset": 0.1, "offset": 0.2, "label": "a", "score": 0.3}]
    plain = Analysis(classes=["a"], duration=1.0, clip_macro=np.array([0.5]), clip_ensemble=None,
                     scales=[ScaleAnalysis("s", HOP, np.array([0.0]), np.array([[0.1]]))], thresholds=np.array([0.5]))
    pd = plain.to_dict()
    assert pd["clip"]["ensemble"] is None and pd["scales"][0]["attention"] is None and pd["file"] is None
    tsv = events_to_tsv([("x.wav", Event(0.1234, 2.5, "dog", 0.9)), ("y.wav", Event(3.0, 4.0006, "bell"))])
    assert tsv == "filename\tonset\toffset\tevent_label\nx.wav\t0.123\t2.500\tdog\ny.wav\t3.000\t4.001\tbell\n"
    assert events_to_tsv([]) == "filename\tonset\toffset\tevent_label\n"


def test_primary_scale_of_model_metadata():
    scales = [{"name": "stage1", "hop_s": 0.05}, {"name": "stage3", "hop_s": 0.19}, {"name": "up1", "hop_s": 0.09}]
    assert primary_scale_index({"scales": scales, "primary_scale": 0}) == 0     # named in the file
    assert primary_scale_index({"scales": scales, "primary_scale": None}) == 1  # older files: longest hop
    assert primary_scale_index({"scales": scales}) == 1
    assert primary_scale_index({"scales": []}) is None and primary_scale_index({}) is None


def test_segment_thresholds_median_filter_and_scale_choice():
    # a segment probability equal to its threshold is active, also for thresholds that float32 rounds
    seg = np.array([[0.7, 0.5], [0.1, 0.1]], np.float32)
    a = _analysis(seg, clip=[0.9, 0.9])
    assert a.events(segment_threshold=[0.7, 0.5]) == [Event(0.0, 0.5, "a", 0.7), Event(0.0, 0.5, "b", 0.5)]
    # median filter over classes separately, "nearest" at the borders, odd lengths (1.0 s = 2 -> 3 segments)
    col = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9])
    m = _analysis(np.stack([col, 1 - col], axis=1), clip=[0.9, 0.9])
    assert m.events(median_s=2.5) == [Event(0.0, 0.5, "a", 0.9), Event(0.5, 3.0, "b", 0.9),
                                      Event(3.0, 4.0, "a", 0.9)]            # 5 segments: x0 kept at the border
    assert m.events(median_s=1.0) == [Event(0.0, 0.5, "a", 0.9), Event(0.5, 3.0, "b", 0.9),
                                      Event(3.0, 4.0, "a", 0.9)]
    spike = _analysis(np.stack([[0.1, 0.1, 0.9, 0.1, 0.1], np.zeros(5)], axis=1), clip=[0.9, 0.9])
    assert spike.events(median_s=1.0) == []                                    # a one-segment blip goes
    assert spike.events(median_s=0.2) == spike.events() == [Event(1.0, 1.5, "a", 0.9)]   # under one segment: none
    # the scale asked for, not the primary one
    fine = ScaleAnalysis("fine", 0.25, np.arange(4) * 0.25, np.array([[0.9, 0.0]] * 2 + [[0.0, 0.0]] * 2))
    coarse = ScaleAnalysis("coarse", 0.5, np.arange(2) * 0.5, np.array([[0.0, 0.9], [0.0, 0.0]]))
    two = _analysis(np.zeros((2, 2)), clip=[0.9, 0.9], scales=[fine, coarse], primary=1, duration=1.0)
    assert two.events() == [Event(0.0, 0.5, "b", 0.9)]
    assert two.events(scale="fine") == two.events(scale=0) == [Event(0.0, 0.5, "a", 0.9)]


def test_window_events_reach_their_threshold_and_keep_four_decimals():
    w = _analysis(np.zeros((0, 2)), clip=[0.5, 0.234567], scales=[], duration=20.0, windows=[0.0, 10.0],
                  window_probs=[[0.5, 0.1], [0.2, 0.234567]], thresholds=0.2)
    assert w.events() == [Event(0.0, 10.0, "a", 0.5), Event(10.0, 20.0, "a", 0.2), Event(10.0, 20.0, "b", 0.2346)]


def test_thresholds_compare_in_float32_like_the_probabilities():
    """0.7 typed by a user, or read back from JSON as a float64, tags a float32 probability 0.7."""
    a = _analysis(np.zeros((2, 2)), clip=[0.7, 0.3])
    assert a.tags(0.7) == ["a"] and a.tags([0.7, 0.3]) == ["a", "b"]
    a.thresholds = np.array([0.7, 0.3])                                  # float64, as from JSON
    assert a.tags() == ["a", "b"]


def test_event_order_durations_and_rounding():
    # class-major pairing, then sorted by (onset, label): b's shorter event after a's longer one
    seg = np.array([[0.9, 0.9], [0.9, 0.1], [0.1, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]], np.float32)
    a = _analysis(seg, clip=[0.9, 0.9])
    assert a.events() == [Event(0.0, 1.0, "a", 0.9), Event(0.0, 0.5, "b", 0.9), Event(1.5, 3.0, "a", 0.9)]
    # an event exactly min_duration_s long stays; a short one does not stop the later ones
    assert a.events(min_duration_s=1.0) == [Event(0.0, 1.0, "a", 0.9), Event(1.5, 3.0, "a", 0.9)]
    assert a.events(min_duration_s=1.5) == [Event(1.5, 3.0, "a", 0.9)]
    # onsets, offsets and scores to 4 decimals
    h = 0.123456
    odd = _analysis(np.zeros((3, 2)), clip=[0.9, 0.9], duration=1.0,
                    scales=[ScaleAnalysis("s", h, np.arange(3) * h, np.array([[0.1, 0.0], [0.654321, 0.0], [0.1, 0.0]]))])
    assert odd.events() == [Event(0.1235, 0.2469, "a", 0.6543)]
