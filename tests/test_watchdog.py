"""The suite's watchdog also ends a teardown that hangs after a failed test (tests/conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HANGING = '''
import time
import pytest

@pytest.fixture
def stuck_resource():
    yield
    time.sleep(120)          # a teardown that never returns (CI: Pa_Terminate, deadlocked)

def test_fails_then_its_teardown_hangs(stuck_resource):
    assert False, "the failure that stops pytest-timeout's timer"
'''


def test_a_teardown_hanging_after_a_failure_is_ended_with_every_stack(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_exception_interact, pytest_runtest_protocol  # noqa: F401\n")
    (tmp_path / "test_hang.py").write_text(HANGING)
    env = dict(os.environ, MM_WATCHDOG_EXTRA_S="3", PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=2",
                           "-o", "timeout_method=thread", str(tmp_path / "test_hang.py")],
                          capture_output=True, text=True, timeout=100, env=env, cwd=str(tmp_path))
    took = time.monotonic() - t0
    assert proc.returncode != 0
    assert took < 60, f"the hang was not ended ({took:.0f} s)"
    assert "Timeout (0:00:05)!" in proc.stderr and "in stuck_resource" in proc.stderr, proc.stderr[-3000:]
