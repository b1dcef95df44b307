"""Side-by-side lesson: ResNet-ATT and M&mnet on a clip with a short event inside a long one.

The clips are the bundled ones of assets/teaching/ (``scripts/make_teaching_clips.py``); the
models are the bundled demo models. For the short event's class each column shows the model's
pooling attention α_t and its segment predictions d_t, with the event's true extent shaded.
"""
from __future__ import annotations

import os
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget
from PySide6.QtCore import Qt

from ..document import bundled
from . import compute, plots, texts

ROLES = (("att", "ResNet-ATT"), ("mmnet", "M&mnet-MS"))


def result_rows(cmp) -> list[dict]:
    """Per model: the short event's class, its final clip probability, threshold, recall and the
    share of the model's pooling attention on the event (primary scale)."""
    rows = []
    if cmp.short is None:
        return rows
    on, off, name = cmp.short
    for role, title in ROLES:
        les = cmp.lessons[role]
        if name not in les.classes:
            rows.append({"model": title, "class": name, "known": False})
            continue
        c = les.class_index(name)
        final = les.ensemble if les.ensemble is not None else les.clip_probs
        rows.append({"model": title, "class": name, "known": True, "p": float(final[c]),
                     "threshold": float(les.thresholds[c]), "recalled": les.recalls(name),
                     "share": les.primary.share_inside(on, off, c), "length": off - on})
    return rows


def rows_markdown(rows: list[dict]) -> str:
    out = ["| model | short event | clip probability | threshold | recalled | attention on it |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if not r["known"]:
            out.append(f"| {r['model']} | {r['class']} | — | — | class unknown to the model | — |")
            continue
        out.append(f"| {r['model']} | {r['class']} ({r['length']:.2f} s) | {r['p']:.3f} | {r['threshold']:.3f} | "
                   f"{'**yes**' if r['recalled'] else 'no'} | {r['share']:.0%} |")
    return "\n".join(out)


class ComparePage(QWidget):
    def __init__(self, doc, cache: compute.PredictorCache, parent=None):
        super().__init__(parent)
        self.doc, self.cache = doc, cache
        self.comparison = None
        self.rows: list[dict] = []
        self.items: dict = {}
        self._token = 0
        att, mmnet = bundled.get("synthetic").pair()     # the lesson clips are synthetic-benchmark clips
        self.models = {"att": str(att), "mmnet": str(mmnet)}
        self.clip_box = QComboBox()
        for p in compute.lesson_clips():
            self.clip_box.addItem(p.name, str(p))
        self.export_btn = QPushButton("Export picture…")
        self.status = QLabel("")
        top = QHBoxLayout()
        for w in (QLabel("lesson clip"), self.clip_box, self.status):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.export_btn)
        from .panel import lesson_text_browser

        self.text = lesson_text_browser()
        self.graphics = pg.GraphicsLayoutWidget()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.text)
        split.addWidget(self.graphics)
        split.setSizes([260, 520])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.text.setMarkdown(texts.read_text("compare"))
        self.clip_box.currentIndexChanged.connect(self.run)
        self.export_btn.clicked.connect(self._export)
        self._started = False

    def showEvent(self, event) -> None:   # compute on first sight, not at start-up
        super().showEvent(event)
        if not self._started:
            self.run()

    def run(self, *_args) -> None:
        clip = self.clip_box.currentData()
        if not clip:
            self.status.setText("no lesson clips in assets/teaching")
            return
        missing = [p for p in self.models.values() if not os.path.isfile(p)]
        if missing:
            self.status.setText(f"missing model file {missing[0]}")
            return
        from .panel import submit

        self._started = True
        self._token += 1
        self.status.setText("computing…")
        fn = partial(compute.compare_job, self.cache, self.models["att"], self.models["mmnet"], clip)
        submit(self.doc, f"Lesson: {os.path.basename(clip)}", fn, ("teaching-compare", clip),
               partial(self._done, self._token), partial(self._failed, self._token))

    def _failed(self, token: int, msg: str) -> None:
        if token == self._token:
            self.status.setText(msg)
            self.doc.message.emit(msg, "error")

    def _done(self, token: int, cmp) -> None:
        if token == self._token:
            self.set_comparison(cmp)

    def set_comparison(self, cmp) -> None:
        self.comparison = cmp
        self.status.setText("")
        self.rows = result_rows(cmp)
        self.text.setMarkdown(texts.read_text("compare") + "\n\n" + rows_markdown(self.rows))
        self.graphics.clear()
        self.items = {}
        if cmp.short is None:
            return
        on, off, name = cmp.short
        for col, (role, title) in enumerate(ROLES):
            les = cmp.lessons[role]
            spec = plots.spectrogram(self.graphics.ci, les, 0, f"{title}: {os.path.basename(cmp.clip)}", col=col)
            for (a, b, lab) in cmp.events:
                region = pg.LinearRegionItem((a, b), movable=False,
                                             brush=(255, 255, 255, 40 if lab != name else 70))
                spec.addItem(region)
            if name not in les.classes:
                continue
            c = les.class_index(name)
            sc = les.primary
            centres = sc.times + sc.hop_s / 2
            which = "α_t,c (its own, per class)" if les.kind == "att-class" else "α_t (eq. 9, shared)"
            p = plots.add_plot(self.graphics.ci, 1, f"{title}: pooling attention {which} for {name}", "α_t", col=col)
            p.addItem(pg.LinearRegionItem((on, off), movable=False, brush=(255, 159, 67, 60)))
            alpha = p.plot(centres, sc.alpha_for(c), pen=pg.mkPen(plots.ACCENT, width=2))
            q = plots.add_plot(self.graphics.ci, 2, f"{title}: d_t of {name}", "d_t", col=col)
            q.addItem(pg.LinearRegionItem((on, off), movable=False, brush=(255, 159, 67, 60)))
            q.plot(centres, sc.segment_probs[:, c], pen=pg.mkPen(plots.SECOND, width=2))
            q.setYRange(0, 1, padding=0.02)
            for pl in (p, q):
                plots.time_axis(pl, les)
                pl.setXLink(spec)
            self.items[role] = {"alpha": alpha, "alpha_values": np.asarray(sc.alpha_for(c))}

    def _export(self) -> None:
        from .panel import export_dialog

        export_dialog(self, self.graphics.ci, "explain-compare")
