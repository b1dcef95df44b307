"""Finding clips: single files, folders of audio, and DESED-style datasets.

A dataset is a folder ``DIR`` with ``DIR/audio/<split>/*.wav`` and
``DIR/metadata/<split>_weak.tsv`` (``filename<TAB>event_labels``, labels
comma-separated) and optionally ``DIR/metadata/<split>_strong.tsv``
(``filename<TAB>onset<TAB>offset<TAB>event_label``). The engine's reader
(``engine.data.load_dataset``) is used (it also reads DCASE 2017 and AudioSet
layouts); a minimal parser of the DESED TSVs here is the fallback when it is missing.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a", ".opus", ".au")
MODEL_EXTENSIONS = (".safetensors",)


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
    return str(path).lower().endswith(AUDIO_EXTENSIONS)


def is_model(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(MODEL_EXTENSIONS)


def dataset_splits(root: str | os.PathLike) -> list[str]:
    """Splits of a DESED-style dataset (folders under DIR/audio with a DIR/metadata TSV); [] if not one."""
    root = Path(root)
    audio, meta = root / "audio", root / "metadata"
    if not audio.is_dir() or not meta.is_dir():
        return []
    splits = []
    for d in sorted(audio.iterdir()):
        if d.is_dir() and ((meta / f"{d.name}_weak.tsv").exists() or (meta / f"{d.name}_strong.tsv").exists()):
            splits.append(d.name)
    return splits


def default_split(splits: list[str]) -> str | None:
    for s in ("test", "eval", "validation", "valid", "val", "public"):
        if s in splits:
            return s
    return splits[0] if splits else None


def read_tsv(path: str | os.PathLike) -> list[dict]:
    """Rows of a TSV file with a header line, as dicts."""
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if row]


def parse_strong(path: str | os.PathLike) -> dict[str, list[tuple[float, float, str]]]:
    """DCASE strong labels: filename -> [(onset, offset, label)], rows without times skipped."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for row in read_tsv(path):
        name = os.path.basename(row.get("filename", "") or "")
        try:
            onset, offset = float(row["onset"]), float(row["offset"])
        except (KeyError, TypeError, ValueError):
            continue
        label = (row.get("event_label") or "").strip()
        if name and label:
            out.setdefault(name, []).append((onset, offset, label))
    return out


def parse_weak(path: str | os.PathLike) -> dict[str, list[str]]:
    """Weak labels: filename -> [labels] (comma-separated ``event_labels`` column)."""
    out: dict[str, list[str]] = {}
    for row in read_tsv(path):
        name = os.path.basename(row.get("filename", "") or "")
        labels = row.get("event_labels", row.get("event_label", "")) or ""
        if name:
            out[name] = sorted({l.strip() for l in labels.split(",") if l.strip()})
    return out


def open_dataset(root: str | os.PathLike, split: str) -> Collection:
    """The clips of one split with their weak and strong labels."""
    root = Path(root)
    coll = _open_dataset_with_engine(root, split)
    if coll is not None:
        return coll
    meta = root / "metadata"
    weak = parse_weak(meta / f"{split}_weak.tsv") if (meta / f"{split}_weak.tsv").exists() else {}
    strong = parse_strong(meta / f"{split}_strong.tsv") if (meta / f"{split}_strong.tsv").exists() else None
    clips = []
    for p in sorted((root / "audio" / split).iterdir()):
        if p.is_file() and is_audio(p):
            ev = None if strong is None else sorted(strong.get(p.name, []))
            labels = weak.get(p.name)
            if labels is None and ev is not None:
                labels = sorted({e[2] for e in ev})
            clips.append(ClipInfo(str(p.resolve()), labels, ev, f"{root.name}/{split}"))
    return Collection(clips, f"dataset {root.name}, split {split}: {len(clips)} clips")


def _open_dataset_with_engine(root: Path, split: str) -> Collection | None:
    """Read the split with ``engine.data.load_dataset``; None when that reader is not available."""
    try:
        from engine.data import load_dataset
    except Exception:  # noqa: BLE001 - the reader is optional
        return None
    ds = load_dataset(root, split)     # DatasetError propagates: a damaged label file is worth a message
    clips = []
    for item in ds.items:
        events = getattr(item, "events", None)
        ev = None if events is None else sorted((float(a), float(b), str(c)) for a, b, c in events)
        clips.append(ClipInfo(str(Path(item.path).resolve()), sorted(map(str, item.labels)), ev,
                              f"{root.name}/{split}"))
    coll = Collection(clips, f"dataset {root.name}, split {split}: {len(clips)} clips")
    for path, reason in list(getattr(ds, "problems", []))[:20]:
        coll.warnings.append(f"{path}: {reason}")
    return coll


def open_folder(root: str | os.PathLike, recursive: bool = True, limit: int = 20000) -> Collection:
    """Every audio file under ``root`` (sorted), with labels if a dataset layout is found."""
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
    candidates = [p.with_name(p.stem + "_strong.tsv")] + sorted(p.parent.glob("*_strong.tsv"))
    for c in candidates:
        if c.exists():
            try:
                rows = parse_strong(c)
            except Exception:
                continue
            if p.name in rows:
                return sorted(rows[p.name])
    return None
