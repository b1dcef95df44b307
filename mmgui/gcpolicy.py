"""Python's cyclic garbage collector runs on the GUI thread only.

Why: CPython starts a cyclic collection in whichever thread happens to allocate when the
allocation counters pass their thresholds, a pool thread loading a model included. If the
garbage found then holds the last reference to a Qt object (a closed window's widgets, a
menu, a pyqtgraph item caught in a Python reference cycle), that object's C++ destructor
runs on the pool thread while the GUI thread uses Qt: a lock-order deadlock between a Qt
mutex and the GIL (seen in the test suite: the GUI thread waiting in ``QObject::~QObject``
for a mutex held by a pool thread that waited for the GIL) and a frozen window.

The policy, installed once per process before the first window:

- ``gc.disable()``: no automatic collection, on any thread;
- a QTimer on the GUI thread collects: generation 0 when its counter passes the usual
  threshold (700 allocations), the older generations when theirs do, checked every 100 ms,
  so memory held by cycles is returned within a fraction of a second, and always by the
  GUI thread;
- :func:`freeze_startup` (called once the window is up) moves everything that exists
  after start-up (modules, torch, the window) to the permanent generation, so the periodic
  collections only look at what was allocated since, and take well under a millisecond.

Reference counting is untouched: objects without cycles are freed at once, on the thread
that drops them; ``mmgui.workers`` makes sure a pool thread never drops a QObject's owner.
"""
from __future__ import annotations

import gc

_state: dict[str, object] = {}
THRESHOLDS = (700, 10, 10)     # CPython's defaults, applied on the GUI thread's schedule
INTERVAL_MS = 100


def install(app) -> None:
    """Disable automatic collection and collect from a GUI-thread timer (idempotent)."""
    from PySide6.QtCore import QTimer

    if _state.get("timer") is not None:
        return
    _state["was_enabled"] = gc.isenabled()
    gc.disable()
    timer = QTimer(app)
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(collect_due)
    timer.start()
    _state["timer"] = timer


def collect_due() -> int:
    """Collect the generations whose counters passed their thresholds (GUI thread). Returns
    the generation collected, -1 when none was due."""
    c0, c1, c2 = gc.get_count()
    if c0 <= THRESHOLDS[0]:
        return -1
    gen = 2 if c2 > THRESHOLDS[2] else 1 if c1 > THRESHOLDS[1] else 0
    gc.collect(gen)
    return gen


def freeze_startup() -> None:
    """Collect once, then move every surviving object to the permanent generation."""
    gc.collect()
    gc.freeze()


def uninstall() -> None:
    """Stop the timer and give collection back to the interpreter (tests, after a GUI test)."""
    timer = _state.pop("timer", None)
    if timer is not None:
        timer.stop()
        timer.deleteLater()
    gc.collect()
    if _state.pop("was_enabled", True):
        gc.enable()


def installed() -> bool:
    return _state.get("timer") is not None
