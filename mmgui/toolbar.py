"""The display toolbar: models A and B, the d_t scale, the attention scales, a_t per second,
and the event settings (median filter, minimum length)."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QToolBar

from engine.analysis import primary_scale_index   # numpy only: no torch import on the GUI thread

from . import theme


def _seconds_box(maximum: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setSingleStep(0.05)
    box.setDecimals(2)
    box.setSuffix(" s")
    box.setToolTip(tip)
    return box


class DisplayToolbar(QToolBar):
    """Edits the workspace's slots and display settings; redraws itself from the workspace's signals."""

    def __init__(self, doc, parent=None):
        super().__init__("Display", parent)
        self.doc = doc
        self.setObjectName("display-toolbar")
        self.setMovable(False)
        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        for combo, slot in ((self.combo_a, "A"), (self.combo_b, "B")):
            combo.setMinimumWidth(170)
            combo.setToolTip(f"Model {slot}" + (" (analysis panes)" if slot == "A" else " (compared with A)"))
            combo.activated.connect(lambda i, s=slot, c=combo: self.doc.set_slot(s, c.itemData(i)))
        self.combo_scale = QComboBox()
        self.combo_scale.setToolTip("Scale of the segment predictions d_t (heatmap and curves)")
        self.combo_scale.activated.connect(lambda i: self.doc.set_scale(self.combo_scale.itemData(i)))
        self.combo_att = QComboBox()
        self.combo_att.setToolTip("Attention scales shown")
        self.combo_att.activated.connect(lambda i: self.doc.set_attention_scale(self.combo_att.itemData(i)))
        self.per_second = QCheckBox("per second")
        self.per_second.setToolTip("Show a_t / segment length, so that scales of different resolutions compare")
        self.per_second.setChecked(doc.attention_per_second)
        self.per_second.toggled.connect(doc.set_attention_per_second)
        self.median = _seconds_box(5.0, "Median filter on d_t before event detection")
        self.min_dur = _seconds_box(10.0, "Drop events shorter than this")
        self.median.valueChanged.connect(self._event_settings)
        self.min_dur.valueChanged.connect(self._event_settings)
        for label, w in (("A ", self.combo_a), ("  B ", self.combo_b), ("   d_t scale ", self.combo_scale),
                         ("   attention ", self.combo_att), (None, self.per_second),
                         ("   events: median ", self.median), ("  min length ", self.min_dur)):
            if label:
                lab = QLabel(label)
                if label.strip() in theme.SLOT_COLOURS:
                    lab.setStyleSheet(f"color: {theme.SLOT_COLOURS[label.strip()]}; font-weight: bold;")
                self.addWidget(lab)
            self.addWidget(w)
        for sig in (doc.slotsChanged, doc.modelsChanged, doc.displayChanged, doc.analysisChanged):
            sig.connect(self.sync)
        self.sync()

    def _event_settings(self) -> None:
        self.doc.set_event_settings(self.median.value(), self.min_dur.value())

    def sync(self, *_) -> None:
        """Refill the combos from the workspace (signals blocked: filling is not choosing)."""
        d = self.doc
        for combo, slot in ((self.combo_a, "A"), (self.combo_b, "B")):
            items = ([("(none)", None)] if slot == "B" else []) + [(m.name, m.path) for m in d.models if not m.error]
            self._fill(combo, items, d.slots.get(slot))
        a = d.analysis("A")
        entry = d.model("A")
        scales = entry.scales if entry else []
        names = [s.name for s in a.scales] if a is not None else [s["name"] for s in scales]
        if a is not None and a.scales:
            primary = a.scale(None).name
        else:
            i = primary_scale_index(entry.meta or {}) if entry else None
            primary = scales[i]["name"] if i is not None else None
        hop = {s["name"]: s["hop_s"] for s in scales}
        items = [((f"{n} ({hop[n] * 1000:.0f} ms)" if n in hop else n) + ("  · primary" if n == primary else ""), n)
                 for n in names] or [("no segment level", None)]
        self._fill(self.combo_scale, items, d.scale or primary)
        self.combo_scale.setEnabled(bool(names))
        self._fill(self.combo_att, [("all scales", "all")] + [(n, n) for n in names], d.attention_scale)
        self.combo_att.setEnabled(bool(names))

    @staticmethod
    def _fill(combo: QComboBox, items: list[tuple[str, object]], current) -> None:
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
