"""Log-mel throughput: the engine's batched torch implementation against librosa, CPU.

    .venv/bin/python bench/bench_features.py [--clips 32] [--threads 2]

Both compute the paper's representation (44.1 kHz, n_fft 2048, hop 492, 128 mel bands,
log(1 + 10000 mel)) of a batch of 10-second clips; the values are compared too.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from engine.features import FeatureConfig, log_mel_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import librosa

    cfg = FeatureConfig()
    rng = np.random.default_rng(0)
    t = np.arange(10 * cfg.sr) / cfg.sr
    clips = np.stack([(0.1 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t))
                      .astype(np.float32) for i in range(args.clips)])

    def ours():
        return log_mel_batch(torch.from_numpy(clips), cfg)[0]

    def ref():
        return np.stack([np.log1p(cfg.log_gain * librosa.feature.melspectrogram(
            y=c, sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels, fmin=0.0,
            fmax=cfg.sr / 2, center=True, pad_mode="constant", power=2.0)) for c in clips])

    ours(); ref()  # warm-up (librosa's numba compilation, torch's first call)
    best = {}
    for name, fn in (("torch", ours), ("librosa", ref)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        best[name] = (min(times), out)
    a = best["torch"][1].numpy()
    b = best["librosa"][1]
    audio_s = args.clips * 10
    print(f"{args.clips} clips of 10 s, {args.threads} torch threads")
    for name in ("torch", "librosa"):
        sec = best[name][0]
        print(f"{name:8s} {sec * 1e3:8.1f} ms  {audio_s / sec:8.0f} x real time  {sec / args.clips * 1e3:6.2f} ms/clip")
    print(f"speed-up {best['librosa'][0] / best['torch'][0]:.1f}x; "
          f"max |diff| {np.abs(a - b).max():.2e}, mean |diff| {np.abs(a - b).mean():.2e} (log-mel units)")


if __name__ == "__main__":
    main()
