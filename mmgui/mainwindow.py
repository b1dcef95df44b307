"""The main window of M&m Studio: assembles tabs, docks, toolbars and menus from the modules
that own them, and shows status and progress.

The workspace's own tabs and docks are listed once in ``__init__``; the features
(``mmgui/features.py``) call :meth:`MainWindow.add_tab`, :meth:`MainWindow.add_dock` and
:meth:`MainWindow.menu` from their own ``install(window)`` instead of growing this file. Tabs and
docks are addressed by key, never by index.
"""
from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QMainWindow, QMenu, QProgressBar, QPushButton, \
    QScrollArea, QStyle, QTabWidget, QToolBar, QVBoxLayout, QWidget

from .qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py
from .actions import help as help_actions
from .actions.export import Exporter
from .actions.open import Opener
from .document import Document, bundled
from .features import install_all
from .toolbar import DisplayToolbar
from .views.cliplist import ClipList
from .views.compare import CompareView
from .views.models import ModelPanel
from .views.panel import AnalysisPanel
from .views.predictions import ClipPredictionsView
from .views.transport import Transport, make_player

MAX_TAB_MIN_WIDTH = 480       # wider pages and docks scroll instead of making the window wider than a
MAX_DOCK_MIN_WIDTH = 360      # 1280-px screen (tabs and docks of features added later included)
LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
PREDICTIONS_KEY = ("Sorted by probability. Light bars: macro (clip path); orange: ensemble (eq. 9), brighter "
                   "when above the class threshold (white tick). Click a class to draw or hide its d_t curve (▶).")


class _PaintWatcher(QObject):
    """Calls ``callback`` on the first paint of a widget after :meth:`arm`."""

    def __init__(self, widget, callback):
        super().__init__(widget)
        self.armed = False
        self.callback = callback
        widget.installEventFilter(self)

    def arm(self):
        self.armed = True

    def eventFilter(self, obj, ev):
        if self.armed and ev.type() == QEvent.Type.Paint:
            self.armed = False
            QTimer.singleShot(0, self.callback)
        return False


def _fitted(widget: QWidget, max_min_width: int) -> QWidget:
    """``widget``, or a frameless scroll area holding it when it asks for more than ``max_min_width`` px."""
    if widget.minimumSizeHint().width() <= max_min_width:
        return widget
    scroller = QScrollArea()
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setWidget(widget)
    return scroller


def _with_key(widget: QWidget, text: str) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(widget, 1)
    key = QLabel(text)
    key.setWordWrap(True)
    key.setStyleSheet("color: #9aa0a6; padding: 4px;")
    lay.addWidget(key)
    return box


class MainWindow(QMainWindow):
    firstAnalysisPainted = Signal(float)      # time.monotonic() of the first paint showing model A's analysis

    def __init__(self, doc: Document | None = None, settings: QSettings | None = None, player="auto",
                 discover: bool = False, features: bool = True):
        super().__init__()
        self.doc = doc or Document(self)
        self.settings = settings if settings is not None else QSettings("MMStudio", "M&m Studio")
        self.setWindowTitle("M&m Studio")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.timings: dict[str, float] = {}
        self.errors: list[str] = []
        self.opener = Opener(self, self.settings)
        self.exporter = Exporter(self, self.opener)
        self._menus: dict[str, QMenu] = {}
        self._tab_keys: list[str] = []
        self.docks: dict[str, QDockWidget] = {}

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.analysis = AnalysisPanel(self.doc)
        self.compare = CompareView(self.doc)
        self.clip_list = ClipList(self.doc)
        self.model_panel = ModelPanel(self.doc)
        self.model_panel.openRequested.connect(self.opener.open_model_dialog)
        self.predictions = ClipPredictionsView(self.doc, "A")
        for key, title, widget in (("analysis", "Analysis", self.analysis), ("compare", "Compare A | B", self.compare)):
            self.add_tab(key, title, widget)
        for key, title, widget, area in (("clips", "Clips", self.clip_list, LEFT),
                                         ("models", "Models", self.model_panel, LEFT),
                                         ("predictions", "Clip predictions (model A)",
                                          _with_key(self.predictions, PREDICTIONS_KEY), RIGHT)):
            self.add_dock(key, title, widget, area)
        self.splitDockWidget(self.docks["clips"], self.docks["models"], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["clips"], self.docks["predictions"]], [330, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["clips"], self.docks["models"]], [480, 320], Qt.Orientation.Vertical)
        a = self.analysis
        for name, item_of in (("Spectrogram", lambda: a.spectrogram), ("Segment heatmap", lambda: a.heatmap),
                              ("Segment curves", lambda: a.curves), ("Attention", lambda: a.attention),
                              ("Events", lambda: a.events), ("Analysis panes", lambda: a.graphics.ci),
                              ("Compare panes", lambda: self.compare.panes.graphics.ci),
                              ("Clip predictions", lambda: self.predictions.ci)):
            self.exporter.add_pane(name, item_of)

        self._build_status()
        self._build_toolbars(player)
        self._build_menus()
        self.features: dict[str, object] = {}
        if features:
            self.install_features()
        d = self.doc
        d.message.connect(self.show_message)
        d.busyChanged.connect(self._busy)
        d.progressChanged.connect(self._progress)
        d.currentClipChanged.connect(self._clip_changed)
        d.analysisChanged.connect(self._analysis_changed)
        self._watch = _PaintWatcher(self.analysis.graphics.viewport(), self._painted)
        if discover:
            self.opener.discover_models()

    # ================================================================ assembling
    def install_features(self) -> None:
        """Build the features' tabs, docks and menus (``mmgui/features.py``). The app calls this
        once the window is shown and the first analysis is under way, so that building them
        overlaps loading the model instead of delaying the window."""
        if self.features:
            return
        self.features = install_all(self)
        from .views.regions import attach as attach_regions

        attach_regions(self.analysis.spectrogram, self.doc.annotations, self.doc)   # draw/edit events there
        self.resizeDocks([self.docks["predictions"]], [300], Qt.Orientation.Horizontal)

    def add_tab(self, key: str, title: str, widget: QWidget) -> None:
        """A central tab, shown with Ctrl+<n> (n: its place) and :meth:`show_tab`."""
        self._tab_keys.append(key)
        self.tabs.addTab(_fitted(widget, MAX_TAB_MIN_WIDTH), title)
        if "&View" in self._menus:
            self._tab_action(key, title)

    def show_tab(self, key: str) -> None:
        self.tabs.setCurrentIndex(self._tab_keys.index(key))

    def tab_keys(self) -> list[str]:
        return list(self._tab_keys)

    def current_tab(self) -> str:
        return self._tab_keys[self.tabs.currentIndex()]

    def add_dock(self, key: str, title: str, widget: QWidget, area=RIGHT) -> QDockWidget:
        """A dock (closable, movable), listed in the View menu; ``self.docks[key]``."""
        dock = QDockWidget(title, self)
        dock.setObjectName(key)
        dock.setWidget(_fitted(widget, MAX_DOCK_MIN_WIDTH))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        if "&View" in self._menus:
            self._menus["&View"].addAction(dock.toggleViewAction())
        return dock

    def menu(self, title: str) -> QMenu:
        """The menu bar's menu ``title`` ("&File", "&View", ...), created before Help if new."""
        if title not in self._menus:
            m = QMenu(title, self)
            help_menu = self._menus.get("&Help")
            if help_menu is None:
                self.menuBar().addMenu(m)
            else:
                self.menuBar().insertMenu(help_menu.menuAction(), m)
            self._menus[title] = m
        return self._menus[title]

    def action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        """A menu action with optional shortcut(s), active anywhere in the window."""
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda *_: slot())
        menu.addAction(act)
        self.addAction(act)
        return act

    def _tab_action(self, key: str, title: str) -> None:
        n = self._tab_keys.index(key) + 1
        self.action(self._tab_menu, f"{title} tab", lambda k=key: self.show_tab(k),
                    f"Ctrl+{n}" if n < 10 else None)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_label = QLabel("Ready")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_label = QLabel("")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Cancel background work (Esc)")
        self.cancel_btn.hide()
        self.cancel_btn.clicked.connect(self.cancel_work)
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.progress_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_btn)

    def _build_toolbars(self, player) -> None:
        if player == "auto":
            player, reason = make_player(self)
        else:
            reason = "" if player is not None else "playback disabled"
            if player is not None and not getattr(player, "available", True):
                reason = getattr(player, "unavailable_reason", "no audio output")
        self.player = player
        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.act_open = QAction(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton), "Open…", self)
        self.act_open.setShortcut(QKeySequence.StandardKey.Open)
        self.act_open.setToolTip("Open audio files (Ctrl+O); folders, datasets and models from the File menu")
        self.act_open.triggered.connect(self.opener.open_files_dialog)
        tb.addAction(self.act_open)
        tb.addSeparator()
        self.transport = Transport(self.doc, tb, player, reason)
        self.doc.playback_enabled = self.transport.enabled
        self.addToolBarBreak()
        self.toolbar = DisplayToolbar(self.doc, self)
        self.addToolBar(self.toolbar)

    def _build_menus(self) -> None:
        act, o, ex = self.action, self.opener, self.exporter
        help_menu = self.menu("&Help")
        m = self.menu("&File")
        m.addAction(self.act_open)
        act(m, "Open &folder…", o.open_folder_dialog, "Ctrl+Shift+O")
        act(m, "Open &dataset…", o.open_dataset_dialog)
        act(m, "Open &model…", o.open_model_dialog, "Ctrl+M")
        self.recent_menu = o.recent_menu = m.addMenu("Open &recent")
        o.fill_recent()
        demos = m.addMenu("Open d&emo")
        for demo in bundled.demo_sets().values():
            act(demos, demo.title, partial(o.open_demo, demo.key)).setEnabled(demo.complete)
        m.addSeparator()
        e = m.addMenu("&Export")
        act(e, "Window as PNG…", lambda: ex.window_dialog("png"), "Ctrl+E")
        act(e, "Window as SVG…", lambda: ex.window_dialog("svg"))
        panes = e.addMenu("Pane")
        for name in ex.pane_names():
            act(panes, f"{name}…", lambda n=name: ex.pane_dialog(n))
        e.addSeparator()
        act(e, "Analysis (model A) as JSON…", ex.json_dialog, "Ctrl+Shift+J")
        act(e, "Events (model A) as DCASE TSV…", ex.tsv_dialog, "Ctrl+Shift+T")
        m.addSeparator()
        act(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        v = self.menu("&View")
        self._tab_menu = v
        for key in self._tab_keys:
            self._tab_action(key, self.tabs.tabText(self._tab_keys.index(key)))
        v.addSeparator()
        d = self.doc
        act(v, "Zoom in", lambda: d.zoom(0.5, d.timeline.zoom_centre()), ["+", "="])
        act(v, "Zoom out", lambda: d.zoom(2.0, d.timeline.zoom_centre()), "-")
        act(v, "Show whole clip", d.fit, ["0", "Home"])
        act(v, "Pan left", lambda: d.pan(-0.25), "Left")
        act(v, "Pan right", lambda: d.pan(0.25), "Right")
        v.addSeparator()
        act(v, "Previous clip", lambda: d.step_clip(-1), ["Ctrl+Up", "PgUp"])
        act(v, "Next clip", lambda: d.step_clip(1), ["Ctrl+Down", "PgDown"])
        v.addSeparator()
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())

        p = self.menu("&Playback")
        act(p, "Play / pause", self.transport.toggle, "Space")
        act(p, "Stop", self.transport.stop, "Shift+Space")
        act(p, "Loop region", self.transport.loop_btn.toggle, "L")

        a = self.menu("&Analysis")
        act(a, "Analyze all clips with A and B", self.clip_list.start_analyze_all, "Ctrl+R")
        act(a, "Swap models A and B", d.swap_slots)
        act(a, "Cancel background work", self.cancel_work, "Esc")

        act(help_menu, "Mouse and keyboard", lambda: help_actions.show_help(self), "F1")
        act(help_menu, "About M&&m Studio", lambda: help_actions.show_about(self))   # "&&": a plain "&"

    # ================================================================ opening
    def open_paths(self, paths, remember: bool = True) -> None:
        self.opener.open_paths(paths, remember)

    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dragMoveEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_paths(paths)

    # ================================================================ status
    def show_message(self, text: str, level: str = "info") -> None:
        colour = {"error": "#ff6b6b", "warning": "#e0a458"}.get(level, "#c8ccd4")
        self.status_label.setStyleSheet(f"color: {colour};")
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        if level == "error":
            self.errors.append(text)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_btn.setVisible(busy)
        if not busy:
            self.progress_label.setText("")

    def _progress(self, label: str, fraction: float) -> None:
        self.progress_label.setText(label)
        self.progress.setValue(int(fraction * 1000))

    def cancel_work(self) -> None:
        n = self.doc.tasks.cancel()
        if n:
            self.show_message(f"Cancelled {n} background task(s)", "warning")

    def _clip_changed(self, path: str) -> None:
        clip = self.doc.current
        self.setWindowTitle(f"{clip.name} — M&m Studio" if clip else "M&m Studio")
        if clip is not None:
            self.timings.setdefault("clip_opened", time.monotonic())

    def _analysis_changed(self, clip_path: str, model_path: str) -> None:
        if (self.doc.current is not None and clip_path == self.doc.current.path and
                model_path == self.doc.slots.get("A") and "first_analysis_painted" not in self.timings):
            self.timings["first_analysis_ready"] = time.monotonic()
            self._watch.arm()
            self.analysis.graphics.viewport().update()

    def _painted(self) -> None:
        if "first_analysis_painted" not in self.timings:
            t = time.monotonic()
            self.timings["first_analysis_painted"] = t
            self.firstAnalysisPainted.emit(t)

    # ================================================================ closing
    def closeEvent(self, ev) -> None:
        try:
            if self.player is not None and getattr(self.player, "available", False):
                self.player.stop()
        except Exception:  # noqa: BLE001 - closing must not fail on a vanished audio device
            pass
        self.doc.shutdown()
        super().closeEvent(ev)
