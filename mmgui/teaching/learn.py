"""Watch it learn: a clip's attention and segment predictions over a run's per-epoch snapshots.

``LearnPage.set_run(run_dir, clip_path)`` explains the clip with every snapshot of the run
(``engine.runs.snapshots``: ``RUN/snapshots/epoch-NNN.safetensors``, written by
``mmnet train --keep-snapshots``) in the background; a slider and a play button step through
the epochs, drawn on axes fixed over all epochs so that the change is visible.
"""
from __future__ import annotations

import os
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QSplitter,
                               QVBoxLayout, QWidget)

from . import compute, plots, texts


class LearnPage(QWidget):
    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.history: list = []
        self.run_dir: str | None = None
        self.clip_path: str | None = None
        self.items: dict = {}
        self._token = 0
        self.open_btn = QPushButton("Open run folder…")
        self.run_label = QLabel("No run: train with --keep-snapshots, then open its folder.")
        self.class_box = QComboBox()
        self.export_btn = QPushButton("Export picture…")
        top = QHBoxLayout()
        for w in (self.open_btn, self.run_label):
            top.addWidget(w)
        top.addStretch(1)
        for w in (QLabel("class"), self.class_box, self.export_btn):
            top.addWidget(w)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.play_btn = QPushButton("Play")
        self.play_btn.setCheckable(True)
        self.play_btn.setEnabled(False)
        self.epoch_label = QLabel("epoch —")
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_btn)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.epoch_label)
        from .panel import lesson_text_browser

        self.text = lesson_text_browser()
        self.text.setMarkdown(texts.read_text("learn"))
        self.graphics = pg.GraphicsLayoutWidget()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.text)
        split.addWidget(self.graphics)
        split.setSizes([150, 560])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addLayout(bottom)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.open_btn.clicked.connect(self._choose_run)
        self.slider.valueChanged.connect(self._show_epoch)
        self.class_box.currentIndexChanged.connect(self._redraw)
        self.play_btn.toggled.connect(self._play)
        self.export_btn.clicked.connect(self._export)

    # ------------------------------------------------------------ input
    def _choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder (trained with --keep-snapshots)")
        if folder:
            self.set_run(folder)

    def default_clip(self) -> str | None:
        if self.doc.current is not None:
            return self.doc.current.path
        clips = compute.lesson_clips()
        return str(clips[0]) if clips else None

    def set_run(self, run_dir: str, clip_path: str | None = None) -> None:
        """Explain ``clip_path`` (default: the current clip) with every snapshot of ``run_dir``."""
        from engine.runs import snapshots

        from .panel import submit

        clip_path = clip_path or self.default_clip()
        if clip_path is None:
            self.run_label.setText("Open a clip first.")
            return
        n = len(snapshots(run_dir))
        if n == 0:
            self.run_label.setText(f"{os.path.basename(run_dir)}: no snapshots (train with --keep-snapshots).")
            return
        self.run_dir, self.clip_path = run_dir, clip_path
        self._token += 1
        self.play_btn.setChecked(False)
        self.run_label.setText(f"{os.path.basename(run_dir)}: explaining {os.path.basename(clip_path)} "
                               f"with {n} snapshots…")
        fn = partial(compute.history_job, run_dir, clip_path, None)
        submit(self.doc, f"Snapshots of {os.path.basename(run_dir)}", fn, ("teaching-learn", run_dir, clip_path),
               partial(self._done, self._token), partial(self._failed, self._token))

    def _failed(self, token: int, msg: str) -> None:
        if token == self._token:
            self.run_label.setText(msg)
            self.doc.message.emit(msg, "error")

    def _done(self, token: int, history) -> None:
        if token == self._token:
            self.set_history(history)

    def set_history(self, history) -> None:
        """[(epoch, Lesson)] to show."""
        self.history = history
        if not history:
            return
        first = history[-1][1]
        self.run_label.setText(f"{os.path.basename(self.run_dir or '')} · {os.path.basename(first.source or '')} · "
                               f"{first.method} · {len(history)} epochs")
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(first.classes)
        self.class_box.setCurrentIndex(int(first.clip_probs.argmax()))
        self.class_box.blockSignals(False)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(history) - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        for w in (self.slider, self.play_btn):
            w.setEnabled(len(history) > 1)
        self._redraw()

    # ------------------------------------------------------------ drawing
    def _redraw(self, *_args) -> None:
        self.graphics.clear()
        self.items = {}
        if not self.history:
            return
        c = max(0, self.class_box.currentIndex())
        les0 = self.history[0][1]
        plots.spectrogram(self.graphics.ci, les0, 0)
        att = plots.add_plot(self.graphics.ci, 1, "attention a_t of the primary scale", "a_t")
        seg = plots.add_plot(self.graphics.ci, 2, f"d_t of {les0.classes[c]}", "d_t")
        atts = [les.primary.attention for _, les in self.history if les.scales and les.primary.attention is not None]
        att.setYRange(0, max([float(a.max()) for a in atts] + [1e-6]) * 1.05, padding=0)
        seg.setYRange(0, 1, padding=0.02)
        events = compute.read_strong(self.clip_path) if self.clip_path else []
        for pl in (att, seg):
            plots.time_axis(pl, les0)
            for a, b, _ in events:
                pl.addItem(pg.LinearRegionItem((a, b), movable=False, brush=(255, 255, 255, 35)))
        self.items = {"attention": att.plot(pen=pg.mkPen(plots.ACCENT, width=2)),
                      "segments": seg.plot(pen=pg.mkPen(plots.SECOND, width=2)), "att_plot": att, "seg_plot": seg}
        self._show_epoch(self.slider.value())

    def _show_epoch(self, i: int) -> None:
        if not self.history or "attention" not in self.items:
            return
        epoch, les = self.history[i]
        c = max(0, self.class_box.currentIndex())
        final = les.ensemble if les.ensemble is not None else les.clip_probs
        self.epoch_label.setText(f"epoch {epoch} · clip p({les.classes[c]}) = {final[c]:.3f}")
        if not les.scales:
            return
        sc = les.primary
        centres = sc.times + sc.hop_s / 2
        a = sc.attention if sc.attention is not None else np.zeros(sc.n_segments)
        self.items["attention"].setData(centres, a)
        self.items["segments"].setData(centres, sc.segment_probs[:, c])

    def _play(self, on: bool) -> None:
        self.play_btn.setText("Pause" if on else "Play")
        if on:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.play_btn.setChecked(False)
            return
        self.slider.setValue(self.slider.value() + 1)

    def _export(self) -> None:
        from .panel import export_dialog

        export_dialog(self, self.graphics.ci, "explain-learning")
