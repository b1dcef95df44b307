"""Issue 16, item 5: how eq. 9's pooling choices change a trained M&mnet(-MS)'s clip mAP.

    python bench/pooling.py MODEL DATA [--split test]

Runs the network once per test clip (the same path as ``mmnet evaluate``: whole clip,
standardized log-mel), then recomputes the ensemble of eq. 9 with every combination of
``ensemble_pooling`` (softmax, zscore, unit) and ``ensemble_scales`` (all, primary), and
mu = 0 (y_att alone) or the trained mu. Prints mAP, transient-class and long-class mAP (median
event under / over 1 s), and the mean over clips of the largest alpha_t at each scale
(1/T would be uniform pooling). Valid for models whose clip loss was on the macro output (the
pooling then plays no part in training).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--split", default="test")
    args = p.parse_args()
    import engine
    from engine.data import load_dataset
    from engine.metrics import tagging_metrics

    predictor = engine.load_model(args.model)
    model = predictor.bundle.model.eval()
    cfg = model.config
    ds = load_dataset(args.data, args.split)
    col = [predictor.classes.index(c) for c in ds.classes]
    from engine.audio import load_audio
    from engine.features import log_mel

    fcfg = predictor.feature_config
    outs = []
    with torch.no_grad():
        for item in ds.items:
            clip = load_audio(item.path, fcfg.sr)
            feats = torch.as_tensor(log_mel(clip.samples, clip.sr, fcfg))
            outs.append(predictor.forward_features(feats[None]))
    y = ds.labels_matrix()
    short = [i for i, c in enumerate(ds.classes) if _median_duration(ds, c) < 1.0]
    long_ = [i for i in range(len(ds.classes)) if i not in short]
    print(f"{'pooling':8s} {'scales':8s} {'mu':>4s} {'mAP':>6s} {'short':>6s} {'long':>6s}   max alpha per scale (1/T)")
    for pooling in ("softmax", "zscore", "unit"):
        for scales in ("all", "primary"):
            cfg.ensemble_pooling, cfg.ensemble_scales = pooling, scales
            for mu in (cfg.mu, 0.0):
                mu_saved, cfg.mu = cfg.mu, mu
                pred = np.concatenate([model.ensemble(o)[0].numpy() for o in outs])[:, col]
                cfg.mu = mu_saved
                m = tagging_metrics(y, pred, classes=ds.classes)
                ap = np.array([np.nan if m["per_class"][c]["AP"] is None else m["per_class"][c]["AP"]
                               for c in ds.classes], float)
                peaks = [np.mean([float(model.pooling_weights(o.scales[k]).amax(dim=1).mean()) for o in outs])
                         for k in range(len(outs[0].scales))]
                sizes = [outs[0].scales[k].segment_probs.shape[1] for k in range(len(outs[0].scales))]
                peak_txt = " ".join(f"{pk:.3f}({1 / n:.3f})" for pk, n in zip(peaks, sizes))
                s_ap, l_ap = np.nanmean(ap[short]), np.nanmean(ap[long_])
                print(f"{pooling:8s} {scales:8s} {mu:4.1f} {100 * m['mAP']:6.1f} {100 * s_ap:6.1f} {100 * l_ap:6.1f}   {peak_txt}",
                      flush=True)
    return 0


def _median_duration(ds, cls: str) -> float:
    d = [off - on for it in ds.items for on, off, lab in it.events if lab == cls]
    return float(np.median(d)) if d else float("inf")


if __name__ == "__main__":
    sys.exit(main())
