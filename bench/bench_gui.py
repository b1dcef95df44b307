"""GUI benchmark: start-up to the first painted analysis, a one-hour recording, pan/zoom frames, memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--runs 3] [--hour-minutes 60]
        [--analyze-timeout 600] [--skip-hour] [--skip-demo] [--demo realsounds|synthetic]

1. Demo: launches ``main.py --screenshot --demo SET`` (a bundled demo set: its clip with its two models, or
   small models and a generated clip when the assets are missing) ``--runs`` times and reports
   the time from process launch to the first paint showing model A's analysis.
2. One-hour file: writes a one-hour 44.1 kHz 16-bit WAV to /tmp, opens it in a window in this
   process with model A (the bundled ResNet-ATT when present) and reports the time from opening
   to the first painted spectrogram, to the whole spectrogram, and to the analysis; then the
   frame time of pans and zooms (range change + synchronous repaint of the aligned panes) and
   the peak resident memory of the process (``ru_maxrss``).
Goals: demo first paint < 3 s; one-hour first paint < 10 s; pan/zoom frames < 30 ms; memory < 1.5 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def small_models(folder: Path) -> list[str]:
    """Two small models (random weights) standing in for the bundled ones when those are missing."""
    import numpy as np
    import torch

    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build

    out = []
    for method in ("resnet-att", "mmnet-ms"):
        torch.manual_seed(0)
        model = build(method, 10, channels=(32, 48, 48), stem=32, fc_hidden=64, micro_hidden=32, heads=8).eval()
        bundle = ModelBundle(model, FeatureConfig(), [f"class_{i}" for i in range(10)], Normalizer.identity(128))
        out.append(str(save_model(bundle, folder / f"{method}.safetensors")))
    return out


def test_signal(seconds: float, sr: int = 44100, seed: int = 0):
    from tests.conftest import realistic_audio

    return realistic_audio(seconds, sr, seed)


def bench_demo(runs: int, work: Path, demo_set: str | None = None) -> dict:
    """The app's start-up on a bundled demo set (``demo_set``: None = the app's default)."""
    from mmgui.document import bundled

    demo = bundled.get(demo_set)
    if demo.complete:
        args = ["--demo", demo.key]
        what = f"bundled {demo.label} demo clip, ResNet-ATT + M&mnet-MS ({demo.label})"
    else:
        import soundfile as sf

        clip = work / "demo_stand_in.wav"
        sf.write(clip, test_signal(10.0), 44100)
        models = small_models(work)
        args = ["--model", models[0], "--model", models[1], str(clip)]
        what = "ASSETS MISSING: 10-s generated clip, small random models"
    times, shown = [], []
    for _ in range(runs):
        launch = time.time()
        proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(work / "demo.png"),
                               "--timings", "--no-audio", *args], capture_output=True, text=True, timeout=300,
                              cwd=str(ROOT))
        line = [ln for ln in proc.stderr.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not line:
            raise SystemExit(f"demo run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        info = json.loads(line[-1])
        offset = info["t0_wall"] - launch               # interpreter start-up before mmgui.app
        times.append(offset + info["timings_s"]["first_analysis_painted"])
        shown.append(offset + info["timings_s"]["window_shown"])
    return {"what": what, "first_paint_s": times, "window_shown_s": shown,
            "first_paint_median_s": statistics.median(times)}


def write_long_wav(path: Path, minutes: float) -> None:
    import numpy as np
    import soundfile as sf

    minute = test_signal(60.0, seed=7)
    rng = np.random.default_rng(1)
    with sf.SoundFile(path, "w", samplerate=44100, channels=1, subtype="PCM_16") as f:
        for i in range(int(minutes)):
            f.write(np.roll(minute, int(rng.integers(0, len(minute)))) * (0.5 + 0.5 * rng.random()))


def holding_player():
    """A stand-in for audio_io.Player that keeps the samples it is given, as the real one does,
    so that the memory figure includes the playback copy even on machines without sound."""
    from PySide6.QtCore import QObject, Signal

    class Player(QObject):
        positionChanged = Signal(float)
        stateChanged = Signal(str)
        error = Signal(str)
        available, unavailable_reason, state = True, "", "stopped"

        def set_audio(self, samples, sr):
            self.samples, self.sr = samples, sr

        def seek(self, t):
            self.positionChanged.emit(t)

        def set_loop(self, *a):
            pass

        def set_device(self, i):
            pass

        def toggle(self):
            pass

        def stop(self):
            pass

    return Player()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_hour(minutes: float, work: Path, analyze_timeout: float) -> dict:
    path = Path(tempfile.gettempdir()) / f"mmstudio_bench_{int(minutes)}min.wav"
    if not path.exists():
        t = time.perf_counter()
        write_long_wav(path, minutes)
        print(f"  wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s", flush=True)
    import mmgui  # noqa: F401  (Qt guards)
    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtWidgets import QApplication

    from mmgui import theme
    from mmgui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication([])
    theme.apply_palette(app)
    theme.configure_pyqtgraph()
    rss_start = rss_mb()
    settings = QSettings(str(work / "bench.ini"), QSettings.Format.IniFormat)
    import mmgui.audio_io as audio_io

    audio_io.output_devices = lambda: [{"index": 0, "name": "bench sink", "default": True}]
    player = holding_player()
    win = MainWindow(settings=settings, player=player)
    win.resize(1400, 900)
    win.show()
    app.processEvents()
    model = ROOT / "assets" / "models" / "resnet-att.safetensors"
    model = str(model) if model.exists() else small_models(work)[0]
    win.doc.add_model(model)
    win.doc.set_slot("A", model)
    spec = win.analysis.spectrogram
    marks: dict[str, float] = {}

    class Watch(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint and spec._shown is not None and "first_paint" not in marks:
                marks["first_paint"] = time.perf_counter()
            return False

    watch = Watch()
    win.analysis.graphics.viewport().installEventFilter(watch)
    t0 = time.perf_counter()
    win.open_paths([str(path)], remember=False)
    deadline = t0 + analyze_timeout
    while time.perf_counter() < deadline:
        app.processEvents()
        entry = win.doc.spectrogram()
        if entry is not None and entry.finished and "spectrogram" not in marks:
            marks["spectrogram"] = time.perf_counter()
        if win.doc.analysis("A") is not None and "analysis" not in marks:
            marks["analysis"] = time.perf_counter()
        if getattr(player, "samples", None) is not None and "audio" not in marks:
            marks["audio"] = time.perf_counter()
        if win.doc.is_idle() and "spectrogram" in marks:
            break
        time.sleep(0.005)
    app.processEvents()
    analyzed = win.doc.analysis("A") is not None
    if not analyzed:
        win.doc.tasks.cancel()
    entry = win.doc.spectrogram()
    result = {
        "file_minutes": minutes, "model": os.path.basename(model),
        "open_to_first_paint_s": marks.get("first_paint", float("nan")) - t0,
        "open_to_full_spectrogram_s": marks.get("spectrogram", float("nan")) - t0,
        "open_to_analysis_s": (marks["analysis"] - t0) if analyzed else None,
        "pyramid_MB": entry.pyramid.nbytes / 1e6 if entry and entry.pyramid else None,
        "pyramid_levels": entry.pyramid.n_levels if entry and entry.pyramid else None,
        "playback_copy_MB": player.samples.nbytes / 1e6 if getattr(player, "samples", None) is not None else 0.0,
        "open_to_playback_audio_s": (marks["audio"] - t0) if "audio" in marks else None,
    }
    # ---- pan and zoom frames: range change + synchronous repaint of the aligned panes
    viewport = win.analysis.graphics.viewport()
    doc = win.doc
    painted = []

    class CountPaints(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                painted.append(1)
            return False

    counter = CountPaints()
    viewport.installEventFilter(counter)

    def frame(action) -> float:
        """One user step: the range change, the work it triggers, and one paint of the panes."""
        painted.clear()
        t = time.perf_counter()
        action()
        app.processEvents()          # runs the pending update: the panes paint here
        if not painted:
            viewport.repaint()
        return (time.perf_counter() - t) * 1000.0

    doc.set_view_range(600.0, 660.0)
    app.processEvents()
    viewport.repaint()
    pans = [frame(lambda: doc.pan(0.1)) for _ in range(40)]
    doc.fit()
    app.processEvents()
    viewport.repaint()
    zooms = []
    for _ in range(12):                       # one hour down to about a second
        zooms.append(frame(lambda: doc.zoom(0.4, 1800.0)))
    for _ in range(12):
        zooms.append(frame(lambda: doc.zoom(2.5, 1800.0)))
    result.update({
        "pan_frame_ms": {"median": statistics.median(pans), "p95": sorted(pans)[int(0.95 * len(pans))],
                         "max": max(pans)},
        "zoom_frame_ms": {"median": statistics.median(zooms), "p95": sorted(zooms)[int(0.95 * len(zooms))],
                          "max": max(zooms)},
        "rss_at_start_MB": rss_start,
        "peak_rss_MB": rss_mb(),
    })
    win.close()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hour-minutes", type=float, default=60.0)
    ap.add_argument("--analyze-timeout", type=float, default=900.0)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--demo", choices=("realsounds", "synthetic"), default=None,
                    help="demo set to start on (default: the app's default, realsounds where present)")
    ap.add_argument("--skip-hour", action="store_true")
    args = ap.parse_args()
    import torch

    print(f"machine: {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            out["demo"] = d = bench_demo(args.runs, work, args.demo)
            print(f"demo ({d['what']}):\n  launch -> window shown      "
                  + ", ".join(f"{t:.2f}" for t in d["window_shown_s"]) + " s"
                  + "\n  launch -> first analysis paint " + ", ".join(f"{t:.2f}" for t in d["first_paint_s"])
                  + f" s (median {d['first_paint_median_s']:.2f} s; goal < 3 s)", flush=True)
        if not args.skip_hour:
            out["hour"] = h = bench_hour(args.hour_minutes, work, args.analyze_timeout)
            ana = f"{h['open_to_analysis_s']:.1f} s" if h["open_to_analysis_s"] is not None else "not finished"
            print(f"{h['file_minutes']:.0f}-minute file (model {h['model']}):\n"
                  f"  open -> first paint          {h['open_to_first_paint_s']:.2f} s (goal < 10 s)\n"
                  f"  open -> whole spectrogram    {h['open_to_full_spectrogram_s']:.1f} s "
                  f"(pyramid {h['pyramid_MB']:.0f} MB, {h['pyramid_levels']} levels)\n"
                  f"  open -> analysis done        {ana}\n"
                  f"  playback copy                {h['playback_copy_MB']:.0f} MB (22.05 kHz for files over 20 min)\n"
                  f"  pan frame   median {h['pan_frame_ms']['median']:.1f} ms, p95 {h['pan_frame_ms']['p95']:.1f}, "
                  f"max {h['pan_frame_ms']['max']:.1f} (goal < 30 ms)\n"
                  f"  zoom frame  median {h['zoom_frame_ms']['median']:.1f} ms, p95 "
                  f"{h['zoom_frame_ms']['p95']:.1f}, max {h['zoom_frame_ms']['max']:.1f}\n"
                  f"  peak RSS    {h['peak_rss_MB']:.0f} MB (goal < 1500 MB; {h['rss_at_start_MB']:.0f} MB "
                  "before opening)", flush=True)
    print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
