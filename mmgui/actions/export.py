"""Export actions: the window or a pane as PNG/SVG, model A's analysis as JSON, its events as
DCASE TSV (the file formats live in :mod:`mmgui.exporting`)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from .. import exporting


class Exporter(QObject):
    """Exports from the window; ``panes`` maps a pane's name to a callable giving its pyqtgraph item."""

    def __init__(self, window, opener):
        super().__init__(window)
        self.window = window
        self.doc = window.doc
        self.opener = opener          # for the last folder used
        self.panes: dict[str, object] = {}

    def add_pane(self, name: str, item_of) -> None:
        self.panes[name] = item_of

    def pane_names(self) -> list[str]:
        return list(self.panes)

    def export_pane(self, name: str, path: str) -> Path:
        return exporting.export_item(self.panes[name](), path)

    def export_window(self, path: str) -> Path:
        return exporting.export_widget(self.window, path)

    def export_json(self, path: str) -> Path:
        a = self.doc.analysis("A")
        if a is None:
            raise exporting.ExportError("no analysis to export: open a clip and choose model A")
        entry = self.doc.model("A")
        extra = {"model": {"path": entry.path, "name": entry.name},
                 "event_settings": {"median_s": self.doc.median_s, "min_duration_s": self.doc.min_duration_s}}
        return exporting.export_analysis_json(a, path, events=self.doc.events("A"), extra=extra)

    def export_tsv(self, path: str, all_clips: bool = True) -> Path:
        """Model A's events of every analyzed clip (or the current one) as one DCASE TSV."""
        model = self.doc.slots.get("A")
        if not model:
            raise exporting.ExportError("no model A")
        clips = [c for c in (self.doc.clips if all_clips else [self.doc.current])
                 if c is not None and (c.path, model) in self.doc.analyses]
        if not clips:
            raise exporting.ExportError("no analyzed clip to export")
        rows = [(c.name, e) for c in clips for e in self.doc.events(model, c.path)]
        return exporting.export_events_tsv(rows, path)

    # ------------------------------------------------------------------ dialogs
    def _save_dialog(self, title: str, suffix: str, filt: str) -> str | None:
        stem = Path(self.doc.current.path).stem if self.doc.current else "mmstudio"
        f, _ = QFileDialog.getSaveFileName(self.window, title, str(Path(self.opener.last_dir()) / f"{stem}{suffix}"),
                                           filt)
        if f:
            self.opener.set_last_dir(f)
        return f or None

    def _run(self, fn, *args) -> None:
        try:
            self.window.show_message(f"Saved {fn(*args)}", "info")
        except Exception as exc:  # noqa: BLE001 - a failed export is a message, never a crash
            self.window.show_message(f"Export failed: {exc}", "error")

    def window_dialog(self, fmt: str) -> None:
        f = self._save_dialog("Export the window", f".{fmt}", f"{fmt.upper()} (*.{fmt})")
        if f:
            self._run(self.export_window, f)

    def pane_dialog(self, name: str) -> None:
        f = self._save_dialog(f"Export {name}", "_" + name.lower().replace(" ", "-") + ".png",
                              "PNG (*.png);;SVG (*.svg)")
        if f:
            self._run(self.export_pane, name, f)

    def json_dialog(self) -> None:
        f = self._save_dialog("Export the analysis", ".json", "JSON (*.json)")
        if f:
            self._run(self.export_json, f)

    def tsv_dialog(self) -> None:
        f = self._save_dialog("Export the events (DCASE TSV)", "_events.tsv", "TSV (*.tsv)")
        if f:
            self._run(self.export_tsv, f)
