"""M&m Studio's headless engine: audio -> features -> models -> analysis.

Never imports Qt. The CLI (``mmnet``), the tests and the GUI use the same API.
"""
from __future__ import annotations

__version__ = "0.1.0"


def load_model(path, device: str | None = None):
    """Load a model file and return a :class:`engine.infer.Predictor`."""
    from .infer import Predictor

    return Predictor.load(path, device=device)


__all__ = ["load_model", "__version__"]
