"""The events pane shows each model's detected events, with a model that detects some (issue 15).

tests/test_gui.py::test_panes_show_the_analysis_of_the_clip compares the "A" lane with the
engine's events, but its M&mnet-MS fixture detects nothing on its clip, so that check is [] == [].
Here slot A holds a small random ResNet-ATT that detects events on a 3-s clip (seed chosen so:
10 events), and the lane, the class rows and the bars drawn are compared with the engine's
``Analysis.events()`` of the same file.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from tests.conftest import TINY, realistic_audio  # noqa: E402

CLASSES = ["dog", "bell", "speech", "alarm"]


def test_the_a_lane_holds_and_draws_the_models_events(qtbot, tmp_path):
    import pyqtgraph as pg

    import engine
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from mmgui import theme
    from mmgui.document import Document
    from mmgui.views.panel import AnalysisPanel

    torch.manual_seed(1)
    bundle = ModelBundle(build("resnet-att", len(CLASSES), **TINY).eval(), FeatureConfig(), list(CLASSES),
                         Normalizer(np.full(128, 3.0), np.full(128, 2.0)),
                         thresholds=np.array([0.5, 0.4, 0.6, 0.5], np.float32))
    model = str(save_model(bundle, tmp_path / "resnet-att.safetensors"))
    clip = tmp_path / "street.wav"
    sf.write(clip, realistic_audio(3.0, seed=1), 44100)
    expected = engine.load_model(model, device="cpu").analyze(str(clip)).events()
    assert len(expected) >= 5 and len({e.label for e in expected}) >= 2     # something to show

    theme.configure_pyqtgraph()
    doc = Document()
    doc.playback_enabled = False
    try:
        panel = AnalysisPanel(doc)
        qtbot.addWidget(panel)
        panel.resize(900, 600)
        panel.show()
        doc.add_model(model)
        doc.set_slot("A", model)
        doc.open_paths([str(clip)])
        qtbot.waitUntil(lambda: doc.is_idle() and doc.analysis("A") is not None, timeout=60000)
        qtbot.wait(20)
        pane = panel.events
        assert [k for k, _, _ in pane.lanes] == ["A"]                   # no reference next to this clip
        got = pane.events_in_lane("A")
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert (g[0], g[1], g[2]) == (e.onset, e.offset, e.label) and g[3] == pytest.approx(e.score)
        # a row for each of the model's classes (4: few enough to show them all), in its order
        assert pane.rows == CLASSES
        # the bars in the view box (the pane redraws on the analysis, the clip update and the end of the
        # work: no earlier bars may be left): one per event, from its onset, as wide as it lasts, on its row
        (bars,) = [it for it in pane.vb.addedItems if isinstance(it, pg.BarGraphItem)]
        np.testing.assert_allclose(bars.opts["x0"], [e.onset for e in expected])
        np.testing.assert_allclose(bars.opts["width"], [e.offset - e.onset for e in expected])
        rows = np.floor(np.asarray(bars.opts["y0"]))
        np.testing.assert_array_equal(rows, [pane.rows.index(e.label) for e in expected])
    finally:
        doc.shutdown()
