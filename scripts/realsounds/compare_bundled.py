"""Paired bootstrap over the real-sound test clips: the bundled per-class ATT against the other
bundled models and the logistic regression (docs/results.md, section 4).

    PYTHONPATH=. python scripts/realsounds/compare_bundled.py [DATA]      # DATA default data/realsounds

Clip probabilities of each bundled model on ``test`` (recordings never used in training); the
logistic regression of ``train_bundled.py --stage baseline`` refitted on ``train``. The test clips
are resampled with replacement 2000 times (seed 0), the same resamples for every system; printed:
each system's mAP, its difference to the reference and the 2.5-97.5 % interval of that difference
(the spread due to the choice of test clips; training-seed variation comes on top). mAP over the
classes with at least one positive and one negative clip.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "realsounds"))
MODELS = ROOT / "assets" / "models" / "realsounds"
REFERENCE = "resnet-att-class"


def labels(ds) -> np.ndarray:
    return np.array([[1.0 if c in it.labels else 0.0 for c in ds.classes] for it in ds.items])


def model_scores(name: str, ds) -> np.ndarray:
    """Clip probabilities (N x C, the dataset's class order) of bundled model ``name``."""
    from engine import load_model

    model = load_model(str(MODELS / f"{name}.safetensors"), device="cpu")
    col = [model.classes.index(c) for c in ds.classes]
    return np.stack([model.analyze(it.path).clip_probs[col] for it in ds.items])


def logreg_scores(train, test) -> np.ndarray:
    """The ``--stage baseline`` regression (per class, C = 0.1) fitted on ``train``, scored on ``test``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from train_bundled import _clip_features

    x_train = np.stack([_clip_features(str(it.path)) for it in train.items])
    x_test = np.stack([_clip_features(str(it.path)) for it in test.items])
    scaler = StandardScaler().fit(x_train)
    y_train = labels(train)
    return np.stack([LogisticRegression(C=0.1, max_iter=2000).fit(scaler.transform(x_train), y_train[:, j])
                     .predict_proba(scaler.transform(x_test))[:, 1] for j in range(y_train.shape[1])], axis=1)


def main() -> int:
    from compare_arms import mean_ap, paired_difference, resamples

    from engine.data import load_dataset

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "realsounds"
    test = load_dataset(data, "test")
    y = labels(test)
    scores = {name: model_scores(name, test) for name in (REFERENCE, "mmnet-ms", "resnet-att")}
    scores["logreg"] = logreg_scores(load_dataset(data, "train"), test)
    samples = resamples(len(y))
    print(f"{REFERENCE}: mAP {100 * mean_ap(y, scores[REFERENCE]):.1f}")
    for name, p in scores.items():
        if name != REFERENCE:
            diff, lo, hi = paired_difference(y, scores[REFERENCE], p, samples)
            print(f"{REFERENCE} minus {name} (mAP {100 * mean_ap(y, p):.1f}): {100 * diff:+.1f}, "
                  f"95 % interval {100 * lo:+.1f} to {100 * hi:+.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
