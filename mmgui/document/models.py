"""Model files the workspace knows, the A/B slots, and where models are found on disk.

Models are referred to by two slots: "A" (the selected model, shown in the analysis panes)
and "B" (the model it is compared with). Only headers are read here (``read_metadata``);
weights load in the analysis tasks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..workers import FunctionTask, TaskManager, error_text
from . import bundled

PRETTY_METHODS = {
    "convnet-mean": "ConvNet-mean", "resnet-mean": "ResNet-mean", "resnet-max": "ResNet-max",
    "resnet-wlat": "ResNet-WLAT", "resnet-slat": "ResNet-SLAT", "resnet-plat": "ResNet-PLAT",
    "resnet-att": "ResNet-ATT", "resnet-att-class": "ResNet-ATT-class", "mmnet": "M&mnet", "mmnet-ms": "M&mnet-MS",
}
SLOTS = ("A", "B")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ModelEntry:
    """A model file the workspace knows: its metadata (header only) or why it cannot be used."""

    path: str
    meta: dict | None = None
    error: str | None = None
    origin: str = "opened"        # "bundled" | "trained" | "opened"

    @property
    def method(self) -> str:
        return (self.meta or {}).get("method", "?")

    @property
    def classes(self) -> list[str]:
        return list((self.meta or {}).get("classes", []))

    @property
    def thresholds(self) -> np.ndarray:
        thr = (self.meta or {}).get("thresholds") or [0.5] * len(self.classes)
        return np.asarray(thr, np.float32)

    @property
    def name(self) -> str:
        pretty = PRETTY_METHODS.get(self.method, self.method)
        stem = Path(self.path).stem
        if self.origin == "trained":
            return f"{pretty} · {Path(self.path).parent.name}"
        demo_set = bundled.set_of(self.path) if self.origin == "bundled" else None
        if demo_set is not None:
            named = stem == self.method or stem in demo_set.stems     # the pair's files are named by their role
            return f"{pretty} · {demo_set.label}" if named else f"{pretty} · {stem} · {demo_set.label}"
        if stem == self.method:
            return pretty
        return f"{pretty} · {stem}"

    @property
    def scales(self) -> list[dict]:
        return list((self.meta or {}).get("scales", []))

    @property
    def feature_config(self) -> dict:
        return dict((self.meta or {}).get("feature_config") or {})


def read_entry(path: str, origin: str) -> ModelEntry:
    """A :class:`ModelEntry` for ``path``: header read, or the error that stopped it."""
    from engine.modelfile import read_metadata

    entry = ModelEntry(os.path.abspath(path), origin=origin)
    try:
        entry.meta = read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the entry
        entry.error = error_text(exc)
    return entry


def discover(recent: list[str] = (), bases=None) -> list[tuple[str, str]]:
    """(path, origin) of the bundled models, trained models (under ``runs/`` and the app's runs folder)
    and recent model files."""
    first = bundled.default_set()
    found = [(str(p), "bundled") for p in first.model_files()]
    for demo_set in bundled.demo_sets().values():
        if demo_set.key != first.key:
            found += [(str(p), "bundled") for p in demo_set.model_files()]
    if bases is None:
        from ..runs.spec import default_runs_root

        bases = {ROOT / "runs", Path.cwd() / "runs", Path(default_runs_root())}
    for base in bases:
        if base.is_dir():
            for pattern in ("*/model.safetensors", "*/*/model.safetensors"):
                found += [(str(p), "trained") for p in sorted(base.glob(pattern))[:50]]
    found += [(p, "opened") for p in recent if os.path.exists(p)]
    return found


class ModelStore(QObject):
    modelsChanged = Signal()        # models added or their state changed
    slotsChanged = Signal()         # which models are A and B
    message = Signal(str, str)

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.models: list[ModelEntry] = []
        self.slots: dict[str, str | None] = {"A": None, "B": None}
        self.demo_set: str | None = None     # bundled set whose pair fills empty slots (None: the default)

    def model(self, slot_or_path: str | None) -> ModelEntry | None:
        path = self.slots.get(slot_or_path) if slot_or_path in SLOTS else slot_or_path
        return next((m for m in self.models if m.path == path), None) if path else None

    def path_of(self, slot_or_path: str | None) -> str | None:
        return self.slots.get(slot_or_path) if slot_or_path in SLOTS else slot_or_path

    def add(self, path: str, origin: str = "opened") -> ModelEntry | None:
        """Add a model file (header read here: small); a bad file is listed with its error.
        A missing file opened by the user is not listed (None)."""
        known = self.model(os.path.abspath(path))
        if known is not None:
            return known
        entry = read_entry(path, origin)
        if entry.error:
            self.message.emit(entry.error, "error")
            if origin == "opened" and not os.path.exists(path):
                return None
        self.models.append(entry)
        self.modelsChanged.emit()
        return entry

    def add_async(self, items: list[tuple[str, str]], then=None) -> FunctionTask:
        """Add (path, origin) model files, reading their headers in the background, then call ``then()``."""
        task = FunctionTask(f"Reading {len(items)} model file(s)", _read_entries, ("models",), args=(list(items),))
        task.signals.done.connect(lambda entries, f=then: self._entries_read(entries, f))
        task.signals.failed.connect(lambda msg: self.message.emit(msg, "error"))
        return self.tasks.submit(task, "compute")

    def _entries_read(self, entries: list[ModelEntry], then) -> None:
        known = {m.path for m in self.models}
        for e in entries:
            if e.error and e.origin == "opened":
                self.message.emit(e.error, "error")
            if e.path not in known:
                self.models.append(e)
                known.add(e.path)
        self.modelsChanged.emit()
        if then is not None:
            then()

    def mark_broken(self, path: str, message: str) -> None:
        entry = self.model(path)
        if entry is not None:
            entry.error = message
            self.modelsChanged.emit()

    def set_slot(self, slot: str, path: str | None) -> bool:
        """Put a model in a slot; False when nothing changed (same model, or it cannot be used)."""
        entry = self.model(path) if path else None
        if path and entry is None:
            entry = self.add(path)
            if entry is None:
                return False
        if entry is not None and entry.error:
            self.message.emit(entry.error, "error")
            return False
        if self.slots.get(slot) == (entry.path if entry else None):
            return False
        self.slots[slot] = entry.path if entry else None
        self.slotsChanged.emit()
        return True

    def use_pair(self, demo_set: str | None) -> None:
        """Prefer the bundled set ``demo_set``: its pair goes to the slots now where known (the
        demo clip of one set means nothing to the other set's models: other classes), and later
        to empty slots."""
        self.demo_set = demo_set
        for slot, path in zip(SLOTS, bundled.get(demo_set).pair()):
            entry = self.model(os.path.abspath(path))
            if entry is not None and not entry.error:
                self.set_slot(slot, entry.path)

    def swap(self) -> None:
        self.slots["A"], self.slots["B"] = self.slots["B"], self.slots["A"]
        self.slotsChanged.emit()

    def fill_empty_slots(self) -> None:
        """A = ResNet-ATT, B = M&mnet-MS of the bundled set ``demo_set`` (default: the real-sound
        models where present) when known; else the first usable models."""
        usable = [m for m in self.models if not m.error]
        by_path = {m.path: m for m in usable}
        pair = [by_path.get(os.path.abspath(p)) for p in bundled.get(self.demo_set).pair()]
        a = pair[0] or (usable[0] if usable else None)
        b = pair[1] or next((m for m in usable if m is not a), None)
        if a is not None and self.slots["A"] is None:
            self.set_slot("A", a.path)
        if b is not None and self.slots["B"] is None:
            self.set_slot("B", b.path)

    def assign_opened(self, paths: list[str]) -> None:
        """Models the user opened go to the empty slots, A first."""
        for m in paths:
            entry = self.model(os.path.abspath(m))
            if entry is None or entry.error:
                continue
            if self.slots["A"] is None:
                self.set_slot("A", entry.path)
            elif self.slots["B"] is None and self.slots["A"] != entry.path:
                self.set_slot("B", entry.path)

    def feature_settings(self) -> dict:
        """The feature configuration of model A, else B, else {} (the engine's defaults)."""
        for slot in SLOTS:
            entry = self.model(slot)
            if entry is not None and entry.feature_config:
                return entry.feature_config
        return {}

    def scale_names(self, slot: str = "A") -> list[str]:
        entry = self.model(slot)
        return [s["name"] for s in entry.scales] if entry else []


def _read_entries(task, items: list[tuple[str, str]]) -> list[ModelEntry]:
    return [read_entry(path, origin) for path, origin in items]
