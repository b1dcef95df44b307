"""M&m Studio's Qt application (PySide6 + pyqtgraph) over the headless ``engine``."""
from __future__ import annotations

try:  # work around PySide6 6.12.0's signal reference-count bug before anything emits
    from .qtcompat import install as _install_qt_fixes

    _install_qt_fixes()
except ImportError:  # PySide6 missing: the engine still works; the GUI will say so when started
    pass
