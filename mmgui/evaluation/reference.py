"""What a clip's model events are compared with, and which of them are errors.

The reference of a clip is its annotations (``doc.annotations``: the manual and accepted
events, not pending or rejected proposals) when it has any, else the dataset's strong labels
(``Clip.strong``; an empty list is a clip known to hold no event), else nothing (None).
Events are ``(onset s, offset s, label)``. Only annotations already read in this session count
here (:func:`load_annotations` reads the saved ones of given clips).
"""
from __future__ import annotations

from engine.annotation_eval import clip_event_flags

SOURCE_ANNOTATIONS, SOURCE_DATASET = "annotations", "dataset labels"


def clip_reference(doc, clip) -> tuple[list[tuple[float, float, str]] | None, str]:
    """(reference events of ``clip``, where they come from: "annotations", "dataset labels" or "")."""
    if clip is None:
        return None, ""
    store = getattr(doc, "annotations", None)
    if store is not None:
        labels = [(a.onset, a.offset, a.label) for a in store.events(clip.path) if a.is_label]
        if labels:
            return labels, SOURCE_ANNOTATIONS
    if clip.strong is not None:
        return [(float(on), float(off), str(lab)) for on, off, lab in clip.strong], SOURCE_DATASET
    return None, ""


def load_annotations(doc, paths) -> None:
    """Read the saved annotations of ``paths`` not read yet (small files, on the calling thread)."""
    store = getattr(doc, "annotations", None)
    if store is not None:
        for p in paths:
            store.ensure_loaded(p)


def model_errors(doc, slot: str, clip) -> dict | None:
    """:func:`engine.annotation_eval.clip_event_flags` of ``slot``'s events on ``clip`` against its
    reference (with ``reference`` and ``estimated`` added: the event lists the flags follow), or
    None while the clip has no reference or the slot's model has not analyzed it."""
    ref, _ = clip_reference(doc, clip)
    model = doc.slots.get(slot) if clip is not None else None
    if ref is None or not model or doc.analysis(model, clip.path) is None:
        return None
    est = [tuple(e) for e in doc.events(model, clip.path)]
    flags = clip_event_flags(ref, est)
    flags.update(reference=ref, estimated=est)
    return flags
