"""Shared fixtures. Engine tests run without Qt; GUI tests use pytest-qt offscreen."""
from __future__ import annotations

import faulthandler
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the app's runs folder (mmgui.runs): a scratch folder, never the user's ~/mmstudio-runs
os.environ.setdefault("MMSTUDIO_RUNS", __import__("tempfile").mkdtemp(prefix="mmstudio-test-runs-"))

import numpy as np
import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))

# A small configuration of the paper's architecture for fast tests (same code paths).
TINY = dict(channels=(32, 48, 48), stem=32, fc_hidden=64, micro_hidden=32, heads=8)


# after pytest-timeout's own limit (pyproject.toml: timeout); the environment may shorten it (its test)
BACKSTOP_EXTRA_S = float(os.environ.get("MM_WATCHDOG_EXTRA_S", "60"))


_BACKSTOP_FILE = []    # the real stderr, duplicated once (pytest captures fd 2 while a test runs)


def _arm_backstop(limit: float) -> None:
    if not _BACKSTOP_FILE:
        _BACKSTOP_FILE.append(os.fdopen(os.dup(sys.__stderr__.fileno()), "w"))   # between tests: not captured
    faulthandler.dump_traceback_later(limit, exit=True, file=_BACKSTOP_FILE[0])


def _backstop_limit(item) -> float:
    limit = float(item.config.getini("timeout") or 0)
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        limit = float(marker.args[0])
    return limit + BACKSTOP_EXTRA_S if limit > 0 else 0.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """The watchdog's backstop: every thread's stack, then exit, if one test's setup, call and
    teardown together outlast pytest-timeout's limit by BACKSTOP_EXTRA_S.

    pytest-timeout stops its timer when a test fails (its ``pytest_exception_interact`` hook, meant
    for pdb), so a teardown that hangs after a failure ran unguarded: CI once sat for half an hour
    in a fixture's ``Pa_Terminate``, deadlocked with a live stream's close in the PulseAudio
    plugin. faulthandler's timer is a C thread: it needs no GIL and fires whatever Python does.
    """
    limit = _backstop_limit(item)
    if limit:
        _arm_backstop(limit)
    try:
        yield
    finally:
        if limit:
            faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node, call, report):
    """pytest's faulthandler plugin cancels faulthandler's timer on a failure too (for pdb): re-arm
    it for the teardown still to come."""
    limit = _backstop_limit(node) if isinstance(node, pytest.Item) else 0.0
    if limit:
        _arm_backstop(limit)


@pytest.fixture(autouse=True)
def _gui_thread_gc(request):
    """GUI tests collect garbage on the GUI thread only, as the app does (mmgui/gcpolicy.py).

    A cyclic collection started by a pool thread (a model loading) could otherwise finalize
    the widgets of an earlier test's window there, and deadlock with the GUI thread. Set up
    before ``qtbot`` (autouse fixtures come first), so torn down after it: the windows of the
    test are closed, the remaining garbage is collected here, on the GUI thread, and the
    interpreter's own collection is restored for the engine tests.
    """
    if not ({"qtbot", "qapp"} & set(request.fixturenames)):
        yield
        return
    from mmgui import gcpolicy

    app = request.getfixturevalue("qapp")
    gcpolicy.install(app)
    try:
        yield
    finally:
        from PySide6.QtCore import QCoreApplication, QEvent

        # widgets the test's windows deleteLater()'d die now, on this thread, before the collection
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gcpolicy.uninstall()


def realistic_audio(seconds: float = 3.0, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """Noise floor + harmonic tone + chirp + clicks: real-looking, deterministic, mono float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.02 * rng.standard_normal(len(t))
    y += 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    y += 0.1 * np.sin(2 * np.pi * 660 * t)
    f = 500 + 4000 * (t % 1.0)
    y += 0.1 * np.sin(2 * np.pi * np.cumsum(f) / sr)
    for k in range(1, int(seconds)):
        i = int(k * sr * 0.97)
        y[i:i + 400] += 0.6 * np.exp(-np.arange(400) / 60.0) * rng.standard_normal(400)
    return y.astype(np.float32)


@pytest.fixture
def audio_3s():
    return realistic_audio(3.0)


@pytest.fixture
def tiny_model_file(tmp_path):
    """Factory: save a randomly initialized small model of ``method`` and return its path."""
    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build

    def make(method: str = "mmnet-ms", n_classes: int = 4, **overrides) -> str:
        torch.manual_seed(0)
        cfg = dict(TINY)
        cfg.update(overrides)
        model = build(method, n_classes, **cfg).eval()
        bundle = ModelBundle(model, FeatureConfig(), [f"class_{i}" for i in range(n_classes)],
                             Normalizer(np.full(128, 1.0), np.full(128, 2.0)))
        path = tmp_path / f"{method}.safetensors"
        save_model(bundle, path)
        return str(path)

    return make
