"""Alerts, ``mmnet monitor`` (a file replayed as live, and a real input device) and ``mmnet devices``."""
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine import load_model
from engine.alerts import AlertSettings, AlertTracker, ClassRule, settings_path
from tests.audio_server import pulse_server  # noqa: F401  (fixture)
from tests.conftest import realistic_audio


def test_alerts_hold_refractory_and_one_alert_per_event():
    s = AlertSettings({"dog": ClassRule(0.5, hold_s=1.0, refractory_s=3.0)}, ClassRule(0.5, 0.0, 0.0))
    tr = AlertTracker(["dog", "bell"], s)
    got = []
    # dog: above from 0 s to 2.5 s (one event: one alert, after the 1-s hold), below at 3 s, above
    # again from 3.5 s: a second event, alerted after its hold (4.5 s, past the refractory time);
    # bell (no hold, no refractory time): a blip at 1 s
    for k in range(0, 14):
        t = k * 0.5
        dog = 0.9 if (t <= 2.5 or t >= 3.5) else 0.1
        bell = 0.8 if t == 1.0 else 0.0
        got += [(a.label, a.time, a.onset) for a in tr.update(t, [dog, bell])]
    assert got == [("dog", 1.0, 0.0), ("bell", 1.0, 1.0), ("dog", 4.5, 3.5)]
    # disabled classes never alert
    s.rules["dog"].enabled = False
    tr = AlertTracker(["dog", "bell"], s)
    assert [a.label for a in tr.update(0.0, [1.0, 1.0])] == ["bell"]
    with pytest.raises(ValueError):
        ClassRule(1.5)


def test_alert_settings_saved_per_model(tmp_path, monkeypatch):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"x")
    s = AlertSettings.for_model(["a", "b"], [0.3, 0.7], hold_s=0.5, refractory_s=2.0)
    path = s.save(settings_path(model))
    assert path == tmp_path / "m.safetensors.alerts.json"
    back = AlertSettings.load(path)
    assert back.rule("b") == ClassRule(0.7, 0.5, 2.0) and back.rule("zzz") == ClassRule(0.5, 0.5, 2.0)
    path.write_text("{}")
    with pytest.raises(ValueError, match="alerts.json"):
        AlertSettings.load(path)
    # a model in a folder the user cannot write: the settings go to the user's settings folder
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setattr("os.access", lambda p, mode: False)
    other = settings_path(tmp_path / "ro" / "n.safetensors")
    assert other.parent == tmp_path / "cfg" / "mmstudio" / "alerts" and other.name.startswith("n-")


def test_monitor_a_file_as_live_prints_events_and_records(tiny_model_file, tmp_path):
    model = tiny_model_file("mmnet-ms", 3)
    y = realistic_audio(2.5, sr=48000, seed=4)
    wav = tmp_path / "in.wav"
    sf.write(wav, np.stack([y, y], axis=1), 48000, subtype="FLOAT")
    out = tmp_path / "rec" / "out.wav"
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "engine", "monitor", model, "--file", str(wav), "--as-live",
                           "--jsonl", "--hop", "0.5", "--record", str(out), "--threshold", "0", "--segment-threshold",
                           "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [line["type"] for line in lines]
    hops = [line for line in lines if line["type"] == "hop"]
    assert kinds[-1] == "end" and lines[-1]["reason"] == "end of input" and lines[-1]["seconds"] == 2.5
    assert len(hops) == 5 and set(hops[0]["clip_probs"]) == {"class_0", "class_1", "class_2"}
    # paced in real time, and hops stamped with the wall clock of their audio
    assert time.time() - t0 >= 2.5
    assert hops[-1]["wall"] - hops[0]["wall"] == pytest.approx(hops[-1]["time"] - hops[0]["time"], abs=0.06)
    events = [line for line in lines if line["type"] == "event"]
    assert sorted(e["label"] for e in events) == ["class_0", "class_1", "class_2"]   # threshold 0: always on
    assert all(e["onset"] == 0.0 and e["offset"] == pytest.approx(2.5) and e["onset_wall"] >= t0 for e in events)
    rec, sr = sf.read(out)
    assert sr == 48000 and rec.shape == (len(y), 2) and np.allclose(rec[:, 0], y)
    tsv = (tmp_path / "rec" / "out.tsv").read_text().splitlines()
    assert tsv[0] == "filename\tonset\toffset\tevent_label" and len(tsv) == 4 and tsv[1].startswith("out.wav\t0.000")


def test_monitor_stops_on_request_and_duration(tiny_model_file, tmp_path):
    from engine.monitor import FileSource, monitor

    predictor = load_model(tiny_model_file("resnet-att", 2), device="cpu")
    wav = tmp_path / "in.wav"
    sf.write(wav, realistic_audio(6.0, seed=1), 44100)
    buf = io.StringIO()
    summary = monitor(predictor, FileSource(str(wav), live=False), buf, duration=1.5)
    assert summary["reason"] == "duration reached" and summary["seconds"] == 1.5
    stop = threading.Event()
    stop.set()
    summary = monitor(predictor, FileSource(str(wav), live=False), io.StringIO(), stop=stop)
    assert summary["reason"] == "stopped" and summary["seconds"] == 0.0
    proc = subprocess.run([sys.executable, "-m", "engine", "monitor", str(tmp_path / "none.safetensors"), "--file",
                           str(wav)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no such model file" in proc.stderr


def test_devices_without_a_sound_system_is_a_clear_message(tmp_path):
    import os

    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    proc = subprocess.run([sys.executable, "-m", "engine", "devices"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 1 and "no sound system available" in proc.stderr and "PortAudio" in proc.stderr


@pytest.mark.audio
def test_monitor_a_real_input_device(pulse_server, tiny_model_file, tmp_path):  # noqa: F811
    from engine.monitor import DeviceSource, list_input_devices, monitor, resolve_device

    devices, reason = list_input_devices()
    assert reason is None and devices, reason
    device = resolve_device("pulse") if any(d["name"] == "pulse" for d in devices) else devices[0]
    predictor = load_model(tiny_model_file("mmnet", 2), device="cpu")
    source = DeviceSource(device, 44100, 1)
    buf = io.StringIO()
    summary = monitor(predictor, source, buf, jsonl=True, duration=2.0, record=str(tmp_path / "dev.wav"))
    assert summary["reason"] == "duration reached" and summary["seconds"] == pytest.approx(2.0)
    assert summary["hops"] >= 3 and summary["dropped_frames"] == 0
    assert sf.info(str(tmp_path / "dev.wav")).frames == 88200
    proc = subprocess.run([sys.executable, "-m", "engine", "devices", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and {json.loads(line)["name"] for line in proc.stdout.splitlines()} >= {device["name"]}


@pytest.mark.audio
def test_mmnet_monitor_hears_the_clip_played_into_the_sound_server(pulse_server, tmp_path):  # noqa: F811
    """End to end on the command line: the demo clip played into the null sink while `mmnet monitor`
    listens to its monitor; the clear events of the clip's offline analysis come out as JSON lines
    at their times in the stream (the clip's start found in the recording by cross-correlation)."""
    from scipy.signal import fftconvolve

    root = Path(__file__).resolve().parents[1]
    model, demo = root / "assets" / "models" / "mmnet-ms.safetensors", root / "assets" / "demo" / "demo.wav"
    if not model.exists():
        pytest.skip("bundled model missing")
    rec = tmp_path / "heard.wav"
    mon = subprocess.Popen([sys.executable, "-m", "engine", "monitor", str(model), "--device", "pulse",
                            "--samplerate", "44100", "--threshold", "0", "--delay", "0.9", "--duration", "14",
                            "--jsonl", "--record", str(rec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, cwd=str(tmp_path))
    try:
        first = [mon.stdout.readline()]                          # the first hop: listening now
        assert '"hop"' in first[0], (first, mon.stderr.read() if mon.poll() is not None else "")
        subprocess.run(["paplay", f"--device={pulse_server.sink}", str(demo)], timeout=60, check=True)
        out, err = mon.communicate(timeout=90)
    finally:
        mon.kill()
    assert mon.returncode == 0, err
    lines = [json.loads(line) for line in first + out.splitlines()]
    live = [(e["label"], e["onset"], e["score"]) for e in lines if e["type"] == "event"]
    got, sr = sf.read(str(rec), dtype="float32")
    clip, _ = sf.read(str(demo), dtype="float32")
    corr = fftconvolve(got if got.ndim == 1 else got.mean(1), (clip if clip.ndim == 1 else clip.mean(1))[::-1],
                       mode="valid")
    start = int(np.argmax(np.abs(corr))) / sr
    ref = load_model(str(model), device="cpu").analyze(str(demo))
    hop = max(s.hop_s for s in ref.scales)
    clear = [(e.label, e.onset + start) for e in ref.events(thresholds=0.0, segment_threshold=0.5) if e.score >= 0.7]
    assert clear and lines[-1]["type"] == "end"
    for label, t in clear:
        assert any(la == label and abs(on - t) <= 2 * hop for la, on, _ in live), (label, t, live)

