"""Wiring of the teaching mode into the main window (called by the main window)."""
from __future__ import annotations


def install(window):
    """Add the "Explain" tab (key "teach") for ``window.doc``; returns the panel."""
    from .panel import ExplainPanel

    panel = ExplainPanel(window.doc)
    window.add_tab("teach", "Explain", panel)
    return panel
