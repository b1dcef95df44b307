"""A model's detected events as proposals in the annotation store.

``doc.events(slot, clip)`` gives the engine's events of a clip (``engine.analysis.Event``:
onset s, offset s, label, score in [0, 1]); they become :class:`Annotation` records with
status ``proposal``, the score, and the model file's folder and name as ``source``. Proposing again from
the same model replaces its still pending proposals (accepted and rejected ones stay).
"""
from __future__ import annotations

from pathlib import Path

from .store import Annotation


def source_name(model_path: str) -> str:
    """How a model is named in ``Annotation.source``: its folder and file name
    (``realsounds/mmnet-ms.safetensors``, ``run-3/model.safetensors``). The file name alone is
    not enough: every trained run exports ``model.safetensors``, and both bundled sets hold a
    ``mmnet-ms.safetensors``; one model's proposals would replace the other's."""
    p = Path(model_path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def as_proposals(events, source: str, duration: float | None = None) -> list[Annotation]:
    """Engine events (onset, offset, label, score) as proposals of ``source``; times clipped to [0, duration]."""
    out = []
    for e in events:
        onset, offset = max(0.0, float(e.onset)), max(0.0, float(e.offset))
        if duration:
            onset, offset = min(onset, duration), min(offset, duration)
        if offset < onset:
            continue
        out.append(Annotation(onset, offset, str(e.label), status="proposal", source=source,
                              score=float(getattr(e, "score", 1.0))))
    return out


def propose(store, doc, slot: str, clip: str | None = None) -> int | None:
    """Add model ``slot``'s events of ``clip`` (default: the current clip) as proposals.

    Returns how many, or None when the model has not analysed the clip yet (nothing is
    changed; the caller may ask ``doc.request_analysis`` and propose when it arrives).
    LookupError when no model is in that slot or no clip is given.
    """
    clip = clip or (doc.current.path if doc.current else None)
    if not clip:
        raise LookupError("no clip is open")
    entry = doc.model(slot)
    if entry is None:
        raise LookupError(f"no model in slot {slot}")
    if doc.analysis(slot, clip) is None:
        return None
    duration = getattr(doc.current, "duration", None) if doc.current and doc.current.path == clip else None
    return store.add_proposals(clip, as_proposals(doc.events(slot, clip), source_name(entry.path), duration),
                               source_name(entry.path))
