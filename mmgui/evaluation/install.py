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
    act = window.menu("&View").addAction("Mark errors on the event rows")
    act.setCheckable(True)
    act.setToolTip("False positives and misses of each model against the reference (event-based, 200 ms collar)")
    act.toggled.connect(doc.display.set_mark_errors)
    doc.display.displayChanged.connect(lambda: act.setChecked(doc.display.mark_errors))
    view.run_button.clicked.connect(lambda: doc.display.set_mark_errors(True))   # evaluating shows them
    return view
