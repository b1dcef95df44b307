"""Batch analysis speed: clips per second over a folder of 10-s clips, decoding included.

    .venv/bin/python bench/bench_batch.py [--clips 64] [--threads 2] [--batch 1 8 16]
                                          [--model assets/models/mmnet-ms.safetensors] [--folder DIR]

Without --folder, the clips are made by ``mmnet synth`` (10 s, 44.1 kHz, 16-bit WAV, the
benchmark the demo models were trained on) in a temporary folder. Each batch size runs
engine.batch.run_batch over every clip once, after a warm-up on 4 clips, and reports
clips/s (wall clock) and the time per clip of each stage: decode (in a prefetch thread, so
it overlaps the rest), features (log-mel), model (forward pass and cutting the outputs into
an Analysis), events (event extraction and the table row).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8, 16])
    ap.add_argument("--model", default=str(ROOT / "assets" / "models" / "mmnet-ms.safetensors"))
    ap.add_argument("--model-b", default=None, help="a second model (A/B batch)")
    ap.add_argument("--folder", default=None)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from engine import load_model
    from engine.batch import audio_files, run_batch

    tmp = None
    folder = args.folder
    if folder is None:
        from engine.data.synth import generate

        tmp = tempfile.TemporaryDirectory(prefix="bench_batch_")
        generate(tmp.name, n_train=1, n_test=args.clips, n_validation=1, seed=3)
        folder = os.path.join(tmp.name, "audio", "test")
    files = audio_files(folder)[: args.clips]
    a = load_model(args.model, device="cpu")
    b = load_model(args.model_b, device="cpu") if args.model_b else None
    print(f"{len(files)} clips from {folder}; model {Path(args.model).name}"
          + (f" + {Path(args.model_b).name}" if b else "") + f"; torch threads {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    run_batch(folder, a, b, files=files[:4], batch_size=4)  # warm-up
    print(f"{'batch':>5} {'clips/s':>8} {'ms/clip':>8} | per clip: {'decode':>7} {'features':>8} "
          f"{'model':>7} {'events':>7}")
    for bs in args.batch:
        timings: dict = {}
        t0 = time.perf_counter()
        items = run_batch(folder, a, b, files=files, batch_size=bs, timings=timings)
        wall = time.perf_counter() - t0
        n = len(items)
        errors = sum(1 for it in items if it.row.error)
        per = {k: 1000 * timings.get(k, 0.0) / n for k in ("decode", "features", "model", "events")}
        print(f"{bs:>5} {n / wall:>8.1f} {1000 * wall / n:>8.1f} | {'':>9} {per['decode']:>7.1f} "
              f"{per['features']:>8.1f} {per['model']:>7.1f} {per['events']:>7.1f}"
              + (f"  ({errors} unreadable)" if errors else ""))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
