"""Opening things: files, folders, datasets and models (dialogs, drops, the demo), and the
recent-files lists kept in QSettings."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..datasets import AUDIO_SUFFIXES, dataset_splits, default_split, is_model
from ..document import bundled
from ..document import models as model_files
from ..document.models import ROOT

MAX_RECENT = 12
AUDIO_FILTER = "Audio files (" + " ".join(f"*{e}" for e in AUDIO_SUFFIXES) + ");;All files (*)"


def readable(path: str) -> bool:
    """A folder, or a file whose audio header reads (unreadable files stay out of Open recent)."""
    if os.path.isdir(path):
        return True
    try:
        from engine import audio

        audio.info(path)
        return True
    except Exception:  # noqa: BLE001 - any failure means: not a readable audio file
        return False


class Opener(QObject):
    """Opens paths into the window's workspace and remembers them (``settings``: QSettings)."""

    def __init__(self, window, settings):
        super().__init__(window)
        self.window = window
        self.doc = window.doc
        self.settings = settings
        self.recent_menu = None

    # ------------------------------------------------------------------ models
    def discover_models(self, then=None, background: bool = False) -> None:
        """Bundled models, trained models under runs/, and recently opened model files."""
        found = model_files.discover(self.recent("recent_models"))
        if background:
            self.doc.add_models_async(found, then)
            return
        for path, origin in found:
            self.doc.add_model(path, origin)
        if then is not None:
            then()

    def open_demo(self, key: str | None = None) -> bool:
        """Open a bundled demo clip (``key``: "realsounds" or "synthetic"; None: the default set,
        the real-sound one where present); its set's models go to slots A and B (now where known,
        else as soon as they are) and analyze it."""
        demo = bundled.get(key)
        self.doc.model_store.use_pair(demo.key)
        self.doc.fill_empty_slots()
        if not demo.clip.exists():
            self.window.show_message(f"Demo clip not found ({os.path.relpath(demo.clip, ROOT)}): open an audio "
                                     "file with File ▸ Open (or drop one here)", "warning")
            return False
        if not demo.model_files():
            self.window.show_message(f"No bundled models in {os.path.relpath(demo.folder, ROOT)}: open a model "
                                     "with File ▸ Open model", "warning")
        self.doc.open_paths([str(demo.clip)])
        return True

    # ------------------------------------------------------------------ paths
    def open_paths(self, paths, remember: bool = True) -> None:
        paths = [str(p) for p in paths]
        for p in list(paths):
            if os.path.isdir(p) and len(dataset_splits(p)) > 1:
                self.open_dataset(p, default_split(dataset_splits(p)))
                paths.remove(p)
        if remember:
            for p in paths:
                if is_model(p):
                    self.remember("recent_models", p)
        self.doc.open_paths(paths)
        self.doc.fill_empty_slots()
        if remember:
            for p in paths:
                if not is_model(p) and os.path.exists(p) and readable(p):
                    self.remember("recent", p)
            self.fill_recent()

    def open_dataset(self, root: str, split: str | None = None) -> None:
        splits = dataset_splits(root)
        if not splits:
            self.doc.open_folder(root)
            return
        self.doc.open_folder(root, split or default_split(splits))
        self.remember("recent", root)
        self.fill_recent()

    # ------------------------------------------------------------------ dialogs
    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window, "Open audio files", self.last_dir(), AUDIO_FILTER)
        if files:
            self.set_last_dir(files[0])
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self.window, "Open a folder of audio files", self.last_dir())
        if d:
            self.set_last_dir(d)
            self.open_paths([d])

    def open_dataset_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self.window, "Open a dataset (DESED, DCASE 2017 or AudioSet layout)",
                                             self.last_dir())
        if not d:
            return
        self.set_last_dir(d)
        splits = dataset_splits(d)
        if not splits:
            self.window.show_message(f"{d}: not a dataset layout engine.data reads (DESED metadata/, DCASE 2017 "
                                     "or AudioSet label files); opened as a folder of audio files", "warning")
            self.doc.open_folder(d)
            return
        split = splits[0]
        if len(splits) > 1:
            split, ok = QInputDialog.getItem(self.window, "Dataset split", "Split:", splits,
                                             splits.index(default_split(splits)), False)
            if not ok:
                return
        self.open_dataset(d, split)

    def open_model_dialog(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self.window, "Open a model file", self.last_dir(),
                                           "M&m Studio models (*.safetensors);;All files (*)")
        if f:
            self.set_last_dir(f)
            entry = self.doc.add_model(f)
            if entry is not None and not entry.error:
                self.remember("recent_models", entry.path)
                self.doc.set_slot("A" if self.doc.slots["A"] is None else "B", entry.path)

    # ------------------------------------------------------------------ recent files
    def recent(self, key: str = "recent") -> list[str]:
        v = self.settings.value(key, [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def remember(self, key: str, path: str) -> None:
        path = os.path.abspath(path)
        items = [p for p in self.recent(key) if p != path]
        self.settings.setValue(key, [path] + items[:MAX_RECENT - 1])

    def fill_recent(self) -> None:
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        items = self.recent()
        for p in items:
            act = menu.addAction(p.replace("&", "&&"))          # "&&": a plain "&", not a mnemonic
            act.triggered.connect(lambda *_, q=p: self.open_recent(q))
        if not items:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", self.clear_recent)

    def clear_recent(self) -> None:
        self.settings.setValue("recent", [])
        self.fill_recent()

    def open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            self.window.show_message(f"{path}: no longer exists", "error")
            return
        if os.path.isdir(path) and dataset_splits(path):
            self.open_dataset(path)
        else:
            self.open_paths([path])

    def last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def set_last_dir(self, path: str) -> None:
        p = Path(path)
        self.settings.setValue("last_dir", str(p if p.is_dir() else p.parent))
