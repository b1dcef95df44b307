"""What a live session listens to: an input device or a file played as if live (Qt-free).

A *spec* says what to open and opens it on the session's worker thread (opening a device can
take a moment, or fail); the *source* it returns is an :class:`engine.monitor.DeviceSource`
(the sounddevice callback only copies into a ring) or an :class:`engine.monitor.PacedFileSource`
(a thread plays the file into a ring, in real time or faster). Both give
``read(timeout) -> frames x channels`` (None at the end; ``OSError`` when the input failed),
``sr``, ``channels``, ``dropped_frames``, ``last_wall`` and ``close()``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class DeviceSpec:
    """An input device (a dict of :func:`engine.monitor.list_input_devices`), its rate (Hz, None:
    the device's default) and channel count (None: up to 2)."""

    device: dict
    samplerate: float | None = None
    channels: int | None = None

    def describe(self) -> str:
        return f"{self.device.get('name', '?')} (device {self.device.get('index', '?')})"

    def open(self):
        from engine.monitor import DeviceSource, list_input_devices

        device = self.device
        # after a sound server restart a device may come back under another index: find it by name
        devices, _ = list_input_devices()
        same = [d for d in devices if d["name"] == device.get("name")]
        if same and all(d["index"] != device.get("index") for d in same):
            device = same[0]
        try:
            return DeviceSource(device, self.samplerate, self.channels)
        except Exception as exc:  # PortAudioError, ValueError (bad rate), OSError
            raise OSError(f"cannot open {self.describe()}: {str(exc).splitlines()[0] if str(exc) else exc}") from None


@dataclass
class FileSpec:
    """A file played as if live: ``speed`` 1 is real time (0: as fast as the analysis goes)."""

    path: str
    speed: float = 1.0

    def describe(self) -> str:
        pace = "real time" if self.speed == 1 else ("as fast as possible" if self.speed <= 0 else f"{self.speed:g}x")
        return f"{Path(self.path).name} played as live ({pace})"

    def open(self):
        from engine.monitor import PacedFileSource

        return PacedFileSource(self.path, self.speed)
