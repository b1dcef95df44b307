"""Inference time per 10-second clip for every method, CPU, and the achieved GFLOP/s
against this machine's matrix-multiply peak measured in the same run.

    .venv/bin/python bench/bench_inference.py [--threads 2] [--batch 1] [--repeat 20]

Times the network alone on standardized log-mel input (128 x 896 frames = 10 s), in
eval mode under torch.inference_mode; the log-mel itself is measured by bench_features.py.
FLOPs are counted by torch.utils.flop_counter (a multiply-add = 2 FLOPs).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from engine.models import METHODS, build, count_parameters


def matmul_peak(n: int = 1024, repeat: int = 20) -> float:
    """Best GFLOP/s of an n x n float32 matrix multiply."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def time_method(method: str, batch: int, repeat: int, n_classes: int = 17):
    model = build(method, n_classes).eval()
    x = torch.randn(batch, 128, 896)
    with torch.inference_mode():
        with FlopCounterMode(display=False) as fc:
            model(x)
        flops = fc.get_total_flops()
        for _ in range(3):
            model(x)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return count_parameters(model), flops / batch, med / batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    peak = matmul_peak()
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}; "
          f"matmul peak {peak:.1f} GFLOP/s")
    print(f"{'method':14s} {'params':>8s} {'GFLOP/clip':>11s} {'ms/clip':>8s} {'GFLOP/s':>8s} {'% peak':>7s}")
    for m in METHODS:
        params, flops, sec = time_method(m, args.batch, args.repeat)
        gflops = flops / 1e9
        print(f"{m:14s} {params / 1e6:7.2f}M {gflops:11.3f} {sec * 1e3:8.1f} {gflops / sec:8.1f} "
              f"{100 * gflops / sec / peak:6.1f}%")


if __name__ == "__main__":
    main()
