"""The evaluation's background job: plain data in (reference events, analyses), plain data out.

Run by :class:`mmgui.workers.FunctionTask` on the document's "compute" pool; holds no Qt object.
"""
from __future__ import annotations


def gather(doc, paths: list[str]) -> dict:
    """What the job needs for the clips ``paths``, read on the GUI thread.

    Returns ``{"reference": [(clip path, onset s, offset s, label)], "models": {slot: {clip path:
    Analysis}}, "names": {slot: model name}, "sources": {clip path: source}, "missing": [(clip path,
    model path)] (analyses not there yet), "no_reference": n}``. A clip is evaluated only when every
    model in the slots (A, B) has analyzed it, so that both are measured on the same clips.
    """
    from .reference import clip_reference

    slots = [s for s in ("A", "B") if doc.slots.get(s) and doc.model(s) is not None and not doc.model(s).error]
    out = {"reference": [], "models": {s: {} for s in slots}, "names": {s: doc.model(s).name for s in slots},
           "sources": {}, "missing": [], "no_reference": 0}
    for path in paths:
        clip = doc.clip(path)
        ref, source = clip_reference(doc, clip)
        if ref is None:
            out["no_reference"] += 1
            continue
        have = {s: doc.analysis(s, path) for s in slots}
        lacking = [doc.slots[s] for s, a in have.items() if a is None]
        if lacking:
            out["missing"] += [(path, m) for m in lacking if doc.analysis_error(m, path) is None]
            continue
        out["sources"][path] = source
        out["reference"] += [(path, on, off, label) for on, off, label in ref]
        for s, a in have.items():
            out["models"][s][path] = a
    return out


def evaluate_job(task, reference: list, models: dict, event_options: dict) -> dict:
    """:func:`engine.annotation_eval.evaluate_annotations` of ``models`` ({slot: {clip: Analysis}})
    against ``reference``, with PSDS1/PSDS2 per model; a PSDS that cannot be computed leaves its
    value None and says why in the model's ``psds_error`` (the other metrics stay)."""
    from engine.annotation_eval import evaluate_annotations
    from engine.psds import psds_of_analyses

    task.check()
    out = evaluate_annotations(reference, models, event_options=event_options, psds=False)
    for slot, report in out["models"].items():
        task.check()
        report["psds_error"] = None
        analyses = models[slot]
        if not next(iter(analyses.values())).has_segment_level:
            report["psds_error"] = "no segment scores"
            continue
        try:
            ps = psds_of_analyses(analyses, [(c, on, off, lab) for c, on, off, lab in reference])
        except (ValueError, KeyError, IndexError) as exc:   # sed_scores_eval on a degenerate case
            report["psds_error"] = str(exc) or type(exc).__name__
            continue
        report["overall"]["psds1"], report["overall"]["psds2"] = ps["psds1"], ps["psds2"]
        for c, v in ps["per_class"].items():
            if c in report["per_class"]:
                report["per_class"][c].update(v)
    return out
