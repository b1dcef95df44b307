"""Audio devices for the studio, without touching PortAudio until first use.

``sounddevice`` is imported lazily (:func:`sounddevice_module`), once, and never raises: the GUI
starts (with playback disabled and a one-line reason) on machines without ``libportaudio2`` or
a sound server. Device queries are defensive: a failing query gives ``[]`` or a reason.
"""
from __future__ import annotations

__all__ = ["audio_available", "one_line", "output_devices", "sounddevice_module"]

_PORTAUDIO_MISSING = "PortAudio library not found (install libportaudio2)"

_sd_module = None
_sd_error: str | None = None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def sounddevice_module():
    """Return ``(module, None)`` or ``(None, reason)``; imports sounddevice once, never raises."""
    global _sd_module, _sd_error
    if _sd_module is None and _sd_error is None:
        try:
            import sounddevice as sd
        except OSError:  # what sounddevice raises when libportaudio cannot be loaded
            _sd_error = _PORTAUDIO_MISSING
        except ImportError:
            _sd_error = "the sounddevice package is not installed (pip install sounddevice)"
        except Exception as exc:  # e.g. PortAudioError from Pa_Initialize
            _sd_error = f"cannot initialize PortAudio: {one_line(exc)}"
        else:
            _sd_module = sd
    return _sd_module, _sd_error


def audio_available() -> tuple[bool, str]:
    """``(True, "")`` when audio can be played, else ``(False, one-line reason)``. Never raises."""
    sd, err = sounddevice_module()
    if sd is None:
        return False, err or "audio unavailable"
    try:
        devices = sd.query_devices()
    except Exception as exc:
        return False, f"cannot list audio devices: {one_line(exc)}"
    if not any(d.get("max_output_channels", 0) > 0 for d in devices):
        return False, "no audio output device"
    return True, ""


def _default_output_index(sd) -> int:
    try:
        idx = sd.default.device[1]
        if idx is not None and idx >= 0:
            return int(idx)
    except Exception:
        pass
    try:
        return int(sd.query_devices(kind="output")["index"])
    except Exception:
        return -1


def output_devices() -> list[dict]:
    """Output devices as ``{"index": int, "name": str, "default": bool}``; ``[]`` when unavailable."""
    sd, _ = sounddevice_module()
    if sd is None:
        return []
    try:
        devices = sd.query_devices()
    except Exception:
        return []
    default = _default_output_index(sd)
    out = []
    for i, d in enumerate(devices):
        if d.get("max_output_channels", 0) > 0:
            index = int(d.get("index", i))
            out.append({"index": index, "name": str(d.get("name", f"device {index}")),
                        "default": index == default})
    return out
