"""Training runs from the application, with real ``mmnet train`` processes on tiny synthetic data.

The dialog starts a run (synthetic data generated on the spot), the curves grow, Cancel stops it
after a checkpoint, Resume finishes it and its model is reported; the runs come back after a
restart; a run killed from outside is shown as interrupted with resume offered; bad data is
explained by the dialog and, started anyway, shows the run's error; ``install(window)`` puts
finished models into the document and Compare opens two of them; a run started in a terminal
is followed, cancelled and resumed from the app.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QDialog, QMainWindow, QTabWidget, QWidget

from mmgui.runs.dialog import TrainDialog
from mmgui.runs.model import RunsModel
from mmgui.runs.spec import RunSpec, run_folder
from mmgui.runs.view import RunsView, status_text

pytestmark = pytest.mark.slow

TINY = "channels=[16,16,16] stem=16 fc_hidden=32 micro_hidden=16 heads=4"
EPOCHS = 40      # about 0.1 s each here: long enough to cancel the run while it trains
TINY_MODEL = {"channels": [16, 16, 16], "stem": 16, "fc_hidden": 32, "micro_hidden": 16, "heads": 4}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tiny synthetic dataset (8 train, 4 validation clips of 2 s at 16 kHz), made once."""
    root = tmp_path_factory.mktemp("runs-data") / "data"
    proc = subprocess.run([sys.executable, "-m", "engine", "synth", str(root), "--n-train", "8", "--n-validation",
                           "4", "--n-test", "1", "--duration", "2", "--sr", "16000", "--seed", "3"],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def bad_data(data, tmp_path):
    """The tiny dataset with a training label outside its class list (an error naming the file and line)."""
    bad = tmp_path / "bad"
    shutil.copytree(data / "metadata", bad / "metadata")
    (bad / "audio").symlink_to(data / "audio")
    weak = bad / "metadata" / "train_weak.tsv"
    weak.write_text(weak.read_text() + "train_00000.wav\tno_such_class\n")
    return bad


@pytest.fixture
def make_runs(qtbot):
    """Factory: (RunsModel, RunsView) on a runs folder; every process and pool is stopped at the end."""
    made = []

    def make(root: Path):
        model = RunsModel(str(root), poll_ms=100)
        view = RunsView(model)
        qtbot.addWidget(view)
        made.append((model, view))
        return model, view

    yield make
    for model, view in made:
        model.shutdown(wait_ms=20000)
        view.tasks.shutdown()
    # what this test's objects deleted later is deleted now, while they are all alive
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(50)


def _tiny_spec(root: Path, data: Path, name: str, epochs: int) -> RunSpec:
    config = {"data": str(data), "method": "mmnet", "epochs": epochs, "batch_size": 4, "lr": 0.05, "workers": 1,
              "model": dict(TINY_MODEL), "keep_snapshots": False}
    return RunSpec(str(root / name), config, threads=1)


def _fill(dialog: TrainDialog, out: Path, epochs: int) -> None:
    dialog.out_edit.setText(str(out))
    dialog.prefix.setText("t-")
    dialog.set_methods(["mmnet"])
    dialog.options.setText(TINY)
    dialog.epochs.setValue(epochs)
    dialog.batch_size.setValue(4)
    dialog.lr.setValue(0.05)
    dialog.seeds.setText("0")
    dialog.threads.setValue(1)
    dialog.workers.setValue(1)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))


def test_dialog_run_cancel_resume_finish_and_restart(qtbot, tmp_path, make_runs):
    runs_root = tmp_path / "runs"
    model, view = make_runs(runs_root)
    assert not runs_root.exists()          # opening the app makes no folder; the first run does
    ready = []
    model.modelReady.connect(ready.append)

    dialog = TrainDialog(model, view.tasks)
    qtbot.addWidget(dialog)
    _fill(dialog, runs_root, epochs=EPOCHS)
    dialog.use_synth.setChecked(True)
    for w, v in ((dialog.n_train, 8), (dialog.n_val, 4), (dialog.n_test, 1), (dialog.synth_seed, 5)):
        w.setValue(v)
    dialog.duration.setValue(2.0)
    dialog.options.setText(TINY + " headz=8")        # an unknown option: explained, nothing starts
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled() and "✗" in dialog.problems.text(), timeout=30000)
    assert "headz" in dialog.problems.text() and not model.runs and dialog.result() != QDialog.DialogCode.Accepted
    dialog.options.setText(TINY)
    with qtbot.waitSignal(dialog.started, timeout=30000) as started:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    path = started.args[0][0]
    assert path == run_folder(str(runs_root), "mmnet", 0, "t-")
    run = model.run(path)
    assert run.config["keep_snapshots"] and run.config["model"] == TINY_MODEL
    view.select(path)

    # the synthetic data is generated, then training starts and the curves grow; cancelled at once
    qtbot.waitUntil(lambda: run.status == "running" and len(run.history) >= 1 and view.buttons["cancel"].isEnabled(),
                    timeout=120000)
    qtbot.mouseClick(view.buttons["cancel"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.curves.points(path, "train_loss") >= 1, timeout=5000)
    assert Path(run.config["data"], "metadata", "train_weak.tsv").exists()
    qtbot.waitUntil(lambda: run.process is None, timeout=60000)
    assert run.status == "cancelled" and run.reason == "SIGTERM" and run.exit_code == 143, run.log[-5:]
    assert run.resumable and view.buttons["resume"].isEnabled()
    stopped_at = max(run.history)
    assert stopped_at < EPOCHS and not ready

    qtbot.mouseClick(view.buttons["resume"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: run.status == "finished", timeout=120000)
    qtbot.waitUntil(lambda: bool(ready), timeout=5000)
    assert ready == [str(Path(path) / "model.safetensors")] and Path(ready[0]).exists()
    assert sorted(run.history) == list(range(1, EPOCHS + 1))          # resumed where it stopped, no epoch twice
    assert any("(resumed)" in line for line in run.log)
    qtbot.waitUntil(lambda: view.curves.points(path, "val_mAP") == EPOCHS, timeout=5000)
    qtbot.waitUntil(lambda: view.metrics.table.rowCount() == 1, timeout=5000)
    assert view.buttons["open"].isEnabled()
    assert view.metrics.table.item(0, 3).text() == f"{run.best_mAP:.3f}"

    # watch attention learn: the first and the last snapshot analyze the chosen clip differently
    view.tabs.setCurrentWidget(view.watch)
    watch = view.watch
    qtbot.waitUntil(lambda: watch.clip_combo.count() == 4 and len(watch.snaps) == EPOCHS + 1, timeout=30000)
    assert [e for e, _ in watch.snaps] == list(range(EPOCHS + 1))
    qtbot.waitUntil(lambda: watch.shown == (watch.snaps[EPOCHS][1], watch.clip_combo.currentData()), timeout=30000)
    watch.slider.setValue(0)
    qtbot.waitUntil(lambda: watch.shown == (watch.snaps[0][1], watch.clip_combo.currentData()), timeout=30000)
    first, last = (watch.cache[(watch.snaps[i][1], watch.clip_combo.currentData())] for i in (0, EPOCHS))
    assert first["attention"] is not None and first["attention"].shape == last["attention"].shape
    assert not np.allclose(first["attention"], last["attention"])
    assert watch.label.text().startswith("epoch 0:")

    # a restart: the run reappears finished, with its curves and its log
    again, _ = make_runs(runs_root)
    back = again.run(path)
    assert back.status == "finished" and sorted(back.history) == list(range(1, EPOCHS + 1)) and back.model == ready[0]
    assert any(line.startswith("$ ") and "--resume" in line for line in back.log)

    # the same settings again: the folder already holds a run, explained before anything starts
    dialog2 = TrainDialog(again, view.tasks)
    qtbot.addWidget(dialog2)
    _fill(dialog2, runs_root, epochs=2)
    dialog2.data_edit.setText(run.config["data"])
    qtbot.mouseClick(dialog2.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already holds a run" in dialog2.problems.text(), timeout=30000)
    assert len(again.runs) == 1


def test_run_killed_from_outside_is_interrupted_and_offered_for_resume(qtbot, tmp_path, data, make_runs):
    model, view = make_runs(tmp_path / "runs")
    run, waiting = model.submit([_tiny_spec(tmp_path / "runs", data, name, epochs=500) for name in ("killed", "next")])
    assert run.process is not None and waiting.process is None and waiting.status == "queued"   # one at a time
    qtbot.waitUntil(lambda: len(run.history) >= 1, timeout=120000)
    assert model.cancel(waiting.path) and waiting.status == "cancelled"     # leaves the queue, never started
    assert not (Path(waiting.path) / "events.jsonl").exists() and waiting.startable
    os.kill(run.process.processId(), signal.SIGKILL)
    qtbot.waitUntil(lambda: run.process is None, timeout=30000)
    assert run.status == "interrupted" and run.resumable
    view.select(run.path)
    assert status_text(run) == "interrupted: resume offered" and view.buttons["resume"].isEnabled()
    assert not view.buttons["cancel"].isEnabled()
    # read again from the folder (an app started later): interrupted too, found by the run's lock
    again, _ = make_runs(tmp_path / "runs")
    assert again.run(run.path).status == "interrupted" and again.run(run.path).resumable


def test_bad_data_is_explained_and_a_run_on_it_shows_its_error(qtbot, tmp_path, data, bad_data, make_runs):
    model, view = make_runs(tmp_path / "runs")
    dialog = TrainDialog(model, view.tasks)
    qtbot.addWidget(dialog)
    _fill(dialog, tmp_path / "runs", epochs=2)
    dialog.data_edit.setText(str(bad_data))
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no_such_class" in dialog.problems.text(), timeout=30000)
    assert "train_weak.tsv" in dialog.problems.text() and not model.runs
    assert dialog.start_button.text() == "Start"

    # a listed file that is missing: a warning first, then "Start anyway"
    (bad_data / "metadata" / "train_weak.tsv").write_text(
        (data / "metadata" / "train_weak.tsv").read_text() + "missing.wav\tclap\n")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "missing.wav" in dialog.problems.text(), timeout=30000)
    assert "left out" in dialog.problems.text() and dialog.start_button.text() == "Start anyway" and not model.runs
    dialog.reject()

    # a run on the bad labels started anyway (outside the dialog's checks) fails and says why
    weak = bad_data / "metadata" / "train_weak.tsv"
    weak.write_text(weak.read_text() + "train_00000.wav\tno_such_class\n")
    (run,) = model.submit([_tiny_spec(tmp_path / "runs", bad_data, "bad", epochs=2)])
    view.select(run.path)
    qtbot.waitUntil(lambda: run.process is None and run.status != "queued", timeout=60000)
    assert run.status == "failed" and "no_such_class" in run.reason and run.exit_code == 2
    i = view.row_of(run.path)
    assert view.table.item(i, 2).text().startswith("failed: ") and "no_such_class" in view.table.item(i, 2).text()
    assert "no_such_class" in view.log.toPlainText()


class _Window(QMainWindow):
    """Stand-in for the main window's integration API (add_tab, menu, show_tab, doc) the lead provides."""

    def __init__(self, doc):
        super().__init__()
        self.doc = doc
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.keys: dict[str, QWidget] = {}
        self.menus: dict[str, object] = {}
        self.shown: list[str] = []

    def add_tab(self, key, title, widget):
        self.keys[key] = widget
        self.tabs.addTab(widget, title)

    def menu(self, title):
        if title not in self.menus:
            self.menus[title] = self.menuBar().addMenu(title)
        return self.menus[title]

    def show_tab(self, key):
        self.shown.append(key)
        if key in self.keys:
            self.tabs.setCurrentWidget(self.keys[key])


def test_install_two_runs_at_a_time_models_to_document_and_compare(qtbot, tmp_path, data):
    from mmgui.document import Document
    from mmgui.runs.install import install

    doc = Document()
    window = _Window(doc)
    qtbot.addWidget(window)
    training = install(window, root=str(tmp_path / "runs"))
    model, view = training.model, training.view
    assert window.keys["runs"] is view
    assert [a.text() for a in window.menus["&Training"].actions()] == ["Train…"]
    model.parallel = 2
    runs = model.submit([_tiny_spec(tmp_path / "runs", data, f"two-{i}", epochs=1) for i in range(2)])
    assert all(r.process is not None for r in runs)          # N = 2 at a time: both started at once
    try:
        qtbot.waitUntil(lambda: all(r.status == "finished" and r.process is None for r in runs), timeout=120000)
        # modelReady -> the document's model list, as "trained"
        qtbot.waitUntil(lambda: len([m for m in doc.models if m.origin == "trained"]) == 2, timeout=5000)
        assert {m.path for m in doc.models} == {r.model for r in runs}
        view.table.selectAll()
        assert view.buttons["compare"].isEnabled()
        qtbot.mouseClick(view.buttons["compare"], Qt.MouseButton.LeftButton)
        assert window.shown[-1] == "compare"
        assert {doc.slots["A"], doc.slots["B"]} == {r.model for r in runs}
        qtbot.waitUntil(lambda: len(doc.clips) == 4, timeout=30000)   # the validation clips
        assert all("/validation/" in c.path for c in doc.clips)
        # metrics: engine.evaluate on the validation clips, detection figures included, kept in the run
        view.tabs.setCurrentWidget(view.metrics)
        view.metrics.evaluate_selected()
        qtbot.waitUntil(lambda: all((Path(r.path) / "evaluation-validation.json").exists() for r in runs)
                        and not view.tasks.busy, timeout=60000)
        qtbot.waitUntil(lambda: view.metrics.table.item(1, 6) is not None
                        and view.metrics.table.item(1, 6).text() != "–", timeout=5000)   # segment F1
        assert view.metrics.classes.rowCount() == len(doc.model(runs[0].model).classes)
    finally:
        model.shutdown()
        view.tasks.shutdown()
        doc.tasks.shutdown()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_run_started_in_a_terminal_is_followed_cancelled_and_resumed(qtbot, tmp_path, data, make_runs):
    root = tmp_path / "runs"
    spec = _tiny_spec(root, data, "terminal", epochs=EPOCHS)
    root.mkdir()
    with open(tmp_path / "terminal.txt", "w") as err:
        child = subprocess.Popen(spec.command(), stdout=subprocess.DEVNULL, stderr=err,
                                 env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        qtbot.waitUntil(lambda: (root / "terminal" / "events.jsonl").exists(), timeout=60000)
        model, view = make_runs(root)        # the app opens while the run trains
        run = model.run(str(root / "terminal"))
        qtbot.waitUntil(lambda: run.status == "running" and len(run.history) >= 1, timeout=60000)
        assert run.process is None and run.spec is not None       # not the app's process; rebuilt from its config
        view.select(run.path)
        assert view.buttons["cancel"].isEnabled()
        qtbot.mouseClick(view.buttons["cancel"], Qt.MouseButton.LeftButton)      # SIGTERM to its pid
        assert child.wait(timeout=60) == 143
    finally:
        if child.poll() is None:
            child.kill()
    qtbot.waitUntil(lambda: run.status == "cancelled", timeout=10000)
    assert run.resumable
    qtbot.mouseClick(view.buttons["resume"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: run.status == "finished" and run.process is None, timeout=120000)
    assert sorted(run.history) == list(range(1, EPOCHS + 1)) and run.model
