"""What the workspace panes show, checked on the pixels they draw (pytest-qt, offscreen, real widgets).

Short events must stay visible at any zoom and pane width (the spectrogram and the
d_t heatmap), errors must replace the previous clip's picture, and labels must fit.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

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


@pytest.mark.parametrize("width", [300, 640, 1280])
def test_every_click_stays_visible_in_the_analysis_spectrogram(qtbot, doc, clicks30, width):
    from mmgui.views.panel import AnalysisPanel

    panel = AnalysisPanel(doc)
    qtbot.addWidget(panel)
    panel.resize(width, 600)
    panel.show()
    doc.open_paths([clicks30])
    wait_idle(qtbot, doc)
    spec = panel.spectrogram
    for t0, t1 in RANGES:
        doc.set_view_range(t0, t1)
        qtbot.wait(30)
        assert spec.vb.viewRange()[0] == pytest.approx([t0, t1], abs=1e-6)
        assert_clicks_visible(panel.graphics, spec, CLICKS, f"Analysis {width} px")


@pytest.mark.parametrize("width", [300, 640, 1280])
def test_every_click_stays_visible_in_both_compare_columns(qtbot, doc, clicks30, width):
    from mmgui.views.compare import ComparePanes

    panes = ComparePanes(doc)
    qtbot.addWidget(panes)
    panes.resize(width, 600)
    panes.show()
    doc.open_paths([clicks30])
    wait_idle(qtbot, doc)
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
