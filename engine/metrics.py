"""Evaluation metrics: clip-level tagging, sed_eval-compatible detection, duration analysis.

Tagging (clip level)
    ``tagging_metrics(y_true, y_score, thresholds, classes)``: per-class AP and
    ROC AUC as scikit-learn computes them, per-class F1 / precision / recall at
    the class thresholds (the paper's F1 is their class mean) and the micro F1
    over every (clip, class) pair (DCASE 2017 Task 4 subtask A).
    ``tune_thresholds(y_true, y_score)``: per-class thresholds maximizing F1
    among the cuts that tag the class better than chance.
    A clip is tagged with a class when its probability is >= the threshold
    (the same rule as ``Analysis.tags``).

Detection (event lists)
    ``segment_based`` and ``event_based`` reproduce sed_eval 0.2.1's
    ``SegmentBasedMetrics`` and ``EventBasedMetrics`` (default
    ``event_matching_type='optimal'``) when sed_eval is fed file by file with
    every file that appears in the reference or the estimate. Events are
    ``(filename, onset, offset, label)`` tuples with times in seconds. Where
    sed_eval gives NaN (precision with no system output, recall with no
    reference) these functions give None. Error rates: sed_eval divides by
    ``Nref + eps``; with ``Nref = 0`` that is 0 when there is no error (kept:
    0.0) and about 4.5e15 per error otherwise (None here). Elsewhere the
    exact quotient is returned (sed_eval's eps changes it by ~1e-16). Class
    means, like sed_eval's ``numpy.nanmean``, leave None out. Tuples whose
    label is not in an explicit ``labels=`` list are left out.
    One deliberate difference: segment_based snaps times within 1e-9 s of a
    segment boundary onto it (sed_eval counts a phantom segment for an offset
    of 3.0000000000000004 s on a 1-s grid).

Duration analysis
    ``per_class_by_duration``: mean AP of the classes whose median event
    duration falls in each duration bin (the question of the paper's Fig. 4).

Everything returned is plain Python (float, int, None, dict, list) so it can
go to JSON as is. Scores are in [0, 1], never percent.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Iterable, Sequence

import numpy as np

Event = tuple  # (filename, onset_s, offset_s, label)
SNAP_S = 1e-9  # segment grid: a time this close to a boundary is on it (float noise, e.g. 0.1 * 30)

__all__ = [
    "tagging_metrics", "tune_thresholds", "segment_based", "event_based", "per_class_by_duration",
]


# ---------------------------------------------------------------------------------------------- helpers
def _div(num: float, den: float) -> float | None:
    """num / den as a float, or None when den is 0 (an undefined rate)."""
    return float(num) / float(den) if den else None


def _rate(num: float, den: float) -> float | None:
    """An error rate num / den (sed_eval divides by den + eps): 0 when num is 0, None when only den is 0."""
    if den:
        return float(num) / float(den)
    return 0.0 if num == 0 else None


def _f_measure(p: float | None, r: float | None) -> float | None:
    """sed_eval's F-measure from precision and recall: 0 when both are 0, undefined if either is."""
    if p is None or r is None:
        return None
    if p == 0 and r == 0:
        return 0.0
    return float(2 * p * r / (p + r))


def _mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values (None and NaN left out), None when there is none."""
    v = [float(x) for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else None


# ---------------------------------------------------------------------------------------------- tagging
def _as_matrices(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(y_score, dtype=np.float64)
    if t.ndim == 1:
        t = t[:, None]
    if s.ndim == 1:
        s = s[:, None]
    if t.ndim != 2 or t.shape != s.shape:
        raise ValueError(f"y_true {t.shape} and y_score {s.shape} must both be N x C")
    if not np.all(np.isfinite(s)):
        raise ValueError("y_score holds NaN or infinite values")
    return t >= 0.5, s


def tagging_metrics(y_true, y_score, thresholds=None, classes: Sequence[str] | None = None) -> dict:
    """Clip-level tagging metrics.

    y_true: N x C binary labels; y_score: N x C probabilities; thresholds: one
    value or C values (default 0.5); a class is predicted when score >= its
    threshold. classes: C names (default "0", "1", ...).

    Returns a dict with
      mAP, AUC: means over classes of sklearn's average_precision_score and
        roc_auc_score. AP is undefined (None) for a class without a positive
        clip, AUC for a class without a positive or without a negative clip;
        such classes are left out of the means.
      F1_class_mean, P_class_mean, R_class_mean: means over the classes with
        at least one positive clip of per-class F1 = 2TP / (2TP + FP + FN),
        P = TP / (TP + FP) (0 when the class is never predicted) and
        R = TP / (TP + FN).
      F1_micro, P_micro, R_micro: the same counts pooled over all (clip, class) pairs.
      n_classes_evaluated: classes with at least one positive clip.
      per_class: name -> {AP, AUC, F1, P, R, support (positive clips), threshold}.
    Undefined values are None; every number is in [0, 1].
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    t, s = _as_matrices(y_true, y_score)
    n, c = t.shape
    names = [str(i) for i in range(c)] if classes is None else [str(x) for x in classes]
    if len(names) != c:
        raise ValueError(f"{len(names)} class names for {c} columns")
    thr = np.broadcast_to(np.asarray(0.5 if thresholds is None else thresholds, np.float64), (c,))
    pred = s >= thr[None, :]
    tp = (pred & t).sum(0)
    fp = (pred & ~t).sum(0)
    fn = (~pred & t).sum(0)
    support = t.sum(0)

    per_class: dict[str, dict] = OrderedDict()
    for k, name in enumerate(names):
        pos, neg = int(support[k]), int(n - support[k])
        ap = float(average_precision_score(t[:, k], s[:, k])) if pos > 0 else None
        auc = float(roc_auc_score(t[:, k], s[:, k])) if pos > 0 and neg > 0 else None
        npred = int(tp[k] + fp[k])
        f1_den = 2 * tp[k] + fp[k] + fn[k]
        per_class[name] = {
            "AP": ap, "AUC": auc,
            "F1": float(2 * tp[k] / f1_den) if f1_den else None,
            "P": float(tp[k] / npred) if npred else (0.0 if pos > 0 else None),
            "R": float(tp[k] / pos) if pos > 0 else None,
            "support": pos, "threshold": float(thr[k]),
        }
    evaluated = [pc for pc in per_class.values() if pc["support"] > 0]
    TP, FP, FN = int(tp.sum()), int(fp.sum()), int(fn.sum())
    return {
        "mAP": _mean(pc["AP"] for pc in evaluated),
        "AUC": _mean(pc["AUC"] for pc in evaluated),
        "F1_class_mean": _mean(pc["F1"] for pc in evaluated),
        "P_class_mean": _mean(pc["P"] for pc in evaluated),
        "R_class_mean": _mean(pc["R"] for pc in evaluated),
        "F1_micro": _div(2 * TP, 2 * TP + FP + FN),
        "P_micro": _div(TP, TP + FP) if TP + FP else (0.0 if TP + FN else None),
        "R_micro": _div(TP, TP + FN),
        "n_clips": int(n), "n_classes_evaluated": len(evaluated),
        "per_class": per_class,
    }


def tune_thresholds(y_true, y_score, grid: Sequence[float] | None = None,
                    alpha: float | None = 0.05) -> np.ndarray:
    """Per-class thresholds maximizing each class's F1 (prediction: score >= threshold).

    y_true: N x C binary; y_score: N x C. Returns C float64 thresholds.
    grid=None searches exactly: the candidate cuts are the distinct scores of
    the class; among cuts reaching the best F1 the lowest one is kept (more
    recall at equal F1), and the value returned is the middle of the interval
    of thresholds giving the same decisions, i.e. halfway between that score
    and the next lower distinct score (the score itself when it is the lowest).
    With a grid, the best grid value is returned, the lowest one on ties.
    A class without a positive clip gets 0.5.

    Chance guard (``alpha``; None turns it off). F1 rewards tagging every clip
    when a class is hard: at that cut F1 = 2p / (1 + p) for a prevalence p,
    which a weak detector does not beat (Lipton et al. 2014, "Thresholding
    classifiers to maximize F1 score"); a model shipped with such a threshold
    tags the class on almost every recording. So only cuts whose tagged clips
    hold more positives than chance would put there count: the one-sided
    hypergeometric test (Fisher's exact test of the cut's 2 x 2 table) must
    give p < alpha. When no cut passes although a perfect ranking would have
    (the validation split was large enough to show it), the split gives no
    evidence that the model detects the class and the threshold is 0.5, the
    probability's own midpoint. When even a perfect ranking could not pass
    (a handful of clips), the plain F1 optimum is kept.
    """
    t, s = _as_matrices(y_true, y_score)
    n, c = t.shape
    out = np.full(c, 0.5, np.float64)
    g = None if grid is None else np.sort(np.asarray(grid, np.float64).reshape(-1))
    if g is not None and g.size == 0:
        raise ValueError("empty threshold grid")
    for k in range(c):
        pos = int(t[:, k].sum())
        if pos == 0:
            continue
        if g is not None:
            pred = s[:, k, None] >= g[None, :]                        # N x G
            tp = (pred & t[:, k, None]).sum(0)
            f1 = _beyond_chance(2 * tp / (pos + pred.sum(0)), tp, pred.sum(0), n, pos, alpha)
            if f1 is not None:
                out[k] = g[int(np.flatnonzero(f1 == f1.max())[0])]
            continue
        order = np.argsort(-s[:, k], kind="stable")
        sv, tv = s[order, k], t[order, k]
        ends = np.r_[np.flatnonzero(np.diff(sv) != 0), n - 1]        # last index of each distinct score
        tp = np.cumsum(tv)[ends]
        f1 = _beyond_chance(2 * tp / (pos + ends + 1), tp, ends + 1, n, pos, alpha)
        if f1 is None:
            continue
        best = int(np.flatnonzero(f1 == f1.max())[-1])               # lowest tied cut
        hi = sv[ends[best]]
        if ends[best] + 1 < n:
            lo = sv[ends[best] + 1]
            mid = 0.5 * (hi + lo)
            # keep the decisions when the caller stores thresholds as float32
            out[k] = mid if np.float32(lo) < np.float32(mid) <= np.float32(hi) else hi
        else:
            out[k] = hi
    return out


def _beyond_chance(f1: np.ndarray, tp: np.ndarray, tagged: np.ndarray, n: int, pos: int,
                   alpha: float | None) -> np.ndarray | None:
    """F1 of each cut, with -1 where the cut is no better than chance (``tune_thresholds``);
    None when the class gets the 0.5 fallback. tp, tagged: true positives and tagged clips per cut."""
    if alpha is None:
        return f1
    from scipy.stats import hypergeom

    # P(at least tp positives among `tagged` clips drawn at random from n clips holding pos positives)
    p = hypergeom.sf(np.asarray(tp) - 1, n, pos, np.asarray(tagged))
    ok = p < alpha
    if ok.any():
        return np.where(ok, f1, -1.0)
    perfect = hypergeom.sf(pos - 1, n, pos, pos)                    # 1 / C(n, pos): the best a ranking can do
    return None if perfect < alpha else f1


# ---------------------------------------------------------------------------------------------- detection
def _check_events(events, what: str) -> list[tuple[str, float, float, str]]:
    out = []
    for e in events or ():
        if len(e) != 4:
            raise ValueError(f"{what}: events are (filename, onset, offset, label) tuples, got {e!r}")
        f, on, off, lab = e
        on, off = float(on), float(off)
        if not (math.isfinite(on) and math.isfinite(off)) or on < 0 or off < on:
            raise ValueError(f"{what}: bad event times {e!r} (need 0 <= onset <= offset)")
        out.append((str(f), on, off, str(lab)))
    return out


def _prepare(reference, estimated, labels):
    ref = _check_events(reference, "reference")
    est = _check_events(estimated, "estimated")
    if labels is None:
        labels = sorted({e[3] for e in ref} | {e[3] for e in est})
    labels = [str(x) for x in labels]
    index = {lab: i for i, lab in enumerate(labels)}
    files = list(OrderedDict.fromkeys([e[0] for e in ref] + [e[0] for e in est]))
    return ref, est, labels, index, files


def _by_file(events, index) -> dict[str, list]:
    """filename -> events of the evaluated labels, in input order."""
    out: dict[str, list] = {}
    for e in events:
        if e[3] in index:
            out.setdefault(e[0], []).append(e)
    return out


def _on_grid(t, res: float) -> np.ndarray:
    """Times (s) as positions on a grid of res-second segments, snapped to a boundary within SNAP_S.

    3.0000000000000004 s (0.1 * 30) is boundary 3 of a 1-s grid, not a hair into segment 3: without
    the snap, ceil() would give the event (and the file's grid) one phantom segment, as sed_eval does.
    """
    x = np.asarray(t, np.float64) / res
    r = np.round(x)
    return np.where(np.abs(x - r) * res <= SNAP_S, r, x)


def _fill_roll(roll_diff: np.ndarray, events, base: int, res: float, index) -> None:
    """Mark segments floor(onset/res) .. ceil(offset/res) - 1 of each event (sed_eval's event roll)."""
    if not events:
        return
    on = _on_grid([e[1] for e in events], res)
    off = _on_grid([e[2] for e in events], res)
    start = base + np.floor(on).astype(np.int64)
    end = base + np.ceil(off).astype(np.int64)
    col = np.array([index[e[3]] for e in events])
    keep = end > start
    np.add.at(roll_diff, (start[keep], col[keep]), 1)
    np.add.at(roll_diff, (end[keep], col[keep]), -1)


def _class_wise(tp, fp, fn, nref, nsys, labels, zero_score_empty) -> tuple[dict, dict]:
    per_class = OrderedDict()
    for k, lab in enumerate(labels):
        p = 0.0 if (nsys[k] == 0 and zero_score_empty) else _div(tp[k], nsys[k])
        r = _div(tp[k], nref[k])
        per_class[lab] = {
            "f1": _f_measure(p, r), "precision": p, "recall": r,
            "error_rate": _rate(fn[k] + fp[k], nref[k]),
            "deletion_rate": _rate(fn[k], nref[k]), "insertion_rate": _rate(fp[k], nref[k]),
            "n_ref": int(nref[k]), "n_sys": int(nsys[k]),
            "tp": int(tp[k]), "fp": int(fp[k]), "fn": int(fn[k]),
        }
    means = {
        "f1_class_mean": _mean(v["f1"] for v in per_class.values()),
        "precision_class_mean": _mean(v["precision"] for v in per_class.values()),
        "recall_class_mean": _mean(v["recall"] for v in per_class.values()),
        "error_rate_class_mean": _mean(v["error_rate"] for v in per_class.values()),
        "deletion_rate_class_mean": _mean(v["deletion_rate"] for v in per_class.values()),
        "insertion_rate_class_mean": _mean(v["insertion_rate"] for v in per_class.values()),
    }
    return per_class, means


def _overall(tp, nref, nsys, subs, dels, ins, zero_score_empty) -> dict:
    p = 0.0 if (nsys == 0 and zero_score_empty) else _div(tp, nsys)
    r = _div(tp, nref)
    rates = [_rate(x, nref) for x in (subs, dels, ins)]
    return {
        "error_rate": None if None in rates else float(sum(rates)),
        "substitution_rate": rates[0], "deletion_rate": rates[1], "insertion_rate": rates[2],
        "f1": _f_measure(p, r), "precision": p, "recall": r,
        "n_ref": int(nref), "n_sys": int(nsys), "tp": int(tp),
        "substitutions": int(subs), "deletions": int(dels), "insertions": int(ins),
    }


def segment_based(reference: Sequence[Event], estimated: Sequence[Event], time_resolution: float = 1.0,
                  labels: Sequence[str] | None = None, zero_score_empty: bool = False) -> dict:
    """sed_eval's segment-based metrics (SegmentBasedMetrics, evaluated file by file).

    reference, estimated: lists of (filename, onset_s, offset_s, label).
    Each file's time axis is cut into segments of time_resolution seconds; the
    grid has ceil(max offset of the file's reference and estimated events /
    time_resolution) segments. An event marks segments floor(onset/res) to
    ceil(offset/res) - 1 of its label; a time within SNAP_S (1e-9 s) of a
    segment boundary is taken as on it (sed_eval would let 3.0000000000000004 s
    mark a phantom segment [3, 4) s). Files present in only one of the lists
    count too (a file without estimated events is all deletions).
    labels: the classes evaluated (default: every label seen); events of other
    labels are left out. zero_score_empty: precision 0 instead of None when
    nothing was estimated (sed_eval's empty_system_output_handling='zero_score').

    Overall counts are pooled over all segments of all files; per segment
    S = min(Nref, Nsys) - TP, D = max(0, Nref - Nsys), I = max(0, Nsys - Nref),
    ER = (S + D + I) / Nref, F1 from pooled precision TP/Nsys and recall TP/Nref.
    Class-wise: F1, P, R and ER = (FN + FP) / Nref of the class's segments;
    the *_class_mean values average the defined class values.
    Returns error_rate, substitution_rate, deletion_rate, insertion_rate, f1,
    precision, recall, counts, per_class {label: {f1, precision, recall,
    error_rate, deletion_rate, insertion_rate, n_ref, n_sys, tp, fp, fn}}, the
    class means and the evaluated files / labels.
    """
    res = float(time_resolution)
    if not res > 0:
        raise ValueError("time_resolution must be > 0 seconds")
    ref, est, labels, index, files = _prepare(reference, estimated, labels)
    ref_f, est_f = _by_file(ref, index), _by_file(est, index)
    max_off: dict[str, float] = {}
    for e in ref + est:                      # grid length: every event of the file (as sed_eval)
        max_off[e[0]] = max(max_off.get(e[0], 0.0), e[2])
    lengths = [int(np.ceil(_on_grid(max_off[f], res))) for f in files]
    bases = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    total, C = int(bases[-1]), len(labels)
    rdiff = np.zeros((total + 1, C), np.int32)
    ediff = np.zeros((total + 1, C), np.int32)
    for f, base in zip(files, bases[:-1]):
        _fill_roll(rdiff, ref_f.get(f, []), int(base), res, index)
        _fill_roll(ediff, est_f.get(f, []), int(base), res, index)
    R = np.cumsum(rdiff, axis=0)[:-1] > 0                                 # segments x classes
    E = np.cumsum(ediff, axis=0)[:-1] > 0
    hit = R & E
    nref_s, nsys_s, tp_s = R.sum(1), E.sum(1), hit.sum(1)               # per segment
    subs = int((np.minimum(nref_s, nsys_s) - tp_s).sum())
    dels = int(np.maximum(0, nref_s - nsys_s).sum())
    ins = int(np.maximum(0, nsys_s - nref_s).sum())
    out = _overall(int(tp_s.sum()), int(nref_s.sum()), int(nsys_s.sum()), subs, dels, ins, zero_score_empty)
    out["fp"] = int((E & ~R).sum())
    out["fn"] = int((R & ~E).sum())
    per_class, means = _class_wise(hit.sum(0), (E & ~R).sum(0), (R & ~E).sum(0), R.sum(0), E.sum(0),
                                   labels, zero_score_empty)
    out.update(means)
    out.update({"per_class": per_class, "time_resolution": res, "n_segments": total,
                "n_files": len(files), "labels": labels})
    return out


def _max_matching(hit: np.ndarray) -> np.ndarray:
    """Maximum-cardinality matching of a boolean ref x est hit matrix; returns the est index per ref (-1: none).

    Seeded greedily (estimates in order of their first hit reference, each taking
    its lowest free reference, as sed_eval's matcher starts), then completed
    with augmenting paths found by breadth-first search.
    """
    n_ref, n_est = hit.shape
    est_of_ref = np.full(n_ref, -1, np.int64)
    ref_of_est = np.full(n_est, -1, np.int64)
    adj = [np.flatnonzero(hit[:, i]) for i in range(n_est)]
    order = sorted((a[0], i) for i, a in enumerate(adj) if a.size)
    for _, i in order:
        for j in adj[i]:
            if est_of_ref[j] < 0:
                est_of_ref[j], ref_of_est[i] = i, j
                break
    for _, i0 in order:
        if ref_of_est[i0] >= 0:
            continue
        parent_est = {}                      # ref j -> est from which it was reached
        frontier, seen_ref, found = [i0], set(), -1
        while frontier and found < 0:
            nxt = []
            for i in frontier:
                for j in adj[i]:
                    if j in seen_ref:
                        continue
                    seen_ref.add(j)
                    parent_est[j] = i
                    if est_of_ref[j] < 0:
                        found = j
                        break
                    nxt.append(est_of_ref[j])
                if found >= 0:
                    break
            frontier = nxt
        j = found
        while j >= 0:                        # flip the alternating path back to i0
            i = parent_est[j]
            prev = ref_of_est[i]
            est_of_ref[j], ref_of_est[i] = i, j
            j = prev if i != i0 else -1
    return est_of_ref


def event_based(reference: Sequence[Event], estimated: Sequence[Event], t_collar: float = 0.2,
                percentage_of_length: float = 0.5, evaluate_onset: bool = True, evaluate_offset: bool = True,
                labels: Sequence[str] | None = None, zero_score_empty: bool = False) -> dict:
    """sed_eval's event-based metrics (EventBasedMetrics, default event_matching_type='optimal').

    reference, estimated: lists of (filename, onset_s, offset_s, label).
    An estimated event can match a reference event of the same file and label
    when |onset difference| <= t_collar (if evaluate_onset) and |offset
    difference| <= max(t_collar, percentage_of_length * reference length) (if
    evaluate_offset). Matching is one-to-one with the largest possible number
    of matches (TP), per file and label. Substitutions (per file, as sed_eval):
    going through the unmatched reference events in input order, each takes the
    first still-unused unmatched estimated event meeting the time conditions
    whatever its label; FN = Nref - TP - S, FP = Nsys - TP - S;
    ER = (S + FN + FP) / Nref. Class-wise: TP of the class, FN = Nref - TP,
    FP = Nsys - TP, ER = (FN + FP) / Nref. Files present in only one list count.

    Which maximum matching is chosen can change S (never TP) in rare cases
    where several exist; this one is seeded like sed_eval's matcher and agrees
    with it whenever the greedy seed is already maximal.
    Returns the same keys as segment_based (error_rate, ..., per_class, class means).
    """
    if not (evaluate_onset or evaluate_offset):
        raise ValueError("evaluate_onset and evaluate_offset cannot both be False")
    ref, est, labels, index, files = _prepare(reference, estimated, labels)
    ref_f, est_f = _by_file(ref, index), _by_file(est, index)
    C = len(labels)
    tp_c, nref_c, nsys_c = np.zeros(C, np.int64), np.zeros(C, np.int64), np.zeros(C, np.int64)
    TP = NREF = NSYS = SUBS = 0
    for f in files:
        r, e = ref_f.get(f, []), est_f.get(f, [])
        rl = np.array([index[x[3]] for x in r], np.int64)
        el = np.array([index[x[3]] for x in e], np.int64)
        np.add.at(nref_c, rl, 1)
        np.add.at(nsys_c, el, 1)
        NREF += len(r)
        NSYS += len(e)
        if not r or not e:
            continue
        ron, roff = np.array([x[1] for x in r]), np.array([x[2] for x in r])
        eon, eoff = np.array([x[1] for x in e]), np.array([x[2] for x in e])
        ok = np.ones((len(r), len(e)), bool)                               # time conditions, any label
        if evaluate_onset:
            ok &= np.abs(ron[:, None] - eon[None, :]) <= t_collar
        if evaluate_offset:
            tol = np.maximum(t_collar, percentage_of_length * (roff - ron))
            ok &= np.abs(roff[:, None] - eoff[None, :]) <= tol[:, None]
        ref_matched = np.zeros(len(r), bool)
        est_matched = np.zeros(len(e), bool)
        for k in np.intersect1d(rl, el):
            ri, ei = np.flatnonzero(rl == k), np.flatnonzero(el == k)
            m = _max_matching(ok[np.ix_(ri, ei)])
            got = m >= 0
            ref_matched[ri[got]] = True
            est_matched[ei[m[got]]] = True
            tp_c[k] += int(got.sum())
        TP += int(ref_matched.sum())
        est_free = ~est_matched
        for j in np.flatnonzero(~ref_matched):
            cand = np.flatnonzero(ok[j] & est_free)
            if cand.size:
                est_free[cand[0]] = False
                SUBS += 1
    out = _overall(TP, NREF, NSYS, SUBS, NREF - TP - SUBS, NSYS - TP - SUBS, zero_score_empty)
    out["fp"] = NSYS - TP - SUBS
    out["fn"] = NREF - TP - SUBS
    per_class, means = _class_wise(tp_c, nsys_c - tp_c, nref_c - tp_c, nref_c, nsys_c, labels, zero_score_empty)
    out.update(means)
    out.update({"per_class": per_class, "t_collar": float(t_collar),
                "percentage_of_length": float(percentage_of_length), "evaluate_onset": bool(evaluate_onset),
                "evaluate_offset": bool(evaluate_offset), "n_files": len(files), "labels": labels})
    return out


# ---------------------------------------------------------------------------------------------- duration
def per_class_by_duration(per_class_ap: dict, durations: dict, bins: Sequence[float] = (0, 1, 3, 10, math.inf)) -> dict:
    """Per-class AP grouped by typical event duration (the paper's Fig. 4 question).

    per_class_ap: label -> AP (None when undefined); durations: label -> event
    durations in seconds (e.g. offset - onset of the strong reference events).
    bins: increasing edges in seconds; bin b holds edges[b] <= median < edges[b+1]
    (a median beyond the last edge goes to the last bin).
    Returns
      classes: label -> {median_duration_s, n_events, bin (index or None), AP};
        a class without durations has median None and no bin.
      bins: one entry per bin: {low_s, high_s (None for infinity), label,
        classes (labels), n_classes, mean_AP (over the classes with an AP; None if none)}.
    """
    edges = [float(b) for b in bins]
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError("bins must be at least two increasing edges")
    nb = len(edges) - 1
    classes: dict[str, dict] = OrderedDict()
    members: list[list[str]] = [[] for _ in range(nb)]
    for label in list(per_class_ap) + [x for x in durations if x not in per_class_ap]:
        d = np.asarray([float(x) for x in durations.get(label, [])], np.float64)
        med = float(np.median(d)) if d.size else None
        b = None
        if med is not None and med >= edges[0]:
            b = min(int(np.searchsorted(edges, med, side="right")) - 1, nb - 1)
            members[b].append(label)
        ap = per_class_ap.get(label)
        classes[label] = {"median_duration_s": med, "n_events": int(d.size), "bin": b,
                          "AP": None if ap is None or (isinstance(ap, float) and math.isnan(ap)) else float(ap)}

    def name(lo, hi):
        return f">= {lo:g} s" if math.isinf(hi) else f"{lo:g}-{hi:g} s"

    out_bins = []
    for b in range(nb):
        lo, hi = edges[b], edges[b + 1]
        out_bins.append({"low_s": lo, "high_s": None if math.isinf(hi) else hi, "label": name(lo, hi),
                         "classes": members[b], "n_classes": len(members[b]),
                         "mean_AP": _mean(classes[c]["AP"] for c in members[b])})
    return {"classes": classes, "bins": out_bins}
