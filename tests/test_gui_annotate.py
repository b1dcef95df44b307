"""Annotation in the GUI, driven for real: a Document with a real clip, the spectrogram pane with
its regions, the Annotations dock and the Annotate menu (``mmgui.annotations.install``), real
mouse events and keys, real files; a child process killed with SIGKILL while editing.

The host window below offers what the main window offers to ``install`` (``doc``,
``add_dock``, ``menu``), with the real spectrogram pane as its central widget.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow  # noqa: E402

from tests.conftest import TINY, realistic_audio  # noqa: E402

CLASSES = ["dog", "bell", "speech", "alarm"]


class Host(QMainWindow):
    """What MainWindow offers to install(): doc, add_dock, menu; the spectrogram pane in the middle."""

    def __init__(self, doc):
        super().__init__()
        from mmgui.views.spectrogram import SpectrogramPane

        self.doc = doc
        self.setWindowTitle("M&m Studio")
        self.view = pg.GraphicsLayoutWidget()
        self.pane = SpectrogramPane(doc)
        self.view.addItem(self.pane)
        self.setCentralWidget(self.view)
        self.docks, self.menus, self.tabs = {}, {}, {}

    def add_dock(self, key, title, widget, area):
        dock = QDockWidget(title, self)
        dock.setObjectName(key)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def add_tab(self, key, title, widget):
        self.tabs[key] = widget          # kept (a real window shows it in its tab widget)

    def menu(self, title):
        if title not in self.menus:
            self.menus[title] = self.menuBar().addMenu(title)
        return self.menus[title]


@pytest.fixture
def clip(tmp_path):
    d = tmp_path / "clips"
    d.mkdir()
    paths = []
    for i, name in enumerate(("street.wav", "park.wav")):
        sf.write(d / name, realistic_audio(3.0, seed=i + 1), 44100)
        paths.append(str(d / name))
    return paths


@pytest.fixture
def make_host(qtbot, tmp_path):
    from mmgui import theme
    from mmgui.annotations.install import install
    from mmgui.document import Document
    from mmgui.views.regions import attach

    theme.configure_pyqtgraph()
    made = []

    def make(paths):
        doc = Document()
        host = Host(doc)
        qtbot.addWidget(host)
        host.resize(1100, 600)
        store = install(host, fallback_dir=tmp_path / "fallback")
        host.layer = attach(host.pane, store, doc)
        doc.open_paths(paths)
        qtbot.waitUntil(lambda: doc.current is not None, timeout=10000)
        host.show()
        qtbot.waitExposed(host)
        entry = doc.spectrogram(doc.current.path)
        qtbot.waitUntil(lambda: entry.finished and len(entry.mel_hz) > 0, timeout=20000)
        host.pane.vb.setXRange(0.0, doc.current.duration or 3.0, padding=0)   # the window does this
        host.pane.refresh()
        made.append(host)
        return host

    yield make
    for host in made:
        host.doc.tasks.shutdown()
        host.close()


# ------------------------------------------------------------------ mouse helpers
def _send(widget, kind, pos, button, buttons, mods):
    ev = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons, mods)
    QApplication.sendEvent(widget, ev)
    if kind == QEvent.Type.MouseMove:
        QTest.qWait(12)           # pyqtgraph drops moves closer than 10 ms (mouseRateLimit)


def view_pos(host, t, y):
    """Viewport pixel of the data point (t s, y mel rows)."""
    scene = host.pane.vb.mapViewToScene(QPointF(t, y))
    return host.view.mapFromScene(scene)


def drag(host, a, b, mods=Qt.KeyboardModifier.NoModifier, steps=6):
    """A real left-button drag in the viewport from data point a to b (hover first, as a user does)."""
    vp = host.view.viewport()
    pa, pb = view_pos(host, *a), view_pos(host, *b)
    none, left = Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton
    _send(vp, QEvent.Type.MouseMove, pa - (pb - pa) / 20, none, none, mods)
    _send(vp, QEvent.Type.MouseMove, pa, none, none, mods)
    _send(vp, QEvent.Type.MouseButtonPress, pa, left, left, mods)
    for k in range(1, steps + 1):
        _send(vp, QEvent.Type.MouseMove, pa + (pb - pa) * k / steps, none, left, mods)
    _send(vp, QEvent.Type.MouseButtonRelease, pb, left, none, mods)
    QApplication.processEvents()


def triggered(host, text):
    acts = [a for a in host.menus["&Annotate"].actions() if a.text() == text]
    assert acts, text
    acts[0].trigger()


# ------------------------------------------------------------------ tests
def test_draw_move_resize_delete_with_mouse_and_undo(make_host, clip, qtbot):
    host = make_host(clip)
    store, path = host.doc.annotations, host.doc.current.path
    ctrl = Qt.KeyboardModifier.ControlModifier
    assert "[*]" in host.windowTitle() and not host.isWindowModified()

    drag(host, (0.5, 60), (1.2, 70), ctrl)                    # Ctrl+drag: a time range
    (a,) = store.events(path)
    assert a.onset == pytest.approx(0.5, abs=0.02) and a.offset == pytest.approx(1.2, abs=0.02)
    assert a.low_hz is None and a.high_hz is None and a.status == "manual"
    assert host.isWindowModified()
    assert store.selected == (path, a.id)

    drag(host, (a.offset, 40), (1.6, 40))                     # right edge: offset
    b = store.get(path, a.id)
    assert b.onset == pytest.approx(a.onset, abs=1e-9) and b.offset == pytest.approx(1.6, abs=0.02)
    drag(host, (1.0, 40), (1.5, 90))                          # inside: moves in time only
    c = store.get(path, a.id)
    assert c.onset == pytest.approx(b.onset + 0.5, abs=0.02)
    assert c.offset - c.onset == pytest.approx(b.offset - b.onset, abs=1e-6)
    assert c.low_hz is None

    drag(host, (2.0, 30), (2.6, 80), ctrl | Qt.KeyboardModifier.ShiftModifier)   # Ctrl+Shift: a box
    box = [e for e in store.events(path) if e.id != a.id][0]
    axis = host.pane.mel_axis
    assert box.low_hz == pytest.approx(axis.row_to_hz(30), rel=0.02)
    assert box.high_hz == pytest.approx(axis.row_to_hz(80), rel=0.02)
    drag(host, (2.3, 80), (2.3, 100))                         # top edge: high frequency
    assert store.get(path, box.id).high_hz == pytest.approx(axis.row_to_hz(100), rel=0.02)
    assert store.get(path, box.id).low_hz == pytest.approx(box.low_hz)

    host.activateWindow()
    triggered(host, "Delete event")                           # the box is selected
    assert [e.id for e in store.events(path)] == [a.id]
    assert len(host.layer.items) == 1
    stack = store.undo_stack
    assert stack.count() == 6
    stack.undo()                                              # the box is back, as it was
    assert store.get(path, box.id).high_hz == pytest.approx(axis.row_to_hz(100), rel=0.02)
    for _ in range(4):
        stack.undo()
    assert store.get(path, a.id) == a and store.get(path, box.id) is None
    stack.undo()
    assert store.events(path) == [] and not host.layer.items
    for _ in range(6):
        stack.redo()
    assert [e.id for e in store.events(path)] == [a.id] and store.get(path, a.id) == c


def test_two_models_of_the_same_file_name_keep_their_own_proposals(qtbot, tmp_path):
    """Both bundled sets hold mmnet-ms.safetensors and every run exports model.safetensors: proposing
    from one must not replace the other's pending proposals."""
    from engine.analysis import Event
    from mmgui.annotations.proposals import as_proposals, source_name
    from mmgui.annotations.store import AnnotationStore

    real, synthetic = "/a/models/realsounds/mmnet-ms.safetensors", "/a/models/mmnet-ms.safetensors"
    assert (source_name(real), source_name(synthetic)) == ("realsounds/mmnet-ms.safetensors",
                                                            "models/mmnet-ms.safetensors")
    assert source_name("model.safetensors") == "model.safetensors"
    store = AnnotationStore()
    clip = str(tmp_path / "x.wav")
    for path, label in ((real, "glass"), (synthetic, "knock")):
        store.add_proposals(clip, as_proposals([Event(1.0, 1.5, label, 0.8)], source_name(path)), source_name(path))
    store.add_proposals(clip, as_proposals([Event(2.0, 2.5, "siren", 0.9)], source_name(real)), source_name(real))
    assert sorted((e.source, e.label) for e in store.events(clip)) == [
        ("models/mmnet-ms.safetensors", "knock"), ("realsounds/mmnet-ms.safetensors", "siren")]


def test_store_edits_undo_and_dirty(qtbot, tmp_path):
    from mmgui.annotations.store import Annotation, AnnotationStore

    store = AnnotationStore()
    clip = str(tmp_path / "x.wav")
    store.set_current(clip)
    seen = []
    store.dirtyChanged.connect(lambda c, d: seen.append(d))
    i = store.add(clip, Annotation(0.2, 0.4, "dog"))
    j = store.add(clip, Annotation(1.0, 1.5, "bell", 500.0, 3000.0))
    states = [list(store.events(clip))]
    assert store.move(clip, i, 0.3, 0.9)
    assert not store.move(clip, i, 0.3, 0.9)                    # no change: no undo step
    assert store.relabel(clip, [i, j], "alarm")
    assert store.set_status(clip, [j], "rejected")
    assert store.delete(clip, [i])
    assert [(e.label, e.status) for e in store.events(clip)] == [("alarm", "rejected")]
    while store.undo_stack.canUndo():
        store.undo_stack.undo()
    assert store.events(clip) == [] and seen == [True, False]
    store.undo_stack.redo()
    store.undo_stack.redo()
    assert store.events(clip) == states[0]
    with pytest.raises(ValueError):
        Annotation(1.0, 0.5, "x")
    with pytest.raises(ValueError):
        store.relabel(clip, [i], "  ")


@pytest.fixture
def low_threshold_model(tmp_path):
    """A small random model whose thresholds are low enough that every class gives an event."""
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build

    torch.manual_seed(3)
    model = build("mmnet-ms", len(CLASSES), **TINY).eval()
    bundle = ModelBundle(model, FeatureConfig(), list(CLASSES), Normalizer(np.full(128, 3.0), np.full(128, 2.0)),
                         thresholds=np.full(len(CLASSES), 1e-4, np.float32))
    return str(save_model(bundle, tmp_path / "proposer.safetensors"))


def test_proposals_from_a_model_accepted_in_bulk(make_host, clip, low_threshold_model, qtbot):
    host = make_host(clip)
    doc, store = host.doc, host.doc.annotations
    path = doc.current.path
    doc.add_model(low_threshold_model)
    doc.set_slot("A", low_threshold_model)
    triggered(host, "Propose events of model A")              # analyses first, proposes when done
    qtbot.waitUntil(lambda: len(store.events(path)) > 0, timeout=30000)
    engine_events = doc.events("A", path)
    props = store.events(path)
    assert len(props) == len(engine_events) >= 2
    assert {(round(e.onset, 6), e.label, round(e.score, 6)) for e in engine_events} == \
           {(round(p.onset, 6), p.label, round(p.score, 6)) for p in props}
    source = f"{Path(low_threshold_model).parent.name}/proposer.safetensors"
    assert all(p.status == "proposal" and p.source == source for p in props)
    scores = sorted(p.score for p in props)
    cut = (scores[0] + scores[-1]) / 2
    host.doc.annotations.annotator.panel().score_spin.setValue(round(cut, 2))
    triggered(host, "Accept proposals above the score")
    cut = round(cut, 2)
    for p in store.events(path):
        assert p.status == ("accepted" if p.score >= cut else "proposal"), p
    assert 0 < sum(p.status == "accepted" for p in store.events(path)) < len(props)
    # one by one: the first pending proposal is rejected
    pending = [p for p in store.events(path) if p.status == "proposal"][0]
    store.select(path, pending.id)
    triggered(host, "Reject proposal")
    assert store.get(path, pending.id).status == "rejected"
    # proposing again replaces only the pending proposals; decided ones stay
    decided = {p.id for p in store.events(path) if p.status != "proposal"}
    host.doc.annotations.annotator.propose("A")
    assert decided <= {p.id for p in store.events(path)}
    store.undo_stack.undo()
    store.undo_stack.undo()
    store.undo_stack.undo()
    assert all(p.status == "proposal" for p in store.events(path))


def test_autosave_within_two_seconds_and_restored(make_host, clip, qtbot, tmp_path):
    from mmgui.annotations.store import Annotation

    host = make_host(clip)
    store, path = host.doc.annotations, host.doc.current.path
    saved = Path(path + ".annotations.csv")
    t0 = time.monotonic()
    ident = store.add(path, Annotation(0.25, 0.75, "dog", 300.0, 4000.0, "accepted", "m.safetensors", 0.8125,
                                       {"Selection": "7"}))
    assert host.isWindowModified()
    qtbot.waitUntil(lambda: saved.is_file() and not store.is_dirty(path), timeout=2000)
    assert time.monotonic() - t0 < 2.0
    assert not host.isWindowModified()
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]    # no temporary file left
    store.relabel(path, [ident], "bell")
    store.add(path, Annotation(2.0, 2.5, "alarm"))
    host.doc.set_current(clip[1])                              # another clip: nothing to write
    host.close()                                               # closing writes what is pending
    assert "bell" in saved.read_text() and "alarm" in saved.read_text()

    again = make_host(clip)                                    # the clip opened again: restored
    s2 = again.doc.annotations
    events = s2.events(path)
    assert [(e.onset, e.offset, e.label, e.low_hz, e.high_hz, e.status, e.source, e.score, e.extra)
            for e in events] == [(0.25, 0.75, "bell", 300.0, 4000.0, "accepted", "m.safetensors", 0.8125,
                                  {"Selection": "7"}),
                                 (2.0, 2.5, "alarm", None, None, "manual", None, None, {})]
    assert not s2.is_dirty(path) and s2.undo_stack.count() == 0
    assert len(again.layer.items) == 2 and s2.annotator.panel().table.rowCount() == 2


def test_unwritable_target_falls_back(qtbot, tmp_path):
    """When the file beside the clip cannot be written (here a folder is in its way, which fails
    for root too), the annotations go to the fallback folder and are restored from there."""
    from mmgui.annotations.autosave import AutoSaver, beside_path, fallback_path
    from mmgui.annotations.store import Annotation, AnnotationStore

    clip = str(tmp_path / "a.wav")
    Path(clip).write_bytes(b"")
    beside_path(clip).mkdir()
    store = AnnotationStore()
    saver = AutoSaver(store, fallback_dir=tmp_path / "fb")
    store.add(clip, Annotation(0.1, 0.2, "dog"))
    saver.flush()
    assert fallback_path(clip, tmp_path / "fb").is_file() and not store.is_dirty(clip)
    s2 = AnnotationStore()
    saver2 = AutoSaver(s2, fallback_dir=tmp_path / "fb")
    assert saver2.restore(clip) == 1 and [e.label for e in s2.events(clip)] == ["dog"]


FIELDS = {   # format -> the fields it carries (docs/formats.md)
    "dcase": ("onset", "offset", "label"),
    "audacity": ("onset", "offset", "label", "low_hz", "high_hz"),
    "raven": ("onset", "offset", "label", "low_hz", "high_hz", "score", "source", "status"),
    "sv": ("onset", "offset", "label", "low_hz", "high_hz"),
    "csv": ("onset", "offset", "label", "low_hz", "high_hz", "score", "source", "status"),
}


def _fields(a, names):
    return tuple(getattr(a, n) for n in names)


@pytest.mark.parametrize("fmt", sorted(FIELDS))
def test_export_import_round_trip(qtbot, tmp_path, fmt):
    from mmgui.annotations import files
    from mmgui.annotations.actions import SUFFIXES
    from mmgui.annotations.store import Annotation, AnnotationStore

    clip = str(tmp_path / "street.wav")
    store = AnnotationStore()
    anns = [Annotation(0.1, 0.35, "dog", 120.5, 2500.0, "accepted", "a.safetensors", 0.75),
            Annotation(1.0 / 3, 2.0 / 3, "bell ring", 1000.0, 8000.25, "manual"),
            Annotation(2.5, 2.5, "click", status="accepted", score=0.5)]
    if fmt != "sv":   # Sonic Visualiser writes a box layer when any event has a range: all need one
        store.add_many(clip, anns)
    else:
        store.add_many(clip, anns[:2])
    store.add(clip, Annotation(1.5, 1.7, "alarm", status="proposal", score=0.3))   # not a label: not exported
    out = tmp_path / ("out" + SUFFIXES[fmt])
    files.export(store, out, [clip], fmt)
    back = AnnotationStore()
    report = files.import_file(back, out, [clip], clip, fmt)
    assert report.problems == [] and report.total == len(store.events(clip)) - 1
    want = sorted(_fields(a, FIELDS[fmt]) for a in store.events(clip) if a.is_label)
    got = sorted(_fields(a, FIELDS[fmt]) for a in back.events(clip))
    assert got == want


def test_weak_export_and_selected_and_merged(qtbot, tmp_path):
    from engine.labels import read_labels
    from mmgui.annotations import files
    from mmgui.annotations.store import Annotation, AnnotationStore

    a, b = str(tmp_path / "d" / "a.wav"), str(tmp_path / "d" / "sub" / "b.wav")
    store = AnnotationStore()
    ia = store.add(a, Annotation(0.1, 0.2, "dog"))
    store.add(a, Annotation(0.5, 0.9, "bell"))
    store.add(b, Annotation(1.0, 2.0, "dog"))
    files.export(store, tmp_path / "w.tsv", [a, b], "dcase-weak", root=tmp_path / "d")
    r = read_labels(tmp_path / "w.tsv")
    assert sorted((e.clip, e.label) for e in r.events) == [("a.wav", "bell"), ("a.wav", "dog"), ("sub/b.wav", "dog")]
    files.export(store, tmp_path / "sel.csv", [a], "csv", ids=[ia])
    assert [(e.label, e.onset) for e in read_labels(tmp_path / "sel.csv").events] == [("dog", 0.1)]
    with pytest.raises(ValueError):                         # Audacity holds one clip: per clip instead
        files.export(store, tmp_path / "x.txt", [a, b], "audacity", root=tmp_path / "d")
    out = files.export(store, tmp_path / "per", [a, b], "audacity", root=tmp_path / "d", per_clip=True)
    assert len(out) == 2
    back = AnnotationStore()
    rep = files.import_file(back, tmp_path / "per", [a, b], None)
    assert rep.total == 3 and len(back.events(b)) == 1 and rep.unmatched == 0


def test_import_reports_bad_lines_and_keeps_the_rest(make_host, clip, qtbot, tmp_path):
    host = make_host(clip)
    store, path = host.doc.annotations, host.doc.current.path
    messages = []
    host.doc.message.connect(lambda text, level: messages.append((text, level)))
    f = tmp_path / "labels.tsv"
    f.write_text("filename\tonset\toffset\tevent_label\nstreet.wav\t0.5\t1.0\tdog\n"
                 "street.wav\tzero\t1.0\tbell\npark.wav\t0.1\t0.4\talarm\nstreet.wav\t2.0\t1.0\tdog\n"
                 "elsewhere.wav\t0.1\t0.2\tdog\n")
    host.doc.annotations.annotator.import_path(str(f))
    assert [(e.onset, e.label) for e in store.events(path)] == [(0.5, "dog")]
    assert [e.label for e in store.events(clip[1])] == ["alarm"]
    text, level = messages[-1]
    assert level == "warning" and "labels.tsv:3" in text and "labels.tsv:5" in text and "2 bad lines" in text
    assert "1 events of clips that are not open" in text
    store.undo_stack.undo()                                     # the import into this clip is one step
    assert store.events(path) == []


def test_killed_while_editing_loses_at_most_two_seconds(tmp_path):
    """A real process edits in a loop and is killed with SIGKILL; what was saved is checked, and the
    file is read all along while it is written: never half-written."""
    from mmgui.annotations.autosave import read_annotations

    clip = tmp_path / "k.wav"
    clip.write_bytes(b"")
    saved = Path(str(clip) + ".annotations.csv")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("annotate_kill_child.py")), str(clip)],
                             stdout=subprocess.PIPE, env=env, text=True)
    log = []
    try:
        first = child.stdout.readline()
        assert first.startswith("ready"), first
        reads = 0
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if saved.is_file():
                anns, problems = read_annotations(saved)
                assert problems == []
                assert [a.label for a in anns] == [f"e{i}" for i in range(len(anns))]
                reads += 1
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        killed_at = time.time()
        child.wait(10)
        for line in child.stdout:
            log.append(line.split())
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    edits = [(int(n), float(t)) for kind, n, t in log if kind == "edit"]
    assert len(edits) > 50 and reads > 50
    anns, problems = read_annotations(saved)
    assert problems == [] and saved.read_text().endswith("\n")
    k = len(anns)                                   # the file holds edits 0..k-1, exactly
    assert [(a.label, a.onset, a.offset) for a in anns] == [(f"e{i}", i * 0.01, i * 0.01 + 0.005) for i in range(k)]
    done_before = [n for n, t in edits if t <= killed_at - 2.0]      # edits 0..m-1, at least 2 s old
    assert len(done_before) > 50 and len(done_before) <= k <= edits[-1][0] + 1
    if k < len(edits):                              # the first edit lost was made in the last 2 s
        assert edits[k][1] > killed_at - 2.0
        print(f"kept {k} of {len(edits)} edits; the oldest edit lost was made "
              f"{killed_at - edits[k][1]:.3f} s before the kill ({reads} reads while writing)")


def test_batch_tab_runs_sorts_filters_exports(make_host, clip, low_threshold_model, qtbot, tmp_path):
    import csv

    from engine.labels import read_labels

    host = make_host(clip)
    doc = host.doc
    doc.add_model(low_threshold_model)
    doc.set_slot("A", low_threshold_model)
    view = host.tabs["batch"]
    folder = str(Path(clip[0]).parent)
    with qtbot.waitSignal(view.model.rowsInserted, timeout=30000):
        task = view.run(folder)
    assert task is not None
    qtbot.waitUntil(lambda: view.task is None, timeout=30000)
    assert view.model.rowCount() == 2 and view.progress.value() == 1000
    assert sorted(view.model.item(r, 0).text() for r in range(2)) == ["park.wav", "street.wav"]
    view.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert view.proxy.index(0, 0).data() == "street.wav"
    view.filter.setText("park")
    assert view.proxy.rowCount() == 1
    view.export_table(str(tmp_path / "t.csv"))
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert sorted(r["clip"] for r in rows) == ["park.wav", "street.wav"]
    view.export_events(str(tmp_path / "e.tsv"))
    events = read_labels(tmp_path / "e.tsv").events
    assert len(events) == sum(len(it.events_a) for it in view.items) > 0
    view._open_row(view.proxy.index(0, 0))                     # the park row opens in the workspace
    assert doc.current.path == clip[1]


def _key(host, key, mods=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(host.view, key, mods)
    QApplication.processEvents()


def test_keyboard_label_picker_play_and_next(make_host, clip, qtbot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from mmgui.annotations.store import Annotation

    host = make_host(clip)
    doc, store, path = host.doc, host.doc.annotations, host.doc.current.path
    host.activateWindow()
    host.view.setFocus()
    a = store.add(path, Annotation(0.4, 0.9, "dog", status="proposal", source="m", score=0.7))
    b = store.add(path, Annotation(1.5, 2.0, "bell", status="proposal", source="m", score=0.4))
    c = store.add(path, Annotation(2.2, 2.6, "dog"))
    doc.request_seek(0.0)
    _key(host, Qt.Key.Key_N)                                  # next event: the first one
    assert store.selected == (path, a) and doc.playhead == pytest.approx(0.4)
    _key(host, Qt.Key.Key_A)                                  # accept, and on to the next
    assert store.get(path, a).status == "accepted" and store.selected == (path, b)
    _key(host, Qt.Key.Key_X)                                  # reject
    assert store.get(path, b).status == "rejected" and store.selected == (path, c)
    _key(host, Qt.Key.Key_P)
    assert store.selected == (path, b)
    _key(host, Qt.Key.Key_R)                                  # play the region: looped, playhead at its onset
    assert doc.loop == pytest.approx((1.5, 2.0)) and doc.playhead == pytest.approx(1.5)
    asked = []

    def pick(parent, title, text, items, current, editable):
        asked.append((list(items), current, editable))
        return "siren", True

    monkeypatch.setattr(QInputDialog, "getItem", pick)        # the modal picker answers "siren"
    _key(host, Qt.Key.Key_F2)
    assert store.get(path, b).label == "siren"
    assert asked[-1][0][:2] == ["dog", "bell"] and asked[-1][0][asked[-1][1]] == "bell" and asked[-1][2]
    # a double click on a region opens the picker for it
    vp = host.view.viewport()
    pos = view_pos(host, 2.4, 64)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _send(vp, QEvent.Type.MouseMove, pos, none, none, Qt.KeyboardModifier.NoModifier)
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
                 QEvent.Type.MouseButtonRelease):
        down = kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick)
        _send(vp, kind, pos, left, left if down else none, Qt.KeyboardModifier.NoModifier)
    QApplication.processEvents()
    assert store.get(path, c).label == "siren" and store.selected == (path, c)
    _key(host, Qt.Key.Key_Delete)
    assert store.get(path, c) is None
    _key(host, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.get(path, c).label == "siren"
    _key(host, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert store.get(path, c) is None


def test_regions_on_a_plot_in_hz_and_across_clips(make_host, clip, qtbot):
    """attach() on any PlotItem whose y axis is Hz; regions follow the current clip."""
    from mmgui.annotations.store import Annotation
    from mmgui.views.regions import attach

    host = make_host(clip)
    doc, store = host.doc, host.doc.annotations
    plot = host.view.addPlot(row=1, col=0)
    plot.setRange(xRange=(0, 3), yRange=(0, 10000), padding=0)
    layer = attach(plot, store, doc)
    ident = layer.draw(0.5, 1.0, (1000.0, 4000.0))
    ann = store.get(doc.current.path, ident)
    assert (ann.onset, ann.offset, ann.low_hz, ann.high_hz) == (0.5, 1.0, 1000.0, 4000.0)
    assert layer.items[ident].box == (0.5, 1.0, 1000.0, 4000.0)
    time_only = store.add(doc.current.path, Annotation(2.0, 2.5, "dog"))
    assert layer.items[time_only].box[2:] == (0.0, 10000.0)         # the whole visible height
    plot.setYRange(0, 5000, padding=0)
    assert layer.items[time_only].box[2:] == pytest.approx((0.0, 5000.0))
    layer.commit(ident, (0.6, 1.2, 2000.0, 3000.0))                  # what a finished drag does
    ann = store.get(doc.current.path, ident)
    assert (ann.onset, ann.offset, ann.low_hz, ann.high_hz) == (0.6, 1.2, 2000.0, 3000.0)
    doc.set_current(clip[1])
    assert layer.items == {} and host.layer.items == {}
    store.add(clip[1], Annotation(0.1, 0.2, "bell"))
    assert len(layer.items) == 1 and len(host.layer.items) == 1
    doc.set_current(clip[0])
    assert set(layer.items) == {ident, time_only}
    assert store.undo_stack is store.stack(clip[0])                  # undo acts on the clip on screen


def test_label_lanes_for_overlapping_events():
    from mmgui.annotations.store import Annotation
    from mmgui.views.regions import lanes

    evs = [Annotation(0.0, 1.0, "a"), Annotation(0.5, 1.5, "b"), Annotation(0.7, 0.8, "c"),
           Annotation(1.0, 2.0, "d"), Annotation(1.6, 1.7, "e")]
    got = lanes(evs)
    assert [got[e.id] for e in evs] == [0, 1, 2, 0, 1]
