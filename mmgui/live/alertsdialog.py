"""Edit a model's alert settings (:mod:`engine.alerts`): per class on/off, threshold, hold and
refractory time; saved per model (``engine.alerts.settings_path``) and used from the next start."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QLabel, QTableWidget,
                               QVBoxLayout)


def load_settings(model_path: str, classes: list[str], thresholds):
    """The model's saved settings, else its thresholds (and why the saved file was not usable)."""
    from engine.alerts import AlertSettings, settings_path

    path = settings_path(model_path)
    if path.exists():
        try:
            return AlertSettings.load(path), None
        except ValueError as exc:
            return AlertSettings.for_model(classes, thresholds), str(exc)
    return AlertSettings.for_model(classes, thresholds), None


class AlertSettingsDialog(QDialog):
    COLUMNS = ("alert", "threshold", "hold (s)", "refractory (s)")

    def __init__(self, model_path: str, classes: list[str], thresholds, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Alert settings")
        self.model_path, self.classes = model_path, list(classes)
        self.settings, problem = load_settings(model_path, self.classes, thresholds)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("An alert is raised when a class stays above its threshold for its hold time; "
                             "then not again before its probability falls and its refractory time passes."))
        if problem:
            lay.addWidget(QLabel(f"The saved settings could not be read ({problem}); the model's thresholds are "
                                 "shown."))
        self.table = QTableWidget(len(self.classes), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setVerticalHeaderLabels(self.classes)
        self.cells = []
        for r, c in enumerate(self.classes):
            rule = self.settings.rule(c)
            on = QCheckBox()
            on.setChecked(rule.enabled)
            spins = []
            for value, top, step in ((rule.threshold, 1.0, 0.05), (rule.hold_s, 60.0, 0.1),
                                     (rule.refractory_s, 600.0, 1.0)):
                s = QDoubleSpinBox()
                s.setRange(0.0, top)
                s.setDecimals(2)
                s.setSingleStep(step)
                s.setValue(value)
                spins.append(s)
            for col, w in enumerate([on, *spins]):
                self.table.setCellWidget(r, col, w)
            self.cells.append((on, *spins))
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.error = QLabel("")
        lay.addWidget(self.error)
        self.resize(560, 480)

    def edited(self):
        """The settings as edited (an :class:`engine.alerts.AlertSettings`)."""
        from engine.alerts import AlertSettings, ClassRule

        rules = {c: ClassRule(thr.value(), hold.value(), refr.value(), on.isChecked())
                 for c, (on, thr, hold, refr) in zip(self.classes, self.cells)}
        return AlertSettings(rules, self.settings.default)

    def save(self) -> None:
        from engine.alerts import settings_path

        try:
            self.saved_path = self.edited().save(settings_path(self.model_path))
        except OSError as exc:
            self.error.setText(f"Cannot save: {exc}")
            return
        self.accept()
