"""The annotations dock: the current clip's events in a table, and the buttons to edit them.

Columns: onset and offset (s), label, low and high frequency (Hz, empty for a time range),
status (manual, proposal, accepted, rejected), source (the proposing model or the imported
file) and score. Selecting a row selects the region on the spectrogram (and back); a double
click moves the playhead to the event. Buttons: undo/redo, proposals of model A or B, accept,
reject, delete, accept every proposal with a score at least the spin box's, import, export.
"""
from __future__ import annotations

from functools import partial

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel,
                               QMenu, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from ..views.regions import STYLE

COLUMNS = ["Onset (s)", "Offset (s)", "Label", "Low Hz", "High Hz", "Status", "Source", "Score"]


def _num(v, fmt: str) -> str:
    return "" if v is None else format(v, fmt)


class AnnotationsPanel(QWidget):
    def __init__(self, store, doc, annotator, parent=None):
        super().__init__(parent)
        self.store, self.doc, self.annotator = store, doc, annotator
        annotator.set_panel(self)
        self._ids: list[int] = []
        self._syncing = False

        top = QHBoxLayout()
        self.undo_action = store.undo_group.createUndoAction(self, "Undo")
        self.redo_action = store.undo_group.createRedoAction(self, "Redo")
        for act in (self.undo_action, self.redo_action):
            b = QToolButton()
            b.setDefaultAction(act)
            top.addWidget(b)
        self.buttons = {}
        for key, text, slot in (("propose A", "Propose A", partial(annotator.propose, "A")),
                                ("propose B", "Propose B", partial(annotator.propose, "B")),
                                ("accept", "Accept", annotator.accept_selected),
                                ("reject", "Reject", annotator.reject_selected),
                                ("delete", "Delete", annotator.delete_selected)):
            b = QToolButton()
            b.setText(text)
            b.clicked.connect(slot)
            top.addWidget(b)
            self.buttons[key] = b
        top.addStretch(1)

        bulk = QHBoxLayout()
        self.score_spin = QDoubleSpinBox()
        self.score_spin.setRange(0.0, 1.0)
        self.score_spin.setSingleStep(0.05)
        self.score_spin.setDecimals(2)
        self.score_spin.setValue(0.5)
        b = QToolButton()
        b.setText("Accept all with score ≥")
        b.clicked.connect(annotator.accept_above_spin)
        self.buttons["accept above"] = b
        bulk.addWidget(b)
        bulk.addWidget(self.score_spin)
        bulk.addSpacing(12)
        bulk.addWidget(QLabel("New regions:"))
        self.label_combo = QComboBox()
        self.label_combo.setEditable(True)
        self.label_combo.setMinimumContentsLength(10)
        self.label_combo.setToolTip("The label a newly drawn region gets (Ctrl+drag on the spectrogram)")
        self.label_combo.currentTextChanged.connect(self._default_label)
        bulk.addWidget(self.label_combo, 1)
        imp = QToolButton()
        imp.setText("Import…")
        imp.clicked.connect(annotator.import_dialog)
        bulk.addWidget(imp)
        exp = QToolButton()
        exp.setText("Export")
        exp.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_menu = QMenu(exp)
        fill_export_menu(self.export_menu, annotator)
        exp.setMenu(self.export_menu)
        bulk.addWidget(exp)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._rows_selected)
        self.table.cellDoubleClicked.connect(self._row_activated)
        self.summary = QLabel("")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(bulk)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.summary)

        store.changed.connect(self._store_changed)
        store.selectionChanged.connect(self._selection_changed)
        doc.currentClipChanged.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------ store -> table
    def clip(self) -> str:
        return self.annotator.clip()

    def refresh(self, *_):
        clip = self.clip()
        events = self.store.events(clip) if clip else []
        self._syncing = True
        self.table.setRowCount(len(events))
        self._ids = [a.id for a in events]
        for r, a in enumerate(events):
            cells = [_num(a.onset, ".3f"), _num(a.offset, ".3f"), a.label, _num(a.low_hz, ".0f"),
                     _num(a.high_hz, ".0f"), a.status, a.source or "", _num(a.score, ".2f")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 5:
                    item.setForeground(QColor(*STYLE[a.status][0]))
                self.table.setItem(r, c, item)
        self._syncing = False
        self._selection_changed(*self.store.selected)
        counts = {s: sum(a.status == s for a in events) for s in ("manual", "proposal", "accepted", "rejected")}
        self.summary.setText(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "No events: Ctrl+drag on "
                             "the spectrogram draws one, Propose A/B takes a model's")
        labels = self.annotator.known_labels()
        if [self.label_combo.itemText(i) for i in range(self.label_combo.count())] != labels:
            current = self.store.default_label
            self.label_combo.blockSignals(True)
            self.label_combo.clear()
            self.label_combo.addItems(labels)
            self.label_combo.setEditText(current or (labels[0] if labels else "event"))
            self.label_combo.blockSignals(False)
            self.store.default_label = self.label_combo.currentText()

    def _store_changed(self, clip: str) -> None:
        if clip == self.clip():
            self.refresh()

    def _selection_changed(self, clip: str, ident: int) -> None:
        if clip != self.clip() or ident not in self._ids:
            return
        row = self._ids.index(ident)
        if row not in {i.row() for i in self.table.selectionModel().selectedRows()}:
            self._syncing = True
            self.table.selectRow(row)
            self._syncing = False
        self.table.scrollToItem(self.table.item(row, 0))

    # ------------------------------------------------------------ table -> store
    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self._ids[r] for r in rows if r < len(self._ids)]

    def _rows_selected(self) -> None:
        if self._syncing:
            return
        ids = self.selected_ids()
        if ids:
            self.store.select(self.clip(), ids[0])

    def _row_activated(self, row: int, _col: int) -> None:
        if row < len(self._ids):
            ann = self.store.get(self.clip(), self._ids[row])
            if ann is not None:
                self.doc.request_seek(ann.onset)

    def _default_label(self, text: str) -> None:
        self.store.default_label = text.strip()


def fill_export_menu(menu: QMenu, annotator) -> None:
    """Export entries: this clip, the selected events, every open clip merged, one file per clip."""
    for text, scope in (("This clip…", "clip"), ("Selected events…", "selected"),
                        ("All open clips, one file…", "folder"), ("All open clips, one file per clip…", "per-clip")):
        menu.addAction(text, partial(annotator.export_dialog, scope))


__all__ = ["AnnotationsPanel", "fill_export_menu"]
