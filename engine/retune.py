"""Re-tuning a model's class thresholds: ``mmnet retune MODEL --data DIR [--split validation] -o OUT``.

``mmnet train`` tunes each class's tagging threshold on the validation split when it exports a
model. This tunes them again, on any labelled split, with the current
:func:`engine.metrics.tune_thresholds` (F1 among the cuts that tag the class better than chance):
for a model exported before that guard, or for thresholds fitted to one's own recordings. The
weights are not touched; the clips are scored by ``Predictor.analyze`` (what ``mmnet predict``,
``mmnet evaluate`` and the app use). The file written records the old thresholds and how the new
ones were tuned in its provenance (``thresholds_retuned``, a list: one record a re-tuning).

Tune on validation data, never on the split you report figures on.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np


def retune(model_path: str, data_dir: str, out_path: str, split: str = "validation", *,
           alpha: float | None = 0.05, device: str | None = None,
           progress: Callable[[int, int], None] | None = None) -> dict:
    """Tune the thresholds of ``model_path`` on ``split`` of ``data_dir`` and write ``out_path``.

    Classes of the model that the dataset lacks keep their thresholds. Returns a JSON-ready summary:
    per class the old and new threshold and the fraction of the split's clips each tags, next to
    the fraction labelled with it; the files that could not be read.
    """
    from . import load_model
    from .audio import AudioError
    from .data import load_dataset
    from .metrics import tune_thresholds
    from .modelfile import save_model

    predictor = load_model(model_path, device=device)
    bundle = predictor.bundle
    ds = load_dataset(data_dir, split)
    missing = sorted(set(ds.classes) - set(bundle.classes))
    if missing:
        raise ValueError(f"the dataset has classes the model does not know: {missing}")
    col = [bundle.classes.index(c) for c in ds.classes]
    problems = [{"file": str(p), "reason": r} for p, r in ds.problems]
    y_true, y_score = [], []
    for i, item in enumerate(ds.items):
        try:
            y_score.append(predictor.analyze(item.path).clip_probs[col])
            y_true.append([1.0 if c in item.labels else 0.0 for c in ds.classes])
        except AudioError as exc:
            problems.append({"file": str(item.path), "reason": str(exc)})
        if progress is not None:
            progress(i + 1, len(ds.items))
    if not y_true:
        raise ValueError(f"{data_dir} ({split}): no clip could be scored")
    y, s = np.asarray(y_true), np.asarray(y_score)
    old = bundle.thresholds.astype(np.float64).copy()
    tuned = tune_thresholds(y, s, alpha=alpha)
    new = old.copy()
    new[col] = tuned
    bundle.thresholds = new.astype(np.float32)
    history = bundle.provenance.get("thresholds_retuned")
    history = history if isinstance(history, list) else []
    bundle.provenance["thresholds_retuned"] = history + [{
        "by": "mmnet retune", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "data": str(data_dir),
        "split": split, "clips": len(y), "chance_guard_alpha": alpha,
        "previous": [round(float(t), 6) for t in old]}]
    save_model(bundle, out_path)
    stored = bundle.thresholds.astype(np.float64)       # what the file holds (float32)
    classes = {}
    for j, c in enumerate(ds.classes):
        k = col[j]
        classes[c] = {"old": round(float(old[k]), 6), "new": round(float(stored[k]), 6),
                      "labelled": float(y[:, j].mean()), "tagged_old": float((s[:, j] >= np.float32(old[k])).mean()),
                      "tagged_new": float((s[:, j] >= np.float32(stored[k])).mean())}
    return {"model": str(model_path), "out": str(out_path), "data": str(data_dir), "split": split,
            "clips": len(y), "alpha": alpha, "classes": classes, "problems": problems}


def format_table(r: dict) -> str:
    lines = [f"{r['out']}: thresholds tuned on {r['clips']} clips of {r['data']} ({r['split']})",
             f"{'class':<22}{'old':>8}{'new':>8}   tagged old / new (labelled)"]
    for c, v in r["classes"].items():
        mark = "" if v["tagged_old"] == v["tagged_new"] else "  *"      # the decisions changed
        lines.append(f"{c:<22}{v['old']:>8.3f}{v['new']:>8.3f}   {100 * v['tagged_old']:5.1f} / "
                     f"{100 * v['tagged_new']:5.1f} % ({100 * v['labelled']:.1f} %){mark}")
    for p in r["problems"]:
        lines.append(f"skipped {p['file']}: {p['reason']}")
    return "\n".join(lines)


def add_arguments(p) -> None:
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("--data", required=True, help="dataset folder")
    p.add_argument("--split", default="validation", help="the labelled split to tune on (default validation)")
    p.add_argument("-o", "--out", required=True, help="model file to write (may be MODEL itself)")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="chance guard: a cut counts only if Fisher's exact test gives p < ALPHA (default 0.05)")
    p.add_argument("--no-guard", action="store_true", help="plain F1 optimum, even one tagging every clip")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--device", default=None)


def run(args) -> int:
    if not args.no_guard and not 0.0 < args.alpha < 1.0:
        raise ValueError(f"--alpha must be between 0 and 1, got {args.alpha}")

    def progress(done, total):
        if sys.stderr.isatty():
            sys.stderr.write(f"\rscoring {done}/{total}" + ("\n" if done == total else ""))
            sys.stderr.flush()

    r = retune(args.model, args.data, args.out, args.split, alpha=None if args.no_guard else args.alpha,
               device=args.device, progress=progress)
    print(json.dumps(r) if args.json else format_table(r))
    return 0
