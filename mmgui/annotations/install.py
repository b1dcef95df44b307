"""Puts annotation into the main window: the store, autosave, the dock, the Annotate menu.

``install(window)`` uses only ``window.doc``, ``window.add_dock``, ``window.add_tab`` (the Batch
tab), ``window.menu`` (and, when
present, ``window.transport`` to start playback of a region). The spectrogram's regions are
added by the window with ``mmgui.views.regions.attach(pane, window.doc.annotations, window.doc)``.
"""
from __future__ import annotations

import weakref
from functools import partial

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from .actions import Annotator
from .autosave import AutoSaver
from .batch import BatchView
from .panel import AnnotationsPanel, fill_export_menu
from .store import AnnotationStore, WeakAttr

SHORTCUTS = {   # action -> keys (window-wide; a text field that has focus keeps its keys)
    "undo": ["Ctrl+Z"], "redo": ["Ctrl+Shift+Z", "Ctrl+Y"],
    "delete": ["Delete", "Backspace"], "accept": ["A"], "reject": ["X"], "label": ["F2", "E"],
    "next": ["N"], "previous": ["P"], "play": ["R"], "propose A": ["Ctrl+Shift+P"],
    "accept above": ["Ctrl+Shift+A"], "import": ["Ctrl+Shift+I"], "save": ["Ctrl+S"],
}


class _Installed(QObject):
    """Keeps the pieces together (owned by the store), follows the current clip, marks the title."""

    store = WeakAttr()

    def __init__(self, window, store, saver, annotator):
        super().__init__(store)
        self._window = weakref.ref(window)      # no reference cycle through the window
        self.store, self.saver, self.annotator = store, saver, annotator
        doc = window.doc
        doc.currentClipChanged.connect(self.clip_changed)
        store.dirtyChanged.connect(self.mark_title)
        store.currentChanged.connect(self.mark_title)
        saver.message.connect(doc.message)
        window.windowTitleChanged.connect(self.keep_marker)
        window.installEventFilter(self)
        QCoreApplication.instance().aboutToQuit.connect(saver.flush)
        self.keep_marker(window.windowTitle())
        self.clip_changed(doc.current.path if doc.current else "")

    def clip_changed(self, path: str) -> None:
        if path:
            self.saver.restore(path)
        self.store.set_current(path or "")

    def mark_title(self, *_):
        window = self._window()
        if window is not None:
            window.setWindowModified(self.store.is_dirty(self.store.current))

    def keep_marker(self, title: str) -> None:
        window = self._window()
        if window is not None and "[*]" not in title:
            window.setWindowTitle(title + " [*]")

    def eventFilter(self, obj, ev) -> bool:
        if obj is self._window() and ev.type() == QEvent.Type.Close:
            self.saver.flush()
        return False


def _start_playback(window_ref) -> None:
    transport = getattr(window_ref(), "transport", None)
    player = getattr(transport, "player", None)
    if transport is not None and getattr(player, "state", "playing") != "playing":
        transport.toggle()


def _action(window, menu, text: str, slot, key: str | None = None) -> QAction:
    act = QAction(text, window)
    act.triggered.connect(slot)
    if key:
        act.setShortcuts([QKeySequence(k) for k in SHORTCUTS[key]])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(act)
    menu.addAction(act)
    return act


def install(window, fallback_dir=None) -> AnnotationStore:
    """Create ``window.doc.annotations`` (the store) with autosave, the Annotations dock and the
    Annotate menu; returns the store (``store.annotator``, ``store.autosaver``; the dock's widget is
    ``store.annotator.panel()``)."""
    doc = window.doc
    store = AnnotationStore(doc)
    doc.annotations = store
    saver = AutoSaver(store, fallback_dir=fallback_dir)
    annotator = Annotator(store, doc, parent=store, play=partial(_start_playback, weakref.ref(window)))
    panel = AnnotationsPanel(store, doc, annotator)
    window.add_dock("annotations", "Annotations", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    store.autosaver, store.annotator = saver, annotator
    window.add_tab("batch", "Batch", BatchView(doc))

    m = window.menu("&Annotate")
    for act, key in ((panel.undo_action, "undo"), (panel.redo_action, "redo")):
        act.setShortcuts([QKeySequence(k) for k in SHORTCUTS[key]])
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(act)
        m.addAction(act)
    m.addSeparator()
    _action(window, m, "Play event", annotator.play_selected, "play")
    _action(window, m, "Next event", partial(annotator.step, 1), "next")
    _action(window, m, "Previous event", partial(annotator.step, -1), "previous")
    _action(window, m, "Change label…", annotator.relabel_dialog, "label")
    _action(window, m, "Delete event", annotator.delete_selected, "delete")
    m.addSeparator()
    _action(window, m, "Propose events of model A", partial(annotator.propose, "A"), "propose A")
    _action(window, m, "Propose events of model B", partial(annotator.propose, "B"))
    _action(window, m, "Accept proposal", annotator.accept_selected, "accept")
    _action(window, m, "Reject proposal", annotator.reject_selected, "reject")
    _action(window, m, "Accept proposals above the score", annotator.accept_above_spin, "accept above")
    m.addSeparator()
    _action(window, m, "Import annotations…", annotator.import_dialog, "import")
    fill_export_menu(m.addMenu("Export annotations"), annotator)
    _action(window, m, "Save annotations now", saver.flush, "save")
    store.installed = _Installed(window, store, saver, annotator)
    return store


__all__ = ["install", "SHORTCUTS"]
