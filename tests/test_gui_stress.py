"""Qt objects die on the GUI thread (issue 9): the stress script in a real subprocess, and the
rule that background functions hold no Qt object."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [ROOT / "assets" / "models" / f"{m}.safetensors" for m in ("resnet-att", "mmnet-ms")]


def run_stress(*args: str, timeout: float = 200.0) -> tuple[int, dict, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "gui_stress.py"), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=str(ROOT))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), proc.stderr


@pytest.mark.skipif(not all(p.exists() for p in BUNDLED), reason="bundled models missing")
def test_windows_opened_and_closed_under_load_free_qt_objects_on_the_gui_thread_only():
    rc, result, err = run_stress("--cycles", "6", "--hang-after", "150")
    assert rc == 0, f"stress run failed (rc {rc}); stacks/stderr:\n{err[-6000:]}\n{result}"
    assert result["finalized"].get("MainThread", 0) > 1000          # the check saw the windows die
    assert result["finalized_off_main"] == 0


def test_background_functions_may_not_hold_qt_objects(qapp):
    from PySide6.QtCore import QObject

    from mmgui.workers import FunctionTask

    owner = QObject()

    def closure(task):
        return owner.objectName()

    with pytest.raises(TypeError, match="Qt object"):
        FunctionTask("closure", closure)
    with pytest.raises(TypeError, match="Qt object"):
        FunctionTask("bound method", owner.objectName)
    with pytest.raises(TypeError, match="Qt object"):
        FunctionTask("argument", len, args=(owner,))
    task = FunctionTask("plain", lambda task, n: n * 2, args=(21,))
    assert task.work() == 42


def test_results_a_closed_document_had_queued_are_dropped(qapp):
    """A task that finished just before the close has its ``done`` queued on the GUI thread;
    after ``shutdown`` it must not reach its receivers (the views of a deleted window)."""
    from mmgui.workers import FunctionTask, TaskManager

    manager = TaskManager()
    received = []
    task = FunctionTask("quick", lambda task: 7)
    task.signals.done.connect(received.append)
    manager.submit(task, "io")
    manager.pools["io"].waitForDone(10000)      # done is posted, not yet delivered
    manager.shutdown()
    qapp.processEvents()
    qapp.processEvents()
    assert received == []
    assert manager.tasks == []

    manager = TaskManager()                     # the same task, delivered when not shut down
    task = FunctionTask("quick", lambda task: 7)
    task.signals.done.connect(received.append)
    manager.submit(task, "io")
    manager.pools["io"].waitForDone(10000)
    qapp.processEvents()
    assert received == [7]
