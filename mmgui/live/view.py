"""The Live tab: monitor an input device (or a file played as live) with a model, as it happens.

Layout: the settings bar (:class:`LiveControls`), Start/Stop, Record, Reconnect, the input level
meter, status and readouts; the rolling panes (:class:`LivePanes`: spectrogram, d_t, attention
of every scale, one time axis); the event log and the alert list on the right.

The GUI thread only draws: a frame timer (every ``FRAME_MS`` ms: 33 frames per second)
scrolls the panes to the newest audio and repaints what the worker sent since the last frame;
a hop's latency is measured when the frame that shows it is drawn.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget)

from .controls import LiveControls
from .logs import AlertPanel, EventLog
from .rolling import LivePanes
from .session import LiveSession

FRAME_MS = 30


def default_record_dir() -> Path:
    return Path(os.path.expanduser("~")) / "MmStudio" / "recordings"


class LiveView(QWidget):
    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.record_dir = default_record_dir()
        self.session = LiveSession(self)
        self.session.stateChanged.connect(self._state)
        self.session.infoChanged.connect(self._info)
        self.session.blockReady.connect(self._block)
        self.session.hopReady.connect(self._hop)
        self.session.recordingSaved.connect(self._saved)
        self.controls = LiveControls(doc)
        self.start_btn = QPushButton("Start")
        self.start_btn.clicked.connect(self.toggle)
        self.record_btn = QPushButton("Record")
        self.record_btn.setCheckable(True)
        self.record_btn.setToolTip("Write the input to a WAV file, and its events to a TSV beside it")
        self.record_btn.toggled.connect(self._record_toggled)
        self.reconnect_btn = QPushButton("Reconnect")
        self.reconnect_btn.hide()
        self.reconnect_btn.clicked.connect(self.reconnect)
        self.open_rec_btn = QPushButton("Open recording")
        self.open_rec_btn.setToolTip("Open the last recording in the workspace")
        self.open_rec_btn.setEnabled(False)
        self.open_rec_btn.clicked.connect(self._open_recording)
        self.level = QProgressBar()
        self.level.setRange(-60, 0)
        self.level.setValue(-60)
        self.level.setFormat("%v dBFS")
        self.level.setMaximumWidth(160)
        self.status = QLabel("Stopped")
        self.status.setWordWrap(True)
        self.readouts = QLabel("")
        self.readouts.setStyleSheet("color: #9aa0a6;")
        self.panes = LivePanes()
        self.events = EventLog()
        self.alerts = AlertPanel()
        self.alerts.settings_btn.clicked.connect(self.edit_alerts)

        top = QHBoxLayout()
        for w in (self.start_btn, self.record_btn, self.reconnect_btn, self.open_rec_btn, QLabel("Level"), self.level):
            top.addWidget(w)
        top.addWidget(self.status, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.events)
        right.addWidget(self.alerts)
        body = QSplitter()
        body.addWidget(self.panes)
        body.addWidget(right)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.controls)
        lay.addLayout(top)
        lay.addWidget(self.alerts.banner)
        lay.addWidget(self.readouts)
        lay.addWidget(body, 1)

        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._t_end = 0.0
        self._pending_hops: list = []
        self._frame_times: list[float] = []
        self._last_readout = 0.0
        self._listed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---------------------------------------------------------- user actions
    def showEvent(self, ev):
        super().showEvent(ev)
        self.controls.refresh_models()
        if not self._listed:
            self._listed = True
            self.controls.list_devices()

    def toggle(self) -> None:
        if self.session.active:
            self.stop()
        else:
            self.start()

    def start(self, options=None) -> bool:
        """Start monitoring what the settings bar says (``options``: a :class:`LiveOptions` in
        place of the bar's hop and delay). False, with the reason in the status, when it cannot."""
        spec = self.controls.spec()
        model = self.controls.model_path()
        if isinstance(spec, str) or not model:
            self.status.setText(spec if isinstance(spec, str) else "open or train a model first (Models)")
            return False
        self.events.clear_events()
        self.alerts.clear_alerts()
        record = self._new_recording_path() if self.record_btn.isChecked() else None
        self.session.start(spec, model, options or self.controls.options(), record)
        return True

    def stop(self) -> None:
        self.session.stop()

    def reconnect(self) -> None:
        self.reconnect_btn.hide()
        self.session.reconnect()

    def shutdown(self) -> None:
        self._timer.stop()
        self.session.shutdown(3.0)

    def _new_recording_path(self) -> str:
        return str(Path(self.record_dir) / time.strftime("live-%Y%m%d-%H%M%S.wav"))

    def _record_toggled(self, on: bool) -> None:
        if not self.session.active:
            return
        if on:
            self.session.start_recording(self._new_recording_path())
        else:
            self.session.stop_recording()

    def edit_alerts(self):
        """The alert settings of the chosen model, in a dialog (used from the next start)."""
        from .alertsdialog import AlertSettingsDialog

        path = self.controls.model_path()
        entry = self.doc.model(path) if path else None
        if entry is None or not entry.classes:
            self.status.setText("choose a model first")
            return None
        dlg = AlertSettingsDialog(path, entry.classes, entry.thresholds, self)
        dlg.open()
        return dlg

    def _open_recording(self) -> None:
        if self.session.saved:
            self.doc.open_paths([self.session.saved[-1][0]])

    # ---------------------------------------------------------- session signals
    def _state(self, state: str, message: str) -> None:
        running = state in ("starting", "running")
        self.start_btn.setText("Stop" if running else "Start")
        self.controls.setEnabled(not running)
        self.reconnect_btn.setVisible(state == "failed")
        text = {"starting": "Starting: ", "running": "Live: ", "stopped": "Stopped: ",
                "failed": "Input lost: "}.get(state, "") + message
        if state == "failed":
            text += " — the recording so far is kept; Reconnect to go on"
            self.doc.message.emit(f"Live input: {message}", "error")
        self.status.setText(text)
        self.status.setStyleSheet("color: #ff6b6b;" if state == "failed" else "")
        if state == "stopped" and self.record_btn.isChecked():
            self.record_btn.blockSignals(True)     # the recording ended with the stream (after a
            self.record_btn.setChecked(False)      # failure it stays on: Reconnect records again)
            self.record_btn.blockSignals(False)
        if running:
            self._timer.start()
        else:
            self._frame()
            self._timer.stop()
            self.level.setValue(-60)

    def _info(self, info) -> None:
        self.panes.set_info(info)
        self._t_end = 0.0
        self._pending_hops = []

    def _block(self, block) -> None:
        self.panes.add_frames(block.frames, block.frame_end)
        self._t_end = block.frame_end * self.panes.frame_hop_s if self.panes.frame_hop_s else block.stream_time
        self.level.setValue(int(max(-60, min(0, round(block.level_db)))))

    def _hop(self, data) -> None:
        self.panes.add_hop(data.hop)
        self.events.add(data.hop.events)
        self.alerts.add(data.alerts)
        self._pending_hops.append(data)

    def _saved(self, wav: str, tsv: str) -> None:
        self.open_rec_btn.setEnabled(True)
        self.doc.message.emit(f"Recording saved: {wav} (events: {Path(tsv).name})", "info")

    # ---------------------------------------------------------- drawing
    def _frame(self) -> None:
        drew = self.panes.draw(self._t_end)
        now = time.monotonic()
        if drew:
            self._frame_times.append(now)
            del self._frame_times[:-120]
        for data in self._pending_hops:
            self.session.stats.hop_drawn(data.hop.wall_time, data.infer_cpu_s)
        self._pending_hops = []
        if now - self._last_readout >= 0.5:
            self._last_readout = now
            self.session.stats.sample_cpu()
            rec = f" · recording {Path(self.session.recording_path).name}" if self.session.recording_path else ""
            self.readouts.setText(f"{self.session.stats.text()} · display {self.fps():.0f} fps{rec}")

    def fps(self) -> float:
        """Frames drawn per second over the last 2 s."""
        now = time.monotonic()
        recent = [t for t in self._frame_times if now - t <= 2.0]
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0]) if len(recent) > 1 else 0.0
