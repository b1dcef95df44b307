"""Attention scores a_t of every scale of a model, each on its own time grid.

a_t (eq. 6) sums to the number of heads over each analysis window, so scales with
more segments have smaller values; "per second" divides by the segment length
(a_t / hop_s) so that the scales can be read on one axis.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .. import theme
from .base import format_time
from .predictions import _ModelPane, pane_status, step_xy


def axis_ticks(y_max: float) -> list[tuple[float, str]]:
    """Two or three labels for a low pane: multiples of a 1-2-5 step, clear of the top (the title)."""
    raw = y_max / 3.0
    e = 10.0 ** np.floor(np.log10(raw))
    step = next(m * e for m in (1.0, 2.0, 5.0, 10.0) if m * e >= raw)
    return [(float(v), f"{v:g}") for v in np.arange(0.0, y_max * 0.8, step)]


class AttentionPane(_ModelPane):
    kind = "attention"

    def __init__(self, doc, slot: str = "A"):
        super().__init__(doc, slot)
        self.drawn: list[pg.PlotDataItem] = []
        self.getAxis("left").enableAutoSIPrefix(False)
        self.shown_scales = []
        self.y_max = 1.0
        self.redraw()

    def redraw(self) -> None:
        for c in self.drawn:
            self.removeItem(c)
        self.drawn = []
        self.shown_scales = []
        self.getAxis("left").setTicks(None)
        a, text = pane_status(self.doc, self.slot)
        self.analysis = a
        per_s = self.doc.attention_per_second
        self.setLabel("left", "a_t / s" if per_s else "a_t")
        self.setTitle(f"{self.model_name()} · attention a_t", size="9pt", justify="left")
        if a is None:
            self.set_placeholder(text)
            return
        with_att = [s for s in a.scales if s.attention is not None]
        if not with_att:
            why = "no segment level" if not a.scales else "no attention"
            self.set_placeholder(f"{self.model_name()} ({a.method}): {why}")
            return
        self.set_placeholder("")
        mode = self.doc.attention_scale
        chosen = [s for s in with_att if s.name == mode] if mode != "all" else with_att
        if not chosen:          # this model has no scale of that name: show all
            chosen = with_att
        ymax = 0.0
        keys, short = [], []
        for s in chosen:
            k = [x.name for x in a.scales].index(s.name)
            colour = theme.SCALE_COLOURS[k % len(theme.SCALE_COLOURS)]
            y = s.attention / s.hop_s if per_s else s.attention
            x, yy = step_xy(s.times, s.hop_s, y)
            curve = pg.PlotDataItem(x, yy, stepMode="left", pen=pg.mkPen(colour, width=1.4))
            self.addItem(curve)
            curve.opts["autoDownsampleFactor"] = 1.5   # min/max of ~1.5 segments per pixel: all peaks, few lines
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)          # after addItem: it needs the ViewBox
            self.drawn.append(curve)
            keys.append(f"<span style='color:{colour}'>━ {s.name} ({s.hop_s * 1000:.0f} ms)</span>")
            short.append(f"<span style='color:{colour}'>━ {s.name}</span>")
            ymax = max(ymax, float(np.nanmax(y)) if len(y) else 0.0)
        self.shown_scales = chosen
        self.y_max = ymax * 1.3 if ymax > 0 else 1.0      # headroom for the title
        self.vb.setLimits(yMin=0, yMax=self.y_max * 1.5)
        self.vb.setYRange(0, self.y_max, padding=0)
        self.getAxis("left").setTicks([axis_ticks(self.y_max)])
        self.set_time_limits(a.duration)
        unit, brief = ("a_t / hop (per s)", "a_t/s") if per_s else ("a_t", "a_t")
        name = self.model_name()
        # every scale stays named: shorter versions first drop words, then the segment lengths, then wrap
        self.setTitle([f"{name} · attention {unit} · " + "  ".join(keys), f"{name} · {brief} · " + "  ".join(keys),
                       f"{name} · {brief} · " + "  ".join(short), f"{brief} · " + " ".join(short)])

    def readout(self, x: float, y: float) -> str:
        if not self.shown_scales:
            return f"t {format_time(x)}"
        parts = []
        for s in self.shown_scales:
            t = int(np.floor(x / s.hop_s))
            if 0 <= t < len(s.times):
                v = s.attention[t]
                parts.append(f"{s.name} {v:.4g}" + (f" ({v / s.hop_s:.4g}/s)" if self.doc.attention_per_second else ""))
        return f"t {format_time(x)}   a_t: " + ",  ".join(parts)
