"""Playback controls: play/pause, stop, loop, position, output device.

The player (``mmgui.audio_io.Player``) is imported lazily; without it, without
PortAudio or without an output device, the controls are disabled and one line
says why. The playhead always follows the player's stream clock
(``positionChanged``); seeks go through the document.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QToolBar, QToolButton

from .base import format_time


def make_player(parent=None):
    """(player or None, reason when playback is unavailable)."""
    try:
        from .. import audio_io
    except Exception as exc:  # noqa: BLE001
        return None, f"playback module unavailable ({type(exc).__name__}: {exc})"
    try:
        player = audio_io.Player(parent)
    except Exception as exc:  # noqa: BLE001
        return None, f"playback unavailable ({type(exc).__name__}: {exc})"
    if not getattr(player, "available", False):
        return player, getattr(player, "unavailable_reason", "") or "no audio output"
    return player, ""


class Transport(QObject):
    """Adds the playback widgets to a toolbar and connects the player to the document."""

    def __init__(self, doc, toolbar: QToolBar, player=None, reason: str = ""):
        super().__init__(toolbar)
        self.doc, self.player, self.reason = doc, player, reason
        style = toolbar.style()
        self.play_btn = QToolButton()
        self.play_btn.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_btn.setToolTip("Play / pause (Space)")
        self.stop_btn = QToolButton()
        self.stop_btn.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_btn.setToolTip("Stop and go back to the start")
        self.loop_btn = QToolButton()
        self.loop_btn.setText("Loop")
        self.loop_btn.setCheckable(True)
        self.loop_btn.setToolTip("Loop a region: Shift+drag in any pane to select it, drag its edges to adjust")
        self.time_label = QLabel("0:00.000 / 0:00.000")
        self.time_label.setStyleSheet("font-family: monospace; padding: 0 8px;")
        self.device = QComboBox()
        self.device.setToolTip("Audio output device")
        self.device.setMinimumWidth(140)
        self.note = QLabel("")
        self.note.setStyleSheet("color: #e0a458; padding: 0 6px;")
        for w in (self.play_btn, self.stop_btn, self.loop_btn, self.time_label, self.device, self.note):
            toolbar.addWidget(w)
        self.play_btn.clicked.connect(self.toggle)
        self.stop_btn.clicked.connect(self.stop)
        self.loop_btn.toggled.connect(self._loop_toggled)
        doc.playheadChanged.connect(self._position)
        doc.seekRequested.connect(self._seek)
        doc.loopChanged.connect(self._loop_changed)
        doc.playbackAudio.connect(self._audio)
        doc.currentClipChanged.connect(self._clip_changed)
        doc.spectrogramChanged.connect(self._spectrogram_changed)
        self.has_audio = False
        self.enabled = player is not None and not reason
        if player is not None:
            player.positionChanged.connect(doc.set_playhead)
            player.stateChanged.connect(self._state)
            player.error.connect(lambda msg: doc.message.emit(f"Playback: {msg}", "error"))
        self._fill_devices()
        self.device.currentIndexChanged.connect(self._device_chosen)
        self._update_enabled()

    def _fill_devices(self) -> None:
        self.device.clear()
        if not self.enabled:
            self.device.addItem("no output device")
            self.note.setText(f"Playback off: {self.reason}")
            self.note.setToolTip(self.reason)
            return
        try:
            from ..audio_io import output_devices

            devs = output_devices()
        except Exception as exc:  # noqa: BLE001
            devs = []
            self.reason = str(exc)
        default = 0
        for i, d in enumerate(devs):
            self.device.addItem(d["name"], d["index"])
            if d.get("default"):
                default = i
        if devs:
            self.device.setCurrentIndex(default)

    def _device_chosen(self, i: int) -> None:
        if self.enabled and self.player is not None and i >= 0:
            idx = self.device.itemData(i)
            if idx is not None:
                self.player.set_device(int(idx))

    def _update_enabled(self) -> None:
        on = self.enabled and self.has_audio
        for w in (self.play_btn, self.stop_btn, self.loop_btn):
            w.setEnabled(on)
        self.device.setEnabled(self.enabled)

    def _audio(self, path: str, samples, sr: int) -> None:
        if self.player is None or not self.enabled:
            return
        if self.doc.current is None or self.doc.current.path != path:
            return
        self.player.set_audio(samples, sr)
        self.has_audio = True
        if self.doc.loop is not None and self.loop_btn.isChecked():
            self.player.set_loop(*self.doc.loop)
        if self.doc.playhead:
            self.player.seek(self.doc.playhead)
        self._update_enabled()

    def _clip_changed(self, _path: str) -> None:
        if self.player is not None and self.enabled and self.player.state != "stopped":
            self.player.stop()
        self.has_audio = False
        self.loop_btn.setChecked(False)
        self._update_enabled()
        self._position(0.0)

    def toggle(self) -> None:
        if self.player is not None and self.enabled and self.has_audio:
            self.player.toggle()

    def stop(self) -> None:
        if self.player is not None and self.enabled and self.has_audio:
            self.player.stop()
        else:
            self.doc.set_playhead(0.0)

    def _seek(self, t: float) -> None:
        if self.player is not None and self.enabled and self.has_audio:
            self.player.seek(t)

    def _state(self, state: str) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if state == "playing" else QStyle.StandardPixmap.SP_MediaPlay
        self.play_btn.setIcon(self.play_btn.style().standardIcon(icon))

    def _spectrogram_changed(self, _path: str) -> None:
        self._position(self.doc.playhead)     # the duration may be known now

    def _position(self, t: float) -> None:
        self.time_label.setText(f"{format_time(t)} / {format_time(self.doc.duration())}")

    def _loop_toggled(self, on: bool) -> None:
        if on and self.doc.loop is None:
            if self.doc.view_range is not None:
                t0, t1 = self.doc.view_range
                self.doc.set_loop((t0 + 0.25 * (t1 - t0), t0 + 0.75 * (t1 - t0)))
        elif not on:
            self.doc.set_loop(None)
        self._apply_loop()

    def _loop_changed(self, region) -> None:
        if region is not None and not self.loop_btn.isChecked():
            self.loop_btn.blockSignals(True)
            self.loop_btn.setChecked(True)
            self.loop_btn.blockSignals(False)
        self._apply_loop()

    def _apply_loop(self) -> None:
        if self.player is None or not self.enabled or not self.has_audio:
            return
        region = self.doc.loop if self.loop_btn.isChecked() else None
        if region is None:
            self.player.set_loop(None, None)
        else:
            self.player.set_loop(*region)


__all__ = ["Transport", "make_player", "Qt"]
