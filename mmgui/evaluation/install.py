"""Wiring of the evaluation into the main window."""
from __future__ import annotations


def install(window):
    """Add the "Evaluate" tab (key "evaluate") for ``window.doc``; returns the view. A change of a
    clip's annotations updates that clip's rows (clip list errors, event rows) through
    ``doc.clipUpdated``."""
    from .view import EvaluationView

    doc = window.doc
    store = getattr(doc, "annotations", None)
    if store is not None:
        store.changed.connect(doc.clipUpdated)
    view = EvaluationView(doc)
    window.add_tab("evaluate", "Evaluate", view)
    return view
