"""Exports: a pane or the whole window as PNG or SVG, an analysis as JSON, events as DCASE TSV."""
from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget


class ExportError(ValueError):
    """An export that cannot be done (bad file name, nothing to export)."""


def _fmt(path) -> str:
    ext = Path(path).suffix.lower()
    if ext not in (".png", ".svg"):
        raise ExportError(f"{path}: choose a .png or .svg file name")
    return ext[1:]


def export_item(item, path: str | os.PathLike, scale: float = 2.0) -> Path:
    """A pyqtgraph item (PlotItem, GraphicsLayout) as PNG (at ``scale`` x its size) or SVG."""
    import pyqtgraph.exporters as pgx

    path = Path(path)
    fmt = _fmt(path)
    if fmt == "svg":
        _scene_svg(item, path)
    else:
        exp = pgx.ImageExporter(item)
        w = int(item.sceneBoundingRect().width() * scale)
        exp.parameters()["width"] = max(w, 16)
        exp.export(str(path))
    if not path.exists():
        raise ExportError(f"{path}: nothing was written")
    return path


def _scene_svg(item, path: Path) -> None:
    """The part of the scene under ``item`` as SVG (vector lines and text, images embedded),
    rendering alike in Qt, rsvg-convert and browsers (``mmgui.svgexport``)."""
    from .svgexport import SvgExportError, item_svg

    try:
        item_svg(item, path)
    except SvgExportError as exc:
        raise ExportError(f"{path}: {exc}") from exc


def export_widget(widget: QWidget, path: str | os.PathLike) -> Path:
    """A widget (the main window, a view) as PNG (``QWidget.grab``) or SVG (the widgets as an image,
    the plots over it as vectors: ``mmgui.svgexport.widget_svg``)."""
    path = Path(path)
    fmt = _fmt(path)
    if fmt == "png":
        pix = widget.grab()
        if pix.isNull() or not pix.save(str(path), "PNG"):
            raise ExportError(f"{path}: could not write the image")
        return path
    from .svgexport import SvgExportError, widget_svg

    try:
        return widget_svg(widget, path, title=widget.windowTitle() or "M&m Studio")
    except SvgExportError as exc:
        raise ExportError(f"{path}: {exc}") from exc


def export_analysis_json(analysis, path: str | os.PathLike, events=None, extra: dict | None = None) -> Path:
    """``Analysis.to_dict()`` (with the events shown) as a JSON file."""
    data = analysis.to_dict(events=events)
    if extra:
        data.update(extra)
    path = Path(path)
    path.write_text(json.dumps(data, indent=1))
    return path


def export_events_tsv(rows, path: str | os.PathLike) -> Path:
    """(filename, Event) pairs as a DCASE TSV file (``engine.analysis.events_to_tsv``)."""
    from engine.analysis import events_to_tsv

    path = Path(path)
    path.write_text(events_to_tsv(rows))
    return path
