"""The Explain panel: M&mnet's method walked through with the current clip's own numbers.

Three tabs: **Steps** (the current clip with model A: segments, macro, d_t/a_t, eq. 7 weights,
eq. 9 with a live μ slider, attention pooling), **ResNet-ATT vs M&mnet** (the bundled lesson
clips) and **Watch it learn** (a run's per-epoch snapshots). Every number comes from
``engine.explain`` run in the background (``doc.tasks``); the text of each step is a Markdown
file of assets/teaching/ (``mmgui.teaching.texts``); every picture exports as PNG or SVG.
"""
from __future__ import annotations

import os
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QListWidget, QPushButton, QSlider,
                               QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget)

from ..exporting import ExportError, export_item
from ..workers import FunctionTask
from . import compute, plots, texts


def submit(doc, label: str, fn, key: tuple, done, failed):
    """Run ``fn(task)`` on the compute pool; ``done(result)`` / ``failed(text)`` on the GUI thread."""
    task = FunctionTask(label, fn, key)
    task.signals.done.connect(done)
    task.signals.failed.connect(failed)
    return doc.tasks.submit(task, "compute")


def export_dialog(parent: QWidget, layout_item, stem: str) -> str | None:
    """Ask for a .png / .svg name and export ``layout_item``; returns the path written or None."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export picture", f"{stem}.png", "PNG (*.png);;SVG (*.svg)")
    if not path:
        return None
    try:
        export_item(layout_item, path)
    except (ExportError, OSError) as exc:
        doc = getattr(parent, "doc", None)
        if doc is not None:
            doc.message.emit(str(exc), "error")
        return None
    return path


def lesson_text_browser() -> QTextBrowser:
    tb = QTextBrowser()
    tb.setOpenExternalLinks(True)
    tb.setMinimumHeight(120)
    return tb


class StepsPage(QWidget):
    """The steps for ``doc.current`` with ``doc.model("A")``."""

    def __init__(self, doc, cache: compute.PredictorCache, parent=None):
        super().__init__(parent)
        self.doc, self.cache = doc, cache
        self.lesson = None
        self.model_name = ""
        self.items: dict = {}
        self._token = 0
        self._key: tuple | None = None
        self.status = QLabel("No clip or model A yet.")
        self.label_box = QComboBox()
        self.scale_box = QComboBox()
        self.scale_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.export_btn = QPushButton("Export picture…")
        top = QHBoxLayout()
        for w in (self.status, QLabel("class"), self.label_box, QLabel("scale"), self.scale_box, self.export_btn):
            top.addWidget(w)
        top.insertStretch(1)
        self.steps = QListWidget()
        for _, _, title in texts.STEPS:
            self.steps.addItem(title)
        self.steps.setMaximumWidth(190)
        self.text = lesson_text_browser()
        self.graphics = pg.GraphicsLayoutWidget()
        self.mu_slider = QSlider(Qt.Orientation.Horizontal)
        self.mu_slider.setRange(0, 100)
        self.mu_label = QLabel("μ = 0.50")
        mu_row = QHBoxLayout()
        mu_row.addWidget(QLabel("μ (eq. 9)"))
        mu_row.addWidget(self.mu_slider, 1)
        mu_row.addWidget(self.mu_label)
        self.mu_box = QWidget()
        self.mu_box.setLayout(mu_row)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.text)
        lower = QWidget()
        lv = QVBoxLayout(lower)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.graphics, 1)
        lv.addWidget(self.mu_box)
        right.addWidget(lower)
        right.setSizes([220, 520])
        split = QSplitter()
        split.addWidget(self.steps)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([170, 1100])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.steps.currentRowChanged.connect(self._redraw)
        self.label_box.currentIndexChanged.connect(self._redraw)
        self.scale_box.currentIndexChanged.connect(self._redraw)
        self.mu_slider.valueChanged.connect(self._mu_changed)
        self.export_btn.clicked.connect(self._export)
        doc.currentClipChanged.connect(self.refresh)
        doc.analysisChanged.connect(self._analysis_changed)
        slots_changed = getattr(doc, "slotsChanged", None)      # not in every Document: optional
        if slots_changed is not None:
            slots_changed.connect(self.refresh)
        self.steps.setCurrentRow(0)
        self.refresh()

    # ------------------------------------------------------------ state
    @property
    def step(self) -> str:
        return texts.STEPS[max(0, self.steps.currentRow())][0]

    @property
    def mu(self) -> float:
        return self.mu_slider.value() / 100.0

    def set_step(self, key: str) -> None:
        self.steps.setCurrentRow([k for k, _, _ in texts.STEPS].index(key))

    def _labels_of(self, clip, classes: list[str]) -> list[str] | None:
        names = set(getattr(clip, "weak", None) or []) | {e[2] for e in (getattr(clip, "strong", None) or [])}
        if not names:
            names = {e[2] for e in compute.read_strong(clip.path)}
        known = [c for c in classes if c in names]
        return known or None

    def refresh(self, *_args) -> None:
        """Explain the current clip with model A again (in the background) when either changed."""
        clip, entry = self.doc.current, self.doc.model("A")
        if clip is None or entry is None or getattr(entry, "error", None):
            self.status.setText("Open a clip and choose a model A to explain it.")
            return
        key = (clip.path, entry.path)
        if key == self._key:
            return
        self._key = key
        self._token += 1
        self.model_name = entry.name
        self.status.setText(f"Explaining {clip.name} with {entry.name}…")
        self.doc.tasks.cancel(lambda t: t.key[:1] == ("teaching",))   # an older request is moot
        fn = partial(compute.explain_job, self.cache, entry.path, clip.path,
                     self._labels_of(clip, entry.classes), 0.0)
        submit(self.doc, f"Explain: {clip.name}", fn, ("teaching", *key),
               partial(self._on_lesson, self._token, entry.name, clip.name),
               partial(self._on_failed, self._token))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _analysis_changed(self, clip_path: str, model_path: str) -> None:
        entry = self.doc.model("A")
        if entry is not None and model_path == entry.path:
            self.refresh()

    def _on_failed(self, token: int, msg: str) -> None:
        if token == self._token:
            self._key = None
            self.status.setText(f"Cannot explain: {msg}")
            self.doc.message.emit(msg, "error")

    def _on_lesson(self, token: int, model_name: str, clip_name: str, lesson) -> None:
        if token != self._token:
            return
        self.set_lesson(lesson, model_name, clip_name)

    def set_lesson(self, lesson, model_name: str = "", clip_name: str = "") -> None:
        """Show ``lesson`` (an engine.explain.Lesson): resets class, scale and μ to the model's."""
        self.lesson, self.model_name = lesson, model_name or lesson.method
        name = clip_name or os.path.basename(lesson.source or "clip")
        self.status.setText(f"{name} · {self.model_name} · labels: "
                            f"{'reference' if lesson.label_source == 'reference' else 'the model’s own tags'}")
        for box in (self.label_box, self.scale_box):
            box.blockSignals(True)
            box.clear()
        self.label_box.addItems(lesson.classes)
        positives = [i for i, y in enumerate(lesson.labels) if y]
        self.label_box.setCurrentIndex(positives[0] if positives else int(lesson.clip_probs.argmax()))
        self.scale_box.addItems([f"{s.name} ({s.hop_s:.3f} s)" for s in lesson.scales])
        self.scale_box.setCurrentIndex(lesson.primary_scale if lesson.scales else -1)
        for box in (self.label_box, self.scale_box):
            box.blockSignals(False)
        self.mu_slider.blockSignals(True)
        self.mu_slider.setValue(int(round((lesson.mu if lesson.mu is not None else 0.5) * 100)))
        self.mu_slider.blockSignals(False)
        self._redraw()

    # ------------------------------------------------------------ drawing
    def _values(self) -> dict:
        les = self.lesson
        return texts.step_values(les, max(0, self.scale_box.currentIndex()), max(0, self.label_box.currentIndex()),
                                 self.mu, self.model_name)

    def _redraw(self, *_args) -> None:
        self.graphics.clear()
        self.items = {}
        step = self.step
        self.mu_box.setVisible(step == "ensemble")
        stem = dict((k, s) for k, s, _ in texts.STEPS)[step]
        if self.lesson is None:
            self.text.setMarkdown(texts.read_text(stem))
            return
        self.text.setMarkdown(texts.fill(stem, self._values()))
        self.items = plots.DRAW[step](self.graphics.ci, self.lesson, max(0, self.scale_box.currentIndex()),
                                      max(0, self.label_box.currentIndex()), self.mu)

    def _mu_changed(self, _value: int) -> None:
        self.mu_label.setText(f"μ = {self.mu:.2f}")
        if self.lesson is None or self.step != "ensemble":
            return
        plots.update_ensemble(self.items, self.lesson, self.mu)
        self.text.setMarkdown(texts.fill("05-ensemble", self._values()))

    def ensemble_heights(self):
        """The ensemble bars as drawn (C,), for checks."""
        item = self.items.get("ensemble")
        return None if item is None else item.opts["height"]

    def export(self, path: str) -> str:
        return str(export_item(self.graphics.ci, path))

    def _export(self) -> None:
        export_dialog(self, self.graphics.ci, f"explain-{self.step}")


class ExplainPanel(QWidget):
    """The "Explain" tab: Steps, ResNet-ATT vs M&mnet, Watch it learn."""

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        from .compare import ComparePage
        from .learn import LearnPage

        self.doc = doc
        self.cache = compute.PredictorCache()
        self.tabs = QTabWidget()
        self.steps = StepsPage(doc, self.cache)
        self.compare = ComparePage(doc, self.cache)
        self.learn = LearnPage(doc)
        self.tabs.addTab(self.steps, "Steps")
        self.tabs.addTab(self.compare, "ResNet-ATT vs M&&mnet")
        self.tabs.addTab(self.learn, "Watch it learn")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
