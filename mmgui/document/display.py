"""What the analysis panes show: the d_t scale, which attention scales, a_t per second, and the
classes drawn as curves."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal


class DisplaySettings(QObject):
    displayChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scale: str | None = None            # scale shown in the heatmap/curves (None: primary)
        self.attention_scale: str = "all"        # "all" or a scale name
        self.attention_per_second = True         # a_t / hop_s, comparable across scales
        self.selected_classes: list[str] | None = None   # None: the top classes of the clip
        self.mark_errors = False                 # false positives and misses on the event rows

    def reset_for_model(self) -> None:
        """Model A changed: its scales and classes are other ones (no signal: the caller emits)."""
        self.scale = None
        self.selected_classes = None

    def set_scale(self, name: str | None) -> None:
        self.scale = name or None
        self.displayChanged.emit()

    def set_attention_scale(self, name: str) -> None:
        self.attention_scale = name or "all"
        self.displayChanged.emit()

    def set_attention_per_second(self, on: bool) -> None:
        self.attention_per_second = bool(on)
        self.displayChanged.emit()

    def set_mark_errors(self, on: bool) -> None:
        """Mark each model's false positives and misses against the reference on the event rows."""
        if bool(on) != self.mark_errors:
            self.mark_errors = bool(on)
            self.displayChanged.emit()

    def shown_classes(self, analysis, limit: int = 3) -> list[str]:
        """Classes drawn as curves: the user's selection, else the clip's most probable ones."""
        if analysis is None:
            return []
        if self.selected_classes is not None:
            return [c for c in self.selected_classes if c in analysis.classes]
        order = np.argsort(-np.asarray(analysis.clip_probs))
        return [analysis.classes[i] for i in order[:limit]]

    def toggle_class(self, name: str, analysis) -> None:
        current = self.shown_classes(analysis) if analysis is not None else []
        self.selected_classes = [c for c in current if c != name] if name in current else current + [name]
        self.displayChanged.emit()

    def set_selected_classes(self, names: list[str] | None) -> None:
        self.selected_classes = None if names is None else list(names)
        self.displayChanged.emit()
