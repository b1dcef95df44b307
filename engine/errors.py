"""The engine's typed errors, in one place and without heavy imports (no torch, no numpy).

Callers (the CLI, the GUI, tests) decide by type, never by an exception's name or text:

- :class:`MMError` is the base of every error the engine raises on purpose; its message is
  one line a user can act on (it names the file, the line or the option).
- :class:`AudioError`: a file that cannot be used as audio (missing, empty, unreadable,
  non-finite samples).
- :class:`ModelFileError`: a model file that cannot be used (missing, not safetensors,
  damaged, another format).
- :class:`DatasetError`: a dataset or label file that cannot be used as it is.
- :class:`TrainingError`: a training run that cannot start or continue.
- :class:`ConfigError`: an unknown or invalid option (also a ``ValueError``).
- :class:`ResultsFileError`: a comparison-results file or a benchmark run folder that cannot be
  read (missing, not JSON, another format, a damaged row).
- :class:`Cancelled`: work stopped because the caller asked it to (not a failure).
"""
from __future__ import annotations


class MMError(Exception):
    """Base of the engine's deliberate errors: ``str(err)`` is a one-line reason for a user."""


class AudioError(MMError):
    """A file that cannot be used as audio: missing, empty, unreadable or non-finite."""


class ModelFileError(MMError):
    """A model file that cannot be used: missing, not safetensors, damaged or of another format."""


class DatasetError(MMError):
    """A dataset or label file that cannot be used as it is (the message names the file and line)."""


class TrainingError(MMError):
    """A training run that cannot start or continue (bad data folder, incompatible resume, ...)."""


class ConfigError(MMError, ValueError):
    """An unknown or invalid option (a method option, a feature setting, a CLI value)."""


class ResultsFileError(MMError):
    """A comparison-results file or benchmark run folder that cannot be read (engine/comparison.py)."""


class Cancelled(MMError):
    """Work stopped because its caller cancelled it; not a failure."""


def user_message(exc: BaseException) -> str:
    """One line for a status bar or message box: the engine's own message for its errors,
    the exception's type and first line otherwise (an unexpected error stays recognizable)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MMError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = ["MMError", "AudioError", "ModelFileError", "DatasetError", "TrainingError",
           "ConfigError", "ResultsFileError", "Cancelled", "user_message"]
