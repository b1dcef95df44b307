"""Background jobs of the teaching mode (no Qt): run in ``doc.tasks`` through FunctionTask.

Each job is a plain function of the task (for progress and cancel) and plain arguments, bound
with ``functools.partial`` on the GUI thread, so that nothing it holds is a Qt object.
Models are loaded once into a :class:`PredictorCache` (CPU; a model is used by the compute
pool's single thread only).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LESSON_CLIPS = ROOT / "assets" / "teaching"


class PredictorCache:
    """engine Predictors by model path, loaded on first use (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, object] = {}

    def get(self, path: str):
        import engine

        with self._lock:
            pred = self._items.get(path)
        if pred is None:
            pred = engine.load_model(path, device="cpu")
            with self._lock:
                self._items[path] = pred
        return pred


def read_strong(wav: str | Path) -> list[tuple[float, float, str]]:
    """The reference events (onset s, offset s, label) of ``<stem>_strong.tsv`` beside ``wav``
    ([] when there is none), read with ``engine.labels.dcase``."""
    from engine.labels.dcase import read_strong as read_tsv

    wav = Path(wav)
    tsv = wav.with_name(f"{wav.stem}_strong.tsv")
    if not tsv.is_file():
        return []
    return [(float(e.onset), float(e.offset), e.label) for e in read_tsv(tsv).events
            if e.clip in (None, "", wav.name)]


def lesson_clips() -> list[Path]:
    return sorted(LESSON_CLIPS.glob("*.wav"))


def explain_job(cache: PredictorCache, model_path: str, clip_path: str, labels, start_s: float, task):
    """The :class:`engine.explain.Lesson` of one clip with one model."""
    from engine.explain import explain

    pred = cache.get(model_path)
    task.check()
    return explain(pred, clip_path, labels=labels, start_s=start_s, cancel=lambda: task.is_cancelled)


@dataclass
class Comparison:
    """Two models on one lesson clip: lessons by role ("att", "mmnet"), the reference events,
    and the short event (the shortest reference event) as (onset, offset, label) or None."""

    clip: str
    lessons: dict
    events: list
    short: tuple | None


def compare_job(cache: PredictorCache, att_path: str, mm_path: str, clip_path: str, task) -> Comparison:
    from engine.explain import explain

    events = read_strong(clip_path)
    short = min(events, key=lambda e: e[1] - e[0]) if events else None
    lessons = {}
    for k, (role, path) in enumerate((("att", att_path), ("mmnet", mm_path))):
        pred = cache.get(path)
        known = [e[2] for e in events if e[2] in pred.classes]
        lessons[role] = explain(pred, clip_path, labels=known or None, cancel=lambda: task.is_cancelled)
        task.report((k + 1) / 2)
    return Comparison(clip_path, lessons, events, short)


def history_job(run_dir: str, clip_path: str, labels, task):
    """[(epoch, Lesson)] over the run's snapshots (engine.runs.snapshots)."""
    from engine.explain import learning_history
    from engine.runs import snapshots

    snaps = snapshots(run_dir)
    if not snaps:
        from engine.errors import MMError

        raise MMError(f"{run_dir}: no snapshots (train with --keep-snapshots)")
    return learning_history(snaps, clip_path, labels=labels, progress=task.report,
                            cancel=lambda: task.is_cancelled)
