"""Teaching mode (mmgui.teaching): the Explain panel shows the engine's numbers for the demo clip
with the bundled models, the μ slider follows eq. 9, pictures export, texts come from assets/teaching."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QImage  # noqa: E402

import engine  # noqa: E402
from engine.explain import explain  # noqa: E402
from engine.losses import micro_loss  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "assets" / "demo" / "demo.wav")
MM = str(ROOT / "assets" / "models" / "mmnet-ms.safetensors")
ATT = str(ROOT / "assets" / "models" / "resnet-att.safetensors")


@pytest.fixture(scope="module")
def reference():
    out = {}
    for name, path in (("mmnet", MM), ("att", ATT)):
        pred = engine.load_model(path, device="cpu")
        out[name] = (pred, pred.analyze(DEMO, keep_features=True))
    return out


@pytest.fixture
def panel(qtbot):
    from mmgui import theme
    from mmgui.document import Document
    from mmgui.teaching.panel import ExplainPanel

    theme.configure_pyqtgraph()
    doc = Document()
    made = []

    def make(model=MM):
        entry = doc.add_model(model, "bundled")
        doc.set_slot("A", entry.path)
        doc.open_paths([DEMO])
        p = ExplainPanel(doc)
        qtbot.addWidget(p)
        p.resize(1200, 800)
        p.show()
        qtbot.waitUntil(lambda: p.steps.lesson is not None, timeout=30000)
        made.append(p)
        return p

    yield make
    doc.shutdown()


def test_steps_show_the_engines_numbers(panel, reference):
    p = panel()
    pred, ana = reference["mmnet"]
    les = p.steps.lesson
    assert les.source == DEMO and les.label_source == "reference"     # demo_strong.tsv gives the labels
    assert [c for c, y in zip(les.classes, les.labels) if y] == ["knock", "siren", "rain", "wind"]
    np.testing.assert_allclose(les.macro, ana.clip_macro, atol=1e-6)
    np.testing.assert_allclose(les.ensemble, ana.clip_ensemble, atol=1e-6)

    p.steps.set_step("macro")
    np.testing.assert_allclose(p.steps.items["bars"].opts["height"], ana.clip_macro, atol=1e-6)

    p.steps.set_step("micro")
    sc = ana.scale(None)
    assert p.steps.scale_box.currentIndex() == ana.primary_scale
    np.testing.assert_allclose(p.steps.items["heatmap"].image, sc.segment_probs.T, atol=1e-6)
    np.testing.assert_allclose(p.steps.items["attention"].yData, sc.attention, rtol=1e-5)
    p.steps.scale_box.setCurrentIndex(0)                     # another scale: its own grid and a_t
    np.testing.assert_allclose(p.steps.items["attention"].yData, ana.scales[0].attention, rtol=1e-5)
    assert len(p.steps.items["attention"].xData) == len(ana.scales[0].times)
    p.steps.scale_box.setCurrentIndex(ana.primary_scale)

    # eq. 7: the drawn W_t * BCE of the chosen class, against micro_loss recomputed from the model
    p.steps.set_step("eq7")
    c = p.steps.label_box.currentIndex()
    ls = les.scales[les.primary_scale]
    drawn = p.steps.items["product"].yData[::2]
    np.testing.assert_allclose(drawn, ls.micro_weights[:, c] * ls.micro_terms[:, c], rtol=1e-6)
    feats = torch.as_tensor(ana.log_mel)[None]               # the engine's own features of the clip
    out = pred.forward_features(feats)
    y = torch.as_tensor(les.labels)[None]
    expect = float(micro_loss(out.scales[les.primary_scale], y, attention_scale="unit"))
    assert ls.micro_loss == pytest.approx(expect, rel=1e-5)
    assert f"{ls.micro_loss:.3f}" in p.steps.text.toPlainText()


def test_mu_slider_moves_the_ensemble(panel, reference):
    p = panel()
    _, ana = reference["mmnet"]
    les = p.steps.lesson
    p.steps.set_step("ensemble")
    assert p.steps.mu_slider.value() == 50
    np.testing.assert_allclose(p.steps.ensemble_heights(), ana.clip_ensemble, atol=1e-6)
    before = p.steps.ensemble_heights().copy()
    p.steps.mu_slider.setValue(20)
    now = p.steps.ensemble_heights()
    np.testing.assert_allclose(now, 0.2 * les.macro + 0.8 * les.y_att, atol=1e-6)
    assert not np.allclose(now, before)
    assert p.steps.items["mu_line"].value() == pytest.approx(0.2)
    assert "μ = 0.20" in p.steps.text.toPlainText() or "0.20" in p.steps.text.toPlainText()


def test_export_png_and_svg(panel, tmp_path):
    p = panel()
    p.steps.set_step("eq7")
    png = p.steps.export(str(tmp_path / "eq7.png"))
    img = QImage(png)
    assert not img.isNull() and img.width() > 200
    rgb = img.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(rgb.constBits(), np.uint8, rgb.width() * rgb.height() * 4).copy()
    assert arr.std() > 10 and len(np.unique(arr.reshape(-1, 4)[:, :3], axis=0)) > 50
    svg = Path(p.steps.export(str(tmp_path / "eq7.svg")))
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and svg.stat().st_size > 1000


def test_texts_come_from_assets(panel, tmp_path, monkeypatch):
    from mmgui.teaching import texts

    p = panel()
    p.steps.set_step("segments")
    first = (texts.ASSETS / "01-segments.md").read_text().splitlines()[0].lstrip("# ").strip()
    shown = p.steps.text.toPlainText()
    assert first in shown
    les = p.steps.lesson
    assert f"{les.primary.n_segments} segments of {les.primary.hop_s:.4f} s" in shown
    for stem in [s for _, s, _ in texts.STEPS]:
        (tmp_path / f"{stem}.md").write_text(f"# Changed {stem}\n\n{{n_segments}} and {{no_such_value}}\n")
    monkeypatch.setattr(texts, "ASSETS", tmp_path)
    p.steps.set_step("macro")
    p.steps.set_step("segments")
    shown = p.steps.text.toPlainText()
    assert "Changed 01-segments" in shown and f"{les.primary.n_segments} and {{no_such_value}}" in shown


def test_resnet_att_steps_use_its_own_pooling(panel, reference):
    p = panel(ATT)
    _, ana = reference["att"]
    les = p.steps.lesson
    assert les.kind == "att-class"
    p.steps.set_step("pooling")
    c = p.steps.label_box.currentIndex()
    sc = les.primary
    np.testing.assert_allclose(p.steps.items["alpha"].yData, sc.class_attention[:, c], rtol=1e-6)
    assert float((sc.alpha_for(c) * sc.segment_probs[:, c]).sum()) == pytest.approx(ana.clip_macro[c], rel=1e-5)
    p.steps.set_step("eq7")
    assert "no micro loss" in p.steps.items["spectrogram"].titleLabel.text


def _click_export(page, monkeypatch, path) -> np.ndarray:
    """Press the page's Export button with the file dialog answering ``path``; the PNG's pixels."""
    from mmgui.teaching import panel as panel_mod

    monkeypatch.setattr(panel_mod.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    page.export_btn.click()
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not img.isNull()
    return np.frombuffer(img.constBits(), np.uint8, img.width() * img.height() * 4).copy()


def test_compare_lesson(panel, qtbot, monkeypatch, tmp_path):
    from mmgui.teaching import compute

    p = panel()
    clip = str(compute.LESSON_CLIPS / "lesson-clink-in-vacuum.wav")
    p.tabs.setCurrentWidget(p.compare)
    i = p.compare.clip_box.findData(clip)
    p.compare.clip_box.setCurrentIndex(i)
    qtbot.waitUntil(lambda: p.compare.comparison is not None and p.compare.comparison.clip == clip, timeout=30000)
    rows = {r["model"]: r for r in p.compare.rows}
    for role, title, path in (("att", "ResNet-ATT", ATT), ("mmnet", "M&mnet-MS", MM)):
        les = explain(engine.load_model(path, device="cpu"), clip, labels=["vacuum_cleaner", "glass_clink"])
        c = les.class_index("glass_clink")
        final = les.ensemble if les.ensemble is not None else les.clip_probs
        assert rows[title]["p"] == pytest.approx(float(final[c]), abs=1e-6)
        assert rows[title]["recalled"] == bool(final[c] >= les.thresholds[c])
        np.testing.assert_allclose(p.compare.items[role]["alpha"].yData, les.primary.alpha_for(c), rtol=1e-6)
    # the bundled clip shows this contrast (scripts/make_teaching_clips.py --check): M&mnet-MS's
    # attention is on the clink, ResNet-ATT's is not; neither recalls it (p ~0.2 < both thresholds)
    assert not rows["M&mnet-MS"]["recalled"] and not rows["ResNet-ATT"]["recalled"]
    assert rows["M&mnet-MS"]["share"] > 0.7 > 0.2 > rows["ResNet-ATT"]["share"]
    assert "M&mnet-MS glass_clink (0.46 s) 0.214" in " ".join(p.compare.text.toPlainText().split())
    assert _click_export(p.compare, monkeypatch, tmp_path / "compare.png").std() > 10


def test_watch_it_learn(panel, qtbot, tmp_path, monkeypatch):
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from tests.conftest import TINY

    run = tmp_path / "run"
    for epoch in range(3):
        torch.manual_seed(epoch)
        save_model(ModelBundle(build("mmnet", 3, **TINY).eval(), FeatureConfig(), ["a", "b", "c"],
                               Normalizer.identity(128)), run / "snapshots" / f"epoch-{epoch:03d}.safetensors")
    p = panel()
    page = p.learn
    p.tabs.setCurrentWidget(page)
    page.set_run(str(run), DEMO)
    qtbot.waitUntil(lambda: len(page.history) == 3, timeout=30000)
    assert page.slider.maximum() == 2
    page.slider.setValue(1)
    les = page.history[1][1]
    direct = engine.load_model(run / "snapshots" / "epoch-001.safetensors", device="cpu").analyze(DEMO)
    np.testing.assert_allclose(page.items["attention"].yData, direct.scale(None).attention, rtol=1e-5)
    np.testing.assert_allclose(les.primary.segment_probs, direct.scale(None).segment_probs, atol=1e-6)
    assert page.epoch_label.text().startswith("epoch 1")
    assert _click_export(page, monkeypatch, tmp_path / "learn.png").std() > 10
    page.slider.setValue(0)
    page.timer.setInterval(10)
    page.play_btn.setChecked(True)
    qtbot.waitUntil(lambda: page.slider.value() == 2 and not page.play_btn.isChecked(), timeout=5000)
    page.set_run(str(tmp_path))          # no snapshots: says so, keeps what is shown
    assert "no snapshots" in page.run_label.text() and len(page.history) == 3


def test_install_adds_the_tab(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from mmgui.mainwindow import MainWindow
    from mmgui.teaching.install import install

    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), player=None)
    qtbot.addWidget(win)
    panel = win.features["mmgui.teaching.install"]          # the window installs its features itself
    assert install is not None and panel is not None
    win.show_tab("teach")
    assert win.current_tab() == "teach" and win.tabs.tabText(win.tabs.currentIndex()) == "Explain"
    assert win.tabs.currentWidget() in (panel, panel.parentWidget(), panel.parentWidget().parentWidget())
    assert "Open a clip" in panel.steps.status.text()
    entry = win.doc.add_model(MM, "bundled")
    win.doc.set_slot("A", entry.path)
    win.doc.open_paths([DEMO])
    qtbot.waitUntil(lambda: panel.steps.lesson is not None, timeout=30000)
    assert panel.steps.lesson.source == DEMO
    win.doc.shutdown()


@pytest.mark.parametrize("method", ["resnet-mean", "resnet-att", "mmnet"])
def test_every_step_draws_for_other_methods(qtbot, tiny_model_file, method):
    """Steps that do not apply say so instead of failing (no segment level, no micro loss, no ensemble)."""
    from mmgui.document import Document
    from mmgui.teaching import texts
    from mmgui.teaching.panel import StepsPage

    doc = Document()
    page = StepsPage(doc, None)
    qtbot.addWidget(page)
    les = explain(engine.load_model(tiny_model_file(method), device="cpu"), DEMO)
    page.set_lesson(les, method, "demo.wav")
    for key, _, _ in texts.STEPS:
        page.set_step(key)
        assert page.text.toPlainText().strip()
    page.set_step("ensemble")
    page.mu_slider.setValue(30)
    if method == "mmnet":
        np.testing.assert_allclose(page.ensemble_heights(), les.ensemble_at(0.3), atol=1e-7)
    else:
        assert page.ensemble_heights() is None
    doc.shutdown()
