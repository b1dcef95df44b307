"""The Help menu: mouse and keyboard reference, and About."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

HELP_TEXT = (
    "Mouse: wheel zooms time around the pointer (and frequency over the spectrogram); "
    "drag pans; click seeks; drag the yellow playhead; Shift+drag selects a loop region; "
    "right-click for the pane menu (export, axes).\n\n"
    "Keyboard: Space play/pause, Shift+Space stop, L loop, +/- zoom, 0 whole clip, "
    "Left/Right pan, PgUp/PgDown previous/next clip, Ctrl+1/Ctrl+2/... show a tab, "
    "Esc cancel background work, Ctrl+E export the window.")


def show_help(parent) -> None:
    QMessageBox.information(parent, "Mouse and keyboard", HELP_TEXT)


def show_about(parent) -> None:
    import engine

    QMessageBox.about(parent, "About M&m Studio", (
        f"<b>M&amp;m Studio</b> {engine.__version__}<br>Sound event recognition and localization with "
        "M&amp;mnet (Chou, Jang &amp; Yang, IJCAI 2018) and the paper's baselines."))
