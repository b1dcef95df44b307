"""Puts training into the main window: a "Runs" tab, "Training ▸ Train…", finished models in the model list.

``install(window)`` uses only ``window.add_tab``, ``window.menu``, ``window.show_tab`` and ``window.doc``.
The runs folder is ``$MMSTUDIO_RUNS`` or ``~/mmstudio-runs``; runs the app started are stopped after a
checkpoint when it quits (and offered for resume at the next start).
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from .dialog import TrainDialog
from .model import RunsModel
from .spec import default_runs_root as default_root
from .view import RunsView




class _Training:
    """What install() connects (bound methods, no lambdas holding the window)."""

    def __init__(self, window, root: str | None):
        self.window = window
        doc = window.doc
        self.model = RunsModel(parent=window)
        self.model.message.connect(doc.message)
        self.model.set_root(root or default_root())      # a folder that cannot be made is reported
        self.view = RunsView(self.model, doc)
        self.model.modelReady.connect(self.model_ready)
        self.view.metrics.message.connect(doc.message)
        self.view.trainRequested.connect(self.open_dialog)
        self.view.compareRequested.connect(self.show_compare)
        window.add_tab("runs", "Runs", self.view)
        action = window.menu("&Training").addAction("Train…")
        action.triggered.connect(self.open_dialog)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.model.shutdown)

    def model_ready(self, path: str) -> None:
        self.window.doc.add_model(path, "trained")
        self.window.doc.message.emit(f"trained model ready: {path}", "info")

    def open_dialog(self) -> TrainDialog:
        dialog = TrainDialog(self.model, self.window.doc.tasks, self.window)
        dialog.started.connect(self.started)
        dialog.open()
        return dialog

    def started(self, paths: list) -> None:
        self.window.show_tab("runs")
        if paths:
            self.view.select(paths[0])

    def show_compare(self, _a: str, _b: str) -> None:
        self.window.show_tab("compare")


def install(window, root: str | None = None) -> _Training:
    """Add the Runs tab and the Training menu to ``window``; returns the installed pieces (model, view)."""
    training = _Training(window, root)
    window.runs_training = training      # kept alive with the window
    return training
