"""Drawing the lesson's steps into a pyqtgraph GraphicsLayout (one function per step).

Every function takes the layout (cleared by the caller), an :class:`engine.explain.Lesson`,
the chosen scale index, class index and mu, draws only arrays of the lesson, and returns a
dict of the items it made (the panel updates some of them live; tests read them).
Time axes are seconds from the start of the recording.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .. import theme

ACCENT = "#ff9f43"
SECOND = "#4cc9f0"
THIRD = "#90be6d"


def add_plot(layout: pg.GraphicsLayout, row: int, title: str, left: str = "", col: int = 0) -> pg.PlotItem:
    p = layout.addPlot(row=row, col=col)
    p.setTitle(title, size="9pt", justify="left")
    p.showGrid(x=True, y=True, alpha=0.15)
    if left:
        p.setLabel("left", left)
    p.getAxis("left").setWidth(60)
    p.getAxis("left").enableAutoSIPrefix(False)
    return p


def time_axis(p: pg.PlotItem, lesson) -> None:
    p.setLabel("bottom", "time", units="s")
    p.setXRange(lesson.start_s, lesson.start_s + lesson.duration, padding=0)


def spectrogram(layout, lesson, row: int, title: str = "log-mel spectrogram", col: int = 0) -> pg.PlotItem:
    """The log-mel (mel bins on y) of the explained window."""
    p = add_plot(layout, row, title, "mel bin", col)
    img = pg.ImageItem(np.ascontiguousarray(lesson.log_mel, np.float32))
    img.setColorMap(pg.colormap.get(theme.SPECTROGRAM_CMAP))
    n_mels, frames = lesson.log_mel.shape
    img.setRect(lesson.start_s, 0, frames * lesson.frame_hop_s, n_mels)
    lo, hi = np.percentile(lesson.log_mel, [2, 99.5]) if lesson.log_mel.size else (0, 1)
    img.setLevels((float(lo), float(max(hi, lo + 1e-3))))
    p.addItem(img)
    p.setYRange(0, n_mels, padding=0)
    time_axis(p, lesson)
    p.image = img
    return p


def _class_axis(p: pg.PlotItem, classes: list[str]) -> None:
    p.getAxis("bottom").setTicks([[(i, c.replace("_", " ")) for i, c in enumerate(classes)]])
    p.setXRange(-0.6, len(classes) - 0.4, padding=0)


def _bars(p, x, h, width, colour, name=None) -> pg.BarGraphItem:
    bar = pg.BarGraphItem(x=np.asarray(x, float), height=np.asarray(h, float), width=width, brush=colour,
                          pen=pg.mkPen(None), name=name)
    p.addItem(bar)
    return bar


def _thresholds(p, lesson) -> pg.ScatterPlotItem:
    ticks = pg.ScatterPlotItem(np.arange(len(lesson.classes)), lesson.thresholds, symbol="_", size=22,
                               pen=pg.mkPen("#ffffff", width=2), brush=None)
    p.addItem(ticks)
    return ticks


def step_segments(layout, lesson, scale: int, label: int, mu: float) -> dict:
    spec = spectrogram(layout, lesson, 0)
    items = {"spectrogram": spec}
    if lesson.scales:
        sc = lesson.scales[scale]
        edges = np.append(sc.times, sc.times[-1] + sc.hop_s)
        x = np.repeat(edges, 2)
        y = np.tile([0.0, float(lesson.log_mel.shape[0])], len(edges))
        items["borders"] = spec.plot(x, y, connect="pairs", pen=pg.mkPen((255, 255, 255, 110), width=1))
        spec.setTitle(f"log-mel with the {sc.n_segments} segments of scale {sc.name} ({sc.hop_s:.4f} s each)",
                      size="9pt", justify="left")
    fm = add_plot(layout, 1, f"feature map X of the last stage ({lesson.feature_map.shape[0]} channels × "
                          f"{lesson.feature_map.shape[1]} segments)", "channel")
    img = pg.ImageItem(np.ascontiguousarray(lesson.feature_map, np.float32))
    img.setColorMap(pg.colormap.get(theme.HEATMAP_CMAP))
    hop_last = lesson.duration / max(1, lesson.feature_map.shape[1])
    if lesson.scales:
        hop_last = lesson.primary.hop_s
    img.setRect(lesson.start_s, 0, lesson.feature_map.shape[1] * hop_last, lesson.feature_map.shape[0])
    fm.addItem(img)
    time_axis(fm, lesson)
    fm.setXLink(spec)
    items["feature_map"] = img
    return items


def step_macro(layout, lesson, scale: int, label: int, mu: float) -> dict:
    clip = lesson.macro if lesson.macro is not None else lesson.clip_probs
    what = "macro prediction ŷ (eq. 2)" if lesson.macro is not None else "clip prediction (attention pooling)"
    p = add_plot(layout, 0, f"{what}; ticks: thresholds", "probability")
    _class_axis(p, lesson.classes)
    colours = [ACCENT if y else "#6c757d" for y in lesson.labels]
    bars = pg.BarGraphItem(x=np.arange(len(clip)), height=clip, width=0.7, brushes=colours, pen=pg.mkPen(None))
    p.addItem(bars)
    _thresholds(p, lesson)
    p.setYRange(0, 1.05, padding=0)
    items = {"bars": bars}
    if lesson.pooled_features is not None:
        q = add_plot(layout, 1, f"pooled feature vector: mean of X over time ({len(lesson.pooled_features)} values)",
                  "value")
        items["pooled"] = q.plot(np.arange(len(lesson.pooled_features)), lesson.pooled_features,
                                 pen=pg.mkPen(SECOND), stepMode=None)
        q.setLabel("bottom", "channel")
    return items


def step_micro(layout, lesson, scale: int, label: int, mu: float) -> dict:
    if not lesson.scales:
        layout.addLabel(f"{lesson.method} has no segment level", row=0, col=0)
        return {}
    sc = lesson.scales[scale]
    p = add_plot(layout, 0, f"d_t at scale {sc.name}: classes × segments", "class")
    img = pg.ImageItem(np.ascontiguousarray(sc.segment_probs.T, np.float32), levels=(0, 1))
    img.setColorMap(pg.colormap.get(theme.HEATMAP_CMAP))
    img.setRect(sc.times[0], 0, sc.n_segments * sc.hop_s, len(lesson.classes))
    p.addItem(img)
    p.getAxis("left").setTicks([[(i + 0.5, c) for i, c in enumerate(lesson.classes)]])
    time_axis(p, lesson)
    heads = float(sc.attention.sum()) if sc.attention is not None else 0.0
    q = add_plot(layout, 1, f"a_t at scale {sc.name} (sums to {heads:.0f}, the number of heads m, over the clip)",
              "a_t")
    curve = None
    if sc.attention is not None:
        curve = q.plot(sc.times + sc.hop_s / 2, sc.attention, pen=pg.mkPen(ACCENT, width=2))
    time_axis(q, lesson)
    q.setXLink(p)
    return {"heatmap": img, "attention": curve}


def step_eq7(layout, lesson, scale: int, label: int, mu: float) -> dict:
    spec = spectrogram(layout, lesson, 0)
    if not lesson.has_micro:
        spec.setTitle(f"{lesson.method} has no micro loss: its attention learns from the clip loss only "
                      "(see step 6)", size="9pt", justify="left")
        return {"spectrogram": spec}
    sc = lesson.scales[scale]
    W = sc.micro_weights[:, label]
    top = float(lesson.log_mel.shape[0])
    shown = W / max(float(W.max()), 1e-12) * 0.9 * top
    x = np.repeat(np.append(sc.times, sc.times[-1] + sc.hop_s), 2)[1:-1]
    overlay = spec.plot(x, np.repeat(shown, 2), pen=pg.mkPen(ACCENT, width=2), fillLevel=0,
                        brush=(255, 159, 67, 70))
    spec.setTitle(f"W_t for {lesson.classes[label]} at {sc.name} over the spectrogram (max {W.max():.3g})",
                  size="9pt", justify="left")
    q = add_plot(layout, 1, "per segment: BCE(y_c, d_t,c), the term eq. 7 weighs", "nats")
    terms = sc.micro_terms[:, label]
    centres = sc.times + sc.hop_s / 2
    q.plot(centres, terms, pen=pg.mkPen(SECOND))
    r = add_plot(layout, 2, f"W_t · BCE: sum {float((W * terms).sum()):.4g} for this class; "
                         f"scale loss {sc.micro_loss:.4g} (mean over classes{', per segment' if lesson.micro_reduction == 'mean' else ''})",
              "nats")
    product = r.plot(x, np.repeat(W * terms, 2), pen=pg.mkPen(ACCENT), fillLevel=0, brush=(255, 159, 67, 120))
    for pl in (q, r):
        time_axis(pl, lesson)
        pl.setXLink(spec)
    return {"spectrogram": spec, "weights": overlay, "product": product}


def step_ensemble(layout, lesson, scale: int, label: int, mu: float) -> dict:
    p = add_plot(layout, 0, "grey: macro ŷ · blue: pooled segments ŷ_att · orange: ensemble at μ", "probability")
    _class_axis(p, lesson.classes)
    p.setYRange(0, 1.05, padding=0)
    if lesson.ensemble_grid is None:
        p.setTitle(f"{lesson.method} has no ensemble (eq. 9): its clip answer is step 6's pooling",
                   size="9pt", justify="left")
        return {}
    n = np.arange(len(lesson.classes))
    _bars(p, n - 0.27, lesson.macro, 0.26, "#8d939c")
    _bars(p, n, lesson.y_att, 0.26, SECOND)
    ens = _bars(p, n + 0.27, lesson.ensemble_at(mu), 0.26, ACCENT)
    _thresholds(p, lesson)
    q = add_plot(layout, 1, f"eq. 9 for {lesson.classes[label]} as μ goes from 0 to 1", "probability")
    q.plot(lesson.mu_grid, lesson.ensemble_grid[:, label], pen=pg.mkPen(ACCENT, width=2))
    q.setLabel("bottom", "μ")
    marker = pg.InfiniteLine(mu, angle=90, pen=pg.mkPen("#ffffff", style=pg.QtCore.Qt.PenStyle.DashLine))
    q.addItem(marker)
    return {"ensemble": ens, "mu_line": marker}


def update_ensemble(items: dict, lesson, mu: float) -> None:
    """Move the ensemble bars and the μ marker to ``mu`` (the model's eq. 9 at that μ)."""
    if "ensemble" in items:
        items["ensemble"].setOpts(height=np.asarray(lesson.ensemble_at(mu), float))
        items["mu_line"].setValue(mu)


def step_pooling(layout, lesson, scale: int, label: int, mu: float) -> dict:
    if not lesson.scales or lesson.primary.alpha is None:
        layout.addLabel(f"{lesson.method} pools no segments", row=0, col=0)
        return {}
    sc = lesson.scales[scale] if lesson.scales[scale].alpha is not None else lesson.primary
    a = sc.alpha_for(label)
    centres = sc.times + sc.hop_s / 2
    spec = spectrogram(layout, lesson, 0)
    p = add_plot(layout, 1, f"α_t for {lesson.classes[label]} at {sc.name} (sums to 1)", "α_t")
    alpha = p.plot(centres, a, pen=pg.mkPen(ACCENT, width=2))
    q = add_plot(layout, 2, f"d_t (blue) and α_t · d_t (bars): sum = {float((a * sc.segment_probs[:, label]).sum()):.4f}",
              "probability")
    q.plot(centres, sc.segment_probs[:, label], pen=pg.mkPen(SECOND))
    contrib = _bars(q, centres, a * sc.segment_probs[:, label], sc.hop_s * 0.9, ACCENT)
    for pl in (p, q):
        time_axis(pl, lesson)
        pl.setXLink(spec)
    return {"alpha": alpha, "contribution": contrib}


DRAW = {"segments": step_segments, "macro": step_macro, "micro": step_micro, "eq7": step_eq7,
        "ensemble": step_ensemble, "pooling": step_pooling}
