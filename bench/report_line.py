"""Evaluate one trained model on a dataset's test split and print one line of metrics.

    python bench/report_line.py NAME MODEL DATA [--tsv FILE] [--note TEXT] [--mu MU]

Prints mAP, the mean AP of transient classes (median event duration under 1 s) and of long
ones, AUC, class-mean F1, segment F1 and event F1; appends the same figures to FILE (TSV).
--mu overrides an M&mnet model's ensemble weight (eq. 9: 1 = macro head only, 0 = attention-
pooled segment predictions only); --pooling (softmax, zscore, unit) and --scales (all,
primary) override how eq. 9 pools the segment predictions (ModelConfig.ensemble_pooling and
ensemble_scales); mAP and AUC do not depend on thresholds, F1 uses the thresholds tuned for
the trained settings. Used by bench/formulations.sh and bench/schedule.sh.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEYS = ("mAP", "mAP_short", "mAP_long", "AUC", "F1_class_mean", "segment_F1", "event_F1")


def short_long_map(result: dict, split_s: float = 1.0) -> tuple[float | None, float | None]:
    """Mean AP of the classes whose median event duration is under / at least split_s seconds."""
    classes = (result.get("by_duration") or {}).get("classes", {})
    groups = {True: [], False: []}
    for v in classes.values():
        if v["AP"] is not None and v["median_duration_s"] is not None:
            groups[v["median_duration_s"] < split_s].append(v["AP"])
    return tuple(float(np.mean(groups[k])) if groups[k] else None for k in (True, False))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--tsv")
    p.add_argument("--note", default="")
    p.add_argument("--mu", type=float, help="override the ensemble weight of eq. 9 (M&mnet)")
    p.add_argument("--pooling", choices=("softmax", "zscore", "unit"), help="override alpha_t of eq. 9 (M&mnet)")
    p.add_argument("--scales", choices=("all", "primary"), help="override the scales y_att pools (M&mnet-MS)")
    args = p.parse_args()
    import engine
    from engine.evaluate import evaluate

    predictor = engine.load_model(args.model)
    if args.mu is not None:
        predictor.model.config.mu = args.mu
    if args.pooling is not None:
        predictor.model.config.ensemble_pooling = args.pooling
    if args.scales is not None:
        predictor.model.config.ensemble_scales = args.scales
    r = evaluate(args.model, args.data, "test", predictor=predictor)
    r["mAP_short"], r["mAP_long"] = short_long_map(r)
    cells = " ".join(f"{k} {r[k]:.3f}" if r.get(k) is not None else f"{k} -" for k in KEYS)
    print(f"{args.name:24s} {cells}", flush=True)
    if args.tsv:
        with open(args.tsv, "a") as f:
            f.write("\t".join([args.name, args.note] + [str(r.get(k)) for k in KEYS]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
