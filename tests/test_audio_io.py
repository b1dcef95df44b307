"""Audio output through a real (private, null-sink) PulseAudio server, recorded back from its monitor.

Tests marked ``audio`` need the ``pulse_server`` fixture and skip with its reason when the sound
server cannot run here. The last tests simulate machines without audio in subprocesses.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mmgui.audio_io import Player, audio_available, output_devices
from tests.audio_server import pulse_server  # noqa: F401  (fixture)

SR = 44100
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chirp_burst(seconds: float = 0.6, sr: int = SR, seed: int = 1) -> np.ndarray:
    """A 300 Hz -> 5 kHz chirp plus white noise, with 5 ms fades: float32 mono."""
    t = np.arange(int(seconds * sr)) / sr
    f = 300.0 + (5000.0 - 300.0) * t / seconds
    y = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)
    y += 0.05 * np.random.default_rng(seed).standard_normal(len(t))
    ramp = np.minimum(1.0, np.minimum(np.arange(len(t)), np.arange(len(t))[::-1]) / (0.005 * sr))
    return (y * ramp).astype(np.float32)


def tone(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


class Recorder:
    """Records the default source (the null sink's monitor) into a preallocated buffer."""

    def __init__(self, seconds: float = 4.0, sr: int = SR):
        import sounddevice as sd
        self.sr = sr
        self.data = np.zeros(int(seconds * sr), dtype=np.float32)
        self.n = 0
        self.first_adc = None  # stream-clock time of recorded sample 0
        self.stream = sd.InputStream(samplerate=sr, channels=1, dtype="float32",
                                     callback=self._cb)

    def _cb(self, indata, frames, time_info, status):
        if self.first_adc is None:
            self.first_adc = time_info.inputBufferAdcTime
        m = min(frames, len(self.data) - self.n)
        self.data[self.n:self.n + m] = indata[:m, 0]
        self.n += m

    def __enter__(self):
        self.stream.start()
        return self

    def __exit__(self, *exc):
        self.stream.close()

    @property
    def recorded(self) -> np.ndarray:
        return self.data[:self.n]


def xcorr_lag(rec: np.ndarray, ref: np.ndarray) -> tuple[int, float]:
    """Lag (samples) of ``ref`` inside ``rec`` and the normalized correlation there."""
    n = len(rec) + len(ref)
    nfft = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(rec, nfft) * np.conj(np.fft.rfft(ref, nfft)), nfft)[:len(rec) - len(ref) + 1]
    lag = int(np.argmax(c))
    seg = rec[lag:lag + len(ref)]
    r = float(np.dot(seg, ref) / (np.linalg.norm(seg) * np.linalg.norm(ref) + 1e-12))
    return lag, r


def wait_until(qtbot, cond, timeout_ms=3000):
    qtbot.waitUntil(cond, timeout=timeout_ms)


@pytest.fixture
def player(qtbot, pulse_server):  # noqa: F811
    p = Player()
    yield p
    p.stop()


def collect_positions(p: Player) -> list[tuple[float, float]]:
    got: list[tuple[float, float]] = []
    p.positionChanged.connect(lambda s: got.append((time.perf_counter(), s)))
    return got


# ---------------------------------------------------------------------------- with a server
@pytest.mark.audio
def test_devices_with_server(pulse_server):  # noqa: F811
    ok, why = audio_available()
    assert ok, why
    assert why == ""
    devs = output_devices()
    assert devs, "no output devices listed"
    assert all(set(d) == {"index", "name", "default"} for d in devs)
    assert sum(d["default"] for d in devs) == 1
    assert Player().available


@pytest.mark.audio
def test_played_samples_arrive(qtbot, player, record_property):
    x = chirp_burst(0.6)
    player.set_audio(x, SR)
    with Recorder(3.0) as rec:
        qtbot.wait(100)
        with qtbot.waitSignal(player.stateChanged, timeout=5000,
                              check_params_cb=lambda s: s == "stopped"):
            player.play()
            assert player.state == "playing"
        first_heard = player._ring[0, 0]  # stream time the player says frame 0 is heard
        qtbot.wait(150)
    y = rec.recorded
    assert len(y) > len(x)
    lag, r = xcorr_lag(y, x)
    # a steady lag: each third of the burst is found at the same place (no dropout or glitch)
    thirds = []
    for k in range(3):
        part = x[k * len(x) // 3:(k + 1) * len(x) // 3]
        off = k * len(x) // 3
        win = y[lag + off - 500:lag + off + len(part) + 500]
        thirds.append(xcorr_lag(win, part)[0] - 500)
    # where the player's clock says frame 0 is heard vs when it reached the monitor
    clock_err = (rec.first_adc + lag / SR) - first_heard
    msg = (f"lag {lag} samples ({1000 * lag / SR:.1f} ms after recording start), "
           f"correlation {r:.4f}, per-third lag offsets {thirds}, "
           f"player clock vs monitor {1000 * clock_err:+.1f} ms, xruns {player.xruns}")
    print(msg)
    record_property("audio_roundtrip", msg)
    assert r > 0.9, msg
    assert all(abs(t) <= 2 for t in thirds), msg
    assert abs(clock_err) < 0.05, msg


@pytest.mark.audio
def test_position_follows_clock_to_the_end(qtbot, player):
    player.set_audio(tone(1.0), SR)
    assert player.duration == pytest.approx(1.0)
    got = collect_positions(player)
    states = []
    player.stateChanged.connect(states.append)
    t0 = time.perf_counter()
    with qtbot.waitSignal(player.stateChanged, timeout=5000,
                          check_params_cb=lambda s: s == "stopped"):
        player.play()
    elapsed = time.perf_counter() - t0
    assert states == ["playing", "stopped"]
    assert player.state == "stopped"
    pos = np.array([p for _, p in got])
    assert len(pos) >= 20, f"only {len(pos)} position updates in {elapsed:.2f} s"
    assert np.all(np.diff(pos) >= 0), "position went backwards"
    assert pos[-1] == pytest.approx(1.0) and player.position == pytest.approx(1.0)
    assert pos[-2] > 0.9                                # the last tick before the end was near it
    assert 1.0 <= elapsed < 1.5, elapsed                 # real time plus the output latency
    # between the first and last ticks the cursor moves at the speed of the clock
    ts = np.array([t for t, _ in got])
    moving = (pos > 0.05) & (pos < 0.95)
    slope = np.polyfit(ts[moving], pos[moving], 1)[0]
    assert slope == pytest.approx(1.0, abs=0.05)
    player.play()  # from the end: starts again at 0
    assert player.state == "playing" and player.position < 0.2


@pytest.mark.audio
def test_seek_pause_resume_stop(qtbot, player):
    player.set_audio(tone(3.0), SR)
    player.play()
    qtbot.wait(150)
    got = collect_positions(player)
    player.seek(2.0)
    assert got[0][1] == pytest.approx(2.0)
    qtbot.wait(200)
    assert 2.05 < player.position < 2.35
    assert all(p >= 2.0 for _, p in got), "cursor showed old content after the seek"
    player.pause()
    assert player.state == "paused"
    p0 = player.position
    n0 = len(got)
    qtbot.wait(200)
    assert player.position == p0 and len(got) == n0, "position moved while paused"
    player.seek(0.5)
    assert player.position == 0.5 and player.state == "paused"
    player.toggle()
    assert player.state == "playing"
    qtbot.wait(200)
    assert 0.55 < player.position < 0.8
    player.stop()
    assert player.state == "stopped" and player.position == 0.0


@pytest.mark.audio
def test_loop_keeps_position_in_region(qtbot, player):
    player.set_audio(tone(3.0), SR)
    player.set_loop(1.0, 1.3)
    got = collect_positions(player)
    player.play()
    qtbot.wait(1000)
    assert player.state == "playing"
    pos = np.array([p for _, p in got])
    assert np.all((pos >= 1.0 - 1e-6) & (pos <= 1.3 + 1e-6)), pos
    assert np.sum(np.diff(pos) < 0) >= 2, "the loop never wrapped"
    player.set_loop(None, None)
    wait_until(qtbot, lambda: player.position > 1.4, 1000)
    player.set_loop(0.2, 0.4)  # outside the current playhead: jumps to the region
    assert player.position == pytest.approx(0.2, abs=0.05)
    qtbot.wait(100)
    assert 0.2 <= player.position <= 0.4


@pytest.mark.audio
def test_bad_device_reports_error_and_stays_usable(qtbot, player):
    player.set_audio(tone(0.5), SR)
    errors = []
    player.error.connect(errors.append)
    player.set_device(99999)
    player.play()
    assert player.state == "stopped"
    assert len(errors) == 1 and "\n" not in errors[0] and errors[0]
    player.set_device(None)
    with qtbot.waitSignal(player.stateChanged, timeout=5000,
                          check_params_cb=lambda s: s == "stopped"):
        player.play()
    assert len(errors) == 1


@pytest.mark.audio
def test_resamples_when_device_refuses_rate(qtbot, player, monkeypatch):
    import sounddevice as sd
    real = sd.check_output_settings

    def only_44k(*args, samplerate=None, **kw):
        if samplerate != SR:
            raise sd.PortAudioError("Invalid sample rate")
        return real(*args, samplerate=samplerate, **kw)

    monkeypatch.setattr(sd, "check_output_settings", only_44k)
    sr = 16000
    x = chirp_burst(0.5, sr=sr)
    player.set_audio(x, sr)
    assert player.duration == pytest.approx(0.5)
    with Recorder(2.5) as rec:
        qtbot.wait(50)
        with qtbot.waitSignal(player.stateChanged, timeout=5000,
                              check_params_cb=lambda s: s == "stopped"):
            player.play()
            assert player._stream_sr == SR
    assert player.position == pytest.approx(0.5)
    import soxr
    lag, r = xcorr_lag(rec.recorded, soxr.resample(x, sr, SR).astype(np.float32))
    assert r > 0.9, r


@pytest.mark.audio
def test_deleting_a_playing_player_closes_its_stream(qtbot, pulse_server):  # noqa: F811
    from PySide6.QtCore import QObject
    from shiboken6 import Shiboken
    parent = QObject()
    p = Player(parent)
    p.set_audio(tone(2.0), SR)
    p.play()
    stream = p._stream
    assert stream is not None and stream.active
    Shiboken.delete(parent)
    assert stream.closed


# ---------------------------------------------------------------------------- without audio
def _run_py(code: str, env_extra: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "XDG_RUNTIME"))}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT, **env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


NO_AUDIO_SCRIPT = """
    import sys
    from PySide6.QtCore import QCoreApplication
    app = QCoreApplication([])
    import numpy as np
    from mmgui.audio_io import Player, audio_available, output_devices
    ok, why = audio_available()
    print("RESULT", ok, "|", why)
    print("DEVICES", output_devices())
    p = Player()
    errors = []
    p.error.connect(errors.append)
    p.set_audio(np.zeros(4410, np.float32), 44100)
    p.play(); p.seek(0.05); p.pause(); p.toggle(); p.stop()
    print("PLAYER", p.available, p.state, p.position, "|", errors)
"""


def test_unavailable_without_sound_server(tmp_path):
    """The real PortAudio, no sound card and no sound server reachable: no output device."""
    import glob
    if glob.glob("/dev/snd/pcm*"):
        pytest.skip("this machine has ALSA sound cards: cannot simulate a machine without audio")
    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    res = _run_py(NO_AUDIO_SCRIPT, {"PULSE_SERVER": f"unix:{tmp_path}/missing.sock",
                                    "PULSE_CLIENTCONFIG": str(conf),
                                    "XDG_RUNTIME_DIR": str(tmp_path)}, tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    if "PortAudio library not found" in out:
        assert "RESULT False | PortAudio library not found (install libportaudio2)" in out
    else:
        assert "RESULT False | no audio output device" in out, out
    assert "DEVICES []" in out
    assert "PLAYER False stopped" in out and "audio unavailable" in out, out


def test_unavailable_without_portaudio(tmp_path):
    """sounddevice raising OSError at import (as it does without libportaudio2)."""
    (tmp_path / "sounddevice.py").write_text(
        "raise OSError('PortAudio library not found')\n")
    res = _run_py("import sys; sys.path.insert(0, '.')\n" + textwrap.dedent(NO_AUDIO_SCRIPT),
                  {}, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "RESULT False | PortAudio library not found (install libportaudio2)" in res.stdout
    assert "DEVICES []" in res.stdout
    assert "PLAYER False stopped" in res.stdout
