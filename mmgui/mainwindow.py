"""The main window of M&m Studio: menus, toolbars, docks and the two workspace tabs."""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFileDialog, QInputDialog,
                               QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton, QTabWidget,
                               QToolBar, QVBoxLayout, QWidget)

from . import exporting, theme
from .qtcompat import install as _qt_guard

_qt_guard()   # PySide6 6.12.0 reference-count bug: see mmgui/qtcompat.py
from .datasets import AUDIO_EXTENSIONS, dataset_splits, default_split, is_audio, is_model
from .document import Document
from .views.cliplist import ClipList
from .views.compare import CompareView
from .views.models import ModelPanel
from .views.panel import AnalysisPanel
from .views.predictions import ClipPredictionsView
from .views.transport import Transport, make_player

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_MODELS = ROOT / "assets" / "models"
DEMO_CLIP = ROOT / "assets" / "demo" / "demo.wav"
MAX_RECENT = 12
AUDIO_FILTER = "Audio files (" + " ".join(f"*{e}" for e in AUDIO_EXTENSIONS) + ");;All files (*)"


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


def _readable(path: str) -> bool:
    """A folder, or a file whose audio header reads (unreadable files stay out of Open recent)."""
    if os.path.isdir(path):
        return True
    try:
        from engine import audio

        audio.info(path)
        return True
    except Exception:  # noqa: BLE001 - any failure means: not a readable audio file
        return False


class MainWindow(QMainWindow):
    firstAnalysisPainted = Signal(float)      # time.monotonic() of the first paint showing model A's analysis

    def __init__(self, doc: Document | None = None, settings: QSettings | None = None, player="auto",
                 discover: bool = False):
        super().__init__()
        self.doc = doc or Document(self)
        self.settings = settings if settings is not None else QSettings("MMStudio", "M&m Studio")
        self.setWindowTitle("M&m Studio")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.timings: dict[str, float] = {}
        self.errors: list[str] = []

        # ---- central tabs
        self.analysis = AnalysisPanel(self.doc)
        self.compare = CompareView(self.doc)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.analysis, "Analysis")
        self.tabs.addTab(self.compare, "Compare A | B")
        self.setCentralWidget(self.tabs)

        # ---- docks
        self.clip_list = ClipList(self.doc)
        self.model_panel = ModelPanel(self.doc)
        self.model_panel.openRequested.connect(self.open_model_dialog)
        self.predictions = ClipPredictionsView(self.doc, "A")
        pred_box = QWidget()
        pred_lay = QVBoxLayout(pred_box)
        pred_lay.setContentsMargins(0, 0, 0, 0)
        pred_lay.addWidget(self.predictions, 1)
        key = QLabel("Sorted by probability. Light bars: macro (clip path); orange: ensemble (eq. 9), "
                     "brighter when above the class threshold (white tick). Click a class to draw "
                     "or hide its d_t curve (▶).")
        key.setWordWrap(True)
        key.setStyleSheet("color: #9aa0a6; padding: 4px;")
        pred_lay.addWidget(key)
        self.dock_clips = self._dock("Clips", self.clip_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.dock_models = self._dock("Models", self.model_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.dock_pred = self._dock("Clip predictions (model A)", pred_box,
                                    Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.dock_clips, self.dock_models, Qt.Orientation.Vertical)
        self.resizeDocks([self.dock_clips, self.dock_pred], [330, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_clips, self.dock_models], [480, 320], Qt.Orientation.Vertical)

        # ---- toolbars, menus, status bar
        self._build_status()
        if player == "auto":
            player, reason = make_player(self)
        else:
            reason = "" if player is not None else "playback disabled"
            if player is not None and not getattr(player, "available", True):
                reason = getattr(player, "unavailable_reason", "no audio output")
        self.player = player
        self._build_toolbars(player, reason)
        self.doc.playback_enabled = self.transport.enabled
        self._build_menus()

        # ---- document signals
        d = self.doc
        d.message.connect(self.show_message)
        d.busyChanged.connect(self._busy)
        d.progressChanged.connect(self._progress)
        d.currentClipChanged.connect(self._clip_changed)
        d.analysisChanged.connect(self._analysis_changed)
        d.slotsChanged.connect(self._sync_toolbar)
        d.modelsChanged.connect(self._sync_toolbar)
        d.displayChanged.connect(self._sync_toolbar)
        self._watch = _PaintWatcher(self.analysis.graphics.viewport(), self._painted)
        if discover:
            self.discover_models()
        self._sync_toolbar()

    # ================================================================ building
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

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

    def _build_toolbars(self, player, reason: str) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        style = self.style()
        from PySide6.QtWidgets import QStyle

        self.act_open = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton), "Open…", self)
        self.act_open.setShortcut(QKeySequence.StandardKey.Open)
        self.act_open.setToolTip("Open audio files (Ctrl+O); folders, datasets and models from the File menu")
        self.act_open.triggered.connect(self.open_files_dialog)
        tb.addAction(self.act_open)
        tb.addSeparator()
        self.transport = Transport(self.doc, tb, player, reason)
        self.addToolBarBreak()
        disp = QToolBar("Display")
        disp.setObjectName("display-toolbar")
        disp.setMovable(False)
        self.addToolBar(disp)
        self.combo_a = QComboBox()
        self.combo_b = QComboBox()
        for c, slot in ((self.combo_a, "A"), (self.combo_b, "B")):
            c.setMinimumWidth(170)
            c.setToolTip(f"Model {slot}" + (" (analysis panes)" if slot == "A" else " (compared with A)"))
            c.activated.connect(lambda i, s=slot, cb=c: self.doc.set_slot(s, cb.itemData(i)))
        self.combo_scale = QComboBox()
        self.combo_scale.setToolTip("Scale of the segment predictions d_t (heatmap and curves)")
        self.combo_scale.activated.connect(lambda i: self.doc.set_scale(self.combo_scale.itemData(i)))
        self.combo_att = QComboBox()
        self.combo_att.setToolTip("Attention scales shown")
        self.combo_att.activated.connect(lambda i: self.doc.set_attention_scale(self.combo_att.itemData(i)))
        self.per_second = QCheckBox("per second")
        self.per_second.setToolTip("Show a_t / segment length, so that scales of different resolutions compare")
        self.per_second.setChecked(self.doc.attention_per_second)
        self.per_second.toggled.connect(self.doc.set_attention_per_second)
        self.median = QDoubleSpinBox()
        self.median.setRange(0.0, 5.0)
        self.median.setSingleStep(0.05)
        self.median.setDecimals(2)
        self.median.setSuffix(" s")
        self.median.setToolTip("Median filter on d_t before event detection")
        self.min_dur = QDoubleSpinBox()
        self.min_dur.setRange(0.0, 10.0)
        self.min_dur.setSingleStep(0.05)
        self.min_dur.setDecimals(2)
        self.min_dur.setSuffix(" s")
        self.min_dur.setToolTip("Drop events shorter than this")
        self.median.valueChanged.connect(self._event_settings)
        self.min_dur.valueChanged.connect(self._event_settings)
        for label, w in (("A ", self.combo_a), ("  B ", self.combo_b), ("   d_t scale ", self.combo_scale),
                         ("   attention ", self.combo_att), (None, self.per_second),
                         ("   events: median ", self.median), ("  min length ", self.min_dur)):
            if label:
                lab = QLabel(label)
                if label.strip() in ("A", "B"):
                    lab.setStyleSheet(f"color: {theme.SLOT_COLOURS[label.strip()]}; font-weight: bold;")
                disp.addWidget(lab)
            disp.addWidget(w)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self._action(m, "Open &folder…", self.open_folder_dialog, "Ctrl+Shift+O")
        self._action(m, "Open &dataset…", self.open_dataset_dialog)
        self._action(m, "Open &model…", self.open_model_dialog, "Ctrl+M")
        self.recent_menu = m.addMenu("Open &recent")
        self._fill_recent()
        m.addSeparator()
        ex = m.addMenu("&Export")
        self._action(ex, "Window as PNG…", lambda: self.export_window_dialog("png"), "Ctrl+E")
        self._action(ex, "Window as SVG…", lambda: self.export_window_dialog("svg"))
        panes = ex.addMenu("Pane")
        for name in self.pane_names():
            self._action(panes, f"{name}…", lambda n=name: self.export_pane_dialog(n))
        ex.addSeparator()
        self._action(ex, "Analysis (model A) as JSON…", self.export_json_dialog, "Ctrl+Shift+J")
        self._action(ex, "Events (model A) as DCASE TSV…", self.export_tsv_dialog, "Ctrl+Shift+T")
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        v = mb.addMenu("&View")
        self._action(v, "Analysis tab", lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(v, "Compare tab", lambda: self.tabs.setCurrentIndex(1), "Ctrl+2")
        v.addSeparator()
        self._action(v, "Zoom in", lambda: self.doc.zoom(0.5, self._zoom_centre()), ["+", "="])
        self._action(v, "Zoom out", lambda: self.doc.zoom(2.0, self._zoom_centre()), "-")
        self._action(v, "Show whole clip", self.doc.fit, ["0", "Home"])
        self._action(v, "Pan left", lambda: self.doc.pan(-0.25), "Left")
        self._action(v, "Pan right", lambda: self.doc.pan(0.25), "Right")
        v.addSeparator()
        self._action(v, "Previous clip", lambda: self.doc.step_clip(-1), ["Ctrl+Up", "PgUp"])
        self._action(v, "Next clip", lambda: self.doc.step_clip(1), ["Ctrl+Down", "PgDown"])
        v.addSeparator()
        for dock in (self.dock_clips, self.dock_models, self.dock_pred):
            v.addAction(dock.toggleViewAction())

        p = mb.addMenu("&Playback")
        self._action(p, "Play / pause", self.transport.toggle, "Space")
        self._action(p, "Stop", self.transport.stop, "Shift+Space")
        self._action(p, "Loop region", self.transport.loop_btn.toggle, "L")

        a = mb.addMenu("&Analysis")
        self._action(a, "Analyze all clips with A and B", self.clip_list._analyze_all, "Ctrl+R")
        self._action(a, "Swap models A and B", self.doc.swap_slots)
        self._action(a, "Cancel background work", self.cancel_work, "Esc")

        h = mb.addMenu("&Help")
        self._action(h, "Mouse and keyboard", self.show_help, "F1")
        self._action(h, "About M&&m Studio", self.show_about)      # && : a plain "&", not a mnemonic

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                act.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda *_: slot())
        menu.addAction(act)
        self.addAction(act)
        return act

    # ================================================================ models
    def discover_models(self, then=None, background: bool = False) -> None:
        """Bundled models, trained models under runs/, and recently opened model files."""
        found = []
        if BUNDLED_MODELS.is_dir():
            order = {"resnet-att": 0, "mmnet-ms": 1}
            for p in sorted(BUNDLED_MODELS.glob("*.safetensors"), key=lambda p: (order.get(p.stem, 9), p.name)):
                found.append((str(p), "bundled"))
        for base in {ROOT / "runs", Path.cwd() / "runs"}:
            if base.is_dir():
                for pattern in ("*/model.safetensors", "*/*/model.safetensors"):
                    for p in sorted(base.glob(pattern))[:50]:
                        found.append((str(p), "trained"))
        for p in self._recent("recent_models"):
            if os.path.exists(p):
                found.append((p, "opened"))
        if background:
            self.doc.add_models_async(found, then)
            return
        for path, origin in found:
            self.doc.add_model(path, origin)
        if then is not None:
            then()

    def use_default_models(self) -> None:
        """A = ResNet-ATT, B = M&mnet-MS when bundled; else the first usable models."""
        usable = [m for m in self.doc.models if not m.error]
        by_stem = {Path(m.path).stem: m for m in usable if m.origin == "bundled"}
        a = by_stem.get("resnet-att") or (usable[0] if usable else None)
        b = by_stem.get("mmnet-ms") or next((m for m in usable if m is not a), None)
        if a is not None and self.doc.slots["A"] is None:
            self.doc.set_slot("A", a.path)
        if b is not None and self.doc.slots["B"] is None:
            self.doc.set_slot("B", b.path)

    def open_demo(self) -> bool:
        """Open the bundled demo clip; the bundled models analyze it as soon as they are known."""
        self.use_default_models()
        if not DEMO_CLIP.exists():
            where = os.path.relpath(DEMO_CLIP, ROOT) if str(DEMO_CLIP).startswith(str(ROOT)) else DEMO_CLIP
            self.show_message(f"Demo clip not found ({where}): open an audio file with File ▸ Open "
                              "(or drop one here)", "warning")
            return False
        if not any(BUNDLED_MODELS.glob("*.safetensors")) if BUNDLED_MODELS.is_dir() else True:
            self.show_message("No bundled models in assets/models: open a model with File ▸ Open model",
                              "warning")
        self.doc.open_paths([str(DEMO_CLIP)])
        return True

    # ================================================================ opening
    def open_paths(self, paths, remember: bool = True) -> None:
        paths = [str(p) for p in paths]
        for p in paths:
            if os.path.isdir(p) and len(dataset_splits(p)) > 1:
                self.open_dataset(p, default_split(dataset_splits(p)))
                paths = [q for q in paths if q != p]
        models = [p for p in paths if is_model(p)]
        for p in models:
            if remember:
                self._remember("recent_models", p)
        self.doc.open_paths(paths)
        self.use_default_models()
        if remember:
            for p in paths:
                if not is_model(p) and os.path.exists(p) and _readable(p):
                    self._remember("recent", p)
            self._fill_recent()

    def open_dataset(self, root: str, split: str | None = None) -> None:
        splits = dataset_splits(root)
        if not splits:
            self.doc.open_folder(root)
            return
        split = split or default_split(splits)
        self.doc.open_folder(root, split)
        self._remember("recent", root)
        self._fill_recent()

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open audio files", self._last_dir(), AUDIO_FILTER)
        if files:
            self._set_last_dir(files[0])
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open a folder of audio files", self._last_dir())
        if d:
            self._set_last_dir(d)
            self.open_paths([d])

    def open_dataset_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open a dataset (DIR/audio/<split>, DIR/metadata)",
                                             self._last_dir())
        if not d:
            return
        self._set_last_dir(d)
        splits = dataset_splits(d)
        if not splits:
            self.show_message(f"{d}: no DIR/audio/<split> with DIR/metadata/<split>_weak.tsv; "
                              "opened as a folder of audio files", "warning")
            self.doc.open_folder(d)
            return
        split = splits[0]
        if len(splits) > 1:
            split, ok = QInputDialog.getItem(self, "Dataset split", "Split:", splits,
                                             splits.index(default_split(splits)), False)
            if not ok:
                return
        self.open_dataset(d, split)

    def open_model_dialog(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Open a model file", self._last_dir(),
                                           "M&m Studio models (*.safetensors);;All files (*)")
        if f:
            self._set_last_dir(f)
            entry = self.doc.add_model(f)
            if entry is not None and not entry.error:
                self._remember("recent_models", entry.path)
                self.doc.set_slot("A" if self.doc.slots["A"] is None else "B", entry.path)

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

    # ================================================================ settings
    def _recent(self, key: str = "recent") -> list[str]:
        v = self.settings.value(key, [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _remember(self, key: str, path: str) -> None:
        path = os.path.abspath(path)
        items = [p for p in self._recent(key) if p != path]
        self.settings.setValue(key, [path] + items[:MAX_RECENT - 1])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self._recent()
        for p in items:
            act = self.recent_menu.addAction(p.replace("&", "&&"))
            act.triggered.connect(lambda *_, q=p: self._open_recent(q))
        if not items:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: (self.settings.setValue("recent", []),
                                                              self._fill_recent()))

    def _open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            self.show_message(f"{path}: no longer exists", "error")
            return
        if os.path.isdir(path) and dataset_splits(path):
            self.open_dataset(path)
        else:
            self.open_paths([path])

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def _set_last_dir(self, path: str) -> None:
        p = Path(path)
        self.settings.setValue("last_dir", str(p if p.is_dir() else p.parent))

    # ================================================================ export
    def pane_names(self) -> list[str]:
        return ["Spectrogram", "Segment heatmap", "Segment curves", "Attention", "Events",
                "Analysis panes", "Compare panes", "Clip predictions"]

    def pane_item(self, name: str):
        a = self.analysis
        return {"Spectrogram": a.spectrogram, "Segment heatmap": a.heatmap, "Segment curves": a.curves,
                "Attention": a.attention, "Events": a.events, "Analysis panes": a.graphics.ci,
                "Compare panes": self.compare.panes.graphics.ci,
                "Clip predictions": self.predictions.ci}[name]

    def export_pane(self, name: str, path: str) -> Path:
        return exporting.export_item(self.pane_item(name), path)

    def export_window(self, path: str) -> Path:
        return exporting.export_widget(self, path)

    def export_json(self, path: str) -> Path:
        a = self.doc.analysis("A")
        if a is None:
            raise exporting.ExportError("no analysis to export: open a clip and choose model A")
        entry = self.doc.model("A")
        extra = {"model": {"path": entry.path, "name": entry.name},
                 "event_settings": {"median_s": self.doc.median_s, "min_duration_s": self.doc.min_duration_s}}
        return exporting.export_analysis_json(a, path, events=self.doc.events("A"), extra=extra)

    def export_tsv(self, path: str, all_clips: bool = True) -> Path:
        model = self.doc.slots.get("A")
        if not model:
            raise exporting.ExportError("no model A")
        clips = self.doc.clips if all_clips else [self.doc.current]
        rows = []
        for c in clips:
            if c is not None and (c.path, model) in self.doc.analyses:
                rows += [(c.name, e) for e in self.doc.events(model, c.path)]
        if not any((c is not None and (c.path, model) in self.doc.analyses) for c in clips):
            raise exporting.ExportError("no analyzed clip to export")
        return exporting.export_events_tsv(rows, path)

    def _save_dialog(self, title: str, suffix: str, filt: str) -> str | None:
        stem = Path(self.doc.current.path).stem if self.doc.current else "mmstudio"
        f, _ = QFileDialog.getSaveFileName(self, title, str(Path(self._last_dir()) / f"{stem}{suffix}"), filt)
        if f:
            self._set_last_dir(f)
        return f or None

    def _run_export(self, fn, *args) -> None:
        try:
            p = fn(*args)
            self.show_message(f"Saved {p}", "info")
        except Exception as exc:  # noqa: BLE001
            self.show_message(f"Export failed: {exc}", "error")

    def export_window_dialog(self, fmt: str) -> None:
        f = self._save_dialog("Export the window", f".{fmt}", f"{fmt.upper()} (*.{fmt})")
        if f:
            self._run_export(self.export_window, f)

    def export_pane_dialog(self, name: str) -> None:
        f = self._save_dialog(f"Export {name}", "_" + name.lower().replace(" ", "-") + ".png",
                              "PNG (*.png);;SVG (*.svg)")
        if f:
            self._run_export(self.export_pane, name, f)

    def export_json_dialog(self) -> None:
        f = self._save_dialog("Export the analysis", ".json", "JSON (*.json)")
        if f:
            self._run_export(self.export_json, f)

    def export_tsv_dialog(self) -> None:
        f = self._save_dialog("Export the events (DCASE TSV)", "_events.tsv", "TSV (*.tsv)")
        if f:
            self._run_export(self.export_tsv, f)

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
        self._sync_toolbar()

    def _painted(self) -> None:
        if "first_analysis_painted" not in self.timings:
            t = time.monotonic()
            self.timings["first_analysis_painted"] = t
            self.firstAnalysisPainted.emit(t)

    def _event_settings(self) -> None:
        self.doc.set_event_settings(self.median.value(), self.min_dur.value())

    def _zoom_centre(self):
        d = self.doc
        if d.view_range and d.view_range[0] <= d.playhead <= d.view_range[1]:
            return d.playhead
        return None

    def _sync_toolbar(self) -> None:
        d = self.doc
        for combo, slot in ((self.combo_a, "A"), (self.combo_b, "B")):
            combo.blockSignals(True)
            combo.clear()
            if slot == "B":
                combo.addItem("(none)", None)
            for m in d.models:
                if not m.error:
                    combo.addItem(m.name, m.path)
            i = combo.findData(d.slots.get(slot))
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)
        a = d.analysis("A")
        names = [s.name for s in a.scales] if a is not None else d.scale_names("A")
        entry = d.model("A") if d.slots.get("A") else None
        primary = None
        if a is not None and a.scales:
            primary = a.scale(None).name
        elif entry is not None and entry.scales:
            hops = [s["hop_s"] for s in entry.scales]
            primary = entry.scales[hops.index(max(hops))]["name"] if hops else None
        self.combo_scale.blockSignals(True)
        self.combo_scale.clear()
        hop = {s["name"]: s["hop_s"] for s in (entry.scales if entry else [])}
        for n in names:
            label = f"{n} ({hop[n] * 1000:.0f} ms)" if n in hop else n
            self.combo_scale.addItem(label + ("  · primary" if n == primary else ""), n)
        if not names:
            self.combo_scale.addItem("no segment level", None)
        i = self.combo_scale.findData(d.scale) if d.scale else self.combo_scale.findData(primary)
        self.combo_scale.setCurrentIndex(max(0, i))
        self.combo_scale.setEnabled(bool(names))
        self.combo_scale.blockSignals(False)
        self.combo_att.blockSignals(True)
        self.combo_att.clear()
        self.combo_att.addItem("all scales", "all")
        for n in names:
            self.combo_att.addItem(n, n)
        self.combo_att.setCurrentIndex(max(0, self.combo_att.findData(d.attention_scale)))
        self.combo_att.setEnabled(bool(names))
        self.combo_att.blockSignals(False)

    # ================================================================ help
    def show_help(self) -> None:
        QMessageBox.information(self, "Mouse and keyboard", (
            "Mouse: wheel zooms time around the pointer (and frequency over the spectrogram); "
            "drag pans; click seeks; drag the yellow playhead; Shift+drag selects a loop region; "
            "right-click for the pane menu (export, axes).\n\n"
            "Keyboard: Space play/pause, Shift+Space stop, L loop, +/- zoom, 0 whole clip, "
            "Left/Right pan, PgUp/PgDown previous/next clip, Ctrl+1/Ctrl+2 analysis/compare, "
            "Esc cancel background work, Ctrl+E export the window."))

    def show_about(self) -> None:
        import engine

        QMessageBox.about(self, "About M&m Studio", (
            f"<b>M&amp;m Studio</b> {engine.__version__}<br>Sound event recognition and localization with "
            "M&amp;mnet (Chou, Jang &amp; Yang, IJCAI 2018) and the paper's baselines."))

    # ================================================================ closing
    def closeEvent(self, ev) -> None:
        try:
            if self.player is not None and getattr(self.player, "available", False):
                self.player.stop()
        except Exception:  # noqa: BLE001
            pass
        self.doc.shutdown()
        super().closeEvent(ev)
