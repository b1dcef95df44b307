"""A horizontal bar chart of one metric per system: mean over seeds with ± std error bars and
each seed's value as a dot; or, paired with a baseline, the mean difference (points) with its
std and each seed's difference. Bars of the systems matching slots A and B take the slot's
colour; the others are grey. Systems are listed top to bottom in the benchmark's order.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine import comparison as cmp

from .. import theme

OTHER = "#6b7079"
DOT = "#e6e6e6"
JITTER = 0.18          # the seeds' dots spread over +- this much of a row


class BenchmarkChart(pg.PlotWidget):
    """``show_benchmark(bench, metric, mode, baseline, slots, label)``; ``bars`` holds the drawn
    (name, mean, std, dots) in points; ``label(name)`` names a system's row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.plot_item = self.getPlotItem()
        self.plot_item.invertY(True)
        self.plot_item.showGrid(x=True, y=False, alpha=0.25)
        self.plot_item.getAxis("left").setStyle(tickLength=0)
        self.setMinimumHeight(120)
        self.bars: list[tuple[str, float, float | None, list[float]]] = []

    def show_benchmark(self, bench: cmp.Benchmark, metric: str, mode: str, baseline: str | None,
                       slots: dict[str, str | None], label=str) -> None:
        p = self.plot_item
        p.clear()
        self.bars = []
        names = list(bench.systems)
        for name in names:
            s = bench.systems[name]
            if mode == "paired":
                d = cmp.paired(bench, name, baseline, metric) if baseline and name != baseline else None
                if d is not None:
                    self.bars.append((name, d.mean, d.std, list(d.diffs)))
            else:
                sp = cmp.spread(list(s.values(metric).values()))
                if sp is not None:
                    self.bars.append((name, sp.mean, sp.std, list(sp.values)))
        title = cmp.METRICS[metric]
        if mode == "paired":
            p.setTitle(f"{title} − {label(baseline)}, points (mean ± std; dots: seeds)", size="8pt")
            p.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(theme.FOREGROUND, width=1)))
        else:
            p.setTitle(f"{title}, % (mean ± std over seeds; dots: seeds)", size="8pt")
        p.getAxis("left").setTicks([[(i, label(n)) for i, n in enumerate(names)]])
        p.setYRange(-0.6, len(names) - 0.4, padding=0)
        if not self.bars:
            return
        colour = {v: theme.SLOT_COLOURS[k] for k, v in reversed(list(slots.items())) if v}
        ys = np.array([names.index(n) for n, *_ in self.bars], float)
        means = np.array([m for _, m, _, _ in self.bars])
        stds = np.array([0.0 if s is None else s for _, _, s, _ in self.bars])
        brushes = [pg.mkBrush(colour.get(n, OTHER)) for n, *_ in self.bars]
        p.addItem(pg.BarGraphItem(x0=np.minimum(means, 0), y=ys, width=np.abs(means), height=0.6,
                                  brushes=brushes, pen=pg.mkPen(None)))
        p.addItem(pg.ErrorBarItem(x=means, y=ys, left=stds, right=stds, beam=0.25,
                                  pen=pg.mkPen(theme.FOREGROUND, width=1.5)))
        xs, yd = [], []
        for y, (_, _, _, dots) in zip(ys, self.bars):
            offsets = np.linspace(-JITTER, JITTER, len(dots)) if len(dots) > 1 else [0.0]
            xs += list(dots)
            yd += [y + o for o in offsets]
        p.addItem(pg.ScatterPlotItem(x=xs, y=yd, size=6, brush=pg.mkBrush(DOT), pen=pg.mkPen("#000000")))
        lo = min(0.0, float(np.min(means - stds)), min(xs))
        hi = max(0.0, float(np.max(means + stds)), max(xs))
        pad = 0.05 * (hi - lo or 1.0)
        p.setXRange(lo - pad, hi + pad, padding=0)
