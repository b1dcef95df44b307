"""The "Train…" dialog: dataset (a folder or the synthetic benchmark generated on the spot), methods and
their options, the paper's hyperparameters (from :class:`engine.train.TrainConfig`), seeds, device,
output folder. Start checks everything first (:func:`mmgui.runs.spec.check`, on a pool thread: it
reads the dataset's lists) and explains what is wrong in the dialog; nothing starts until it is right.
Warnings (files of the dataset that will be left out) are shown once; Start again goes ahead.
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListView, QListWidget, QListWidgetItem, QPushButton, QRadioButton,
                               QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from ..workers import FunctionTask, TaskManager
from . import spec as specmod
from .spec import RunSpec, SynthSpec

DEFAULT_METHODS = ("resnet-att", "mmnet-ms")


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    w = QSpinBox()
    w.setRange(lo, hi)
    w.setValue(value)
    return w


def _check_specs(specs, synth, task):
    """Pool-thread side of Start: (errors, warnings) (plain data in, plain data out)."""
    return specmod.check(specs, synth)


class TrainDialog(QDialog):
    """Configure and start training runs in a :class:`~mmgui.runs.model.RunsModel`."""

    started = Signal(list)      # the run folders queued

    def __init__(self, model, tasks: TaskManager | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Train models")
        self.model = model
        self.tasks = tasks or TaskManager(self)
        self._confirmed: str | None = None   # the settings whose warnings were shown
        self._checking = None
        d = specmod.defaults()
        layout = QVBoxLayout(self)
        layout.addWidget(self._dataset_box())
        layout.addWidget(self._methods_box())
        layout.addWidget(self._training_box(d))
        layout.addWidget(self._output_box())
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()          # a long explanation scrolls instead of squeezing the fields
        scroll.setWidget(self.problems)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFixedHeight(110)
        layout.addWidget(scroll)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.ActionRole)
        self.start_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._dataset_kind_changed()

    # ------------------------------------------------------------- sections
    def _dataset_box(self) -> QGroupBox:
        box = QGroupBox("Dataset")
        form = QFormLayout(box)
        self.use_folder = QRadioButton("Folder (DESED-style, DCASE 2017 Task 4 or AudioSet layout)")
        self.use_synth = QRadioButton("Synthetic benchmark, generated on the spot")
        group = QButtonGroup(box)
        group.addButton(self.use_folder)
        group.addButton(self.use_synth)
        self.use_folder.setChecked(True)
        self.use_folder.toggled.connect(self._dataset_kind_changed)
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("dataset folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_data)
        row = QHBoxLayout()
        row.addWidget(self.data_edit, 1)
        row.addWidget(browse)
        form.addRow(self.use_folder)
        form.addRow("Folder", row)
        form.addRow(self.use_synth)
        self.synth_widget = QWidget()
        srow = QHBoxLayout(self.synth_widget)
        srow.setContentsMargins(0, 0, 0, 0)
        self.n_train, self.n_val, self.n_test = _spin(1, 100000, 200), _spin(1, 100000, 40), _spin(0, 100000, 40)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(1.0, 60.0)
        self.duration.setValue(10.0)
        self.duration.setSuffix(" s")
        self.synth_seed = _spin(0, 2**31 - 1, 0)
        for label, w in (("train", self.n_train), ("validation", self.n_val), ("test", self.n_test),
                         ("clip", self.duration), ("seed", self.synth_seed)):
            srow.addWidget(QLabel(label))
            srow.addWidget(w)
        form.addRow("Clips", self.synth_widget)
        return box

    def _methods_box(self) -> QGroupBox:
        from engine.models import METHODS

        box = QGroupBox("Methods (one run per method and seed)")
        form = QFormLayout(box)
        self.methods = QListWidget()
        self.methods.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for name in METHODS:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in DEFAULT_METHODS else Qt.CheckState.Unchecked)
            self.methods.addItem(item)
        self.methods.setFlow(QListView.Flow.LeftToRight)       # a grid of check boxes, every method visible
        self.methods.setWrapping(True)
        self.methods.setResizeMode(QListView.ResizeMode.Adjust)
        self.methods.setGridSize(QSize(150, 22))
        self.methods.setFixedHeight(80)
        form.addRow(self.methods)
        self.options = QLineEdit()
        self.options.setPlaceholderText("model options KEY=VALUE, e.g. heads=8 mu=0.5 variant=authors-code")
        form.addRow("Options", self.options)
        return box

    def _training_box(self, d: dict) -> QGroupBox:
        import torch

        box = QGroupBox("Training (the paper's defaults)")
        grid = QGridLayout(box)
        self.epochs = _spin(1, 100000, int(d["epochs"]))
        self.batch_size = _spin(1, 100000, int(d["batch_size"]))
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.0, 10.0)
        self.lr.setSingleStep(0.01)
        self.lr.setValue(float(d["lr"]))
        self.lr_step = _spin(1, 100000, int(d["lr_step"]))
        self.max_batches = _spin(0, 1000000, 0)
        self.max_batches.setSpecialValueText("all")
        self.seeds = QLineEdit(str(d["seed"]))
        self.seeds.setPlaceholderText("0 1 2")
        self.snapshots = QCheckBox("keep a snapshot per epoch (watch attention learn)")
        self.snapshots.setChecked(True)
        self.device = QComboBox()
        self.device.addItem("auto (CUDA when available)", None)
        self.device.addItem("cpu", "cpu")
        if torch.cuda.is_available():
            self.device.addItem("cuda", "cuda")
        self.threads = _spin(0, 256, 0)
        self.threads.setSpecialValueText("default")
        self.workers = _spin(1, 64, int(d["workers"]))
        for i, (label, w, tip) in enumerate((
                ("Epochs", self.epochs, f"paper: {d['epochs']}"), ("Batch size", self.batch_size, f"paper: {d['batch_size']}"),
                ("Learning rate", self.lr, f"SGD, paper: {d['lr']} (momentum {d['momentum']}, "
                                           f"weight decay {d['weight_decay']})"),
                ("Divide lr by 10 every", self.lr_step, f"epochs; paper: {d['lr_step']}"),
                ("Batches per epoch", self.max_batches, "all, or fewer for a quick run"),
                ("Seeds", self.seeds, "one run per seed"), ("Device", self.device, ""),
                ("CPU threads", self.threads, "per run"), ("Feature workers", self.workers, ""))):
            w.setToolTip(tip)
            grid.addWidget(QLabel(label), i // 2, 2 * (i % 2))
            grid.addWidget(w, i // 2, 2 * (i % 2) + 1)
        grid.addWidget(self.snapshots, 5, 0, 1, 4)
        return box

    def _output_box(self) -> QGroupBox:
        box = QGroupBox("Output")
        form = QFormLayout(box)
        self.out_edit = QLineEdit(self.model.root or "")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_out)
        row = QHBoxLayout()
        row.addWidget(self.out_edit, 1)
        row.addWidget(browse)
        form.addRow("Runs folder", row)
        self.prefix = QLineEdit(time.strftime("%Y%m%d-%H%M-"))
        self.prefix.setToolTip("run folders are named PREFIX + method + -seedN")
        form.addRow("Run name prefix", self.prefix)
        self.parallel = _spin(1, 64, self.model.parallel)
        form.addRow("Runs at a time", self.parallel)
        return box

    # -------------------------------------------------------------- actions
    def _dataset_kind_changed(self) -> None:
        folder = self.use_folder.isChecked()
        self.data_edit.setEnabled(folder)
        self.synth_widget.setEnabled(not folder)

    def _browse_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder", self.data_edit.text())
        if path:
            self.data_edit.setText(path)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Runs folder", self.out_edit.text())
        if path:
            self.out_edit.setText(path)

    def set_methods(self, names) -> None:
        for i in range(self.methods.count()):
            item = self.methods.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def chosen_methods(self) -> list[str]:
        return [self.methods.item(i).text() for i in range(self.methods.count())
                if self.methods.item(i).checkState() == Qt.CheckState.Checked]

    def build(self) -> tuple[list[RunSpec], SynthSpec | None]:
        """The runs the dialog describes; raises ValueError for text that does not parse."""
        out = self.out_edit.text().strip()
        if not out:
            raise ValueError("choose a runs folder")
        out = str(Path(out).expanduser().absolute())
        synth = None
        if self.use_synth.isChecked():
            synth = SynthSpec(str(Path(out) / f"{self.prefix.text().strip()}synthetic-data"), self.n_train.value(),
                              self.n_val.value(), self.n_test.value(), self.duration.value(), self.synth_seed.value())
            data = synth.folder
        else:
            text = self.data_edit.text().strip()
            data = str(Path(text).expanduser().absolute()) if text else ""
        options = specmod.parse_options(self.options.text())
        specs = []
        for seed in specmod.parse_seeds(self.seeds.text()):
            for method in self.chosen_methods():
                config = {"data": data, "method": method, "epochs": self.epochs.value(),
                          "batch_size": self.batch_size.value(), "lr": self.lr.value(), "lr_step": self.lr_step.value(),
                          "seed": seed, "device": self.device.currentData(), "workers": self.workers.value(),
                          "model": dict(options), "max_batches": self.max_batches.value() or None,
                          "keep_snapshots": self.snapshots.isChecked()}
                specs.append(RunSpec(specmod.run_folder(out, method, seed, self.prefix.text().strip()), config,
                                     self.threads.value() or None))
        return specs, synth

    def start(self) -> None:
        """Check the settings in the background; start the runs when nothing is wrong."""
        if self._checking is not None:
            return
        try:
            specs, synth = self.build()
        except ValueError as exc:
            self._show([str(exc)], [])
            return
        self.start_button.setEnabled(False)
        self.problems.setText("Checking…")
        task = FunctionTask("Checking the training settings", partial(_check_specs, specs, synth), ("train-check",))
        task.signals.done.connect(self._checked)
        task.signals.failed.connect(self._check_failed)
        self._checking = (specs, synth)
        self.tasks.submit(task, "io")

    def _check_failed(self, msg: str) -> None:
        self._checking = None
        self._show([msg], [])

    def _checked(self, result) -> None:
        specs, synth = self._checking
        self._checking = None
        errors, warnings = result
        key = repr([(s.out, s.config, s.threads) for s in specs]) + repr(synth)
        if errors or (warnings and self._confirmed != key):
            self._confirmed = key if not errors else None
            self._show(errors, warnings)
            return
        self.model.parallel = self.parallel.value()
        try:
            self.model.submit(specs, synth)
        except OSError as exc:      # the run folder cannot be written: nothing was started
            self._show([f"cannot prepare the run folders: {exc}"], [])
            return
        self.started.emit([s.out for s in specs])
        self.accept()

    def _show(self, errors: list[str], warnings: list[str]) -> None:
        self.start_button.setEnabled(True)
        self.start_button.setText("Start anyway" if warnings and not errors else "Start")
        lines = [f"<b style='color:#d33'>✗</b> {_esc(e)}" for e in errors]
        lines += [f"<b style='color:#c80'>!</b> {_esc(w)}" for w in warnings]
        if warnings and not errors:
            lines.append("Start again to train anyway.")
        self.problems.setText("<br>".join(lines))


def partial(_check_specs, specs, synth):
    from functools import partial

    return partial(_check_specs, specs, synth)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
