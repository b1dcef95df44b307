"""Alerts from a stream of clip probabilities: per-class threshold, hold and refractory time.

A class raises an alert when its probability has stayed at or above its threshold for
``hold_s`` seconds (0: at once). It then raises no other alert until its probability has
fallen below the threshold (the episode ended: one event, one alert) and ``refractory_s``
seconds have passed since the alert. Times are stream seconds (any monotonic clock).

Settings are saved per model as JSON (:func:`settings_path`: ``MODEL.alerts.json`` beside the
model when that folder is writable, else in the user's settings folder).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ClassRule:
    """threshold: probability in [0, 1]; hold_s: seconds above it before alerting;
    refractory_s: seconds after an alert before the next; enabled: whether this class alerts."""

    threshold: float = 0.5
    hold_s: float = 0.0
    refractory_s: float = 5.0
    enabled: bool = True

    def __post_init__(self):
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise ValueError(f"an alert threshold must lie in [0, 1], got {self.threshold}")
        if self.hold_s < 0 or self.refractory_s < 0:
            raise ValueError("hold and refractory times must not be negative")


@dataclass
class AlertSettings:
    """One rule per class name (classes without a rule use ``default``)."""

    rules: dict[str, ClassRule] = field(default_factory=dict)
    default: ClassRule = field(default_factory=ClassRule)

    @classmethod
    def for_model(cls, classes: list[str], thresholds=None, **defaults) -> "AlertSettings":
        """A rule per class with the model's tuned thresholds (or 0.5) and the given hold/refractory."""
        thr = np.full(len(classes), 0.5) if thresholds is None else np.asarray(thresholds, float)
        return cls({c: ClassRule(float(t), **defaults) for c, t in zip(classes, thr)}, ClassRule(**defaults))

    def rule(self, label: str) -> ClassRule:
        return self.rules.get(label, self.default)

    def to_dict(self) -> dict:
        return {"format": "mmstudio-alerts-1", "default": asdict(self.default),
                "rules": {k: asdict(v) for k, v in self.rules.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "AlertSettings":
        if not isinstance(data, dict) or data.get("format") != "mmstudio-alerts-1":
            raise ValueError("not an M&m Studio alert settings file")
        try:
            return cls({str(k): ClassRule(**v) for k, v in dict(data.get("rules", {})).items()},
                       ClassRule(**data.get("default", {})))
        except TypeError as exc:
            raise ValueError(f"bad alert settings ({exc})") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (temporary file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AlertSettings":
        """Read a settings file; ``ValueError`` naming the file when it is not one."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None


def settings_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "mmstudio" / "alerts"


def settings_path(model_path: str | os.PathLike) -> Path:
    """Where a model's alert settings live: beside it if that folder is writable, else in
    ``settings_dir()`` under a name made from the model's absolute path."""
    model = Path(model_path).absolute()
    beside = model.with_name(model.name + ".alerts.json")
    if beside.exists() or os.access(model.parent, os.W_OK):
        return beside
    digest = hashlib.sha1(str(model).encode()).hexdigest()[:12]
    return settings_dir() / f"{model.stem}-{digest}.json"


@dataclass
class Alert:
    """label, time (stream s when raised), wall (UNIX s or NaN), score (the probability then),
    onset (stream s when the probability first reached the threshold in this episode)."""

    label: str
    time: float
    wall: float
    score: float
    onset: float

    def to_dict(self) -> dict:
        return {"label": self.label, "time": round(self.time, 4), "wall": round(self.wall, 3),
                "score": round(self.score, 4), "onset": round(self.onset, 4)}


class AlertTracker:
    """Feeds on (time, probabilities) steps; ``update`` returns the alerts raised at that step."""

    def __init__(self, classes: list[str], settings: AlertSettings):
        self.classes = list(classes)
        self.settings = settings
        self._above_since: dict[str, float | None] = {c: None for c in classes}
        self._alerted: dict[str, bool] = {c: False for c in classes}   # this episode already alerted
        self._last_alert: dict[str, float] = {}

    def update(self, t: float, probs, wall: float = float("nan")) -> list[Alert]:
        out = []
        for c, p in zip(self.classes, np.asarray(probs, float)):
            rule = self.settings.rule(c)
            if not rule.enabled or p < rule.threshold:
                self._above_since[c] = None
                self._alerted[c] = False
                continue
            if self._above_since[c] is None:
                self._above_since[c] = t
            if self._alerted[c] or t - self._above_since[c] < rule.hold_s:
                continue
            last = self._last_alert.get(c)
            if last is not None and t - last < rule.refractory_s:
                continue
            self._alerted[c] = True
            self._last_alert[c] = t
            out.append(Alert(c, t, wall, float(p), self._above_since[c]))
        return out
