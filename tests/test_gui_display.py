"""What the workspace panes show, checked on the pixels they draw (pytest-qt, offscreen, real widgets).

Short events must stay visible at any zoom and pane width (the spectrogram and the
d_t heatmap), errors must replace the previous clip's picture, and labels must fit.
"""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402

CLICKS = (3.0, 7.5, 7.9, 12.2, 18.0, 18.3, 25.4)
SR = 44100


def write_clicks(path, seconds: float = 30.0, clicks=CLICKS, sr: int = SR) -> str:
    """1-ms clicks (a Hann burst, peak 0.8) over -40 dBFS white noise, mono float32."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 10 ** (-40 / 20), int(seconds * sr)).astype(np.float32)
    n = int(0.001 * sr)
    for t in clicks:
        i = int(t * sr)
        x[i:i + n] += 0.8 * np.hanning(n).astype(np.float32)
    sf.write(path, x, sr)
    return str(path)


@pytest.fixture(scope="module")
def clicks30(tmp_path_factory):
    return write_clicks(tmp_path_factory.mktemp("clicks") / "clicks30.wav")


@pytest.fixture
def doc(qtbot):
    from mmgui import theme
    from mmgui.document import Document

    theme.configure_pyqtgraph()
    d = Document()
    d.playback_enabled = False
    yield d
    d.shutdown()


def wait_idle(qtbot, doc, timeout=60000):
    qtbot.waitUntil(doc.is_idle, timeout=timeout)
    qtbot.wait(20)


def grab(widget) -> np.ndarray:
    """The widget as drawn: H x W x 3 uint8."""
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), np.uint8, bpl * h).reshape(h, bpl)[:, :w * 3].reshape(h, w, 3).copy()


def pane_box(view, pane) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) widget pixels of a pane's data area in the GraphicsView ``view``."""
    r = view.mapFromScene(pane.vb.sceneBoundingRect()).boundingRect()
    return r.left(), r.top(), r.right(), r.bottom()


def time_to_px(view, pane, t: float) -> float:
    y = pane.vb.viewRange()[1][0]
    return float(view.mapFromScene(pane.vb.mapViewToScene(QPointF(t, y))).x())


def column_brightness(pixels: np.ndarray, box) -> np.ndarray:
    """Mean luminance of each pixel column inside ``box`` (x0..x1 inclusive)."""
    x0, y0, x1, y1 = box
    sub = pixels[y0 + 1:y1, x0:x1 + 1].astype(np.float32)
    return (0.3 * sub[..., 0] + 0.59 * sub[..., 1] + 0.11 * sub[..., 2]).mean(axis=0)


def assert_clicks_visible(view, pane, clicks, what: str) -> None:
    """Every click inside the view range lights the columns at its time (broadband: the whole height)."""
    pixels = grab(view)
    box = pane_box(view, pane)
    col = column_brightness(pixels, box)
    floor = float(np.median(col))
    (t0, t1), _ = pane.vb.viewRange()
    px_per_s = (box[2] - box[0]) / (t1 - t0)
    tol = int(np.ceil(max(2.0, 0.06 * px_per_s)))     # the STFT window and frame centring: ~3 frames
    seen = 0
    for t in clicks:
        if not t0 + 0.05 <= t <= t1 - 0.05:
            continue
        x = int(round(time_to_px(view, pane, t))) - box[0]
        peak = float(col[max(0, x - tol):x + tol + 1].max())
        assert peak > floor + 40, (f"{what}: the click at {t} s is not visible (width {box[2] - box[0]} px, "
                                   f"range {t0:.2f}-{t1:.2f} s): {peak:.0f} vs background {floor:.0f}")
        seen += 1
    assert seen, f"{what}: no click in range {t0}-{t1}"


RANGES = [(0.0, 30.0), (0.0, 20.0), (2.3, 29.1), (6.0, 19.0), (17.7, 18.9)]


def shown_with_clip(qtbot, widget, doc, width: int, path: str):
    """``widget`` shown at ``width`` x 600 px with ``path`` open and its spectrogram computed."""
    qtbot.addWidget(widget)
    widget.resize(width, 600)
    widget.show()
    doc.open_paths([path])
    wait_idle(qtbot, doc)
    return widget


@pytest.mark.parametrize("width", [300, 640, 1280])
def test_every_click_stays_visible_in_the_analysis_spectrogram(qtbot, doc, clicks30, width):
    from mmgui.views.panel import AnalysisPanel

    panel = shown_with_clip(qtbot, AnalysisPanel(doc), doc, width, clicks30)
    spec = panel.spectrogram
    for t0, t1 in RANGES:
        doc.set_view_range(t0, t1)
        qtbot.wait(30)
        assert spec.vb.viewRange()[0] == pytest.approx([t0, t1], abs=1e-6)
        assert_clicks_visible(panel.graphics, spec, CLICKS, f"Analysis {width} px")


@pytest.mark.parametrize("width", [300, 640, 1280])
def test_every_click_stays_visible_in_both_compare_columns(qtbot, doc, clicks30, width):
    from mmgui.views.compare import ComparePanes

    panes = shown_with_clip(qtbot, ComparePanes(doc), doc, width, clicks30)
    for t0, t1 in RANGES:
        doc.set_view_range(t0, t1)
        qtbot.wait(30)
        for slot in ("A", "B"):
            spec = panes.columns[slot][0]
            assert_clicks_visible(panes.graphics, spec, CLICKS, f"Compare {slot} at {width} px")


# ------------------------------------------------------------------------------ d_t heatmap
BUNDLED = {m: f"assets/models/{m}.safetensors" for m in ("resnet-att", "mmnet-ms")}


def spiky_analysis(entry, duration: float, spikes, hop: float = 0.1788, seed: int = 0):
    """An analysis of ``duration`` s by the model ``entry`` whose d_t is low except one segment per
    (time s, class index) in ``spikes`` (a detection one segment long)."""
    from engine.analysis import Analysis, ScaleAnalysis

    rng = np.random.default_rng(seed)
    n, c = int(duration / hop), len(entry.classes)
    probs = (0.02 + 0.05 * rng.random((n, c))).astype(np.float32)
    for t, k in spikes:
        probs[int(t / hop), k] = 1.0
    sc = ScaleAnalysis("stage3", hop, np.arange(n) * hop, probs, np.full(n, 1.0 / n, np.float32))
    return Analysis(list(entry.classes), duration, probs.max(0), None, [sc], entry.thresholds,
                    method=entry.method, primary_scale=0)


@pytest.mark.parametrize("width", [300, 640, 1280])
def test_a_one_segment_detection_stays_visible_in_the_heatmap(qtbot, doc, tmp_path, width):
    """A 10-minute file at whole-file zoom: ~3,400 segments on a few hundred pixels."""
    from mmgui.views.compare import ComparePanes
    from mmgui.views.panel import AnalysisPanel

    path = str(tmp_path / "long.wav")
    sf.write(path, np.zeros(600 * 8000, np.int16), 8000, subtype="PCM_16")
    spikes = [(37.3, 1), (211.0, 4), (402.5, 9), (555.1, 12)]
    panel, compare = AnalysisPanel(doc), ComparePanes(doc)
    for w in (panel, compare):
        qtbot.addWidget(w)
        w.resize(width, 640)
        w.show()
    doc.open_paths([path])
    qtbot.waitUntil(lambda: doc.current is not None)
    for slot, m in zip(("A", "B"), ("resnet-att", "mmnet-ms")):
        entry = doc.add_model(BUNDLED[m])
        doc.analyses[(path, entry.path)] = spiky_analysis(entry, 600.0, spikes, seed=len(slot))
        doc.set_slot(slot, entry.path)
    doc.set_view_range(0.0, 600.0)
    qtbot.wait(50)
    for view, heat, what in ((panel.graphics, panel.heatmap, "Analysis"),
                             (compare.graphics, compare.columns["A"][1], "Compare A"),
                             (compare.graphics, compare.columns["B"][1], "Compare B")):
        assert heat.vb.viewRange()[0] == pytest.approx([0.0, 600.0])
        pixels = grab(view)
        x0, y0, x1, y1 = pane_box(view, heat)
        lum = (0.3 * pixels[..., 0] + 0.59 * pixels[..., 1] + 0.11 * pixels[..., 2])
        background = float(np.median(lum[y0 + 2:y1 - 1, x0 + 2:x1 - 1]))
        for t, k in spikes:
            x = int(round(time_to_px(view, heat, (int(t / 0.1788) + 0.5) * 0.1788)))
            y = int(round(view.mapFromScene(heat.vb.mapViewToScene(QPointF(t, k + 0.5))).y()))
            peak = float(lum[y, x - 1:x + 2].max())
            assert peak > background + 100, (f"{what} at {width} px: the detection at {t} s (class {k}) is "
                                            f"not visible: {peak:.0f} vs {background:.0f}")


# ------------------------------------------------------------------------------ bad files, stale state
@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    """Files a new user opens: stereo 48 kHz, a text file renamed .wav, an empty .wav, a 0.05-s clip."""
    d = tmp_path_factory.mktemp("awkward")
    rng = np.random.default_rng(1)
    t = np.arange(48000 * 8) / 48000
    sf.write(d / "stereo48k.wav", np.stack([0.2 * np.sin(2 * np.pi * 440 * t),
                                            0.1 * rng.normal(size=t.size)], 1).astype(np.float32), 48000)
    (d / "text.wav").write_text("this is not audio\n" * 50)
    (d / "empty.wav").write_bytes(b"")
    sf.write(d / "short50ms.wav", (0.1 * rng.normal(size=int(0.05 * SR))).astype(np.float32), SR)
    return {p.stem: str(p) for p in d.iterdir()}


def painted_fraction(view, pane) -> float:
    """Fraction of a pane's data area not in the pane background colour (a picture fills it all)."""
    from mmgui import theme

    x0, y0, x1, y1 = pane_box(view, pane)
    sub = grab(view)[y0 + 2:y1 - 1, x0 + 2:x1 - 1].astype(np.int32)
    bg = np.array([int(theme.PANE_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(sub - bg).max(axis=2) > 12).mean())


def test_an_unreadable_file_never_shows_another_files_picture(qtbot, doc, awkward, clicks30):
    from mmgui.views.panel import AnalysisPanel

    panel = AnalysisPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    spec = panel.spectrogram
    doc.open_paths([awkward["stereo48k"], awkward["text"], clicks30, awkward["empty"]], select=False)
    wait_idle(qtbot, doc)
    for name, bad in (("stereo48k", "text"), ("stereo48k", "text"), (clicks30, "empty"), ("text", "empty")):
        good = awkward.get(name, name)
        doc.set_current(good)
        wait_idle(qtbot, doc)
        if name != "text":
            assert spec.image.image is not None and painted_fraction(panel.graphics, spec) > 0.9
        doc.set_current(awkward[bad])
        wait_idle(qtbot, doc)
        assert spec.image.image is None, f"{bad}.wav after {name}: the image of another file is kept"
        assert painted_fraction(panel.graphics, spec) < 0.1    # only the message on an empty pane
        assert "Cannot read this file" in message(spec)
        assert f"{bad}.wav" in message(spec)


def message(pane) -> str:
    """The message shown over a pane ("" when none)."""
    note = pane.placeholder
    return note.textItem.toPlainText() if note.isVisible() else ""


def placeholder_fits(pane) -> None:
    """The pane's message lies inside its data area (wrapped, not cut at the sides)."""
    note = pane.placeholder
    vb = pane.vb if hasattr(pane, "vb") else pane.plot.vb
    r = note.mapRectToItem(vb, note.boundingRect())
    assert r.left() >= -0.5 and r.right() <= vb.rect().right() + 0.5, (message(pane), r, vb.rect())


def test_analyzing_ends_for_unreadable_files_and_without_a_file(qtbot, doc, awkward):
    from mmgui.views.panel import AnalysisPanel
    from mmgui.views.predictions import ClipPredictionsView

    panel, pred = AnalysisPanel(doc), ClipPredictionsView(doc)
    for w in (panel, pred):
        qtbot.addWidget(w)
        w.resize(800, 560)
        w.show()
    entry = doc.add_model(BUNDLED["resnet-att"])
    doc.set_slot("A", entry.path)
    wait_idle(qtbot, doc)
    assert "analyzing" not in panel.events.title_html        # no file: nothing is being analyzed
    for bad in ("empty", "text"):
        doc.open_paths([awkward[bad]])
        wait_idle(qtbot, doc)
        assert doc.current.error
        assert "analyzing" not in panel.events.title_html and "unreadable" in panel.events.title_html
        for pane in (panel.heatmap, panel.curves, panel.attention):
            assert "analyzing" not in message(pane)
            assert "Cannot read this file" in message(pane), (pane.kind, message(pane))
            placeholder_fits(pane)
        assert "Cannot read this file" in message(pred)
        placeholder_fits(pred)
        placeholder_fits(panel.spectrogram)
    # a cancelled analysis does not stay "analyzing…" either
    doc.open_paths([awkward["stereo48k"]])
    qtbot.waitUntil(lambda: doc.is_analyzing("A"), timeout=10000)
    doc.tasks.cancel()
    wait_idle(qtbot, doc)
    if doc.analysis("A") is None:
        assert "analyzing" not in panel.events.title_html and "analyzing" not in message(panel.heatmap)
        assert "analyzing" not in message(pred)


def test_clip_change_resets_readout_and_zoom_and_short_clips_read_in_seconds(qtbot, doc, awkward, clicks30):
    from mmgui.views.panel import AnalysisPanel

    panel = AnalysisPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    spec = panel.spectrogram
    doc.open_paths([clicks30])
    wait_idle(qtbot, doc)
    doc.set_view_range(20.0, 28.0)
    qtbot.wait(20)
    scene = panel.graphics.scene()
    scene.sigMouseMoved.emit(spec.vb.mapViewToScene(QPointF(25.4, 64.0)))
    assert panel.readout.text().startswith("t 0:25.4")
    doc.open_paths([awkward["stereo48k"]])                      # 8 s
    wait_idle(qtbot, doc)
    assert panel.readout.text().strip() == ""                    # not the other clip's 0:25.4
    assert spec.vb.viewRange()[0] == pytest.approx([0.0, 8.0], abs=0.02)
    scene.sigMouseMoved.emit(spec.vb.mapViewToScene(QPointF(7.0, 64.0)))
    assert panel.readout.text().startswith("t 0:07.0")
    doc.set_view_range(2.0, 3.0)
    doc.open_paths([awkward["empty"]])                           # nothing to show: not 2-3 s of another clip
    wait_idle(qtbot, doc)
    assert panel.readout.text().strip() == ""
    assert spec.vb.viewRange()[0] == pytest.approx([0.0, 1.0])
    doc.set_current(clicks30)                                    # seen before: the whole clip again
    wait_idle(qtbot, doc)
    assert spec.vb.viewRange()[0] == pytest.approx([0.0, 30.0], abs=0.02)

    doc.open_paths([awkward["short50ms"]])
    wait_idle(qtbot, doc)
    assert spec.vb.viewRange()[0] == pytest.approx([0.0, 0.05], abs=1e-3)
    for pane in panel.panes:
        axis = pane.getAxis("bottom")
        assert "x0.001" not in axis.labelString() and "(ms)" not in axis.labelString()
    axis = panel.events.getAxis("bottom")
    (t0, t1), _ = panel.events.vb.viewRange()
    ticks = [v for level in axis.tickValues(t0, t1, 600) for v in level[1]]
    assert max(ticks) < 0.06
    strings = axis.tickStrings(ticks, axis.autoSIPrefixScale, ticks[1] - ticks[0])
    assert "0.04" in strings or "0.040" in strings, strings


# ------------------------------------------------------------------------------ the demo at 1280x720
@pytest.fixture(scope="module")
def demo_window(qapp, tmp_path_factory):
    """The main window at 1280x720 with the synthetic set's models (A ResNet-ATT, B M&mnet-MS) on its demo clip."""
    from PySide6.QtCore import QSettings

    from mmgui import theme
    from mmgui.document import bundled
    from mmgui.mainwindow import MainWindow

    if not bundled.get("synthetic").complete:
        pytest.skip("the demo clip or the bundled models are missing")
    theme.configure_pyqtgraph()
    settings = QSettings(str(tmp_path_factory.mktemp("settings") / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, player=None, discover=True)
    win.resize(1280, 720)
    win.show()
    win.opener.open_demo("synthetic")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (win.doc.is_idle() and win.doc.analysis("A") is not None
                                                and win.doc.analysis("B") is not None):
        qapp.processEvents()
        time.sleep(0.01)
    assert win.doc.analysis("A") is not None and win.doc.analysis("B") is not None
    yield win
    win.doc.shutdown()
    win.close()
    win.deleteLater()


def settle(qapp, ms: int = 150) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.005)


def drawn_labels(axis) -> list[tuple]:
    """(scene rect, text) of the tick labels an axis draws now (after pyqtgraph drops crowded ones)."""
    img = QImage(10, 10, QImage.Format.Format_RGB32)
    p = QPainter(img)
    try:
        _, _, texts = axis.generateDrawSpecs(p)
    finally:
        p.end()
    return [(axis.mapRectToScene(r), t) for r, _, t in texts]


def check_readable(pane, what: str) -> None:
    r = pane.title_item.mapRectToItem(pane.vb, pane.title_item.boundingRect())
    assert r.right() <= pane.vb.width() + 1, f"{what}: the title runs past the pane: {pane.title_item.toPlainText()}"
    if pane.placeholder.isVisible():
        placeholder_fits(pane)
    if hasattr(pane, "class_axis") and pane.class_axis.names:
        axis = pane.class_axis
        labels = drawn_labels(axis)
        n_rows = len(axis.names)
        assert len(labels) == n_rows, f"{what}: {len(labels)} of {n_rows} class rows labelled"
        for (r1, _), (r2, _) in zip(labels, labels[1:]):
            assert not r1.intersects(r2), f"{what}: class labels overlap"


def test_every_label_reads_at_1280x720(qapp, demo_window):
    win = demo_window
    a_entry, b_entry = win.doc.model("A"), win.doc.model("B")
    for tab in (0, 1):
        win.show_tab(("analysis", "compare")[tab])
        settle(qapp)
        panel = win.analysis if tab == 0 else win.compare.panes
        for pane in panel.panes:
            check_readable(pane, f"tab {tab}: {pane.kind} {pane.slot}")
        # the two colour bars: their end labels must not meet
        spec_labels = drawn_labels(panel.spec_bar.getAxis("right"))
        heat_labels = drawn_labels(panel.heat_bar.getAxis("right"))
        assert spec_labels and heat_labels
        for r1, t1 in spec_labels:
            for r2, t2 in heat_labels:
                assert not r1.intersects(r2), f"tab {tab}: colour bar labels {t1!r} and {t2!r} overlap"
    # every scale of M&mnet-MS is named in the attention legend of Compare B
    att_b = win.compare.panes.columns["B"][2]
    names = [s["name"] for s in b_entry.scales]
    assert len(names) == 5 and all(n in att_b.title_item.toPlainText() for n in names)
    for slot, head in win.compare.panes.headers.items():
        assert head.item.boundingRect().width() <= head.width() + 1, f"compare header {slot} is cut"
    assert a_entry.name in win.compare.panes.headers["A"].text
    # the clip predictions: every class named, the title is the model's name
    pred = win.predictions
    labels = drawn_labels(pred.plot.getAxis("left"))
    assert len(labels) == len(a_entry.classes)
    assert pred.plot.titleLabel.text.endswith(a_entry.name) or a_entry.name in pred.plot.titleLabel.text
    win.show_tab("analysis")


def test_exports_hold_the_analysis_of_the_demo(qapp, demo_window, tmp_path):
    """Replaces tests/test_gui.py::test_exports: a clip with events, values checked against the engine."""
    import json

    import engine

    win = demo_window
    win.show_tab("analysis")
    settle(qapp)
    doc = win.doc
    ref = engine.load_model(BUNDLED["resnet-att"], device="cpu").analyze(doc.current.path)
    events = ref.events()
    assert len(events) >= 3, "the demo clip must have events for this test to mean anything"

    data = json.loads(win.exporter.export_json(tmp_path / "analysis.json").read_text())
    assert data["classes"] == ref.classes and data["method"] == "resnet-att-class"  # the bundled file predates the two ATT readings
    np.testing.assert_allclose(data["clip"]["macro"], ref.clip_macro, atol=1e-4)
    assert [s["name"] for s in data["scales"]] == [s.name for s in ref.scales]
    np.testing.assert_allclose(np.asarray(data["scales"][0]["segment_probs"]), ref.scales[0].segment_probs, atol=1e-4)
    got = [(e["onset"], e["offset"], e["label"], e["score"]) if isinstance(e, dict) else tuple(e)
           for e in data["events"]]
    assert len(got) == len(events)
    for g, e in zip(got, events):
        assert g[2] == e.label and g[0] == pytest.approx(e.onset, abs=1e-3) and g[1] == pytest.approx(e.offset, abs=1e-3)
        assert g[3] == pytest.approx(e.score, abs=1e-3)

    lines = win.exporter.export_tsv(tmp_path / "events.tsv").read_text().splitlines()
    assert lines[0] == "filename\tonset\toffset\tevent_label" and len(lines) == 1 + len(events)
    for line, e in zip(lines[1:], events):
        name, on, off, label = line.split("\t")
        assert (name, label) == ("demo.wav", e.label)
        assert float(on) == pytest.approx(e.onset, abs=1e-3) and float(off) == pytest.approx(e.offset, abs=1e-3)

    # the window as PNG: the spectrogram region holds the picture (structure, not one colour)
    png = QImage(str(win.exporter.export_window(tmp_path / "window.png"))).convertToFormat(QImage.Format.Format_RGB888)
    assert (png.width(), png.height()) == (win.width(), win.height())
    spec = win.analysis.spectrogram
    r = spec.vb.sceneBoundingRect()
    top_left = win.analysis.graphics.mapTo(win, win.analysis.graphics.mapFromScene(r.topLeft()))
    w, h, bpl = png.width(), png.height(), png.bytesPerLine()
    px = np.frombuffer(png.constBits(), np.uint8, bpl * h).reshape(h, bpl)[:, :w * 3].reshape(h, w, 3)
    region = px[top_left.y() + 20:top_left.y() + int(r.height()) - 2, top_left.x() + 2:top_left.x() + int(r.width()) - 2]
    lum = region.astype(np.float32).mean(axis=2)
    assert region.shape[0] > 40 and region.shape[1] > 300
    assert lum.std() > 20 and len(np.unique(region.reshape(-1, 3), axis=0)) > 200
    assert lum.mean(axis=1)[-10:].mean() > lum.mean(axis=1)[:10].mean() + 10   # low bands brighter than high ones
    # every pane as PNG
    for name in win.exporter.pane_names():
        img = QImage(str(win.exporter.export_pane(name, tmp_path / f"{name}.png")))
        assert not img.isNull() and img.width() > 100
        arr = np.asarray(img.convertToFormat(QImage.Format.Format_Grayscale8).constBits(), np.uint8)
        assert arr.std() > 5, f"{name}: a blank image"


def _blocks(img: QImage, w: int, h: int, block: int = 32) -> np.ndarray:
    """Mean RGB over block x block squares of an image scaled to w x h."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    assert (img.width(), img.height()) == (w, h)
    bpl = img.bytesPerLine()
    px = np.frombuffer(img.constBits(), np.uint8, bpl * h).reshape(h, bpl)[:, :w * 3].reshape(h, w, 3)
    hh, ww = h // block * block, w // block * block
    return px[:hh, :ww].astype(np.float32).reshape(hh // block, block, ww // block, block, 3).mean(axis=(1, 3))


def test_window_svg_renders_like_the_png_outside_qt(qapp, demo_window, tmp_path):
    import shutil
    import subprocess
    import xml.etree.ElementTree as ET

    from PySide6.QtSvg import QSvgRenderer

    from mmgui import theme

    win = demo_window
    win.show_tab("analysis")
    settle(qapp)
    w, h = win.width(), win.height()
    png = QImage(str(win.exporter.export_window(tmp_path / "window.png")))
    svg = win.exporter.export_window(tmp_path / "window.svg")
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    # curves are strokes at their screen width: no fill, no scaling transform around them
    curve_colours = {c.lower() for c in theme.CLASS_COLOURS[:3]} | {theme.PLAYHEAD.lower()}
    seen = 0
    for g in root.iter(f"{ns}g"):
        if (g.get("stroke") or "").lower() in curve_colours and len(g):
            seen += 1
            assert g.get("fill") == "none"
            t = g.get("transform", "")
            assert not t.startswith("matrix") or t.startswith("matrix(1,0,0,1,"), t
    assert seen >= 3
    coords = [abs(float(x)) for el in root.iter() for k in ("d", "points")
              for x in __import__("re").findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", el.get(k) or "")]
    assert max(coords) < 1e5, "a shape far outside the window"

    ref = _blocks(png, w, h)
    qt = QImage(w, h, QImage.Format.Format_RGB32)
    qt.fill(0)
    p = QPainter(qt)
    QSvgRenderer(str(svg)).render(p)
    p.end()
    diff_qt = np.abs(_blocks(qt, w, h) - ref)
    assert diff_qt.mean() < 6 and diff_qt.max() < 60, (diff_qt.mean(), diff_qt.max())

    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert is not installed (Debian: librsvg2-bin)")
    out = tmp_path / "rsvg.png"
    subprocess.run(["rsvg-convert", "-w", str(w), "-h", str(h), "-o", str(out), str(svg)], check=True, timeout=60)
    rs = QImage(str(out))
    diff = np.abs(_blocks(rs, w, h) - ref)
    assert diff.mean() < 6 and diff.max() < 60, (f"rsvg-convert draws the window differently: mean {diff.mean():.1f}, "
                                                 f"worst block {diff.max():.0f} at {np.unravel_index(diff.argmax(), diff.shape)}")


# ------------------------------------------------------------------------------ the window's small defects
def test_models_open_button_about_and_recent_files(qtbot, tmp_path, awkward, clicks30, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from mmgui.mainwindow import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, player=None)
    qtbot.addWidget(win)
    try:
        model = os.path.abspath(BUNDLED["resnet-att"])
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (model, "")))
        win.model_panel.btn_open.click()                      # the Models dock's Open… button
        assert win.doc.model(model) is not None and win.doc.slots["A"] == model
        about = [a.text() for m in win.menuBar().actions() for a in m.menu().actions() if "About" in a.text()]
        assert about == ["About M&&m Studio"]                 # shown as "About M&m Studio"
        win.open_paths([awkward["text"], awkward["empty"], clicks30])
        qtbot.waitUntil(win.doc.is_idle, timeout=60000)
        recent = win.opener.recent("recent")
        assert os.path.abspath(clicks30) in recent
        assert not any(p.endswith(("text.wav", "empty.wav")) for p in recent), recent
    finally:
        win.doc.shutdown()


def test_a_missing_file_on_the_command_line_is_an_error(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    good = write_clicks(tmp_path / "good.wav", seconds=1.0, clicks=(0.5,))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MMGUI_NO_PREWARM="1")
    proc = subprocess.run([sys.executable, os.path.join(root, "main.py"), "--screenshot", str(tmp_path / "s.png"),
                           "--no-audio", "--model", os.path.join(root, BUNDLED["resnet-att"]), good,
                           str(tmp_path / "does-not-exist.wav")],
                          capture_output=True, text=True, timeout=180, env=env, cwd=str(tmp_path))
    assert proc.returncode != 0 and "does-not-exist.wav" in proc.stderr, proc.stderr
