"""The analysis workspace driven for real: the main window, a small real model, real files.

Each test opens files in a MainWindow (offscreen), waits for the background work,
and checks that what the panes hold is the analysis of that clip.
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import soundfile as sf
import torch

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent, QImage  # noqa: E402

from tests.conftest import TINY, realistic_audio  # noqa: E402

CLASSES = ["dog", "bell", "speech", "alarm"]
STRONG = [(0.4, 1.1, "dog"), (1.5, 2.6, "bell")]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Small models with random weights: the same code paths as the bundled ones."""
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build

    d = tmp_path_factory.mktemp("models")
    out = {}
    for i, method in enumerate(("mmnet-ms", "resnet-att", "resnet-mean")):
        torch.manual_seed(i)
        model = build(method, len(CLASSES), **TINY).eval()
        bundle = ModelBundle(model, FeatureConfig(), list(CLASSES),
                             Normalizer(np.full(128, 3.0), np.full(128, 2.0)),
                             thresholds=np.array([0.5, 0.4, 0.6, 0.5], np.float32))
        out[method] = str(save_model(bundle, d / f"{method}.safetensors"))
    return out


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 3-s clip with a strong-label file next to it (``<stem>_strong.tsv``)."""
    d = tmp_path_factory.mktemp("clips")
    path = d / "street.wav"
    sf.write(path, realistic_audio(3.0, seed=1), 44100)
    rows = "".join(f"street.wav\t{a}\t{b}\t{c}\n" for a, b, c in STRONG)
    (d / "street_strong.tsv").write_text("filename\tonset\toffset\tevent_label\n" + rows)
    return str(path)


@pytest.fixture(scope="module")
def reference(models, clip):
    """What the engine says about the clip (with the log-mel), to compare the panes with."""
    import engine

    return {m: engine.load_model(p, device="cpu").analyze(clip, keep_features=True) for m, p in models.items()}


@pytest.fixture
def make_window(qtbot, tmp_path):
    from mmgui import theme
    from mmgui.mainwindow import MainWindow

    theme.configure_pyqtgraph()
    windows = []

    def make(player=None, **kw):
        settings = QSettings(str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat)
        win = MainWindow(settings=settings, player=player, **kw)
        qtbot.addWidget(win)
        win.resize(1300, 860)
        win.show()
        windows.append(win)
        return win

    yield make
    for w in windows:
        w.doc.shutdown()


def wait_idle(qtbot, win, timeout=60000):
    qtbot.waitUntil(lambda: win.doc.is_idle(), timeout=timeout)
    qtbot.wait(20)


def open_with(qtbot, win, paths, a=None, b=None):
    doc = win.doc
    for m in (a, b):
        if m:
            doc.add_model(m)
    if a:
        doc.set_slot("A", a)
    if b:
        doc.set_slot("B", b)
    win.open_paths(paths, remember=True)
    wait_idle(qtbot, win)


# ----------------------------------------------------------------------------- tests
def test_panes_show_the_analysis_of_the_clip(qtbot, make_window, models, clip, reference):
    win = make_window()
    open_with(qtbot, win, [clip], models["mmnet-ms"], models["resnet-att"])
    doc, ref = win.doc, reference["mmnet-ms"]
    a = doc.analysis("A")
    assert a is not None and doc.analysis("B") is not None
    np.testing.assert_allclose(a.clip_macro, ref.clip_macro, atol=1e-6)

    # spectrogram: the engine's log-mel, drawn from t=0 on the frame grid, mel bands on y
    spec = win.analysis.spectrogram
    img = spec.image.image
    assert img.dtype == np.float32 and img.flags.c_contiguous
    np.testing.assert_allclose(img, ref.log_mel, rtol=1e-5, atol=1e-4)
    from mmgui.views.spectrogram import image_rect

    x, y, w, h = image_rect(spec.image)
    assert x == pytest.approx(0) and h == pytest.approx(128)
    assert w == pytest.approx(ref.log_mel.shape[1] * ref.frame_hop_s, rel=1e-6)
    assert spec.mel_axis.row_to_hz(0.5) == pytest.approx(31.0, abs=1.0)
    assert "Hz" in spec.readout(1.0, 64.0) and "log-mel" in spec.readout(1.0, 64.0)

    # heatmap: d_t of the primary scale, classes x segments, on that scale's time grid
    heat = win.analysis.heatmap
    sc = ref.scale(None)
    np.testing.assert_allclose(heat.image.image, sc.segment_probs.T, atol=1e-6)
    x, y, w, h = image_rect(heat.image)
    assert (x, y, h) == pytest.approx((0, 0, len(CLASSES)))
    assert w == pytest.approx(len(sc.times) * sc.hop_s)
    assert heat.class_axis.names == CLASSES

    # curves of the three most probable classes
    shown = doc.shown_classes(a)
    assert shown == [CLASSES[i] for i in np.argsort(-a.clip_probs)[:3]]
    assert list(win.analysis.curves.class_curves) == shown

    # attention: every scale of M&mnet-MS, each on its own grid
    att = win.analysis.attention
    assert [s.name for s in att.shown_scales] == ["stage1", "stage2", "stage3", "up1", "up2"]
    for curve, s in zip(att.drawn, ref.scales):
        xd, yd = curve.getOriginalDataset()
        np.testing.assert_allclose(xd[:-1], s.times)
        np.testing.assert_allclose(yd[:-1], s.attention / s.hop_s, rtol=1e-5)

    # events: reference from the TSV next to the clip, then A and B
    ev = win.analysis.events
    assert [k for k, _, _ in ev.lanes] == ["ref", "A", "B"]
    assert [tuple(e[:3]) for e in ev.events_in_lane("ref")] == STRONG
    assert [tuple(e) for e in ev.events_in_lane("A")] == [tuple(e) for e in ref.events()]   # none here
    b_events = [tuple(e) for e in reference["resnet-att"].events()]
    assert b_events and [tuple(e) for e in ev.events_in_lane("B")] == b_events    # B detects events

    # clip predictions: sorted, thresholds marked
    pred = win.predictions
    probs = a.clip_probs
    assert [probs[i] for i in pred.order] == sorted(probs, reverse=True)

    # the clip list knows the labels and what each model detects
    cl = win.clip_list
    from mmgui.views.cliplist import COL_A, COL_LABELS

    assert cl.table.item(0, COL_LABELS).text() == "bell, dog"
    assert cl.table.item(0, COL_A).text() not in ("…", "")


def test_scale_and_attention_controls(qtbot, make_window, models, clip, reference):
    win = make_window()
    open_with(qtbot, win, [clip], models["mmnet-ms"])
    ref = reference["mmnet-ms"]
    combo = win.toolbar.combo_scale
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names == ["stage1", "stage2", "stage3", "up1", "up2"]
    assert combo.currentData() == "stage3"          # the primary scale (0.18 s)
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    s1 = ref.scale("stage1")
    np.testing.assert_allclose(win.analysis.heatmap.image.image, s1.segment_probs.T, atol=1e-6)
    assert "stage1" in win.analysis.heatmap.title_html

    win.doc.set_attention_scale("up1")
    att = win.analysis.attention
    assert [s.name for s in att.shown_scales] == ["up1"] and len(att.drawn) == 1
    win.toolbar.per_second.setChecked(False)
    _, yd = att.drawn[0].getOriginalDataset()
    np.testing.assert_allclose(yd[:-1], ref.scale("up1").attention, rtol=1e-5)
    win.doc.set_attention_scale("all")
    assert len(att.drawn) == 5

    # choosing classes for the curves by clicking the clip predictions (through the document)
    win.doc.set_selected_classes(["bell"])
    curves = win.analysis.curves.class_curves
    assert list(curves) == ["bell"]
    np.testing.assert_allclose(curves["bell"].getOriginalDataset()[1][:-1], s1.segment_probs[:, 1])


def test_compare_two_models(qtbot, make_window, models, clip, reference):
    win = make_window()
    open_with(qtbot, win, [clip], models["resnet-att"], models["mmnet-ms"])
    win.show_tab("compare")
    qtbot.wait(50)
    panes = win.compare.panes
    spec_a, heat_a, att_a, ev_a = panes.columns["A"]
    spec_b, heat_b, att_b, ev_b = panes.columns["B"]
    ra, rb = reference["resnet-att"], reference["mmnet-ms"]
    np.testing.assert_allclose(heat_a.image.image, ra.scale(None).segment_probs.T, atol=1e-6)
    np.testing.assert_allclose(heat_b.image.image, rb.scale(None).segment_probs.T, atol=1e-6)
    assert [s.name for s in att_a.shown_scales] == ["stage3"] and len(att_b.shown_scales) == 5
    assert [k for k, _, _ in ev_a.lanes] == ["ref", "A"] and [k for k, _, _ in ev_b.lanes] == ["ref", "B"]

    # shared colour levels: one bar drives both spectrograms, and the analysis tab follows
    panes.spec_bar.setLevels((2.0, 9.0))
    panes.spec_bar.sigLevelsChanged.emit(panes.spec_bar)
    assert tuple(spec_a.image.levels) == tuple(spec_b.image.levels) == (2.0, 9.0)
    assert win.doc.spec_levels == (2.0, 9.0)
    assert tuple(win.analysis.spectrogram.image.levels) == (2.0, 9.0)
    assert tuple(heat_a.image.levels) == tuple(heat_b.image.levels) == (0.0, 1.0)

    # x-linked in seconds: zooming one column zooms the other (and the analysis tab on show)
    spec_a.vb.setXRange(1.0, 2.0, padding=0)
    assert spec_b.vb.viewRange()[0] == pytest.approx([1.0, 2.0])
    assert win.doc.view_range == pytest.approx((1.0, 2.0))
    win.show_tab("analysis")
    qtbot.wait(20)
    assert win.analysis.heatmap.vb.viewRange()[0] == pytest.approx([1.0, 2.0])

    # per-class table: both probabilities and the difference
    table = win.compare.table
    assert table.rowCount() == len(CLASSES)
    for c, pa, pb, diff, *_ in table.rows:
        i = CLASSES.index(c)
        assert pa == pytest.approx(float(ra.clip_probs[i]), abs=1e-6)
        assert pb == pytest.approx(float(rb.clip_probs[i]), abs=1e-6)
        assert diff == pytest.approx(pb - pa)
    diffs = [abs(r[3]) for r in table.rows]
    assert diffs == sorted(diffs, reverse=True)


def test_model_without_segment_level(qtbot, make_window, models, clip):
    win = make_window()
    open_with(qtbot, win, [clip], models["resnet-mean"], models["mmnet-ms"])
    a = win.doc.analysis("A")
    assert a is not None and not a.scales
    assert "no segment level" in win.analysis.heatmap.placeholder.textItem.toPlainText()
    assert "no segment level" in win.analysis.attention.placeholder.textItem.toPlainText()
    assert win.analysis.heatmap.image.image is None
    assert not win.toolbar.combo_scale.isEnabled()
    # its clip-level events span the analysis window
    assert all(e.onset == 0.0 for e in win.doc.events("A"))


def test_seek_loop_zoom_and_playhead(qtbot, make_window, models, clip):
    win = make_window()
    open_with(qtbot, win, [clip], models["mmnet-ms"])
    spec = win.analysis.spectrogram
    # a click in the spectrogram seeks there; every pane's cursor follows
    scene_pt = spec.vb.mapViewToScene(QPointF(1.25, 60.0))
    view = win.analysis.graphics
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_pt))
    assert win.doc.playhead == pytest.approx(1.25, abs=0.02)
    for pane in win.analysis.panes + win.compare.panes.panes:
        assert pane.playhead.value() == pytest.approx(win.doc.playhead)
    # the document clamps seeks to the clip
    win.doc.request_seek(99.0)
    assert win.doc.playhead == pytest.approx(3.0, abs=0.01)
    # loop region shown in every pane
    win.doc.set_loop((0.5, 1.5))
    assert all(p.loop_item.isVisible() for p in win.analysis.panes)
    assert win.analysis.events.loop_item.getRegion() == pytest.approx((0.5, 1.5))
    assert win.transport.loop_btn.isChecked()
    # keyboard zoom and pan act on all panes
    win.doc.fit()
    win.doc.zoom(0.5)
    assert win.analysis.attention.vb.viewRange()[0] == pytest.approx([0.75, 2.25], abs=1e-6)
    win.doc.pan(0.25)
    assert win.analysis.spectrogram.vb.viewRange()[0] == pytest.approx([1.125, 2.625], abs=1e-6)
    win.doc.pan(10)
    assert win.doc.view_range[1] == pytest.approx(win.doc.duration())


class FakePlayer:
    """The audio_io.Player interface without a sound card (signals are Qt signals)."""

    def __new__(cls):
        from PySide6.QtCore import QObject, Signal

        class _P(QObject):
            positionChanged = Signal(float)
            stateChanged = Signal(str)
            error = Signal(str)
            available, unavailable_reason = True, ""
            state = "stopped"

            def __init__(self):
                super().__init__()
                self.calls = []

            def set_audio(self, samples, sr):
                self.calls.append(("set_audio", len(samples), sr))

            def seek(self, t):
                self.calls.append(("seek", t))
                self.positionChanged.emit(t)

            def set_loop(self, a, b):
                self.calls.append(("loop", a, b))

            def toggle(self):
                self.calls.append(("toggle",))

            def stop(self):
                self.calls.append(("stop",))

            def set_device(self, i):
                self.calls.append(("device", i))

        return _P()


def test_playback_follows_the_player_clock(qtbot, make_window, models, clip, monkeypatch):
    from mmgui import audio_io

    monkeypatch.setattr(audio_io, "output_devices", lambda: [{"index": 3, "name": "null sink", "default": True}])
    player = FakePlayer()
    win = make_window(player=player)
    open_with(qtbot, win, [clip], models["mmnet-ms"])
    assert ("set_audio", 3 * 44100, 44100) in player.calls
    assert win.transport.play_btn.isEnabled()
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert ("toggle",) in player.calls
    player.positionChanged.emit(2.0)                  # the stream clock moves the cursor
    assert win.analysis.heatmap.playhead.value() == pytest.approx(2.0)
    win.doc.request_seek(0.7)                          # a click in a pane seeks the player
    assert ("seek", pytest.approx(0.7)) in player.calls
    win.doc.set_loop((1.0, 2.0))
    assert player.calls[-1] == ("loop", 1.0, 2.0)


def test_bad_files_do_not_stop_the_app(qtbot, make_window, models, clip, tmp_path):
    win = make_window()
    bad_audio = tmp_path / "broken.wav"
    bad_audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    bad_model = tmp_path / "broken.safetensors"
    bad_model.write_bytes(os.urandom(300))
    pickle_model = tmp_path / "model.safetensors"
    torch.save({"x": torch.zeros(2)}, pickle_model)

    open_with(qtbot, win, [str(bad_audio)], models["mmnet-ms"])
    assert win.doc.current.error and "broken.wav" in win.doc.current.error
    assert "broken.wav" in win.status_label.text()
    assert "Cannot read" in win.analysis.spectrogram.placeholder.textItem.toPlainText()
    assert win.doc.analysis("A") is None

    win.open_paths([str(empty), str(bad_model), str(pickle_model), str(tmp_path / "missing.wav")])
    wait_idle(qtbot, win)
    broken = [m for m in win.doc.models if m.error]
    assert {os.path.basename(m.path) for m in broken} == {"broken.safetensors", "model.safetensors"}
    assert win.doc.slots["B"] is None                  # unusable models are never selected
    win.doc.set_slot("B", str(bad_model))
    assert win.doc.slots["B"] is None and "broken.safetensors" in win.status_label.text()

    win.open_paths([clip])                             # and the app goes on
    wait_idle(qtbot, win)
    assert win.doc.analysis("A") is not None
    assert win.clip_list.table.rowCount() == 3         # broken.wav, empty.wav, street.wav


def test_dataset_clip_list_and_disagreements(qtbot, make_window, models, tmp_path):
    root = tmp_path / "desed"
    (root / "audio" / "test").mkdir(parents=True)
    (root / "metadata").mkdir()
    weak, strong = ["filename\tevent_labels"], ["filename\tonset\toffset\tevent_label"]
    for i in range(3):
        name = f"clip{i}.wav"
        sf.write(root / "audio" / "test" / name, realistic_audio(2.0, seed=10 + i) * (0.3 + i), 44100)
        weak.append(f"{name}\t{CLASSES[i]}")
        strong.append(f"{name}\t0.2\t1.0\t{CLASSES[i]}")
    (root / "metadata" / "test_weak.tsv").write_text("\n".join(weak) + "\n")
    (root / "metadata" / "test_strong.tsv").write_text("\n".join(strong) + "\n")

    from mmgui.views.cliplist import COL_DISAGREE

    win = make_window()
    open_with(qtbot, win, [str(root)], models["mmnet-ms"], models["resnet-att"])
    doc = win.doc
    assert [c.name for c in doc.clips] == ["clip0.wav", "clip1.wav", "clip2.wav"]
    assert doc.current.name == "clip0.wav" and doc.current.strong == [(0.2, 1.0, "dog")]
    assert [k for k, _, _ in win.analysis.events.lanes] == ["ref", "A", "B"]
    win.clip_list.analyze_all.click()
    wait_idle(qtbot, win)
    assert len(doc.analyses) == 6
    table = win.clip_list.table
    for i, c in enumerate(doc.clips):
        dis = doc.disagreement(c.path)
        assert (table.item(i, COL_DISAGREE).text() == "agree") == (not (dis[0] or dis[1]))
    win.clip_list.only_disagree.setChecked(True)
    shown = win.clip_list.visible_paths()
    assert shown == [c.path for c in doc.clips if any(doc.disagreement(c.path))]
    win.clip_list.only_disagree.setChecked(False)
    win.clip_list.filter.setText("clip2")
    assert [os.path.basename(p) for p in win.clip_list.visible_paths()] == ["clip2.wav"]
    # selecting a row opens that clip (spectrogram cached per clip, analyses reused)
    win.clip_list.filter.setText("")
    table.selectRow(2)
    assert doc.current.name == "clip2.wav"
    wait_idle(qtbot, win)
    np.testing.assert_allclose(win.analysis.heatmap.image.image,
                               doc.analysis("A").scale(None).segment_probs.T)


def test_drop_and_recent_files(qtbot, make_window, models, clip):
    win = make_window()
    win.doc.add_model(models["mmnet-ms"])
    win.doc.set_slot("A", models["mmnet-ms"])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(clip)])
    ev = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    wait_idle(qtbot, win)
    assert win.doc.current is not None and win.doc.current.path == clip
    assert win.doc.analysis("A") is not None
    assert win.opener.recent("recent")[0] == clip
    assert clip in [a.text() for a in win.recent_menu.actions()]


def test_cancel_long_analysis(qtbot, make_window, models, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.tile(realistic_audio(10.0, seed=3), 12), 44100)   # 2 minutes
    win = make_window()
    win.doc.add_model(models["mmnet-ms"])
    win.doc.set_slot("A", models["mmnet-ms"])
    win.open_paths([str(path)])
    qtbot.waitUntil(lambda: win.progress.isVisible(), timeout=5000)
    win.cancel_btn.click()
    wait_idle(qtbot, win)
    assert win.doc.analysis("A") is None
    assert "Cancelled" in win.status_label.text()
    assert not win.progress.isVisible()


def test_long_file_draws_from_the_pyramid(qtbot, make_window, models, tmp_path):
    path = tmp_path / "five_min.wav"
    sf.write(path, np.tile(realistic_audio(10.0, seed=4), 30), 22050)   # 5 min at 22.05 kHz
    win = make_window()
    win.open_paths([str(path)])                         # no model: spectrogram only
    wait_idle(qtbot, win)
    spec = win.analysis.spectrogram
    entry = win.doc.spectrogram()
    assert entry.finished and entry.pyramid.n_levels >= 3
    assert spec.image.image.shape[1] <= 2 * max(200, int(spec.vb.width())) + 2
    assert spec._shown[1] > 0                            # a decimated level for the whole file
    full = entry.pyramid.full()
    win.doc.set_view_range(100.0, 102.0)                # zoomed in: full resolution
    qtbot.wait(10)
    _, level, start, end, _ = spec._shown
    assert level == 0
    a = int(round(start / entry.pyramid.hop_s))
    np.testing.assert_array_equal(spec.image.image, full[:, a:a + spec.image.image.shape[1]])


def test_screenshot_command(models, clip, tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, os.path.join(root, "main.py"), "--screenshot", str(out),
                           "--no-audio", "--model", models["resnet-att"], "--model", models["mmnet-ms"], clip],
                          capture_output=True, text=True, timeout=180, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1400, 900)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    proc = subprocess.run([sys.executable, os.path.join(root, "main.py"), "--screenshot", str(tmp_path / "b.png"),
                           "--no-audio", "--model", models["mmnet-ms"], str(bad)],
                          capture_output=True, text=True, timeout=180, env=env, cwd=str(tmp_path))
    assert proc.returncode != 0 and "bad.wav" in proc.stderr


def test_the_app_opens_the_demo_with_the_models_it_discovers(tmp_path):
    """What a new user sees: no arguments, so the bundled models are discovered in the
    background and fill slots A and B, and both analyze the demo clip."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, "assets", "models", "mmnet-ms.safetensors")):
        pytest.skip("bundled models missing")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, os.path.join(root, "main.py"), "--screenshot", str(tmp_path / "s.png"),
                           "--no-audio", "--timings"], capture_output=True, text=True, timeout=180, env=env,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "did not analyze" not in proc.stderr and (tmp_path / "s.png").exists()
    from mmgui.document import bundled
    from mmgui.document.models import read_entry

    demo = bundled.default_set()        # the real-sound set where its files are present
    a, b = (read_entry(str(p), "bundled").name for p in demo.pair())
    assert f"(clip {demo.clip.name}; A: {a}; B: {b})" in proc.stderr, proc.stderr


def test_starts_without_demo_assets(qtbot, make_window, monkeypatch, tmp_path):
    from mmgui.document import bundled

    monkeypatch.setattr(bundled, "ASSETS", tmp_path / "assets")
    win = make_window()
    win.opener.discover_models()
    assert win.opener.open_demo() is False
    assert "Demo clip not found" in win.status_label.text()
    assert win.doc.current is None and win.clip_list.table.rowCount() == 0
    assert "Open an audio file" in win.analysis.spectrogram.placeholder.textItem.toPlainText() or \
        win.analysis.spectrogram.image.image is None
