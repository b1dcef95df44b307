"""Evaluation against annotations: per-event TP/FP and hit/miss agree with engine.metrics'
event-based counts; two models side by side; the clip list sorted by errors."""
from __future__ import annotations

import numpy as np
import pytest

from engine.analysis import Analysis, ScaleAnalysis
from engine.annotation_eval import classify_events, evaluate_annotations
from engine.labels import Event
from engine.metrics import event_based

CLASSES = ["dog", "cat", "bird"]
HOP, T, DUR = 0.1, 100, 10.0


def _analysis(active: list[tuple[float, float, str]], clip_probs=None) -> Analysis:
    """An Analysis whose segment probabilities are 0.9 inside the given spans, 0.05 elsewhere."""
    p = np.full((T, 3), 0.05, np.float32)
    for on, off, label in active:
        p[int(round(on / HOP)):int(round(off / HOP)), CLASSES.index(label)] = 0.9
    cp = p.max(0) if clip_probs is None else np.asarray(clip_probs, np.float32)
    sc = ScaleAnalysis("s", HOP, np.arange(T) * HOP, p)
    return Analysis(classes=CLASSES, duration=DUR, clip_macro=cp, clip_ensemble=None, scales=[sc],
                    thresholds=np.full(3, 0.5, np.float32), method="test", primary_scale=0)


REF = [Event(1.0, 2.0, "dog", clip="a.wav"), Event(5.0, 5.5, "cat", clip="a.wav"),
       Event(2.0, 4.0, "dog", clip="b.wav"), Event(7.0, 8.0, "bird", clip="b.wav"),
       Event(None, None, "dog", clip="b.wav")]                      # clip-level: left out


def test_classification_matches_event_based_counts():
    ref = [("a", 1.0, 2.0, "dog"), ("a", 1.1, 2.1, "dog"), ("a", 5.0, 5.5, "cat"), ("b", 3.0, 4.0, "bird")]
    est = [("a", 1.05, 2.0, "dog"), ("a", 5.0, 5.5, "bird"), ("a", 8.0, 9.0, "dog"), ("b", 3.1, 4.0, "bird")]
    rs, es, conf = classify_events(ref, est)
    assert rs == ["hit", "miss", "miss", "hit"] and es == ["TP", "FP", "FP", "TP"]
    assert conf == [None, "cat", None, None]                  # bird where a cat was annotated
    ev = event_based(ref, est)
    assert es.count("TP") == rs.count("hit") == ev["tp"]
    assert es.count("FP") == ev["fp"] + ev["substitutions"] and rs.count("miss") == ev["fn"] + ev["substitutions"]
    assert sum(c is not None for c in conf) == ev["substitutions"]
    for c, pc in ev["per_class"].items():
        assert sum(1 for e, s in zip(est, es) if s == "TP" and e[3] == c) == pc["tp"]


def test_two_models_side_by_side_and_clip_list():
    good = {"a.wav": _analysis([(1.0, 2.0, "dog"), (5.0, 5.5, "cat")]),
            "b.wav": _analysis([(2.0, 4.0, "dog"), (7.0, 8.0, "bird")])}
    bad = {"a.wav": _analysis([(1.0, 2.0, "dog"), (6.0, 7.0, "bird")]),
           "b.wav": _analysis([])}
    out = evaluate_annotations(REF, {"A": good, "B": bad})
    assert out["weak_left_out"] == 1 and out["n_reference"] == 4
    a, b = out["models"]["A"], out["models"]["B"]
    assert a["overall"]["event_F1"] == pytest.approx(1.0) and a["overall"]["segment_F1"] == pytest.approx(1.0)
    assert [r["status"] for r in a["references"]] == ["hit"] * 4
    assert all(e["status"] == "TP" for e in a["estimates"])
    assert [r["status"] for r in b["references"]] == ["hit", "miss", "miss", "miss"]
    assert [(e["label"], e["status"]) for e in b["estimates"]] == [("dog", "TP"), ("bird", "FP")]
    assert b["overall"]["event_F1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 3))
    assert a["overall"]["psds1"] > 0.9 and b["overall"]["psds1"] < a["overall"]["psds1"]
    assert set(a["per_class"]) == {"dog", "cat", "bird"} and a["per_class"]["dog"]["n_ref"] == 2
    # clip list: worst first; b.wav has 2 misses for B, a.wav 1 miss + 1 FP
    assert [(r["clip"], r["B_fp"], r["B_miss"], r["A_errors"]) for r in out["clips"]] == [
        ("a.wav", 1, 1, 0), ("b.wav", 0, 2, 0)]


def test_names_matched_by_file_name_and_unknown_labels():
    models = {"A": {"data/x/a.wav": _analysis([(1.0, 2.0, "dog")])}}
    ref = [("a.wav", 1.0, 2.0, "dog"), ("a.wav", 3.0, 4.0, "horse"), ("zzz.wav", 1, 2, "dog")]
    out = evaluate_annotations(ref, models)
    assert out["unmatched_reference"] == 1 and out["n_reference"] == 2
    pc = out["models"]["A"]["per_class"]
    assert pc["horse"]["known_to_model"] is False and pc["horse"]["n_ref"] == 1
    with pytest.raises(ValueError, match="same clips"):
        evaluate_annotations(ref, {"A": models["A"], "B": {"other.wav": _analysis([])}})


def test_clip_event_flags_for_the_event_rows():
    from engine.annotation_eval import clip_event_flags

    ref = [(1.0, 2.0, "dog"), (5.0, 5.5, "cat"), (7.0, 8.0, "dog")]
    est = [(1.1, 2.1, "dog", 0.9),      # onset 0.1 s late, offset 0.1 s: a hit
           (5.0, 5.5, "bird", 0.8),     # where the cat is: a false positive, confused with the cat
           (7.25, 8.0, "dog", 0.7),     # onset 0.25 s late: outside the 0.2-s collar
           (9.0, 9.5, "dog", 0.6)]      # nothing there
    flags = clip_event_flags(ref, est)
    assert flags["missed"] == [False, True, True]
    assert flags["false_positive"] == [False, True, True, True]
    assert flags["confused_with"] == [None, "cat", None, None]
    assert (flags["misses"], flags["false_positives"], flags["errors"]) == (2, 3, 5)
    # a long event: the offset collar is half its length (1.5 s of 3 s), the onset collar stays 0.2 s
    long = clip_event_flags([(0.0, 3.0, "dog")], [(0.15, 4.4, "dog")])
    assert long["missed"] == [False] and long["false_positive"] == [False]
    assert clip_event_flags([(0.0, 3.0, "dog")], [(0.15, 4.6, "dog")])["errors"] == 2
    assert clip_event_flags([], [])["errors"] == 0
