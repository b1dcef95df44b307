"""Per-epoch curves of several runs overlaid: training loss, validation mAP and learning rate.

x: epoch (from 1); one colour per run, the same in the three plots; a legend in the first.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from .. import theme

PLOTS = (("train_loss", "training loss"), ("val_mAP", "validation mAP"), ("lr", "learning rate"))
RUN_COLOURS = theme.CLASS_COLOURS + theme.SCALE_COLOURS


class CurvesWidget(QWidget):
    """Three plots; :meth:`show_runs` draws the curves of the given runs (:class:`~mmgui.runs.model.Run`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        for key, title in PLOTS:
            w = pg.PlotWidget(background=theme.PANE_BACKGROUND)
            w.setTitle(title, size="9pt")
            w.setLabel("bottom", "epoch")
            w.showGrid(x=True, y=True, alpha=0.25)
            w.getAxis("left").enableAutoSIPrefix(False)
            layout.addWidget(w)
            self.plots[key] = w
        self.legend = self.plots["train_loss"].addLegend(offset=(-10, 10))
        self.items: dict[tuple[str, str], pg.PlotDataItem] = {}   # (run path, key) -> curve

    def show_runs(self, runs) -> None:
        """Draw these runs (an empty list clears); curves of runs already drawn are updated in place."""
        wanted = {r.path for r in runs}
        for (path, key), item in list(self.items.items()):
            if path not in wanted:
                self.plots[key].removeItem(item)
                if key == "train_loss":
                    self.legend.removeItem(item)
                del self.items[(path, key)]
        for i, run in enumerate(runs):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            curves = run.curves()
            for key, _ in PLOTS:
                xs, ys = curves[key]
                item = self.items.get((run.path, key))
                if item is None:
                    item = self.plots[key].plot([], [], name=run.name if key == "train_loss" else None)
                    self.items[(run.path, key)] = item
                item.setPen(pg.mkPen(colour, width=2))
                item.setSymbol("o" if len(xs) < 30 else None)
                item.setSymbolSize(5)
                item.setSymbolBrush(colour)
                item.setSymbolPen(None)
                item.setData(xs, ys)

    def points(self, path: str, key: str) -> int:
        """How many points the curve ``key`` of run ``path`` shows (0 when not drawn)."""
        item = self.items.get((path, key))
        if item is None or item.xData is None:
            return 0
        return len(item.xData)
