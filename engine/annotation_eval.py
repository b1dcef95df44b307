"""Evaluation of one or two models against annotations (strong labels) for a clip or a folder.

``evaluate_annotations(reference, {"A": analyses_a, "B": analyses_b})`` returns plain data
(dicts, lists, floats, None) for the GUI and for JSON:

- per model: the :mod:`engine.metrics` figures (segment-based ER/F1 at 1 s, event-based F1/ER
  with a 200 ms onset collar and an offset collar of max(200 ms, 50 % of the length), tagging
  AP/F1 at the model's thresholds) overall and per class, and PSDS1/PSDS2 (:mod:`engine.psds`);
- per model, every estimated event classified ``TP`` or ``FP`` (with ``confused_with``: the
  label of an unmatched reference event it would have matched in time) and every reference
  event ``hit`` or ``miss``, with the same optimal one-to-one matching as ``event_based``;
- per clip: reference count, false positives, misses and errors (FP + misses) of each model,
  sorted by errors (worst first), for a sortable clip list.

Inputs: reference events (:class:`engine.labels.Event` or ``(clip, onset, offset, label)``;
clip-level labels are left out and counted) and, per model, ``{clip: Analysis}``. A reference
clip name that is not a key of the analyses is matched by file name when that is unique.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from .metrics import _max_matching, event_based, segment_based, tagging_metrics

T_COLLAR, PERCENTAGE_OF_LENGTH, SEGMENT_S = 0.2, 0.5, 1.0


def _as_tuple(ev) -> tuple | None:
    if hasattr(ev, "onset") and hasattr(ev, "clip"):
        if ev.onset is None:
            return None
        return (ev.clip or "", float(ev.onset), float(ev.offset), ev.label)
    clip, onset, offset, label = ev
    if onset is None:
        return None
    return (str(clip), float(onset), float(offset), str(label))


def _clip_resolver(clips: Iterable[str]):
    clips = list(clips)
    exact = set(clips)
    by_name: dict[str, list[str]] = {}
    for c in clips:
        by_name.setdefault(Path(c).name, []).append(c)

    def resolve(name: str) -> str | None:
        if name in exact:
            return name
        hits = by_name.get(Path(name).name, [])
        return hits[0] if len(hits) == 1 else None
    return resolve


def classify_events(reference: list[tuple], estimated: list[tuple], *, t_collar: float = T_COLLAR,
                    percentage_of_length: float = PERCENTAGE_OF_LENGTH) -> tuple[list[str], list[str], list]:
    """Per-event outcome of the event-based matching, per clip and label.

    Returns (status of each reference event: "hit"/"miss", status of each estimated event:
    "TP"/"FP", for each estimated event the label of an unmatched reference it meets in time
    (a substitution) or None). Lists follow the input order.
    """
    ref_status = ["miss"] * len(reference)
    est_status = ["FP"] * len(estimated)
    confused: list = [None] * len(estimated)
    clips = OrderedDict.fromkeys([r[0] for r in reference] + [e[0] for e in estimated])
    for clip in clips:
        ri = [i for i, r in enumerate(reference) if r[0] == clip]
        ei = [i for i, e in enumerate(estimated) if e[0] == clip]
        if not ri or not ei:
            continue
        ron = np.array([reference[i][1] for i in ri]); roff = np.array([reference[i][2] for i in ri])
        eon = np.array([estimated[i][1] for i in ei]); eoff = np.array([estimated[i][2] for i in ei])
        ok = np.abs(ron[:, None] - eon[None, :]) <= t_collar
        tol = np.maximum(t_collar, percentage_of_length * (roff - ron))
        ok &= np.abs(roff[:, None] - eoff[None, :]) <= tol[:, None]
        rl = [reference[i][3] for i in ri]
        el = [estimated[i][3] for i in ei]
        for label in set(rl) & set(el):
            rsub = [k for k, x in enumerate(rl) if x == label]
            esub = [k for k, x in enumerate(el) if x == label]
            m = _max_matching(ok[np.ix_(rsub, esub)])
            for a, b in enumerate(m):
                if b >= 0:
                    ref_status[ri[rsub[a]]] = "hit"
                    est_status[ei[esub[b]]] = "TP"
        for b, i in enumerate(ei):
            if est_status[i] == "FP":
                for a, j in enumerate(ri):
                    if ref_status[j] == "miss" and ok[a, b] and rl[a] != el[b]:
                        confused[i] = rl[a]
                        break
    return ref_status, est_status, confused


def clip_event_flags(reference, estimated, *, t_collar: float = T_COLLAR,
                     percentage_of_length: float = PERCENTAGE_OF_LENGTH) -> dict:
    """Which events of one clip are errors under the event-based criterion (for the event rows).

    reference, estimated: events of one clip as ``(onset s, offset s, label, ...)`` (further
    fields, such as a score, are ignored). The matching is :func:`classify_events`' (the optimal
    one-to-one matching of ``event_based``: same label, onset within ``t_collar`` s, offset within
    max(``t_collar``, ``percentage_of_length`` x reference length)).

    Returns ``{"missed": [bool per reference event], "false_positive": [bool per estimated
    event], "confused_with": [label or None per estimated event], "misses": int,
    "false_positives": int, "errors": misses + false_positives}``; lists follow the input order.
    """
    ref = [("", float(r[0]), float(r[1]), str(r[2])) for r in reference]
    est = [("", float(e[0]), float(e[1]), str(e[2])) for e in estimated]
    ref_status, est_status, confused = classify_events(ref, est, t_collar=t_collar,
                                                       percentage_of_length=percentage_of_length)
    missed = [s == "miss" for s in ref_status]
    fp = [s == "FP" for s in est_status]
    return {"missed": missed, "false_positive": fp, "confused_with": confused,
            "misses": sum(missed), "false_positives": sum(fp), "errors": sum(missed) + sum(fp)}


def _model_report(reference: list[tuple], analyses: Mapping[str, object], event_options: dict,
                  with_psds: bool) -> dict:
    first = next(iter(analyses.values()))
    classes = list(first.classes)
    estimated: list[tuple] = []
    scores: list[float] = []
    for clip, a in analyses.items():
        for e in a.events(**event_options):
            estimated.append((clip, float(e.onset), float(e.offset), e.label))
            scores.append(float(e.score))
    ref_status, est_status, confused = classify_events(reference, estimated)
    labels = [c for c in classes if c in {r[3] for r in reference} | {e[3] for e in estimated}]
    labels += sorted({r[3] for r in reference} - set(labels))   # annotated labels the model does not know
    seg = segment_based(reference, estimated, time_resolution=SEGMENT_S, labels=labels)
    ev = event_based(reference, estimated, t_collar=T_COLLAR, percentage_of_length=PERCENTAGE_OF_LENGTH,
                     labels=labels)
    clips = list(analyses)
    y_true = np.array([[any(r[0] == clip and r[3] == c for r in reference) for c in classes] for clip in clips],
                      np.float32)
    y_score = np.stack([np.asarray(analyses[c].clip_probs, np.float32) for c in clips])
    tag = tagging_metrics(y_true, y_score, thresholds=np.asarray(first.thresholds, np.float32), classes=classes)
    overall = {"segment_ER": seg["error_rate"], "segment_F1": seg["f1"], "event_F1": ev["f1"],
               "event_ER": ev["error_rate"], "mAP": tag["mAP"], "F1_class_mean": tag["F1_class_mean"],
               "psds1": None, "psds2": None}
    per_class = OrderedDict()
    for c in labels:
        tc = tag["per_class"].get(c, {})
        per_class[c] = {"segment_F1": seg["per_class"].get(c, {}).get("f1"),
                        "segment_ER": seg["per_class"].get(c, {}).get("error_rate"),
                        "event_F1": ev["per_class"].get(c, {}).get("f1"),
                        "AP": tc.get("AP"), "tag_F1": tc.get("F1"),
                        "n_ref": sum(1 for r in reference if r[3] == c),
                        "n_est": sum(1 for e in estimated if e[3] == c),
                        "known_to_model": c in classes, "psds1": None, "psds2": None}
    if with_psds and first.has_segment_level:
        from .psds import psds_of_analyses

        ps = psds_of_analyses(analyses, reference)
        overall["psds1"], overall["psds2"] = ps["psds1"], ps["psds2"]
        for c, v in ps["per_class"].items():
            if c in per_class:
                per_class[c].update(v)
    est_rows = [{"clip": e[0], "onset": e[1], "offset": e[2], "label": e[3], "score": s, "status": st,
                 "confused_with": cf} for e, s, st, cf in zip(estimated, scores, est_status, confused)]
    ref_rows = [{"clip": r[0], "onset": r[1], "offset": r[2], "label": r[3], "status": st}
                for r, st in zip(reference, ref_status)]
    return {"method": first.method, "classes": classes, "overall": overall, "per_class": per_class,
            "estimates": est_rows, "references": ref_rows}


def evaluate_annotations(reference: Iterable, models: Mapping[str, Mapping[str, object]], *,
                         event_options: dict | None = None, psds: bool = True) -> dict:
    """Compare one or two models' analyses with annotations (see the module docstring).

    models: ``{"A": {clip: Analysis}, "B": {...}}`` (one or two entries, the same clips);
    event_options: keyword arguments of ``Analysis.events`` (thresholds, scale, median_s, ...).
    """
    if not models:
        raise ValueError("no model to evaluate")
    if len(models) > 2:
        raise ValueError("at most two models side by side")
    event_options = dict(event_options or {})
    names = list(models)
    clips = list(next(iter(models.values())))
    for n in names[1:]:
        if list(models[n]) != clips:
            raise ValueError("both models must be analysed on the same clips")
    if not clips:
        raise ValueError("no clips to evaluate")
    resolve = _clip_resolver(clips)
    ref: list[tuple] = []
    weak = unmatched = 0
    for ev in reference:
        t = _as_tuple(ev)
        if t is None:
            weak += 1
            continue
        clip = resolve(t[0])
        if clip is None:
            unmatched += 1
            continue
        ref.append((clip, t[1], t[2], t[3]))
    reports = {n: _model_report(ref, models[n], event_options, psds) for n in names}
    rows = []
    for clip in clips:
        row = {"clip": clip, "n_ref": sum(1 for r in ref if r[0] == clip)}
        worst = 0
        for n in names:
            fp = sum(1 for e in reports[n]["estimates"] if e["clip"] == clip and e["status"] == "FP")
            miss = sum(1 for r in reports[n]["references"] if r["clip"] == clip and r["status"] == "miss")
            row.update({f"{n}_fp": fp, f"{n}_miss": miss, f"{n}_errors": fp + miss})
            worst = max(worst, fp + miss)
        row["errors"] = worst
        rows.append(row)
    rows.sort(key=lambda r: (-r["errors"], r["clip"]))
    return {"models": reports, "clips": rows, "n_reference": len(ref), "weak_left_out": weak,
            "unmatched_reference": unmatched}
