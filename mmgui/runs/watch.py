"""Watch attention learn: a run's per-epoch snapshots (``--keep-snapshots``) analyzing one clip.

An epoch slider and a play button step through ``RUN/snapshots/epoch-NNN.safetensors`` (epoch 0 =
the initial weights); each (snapshot, clip) is analyzed once by the engine's Predictor on the
"compute" pool and kept. Shown: the segment predictions d_t of the primary scale (classes x time,
heatmap in [0, 1]) and the attention a_t (time) of that scale, x in seconds of the clip.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from .. import theme
from ..workers import FunctionTask

PLAY_MS = 700
MAX_CACHE = 200


def _validation_clips(data: str, seed: int, task) -> list[str]:
    """Pool thread: the audio paths of a dataset's validation split (headers not opened)."""
    from engine.data import load_dataset

    return load_dataset(data, "validation", seed=seed, check_audio=False).paths


def _analyze(snapshot: str, clip: str, task) -> dict:
    """Pool thread: the primary scale of ``snapshot`` on ``clip`` as plain arrays.

    Returns times (T,) s, hop_s, probs (T x C) in [0, 1], attention (T,) or None, classes, clip (C,)."""
    import engine

    pred = engine.load_model(snapshot, device="cpu")
    task.check()
    a = pred.analyze(clip, batch_size=2, cancel=lambda: task.is_cancelled)
    if not a.scales:
        return {"times": np.zeros(0), "hop_s": 0.0, "probs": np.zeros((0, len(a.classes))), "attention": None,
                "classes": a.classes, "clip": a.clip_probs, "duration": a.duration}
    s = a.scale(None)
    return {"times": s.times, "hop_s": s.hop_s, "probs": s.segment_probs, "attention": s.attention,
            "classes": a.classes, "clip": a.clip_probs, "duration": a.duration}


def _stale(wanted: tuple, task) -> bool:
    return task.key[:1] == ("run-snapshot",) and task.key != wanted and not task.started


class AttentionWatch(QWidget):
    """Epoch slider + play over a run's snapshots, for one chosen clip of its validation split."""

    def __init__(self, tasks, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.run = None
        self.snaps: list[tuple[int, str]] = []
        self.cache: dict[tuple[str, str], dict] = {}
        self.shown: tuple[str, str] | None = None
        self._clips_tried: set[tuple[str, str]] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.clip_combo = QComboBox()
        self.clip_combo.setMinimumWidth(200)
        self.clip_combo.currentIndexChanged.connect(self.request)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self.request)
        self.label = QLabel("no snapshots")
        for w, stretch in ((QLabel("Clip"), 0), (self.clip_combo, 1), (self.play_button, 0), (self.slider, 2),
                           (self.label, 1)):
            row.addWidget(w, stretch)
        layout.addLayout(row)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.PANE_BACKGROUND)
        self.heat_plot = self.graphics.addPlot(row=0, col=0, title="segment predictions d_t")
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setColorMap(pg.colormap.get(theme.HEATMAP_CMAP))
        self.heat_plot.addItem(self.heat)
        self.att_plot = self.graphics.addPlot(row=1, col=0, title="attention a_t")
        self.att_plot.setXLink(self.heat_plot)
        self.att_plot.setLabel("bottom", "time", units="s")
        self.att_curve = self.att_plot.plot([], [], pen=pg.mkPen(theme.SCALE_COLOURS[2], width=2))
        layout.addWidget(self.graphics, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._step)

    # ---------------------------------------------------------------- inputs
    def set_run(self, run) -> None:
        """Follow ``run`` (a :class:`~mmgui.runs.model.Run`, or None): its snapshots and validation clips."""
        changed = run is None or self.run is None or run.path != self.run.path
        self.run = run
        if changed:
            self.clip_combo.clear()
            self.snaps = []
        # the clips are read once the data is there (synthetic data is generated after the run is queued)
        if run is not None and self.clip_combo.count() == 0 and (run.path, run.status) not in self._clips_tried:
            data = str(run.config.get("data") or "")
            if data and (Path(data) / "metadata").exists() or run.status not in ("queued", "new"):
                self._clips_tried.add((run.path, run.status))
                fn = partial(_validation_clips, data, int(run.config.get("seed") or 0))
                task = FunctionTask(f"Clips of {run.name}", fn, ("run-clips", run.path, run.status))
                task.signals.done.connect(partial(self._clips_ready, run.path))
                self.tasks.submit(task, "io")
        self.refresh()

    def _clips_ready(self, path: str, clips: list) -> None:
        if self.run is None or self.run.path != path:
            return
        self.clip_combo.blockSignals(True)
        self.clip_combo.clear()
        for c in clips:
            self.clip_combo.addItem(c.rsplit("/", 1)[-1], c)
        self.clip_combo.blockSignals(False)
        self.request()

    def refresh(self) -> None:
        """Read the run's snapshots again (a running run adds one per epoch); stays on the shown epoch."""
        snaps = [(e, str(p)) for e, p in self.run.snapshots] if self.run is not None else []
        if snaps == self.snaps:
            return
        at_end = self.slider.value() >= len(self.snaps) - 1
        self.snaps = snaps
        self.slider.setRange(0, max(0, len(snaps) - 1))
        if at_end and not self.timer.isActive():
            self.slider.setValue(len(snaps) - 1)
        self.slider.setEnabled(bool(snaps))
        self.play_button.setEnabled(len(snaps) > 1)
        if not snaps:
            self.label.setText("no snapshots (train with “keep a snapshot per epoch”)")
        self.request()

    def current_epoch(self) -> int | None:
        i = self.slider.value()
        return self.snaps[i][0] if 0 <= i < len(self.snaps) else None

    # ---------------------------------------------------------------- work
    def request(self, *_args) -> None:
        """Show the chosen (epoch, clip): from the cache, or analyze it in the background."""
        clip = self.clip_combo.currentData()
        i = self.slider.value()
        if clip is None or not (0 <= i < len(self.snaps)):
            return
        epoch, snap = self.snaps[i]
        key = (snap, clip)
        self.label.setText(f"epoch {epoch}" + ("" if key in self.cache else " (analyzing…)"))
        if key in self.cache:
            self._draw(key)
            return
        # epochs the slider has left behind are not analyzed any more (a running run adds one per epoch)
        self.tasks.cancel(partial(_stale, ("run-snapshot",) + key))
        if self.tasks.find(("run-snapshot",) + key) is None:
            task = FunctionTask(f"Epoch {epoch} on {clip.rsplit('/', 1)[-1]}", partial(_analyze, snap, clip),
                                ("run-snapshot",) + key)
            task.signals.done.connect(partial(self._analyzed, key))
            task.signals.failed.connect(self.label.setText)
            self.tasks.submit(task, "compute")

    def _analyzed(self, key: tuple[str, str], result: dict) -> None:
        if len(self.cache) >= MAX_CACHE:
            self.cache.pop(next(iter(self.cache)))
        self.cache[key] = result
        i = self.slider.value()
        if 0 <= i < len(self.snaps) and (self.snaps[i][1], self.clip_combo.currentData()) == key:
            self._draw(key)

    def _draw(self, key: tuple[str, str]) -> None:
        r = self.cache[key]
        self.shown = key
        epoch = self.current_epoch()
        probs = np.asarray(r["probs"], np.float32)
        classes = list(r["classes"])
        top = np.argsort(-np.asarray(r["clip"]))[:3]
        self.label.setText(f"epoch {epoch}: " + ", ".join(f"{classes[j]} {float(r['clip'][j]):.2f}" for j in top))
        if probs.size:
            self.heat.setImage(probs.T, levels=(0.0, 1.0))
            t0 = float(r["times"][0]) if len(r["times"]) else 0.0
            self.heat.setRect(QRectF(t0, 0.0, len(r["times"]) * float(r["hop_s"]), len(classes)))
            self.heat_plot.getAxis("left").setTicks([[(j + 0.5, c) for j, c in enumerate(classes)]])
        else:
            self.heat.clear()
        att = r["attention"]
        if att is not None and len(att):
            self.att_curve.setData(np.asarray(r["times"]) + float(r["hop_s"]) / 2, np.asarray(att, np.float32))
        else:
            self.att_curve.setData([], [])

    # ---------------------------------------------------------------- play
    def _play(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        if on:
            if self.slider.value() >= len(self.snaps) - 1:
                self.slider.setValue(0)
            self.timer.start()
        else:
            self.timer.stop()

    def _step(self) -> None:
        i = self.slider.value()
        if i >= len(self.snaps) - 1:
            self.play_button.setChecked(False)
            return
        if self.shown != (self.snaps[i][1], self.clip_combo.currentData()):
            return      # wait for the shown epoch's analysis before moving on
        self.slider.setValue(i + 1)
