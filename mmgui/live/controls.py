"""The Live tab's settings bar: input (devices listed lazily, or a file played as live), sample
rate, model, hop, delay.

Devices are listed in the background (``doc.tasks``, "io" pool) the first time the bar is shown
and on Refresh, through :func:`engine.monitor.list_input_devices`, which leaves out a device whose
query fails; a listing that fails altogether (no PortAudio, a sound server that does not answer,
any exception) leaves the file input usable and says why in ``note``.
"""
from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget)

from .session import LiveOptions
from .sources import DeviceSpec, FileSpec

FILE_ITEM = "Audio file played as live"
RATES = (8000, 16000, 22050, 32000, 44100, 48000, 96000)


def _list_devices(task):
    """Run on a pool thread: (devices, reason)."""
    from engine import monitor

    return monitor.list_input_devices()


class _ModelCombo(QComboBox):
    """Lists the document's usable models each time it opens (models may have been trained since)."""

    aboutToShow = Signal()

    def showPopup(self):
        self.aboutToShow.emit()
        super().showPopup()


class LiveControls(QWidget):
    changed = Signal()

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.devices: list[dict] = []
        self.device_error: str | None = None
        self.listing = None
        self.file_path: str | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.input = QComboBox()
        self.input.setMinimumContentsLength(18)
        self.input.addItem(FILE_ITEM, "file")
        self.input.currentIndexChanged.connect(self._input_changed)
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setToolTip("List the input devices again")
        self.refresh_btn.clicked.connect(self.list_devices)
        self.browse_btn = QPushButton("File…")
        self.browse_btn.clicked.connect(self._browse)
        self.rate = QComboBox()
        self.rate.addItem("device rate", None)
        for r in RATES:
            self.rate.addItem(f"{r} Hz", r)
        self.model = _ModelCombo()
        self.model.setMinimumContentsLength(16)
        self.model.aboutToShow.connect(self.refresh_models)
        self.hop = QDoubleSpinBox()
        self.hop.setRange(0.1, 5.0)
        self.hop.setSingleStep(0.1)
        self.hop.setValue(0.5)
        self.hop.setSuffix(" s hop")
        self.hop.setToolTip("Seconds between analyses (rounded to the model's coarsest segment)")
        self.delay = QDoubleSpinBox()
        self.delay.setRange(0.0, 3.0)
        self.delay.setSingleStep(0.1)
        self.delay.setSuffix(" s delay")
        self.delay.setToolTip("Report segments this long before the newest sound: with 0.8 s or more they see the "
                              "same context as the analysis of a file (steadier), at the cost of that delay")
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.0, 16.0)
        self.speed.setValue(1.0)
        self.speed.setSuffix(" x")
        self.speed.setToolTip("Playing speed of a file played as live (0: as fast as the analysis goes)")
        self.note = QLabel("")
        self.note.setStyleSheet("color: #c9a227;")
        for w, label in ((self.input, "Input"), (self.refresh_btn, None), (self.browse_btn, None),
                         (self.speed, None), (self.rate, None), (self.model, "Model"), (self.hop, None),
                         (self.delay, None)):
            if label:
                lay.addWidget(QLabel(label))
            lay.addWidget(w)
        lay.addWidget(self.note, 1)
        self._input_changed()

    # ---------------------------------------------------------- devices
    def list_devices(self) -> None:
        """List input devices in the background (never blocks, never raises)."""
        from ..workers import FunctionTask

        if self.listing is not None:
            return
        self.refresh_btn.setEnabled(False)
        self.note.setText("listing input devices…")
        task = FunctionTask("Listing input devices", _list_devices)
        task.signals.done.connect(self._devices_listed)
        task.signals.failed.connect(self._devices_failed)
        task.signals.finished.connect(self._listing_finished)
        self.listing = self.doc.tasks.submit(task, "io")

    def _listing_finished(self) -> None:
        self.listing = None
        self.refresh_btn.setEnabled(True)

    def _devices_failed(self, reason: str) -> None:
        self._devices_listed(([], f"cannot list input devices ({reason})"))

    def _devices_listed(self, result) -> None:
        devices, reason = result
        keep = self.input.currentData()
        self.devices, self.device_error = list(devices), reason
        self.input.blockSignals(True)
        self.input.clear()
        for d in self.devices:
            self.input.addItem(f"{d['name']}{' (default)' if d.get('default') else ''}", d["index"])
        self.input.addItem(FILE_ITEM, "file")
        default = next((i for i, d in enumerate(self.devices) if d.get("default")), 0 if self.devices else None)
        idx = self.input.findData(keep) if keep is not None and keep != "file" else -1
        self.input.setCurrentIndex(idx if idx >= 0 else (default if default is not None else self.input.count() - 1))
        self.input.blockSignals(False)
        self.note.setText(reason or ("" if self.devices else "no input device found: play a file as live"))
        self._input_changed()

    def _input_changed(self, *_):
        is_file = self.input.currentData() == "file"
        self.browse_btn.setVisible(is_file)
        self.speed.setVisible(is_file)
        self.rate.setEnabled(not is_file)
        if is_file and self.file_path is None and self.doc.current is not None:
            self.file_path = self.doc.current.path
        self.changed.emit()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Audio file to play as live", os.path.dirname(self.file_path or ""),
                                              "Audio (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)")
        if path:
            self.set_file(path)

    def set_file(self, path: str, speed: float | None = None) -> None:
        self.file_path = path
        if speed is not None:
            self.speed.setValue(speed)
        self.input.setCurrentIndex(self.input.findData("file"))
        self.browse_btn.setToolTip(path)
        self.changed.emit()

    # ---------------------------------------------------------- models
    def refresh_models(self) -> None:
        keep = self.model.currentData()
        a = self.doc.model("A")
        self.model.blockSignals(True)
        self.model.clear()
        for m in self.doc.models:
            if not m.error:
                self.model.addItem(m.name, m.path)
        idx = self.model.findData(keep) if keep else -1
        if idx < 0 and a is not None:
            idx = self.model.findData(a.path)
        self.model.setCurrentIndex(max(idx, 0) if self.model.count() else -1)
        self.model.blockSignals(False)

    # ---------------------------------------------------------- what to start
    def spec(self):
        """The input chosen (DeviceSpec / FileSpec), or a reason why none is (str)."""
        data = self.input.currentData()
        if data == "file":
            if not self.file_path:
                return "choose an audio file to play as live (File…)"
            return FileSpec(self.file_path, self.speed.value())
        device = next((d for d in self.devices if d["index"] == data), None)
        if device is None:
            return "choose an input"
        return DeviceSpec(device, self.rate.currentData(), None)

    def model_path(self) -> str | None:
        if self.model.count() == 0:
            self.refresh_models()
        return self.model.currentData()

    def options(self) -> LiveOptions:
        return LiveOptions(hop_s=self.hop.value(), delay_s=self.delay.value())
