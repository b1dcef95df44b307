"""A guard against a reference-counting bug of PySide6/shiboken6 6.12.0 on Python 3.11.

PySide6 6.12.0 (constraints.txt pins 6.11.3, which is free of it) returns ``None``, ``True`` and ``False`` to Python without taking a
reference to them (every ``setText()``, ``update()``, ``setPos()``, ``emit()``...),
as if they were immortal objects, which they are only from Python 3.12 on. On
Python 3.11 each such call lowers the singleton's reference count by one, and
after some thousands of calls Python aborts with "Fatal Python error:
none_dealloc: deallocating None" (or ``bool_dealloc``), at the latest when the
interpreter exits. pyqtgraph makes such calls on every pan and repaint.

:func:`install` detects the bug (a few calls of a void Qt method on a private
object) and, only where it is present and Python < 3.12, makes the singletons
effectively immortal by raising their reference counts far beyond reach (2**40),
which is what the bindings assume. With a fixed PySide6, or on Python >= 3.12,
nothing is changed. Imported by ``mmgui/__init__.py`` before any Qt object is used.
"""
from __future__ import annotations

import ctypes
import sys

installed: dict[str, object] = {}
_BOOST = 1 << 40


def _loses_references(fn, obj, n: int = 32) -> bool:
    fn()
    before = sys.getrefcount(obj)
    for _ in range(n):
        fn()
    return before - sys.getrefcount(obj) >= n


def _make_immortal(obj) -> None:
    # ob_refcnt is the first field of every object in release builds of CPython 3.11
    ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST


def install() -> dict[str, object]:
    """Detect the bug and protect None/True/False against it (idempotent)."""
    if installed:
        return installed
    if sys.version_info >= (3, 12):
        installed["needed"] = False
        return installed
    from PySide6.QtCore import QObject

    probe = QObject()
    needed = (_loses_references(lambda: probe.setObjectName("probe"), None)
              or _loses_references(lambda: probe.blockSignals(False), False))
    if needed:
        for obj in (None, True, False, NotImplemented, Ellipsis):
            _make_immortal(obj)
    installed["needed"] = needed
    return installed
