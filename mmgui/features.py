"""The features that plug into the main window, each from its own package: ``install(window)``
adds its tabs, docks and menus through the window's ``add_tab``/``add_dock``/``menu`` and attaches
its model to the workspace. The order here is the order of their tabs and menus."""
from __future__ import annotations

import importlib

FEATURES = (
    "mmgui.live.install",            # Live tab (microphone or a file played as live)
    "mmgui.annotations.install",     # Annotations dock, Annotate menu, Batch tab (doc.annotations)
    "mmgui.evaluation.install",      # Evaluate tab; clip errors follow annotation edits (doc.clipUpdated)
    "mmgui.runs.install",            # Runs tab, Training menu (runs folder: $MMSTUDIO_RUNS or ~/mmstudio-runs)
    "mmgui.teaching.install",        # Explain tab
)


def install_all(window) -> dict[str, object]:
    """Install every feature into ``window``; returns what each ``install`` returned, by module."""
    return {name: importlib.import_module(name).install(window) for name in FEATURES}
