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
    """Render the part of the scene under ``item`` into an SVG file (vector lines and text, images embedded).

    (pyqtgraph's SVGExporter post-processes Qt's SVG text and breaks on the path
    syntax of recent Qt versions; rendering the scene through QSvgGenerator does not.)
    """
    from PySide6.QtSvg import QSvgGenerator

    scene = item.scene()
    src = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(int(src.width()), int(src.height())))
    gen.setViewBox(QRectF(0, 0, src.width(), src.height()))
    gen.setTitle("M&m Studio")
    painter = QPainter()
    if not painter.begin(gen):
        raise ExportError(f"{path}: could not write the SVG")
    try:
        scene.render(painter, QRectF(0, 0, src.width(), src.height()), src)
    finally:
        painter.end()


def export_widget(widget: QWidget, path: str | os.PathLike) -> Path:
    """A widget (the main window, a view) as PNG (``QWidget.grab``) or SVG (``QSvgGenerator``)."""
    path = Path(path)
    fmt = _fmt(path)
    if fmt == "png":
        pix = widget.grab()
        if pix.isNull() or not pix.save(str(path), "PNG"):
            raise ExportError(f"{path}: could not write the image")
        return path
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(str(path))
    size = widget.size()
    gen.setSize(QSize(size.width(), size.height()))
    gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
    gen.setTitle(widget.windowTitle() or "M&m Studio")
    gen.setDescription("M&m Studio export")
    painter = QPainter()
    if not painter.begin(gen):
        raise ExportError(f"{path}: could not write the SVG")
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    return path


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
