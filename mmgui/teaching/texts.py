"""The lesson's text: Markdown files in assets/teaching/, filled with the clip's own numbers.

A text names values in braces (``{n_segments}``); :func:`step_values` computes them from an
:class:`engine.explain.Lesson`. Unknown names stay visible as ``{name}``, so a typo in a
text file shows instead of failing. No Qt here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "teaching"

# (key, file stem, title) of the lesson's steps, in order
STEPS = [
    ("segments", "01-segments", "1 · Segments"),
    ("macro", "02-macro", "2 · Macro prediction"),
    ("micro", "03-micro", "3 · d_t and a_t"),
    ("eq7", "04-eq7", "4 · Eq. 7 weights"),
    ("ensemble", "05-ensemble", "5 · Ensemble (eq. 9)"),
    ("pooling", "06-pooling", "6 · Attention pooling"),
]
POOLING_NAMES = {"softmax": "softmax over time of a_t", "zscore": "softmax of a_t standardized over time",
                 "unit": "a_t divided by its sum"}


class _Keep(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def read_text(stem: str, folder: Path | None = None) -> str:
    """The raw Markdown of ``<stem>.md`` (a clear note instead when the file is missing)."""
    path = (folder or ASSETS) / f"{stem}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"*(lesson text {path} cannot be read: {exc.strerror or exc})*"


def fill(stem: str, values: dict, folder: Path | None = None) -> str:
    return read_text(stem, folder).format_map(_Keep(values))


def _f(x, digits: int = 3) -> str:
    return "—" if x is None else f"{float(x):.{digits}f}"


def variant_note(options: dict) -> str:
    """How this model's eq. 7 departs from the paper's plain form (ModelConfig option names)."""
    notes = []
    if options.get("attention_scale") == "unit":
        notes.append("this model divides a_t by m, so the weights sum to 1 over the clip")
    if options.get("micro_negatives") == "uniform":
        notes.append("authors' code: W = 1 on the clip's negative classes")
    if options.get("detach_attention"):
        notes.append("a_t detached: the micro loss sends f_att no gradient")
    return "; " + "; ".join(notes) if notes else ""


def step_values(lesson, scale: int, label: int, mu: float, model_name: str = "") -> dict:
    """Every value the texts name, for scale index ``scale``, class index ``label`` and eq. 9's ``mu``."""
    sc = lesson.scales[scale] if lesson.scales else None
    name = lesson.classes[label]
    v = {
        "model": model_name or lesson.method, "duration": f"{lesson.duration:.2f}",
        "frames": lesson.log_mel.shape[1], "frame_ms": f"{lesson.frame_hop_s * 1000:.2f}",
        "channels": lesson.feature_map.shape[0], "n_scales": len(lesson.scales), "label": name,
        "labels": ", ".join(c for c, y in zip(lesson.classes, lesson.labels) if y) or "none",
        "label_state": "present" if lesson.labels[label] else "absent",
        "macro_loss": _f(lesson.macro_loss), "micro_loss": _f(lesson.micro_loss),
        "total_loss": _f(lesson.total_loss), "lambda_": f"{lesson.micro_weight:g}",
        "mu": f"{mu:.2f}", "pooling": "", "n_ens_scales": len(lesson.ensemble_scales),
    }
    if lesson.label_source == "predicted":
        v["labels"] += " (none known: the model's own tags stand in for them)"
    if sc is not None:
        v.update(scale=sc.name, n_segments=sc.n_segments, hop_s=f"{sc.hop_s:.4f}",
                 micro_loss_scale=_f(sc.micro_loss))
        rows = ["| scale | segments | seconds each | channels |", "|---|---|---|---|"]
        rows += [f"| {s.name} | {s.n_segments} | {s.hop_s:.4f} | {s.channels} |" for s in lesson.scales]
        v["scale_table"] = "\n".join(rows)
        if sc.attention is not None:
            t = int(np.argmax(sc.attention))
            c = int(np.argmax(sc.segment_probs[t]))
            v.update(att_peak_t=f"{sc.times[t]:.2f}", att_peak_class=lesson.classes[c],
                     att_peak_p=_f(sc.segment_probs[t, c], 2))
        a = sc.alpha_for(label)
        if a is not None:
            v["top_share"] = f"{np.sort(a)[::-1][:5].sum() / max(a.sum(), 1e-12):.0%}"
            v["pooled_c"] = _f(sc.pooled[label])
    else:
        v.update(scale="—", n_segments=lesson.feature_map.shape[1], hop_s="—", scale_table="(no segment level)")
    if lesson.macro is not None:
        v["macro_line"] = (f"Here the macro subnet gives **{name}** {_f(lesson.macro[label])} "
                           f"(threshold {_f(lesson.thresholds[label])}).")
    else:
        v["macro_line"] = (f"**{lesson.method} has no macro subnet**: its clip answer is the attention "
                           f"pooling of its segments (step 6); for **{name}** it is {_f(lesson.clip_probs[label])}.")
    if lesson.ensemble_grid is not None:
        v.update(pooling=POOLING_NAMES.get(lesson.extra.get("ensemble_pooling", "softmax"), "softmax"),
                 macro_c=_f(lesson.macro[label]), att_c=_f(lesson.y_att[label]),
                 ens_c=_f(lesson.ensemble_at(mu)[label]))
    v["variant_note"] = variant_note(lesson.extra)
    if lesson.kind == "mmnet":
        v["pooling_text"] = ("M&mnet's clip answer is the macro prediction; the pooled segments Σ_t α_t d_t "
                             "only enter through the ensemble (step 5). The curve is α_t of the chosen scale, "
                             "the bars α_t · d_t, whose sum is ŷ_att of that scale.")
    elif lesson.kind == "att-class":
        v["pooling_text"] = ("ResNet-ATT (Xu et al.) has no macro path: each class c has its own attention "
                             "α_t,c (softmax over time), and the clip probability is Σ_t α_t,c · d_t,c. Its "
                             "attention learns only from the clip loss.")
    else:
        v["pooling_text"] = ("ResNet-ATT (one shared score) has no macro path: one attention α_t (softmax over "
                             "time) pools every class's d_t: ŷ_c = Σ_t α_t · d_t,c.")
    return v
