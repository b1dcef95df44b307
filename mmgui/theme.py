"""Colours and the application palette (a dark theme suited to spectrograms)."""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

BACKGROUND = "#1b1d21"
PANE_BACKGROUND = "#121316"
FOREGROUND = "#c8ccd4"
GRID = "#3a3f47"
PLAYHEAD = "#ffd166"
LOOP = (120, 170, 255, 45)
REFERENCE = "#e6e6e6"
SLOT_COLOURS = {"A": "#ff9f43", "B": "#4cc9f0"}
# curves for selected classes (colour-blind friendly, Okabe-Ito order)
CLASS_COLOURS = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#ffffff"]
SCALE_COLOURS = ["#8ecae6", "#219ebc", "#ffb703", "#fb8500", "#e63946", "#90be6d", "#b5179e"]
SPECTROGRAM_CMAP = "inferno"
HEATMAP_CMAP = "viridis"
LEFT_AXIS_WIDTH = 92


def apply_palette(app) -> None:
    """Fusion style with a dark palette, so the panes and the widgets around them match."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor("#202227"), QColor(BACKGROUND), QColor(FOREGROUND)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, QColor("#26292f"))
    p.setColor(QPalette.ToolTipBase, QColor("#2b2e35"))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor("#2a2d33"))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor("#ff5555"))
    p.setColor(QPalette.Highlight, QColor("#3d6fb4"))
    p.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.Link, QColor("#6ea8fe"))
    p.setColor(QPalette.PlaceholderText, QColor("#7a808a"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor("#6b7079"))
    app.setPalette(p)
    app.setStyleSheet(
        "QToolTip { border: 1px solid #555; }"
        "QDockWidget::title { padding: 4px; background: #25282e; }"
        "QStatusBar QLabel { padding: 0 4px; }"
        "QTabBar::tab { padding: 5px 14px; }"
    )


def configure_pyqtgraph() -> None:
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background=PANE_BACKGROUND,
                        foreground=FOREGROUND)
