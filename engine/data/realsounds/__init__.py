"""Real recorded sounds from Debian data packages as a DESED-style dataset (``mmnet realsounds``).

Modules: :mod:`.sources` (pinned packages, which file is which class), :mod:`.debs` (fetch and
read ``.deb`` files, Qt ``.rcc`` containers via :mod:`.rcc`), :mod:`.screen` (decode, trim,
screen, find cuts of one original), :mod:`.mixer` (10-s mixtures) and :mod:`.build` (the recipe,
``build_dataset``).
"""
from .build import RECIPE_VERSION
from .build import build as build_dataset

__all__ = ["RECIPE_VERSION", "build_dataset"]
