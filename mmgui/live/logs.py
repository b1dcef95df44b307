"""The Live tab's event log and alert list (bounded: the newest rows are kept).

Events (:class:`engine.stream.StreamEvent`) are logged when they end, with the wall-clock time
of their onset, their stream times and peak score. Alerts (:class:`engine.alerts.Alert`: a
class above its threshold for its hold time, once per episode, then quiet for its refractory
time) are listed with their time; with "Flash" on, a banner shows the newest alert for 3 s, and
with "Beep" on the system beep sounds.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

MAX_ROWS = 500


def clock(wall: float) -> str:
    """HH:MM:SS.mmm of a UNIX time (local), or "–"."""
    if wall is None or wall != wall:
        return "–"
    return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int((wall % 1) * 1000):03d}"


class EventLog(QTableWidget):
    COLUMNS = ("time", "label", "onset (s)", "offset (s)", "score")

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.events = []          # the StreamEvents shown, oldest first

    def add(self, events) -> None:
        for e in events:
            self.events.append(e)
            self.insertRow(0)
            cells = (clock(e.onset_wall), e.label, f"{e.onset:.2f}",
                     "" if e.offset is None else f"{e.offset:.2f}", f"{e.score:.2f}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(0, c, item)
        while self.rowCount() > MAX_ROWS:
            self.removeRow(self.rowCount() - 1)
        del self.events[:-MAX_ROWS]

    def clear_events(self) -> None:
        self.setRowCount(0)
        self.events = []


class AlertPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.flash = QCheckBox("Flash")
        self.flash.setChecked(True)
        self.flash.setToolTip("Show a banner when an alert is raised")
        self.beep = QCheckBox("Beep")
        self.beep.setToolTip("Sound the system beep when an alert is raised")
        self.settings_btn = QPushButton("Settings…")
        self.settings_btn.setToolTip("Thresholds, hold and refractory times of the model's alerts")
        row.addWidget(QLabel("Alerts"))
        row.addStretch(1)
        row.addWidget(self.settings_btn)
        row.addWidget(self.flash)
        row.addWidget(self.beep)
        lay.addLayout(row)
        self.list = QListWidget()
        lay.addWidget(self.list, 1)
        self.banner = QLabel("")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet("background: #b3261e; color: white; font-weight: bold; padding: 6px;")
        self.banner.hide()
        self._hide = QTimer(self)
        self._hide.setSingleShot(True)
        self._hide.setInterval(3000)
        self._hide.timeout.connect(self.banner.hide)
        self.alerts = []

    def add(self, alerts) -> None:
        for a in alerts:
            self.alerts.append(a)
            self.list.insertItem(0, f"{clock(a.wall)}  {a.label}  {a.score:.2f}  (t = {a.time:.1f} s)")
        while self.list.count() > MAX_ROWS:
            self.list.takeItem(self.list.count() - 1)
        del self.alerts[:-MAX_ROWS]
        if alerts:
            if self.flash.isChecked():
                a = alerts[-1]
                self.banner.setText(f"ALERT  {a.label}  ({a.score:.2f})  at {clock(a.wall)}")
                self.banner.show()
                self._hide.start()
            if self.beep.isChecked():
                QApplication.beep()

    def clear_alerts(self) -> None:
        self.list.clear()
        self.alerts = []
