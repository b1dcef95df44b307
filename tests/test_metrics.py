"""Metrics: hand-computed examples, edge cases and fixtures checked against sed_eval 0.2.1."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics import (_max_matching, event_based, per_class_by_duration, segment_based, tagging_metrics,
                            tune_thresholds)

approx = pytest.approx


# ------------------------------------------------------------------------------------------------ tagging
Y_TRUE = np.array([[1, 0, 0],
                   [0, 1, 0],
                   [1, 1, 0],
                   [0, 0, 0]])
Y_SCORE = np.array([[0.9, 0.2, 0.6],
                    [0.6, 0.7, 0.1],
                    [0.4, 0.8, 0.2],
                    [0.1, 0.3, 0.3]])


def test_tagging_hand_computed():
    m = tagging_metrics(Y_TRUE, Y_SCORE, classes=["dog", "car", "cat"])
    pc = m["per_class"]
    # dog: scores .9+ .6- .4+ .1-; predicted (>= .5) clips 0, 1 -> TP 1, FP 1, FN 1: P = R = F1 = 1/2.
    # AP: precision at the positives in rank order: 1/1 at .9, 2/3 at .4 -> (1 + 2/3) / 2 = 5/6.
    # AUC: positive-negative pairs (.9,.6) (.9,.1) (.4,.6) (.4,.1): 3 of 4 ranked right = 0.75.
    assert pc["dog"] == {"AP": approx(5 / 6), "AUC": approx(0.75), "F1": approx(0.5), "P": approx(0.5),
                         "R": approx(0.5), "support": 2, "threshold": 0.5}
    # car: positives .7 and .8 above every negative: AP = AUC = 1; predicted clips 1, 2 -> F1 = 1.
    assert (pc["car"]["AP"], pc["car"]["AUC"], pc["car"]["F1"]) == (approx(1.0), approx(1.0), approx(1.0))
    # cat: no positive clip -> AP, AUC, recall undefined; one false positive (.6) -> P = 0, F1 = 0/(0+1+0) = 0.
    assert pc["cat"] == {"AP": None, "AUC": None, "F1": 0.0, "P": 0.0, "R": None, "support": 0, "threshold": 0.5}
    # class means over dog and car only (cat has no positive)
    assert m["mAP"] == approx((5 / 6 + 1) / 2)
    assert m["AUC"] == approx((0.75 + 1) / 2)
    assert m["F1_class_mean"] == approx(0.75)
    assert m["P_class_mean"] == approx(0.75) and m["R_class_mean"] == approx(0.75)
    assert m["n_classes_evaluated"] == 2
    # micro over all 12 (clip, class) pairs: TP 1+2+0 = 3, FP 1+0+1 = 2, FN 1+0+0 = 1
    assert m["P_micro"] == approx(3 / 5)
    assert m["R_micro"] == approx(3 / 4)
    assert m["F1_micro"] == approx(6 / 9)       # 2TP / (2TP + FP + FN)
    # a score equal to the threshold is a prediction (the rule of Analysis.tags: p >= t)
    assert tagging_metrics([[1], [0]], [[0.5], [0.2]])["per_class"]["0"]["F1"] == 1.0


def test_tagging_matches_sklearn_and_thresholds_apply():
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random((60, 5)) < 0.3).astype(int)
    y[0, :] = 1
    y[1, :] = 0
    s = np.clip(0.35 * y + 0.65 * rng.random((60, 5)), 0, 1)
    thr = np.array([0.2, 0.4, 0.5, 0.6, 0.8])
    m = tagging_metrics(y, s, thresholds=thr)
    assert m["mAP"] == approx(average_precision_score(y, s, average="macro"))
    assert m["AUC"] == approx(roc_auc_score(y, s, average="macro"))
    pred = (s >= thr).astype(int)
    assert m["F1_class_mean"] == approx(f1_score(y, pred, average="macro"))
    assert m["F1_micro"] == approx(f1_score(y, pred, average="micro"))
    assert list(m["per_class"]) == ["0", "1", "2", "3", "4"]
    assert m["per_class"]["3"]["threshold"] == 0.6


def test_tagging_degenerate_classes_do_not_crash():
    y = np.array([[1, 0], [1, 0], [1, 0]])     # class a: only positives; class b: only negatives
    s = np.array([[0.9, 0.1], [0.2, 0.7], [0.6, 0.2]])
    m = tagging_metrics(y, s, classes=["a", "b"])
    assert m["per_class"]["a"]["AP"] == approx(1.0)   # AP is defined without negatives
    assert m["per_class"]["a"]["AUC"] is None          # AUC is not
    assert m["per_class"]["b"]["AP"] is None and m["per_class"]["b"]["AUC"] is None
    assert m["mAP"] == approx(1.0) and m["AUC"] is None
    # nothing at all: no clip
    e = tagging_metrics(np.zeros((0, 2)), np.zeros((0, 2)))
    assert e["mAP"] is None and e["F1_micro"] is None and e["n_classes_evaluated"] == 0
    with pytest.raises(ValueError):
        tagging_metrics(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError):
        tagging_metrics(np.zeros((1, 1)), np.array([[np.nan]]))


def test_tune_thresholds_hand_computed():
    t = tune_thresholds(Y_TRUE, Y_SCORE)
    # dog: cuts (score >= s) at .9: TP1 of 1 predicted -> F1 2/3; .6: 2/4; .4: TP2 of 3 -> 4/5 (best); .1: 4/6.
    #      middle of (.1, .4] -> 0.25.  car: best cut .7 (F1 1) -> middle of (.3, .7] = 0.5.  cat: no positive -> 0.5.
    assert t == approx([0.25, 0.5, 0.5])
    # tie: scores .9+ .8- .7- .6+ -> cut .9: F1 2/(2+1) = 2/3, cut .6: 4/(2+4) = 2/3; the lowest tied cut
    # (.6, also the lowest score) is kept.
    y = np.array([[1], [0], [0], [1]])
    s = np.array([[0.9], [0.8], [0.7], [0.6]])
    assert tune_thresholds(y, s) == approx([0.6])
    # grid: .3 -> all predicted, F1 2/3; .65 -> TP1 of 3 -> 2/5; .95 -> none, 0. Best .3.
    assert tune_thresholds(y, s, grid=[0.95, 0.3, 0.65]) == approx([0.3])
    # ties on a grid -> the lowest grid value: .8 and .85 both predict only the .9 clip (F1 1), .3 all (1/2)
    assert tune_thresholds(np.array([[1], [0], [0]]), np.array([[0.9], [0.5], [0.4]]), grid=[0.85, 0.8, 0.3]) \
        == approx([0.8])


def test_tune_thresholds_reach_the_best_f1():
    rng = np.random.default_rng(1)
    y = (rng.random((80, 4)) < 0.4).astype(int)
    s = np.round(np.clip(0.3 * y + 0.7 * rng.random((80, 4)), 0, 1), 2).astype(np.float32)   # with ties
    t = tune_thresholds(y, s)
    for k in range(4):
        def f1(th):
            p = s[:, k] >= th
            tp = int((p & (y[:, k] == 1)).sum())
            return 2 * tp / (y[:, k].sum() + p.sum())
        best = max(f1(v) for v in np.unique(s[:, k]) if beyond_chance(y[:, k], s[:, k] >= v))
        assert f1(t[k]) == approx(best)
        assert f1(np.float32(t[k])) == approx(best)    # still right once stored as float32
    m = tagging_metrics(y, s, thresholds=t)
    assert m["F1_class_mean"] >= tagging_metrics(y, s)["F1_class_mean"]


def beyond_chance(y, tagged, alpha=0.05) -> bool:
    """Fisher's exact test (one-sided, scipy's own) of a cut's 2 x 2 table: more positives tagged than chance."""
    from scipy.stats import fisher_exact

    y, tagged = np.asarray(y).astype(bool), np.asarray(tagged).astype(bool)
    table = [[int((tagged & y).sum()), int((tagged & ~y).sum())], [int((~tagged & y).sum()), int((~tagged & ~y).sum())]]
    return fisher_exact(table, alternative="greater")[1] < alpha


def test_tune_thresholds_never_tag_every_clip_for_a_class_the_model_does_not_detect():
    # 20 clips, 10 positive: 5 positives on top, then the 10 negatives, then the other 5 positives.
    # F1 = 2TP / (10 + tagged): the top 5 give 10/15, every clip 20/30 -- a tie that plain F1 breaks
    # towards tagging everything (the lower cut). Tagging all is no better than chance; the top 5 are
    # (Fisher p = C(10,5)/C(20,5) = 0.016), so the guard keeps them: the middle of (.70, .75].
    y = np.r_[np.ones(5), np.zeros(10), np.ones(5)].astype(int)
    s = np.round(np.linspace(0.95, 0.0, 20), 2)
    assert s[4] == 0.75 and s[5] == 0.70
    assert tune_thresholds(y[:, None], s[:, None], alpha=None) == approx([0.0])     # plain F1: tag all
    assert tune_thresholds(y[:, None], s[:, None]) == approx([0.725])
    assert beyond_chance(y, s >= 0.725) and not beyond_chance(y, s >= 0.0)
    # 40 clips, 4 positives, ranked last: plain F1 tags every clip (8/44 beats any other cut); no cut
    # is better than chance though a perfect ranking would have been (p = 1/C(40,4)): 0.5, exact and grid
    y = np.r_[np.zeros(36), np.ones(4)].astype(int)
    s = np.linspace(0.9, 0.1, 40)
    assert tune_thresholds(y[:, None], s[:, None], alpha=None) == approx([0.1])
    assert not any(beyond_chance(y, s >= v) for v in s)
    assert tune_thresholds(y[:, None], s[:, None]) == approx([0.5])
    assert tune_thresholds(y[:, None], s[:, None], grid=[0.05, 0.3, 0.6]) == approx([0.5])
    assert tune_thresholds(y[:, None], s[:, None], grid=[0.05, 0.3, 0.6], alpha=None) == approx([0.05])
    # 5 clips, 2 positives: even a perfect ranking has p = 1/C(5,2) = 0.1, so the plain optimum stays
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert tune_thresholds(y[:, None], s[:, None]) == approx(tune_thresholds(y[:, None], s[:, None], alpha=None))


# ------------------------------------------------------------------------------------------- segment based
SEG_REF = [("f.wav", 0.0, 2.5, "a"), ("f.wav", 1.5, 3.0, "b"), ("f.wav", 3.0, 3.5, "c")]
SEG_EST = [("f.wav", 0.5, 1.2, "a"), ("f.wav", 2.2, 4.0, "b")]


def test_segment_based_hand_computed():
    m = segment_based(SEG_REF, SEG_EST, time_resolution=1.0)
    # grid: max offset 4.0 -> 4 segments. Segments floor(onset) .. ceil(offset) - 1:
    #   ref a 0-2, ref b 1-2, ref c 3;  est a 0-1, est b 2-3
    # seg 0: R{a} E{a}     TP1 Nref1 Nsys1 -> S0 D0 I0
    # seg 1: R{a,b} E{a}   TP1 Nref2 Nsys1 -> S = min(2,1) - 1 = 0, D1
    # seg 2: R{a,b} E{b}   TP1 Nref2 Nsys1 -> S0 D1
    # seg 3: R{c} E{b}     TP0 Nref1 Nsys1 -> S = 1 - 0 = 1
    # TP 3, Nref 6, Nsys 4, S 1, D 2, I 0 -> ER 3/6, P 3/4, R 3/6, F1 2*.75*.5/1.25 = 0.6
    assert (m["tp"], m["n_ref"], m["n_sys"]) == (3, 6, 4)
    assert (m["substitutions"], m["deletions"], m["insertions"]) == (1, 2, 0)
    assert m["error_rate"] == approx(0.5)
    assert m["substitution_rate"] == approx(1 / 6) and m["deletion_rate"] == approx(2 / 6)
    assert m["insertion_rate"] == 0.0
    assert (m["precision"], m["recall"], m["f1"]) == (approx(0.75), approx(0.5), approx(0.6))
    pc = m["per_class"]
    # a: ref {0,1,2} est {0,1}: TP2 FN1 FP0 -> P1 R2/3 F1 0.8, ER (1+0)/3
    assert (pc["a"]["f1"], pc["a"]["error_rate"]) == (approx(0.8), approx(1 / 3))
    # b: ref {1,2} est {2,3}: TP1 FN1 FP1 -> F1 0.5, ER 2/2
    assert (pc["b"]["f1"], pc["b"]["error_rate"], pc["b"]["n_ref"], pc["b"]["n_sys"]) == (0.5, 1.0, 2, 2)
    # c: never estimated -> precision undefined (sed_eval NaN), so F1 undefined; ER 1/1
    assert pc["c"]["precision"] is None and pc["c"]["f1"] is None and pc["c"]["recall"] == 0.0
    assert pc["c"]["error_rate"] == 1.0
    assert m["f1_class_mean"] == approx((0.8 + 0.5) / 2)           # c left out, like sed_eval's nanmean
    assert m["error_rate_class_mean"] == approx((1 / 3 + 1 + 1) / 3)
    z = segment_based(SEG_REF, SEG_EST, zero_score_empty=True)      # sed_eval's 'zero_score' handling
    assert z["per_class"]["c"]["f1"] == 0.0 and z["f1_class_mean"] == approx((0.8 + 0.5 + 0) / 3)


def test_segment_based_resolution_and_boundaries():
    # 0.5 s segments: ref 0.2-0.9 -> segments floor(0.4)=0 .. ceil(1.8)-1 = 1; est 1.0-1.4 -> 2 .. 2
    m = segment_based([("f", 0.2, 0.9, "a")], [("f", 1.0, 1.4, "a")], time_resolution=0.5)
    assert m["n_segments"] == 3                                       # ceil(1.4 / 0.5)
    assert (m["tp"], m["deletions"], m["insertions"]) == (0, 2, 1)
    assert m["error_rate"] == approx(3 / 2)
    # an event ending exactly on a boundary does not reach the next segment
    m = segment_based([("f", 0.0, 2.0, "a")], [("f", 2.0, 3.0, "a")])
    assert (m["tp"], m["n_ref"], m["n_sys"]) == (0, 2, 1)


def test_segment_based_edge_cases():
    ref = [("f", 0.0, 2.0, "a"), ("g", 1.0, 3.0, "b")]
    same = segment_based(ref, list(ref))
    assert same["error_rate"] == 0.0 and same["f1"] == 1.0 and same["f1_class_mean"] == 1.0
    # empty estimate: every reference segment is a deletion
    empty = segment_based(ref, [])
    assert empty["error_rate"] == 1.0 and empty["deletion_rate"] == 1.0
    assert empty["precision"] is None and empty["f1"] is None and empty["recall"] == 0.0
    assert segment_based(ref, [], zero_score_empty=True)["f1"] == 0.0
    # file g only in the reference: its 2 segments are deletions; file h only in the estimate: insertions
    m = segment_based(ref, [("f", 0.0, 2.0, "a"), ("h", 0.0, 1.0, "a")])
    assert (m["tp"], m["deletions"], m["insertions"], m["n_files"]) == (2, 2, 1, 3)
    assert m["error_rate"] == approx(3 / 4)
    # explicit labels: a class seen nowhere has no counts, ER 0 (as sed_eval) and undefined F1
    m = segment_based(ref, list(ref), labels=["a", "b", "z"])
    assert m["per_class"]["z"]["n_ref"] == 0 and m["per_class"]["z"]["f1"] is None
    assert m["per_class"]["z"]["error_rate"] == 0.0
    # a class with estimates but no reference: its error rate is undefined (sed_eval would divide by eps)
    m = segment_based(ref, ref + [("f", 0.0, 1.0, "x")])
    assert m["per_class"]["x"]["error_rate"] is None and m["per_class"]["x"]["precision"] == 0.0
    # nothing at all
    n = segment_based([], [])
    assert n["error_rate"] == 0.0 and n["f1"] is None and n["per_class"] == {}
    with pytest.raises(ValueError):
        segment_based([("f", 2.0, 1.0, "a")], [])
    with pytest.raises(ValueError):
        segment_based(ref, ref, time_resolution=0)


# --------------------------------------------------------------------------------------------- event based
EV_REF = [("f", 1.0, 2.0, "a"), ("f", 3.0, 6.0, "b"), ("f", 7.0, 7.5, "c")]
EV_EST = [("f", 1.15, 2.3, "a"), ("f", 3.1, 4.6, "b"), ("f", 7.1, 7.6, "a"), ("f", 9.0, 9.5, "c")]


def test_event_based_hand_computed():
    m = event_based(EV_REF, EV_EST)
    # a 1.0-2.0 vs 1.15-2.3: onset |.15| <= .2, offset |.3| <= max(.2, .5 * 1.0) -> TP
    # b 3.0-6.0 vs 3.1-4.6: onset .1, offset 1.4 <= max(.2, .5 * 3.0) = 1.5 -> TP
    # c 7.0-7.5 vs a 7.1-7.6: times agree (.1, .1 <= .25), label differs -> substitution
    # c 9.0-9.5: nothing left to pair -> insertion
    # TP 2, S 1, FN = 3-2-1 = 0, FP = 4-2-1 = 1 -> ER (1+0+1)/3; P 2/4, R 2/3, F1 = 2*(1/2)(2/3)/(7/6) = 4/7
    assert (m["tp"], m["substitutions"], m["fn"], m["fp"]) == (2, 1, 0, 1)
    assert m["error_rate"] == approx(2 / 3)
    assert (m["precision"], m["recall"], m["f1"]) == (approx(0.5), approx(2 / 3), approx(4 / 7))
    pc = m["per_class"]
    # a: Nref 1 Nsys 2 TP 1 -> P .5 R 1 F1 2/3, ER (0+1)/1; b perfect; c: Nref 1 Nsys 1 TP 0 -> F1 0, ER 2
    assert (pc["a"]["f1"], pc["a"]["error_rate"]) == (approx(2 / 3), 1.0)
    assert (pc["b"]["f1"], pc["b"]["error_rate"]) == (1.0, 0.0)
    assert (pc["c"]["f1"], pc["c"]["error_rate"]) == (0.0, 2.0)
    assert m["f1_class_mean"] == approx((2 / 3 + 1 + 0) / 3)
    # 20 % of the length: a's offset tolerance max(.2, .2) < .3 and b's max(.2, .6) < 1.4 -> neither matches,
    # and failing the time conditions they cannot be substitutions either; c / a 7.1 still is one.
    # TP 0, S 1, FN 3-0-1 = 2, FP 4-0-1 = 3 -> ER (1+2+3)/3 = 2
    m2 = event_based(EV_REF, EV_EST, percentage_of_length=0.2)
    assert (m2["tp"], m2["substitutions"], m2["fn"], m2["fp"]) == (0, 1, 2, 3)
    assert m2["error_rate"] == approx(2.0) and m2["f1"] == 0.0
    # onset only: a and b match again
    m3 = event_based(EV_REF, EV_EST, percentage_of_length=0.2, evaluate_offset=False)
    assert (m3["tp"], m3["substitutions"]) == (2, 1)
    with pytest.raises(ValueError):
        event_based(EV_REF, EV_EST, evaluate_onset=False, evaluate_offset=False)


def test_event_based_optimal_matching():
    # est 1.1-2.1 fits both references; est 0.85-1.85 fits only the first (onset .3 away from the second).
    # Greedy matching in reference order pairs ref 1.0 with est 1.1 and leaves one of each unmatched (TP 1);
    # sed_eval's default 'optimal' matching (maximum bipartite) finds TP 2.
    ref = [("f", 1.0, 2.0, "a"), ("f", 1.15, 2.15, "a")]
    est = [("f", 1.1, 2.1, "a"), ("f", 0.85, 1.85, "a")]
    m = event_based(ref, est)
    assert m["tp"] == 2 and m["error_rate"] == 0.0 and m["f1"] == 1.0


def test_max_matching_is_maximum():
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    rng = np.random.default_rng(3)
    for _ in range(200):
        hit = rng.random((rng.integers(1, 9), rng.integers(1, 9))) < rng.uniform(0.1, 0.6)
        m = _max_matching(hit)
        got = np.flatnonzero(m >= 0)
        assert all(hit[j, m[j]] for j in got) and len(set(m[got])) == len(got)     # a valid matching...
        best = (maximum_bipartite_matching(csr_matrix(hit.astype(np.int8)), perm_type="column") >= 0).sum()
        assert len(got) == best                                                    # ...of maximum size


def test_event_based_edge_cases():
    ref = [("f", 0.0, 2.0, "a"), ("g", 1.0, 3.0, "b"), ("g", 4.0, 4.5, "a")]
    same = event_based(ref, list(ref))
    assert same["error_rate"] == 0.0 and same["f1"] == 1.0 and same["f1_class_mean"] == 1.0
    empty = event_based(ref, [])
    assert empty["error_rate"] == 1.0 and empty["f1"] is None and empty["recall"] == 0.0
    # g only in the reference (2 deletions), h only in the estimate (1 insertion)
    m = event_based(ref, [("f", 0.1, 2.1, "a"), ("h", 0.0, 1.0, "b")])
    assert (m["tp"], m["fn"], m["fp"], m["substitutions"]) == (1, 2, 1, 0)
    assert m["error_rate"] == approx(1.0)
    # the same times in another file never match
    m = event_based([("f", 0.0, 1.0, "a")], [("g", 0.0, 1.0, "a")])
    assert m["tp"] == 0 and m["error_rate"] == 2.0


# -------------------------------------------------------------------------------- against sed_eval 0.2.1
# The expected numbers below were computed with the real sed_eval 0.2.1 (dcase_util 0.2.20) in a
# throwaway virtual environment, calling SegmentBasedMetrics / EventBasedMetrics(event_label_list=LABELS,
# default event_matching_type='optimal').evaluate(ref, est) once per file, over every file of the
# reference and the estimate (sed_eval's NaN is None here).
LABELS = ["car", "cat", "dog", "speech"]
REF1 = [
    ("a.wav", 0.0, 2.5, "car"), ("a.wav", 1.2, 3.0, "speech"), ("a.wav", 6.3, 9.1, "car"),
    ("b.wav", 0.5, 1.5, "dog"), ("b.wav", 4.0, 4.2, "dog"), ("b.wav", 2.0, 7.7, "speech"),
    ("c.wav", 3.3, 5.0, "car"),
    ("r_only.wav", 1.0, 2.0, "dog"),
]
EST1 = [
    ("a.wav", 0.1, 2.1, "car"), ("a.wav", 1.0, 2.0, "dog"), ("a.wav", 6.0, 10.0, "car"),
    ("a.wav", 8.2, 8.9, "speech"),
    ("b.wav", 0.4, 1.9, "dog"), ("b.wav", 2.6, 6.1, "speech"), ("b.wav", 6.5, 7.0, "car"),
    ("c.wav", 3.0, 3.4, "car"), ("c.wav", 4.1, 4.6, "car"),
    ("e_only.wav", 0.0, 1.0, "speech"),
]
REF2 = [
    ("x.wav", 0.50, 2.50, "dog"), ("x.wav", 0.60, 1.00, "dog"), ("x.wav", 3.00, 7.00, "speech"),
    ("x.wav", 8.00, 8.30, "car"), ("x.wav", 9.00, 9.50, "cat"),
    ("y.wav", 1.00, 2.00, "car"), ("y.wav", 4.00, 4.50, "speech"), ("y.wav", 6.00, 9.00, "dog"),
    ("z.wav", 2.00, 3.00, "cat"),
]
EST2 = [
    ("x.wav", 0.65, 1.10, "dog"), ("x.wav", 0.55, 3.20, "dog"), ("x.wav", 3.15, 5.40, "speech"),
    ("x.wav", 8.10, 8.45, "dog"), ("x.wav", 9.10, 9.40, "cat"),
    ("y.wav", 1.25, 2.00, "car"), ("y.wav", 4.05, 4.60, "car"), ("y.wav", 6.10, 8.00, "dog"),
    ("y.wav", 6.00, 8.90, "dog"),
    ("w.wav", 1.00, 2.00, "speech"),
]
KEYS = ("error_rate", "substitution_rate", "deletion_rate", "insertion_rate", "f1", "precision", "recall",
        "f1_class_mean", "error_rate_class_mean")


def _check(m, overall, per_class):
    for k, v in zip(KEYS, overall):
        assert m[k] == approx(v, rel=1e-9, abs=1e-12), k
    for label, (f1, p, r, er, nref, nsys) in per_class.items():
        pc = m["per_class"][label]
        for k, v in (("f1", f1), ("precision", p), ("recall", r), ("error_rate", er)):
            assert (pc[k] is None) if v is None else (pc[k] == approx(v, rel=1e-9, abs=1e-12)), (label, k)
        assert (pc["n_ref"], pc["n_sys"]) == (nref, nsys), label


def test_sed_eval_fixture_1_segment():
    m = segment_based(REF1, EST1, time_resolution=1.0, labels=LABELS)
    _check(m, (0.38095238095238093, 0.047619047619047616, 0.19047619047619047, 0.14285714285714285,
               0.7804878048780488, 0.8, 0.7619047619047619, 0.7284878863826232, 0.3715277777777778), {
        "car": (0.9473684210526316, 0.9, 1.0, 0.1111111111111111, 9, 10),
        "cat": (None, None, None, 0.0, 0, 0),
        "dog": (0.5714285714285715, 0.6666666666666666, 0.5, 0.75, 4, 3),
        "speech": (0.6666666666666666, 0.7142857142857143, 0.625, 0.625, 8, 7)})
    assert (m["tp"], m["fp"], m["fn"], m["substitutions"], m["deletions"], m["insertions"]) == (16, 4, 5, 1, 4, 3)


def test_sed_eval_fixture_1_event():
    per_class = {"car": (0.25, 0.2, 0.3333333333333333, 2.0, 3, 5),
                 "cat": (None, None, None, 0.0, 0, 0),
                 "dog": (0.4, 0.5, 0.3333333333333333, 1.0, 3, 2),
                 "speech": (0.0, 0.0, 0.0, 2.5, 2, 3)}
    m = event_based(REF1, EST1, t_collar=0.2, percentage_of_length=0.5, labels=LABELS)
    _check(m, (1.75, 0.0, 0.75, 1.0, 0.22222222222222224, 0.2, 0.25, 0.21666666666666667, 1.375), per_class)
    m = event_based(REF1, EST1, t_collar=0.2, percentage_of_length=0.5, evaluate_offset=False, labels=LABELS)
    _check(m, (1.625, 0.125, 0.625, 0.875, 0.22222222222222224, 0.2, 0.25, 0.21666666666666667, 1.375), per_class)


def test_sed_eval_fixture_2():
    m = segment_based(REF2, EST2, time_resolution=1.0, labels=LABELS)
    _check(m, (0.4, 0.13333333333333333, 0.13333333333333333, 0.13333333333333333, 0.7333333333333333,
               0.7333333333333333, 0.7333333333333333, 0.6726190476190476, 0.6083333333333334), {
        "car": (0.5, 0.5, 0.5, 1.0, 2, 2), "cat": (0.6666666666666666, 1.0, 0.5, 0.5, 2, 1),
        "dog": (0.8571428571428571, 0.75, 1.0, 0.3333333333333333, 6, 8),
        "speech": (0.6666666666666665, 0.75, 0.6, 0.6000000000000001, 5, 4)})
    m = segment_based(REF2, EST2, time_resolution=0.5, labels=LABELS)
    _check(m, (0.48000000000000004, 0.08, 0.2, 0.2, 0.72, 0.72, 0.72, 0.6414984472049691, 0.6583333333333333), {
        "car": (0.5714285714285715, 0.5, 0.6666666666666666, 1.0, 3, 4),
        "cat": (0.5, 1.0, 0.3333333333333333, 0.6666666666666666, 3, 1),
        "dog": (0.8695652173913044, 0.7692307692307693, 1.0, 0.3, 10, 13),
        "speech": (0.6250000000000001, 0.7142857142857143, 0.5555555555555556, 0.6666666666666666, 9, 7)})
    m = event_based(REF2, EST2, t_collar=0.2, percentage_of_length=0.5, labels=LABELS)
    _check(m, (0.7777777777777777, 0.2222222222222222, 0.2222222222222222, 0.3333333333333333,
               0.5263157894736842, 0.5, 0.5555555555555556, 0.47916666666666663, 1.0416666666666665), {
        "car": (0.0, 0.0, 0.0, 2.0, 2, 2), "cat": (0.6666666666666666, 1.0, 0.5, 0.5, 2, 1),
        "dog": (0.7499999999999999, 0.6, 1.0, 0.6666666666666666, 3, 5), "speech": (0.5, 0.5, 0.5, 1.0, 2, 2)})
    assert (m["tp"], m["substitutions"], m["fp"], m["fn"]) == (5, 2, 3, 2)
    m = event_based(REF2, EST2, t_collar=0.2, percentage_of_length=0.2, labels=LABELS)
    _check(m, (1.2222222222222223, 0.2222222222222222, 0.4444444444444444, 0.5555555555555556,
               0.3157894736842105, 0.3, 0.3333333333333333, 0.29166666666666663, 1.4583333333333333), {
        "car": (0.0, 0.0, 0.0, 2.0, 2, 2), "cat": (0.6666666666666666, 1.0, 0.5, 0.5, 2, 1),
        "dog": (0.5, 0.4, 0.6666666666666666, 1.3333333333333333, 3, 5), "speech": (0.0, 0.0, 0.0, 2.0, 2, 2)})


# ------------------------------------------------------------------------------------------------ duration
def test_per_class_by_duration():
    ap = {"a": 0.9, "b": 0.5, "c": 0.3, "d": None, "f": 0.7}
    dur = {"a": [0.2, 0.4, 2.0], "b": [2.0, 4.0], "c": [1.0], "d": [12.0], "e": [0.5]}
    r = per_class_by_duration(ap, dur)
    # medians: a .4 -> [0,1); b 3.0 -> [3,10) (edges are inclusive below); c 1.0 -> [1,3); d 12 -> [10,inf)
    assert r["classes"]["a"] == {"median_duration_s": 0.4, "n_events": 3, "bin": 0, "AP": 0.9}
    assert [r["classes"][c]["bin"] for c in "abcde"] == [0, 2, 1, 3, 0]
    assert r["classes"]["f"]["bin"] is None and r["classes"]["f"]["median_duration_s"] is None
    assert r["classes"]["e"]["AP"] is None
    bins = r["bins"]
    assert [b["classes"] for b in bins] == [["a", "e"], ["c"], ["b"], ["d"]]
    assert [b["mean_AP"] for b in bins] == [0.9, 0.3, 0.5, None]     # e and d have no AP
    assert bins[3]["high_s"] is None and bins[3]["label"] == ">= 10 s" and bins[1]["label"] == "1-3 s"
    two = per_class_by_duration({"a": 0.2, "b": 0.6}, {"a": [0.5], "b": [5.0]}, bins=(0, 2))
    assert [b["classes"] for b in two["bins"]] == [["a", "b"]]      # past the last edge -> last bin
    with pytest.raises(ValueError):
        per_class_by_duration(ap, dur, bins=(0, 3, 1))
    assert math.isfinite(r["bins"][0]["mean_AP"])
