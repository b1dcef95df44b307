"""What the window's menus do, one module per menu concern (opening, exporting, help)."""
