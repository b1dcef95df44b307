"""The benchmark table: one row per system, one column per metric, in points (%).

Two modes: "mean" (mean ± std over the training seeds, and the mean CPU seconds of a training)
and "paired" (the difference system − baseline seed by seed: mean ± std [seeds ahead / seeds]).
Sortable by any column (numbers sort as numbers; missing values last when descending). Rows
of the systems that match the models in slots A and B are tinted with the slot's colour and
marked in the first column.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine import comparison as cmp

from .. import theme

NAME_ROLE = Qt.ItemDataRole.UserRole          # the system's name, on every cell of its row
SORT_ROLE = Qt.ItemDataRole.UserRole + 1      # the number a cell sorts by
FIRST_METRIC = 2                               # columns: slot marker, system, metrics..., CPU s


class _Cell(QTableWidgetItem):
    """A cell that sorts by its number (None: below every number)."""

    def __lt__(self, other):
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        a = -math.inf if a is None else a
        b = -math.inf if b is None else b
        if isinstance(a, str) or isinstance(b, str):
            return str(a) < str(b)
        return a < b


def cell_text(mean: float, std: float | None, sign: bool = False) -> str:
    m = f"{mean:+.1f}" if sign else f"{mean:.1f}"
    m = m.replace("-", "−")
    return m if std is None else f"{m} ± {std:.1f}"


class BenchmarkTable(QTableWidget):
    """``show(bench, mode, baseline, slots, label)``: fills the table; ``rows()`` reads it back."""

    def __init__(self, parent=None):
        headers = ["", "System"] + list(cmp.METRICS.values()) + ["CPU s"]
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        for i, key in enumerate(cmp.KEYS):
            self.horizontalHeaderItem(FIRST_METRIC + i).setToolTip(cmp.METRIC_HELP[key] + " (%)")
        self.horizontalHeaderItem(len(headers) - 1).setToolTip("mean CPU seconds (user + system) of a training")
        self.horizontalHeaderItem(0).setToolTip("the system the model in slot A / B is an instance of")
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        h.setSortIndicatorShown(True)
        h.setSortIndicator(-1, Qt.SortOrder.DescendingOrder)    # the file's order until a header is clicked
        self.setSortingEnabled(True)
        self.mode = "mean"

    def show_benchmark(self, bench: cmp.Benchmark, mode: str, baseline: str | None,
                       slots: dict[str, str | None], label) -> None:
        """Fill the rows. ``slots``: {"A": system name or None, "B": ...}; ``label(name) -> str``."""
        self.mode = mode
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        self.clearContents()
        self.setRowCount(len(bench.systems))
        last = self.columnCount() - 1
        self.horizontalHeaderItem(last).setText("CPU s" if mode == "mean" else "seeds")
        for row, s in enumerate(bench.systems.values()):
            marks = [k for k, v in slots.items() if v == s.name]
            cells: list[tuple[str, object, str]] = [(" ".join(marks), " ".join(marks) or "~", ""),
                                                    (label(s.name), label(s.name), _system_tip(s))]
            for key in cmp.KEYS:
                cells.append(self._metric_cell(bench, s, key, mode, baseline))
            if mode == "mean":
                cpu = cmp.cpu_mean(s)
                cells.append(("-" if cpu is None else f"{cpu:.0f}", cpu, "mean CPU s of a training"))
            else:
                seeds = ", ".join(str(r.seed) for r in s.runs)
                cells.append((seeds, len(s.runs), "training seeds"))
            for col, (text, number, tip) in enumerate(cells):
                item = _Cell(text)
                item.setData(NAME_ROLE, s.name)
                item.setData(SORT_ROLE, number)
                if tip:
                    item.setToolTip(tip)
                if col >= FIRST_METRIC or col == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if marks:
                    colour = QColor(theme.SLOT_COLOURS[marks[0]])
                    colour.setAlpha(70)
                    item.setBackground(QBrush(colour))
                    if col <= 1:
                        f = QFont(item.font())
                        f.setBold(True)
                        item.setFont(f)
                if mode == "paired" and s.name == baseline:
                    item.setForeground(QBrush(QColor("#9aa0a6")))
                self.setItem(row, col, item)
        self.setSortingEnabled(sorting)
        self.resizeColumnToContents(1)

    @staticmethod
    def _metric_cell(bench, s, key: str, mode: str, baseline: str | None) -> tuple[str, object, str]:
        if mode == "mean":
            sp = cmp.spread(list(s.values(key).values()))
            if sp is None:
                return "-", None, "no value"
            seeds = ", ".join(f"{v:.1f}" for v in sp.values)
            return cell_text(sp.mean, sp.std), sp.mean, f"{cmp.METRIC_HELP[key]}: seeds {seeds}"
        if s.name == baseline:
            return "baseline", None, "the baseline of the paired differences"
        d = cmp.paired(bench, s.name, baseline, key) if baseline else None
        if d is None:
            return "-", None, "no seed where both have a value"
        tip = ("; ".join(f"seed {sd}: {x:+.1f}" for sd, x in zip(d.seeds, d.diffs))
               + (f"; paired t {d.t:.2f}, p {d.p:.3f} ({d.n - 1} df)" if d.t is not None else ""))
        return f"{cell_text(d.mean, d.std, sign=True)} [{d.ahead}/{d.n}]", d.mean, tip

    def rows(self) -> list[dict]:
        """What is shown, top to bottom: [{"name", "slot", "System", metric titles..., last column}]."""
        heads = [self.horizontalHeaderItem(c).text() for c in range(self.columnCount())]
        out = []
        for r in range(self.rowCount()):
            row = {heads[c] or "slot": self.item(r, c).text() for c in range(self.columnCount())}
            row["name"] = self.item(r, 0).data(NAME_ROLE)
            row["tinted"] = self.item(r, 1).background().style() != Qt.BrushStyle.NoBrush
            out.append(row)
        return out


def _system_tip(s: cmp.System) -> str:
    lines = [f"{s.name}: method {s.method or '?'}"]
    if s.options:
        lines.append("options: " + ", ".join(f"{k}={v}" for k, v in s.options.items()))
    if s.parameters:
        lines.append(f"{s.parameters / 1e6:.2f}M parameters")
    if s.training:
        lines.append("training: " + ", ".join(f"{k} {v}" for k, v in s.training.items() if k != "width"))
    lines.append("seeds: " + ", ".join(str(r.seed) for r in s.runs))
    return "\n".join(lines)
