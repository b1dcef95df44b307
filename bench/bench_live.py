"""Live monitoring benchmark: a long recording played as if live through the monitoring pipeline.

The pipeline is the application's Live tab without its drawing (and ``mmnet monitor`` without its
printing): :class:`engine.monitor.PacedFileSource` plays the file into a ring from its own thread,
like a device callback; the main thread takes what the ring holds and feeds
:class:`engine.stream.StreamAnalyzer`, as the Live tab's worker does.

Reported every ``--report`` seconds and in total: hops, per-hop inference time (the CPU time of
the feeding thread per hop, and its wall time), latency (wall clock when the hop's result is
ready minus the wall clock at which the last sample of its window was due), process CPU use in %
of one core (every thread: player, analysis, torch), resident memory (MB) and dropped frames.

    # a 2-minute soak in real time, torch on 1 thread (the monitor's setting), then on 2
    .venv/bin/python bench/bench_live.py --minutes 2 --speed 1 --threads 1
    .venv/bin/python bench/bench_live.py --minutes 2 --speed 1 --threads 2
    # as fast as possible (the analysis paces the player): throughput per hop
    .venv/bin/python bench/bench_live.py --minutes 10 --speed 0

The recording is the bundled demo clip repeated with a different gain and noise each time,
written once to a temporary WAV of the requested length (or ``--file``).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def rss_mb() -> float:
    """Resident memory now (MB), from /proc (Linux), else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def long_recording(seconds: float, path: str) -> str:
    """The demo clip repeated (gain and noise varied) up to ``seconds``, as 16-bit WAV."""
    import soundfile as sf

    y, sr = sf.read(os.path.join(ROOT, "assets", "demo", "demo.wav"), dtype="float32")
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
        n = 0
        while n < seconds * sr:
            part = y * rng.uniform(0.3, 1.0) + 0.003 * rng.standard_normal(len(y)).astype(np.float32)
            part = part[:int(seconds * sr) - n]
            f.write(np.clip(part, -1, 1))
            n += len(part)
    return path


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=os.path.join(ROOT, "assets", "models", "mmnet-ms.safetensors"))
    p.add_argument("--file", default=None, help="recording to play (default: the demo clip repeated)")
    p.add_argument("--minutes", type=float, default=2.0, help="length of the generated recording")
    p.add_argument("--speed", type=float, default=1.0, help="1: real time; 0: as fast as the analysis goes")
    p.add_argument("--hop", type=float, default=0.5)
    p.add_argument("--window", type=float, default=None, help="analysis window (s; default the model's, 10 s)")
    p.add_argument("--threads", type=int, default=1, help="torch threads during monitoring")
    p.add_argument("--report", type=float, default=30.0, help="seconds of wall time between report lines")
    args = p.parse_args(argv)

    import torch

    from engine import load_model
    from engine.monitor import PacedFileSource, torch_threads

    tmp = None
    path = args.file
    if path is None:
        tmp = tempfile.NamedTemporaryFile(suffix=".wav", delete=False)
        tmp.close()
        path = long_recording(args.minutes * 60.0, tmp.name)
    predictor = load_model(args.model, device="cpu")
    with torch_threads(args.threads):
        predictor.forward_features(torch.zeros(1, predictor.feature_config.n_mels, predictor.window_frames))
        source = PacedFileSource(path, args.speed)
        sa = predictor.stream(source.sr, source.channels, hop_s=args.hop, window_s=args.window, keep_analysis=False)
        print(f"# {os.path.basename(args.model)}, hop {sa.hop_s:.3f} s, window {sa.window_s:.2f} s, speed "
              f"{args.speed:g}, torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs", flush=True)
        print("wall_s\tstream_s\thops\tinfer_cpu_ms_p50\tinfer_cpu_ms_p95\tinfer_wall_ms_p95\tlatency_ms_p50"
              "\tlatency_ms_p95\tcpu_pct\trss_mb\tdropped_frames", flush=True)
        t0, c0 = time.monotonic(), time.process_time()
        mark_t, mark_c = t0, c0
        infer_cpu, infer_wall, latency = [], [], []
        win_cpu, win_wall, win_lat = [], [], []
        hops = 0
        rss0 = rss_mb()
        rss_seen = []

        def line(cpu_pct, ic, iw, lat):
            rss_seen.append(rss_mb())
            print(f"{time.monotonic() - t0:.0f}\t{sa.stream_time:.0f}\t{hops}\t{pct(ic, 50) * 1e3:.1f}\t"
                  f"{pct(ic, 95) * 1e3:.1f}\t{pct(iw, 95) * 1e3:.1f}\t{pct(lat, 50) * 1e3:.0f}\t{pct(lat, 95) * 1e3:.0f}"
                  f"\t{cpu_pct:.1f}\t{rss_seen[-1]:.0f}\t{source.dropped_frames}", flush=True)

        try:
            while True:
                block = source.read(timeout=0.1)
                if block is None:
                    break
                if not len(block):
                    continue
                tc, tw = time.thread_time(), time.perf_counter()
                results = sa.feed(block, wall_time=source.last_wall)
                dc, dw = time.thread_time() - tc, time.perf_counter() - tw
                now = time.time()
                for h in results:
                    hops += 1
                    for lst, v in ((infer_cpu, dc / len(results)), (infer_wall, dw / len(results)),
                                   (latency, now - h.wall_time)):
                        lst.append(v)
                    win_cpu.append(dc / len(results))
                    win_wall.append(dw / len(results))
                    win_lat.append(now - h.wall_time)
                t = time.monotonic()
                if t - mark_t >= args.report:
                    c = time.process_time()
                    line(100.0 * (c - mark_c) / (t - mark_t), win_cpu, win_wall, win_lat)
                    mark_t, mark_c = t, c
                    win_cpu, win_wall, win_lat = [], [], []
            sa.finish()
        finally:
            source.close()
            if tmp is not None:
                os.unlink(tmp.name)
        wall = time.monotonic() - t0
        cpu = time.process_time() - c0
        print(f"# total: {sa.stream_time:.0f} s of audio in {wall:.0f} s, {hops} hops ({hops / wall:.2f}/s); "
              f"inference per hop: CPU p50 {pct(infer_cpu, 50) * 1e3:.1f} ms, p95 {pct(infer_cpu, 95) * 1e3:.1f} ms, "
              f"wall p95 {pct(infer_wall, 95) * 1e3:.1f} ms; latency p50 {pct(latency, 50) * 1e3:.0f} ms, "
              f"p95 {pct(latency, 95) * 1e3:.0f} ms{' (meaningless at speed 0)' if args.speed <= 0 else ''}; process CPU {100 * cpu / wall:.1f} % of one core; "
              f"memory {rss0:.0f} MB at start, {min(rss_seen or [rss_mb()]):.0f}-{max(rss_seen or [rss_mb()]):.0f} MB "
              f"during; dropped frames {source.dropped_frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
