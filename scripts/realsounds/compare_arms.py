"""Paired bootstrap of the augmentation ablation: how far apart two training arms are on one split.

    PYTHONPATH=. python scripts/realsounds/compare_arms.py --data DATA --reference ARM_DIR ARM_DIR... \
        [--method resnet-att] [--split test] [--n 2000]

Each ARM_DIR holds METHOD/model.safetensors (a ``train_bundled.py --work ARM_DIR --no-export`` run).
The clip probabilities of each model on the split are computed once (kept as
ARM_DIR/METHOD/predictions-SPLIT.npy). The split's clips are resampled with replacement N times
(seed 0), the same resample for every arm; printed per arm: its mAP, the difference to the
reference's mAP and the 2.5-97.5 % interval of that difference over the resamples (the spread
due to the choice of test clips; training-seed variation comes on top of it).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def predictions(arm: Path, method: str, data: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels N x C, clip probabilities N x C) of the arm's model on the split, in the dataset's class order."""
    from engine import load_model
    from engine.data import load_dataset

    ds = load_dataset(data, split)
    y = np.array([[1.0 if c in it.labels else 0.0 for c in ds.classes] for it in ds.items], np.float32)
    cache = arm / method / f"predictions-{split}.npy"
    if cache.exists():
        return y, np.load(cache)
    model = load_model(str(arm / method / "model.safetensors"), device="cpu")
    col = [model.classes.index(c) for c in ds.classes]
    p = np.stack([model.analyze(it.path).clip_probs[col] for it in ds.items]).astype(np.float32)
    np.save(cache, p)
    return y, p


def mean_ap(y: np.ndarray, p: np.ndarray) -> float:
    """Mean over classes with at least one positive and one negative of sklearn's average precision."""
    from sklearn.metrics import average_precision_score

    keep = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean([average_precision_score(y[:, j], p[:, j]) for j in keep]))


def resamples(n_clips: int, n: int = 2000) -> list[np.ndarray]:
    """``n`` bootstrap resamples (seed 0) of clip indices, drawn once for every system compared."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, n_clips, n_clips) for _ in range(n)]


def paired_difference(y: np.ndarray, p: np.ndarray, ref: np.ndarray, samples) -> tuple[float, float, float]:
    """mAP of ``p`` minus mAP of ``ref`` (N x C clip scores against labels ``y``) and the 2.5-97.5 %
    interval of that difference over the resamples."""
    diff = [mean_ap(y[s], p[s]) - mean_ap(y[s], ref[s]) for s in samples]
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return mean_ap(y, p) - mean_ap(y, ref), float(lo), float(hi)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--reference", required=True, help="the arm the others are compared with")
    ap.add_argument("arms", nargs="+")
    ap.add_argument("--method", default="resnet-att")
    ap.add_argument("--split", default="test")
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    data = Path(args.data)
    y, ref = predictions(Path(args.reference), args.method, data, args.split)
    samples = resamples(len(y), args.n)
    print(f"| arm | {args.split} mAP | minus {Path(args.reference).name} | 95 % interval |")
    print("|---|---|---|---|")
    print(f"| {Path(args.reference).name} | {100 * mean_ap(y, ref):.1f} | | |")
    for arm in args.arms:
        _, p = predictions(Path(arm), args.method, data, args.split)
        diff, lo, hi = paired_difference(y, p, ref, samples)
        print(f"| {Path(arm).name} | {100 * mean_ap(y, p):.1f} | {100 * diff:+.1f} | {100 * lo:+.1f} to {100 * hi:+.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
