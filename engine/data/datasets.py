"""Datasets: a class list and labelled clips, read from the layouts the field uses.

A :class:`Dataset` holds ``classes`` (list of names, the column order of
:meth:`Dataset.labels_matrix`), ``items`` (:class:`Item`: audio path, clip labels, strong
events or None when the split has none) and ``problems``: (path, reason) for every listed
clip whose audio is missing or unreadable. Those clips are left out of ``items``; loading
never stops for them. A label outside the class list, or a malformed line, raises
:class:`DatasetError` naming the file and the line.

Layouts (:func:`load_dataset` detects them; ``format=`` forces one):

``desed`` (a folder with ``metadata/``)::

    DIR/audio/<split>/*.wav
    DIR/metadata/<split>_weak.tsv     filename<TAB>event_labels (comma-separated; empty = none)
    DIR/metadata/<split>_strong.tsv   filename<TAB>onset<TAB>offset<TAB>event_label (optional)
    DIR/metadata/<split>.tsv          either of the two, told apart by its header (optional)
    DIR/metadata/classes.txt          one class per line (optional)

  Weak labels of a split with only strong labels are derived from its events; with both,
  a clip's labels are the union of the two.

``dcase2017`` (DCASE 2017 Task 4 metadata in the folder): ``training_set.csv`` (train),
  ``groundtruth_weak_label_testing_set.csv`` / ``testing_set.csv`` with
  ``groundtruth_strong_label_testing_set.csv`` (test), and the ``*_evaluation_set.csv``
  files (evaluation). Rows ``Y<id>_<start>_<end>.wav<TAB><start><TAB><end><TAB><label>``,
  one per label. Audio ``Y<id>_<start>_<end>.wav`` is looked up (recursively) in
  ``audio/<split>/``, ``audio/`` or the folder itself, with or without the leading ``Y``.
  Options ``weak=``, ``strong=``, ``audio_dir=`` point at other files.

``audioset``: ``class_labels_indices.csv`` plus segment CSVs (``balanced_train_segments.csv``
  for train, ``eval_segments.csv`` for test/eval, ``unbalanced_train_segments.csv`` for
  ``unbalanced_train``, or ``<split>_segments.csv``; option ``segments=``). Audio
  ``Y<YTID>_<start>_<end>.wav`` (times as ``30.000``) or ``<YTID>.wav`` (any audio suffix) in
  ``audio/<csv stem>/``, ``audio/<split>/``, ``audio/`` or the folder. Classes are the
  display names in index order. Clips missing from the audio folder (common with AudioSet)
  become problems.

Classes: the ``classes=`` option, else ``classes.txt``, else the sorted union of the labels
of every label file of the dataset (all splits, so that train and test share one list).

Validation split: where the dataset has none, ``validation`` is a hold-out of ``val_fraction``
(default 10%) of the train clips, and ``train`` is the rest. The hold-out is chosen on the
label files (not on which audio happens to be readable), so it is the same for a given seed
whatever the state of the audio. It is stratified by iterative stratification (Sechidis et
al., 2011, for two subsets): the label with the fewest clips still unassigned is handled
first; each of its clips goes to the subset that still wants more of that label (then the one
that wants more clips overall, then a seeded coin), and the desired counts are updated for
every label of the clip. Clips without labels fill the remaining places. Subset sizes are
exact: round(fraction * N), at least one clip when N >= 2.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..audio import is_audio_name
from .formats import (
    DatasetError,
    audioset_candidates,
    read_audioset_classes,
    read_audioset_segments,
    read_class_list,
    read_dcase2017_weak_rows,
    read_strong_rows,
    read_weak_rows,
)

SPLITS = ("train", "validation", "test")
FORMATS = ("desed", "dcase2017", "audioset")


@dataclass
class Item:
    """One clip. path: audio file; labels: clip-level class names; events: [(onset s, offset s,
    label)] when the split has strong labels, else None."""

    path: str
    labels: list[str]
    events: list[tuple[float, float, str]] | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass
class Dataset:
    """classes: column order of :meth:`labels_matrix`; items: usable clips; problems: (path, reason)
    of clips left out; notes: how the split was made (e.g. a derived validation hold-out)."""

    classes: list[str]
    items: list[Item]
    problems: list[tuple[str, str]] = field(default_factory=list)
    split: str = ""
    root: str = ""
    format: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def paths(self) -> list[str]:
        return [it.path for it in self.items]

    @property
    def has_strong(self) -> bool:
        """True when the split's clips carry strong (onset/offset) labels."""
        return any(it.events is not None for it in self.items)

    def labels_matrix(self) -> np.ndarray:
        """Clip labels as an N x C float32 matrix of 0/1 in ``classes`` order."""
        index = {c: j for j, c in enumerate(self.classes)}
        y = np.zeros((len(self.items), len(self.classes)), np.float32)
        for i, it in enumerate(self.items):
            for label in it.labels:
                y[i, index[label]] = 1.0
        return y

    def strong_events(self) -> list[tuple[str, float, float, str]]:
        """Every event of the split as (audio file basename, onset s, offset s, label)."""
        out = []
        for it in self.items:
            for onset, offset, label in it.events or ():
                out.append((it.name, onset, offset, label))
        return out

    def class_counts(self) -> dict[str, int]:
        """Clips per class."""
        counts = self.labels_matrix().sum(axis=0) if self.items else np.zeros(len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def subset(self, indices: Iterable[int]) -> "Dataset":
        """A dataset of some of the items (same classes; problems kept)."""
        return Dataset(list(self.classes), [self.items[int(i)] for i in indices], list(self.problems),
                       self.split, self.root, self.format, list(self.notes))

    def summary(self) -> str:
        strong = f", {len(self.strong_events())} strong events" if self.has_strong else ""
        bad = f", {len(self.problems)} unusable files left out" if self.problems else ""
        return (f"{self.root} [{self.format}] {self.split}: {len(self.items)} clips, "
                f"{len(self.classes)} classes{strong}{bad}")


# ---------------------------------------------------------------------------- records
@dataclass
class _Record:
    """A clip as listed in label files, before its audio is looked at."""

    name: str                                   # as written in the label file
    labels: list[str] = field(default_factory=list)
    events: list[tuple[float, float, str]] | None = None
    path: str | None = None                     # resolved audio path (None: not found)
    expected: str = ""                          # where it was looked for (for problems)


def _add_labels(rec: _Record, labels: Iterable[str]) -> None:
    for label in labels:
        if label not in rec.labels:
            rec.labels.append(label)


class _Checker:
    """Checks labels against the class list when it is given (classes.txt or classes=)."""

    def __init__(self, classes: list[str], explicit: str | None):
        self.classes = classes
        self.known = set(classes)
        self.explicit = explicit   # where the list came from, or None when it is the union of labels

    def __call__(self, label: str, path, line: int) -> None:
        if label not in self.known:
            source = f" ({self.explicit})" if self.explicit else ""
            raise DatasetError(f"{path}:{line}: label {label!r} is not in the class list{source} "
                               f"of {len(self.classes)} classes")


def _audio_index(folder: Path) -> dict[str, str]:
    """basename and stem -> path for every audio file under ``folder`` (recursively)."""
    index: dict[str, str] = {}
    if not folder.is_dir():
        return index
    for dirpath, _dirs, files in os.walk(folder):
        for f in sorted(files):
            if is_audio_name(f):
                p = os.path.join(dirpath, f)
                index.setdefault(f, p)
                index.setdefault(os.path.splitext(f)[0], p)
    return index


# ------------------------------------------------------------------------------ DESED
class _Desed:
    name = "desed"

    def __init__(self, root: Path, opts: dict):
        self.root = root
        self.meta = root / "metadata"
        self.audio_dir = opts.get("audio_dir")
        files = sorted(p for p in self.meta.glob("*.tsv")) if self.meta.is_dir() else []
        self._files = files
        if opts.get("classes") is not None:
            classes, explicit = list(opts["classes"]), "classes= option"
        elif (self.meta / "classes.txt").exists():
            classes, explicit = read_class_list(self.meta / "classes.txt"), str(self.meta / "classes.txt")
        else:
            union: set[str] = set()
            for f in files:
                kind = self._kind(f)
                if kind == "weak":
                    for r in read_weak_rows(f):
                        union.update(r.labels)
                elif kind == "strong":
                    union.update(r.label for r in read_strong_rows(f) if r.label)
            classes, explicit = sorted(union), None
        self.classes = classes
        self.check = _Checker(classes, explicit)

    @staticmethod
    def _kind(path: Path) -> str | None:
        """'weak' or 'strong' from the name (<split>_weak.tsv) or else from the header."""
        stem = path.stem
        if stem.endswith("_weak"):
            return "weak"
        if stem.endswith("_strong"):
            return "strong"
        try:
            with open(path, encoding="utf-8-sig") as f:
                head = f.readline().rstrip("\r\n").lower().split("\t")
        except (OSError, UnicodeDecodeError):
            return None
        if "onset" in head or "event_label" in head:
            return "strong"
        if "event_labels" in head:
            return "weak"
        return "strong" if len(head) >= 3 else "weak"

    def _split_files(self, split: str) -> tuple[list[Path], list[Path]]:
        weak, strong = [], []
        for f in (self.meta / f"{split}_weak.tsv", self.meta / f"{split}_strong.tsv", self.meta / f"{split}.tsv"):
            if f.exists():
                (weak if self._kind(f) == "weak" else strong).append(f)
        return weak, strong

    def has(self, split: str) -> bool:
        weak, strong = self._split_files(split)
        return bool(weak or strong)

    def records(self, split: str) -> list[_Record]:
        weak, strong = self._split_files(split)
        recs: dict[str, _Record] = {}
        for f in weak:
            for r in read_weak_rows(f):
                for label in r.labels:
                    self.check(label, f, r.line)
                _add_labels(recs.setdefault(r.filename, _Record(r.filename)), r.labels)
        for f in strong:
            seen: set[str] = set()
            for r in read_strong_rows(f):
                rec = recs.setdefault(r.filename, _Record(r.filename))
                if rec.events is None:
                    rec.events = []
                seen.add(r.filename)
                if r.label:
                    self.check(r.label, f, r.line)
                    rec.events.append((r.onset, r.offset, r.label))
                    _add_labels(rec, [r.label])
        if strong:
            for rec in recs.values():  # the split has strong labels: clips not in them have no events
                if rec.events is None:
                    rec.events = []
        folder = Path(self.audio_dir) if self.audio_dir else self.root / "audio" / split
        for rec in recs.values():
            p = folder / rec.name
            rec.expected = str(p)
            rec.path = str(p) if p.is_file() else None
        return list(recs.values())


# -------------------------------------------------------------------------- DCASE 2017
_DCASE2017_FILES = {
    "train": (["training_set.csv", "groundtruth_weak_label_training_set.csv"], []),
    "test": (["groundtruth_weak_label_testing_set.csv", "testing_set.csv"],
             ["groundtruth_strong_label_testing_set.csv"]),
    "evaluation": (["groundtruth_weak_label_evaluation_set.csv", "evaluation_set.csv"],
                   ["groundtruth_strong_label_evaluation_set.csv"]),
}


def _looks_dcase2017(root: Path) -> bool:
    for weak, strong in _DCASE2017_FILES.values():
        if any((root / f).exists() for f in weak + strong):
            return True
    return False


class _Dcase2017:
    name = "dcase2017"

    def __init__(self, root: Path, opts: dict):
        self.root = root
        self.opts = opts
        all_weak, all_strong = [], []
        for split in _DCASE2017_FILES:
            w, s = self._split_files(split)
            all_weak += w
            all_strong += s
        if opts.get("classes") is not None:
            classes, explicit = list(opts["classes"]), "classes= option"
        elif (root / "classes.txt").exists():
            classes, explicit = read_class_list(root / "classes.txt"), str(root / "classes.txt")
        else:
            union: set[str] = set()
            for f in all_weak:
                for r in read_dcase2017_weak_rows(f):
                    union.update(r.labels)
            for f in all_strong:
                union.update(r.label for r in read_strong_rows(f) if r.label)
            classes, explicit = sorted(union), None
        self.classes = classes
        self.check = _Checker(classes, explicit)
        self._index: dict[str, dict[str, str]] = {}

    def _split_files(self, split: str) -> tuple[list[Path], list[Path]]:
        if self.opts.get("weak") or self.opts.get("strong"):
            w = [Path(self.opts["weak"])] if self.opts.get("weak") else []
            s = [Path(self.opts["strong"])] if self.opts.get("strong") else []
            return w, s
        names_w, names_s = _DCASE2017_FILES.get(split, ([f"{split}_weak.csv"], [f"{split}_strong.csv"]))
        w = [self.root / f for f in names_w if (self.root / f).exists()][:1]
        s = [self.root / f for f in names_s if (self.root / f).exists()][:1]
        return w, s

    def has(self, split: str) -> bool:
        w, s = self._split_files(split)
        return bool(w or s)

    def _audio_folder(self, split: str) -> Path:
        if self.opts.get("audio_dir"):
            return Path(self.opts["audio_dir"])
        for p in (self.root / "audio" / split, self.root / "audio"):
            if p.is_dir():
                return p
        return self.root

    def records(self, split: str) -> list[_Record]:
        weak, strong = self._split_files(split)
        folder = self._audio_folder(split)
        index = self._index.setdefault(str(folder), _audio_index(folder))
        recs: dict[str, _Record] = {}

        def record(name: str) -> _Record:
            # label files name a clip with or without YouTube's leading "Y"; the audio file decides
            stem = os.path.splitext(name)[0]
            path = None
            for cand in (name, stem, "Y" + stem) + ((stem[1:],) if stem.startswith("Y") else ()):
                if cand in index:
                    path = index[cand]
                    break
            key = path or (stem if stem.startswith("Y") else "Y" + stem)
            rec = recs.get(key)
            if rec is None:
                rec = recs[key] = _Record(name, path=path, expected=str(folder / name))
            return rec

        for f in weak:
            for r in read_dcase2017_weak_rows(f):
                for label in r.labels:
                    self.check(label, f, r.line)
                _add_labels(record(r.filename), r.labels)
        for f in strong:
            for r in read_strong_rows(f):
                rec = record(r.filename)
                if rec.events is None:
                    rec.events = []
                if r.label:
                    self.check(r.label, f, r.line)
                    rec.events.append((r.onset, r.offset, r.label))
                    _add_labels(rec, [r.label])
        if strong:
            for rec in recs.values():
                if rec.events is None:
                    rec.events = []
        return list(recs.values())


# ---------------------------------------------------------------------------- AudioSet
_AUDIOSET_FILES = {
    "train": ["balanced_train_segments.csv"],
    "test": ["eval_segments.csv"],
    "eval": ["eval_segments.csv"],
    "unbalanced_train": ["unbalanced_train_segments.csv"],
}


class _AudioSet:
    name = "audioset"

    def __init__(self, root: Path, opts: dict):
        self.root = root
        self.opts = opts
        labels_csv = Path(opts.get("labels_csv") or root / "class_labels_indices.csv")
        if not labels_csv.exists():
            raise DatasetError(f"{labels_csv}: AudioSet class list not found (class_labels_indices.csv)")
        pairs = read_audioset_classes(labels_csv)
        self.mid_to_name = dict(pairs)
        self.classes = [name for _, name in pairs]
        self.labels_csv = labels_csv
        self._index: dict[str, dict[str, str]] = {}

    def _segments(self, split: str) -> Path | None:
        if self.opts.get("segments"):
            return Path(self.opts["segments"])
        for name in [f"{split}_segments.csv", f"{split}.csv"] + _AUDIOSET_FILES.get(split, []):
            if (self.root / name).exists():
                return self.root / name
        return None

    def has(self, split: str) -> bool:
        return self._segments(split) is not None

    def records(self, split: str) -> list[_Record]:
        seg = self._segments(split)
        folder = None
        if self.opts.get("audio_dir"):
            folder = Path(self.opts["audio_dir"])
        else:
            for p in (self.root / "audio" / seg.stem, self.root / "audio" / split, self.root / "audio"):
                if p.is_dir():
                    folder = p
                    break
        folder = folder or self.root
        index = self._index.setdefault(str(folder), _audio_index(folder))
        recs: dict[str, _Record] = {}
        for r in read_audioset_segments(seg):
            labels = []
            for mid in r.mids:
                if mid not in self.mid_to_name:
                    raise DatasetError(f"{seg}:{r.line}: label {mid!r} is not in {self.labels_csv.name} "
                                       f"({len(self.classes)} classes)")
                labels.append(self.mid_to_name[mid])
            cands = audioset_candidates(r.ytid, r.start, r.end)
            key = cands[0]
            rec = recs.get(key)
            if rec is None:
                rec = recs[key] = _Record(key + ".wav")
                rec.expected = str(folder / (key + ".wav"))
                for c in cands:
                    if c in index:
                        rec.path = index[c]
                        break
            _add_labels(rec, labels)
        return list(recs.values())


# ------------------------------------------------------------------------ the hold-out
def stratified_holdout(label_sets: Sequence[Sequence[str]], fraction: float, seed: int = 0) -> np.ndarray:
    """Boolean mask (N,) of a seeded, stratified hold-out of ``fraction`` of N multi-label clips.

    Iterative stratification for two subsets (see the module docstring). Deterministic for
    a given (label_sets, fraction, seed). The hold-out has exactly round(fraction * N)
    clips (at least 1 when N >= 2 and fraction > 0, at most N - 1).
    """
    n = len(label_sets)
    if n < 2 or fraction <= 0:
        return np.zeros(n, bool)
    n_val = int(min(n - 1, max(1, round(fraction * n))))
    frac = n_val / n
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    classes = sorted({label for labels in label_sets for label in labels})
    col = {c: j for j, c in enumerate(classes)}
    y = np.zeros((n, len(classes)), bool)
    for i, labels in enumerate(label_sets):
        for label in labels:
            y[i, col[label]] = True
    counts = y.sum(axis=0).astype(np.float64)
    want = np.stack([counts * (1 - frac), counts * frac])     # desired label counts: train, hold-out
    total = np.array([n - n_val, n_val], np.float64)          # desired clip counts
    remaining = counts.copy()                                  # unassigned clips per label
    subset = np.full(n, -1)
    while True:
        active = np.flatnonzero(remaining > 0)
        if active.size == 0:
            break
        label = active[np.argmin(remaining[active])]          # the rarest label still to place
        for i in order[y[order, label] & (subset[order] < 0)]:
            if total[0] <= 0:
                s = 1
            elif total[1] <= 0:
                s = 0
            elif want[0, label] != want[1, label]:
                s = int(want[1, label] > want[0, label])
            elif total[0] != total[1]:
                s = int(total[1] > total[0])
            else:
                s = int(rng.integers(2))
            subset[i] = s
            want[s, y[i]] -= 1
            total[s] -= 1
            remaining[y[i]] -= 1
    for i in order[subset[order] < 0]:                         # clips without labels
        s = 1 if total[1] > 0 else 0
        subset[i] = s
        total[s] -= 1
    return subset == 1


# -------------------------------------------------------------------------- the loader
_OPTIONS = {"format", "classes", "val_fraction", "check_audio", "audio_dir", "weak", "strong",
            "segments", "labels_csv"}


def detect_format(root: str | os.PathLike) -> str:
    """'desed', 'dcase2017' or 'audioset' from what the folder holds; DatasetError when none fits."""
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"{root}: no such dataset folder")
    if not root.is_dir():
        raise DatasetError(f"{root}: a dataset is a folder, not a file")
    if (root / "metadata").is_dir():
        return "desed"
    if (root / "class_labels_indices.csv").exists():
        return "audioset"
    if _looks_dcase2017(root):
        return "dcase2017"
    raise DatasetError(
        f"{root}: not a dataset folder I know. Expected metadata/<split>_weak.tsv (DESED style), "
        "class_labels_indices.csv with segment CSVs (AudioSet), or DCASE 2017 Task 4 label files "
        "(training_set.csv, groundtruth_*_testing_set.csv)")


def _open_reader(root: Path, fmt: str, opts: dict):
    if fmt == "desed":
        return _Desed(root, opts)
    if fmt == "dcase2017":
        return _Dcase2017(root, opts)
    if fmt == "audioset":
        return _AudioSet(root, opts)
    raise DatasetError(f"unknown dataset format {fmt!r} (expected one of {', '.join(FORMATS)})")


SPLIT_ORDER = ("train", "validation", "test", "eval", "evaluation", "public", "unbalanced_train")


def dataset_splits(root: str | os.PathLike) -> list[str]:
    """The splits :func:`load_dataset` can read from ``root`` (``validation`` included where it
    is a hold-out of train), known names first; [] when the folder is not a dataset."""
    root = Path(root)
    try:
        fmt = detect_format(root)
        reader = _open_reader(root, fmt, {"classes": []})   # no class list needed to list splits
    except DatasetError:
        return []
    if fmt == "desed":
        names = {f.stem.removesuffix("_weak").removesuffix("_strong") for f in reader.meta.glob("*.tsv")}
    elif fmt == "dcase2017":
        names = set(_DCASE2017_FILES)
    else:
        named = {f for files in _AUDIOSET_FILES.values() for f in files}
        names = set(_AUDIOSET_FILES) | {f.stem.removesuffix("_segments") for f in root.glob("*_segments.csv")
                                        if f.name not in named}
    splits = {s for s in names if reader.has(s)}
    if "train" in splits:
        splits.add("validation")
    rank = {s: i for i, s in enumerate(SPLIT_ORDER)}
    return sorted(splits, key=lambda s: (rank.get(s, len(rank)), s))


def _check_audio(recs: list[_Record], full: bool) -> tuple[list[Item], list[tuple[str, str]]]:
    from ..audio import AudioError, info

    items, problems = [], []
    for rec in recs:
        if rec.path is None:
            problems.append((rec.expected or rec.name, "no such file"))
            continue
        if full:
            try:
                i = info(rec.path)
                if i.frames <= 0:
                    raise AudioError(f"{rec.path}: the file holds no audio samples")
            except AudioError as exc:
                text = str(exc)
                prefix = f"{rec.path}: "
                problems.append((rec.path, text[len(prefix):] if text.startswith(prefix) else text))
                continue
        items.append(Item(rec.path, list(rec.labels), None if rec.events is None else list(rec.events)))
    return items, problems


def load_dataset(root: str | os.PathLike, split: str = "train", *, seed: int = 0, **options) -> Dataset:
    """Read one split of a dataset folder.

    root: the dataset folder; split: 'train', 'validation', 'test' (or a split the format
    names, e.g. 'evaluation' for DCASE 2017, 'unbalanced_train' for AudioSet); seed: the
    validation hold-out's seed (used only where the dataset has no validation split).

    Options: ``format`` ('desed', 'dcase2017', 'audioset'; default detected), ``classes``
    (a class list overriding classes.txt), ``val_fraction`` (default 0.1), ``check_audio``
    (default True: open each file's header; False: only check that it exists),
    ``audio_dir``, ``weak``, ``strong`` (DCASE 2017 files), ``segments``, ``labels_csv``
    (AudioSet files).
    """
    unknown = set(options) - _OPTIONS
    if unknown:
        raise TypeError(f"load_dataset: unknown options {sorted(unknown)} (known: {sorted(_OPTIONS)})")
    root = Path(root)
    fmt = options.get("format") or detect_format(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    reader = _open_reader(root, fmt, options)
    fraction = float(options.get("val_fraction", 0.1))
    notes: list[str] = []
    if reader.has(split):
        recs = reader.records(split)
        if split == "train" and not reader.has("validation") and fraction > 0:
            mask = stratified_holdout([r.labels for r in recs], fraction, seed)
            recs = [r for r, held in zip(recs, mask) if not held]
            notes.append(f"train without the validation hold-out ({fraction:.0%} of train, seed {seed})")
    elif split == "validation" and reader.has("train") and fraction > 0:
        recs = reader.records("train")
        mask = stratified_holdout([r.labels for r in recs], fraction, seed)
        recs = [r for r, held in zip(recs, mask) if held]
        notes.append(f"validation: a stratified hold-out of {fraction:.0%} of train (seed {seed})")
    else:
        raise DatasetError(f"{root}: no '{split}' split in this {fmt} dataset")
    items, problems = _check_audio(recs, bool(options.get("check_audio", True)))
    return Dataset(list(reader.classes), items, problems, split, str(root), fmt, notes)
