"""Evaluation: ``mmnet evaluate MODEL --data DIR --split test [--json]``.

Each clip goes through the same path as ``mmnet predict`` (Predictor.analyze),
so what is measured is what users get. Tagging metrics use the class
thresholds stored in the model file (tuned on the validation split by
``mmnet train``); detection metrics (where the split has strong labels) use
the events of Analysis.events() with the same thresholds; PSDS1 and PSDS2
(threshold-independent, :mod:`engine.psds`) use the segment scores of the
same scale.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np


def evaluate(model_path: str, data_dir: str, split: str = "test", *, ensemble: bool | None = None,
             scale: int | str | None = None, median_s: float = 0.0, min_duration_s: float = 0.0,
             device: str | None = None, progress: Callable[[int, int], None] | None = None,
             predictor=None) -> dict:
    """Tagging and detection metrics of a model on one split; returns a JSON-serializable dict."""
    from . import load_model
    from .audio import AudioError
    from .data import load_dataset
    from .metrics import event_based, per_class_by_duration, segment_based, tagging_metrics

    predictor = predictor or load_model(model_path, device=device)
    ds = load_dataset(data_dir, split)
    classes = predictor.classes
    missing = sorted(set(ds.classes) - set(classes))
    if missing:
        raise ValueError(f"the dataset has classes the model does not know: {missing}")
    col = [classes.index(c) for c in ds.classes]
    problems = [{"file": str(p), "reason": r} for p, r in ds.problems]
    y_true, y_score, estimated, used = [], [], [], []
    seg_scores = {}  # clip -> engine.psds.ClipScores, for PSDS
    for i, item in enumerate(ds.items):
        try:
            a = predictor.analyze(item.path, ensemble=ensemble)
        except AudioError as exc:
            problems.append({"file": str(item.path), "reason": str(exc)})
            continue
        y_score.append(a.clip_probs[col])
        y_true.append([1.0 if c in item.labels else 0.0 for c in ds.classes])
        name = Path(item.path).name
        used.append(name)
        if a.has_segment_level:
            from .psds import clip_scores

            seg_scores[name] = clip_scores(a, scale)
            for e in a.events(scale=scale, median_s=median_s, min_duration_s=min_duration_s):
                if e.label in ds.classes:
                    estimated.append((name, e.onset, e.offset, e.label))
        if progress is not None:
            progress(i + 1, len(ds.items))
    if not y_true:
        raise ValueError(f"{data_dir}: no usable clips in the {split} split")
    y_true_a = np.asarray(y_true, np.float32)
    y_score_a = np.asarray(y_score, np.float32)
    thresholds = np.asarray(predictor.thresholds, np.float32)[col]
    tag = tagging_metrics(y_true_a, y_score_a, thresholds=thresholds, classes=ds.classes)
    result = {
        "model": str(model_path), "method": predictor.method, "data": str(data_dir), "split": split,
        "clips": len(used), "ensemble": ensemble if ensemble is not None else predictor.bundle.config.ensemble,
        **{k: v for k, v in tag.items() if k != "per_class"},
        "per_class": tag["per_class"],
        "problems": problems,
    }
    reference = [r for r in ds.strong_events() if r[0] in set(used)]
    if reference:
        if predictor.bundle.model.scale_specs:
            seg = segment_based(reference, estimated, time_resolution=1.0)
            ev = event_based(reference, estimated, t_collar=0.2, percentage_of_length=0.5)
            result.update({"segment_ER": seg["error_rate"], "segment_F1": seg["f1"],
                           "event_F1": ev["f1"], "event_ER": ev["error_rate"]})
            from .psds import ClipScores, psds_both

            # the dataset's classes, in its order (the model may know more)
            ps = psds_both({n: ClipScores(s.boundaries, s.scores[:, col], s.duration)
                            for n, s in seg_scores.items()}, reference, ds.classes)
            result.update({"psds1": ps["psds1"], "psds2": ps["psds2"]})
            for c, pc in result["per_class"].items():
                pc["segment_F1"] = seg["per_class"].get(c, {}).get("f1")
                pc["event_F1"] = ev["per_class"].get(c, {}).get("f1")
                pc["psds1"] = ps["per_class"].get(c, {}).get("psds1")
                pc["psds2"] = ps["per_class"].get(c, {}).get("psds2")
        else:
            result.update({"segment_ER": None, "segment_F1": None, "event_F1": None, "event_ER": None,
                           "psds1": None, "psds2": None,
                           "detection_note": f"{predictor.method} has no segment level"})
        durations: dict[str, list[float]] = {}
        for _, on, off, label in reference:
            durations.setdefault(label, []).append(off - on)
        ap = {c: pc.get("AP") for c, pc in tag["per_class"].items()}
        result["by_duration"] = per_class_by_duration(ap, durations)
    return result


def format_table(result: dict) -> str:
    """A plain-text report: overall figures, then one row per class."""
    def f(v):
        return "  -  " if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

    lines = [f"{result['method']} on {result['data']} ({result['split']}, {result['clips']} clips)"]
    keys = ["mAP", "AUC", "F1_class_mean", "P_class_mean", "R_class_mean", "F1_micro", "segment_ER",
            "segment_F1", "event_F1", "psds1", "psds2"]
    lines.append("  ".join(f"{k} {f(result.get(k))}" for k in keys if k in result))
    lines.append(f"{'class':24s} {'AP':>6s} {'AUC':>6s} {'F1':>6s} {'P':>6s} {'R':>6s} {'segF1':>6s} {'evF1':>6s}")
    for c, pc in result["per_class"].items():
        lines.append(f"{c[:24]:24s} " + " ".join(f"{f(pc.get(k)):>6s}" for k in
                                                   ("AP", "AUC", "F1", "P", "R", "segment_F1", "event_F1")))
    if result.get("problems"):
        lines.append(f"{len(result['problems'])} files left out, e.g. {result['problems'][0]}")
    return "\n".join(lines)


def add_arguments(p) -> None:
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--split", default="test")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--no-ensemble", action="store_true", help="M&mnet without ensemble prediction")
    p.add_argument("--scale", default=None, help="scale the events are read from (index or name)")
    p.add_argument("--median", type=float, default=0.0, help="median filter (s) before event extraction")
    p.add_argument("--min-duration", type=float, default=0.0, help="drop shorter events (s)")
    p.add_argument("--device", default=None)


def run(args) -> int:
    scale = int(args.scale) if args.scale is not None and str(args.scale).isdigit() else args.scale

    def progress(done, total):
        if not args.json or sys.stderr.isatty():
            sys.stderr.write(f"\revaluating {done}/{total}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    result = evaluate(args.model, args.data, args.split, ensemble=False if args.no_ensemble else None,
                      scale=scale, median_s=args.median, min_duration_s=args.min_duration, device=args.device,
                      progress=progress)
    if args.json:
        print(json.dumps(result, default=_jsonable))
    else:
        print(format_table(result))
    return 0


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(type(v).__name__)
