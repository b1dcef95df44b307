"""Batch analysis of a folder: one model (or two, A and B) over every audio file, recursively.

``iter_batch(folder, predictor_a, predictor_b)`` yields one :class:`BatchItem` per clip, in
file order: a table row (clip, duration, top classes with probabilities, number of events and
of short events, worst A/B disagreement) and the events of each model. Progress is reported
through ``progress(done, total, clip)``; ``cancel()`` is polled between clips and inside long
files, and True stops with :class:`engine.errors.Cancelled`. A file that cannot be read gives
a row with ``error`` set; the batch goes on.

Speed: clips no longer than one analysis window (the training clip length, 10 s) with the
same number of samples are analysed ``batch_size`` at a time: one log-mel call and one
forward pass for the group (decoding of the next group runs in a thread meanwhile). The
result is the same as ``Predictor.analyze`` clip by clip (tests/test_batch.py checks it);
other clips go through ``Predictor.analyze``. ``timings`` (seconds per stage: decode,
features, model, events) is filled when given a dict.

Exports: :func:`write_table_csv` (the rows) and :func:`write_events_tsv` (every event of
one model as one DCASE strong TSV, clip names relative to the folder).
"""
from __future__ import annotations

import csv
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .audio import audio_files  # noqa: F401  (re-exported: engine.batch.audio_files)
from .errors import AudioError, Cancelled

SHORT_EVENT_S = 0.5


@dataclass
class Disagreement:
    """Where A and B differ most: |p_A - p_B| (in [0, 1]) for ``label`` at ``time`` s (None: clip level)."""

    value: float
    label: str
    time: float | None


@dataclass
class BatchRow:
    """One clip of a batch: ``clip`` relative to the folder, ``duration`` s, ``top_a``/``top_b``
    [(class, probability)] best first, event counts (short: shorter than ``short_s``)."""

    clip: str
    path: str
    duration: float = 0.0
    top_a: list = field(default_factory=list)
    top_b: list | None = None
    events_a: int = 0
    short_a: int = 0
    events_b: int | None = None
    short_b: int | None = None
    disagreement: Disagreement | None = None
    error: str | None = None


@dataclass
class BatchItem:
    row: BatchRow
    events_a: list                 # engine.analysis.Event
    events_b: list | None = None
    analysis_a: object | None = None   # kept only with keep_analyses=True
    analysis_b: object | None = None


def worst_disagreement(a, b) -> Disagreement | None:
    """The largest |p_A - p_B| over shared classes: segment level (B read at A's segment times)
    when both have one, else clip level. None when the models share no class."""
    shared = [c for c in a.classes if c in b.classes]
    if not shared:
        return None
    ia = [a.classes.index(c) for c in shared]
    ib = [b.classes.index(c) for c in shared]
    if a.has_segment_level and b.has_segment_level:
        sa, sb = a.scale(), b.scale()
        if len(sa.times) and len(sb.times):
            idx = np.clip(np.searchsorted(sb.times, sa.times, side="right") - 1, 0, len(sb.times) - 1)
            diff = np.abs(sa.segment_probs[:, ia] - sb.segment_probs[idx][:, ib])
            t, k = np.unravel_index(int(np.argmax(diff)), diff.shape)
            return Disagreement(round(float(diff[t, k]), 4), shared[k], round(float(sa.times[t]), 4))
    diff = np.abs(np.asarray(a.clip_probs)[ia] - np.asarray(b.clip_probs)[ib])
    k = int(np.argmax(diff))
    return Disagreement(round(float(diff[k]), 4), shared[k], None)


def _top(analysis, k: int) -> list:
    p = np.asarray(analysis.clip_probs)
    order = np.argsort(-p, kind="stable")[:k]
    return [(analysis.classes[i], round(float(p[i]), 4)) for i in order]


class _Timer:
    def __init__(self, timings: dict | None):
        self.t = timings

    def add(self, key: str, seconds: float) -> None:
        if self.t is not None:
            self.t[key] = self.t.get(key, 0.0) + seconds


def _decode(path: Path, sr: int):
    from .audio import load_audio

    t0 = time.perf_counter()
    try:
        clip = load_audio(path, sr)
        return clip.samples, None, time.perf_counter() - t0
    except AudioError as exc:
        return None, str(exc), time.perf_counter() - t0


def _analyze_group(predictor, samples: list[np.ndarray], paths: list[Path], ensemble, timer: _Timer) -> list:
    """Analyses of equal-length clips that fit one window, in one log-mel call and one forward pass."""
    import torch

    from .features import log_mel_batch
    from .stream import Window

    cfg = predictor.feature_config
    t0 = time.perf_counter()
    x = torch.from_numpy(np.stack(samples)).to(predictor.device)
    feats, frames = log_mel_batch(x, cfg)
    t1 = time.perf_counter()
    out = predictor.forward_features(feats, ensemble)
    n_frames = int(frames[0])
    w = Window(0, n_frames, 0, n_frames)
    analyses = [predictor._merge([predictor._extract(w, out, j)], len(s) / cfg.sr, str(p), None)
                for j, (s, p) in enumerate(zip(samples, paths))]
    t2 = time.perf_counter()
    timer.add("features", t1 - t0)
    timer.add("model", t2 - t1)
    return analyses


def iter_batch(folder: str | os.PathLike, predictor_a, predictor_b=None, *, files: Sequence[Path] | None = None,
               event_options: dict | None = None, top_k: int = 3, short_s: float = SHORT_EVENT_S,
               batch_size: int = 8, ensemble: bool | None = None, keep_analyses: bool = False,
               progress: Callable[[int, int, str], None] | None = None,
               cancel: Callable[[], bool] | None = None, timings: dict | None = None) -> Iterator[BatchItem]:
    """Analyse every audio file under ``folder`` with model A (and B); yields a BatchItem per clip.

    event_options: keyword arguments of ``Analysis.events`` (thresholds, scale, median_s, ...),
    the same for both models. Raises Cancelled when ``cancel()`` returns True.
    """
    root = Path(folder)
    paths = list(files) if files is not None else audio_files(root)
    base = root if root.is_dir() else root.parent
    event_options = dict(event_options or {})
    models = [predictor_a] + ([predictor_b] if predictor_b is not None else [])
    cfg = predictor_a.feature_config
    if predictor_b is not None and predictor_b.feature_config.sr != cfg.sr:
        batch_size = 1  # the models decode at different rates: clip by clip
    # the longest clip (in samples) that Predictor.analyze takes in a single pass for both models:
    # fewer than window + margin frames (1 + n // hop frames for n samples)
    max_samples = min((m.window_frames + m.margin_frames - 1) * m.feature_config.hop_length - 1 for m in models)
    timer = _Timer(timings)
    total = len(paths)
    done = 0

    def check_cancel():
        if cancel is not None and cancel():
            raise Cancelled("batch analysis cancelled")

    groups = [paths[i:i + max(1, batch_size)] for i in range(0, total, max(1, batch_size))]
    with ThreadPoolExecutor(max_workers=1) as pool:
        submit = lambda g: [pool.submit(_decode, p, cfg.sr) for p in g]  # noqa: E731
        pending = submit(groups[0]) if groups else []
        for gi, group in enumerate(groups):
            check_cancel()
            decoded = [f.result() for f in pending]
            pending = submit(groups[gi + 1]) if gi + 1 < len(groups) else []
            for _, _, dt in decoded:
                timer.add("decode", dt)
            # equal-length clips that fit one window go together; the rest one by one
            by_len: dict[int, list[int]] = {}
            for i, (s, err, _) in enumerate(decoded):
                if s is not None and len(s) <= max_samples and batch_size > 1:
                    by_len.setdefault(len(s), []).append(i)
            results: dict[int, list] = {}
            for idx in by_len.values():
                for m_i, m in enumerate(models):
                    analyses = _analyze_group(m, [decoded[i][0] for i in idx], [group[i] for i in idx],
                                              ensemble, timer)
                    for i, a in zip(idx, analyses):
                        results.setdefault(i, [None] * len(models))[m_i] = a
            for i, path in enumerate(group):
                check_cancel()
                clip = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
                samples, err, _ = decoded[i]
                analyses = results.get(i)
                if analyses is None and err is None:
                    try:
                        analyses = []
                        for m in models:
                            t0 = time.perf_counter()
                            analyses.append(m.analyze(path, ensemble=ensemble, cancel=cancel))
                            timer.add("model", time.perf_counter() - t0)  # features included here
                    except AudioError as exc:
                        err = str(exc)
                if err is not None:
                    item = BatchItem(BatchRow(clip, str(path), error=err), [])
                else:
                    item = _item(clip, path, analyses, event_options, top_k, short_s, keep_analyses, timer)
                done += 1
                if progress is not None:
                    progress(done, total, clip)
                yield item


def _item(clip, path, analyses, event_options, top_k, short_s, keep, timer) -> BatchItem:
    t0 = time.perf_counter()
    a = analyses[0]
    b = analyses[1] if len(analyses) > 1 else None
    ev_a = a.events(**event_options)
    row = BatchRow(clip, str(path), round(a.duration, 4), _top(a, top_k), events_a=len(ev_a),
                   short_a=sum(1 for e in ev_a if e.offset - e.onset < short_s))
    ev_b = None
    if b is not None:
        ev_b = b.events(**event_options)
        row.top_b = _top(b, top_k)
        row.events_b = len(ev_b)
        row.short_b = sum(1 for e in ev_b if e.offset - e.onset < short_s)
        row.disagreement = worst_disagreement(a, b)
    timer.add("events", time.perf_counter() - t0)
    return BatchItem(row, ev_a, ev_b, a if keep else None, b if keep else None)


def run_batch(folder, predictor_a, predictor_b=None, **kwargs) -> list[BatchItem]:
    """:func:`iter_batch` collected into a list."""
    return list(iter_batch(folder, predictor_a, predictor_b, **kwargs))


# ------------------------------------------------------------------------------------ exports
TABLE_COLUMNS = ["clip", "duration_s", "error", "top_a", "events_a", "short_events_a", "top_b", "events_b",
                 "short_events_b", "disagreement", "disagreement_label", "disagreement_time_s"]


def _top_text(top) -> str:
    return "" if not top else "; ".join(f"{c} {p:.3f}" for c, p in top)


def table_rows(rows: Iterable[BatchRow]) -> list[dict]:
    """The table as plain dicts (the CSV's columns)."""
    out = []
    for r in rows:
        d = r.disagreement
        out.append({"clip": r.clip, "duration_s": r.duration, "error": r.error or "", "top_a": _top_text(r.top_a),
                    "events_a": r.events_a, "short_events_a": r.short_a, "top_b": _top_text(r.top_b),
                    "events_b": "" if r.events_b is None else r.events_b,
                    "short_events_b": "" if r.short_b is None else r.short_b,
                    "disagreement": "" if d is None else d.value, "disagreement_label": "" if d is None else d.label,
                    "disagreement_time_s": "" if d is None or d.time is None else d.time})
    return out


def write_table_csv(path: str | os.PathLike, rows: Iterable[BatchRow]) -> None:
    """The results table as CSV (one row per clip; top classes as ``class prob; class prob``)."""
    from .labels.common import write_text

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(table_rows(rows))
    write_text(path, buf.getvalue())


def write_events_tsv(path: str | os.PathLike, items: Iterable[BatchItem], which: str = "a") -> None:
    """Every event of model ``which`` ("a" or "b") as one DCASE strong TSV; clips without
    events are listed with empty fields so the file names every clip analysed."""
    from .labels import Event as LabelEvent
    from .labels.dcase import write_strong

    events, empty = [], []
    for it in items:
        if it.row.error:
            continue
        evs = it.events_a if which == "a" else (it.events_b or [])
        if not evs:
            empty.append(it.row.clip)
        events += [LabelEvent(e.onset, e.offset, e.label, score=e.score, clip=it.row.clip) for e in evs]
    write_strong(path, events, empty=empty)
