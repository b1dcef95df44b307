"""Text helpers shared by the format modules: lines with numbers, atomic writes, problems."""
from __future__ import annotations

import os
from typing import Iterable

from ..data.formats import _lines, _write_text  # the same reading and atomic writing as the DESED readers
from .record import Problem

__all__ = ["lines", "write_text", "Problems"]


def lines(path: str | os.PathLike) -> Iterable[tuple[int, str]]:
    """(1-based line number, text without line ending) for every non-blank line; DatasetError
    when the file is missing, a folder or not UTF-8."""
    return _lines(path)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically (temporary file in the same folder, then rename)."""
    _write_text(path, text)


class Problems(list):
    """The bad lines of one import, as :class:`Problem` records."""

    def __init__(self, path):
        super().__init__()
        self.path = str(path)

    def add(self, line: int, reason: str) -> None:
        self.append(Problem(line, reason, self.path))
