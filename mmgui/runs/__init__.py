"""Training runs from the application: launch (dialog), watch (runs view), compare and resume.

- :mod:`.spec`: run descriptions -> ``mmnet train`` / ``mmnet synth`` command lines, and their checks (no Qt)
- :mod:`.model`: :class:`RunsModel`, one QProcess per run, events followed from ``RUN/events.jsonl``
- :mod:`.dialog`: :class:`TrainDialog`; :mod:`.view`: :class:`RunsView` (table, :mod:`.curves`,
  log, :mod:`.metrics`, :mod:`.watch`); :mod:`.install`: ``install(window)``
"""
from .model import Run, RunsModel
from .spec import RunSpec, SynthSpec

__all__ = ["Run", "RunsModel", "RunSpec", "SynthSpec"]
