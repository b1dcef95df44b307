"""engine/metrics.py: cases written to kill the mutants that tests/test_metrics.py let survive (bench/mutation.md).

Expected values are counted by hand in the comments or computed by sed_eval / scikit-learn, never by
engine.metrics itself.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine.metrics import (_max_matching, event_based, per_class_by_duration, segment_based, tagging_metrics,
                            tune_thresholds)

approx = pytest.approx


def _sed_eval(ref, est, res=None, **event_options):
    """sed_eval 0.2.1 fed file by file (as engine.metrics documents): its overall metrics dict.
    Segment-based with ``res``, else event-based with ``event_options``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # dcase_util imports pkg_resources
        import dcase_util
        import sed_eval
    labels = sorted({e[3] for e in ref + est})
    if res is not None:
        m = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=labels, time_resolution=res)
    else:
        m = sed_eval.sound_event.EventBasedMetrics(event_label_list=labels, **event_options)
    for f in dict.fromkeys(e[0] for e in ref + est):
        def box(events):
            return dcase_util.containers.MetaDataContainer(
                [{"filename": f, "onset": a, "offset": b, "event_label": lab} for g, a, b, lab in events if g == f])
        m.evaluate(reference_event_list=box(ref), estimated_event_list=box(est))
    return m.results_overall_metrics()


# ------------------------------------------------------------------------------------ the phantom segment
def test_float_noise_on_a_boundary_adds_no_segment():
    off = 0.1 * 3 * 10                                   # 3.0000000000000004 (0.1 * 3 is 0.30000000000000004)
    assert off == 3.0000000000000004 != 3.0
    ref = [("a.wav", 0.0, off, "dog")]
    est = [("a.wav", 0.0, 3.0, "dog")]
    # sed_eval on the raw times: ceil(3.0000000000000004) = 4 segments, the 4th a deletion
    raw = _sed_eval(ref, est, 1.0)
    assert raw["f_measure"]["recall"] == approx(0.75) and raw["error_rate"]["error_rate"] == approx(0.25)
    # engine.metrics snaps the offset onto the boundary: what sed_eval gives for the intended 3.0 s
    m = segment_based(ref, est, time_resolution=1.0)
    clean = _sed_eval([("a.wav", 0.0, 3.0, "dog")], est, 1.0)
    assert clean["f_measure"]["f_measure"] == 1.0
    assert (m["f1"], m["error_rate"], m["n_segments"], m["tp"]) == (1.0, 0.0, 3, 3)
    # an onset a hair before boundary 3 (0.3 / 0.1 = 2.9999999999999996) starts at 3, not in segment 2
    assert 0.3 / 0.1 == 2.9999999999999996
    m = segment_based([("b", 0.3 / 0.1, 4.0, "x")], [("b", 3.0, 4.0, "x")])
    assert (m["n_ref"], m["n_sys"], m["tp"]) == (1, 1, 1)
    # on a 0.1-s grid the snap works in segments too: 0.30000000000000004 s is boundary 3
    m = segment_based([("c", 0.1, 0.1 + 0.2, "x")], [("c", 0.1, 0.3, "x")], time_resolution=0.1)
    assert (m["n_segments"], m["n_ref"], m["tp"], m["error_rate"]) == (3, 2, 2, 0.0)
    # the tolerance is 1e-9 s whatever the grid: on 10-ms segments 0.5 ns past 0.3 s is boundary 30,
    # 3 ns past it reaches segment 30 (31 segments)
    for overhang, n in ((5e-10, 30), (3e-9, 31)):
        m = segment_based([("e", 0.0, 0.3 + overhang, "x")], [("e", 0.0, 0.3, "x")], time_resolution=0.01)
        assert (m["n_segments"], m["n_ref"]) == (n, n)
    # a real overhang (1 ms) still marks the next segment, as in sed_eval
    late = [("d", 0.0, 3.001, "dog")]
    m = segment_based(late, [("d", 0.0, 3.0, "dog")])
    s = _sed_eval(late, [("d", 0.0, 3.0, "dog")], 1.0)
    assert m["recall"] == approx(s["f_measure"]["recall"]) == approx(0.75)



def test_segment_grid_of_short_files_and_bad_resolution():
    # a file whose events all end at 0.4 s has ceil(0.4 / 0.1) = 4 segments of 0.1 s (not a 1-s minimum)
    m = segment_based([("f", 0.0, 0.4, "a")], [("f", 0.1, 0.2, "a")], time_resolution=0.1)
    assert (m["n_segments"], m["n_ref"], m["n_sys"], m["tp"]) == (4, 4, 1, 1)
    assert (m["time_resolution"], m["labels"], m["n_files"]) == (0.1, ["a"], 1)
    m = segment_based([("f", 0.0, 0.4, "a"), ("g", 0.0, 0.25, "a")], [], time_resolution=0.5)
    assert (m["n_segments"], m["n_files"]) == (2, 2)
    for res in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="^time_resolution must be > 0 seconds$"):
            segment_based([("f", 0.0, 1.0, "a")], [], time_resolution=res)


def test_class_wise_entries_in_full_and_event_checks():
    ref = [("f.wav", 0.0, 2.5, "a"), ("f.wav", 1.5, 3.0, "b"), ("f.wav", 3.0, 3.5, "c")]
    est = [("f.wav", 0.5, 1.2, "a"), ("f.wav", 2.2, 4.0, "b")]
    m = segment_based(ref, est)
    # 1-s segments: a ref {0,1,2} est {0,1}; b ref {1,2} est {2,3}; c ref {3} est {}
    assert m["per_class"]["b"] == {"f1": 0.5, "precision": 0.5, "recall": 0.5, "error_rate": 1.0,
                                   "deletion_rate": 0.5, "insertion_rate": 0.5, "n_ref": 2, "n_sys": 2,
                                   "tp": 1, "fp": 1, "fn": 1}
    assert (m["per_class"]["a"]["deletion_rate"], m["per_class"]["a"]["insertion_rate"]) == (approx(1 / 3), 0.0)
    assert m["precision_class_mean"] == approx((1.0 + 0.5) / 2)          # c: never estimated, left out
    assert m["recall_class_mean"] == approx((2 / 3 + 0.5 + 0.0) / 3)
    assert m["deletion_rate_class_mean"] == approx((1 / 3 + 0.5 + 1.0) / 3)
    assert m["insertion_rate_class_mean"] == approx((0.0 + 0.5 + 0.0) / 3)
    # no reference but insertions: every overall rate is undefined (sed_eval divides by eps)
    for m in (segment_based([], est), event_based([], est)):
        assert (m["error_rate"], m["insertion_rate"], m["deletion_rate"], m["precision"]) == (None, None, 0.0, 0.0)
    # events: 4-tuples with 0 <= onset <= offset, finite; zero-length events are allowed
    assert segment_based([("f", 1.0, 1.0, "a")], [])["n_ref"] == 0
    assert event_based([("f", 1.0, 1.0, "a")], [("f", 1.1, 1.1, "a")])["tp"] == 1
    nan, inf = float("nan"), float("inf")
    for bad in [("f", nan, 1.0, "a"), ("f", 0.0, nan, "a"), ("f", 0.0, inf, "a"), ("f", -0.5, 1.0, "a"),
                ("f", 2.0, 1.0, "a")]:
        with pytest.raises(ValueError, match=r"^reference: bad event times .* \(need 0 <= onset <= offset\)$"):
            segment_based([bad], [])
        with pytest.raises(ValueError, match="^estimated: bad event times"):
            event_based([], [bad])
    with pytest.raises(ValueError, match=r"^estimated: events are \(filename, onset, offset, label\) tuples, got"):
        segment_based([], [("f", 0.0, 1.0)])

# ------------------------------------------------------------------------------------------ tune_thresholds
def _f1(y, s, th):
    """F1 of the decisions score >= th, by scikit-learn."""
    from sklearn.metrics import f1_score
    return f1_score(y, (np.asarray(s) >= th).astype(int), zero_division=0.0)


def test_tune_thresholds_denominator_classes_and_grid_edges():
    # scores .9+ .8- .7- .6- .5+, 2 positives; F1 = 2TP / (P + predicted) at the cuts:
    #   .9: 2/3   .8: 2/4   .7: 2/5   .6: 2/6   .5: 4/7  -> best .9, threshold halfway to .8 = 0.85
    y = np.array([1, 0, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert [_f1(y, s, c) for c in s] == approx([2 / 3, 2 / 4, 2 / 5, 2 / 6, 4 / 7])
    assert tune_thresholds(y[:, None], s[:, None]) == approx([0.85])
    # a class without positives first does not stop the classes after it (exact search and grid)
    y2 = np.stack([np.zeros(5, int), y], 1)
    s2 = np.stack([s[::-1], s], 1)
    assert tune_thresholds(y2, s2) == approx([0.5, 0.85])
    assert tune_thresholds(y2, s2, grid=[0.55, 0.85, 0.95]) == approx([0.5, 0.85])  # .85: 2/3, .55: 2/6, .95: 0
    # on a grid every class is tuned, and a score equal to a grid value is predicted (>=):
    # y 1 0, s .6 .3, grid .3 .6: at .3 both clips predicted -> F1 2/3; at .6 only the positive -> 1
    yy = np.array([[1, 1], [0, 0]])
    ss = np.array([[0.6, 0.6], [0.3, 0.3]])
    assert _f1(yy[:, 0], ss[:, 0], 0.6) == 1.0 and _f1(yy[:, 0], ss[:, 0], 0.3) == approx(2 / 3)
    assert tune_thresholds(yy, ss, grid=[0.3, 0.6]) == approx([0.6, 0.6])
    # a grid of one value, as a list or a scalar, is that value; an empty grid is refused
    assert tune_thresholds(yy, ss, grid=[0.4]) == approx([0.4, 0.4])
    assert tune_thresholds(yy, ss, grid=0.4) == approx([0.4, 0.4])
    with pytest.raises(ValueError, match="^empty threshold grid$"):
        tune_thresholds(yy, ss, grid=[])


def test_tune_thresholds_keep_their_decisions_in_float32():
    # positive at hi, negative at lo: the best cut is hi, the threshold the middle of (lo, hi]
    lo, hi = float(np.float32(0.7)), float(np.nextafter(np.float32(0.7), np.float32(1)))   # adjacent float32s
    mid = 0.5 * (lo + hi)
    assert np.float32(mid) == np.float32(hi)             # the halfway point rounds up to hi (ties to even)
    t = tune_thresholds([[1], [0]], [[hi], [lo]])
    assert t[0] == mid                                    # the documented middle, still right as float32
    # here the middle rounds down onto lo in float32 and would tag the negative clip: hi itself is returned
    lo, hi = 0.5, float(np.nextafter(np.float32(0.5), np.float32(1)))
    assert np.float32(0.5 * (lo + hi)) == np.float32(lo)
    t = tune_thresholds([[1], [0]], [[hi], [lo]])
    assert t[0] == hi
    assert (np.float32([hi, lo]) >= np.float32(t[0])).tolist() == [True, False]


# ------------------------------------------------------------------------------------- per_class_by_duration
def test_duration_bins_in_full_and_their_edges():
    r = per_class_by_duration({"click": 0.4, "hum": 0.8}, {"click": [0.0, 0.0, 0.0], "hum": [4.0]}, bins=(0, 2, 5))
    # zero-length events (median 0.0) sit on the lowest edge, which belongs to bin 0
    assert r["classes"]["click"] == {"median_duration_s": 0.0, "n_events": 3, "bin": 0, "AP": 0.4}
    assert r["bins"] == [
        {"low_s": 0.0, "high_s": 2.0, "label": "0-2 s", "classes": ["click"], "n_classes": 1, "mean_AP": 0.4},
        {"low_s": 2.0, "high_s": 5.0, "label": "2-5 s", "classes": ["hum"], "n_classes": 1, "mean_AP": 0.8}]
    for bad in [(0, 1, 1), (3,), ()]:                     # repeated edge, one edge, none
        with pytest.raises(ValueError, match="^bins must be at least two increasing edges$"):
            per_class_by_duration({}, {}, bins=bad)



# ------------------------------------------------------------------------------------------------ event based
def _check_against_sed_eval(m, ref, est, **options):
    se = _sed_eval(ref, est, **options)
    er, f = se["error_rate"], se["f_measure"]
    assert (m["error_rate"], m["substitution_rate"], m["deletion_rate"], m["insertion_rate"]) == approx(
        (er["error_rate"], er["substitution_rate"], er["deletion_rate"], er["insertion_rate"]))
    assert (m["f1"], m["precision"], m["recall"]) == approx((f["f_measure"], f["precision"], f["recall"]))


def test_event_defaults_exact_tolerances_and_one_substitution_per_estimate():
    # default offset tolerance max(0.2 s, 0.5 * length): a 1-s reference accepts offsets within 0.5 s, not 0.6 s
    ref = [("f", 0.0, 1.0, "a"), ("g", 0.0, 1.0, "a")]
    est = [("f", 0.0, 1.5, "a"), ("g", 0.0, 1.6, "a")]
    m = event_based(ref, est)
    assert (m["tp"], m["fn"], m["fp"]) == (1, 1, 1)
    _check_against_sed_eval(m, ref, est, t_collar=0.2, percentage_of_length=0.5)
    # limits are inclusive: onsets exactly 0.25 s apart with a 0.25-s collar match (binary-exact numbers)
    ref, est = [("f", 1.0, 2.0, "a")], [("f", 1.25, 2.0, "a")]
    m = event_based(ref, est, t_collar=0.25)
    assert m["tp"] == 1 and m["f1"] == 1.0
    _check_against_sed_eval(m, ref, est, t_collar=0.25, percentage_of_length=0.5)
    # an offset exactly 0.5 * length away (1-s event, offset 2.5 for 2.0) matches
    ref, est = [("f", 1.0, 2.0, "a")], [("f", 1.0, 2.5, "a")]
    m = event_based(ref, est)
    assert m["tp"] == 1
    _check_against_sed_eval(m, ref, est, t_collar=0.2, percentage_of_length=0.5)
    # two unmatched references (labels a, b) and one estimate (label c) meeting both references' times:
    # the estimate substitutes one reference only -> S 1, D 1, I 0, ER (1 + 1) / 2
    ref = [("f", 1.0, 2.0, "a"), ("f", 1.05, 2.0, "b")]
    est = [("f", 1.0, 2.0, "c")]
    m = event_based(ref, est)
    assert (m["substitutions"], m["deletions"], m["insertions"], m["error_rate"]) == (1, 1, 0, 1.0)
    _check_against_sed_eval(m, ref, est, t_collar=0.2, percentage_of_length=0.5)


def test_event_based_zero_score_for_an_empty_output_and_option_errors():
    ref = [("f", 1.0, 2.0, "a")]
    m = event_based(ref, [], zero_score_empty=True)
    assert (m["precision"], m["f1"], m["per_class"]["a"]["precision"], m["per_class"]["a"]["f1"]) == (0, 0, 0, 0)
    assert event_based(ref, [])["precision"] is None
    with pytest.raises(ValueError, match="^evaluate_onset and evaluate_offset cannot both be False$"):
        event_based(ref, ref, evaluate_onset=False, evaluate_offset=False)
    m = event_based(ref, ref, t_collar=0.3, percentage_of_length=0.1, evaluate_onset=False)
    assert {k: m[k] for k in ("t_collar", "percentage_of_length", "evaluate_onset", "evaluate_offset", "n_files",
                              "labels")} == {"t_collar": 0.3, "percentage_of_length": 0.1, "evaluate_onset": False,
                                             "evaluate_offset": True, "n_files": 1, "labels": ["a"]}
    assert (event_based(ref, ref)["evaluate_onset"], event_based(ref, ref, evaluate_offset=False)["evaluate_offset"]) \
        == (True, False)



def test_max_matching_marks_unmatched_references_with_minus_one():
    hit = np.array([[True, False], [True, False], [False, False]])    # refs 0 and 1 want est 0; ref 2 none
    assert _max_matching(hit).tolist() == [0, -1, -1]
    assert _max_matching(np.zeros((2, 0), bool)).tolist() == [-1, -1]



def test_tagging_input_errors_say_what_is_wrong():
    y, s = np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="^1 class names for 2 columns$"):
        tagging_metrics(y, s, classes=["a"])
    with pytest.raises(ValueError, match=r"^y_true \(2, 2\) and y_score \(2, 1\) must both be N x C$"):
        tagging_metrics(y, s[:, :1])
    with pytest.raises(ValueError, match="^y_score holds NaN or infinite values$"):
        tagging_metrics(y, np.array([[0.9, np.nan], [0.2, 0.8]]))
    # one-dimensional inputs are one class
    assert tagging_metrics([1, 0, 1], [0.8, 0.3, 0.6])["per_class"]["0"]["F1"] == 1.0


def test_tagging_with_one_positive_one_negative_or_nothing_predicted():
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
    s = np.array([[0.2, 0.8, 0.1, 0.1], [0.9, 0.3, 0.2, 0.2], [0.1, 0.5, 0.3, 0.3]])
    pc = tagging_metrics(y, s, classes="abcd")["per_class"]
    # a: one positive, ranked 2nd -> AP 1/2; AUC: (.2 vs .9) wrong, (.2 vs .1) right -> 1/2
    assert (pc["a"]["AP"], pc["a"]["AUC"]) == (approx(0.5), approx(0.5))
    # b: one negative (.5) between the positives .8 and .3 -> AP (1 + 2/3) / 2, AUC 1/2
    assert (pc["b"]["AP"], pc["b"]["AUC"]) == (approx(5 / 6), approx(0.5))
    for k, name in ((0, "a"), (1, "b")):
        assert (pc[name]["AP"], pc[name]["AUC"]) == (approx(average_precision_score(y[:, k], s[:, k])),
                                                     approx(roc_auc_score(y[:, k], s[:, k])))
    # c: a positive clip but nothing predicted -> P 0 (not undefined), R 0, F1 0
    assert (pc["c"]["P"], pc["c"]["R"], pc["c"]["F1"]) == (0.0, 0.0, 0.0)
    # d: no positive and nothing predicted -> P, R, F1 undefined
    assert (pc["d"]["P"], pc["d"]["R"], pc["d"]["F1"], pc["d"]["AP"]) == (None, None, None, None)
    # class means over the classes with at least one positive clip (a, b, c; c's AP: .2 ranked 2nd -> 1/2)
    m = tagging_metrics(y, s)
    assert (m["n_classes_evaluated"], m["mAP"]) == (3, approx((0.5 + 5 / 6 + 0.5) / 3))


def test_micro_precision_when_nothing_is_predicted():
    # no score reaches 0.5: TP = FP = 0. With 2 positive (clip, class) pairs P_micro is 0 (like a
    # class's P), R_micro 0/2 = 0, F1_micro 0/2 = 0; without any positive it is undefined
    m = tagging_metrics([[1, 0], [0, 1]], [[0.4, 0.1], [0.2, 0.3]])
    assert (m["P_micro"], m["R_micro"], m["F1_micro"]) == (0.0, 0.0, 0.0)
    m = tagging_metrics([[0, 0], [0, 0]], [[0.4, 0.1], [0.2, 0.3]])
    assert (m["P_micro"], m["R_micro"], m["F1_micro"]) == (None, None, None)
    # as many false as true positives (1 and 1, no miss): P 1/2, R 1, F1 2 / (2 + 1)
    m = tagging_metrics([[1, 0], [0, 0]], [[0.9, 0.8], [0.1, 0.1]])
    assert (m["P_micro"], m["R_micro"], m["F1_micro"]) == (0.5, 1.0, approx(2 / 3))
    assert (m["n_clips"], m["n_classes_evaluated"]) == (2, 1)
