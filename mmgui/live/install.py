"""``install(window)``: the Live tab in the main window (called by the main window when it is built)."""
from __future__ import annotations


def install(window):
    """Add the Live tab (``window.add_tab("live", "Live", view)``) and return its view."""
    from .view import LiveView

    view = LiveView(window.doc)
    window.add_tab("live", "Live", view)
    return view
