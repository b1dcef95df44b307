"""The bundled demo sets (mmgui/document/bundled.py): the app opens the real-sound demo clip with
the real-sound models by default; the synthetic set is one menu action (or ``--demo synthetic``)
away; live monitoring, annotation proposals and the batch tab work from slot A, so they default to
the real-sound models too."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSettings

from mmgui.document import PRETTY_METHODS, bundled

REAL, SYNTH = bundled.get("realsounds"), bundled.get("synthetic")


def _touch(root, *rels):
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def test_the_default_set_is_the_first_complete_one(tmp_path, monkeypatch):
    a = tmp_path / "assets"
    monkeypatch.setattr(bundled, "ASSETS", a)
    _touch(a, "models/other.safetensors", "models/mmnet-ms.safetensors", "models/resnet-att.safetensors",
           "demo/demo.wav")
    assert bundled.default_set().key == "synthetic"            # no real-sound files at all
    a_stem, b_stem = bundled.get("realsounds").stems
    _touch(a, f"models/realsounds/{a_stem}.safetensors", "demo/realsounds-demo.wav")
    assert bundled.default_set().key == "synthetic"            # its model B is missing
    _touch(a, f"models/realsounds/{b_stem}.safetensors", "models/realsounds/another.safetensors")
    assert bundled.default_set().key == "realsounds" and bundled.get(None).key == "realsounds"
    (a / "demo" / "realsounds-demo.wav").unlink()
    assert bundled.default_set().key == "synthetic"            # its clip is missing
    assert [p.name for p in bundled.get("synthetic").model_files()] == \
        ["resnet-att.safetensors", "mmnet-ms.safetensors", "other.safetensors"]   # the pair first
    assert [p.name for p in bundled.get("realsounds").model_files()] == \
        [f"{a_stem}.safetensors", f"{b_stem}.safetensors", "another.safetensors"]
    assert bundled.set_of(a / "models" / "realsounds" / "mmnet-ms.safetensors").key == "realsounds"
    assert bundled.set_of(a / "models" / "resnet-att.safetensors").key == "synthetic"
    assert bundled.set_of(tmp_path / "resnet-att.safetensors") is None
    with pytest.raises(KeyError, match="realsounds, synthetic"):
        bundled.get("birds")


@pytest.fixture
def window(qtbot, tmp_path):
    from mmgui import theme
    from mmgui.mainwindow import MainWindow

    if not (REAL.complete and SYNTH.complete):
        pytest.skip("bundled demo sets missing")
    theme.configure_pyqtgraph()
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, player=None, discover=True)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    yield win
    win.doc.shutdown()


def _analyzed(qtbot, win):
    qtbot.waitUntil(lambda: win.doc.is_idle() and win.doc.analysis("A") is not None
                    and win.doc.analysis("B") is not None, timeout=120_000)


def test_the_app_opens_the_real_sound_demo_with_its_models(qtbot, window, tmp_path):
    doc = window.doc
    window.opener.open_demo()
    real_a, real_b = (str(p) for p in REAL.pair())
    assert doc.current.path == str(REAL.clip)
    assert (doc.slots["A"], doc.slots["B"]) == (real_a, real_b)
    a_method = PRETTY_METHODS[doc.model("A").method]
    assert a_method.startswith("ResNet-ATT") and doc.model("B").method == "mmnet-ms"
    assert (doc.model("A").name, doc.model("B").name) == (f"{a_method} · real sounds", "M&mnet-MS · real sounds")
    assert doc.model("A").classes == real_classes()
    _analyzed(qtbot, window)
    assert doc.analysis("A").classes == real_classes()

    window.install_features()
    live = window.features["mmgui.live.install"]
    assert live.controls.model_path() == real_a                 # the live monitor starts with model A
    names = [live.controls.model.itemText(i) for i in range(live.controls.model.count())]
    assert "M&mnet-MS · real sounds" in names and "M&mnet-MS · synthetic" in names   # every set listed

    # annotation proposals come from model A: the real-sound model's classes, on a copy of the clip
    clip = tmp_path / "field.wav"
    shutil.copy(REAL.clip, clip)
    doc.open_paths([str(clip)])
    qtbot.waitUntil(lambda: doc.current is not None and doc.current.path == str(clip), timeout=10_000)
    store = doc.annotations
    store.annotator.propose("A")
    qtbot.waitUntil(lambda: doc.analysis("A", str(clip)) is not None, timeout=120_000)
    events = doc.events("A", str(clip))
    assert events, "model A detects nothing on the real-sound demo"
    qtbot.waitUntil(lambda: len(store.events(str(clip))) == len(events), timeout=10_000)
    proposed = [e for e in store.events(str(clip)) if e.status == "proposal"]
    assert sorted(e.label for e in proposed) == sorted(e.label for e in events)
    assert {e.label for e in proposed} <= set(real_classes())
    assert {e.source for e in proposed} == {f"realsounds/{REAL.pair()[0].name}"}      # folder/file of model A


def test_the_synthetic_demo_brings_its_own_models(qtbot, window):
    from mmgui.app import parse_args

    assert parse_args(["--demo", "synthetic"]).demo == "synthetic" and parse_args([]).demo is None
    doc = window.doc
    window.opener.open_demo()
    qtbot.waitUntil(lambda: doc.slots["A"] is not None, timeout=30_000)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    demos = next(a.menu() for a in menu.actions() if a.text() == "Open d&emo")
    titles = [a.text() for a in demos.actions()]
    assert titles == [REAL.title, SYNTH.title] and all(a.isEnabled() for a in demos.actions())
    demos.actions()[1].trigger()
    assert doc.current.path == str(SYNTH.clip)
    assert (doc.slots["A"], doc.slots["B"]) == tuple(str(p) for p in SYNTH.pair())
    _analyzed(qtbot, window)
    assert doc.analysis("A").classes != real_classes()
    demos.actions()[0].trigger()                                 # and back
    assert (doc.slots["A"], doc.slots["B"]) == tuple(str(p) for p in REAL.pair())
    assert doc.current.path == str(REAL.clip)


def real_classes() -> list[str]:
    from engine.modelfile import read_metadata

    return list(read_metadata(str(REAL.pair()[0]))["classes"])
