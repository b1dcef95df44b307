"""Faults and filters a user meets in the workspace, each checked against values written here
(not recomputed with the code under test): a clip list filter, a model that breaks for one
slot only, a file deleted after it was listed, closing during an analysis, no audio output."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")

from tests.conftest import realistic_audio  # noqa: E402
from tests.test_gui import CLASSES, clip, make_window, models, open_with, wait_idle  # noqa: E402,F401


def analysis_detecting(entry, labels: set[str], duration: float = 2.0):
    """An engine Analysis by ``entry`` that detects exactly ``labels`` (one event each, 0.5-1.5 s)."""
    from engine.analysis import Analysis, ScaleAnalysis

    hop = 0.1
    n = int(duration / hop)
    probs = np.full((n, len(entry.classes)), 0.01, np.float32)
    clip_probs = np.full(len(entry.classes), 0.01, np.float32)
    for label in labels:
        k = entry.classes.index(label)
        probs[5:15, k] = 0.95
        clip_probs[k] = 0.95
    sc = ScaleAnalysis("stage3", hop, np.arange(n) * hop, probs, np.full(n, 1.0 / n, np.float32))
    return Analysis(list(entry.classes), duration, clip_probs, None, [sc], entry.thresholds,
                    method=entry.method, primary_scale=0)


def audio_folder(tmp_path, names: list[str], seconds: float, seed: int):
    """A folder of realistic test clips named ``names``."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for i, name in enumerate(names):
        sf.write(folder / name, realistic_audio(seconds, seed=seed + i), 44100)
    return folder


def test_the_disagreement_filter_hides_clips_where_the_models_agree(qtbot, make_window, models, tmp_path):
    from mmgui.views.cliplist import COL_A, COL_B, COL_DISAGREE

    folder = audio_folder(tmp_path, [f"clip{i}.wav" for i in range(4)], 2.0, seed=20)
    win = make_window()
    doc = win.doc
    win.open_paths([str(folder)], remember=False)
    wait_idle(qtbot, win)
    a, b = doc.add_model(models["mmnet-ms"]), doc.add_model(models["resnet-att"])
    truth = {"clip0.wav": ({"dog"}, {"dog"}), "clip1.wav": ({"dog", "bell"}, {"dog"}),
             "clip2.wav": (set(), set()), "clip3.wav": (set(), {"alarm"})}
    for c in doc.clips:
        la, lb = truth[c.name]
        doc.analyses[(c.path, a.path)] = analysis_detecting(a, la)
        doc.analyses[(c.path, b.path)] = analysis_detecting(b, lb)
    doc.set_slot("A", a.path)
    doc.set_slot("B", b.path)
    wait_idle(qtbot, win)
    table = win.clip_list.table
    rows = {table.item(i, 0).text(): (table.item(i, COL_A).text(), table.item(i, COL_B).text(),
                                      table.item(i, COL_DISAGREE).text()) for i in range(table.rowCount())}
    assert rows == {"clip0.wav": ("dog", "dog", "agree"), "clip1.wav": ("bell, dog", "dog", "A only: bell"),
                    "clip2.wav": ("—", "—", "agree"), "clip3.wav": ("—", "alarm", "B only: alarm")}
    win.clip_list.only_disagree.setChecked(True)
    assert [os.path.basename(p) for p in win.clip_list.visible_paths()] == ["clip1.wav", "clip3.wav"]
    win.clip_list.only_disagree.setChecked(False)
    assert len(win.clip_list.visible_paths()) == 4


def test_a_model_whose_weights_are_damaged_fails_alone(qtbot, make_window, models, clip, tmp_path):
    """The header reads (so the model is listed), the weights do not: B is marked broken, A's
    analysis is shown, and the clip is not blamed."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    damaged = tmp_path / "damaged.safetensors"
    with safe_open(models["resnet-att"], "pt") as f:
        header = dict(f.metadata())
    meta = json.loads(header["meta"])
    meta["model_config"]["fc_hidden"] = 96                     # the weights are 64 wide: they cannot load
    save_file(load_file(models["resnet-att"]), str(damaged), metadata={**header, "meta": json.dumps(meta)})
    win = make_window()
    doc = win.doc
    assert doc.add_model(str(damaged)).error is None            # header only: fine so far
    open_with(qtbot, win, [clip], models["mmnet-ms"], str(damaged))
    assert doc.analysis("A") is not None
    assert doc.model(str(damaged)).error and "damaged.safetensors" in doc.model(str(damaged)).error
    assert doc.current.error is None and doc.analysis_error("A") is None
    assert any("damaged.safetensors" in e for e in win.errors)
    win.toolbar.sync()
    assert win.toolbar.combo_b.findData(str(damaged)) == -1     # no longer offered


def test_a_file_deleted_after_it_was_listed(qtbot, make_window, models, tmp_path):
    folder = audio_folder(tmp_path, ["c0.wav", "c1.wav"], 1.5, seed=30)
    win = make_window()
    open_with(qtbot, win, [str(folder)], models["mmnet-ms"])
    doc = win.doc
    assert doc.current.name == "c0.wav" and doc.analysis("A") is not None
    os.remove(folder / "c1.wav")
    doc.step_clip(1)
    wait_idle(qtbot, win)
    assert doc.current.name == "c1.wav" and doc.current.error and "c1.wav" in doc.current.error
    assert "c1.wav" in win.status_label.text() and doc.analysis("A") is None
    doc.step_clip(-1)                                             # the other clip still works
    wait_idle(qtbot, win)
    assert doc.current.name == "c0.wav" and doc.analysis("A") is not None and doc.current.error is None


def test_closing_the_window_during_an_analysis(qtbot, make_window, models, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, (0.1 * np.random.default_rng(0).standard_normal(44100 * 240)).astype(np.float32), 44100)
    win = make_window()
    doc = win.doc
    doc.add_model(models["mmnet-ms"])
    doc.set_slot("A", models["mmnet-ms"])
    win.open_paths([str(path)], remember=False)
    qtbot.waitUntil(lambda: doc.is_analyzing("A"), timeout=20000)
    t0 = time.monotonic()
    win.close()                                                   # cancels and waits for the pools
    assert time.monotonic() - t0 < 20.0
    assert doc.is_idle() or all(t.is_cancelled for t in doc.tasks.tasks)
    assert doc.analysis("A", str(path)) is None


def test_playback_unavailable_is_explained(qtbot, make_window, models, clip, monkeypatch):
    from mmgui import audio_io

    monkeypatch.setattr(audio_io, "audio_available", lambda: (False, "no audio output device"))
    win = make_window(player="auto")
    assert not win.player.available
    open_with(qtbot, win, [clip], models["mmnet-ms"])
    assert not win.transport.play_btn.isEnabled()
    assert win.transport.note.text() == "Playback off: no audio output device"
    win.transport.toggle()                                        # harmless
    assert win.doc.analysis("A") is not None and not win.errors


def test_the_window_assembles_every_feature(qtbot, make_window):
    """Tabs by key, the features' menus before Help, the annotation dock, regions on the spectrogram."""
    win = make_window()
    assert win.tab_keys() == ["analysis", "compare", "live", "batch", "evaluate", "runs", "teach"]
    for key in win.tab_keys():
        win.show_tab(key)
        assert win.current_tab() == key
    menus = [a.text() for a in win.menuBar().actions()]
    assert menus[0] == "&File" and menus[-1] == "&Help" and {"&Annotate", "&Training"} <= set(menus)
    assert set(win.docks) == {"clips", "models", "predictions", "annotations"}
    assert win.doc.annotations is win.features["mmgui.annotations.install"]
    assert win.width() <= 1300                                    # no feature widened the window


def test_building_the_window_does_not_import_torch(tmp_path):
    """torch takes 1.5 s to import: the app imports it on a background thread while the window is
    built, so nothing the window imports or builds may import it on the GUI thread."""
    import subprocess
    import sys

    code = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
            "from PySide6.QtCore import QSettings\nfrom mmgui.mainwindow import MainWindow\n"
            "w = MainWindow(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat), player=None)\n"
            "print('torch' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.ini")], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_the_label_picker_offers_the_dataset_labels(qtbot, make_window, clip):
    """Without any model, an annotator labelling a dataset clip picks from the dataset's own labels."""
    win = make_window()
    win.open_paths([clip], remember=False)
    wait_idle(qtbot, win)
    assert win.doc.current.strong == [(0.4, 1.1, "dog"), (1.5, 2.6, "bell")]
    assert win.doc.annotations.annotator.known_labels() == ["dog", "bell"]
