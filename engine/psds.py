"""PSDS, the threshold-independent metric of DCASE's sound event detection task since 2021,
computed from segment scores with the field's own implementation (``sed_scores_eval``,
Ebbers, Serizel & Haeb-Umbach, ICASSP 2022; the ``sed-scores-eval-np2`` build on PyPI).

Scenarios (DCASE 2021-2024 Task 4):

- PSDS1 (localization matters): DTC 0.7, GTC 0.7, no cross-trigger term, alpha_st 1, eFPR up to 100/h;
- PSDS2 (recognition matters): DTC 0.1, GTC 0.1, CTTC 0.3, alpha_ct 0.5, alpha_st 1, eFPR up to 100/h.

Inputs: per clip, segment scores (T x C, in [0, 1]) with segment boundaries (T + 1 times in
seconds), the clip's duration (s), and the reference events ``(clip, onset, offset, label)``.
Reference labels outside the model's classes are left out (and counted). PSDS is None when
no clip has a reference event.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

SCENARIOS = {
    1: dict(dtc_threshold=0.7, gtc_threshold=0.7, cttc_threshold=None, alpha_ct=0.0, alpha_st=1.0, max_efpr=100.0),
    2: dict(dtc_threshold=0.1, gtc_threshold=0.1, cttc_threshold=0.3, alpha_ct=0.5, alpha_st=1.0, max_efpr=100.0),
}


@dataclass
class ClipScores:
    """Segment scores of one clip: ``boundaries`` (T + 1,) seconds, ``scores`` (T x C), ``duration`` s."""

    boundaries: np.ndarray
    scores: np.ndarray
    duration: float


def clip_scores(analysis, scale: int | str | None = None) -> ClipScores:
    """The segment scores of an :class:`engine.analysis.Analysis` (its primary scale unless told)."""
    sc = analysis.scale(scale)
    t = np.asarray(sc.times, np.float64)
    end = min(t[-1] + sc.hop_s, max(analysis.duration, t[-1] + 1e-3)) if len(t) else analysis.duration
    return ClipScores(np.append(t, end), np.asarray(sc.segment_probs, np.float64), float(analysis.duration))


def _reference_by_clip(reference: Iterable, clips: Sequence[str], classes: Sequence[str]):
    gt: dict[str, list] = {c: [] for c in clips}
    left_out = 0
    known = set(classes)
    for ev in reference:
        if hasattr(ev, "as_tuple"):
            ev = ev.as_tuple()
        clip, onset, offset, label = ev
        if clip not in gt:
            continue
        if label not in known:
            left_out += 1
            continue
        gt[clip].append((float(onset), float(offset), label))
    return gt, left_out


def psds(scores: Mapping[str, ClipScores], reference: Iterable, classes: Sequence[str],
         scenario: int | dict = 1, *, time_decimals: int = 6) -> dict:
    """PSDS of one scenario over the given clips.

    scores: {clip: ClipScores}; reference: events ``(clip, onset, offset, label)`` (or
    :class:`engine.labels.Event`); classes: the C score columns' names. Returns
    ``{"psds": float | None, "per_class": {class: float | None}, "clips": n,
    "reference_events": n, "left_out_labels": n}``. Per-class values are the area under
    each class's ROC (what the DCASE baseline reports per class).
    """
    import warnings

    with warnings.catch_warnings():  # dcase_util (via sed_eval) warns that pkg_resources is deprecated
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        from sed_scores_eval.base_modules.scores import create_score_dataframe
        from sed_scores_eval.intersection_based import psds as _psds

    params = SCENARIOS[scenario] if isinstance(scenario, int) else dict(scenario)
    classes = list(classes)
    clips = list(scores)
    gt, left_out = _reference_by_clip(reference, clips, classes)
    n_ref = sum(len(v) for v in gt.values())
    out = {"psds": None, "per_class": {c: None for c in classes}, "clips": len(clips),
           "reference_events": n_ref, "left_out_labels": left_out}
    if n_ref == 0:
        return out
    frames = {}
    for clip, cs in scores.items():
        s = np.asarray(cs.scores, np.float64)
        if s.ndim != 2 or s.shape[1] != len(classes) or len(cs.boundaries) != s.shape[0] + 1:
            raise ValueError(f"{clip}: scores {s.shape} do not fit {len(classes)} classes and "
                             f"{len(cs.boundaries)} boundaries")
        frames[clip] = create_score_dataframe(s, np.asarray(cs.boundaries, np.float64), classes)
    durations = {clip: float(cs.duration) for clip, cs in scores.items()}
    # classes without any reference event have no ROC: leave them out of the score columns
    present = sorted({label for events in gt.values() for _, _, label in events}, key=classes.index)
    if len(present) < len(classes):
        cols = ["onset", "offset", *present]
        frames = {clip: df[cols] for clip, df in frames.items()}
    if len(present) == 1 and params.get("cttc_threshold") is not None:
        # no other class to cross-trigger on (and sed_scores_eval fails on an empty cross-trigger set)
        params = dict(params, cttc_threshold=None, alpha_ct=0.0)
    value, per_class, _, _ = _psds(frames, gt, durations, time_decimals=time_decimals, **params)
    out["psds"] = float(value)
    out["per_class"].update({c: float(v) for c, v in per_class.items()})
    return out


def psds_both(scores: Mapping[str, ClipScores], reference: Iterable, classes: Sequence[str]) -> dict:
    """``{"psds1": ..., "psds2": ..., "per_class": {class: {"psds1", "psds2"}}, ...}`` (plain data)."""
    reference = list(reference)
    one = psds(scores, reference, classes, 1)
    two = psds(scores, reference, classes, 2)
    return {"psds1": one["psds"], "psds2": two["psds"],
            "per_class": {c: {"psds1": one["per_class"][c], "psds2": two["per_class"][c]} for c in classes},
            "clips": one["clips"], "reference_events": one["reference_events"],
            "left_out_labels": one["left_out_labels"]}


def psds_of_analyses(analyses: Mapping[str, object], reference: Iterable, *, scale: int | str | None = None) -> dict:
    """PSDS1 and PSDS2 for analyses of one model: ``{clip: Analysis}`` and strong reference events.

    The GUI's call for a clip (one entry) or a folder; classes are the model's.
    """
    if not analyses:
        raise ValueError("no analyses to evaluate")
    first = next(iter(analyses.values()))
    scores = {clip: clip_scores(a, scale) for clip, a in analyses.items()}
    return psds_both(scores, reference, first.classes)
