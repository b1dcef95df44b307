"""Finding clips: single files, folders of audio, and datasets.

Datasets are read by the engine (``engine.data``: DESED-style folders, DCASE 2017 Task 4
and AudioSet layouts, with their format detection and readers); this module only turns
what it reads into the workspace's :class:`ClipInfo` list. One list of audio suffixes:
``engine.data.formats.AUDIO_SUFFIXES``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.data import DatasetError, dataset_splits, load_dataset, read_strong_tsv
from engine.data.formats import AUDIO_SUFFIXES

MODEL_SUFFIXES = (".safetensors",)
PREFERRED_SPLITS = ("test", "eval", "evaluation", "validation", "public")

__all__ = ["AUDIO_SUFFIXES", "ClipInfo", "Collection", "dataset_splits", "default_split", "is_audio",
           "is_model", "open_dataset", "open_folder", "strong_for_file"]


@dataclass
class ClipInfo:
    """One clip of the workspace: its file and what is known about it beforehand."""

    path: str
    weak: list[str] | None = None                         # clip-level labels, when known
    strong: list[tuple[float, float, str]] | None = None  # (onset s, offset s, label), when known
    source: str = ""                                      # dataset/split or folder it came from

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass
class Collection:
    """What opening a path gives: clips, and a description for the status bar."""

    clips: list[ClipInfo] = field(default_factory=list)
    title: str = ""
    warnings: list[str] = field(default_factory=list)


def is_audio(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(AUDIO_SUFFIXES)


def is_model(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(MODEL_SUFFIXES)


def default_split(splits: list[str]) -> str | None:
    """The split shown first: a test/evaluation split where there is one (they have strong labels)."""
    return next((s for s in PREFERRED_SPLITS if s in splits), splits[0] if splits else None)


def open_dataset(root: str | os.PathLike, split: str) -> Collection:
    """The clips of one split with their weak and strong labels (DatasetError for a damaged label file)."""
    root = Path(root)
    ds = load_dataset(root, split)
    clips = [ClipInfo(str(Path(item.path).resolve()), sorted(map(str, item.labels)),
                      None if item.events is None else sorted((float(a), float(b), str(c)) for a, b, c in item.events),
                      f"{root.name}/{split}")
             for item in ds.items]
    coll = Collection(clips, f"{ds.format} dataset {root.name}, split {split}: {len(clips)} clips")
    coll.warnings += [f"{path}: {reason}" for path, reason in list(ds.problems)[:20]]
    if len(ds.problems) > 20:
        coll.warnings.append(f"... and {len(ds.problems) - 20} more files left out")
    return coll


def open_folder(root: str | os.PathLike, recursive: bool = True, limit: int = 20000) -> Collection:
    """A dataset's default split when ``root`` is one; else every audio file under it (sorted)."""
    root = Path(root)
    splits = dataset_splits(root)
    if splits:
        return open_dataset(root, default_split(splits))
    paths = sorted(root.rglob("*") if recursive else root.iterdir())
    clips = [ClipInfo(str(p.resolve()), source=root.name) for p in paths if p.is_file() and is_audio(p)]
    coll = Collection(clips[:limit], f"folder {root}: {len(clips)} audio files")
    if len(clips) > limit:
        coll.warnings.append(f"only the first {limit} of {len(clips)} files are listed")
    return coll


def strong_for_file(audio_path: str | os.PathLike) -> list[tuple[float, float, str]] | None:
    """Ground truth for a lone file: ``<stem>_strong.tsv`` or ``<dir>/*_strong.tsv`` naming it."""
    p = Path(audio_path)
    for c in [p.with_name(p.stem + "_strong.tsv")] + sorted(p.parent.glob("*_strong.tsv")):
        if not c.exists():
            continue
        try:
            rows = [(a, b, label) for name, a, b, label in read_strong_tsv(c) if os.path.basename(name) == p.name]
        except (DatasetError, OSError, UnicodeDecodeError):
            continue
        if rows:
            return sorted(rows)
    return None
