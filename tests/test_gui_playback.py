"""Playback from the real main window through a real (private, null-sink) PulseAudio server.

The window builds its own ``audio_io.Player`` (``player="auto"``), exactly as the app does.
What the sink plays is recorded back from its monitor and compared with the clip: Space plays
the clip from the cursor, every pane's cursor follows the stream clock, a click in the
spectrogram seeks, and playback after a seek starts where the click was. Skipped, with the
fixture's reason, where no sound server can be started.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QPointF, Qt  # noqa: E402

from tests.audio_server import pulse_server  # noqa: E402,F401  (fixture)
from tests.test_audio_io import Recorder, chirp_burst, xcorr_lag  # noqa: E402
from tests.test_gui import make_window, models, open_with  # noqa: E402,F401  (fixtures)

SR = 44100
A_AT, B_AT = 0.3, 2.0          # seconds where the two bursts start in the clip


@pytest.fixture(scope="module")
def bursts():
    """Two different 0.5-s bursts (chirp + noise, different seeds)."""
    return chirp_burst(0.5, seed=11), chirp_burst(0.5, seed=12)[::-1].copy()


@pytest.fixture(scope="module")
def two_burst_clip(tmp_path_factory, bursts):
    """A 3-s clip: quiet noise, burst A at 0.3 s and burst B at 2.0 s."""
    a, b = bursts
    y = 0.003 * np.random.default_rng(5).standard_normal(3 * SR).astype(np.float32)
    y[int(A_AT * SR):int(A_AT * SR) + len(a)] += a
    y[int(B_AT * SR):int(B_AT * SR) + len(b)] += b
    path = tmp_path_factory.mktemp("playback") / "two_bursts.wav"
    sf.write(path, y, SR)
    return str(path)


@pytest.fixture
def window(qtbot, make_window, models, two_burst_clip, pulse_server):  # noqa: F811
    win = make_window(player="auto")
    assert win.player is not None and win.player.available, getattr(win.player, "unavailable_reason", "")
    open_with(qtbot, win, [two_burst_clip], models["mmnet-ms"])
    assert win.transport.play_btn.isEnabled(), win.transport.note.text()
    yield win
    win.player.stop()


def click_spectrogram_at(qtbot, win, seconds: float) -> None:
    spec, view = win.analysis.spectrogram, win.analysis.graphics
    scene_pt = spec.vb.mapViewToScene(QPointF(seconds, 60.0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_pt))


@pytest.mark.audio
def test_space_plays_the_clip_and_the_cursor_follows(qtbot, window, bursts):
    win = window
    a, b = bursts
    cursor = []
    win.doc.playheadChanged.connect(lambda s: cursor.append(s))
    with Recorder(5.0) as rec:
        qtbot.wait(100)
        with qtbot.waitSignal(win.player.stateChanged, timeout=8000,
                              check_params_cb=lambda s: s == "stopped"):
            qtbot.keyClick(win, Qt.Key.Key_Space)
            assert win.player.state == "playing"
        qtbot.wait(150)
    y = rec.recorded
    lag_a, r_a = xcorr_lag(y, a)
    lag_b, r_b = xcorr_lag(y, b)
    msg = f"burst A r={r_a:.3f} at {lag_a}, burst B r={r_b:.3f} at {lag_b}, {len(cursor)} cursor updates"
    print(msg)
    assert r_a > 0.9 and r_b > 0.9, msg
    # the two bursts arrive as far apart as they are in the clip (no dropout, no skipped block)
    assert (lag_b - lag_a) / SR == pytest.approx(B_AT - A_AT, abs=0.01), msg
    # the cursor moved through the clip with the stream: many updates, never backwards
    moving = [s for s in cursor if 0.0 < s < 3.0]
    assert len(moving) >= 20, msg
    assert np.all(np.diff(moving) >= -1e-6), msg
    assert max(moving) > 2.5, msg
    for pane in win.analysis.panes:
        assert pane.playhead.isVisible()


@pytest.mark.audio
def test_click_seeks_and_playback_starts_there(qtbot, window, bursts):
    win = window
    a, b = bursts
    click_spectrogram_at(qtbot, win, 1.5)
    assert win.doc.playhead == pytest.approx(1.5, abs=0.03)
    assert win.player.position == pytest.approx(win.doc.playhead, abs=0.03)
    with Recorder(3.5) as rec:
        qtbot.wait(100)
        with qtbot.waitSignal(win.player.stateChanged, timeout=8000,
                              check_params_cb=lambda s: s == "stopped"):
            win.transport.play_btn.click()
        qtbot.wait(150)
    y = rec.recorded
    _, r_a = xcorr_lag(y, a)
    _, r_b = xcorr_lag(y, b)
    assert r_b > 0.9, f"burst B (after the seek point) not heard: r={r_b:.3f}"
    assert r_a < 0.5, f"burst A (before the seek point) was played: r={r_a:.3f}"


@pytest.mark.audio
def test_space_pauses_and_resumes(qtbot, window):
    win = window
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.doc.playhead > 0.4, timeout=4000)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.player.state == "paused", timeout=2000)
    held = win.doc.playhead
    qtbot.wait(400)
    assert win.doc.playhead == pytest.approx(held, abs=0.02)      # paused: the cursor stays
    assert 0.3 < held < 2.9
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.doc.playhead > held + 0.2, timeout=4000)
    win.transport.stop_btn.click()
    qtbot.waitUntil(lambda: win.player.state == "stopped", timeout=2000)
    assert win.doc.playhead == pytest.approx(0.0, abs=0.02)
