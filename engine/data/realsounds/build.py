"""Build the real-sound dataset: ``mmnet realsounds OUT [--cache DIR] [--seed S] [--n-train N] ...``.

Steps: fetch the pinned packages (:mod:`.sources`) into ``--cache`` (kept: reruns download
nothing); read the matching sound files straight out of them (:mod:`.debs`); decode, trim and
screen them and merge files cut from one original (:mod:`.screen`); split each class's
originals into a training pool and an unseen pool (about a third, at least one); mix
10-s clips (:mod:`.mixer`). Written (DESED layout, read by :func:`engine.data.load_dataset`)::

    OUT/audio/{train,validation,test,test_seen}/<split>_00000.wav  16-bit PCM mono, 44.1 kHz
    OUT/metadata/train_weak.tsv                 weak labels only (augmented events)
    OUT/metadata/<split>_weak.tsv, <split>_strong.tsv   for validation, test, test_seen
    OUT/metadata/classes.txt                    written last: marks a finished build
    OUT/metadata/realsounds.json                settings, packages, class kinds, duplicates found
    OUT/LICENSES.tsv                            every recording used: package, version, path, license
    OUT/metadata/recordings.tsv                 every file read: stats, group, pool, or why rejected
    OUT/metadata/<split>_sources.tsv         per clip: its background and events, each with package and path

Splits: ``train`` and ``validation`` mix recordings of the training pool (validation without
augmentation, for early stopping and class thresholds), ``test`` mixes only unseen-pool
recordings over unseen backgrounds, ``test_seen`` new mixtures of training-pool recordings
and backgrounds. Same seed and packages, same files.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..formats import _write_text, write_strong_tsv, write_weak_tsv
from ..synth import _write_wav
from .debs import dep5_license, fetch_debs, iter_sounds
from .mixer import make_mixture
from .screen import Recording, decode, measure, merge_duplicates, screen, split_at_gaps, trim
from .sources import ANCHORED, BACKGROUND_RULES, EVENT_RULES, PACKAGES, SOURCE_PATHS, SPLIT_AT_GAPS

RECIPE_VERSION = 2
SPLIT_IDS = {"train": 0, "validation": 1, "test": 2, "test_seen": 3}
TRANSIENT_S = 1.0


def _group_name(package: str, path: str, match: re.Match, original: str | None = None) -> str:
    """The original a file was cut from: the rule's own name for it, else the regex's group ``g``,
    else the file name without digits (see :mod:`.sources`)."""
    if original:
        return original
    g = match.groupdict().get("g")
    if not g:
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        g = re.sub(r"\d+", "", stem).strip("_-") or stem
    return f"{package}:{g}"


def _license(copyright_text: str, package: str, path: str, default: str) -> str:
    inner = path.split("!", 1)[1] if "!" in path else path
    if package in SOURCE_PATHS:                 # e.g. GCompris paths in its copyright file start at src/
        inner = re.sub(*SOURCE_PATHS[package], inner)
    return dep5_license(copyright_text, inner, anchored=package in ANCHORED) or default


def _rules() -> list[tuple[str, str, re.Pattern, str | None]]:
    """Every rule as (label, package, compiled regex, original or None); backgrounds' labels are 'bg:KIND'."""
    named = [(label, r) for label, rs in EVENT_RULES.items() for r in rs]
    named += [(f"bg:{kind}", r) for kind, rs in BACKGROUND_RULES.items() for r in rs]
    return [(label, r[0], re.compile(r[1]), r[2] if len(r) > 2 else None) for label, r in named]


def read_recordings(debs: dict[str, Path], sr: int, log: Callable[[str], None] = print) -> list[Recording]:
    """Every file the rules name, decoded, trimmed and screened (rejected ones keep their reason)."""
    rules = _rules()
    recs: list[Recording] = []
    for pkg, deb in debs.items():
        version, default_license = PACKAGES[pkg]
        mine = [(label, rx, orig) for label, p, rx, orig in rules if p == pkg]
        copyright_path = f"usr/share/doc/{pkg}/copyright"
        copyright_text, pending = "", []
        t0 = time.perf_counter()
        for path, data in iter_sounds(deb, [rx.pattern for _, rx, _ in mine], also=lambda p: p == copyright_path):
            if path == copyright_path:
                copyright_text = data.decode("utf-8", errors="replace")
                continue
            for label, rx, orig in mine:
                m = rx.search(path)
                if m:
                    pending.append((label, path, m, orig, data))
                    break
        for label, path, m, orig, data in pending:
            rec = Recording(label=label, package=pkg, version=version, path=path,
                            license=_license(copyright_text, pkg, path, default_license),
                            group=_group_name(pkg, path, m, orig), sr=sr)
            try:
                x, native = decode(data, sr)
            except Exception as exc:  # noqa: BLE001 - any decoder failure rejects the file, with its reason
                rec.rejected = f"unreadable ({exc})"
                recs.append(rec)
                continue
            x = trim(x, sr)
            rec.samples, rec.native_sr = x, native
            rec.stats = measure(x, sr, native)
            rec.rejected = screen(rec.stats, background=label.startswith("bg:"))
            if rec.rejected or label not in SPLIT_AT_GAPS:
                recs.append(rec)
                continue
            for k, seg in enumerate(split_at_gaps(x, sr)):
                recs.append(dataclasses.replace(rec, samples=seg, part=k, stats=measure(seg, sr, native)))
        log(f"{pkg} {version}: {len(pending)} files ({time.perf_counter() - t0:.1f} s)")
    return recs


def split_pools(recs: list[Recording], seed: int, unseen_fraction: float = 1 / 3) -> dict[str, str]:
    """group -> 'train' or 'unseen': per class (and over all backgrounds) a seeded third of the
    originals, at least one, go to the unseen pool; a class with one original stays in train."""
    by_label: dict[str, list[str]] = {}
    for r in recs:
        by_label.setdefault("bg" if r.label.startswith("bg:") else r.label, [])
        if r.group not in by_label["bg" if r.label.startswith("bg:") else r.label]:
            by_label["bg" if r.label.startswith("bg:") else r.label].append(r.group)
    pool: dict[str, str] = {}
    for i, (label, groups) in enumerate(sorted(by_label.items())):
        rng = np.random.default_rng([seed, 7, i])
        groups = sorted(groups)
        order = [groups[j] for j in rng.permutation(len(groups))]
        n_unseen = 0 if len(order) < 2 else max(1, int(round(len(order) * unseen_fraction)))
        for j, g in enumerate(order):
            pool.setdefault(g, "unseen" if j < n_unseen else "train")
    return pool


def build(out: str | os.PathLike, cache: str | os.PathLike, *, seed: int = 0, n_train: int = 800,
          n_validation: int = 120, n_test: int = 200, n_test_seen: int = 200, sr: int = 44100,
          duration: float = 10.0, debs: dict[str, Path] | None = None, log: Callable[[str], None] = print) -> dict:
    """Fetch, screen, split and mix (see the module docstring); returns a summary dict."""
    t0 = time.perf_counter()
    out = Path(out)
    meta = out / "metadata"
    if out.exists() and any(p for p in out.iterdir() if not p.name.startswith(".")) \
            and not (meta / "realsounds.json").exists() and not (meta / "classes.txt").exists():
        raise ValueError(f"{out}: the folder is not empty and holds no real-sound dataset; choose a new folder")
    if (meta / "classes.txt").exists():
        (meta / "classes.txt").unlink()
    if debs is None:
        debs = fetch_debs({n: v for n, (v, _) in PACKAGES.items()}, Path(cache), log)
    recs = read_recordings(debs, sr, log)
    kept = [r for r in recs if not r.rejected]
    dups = merge_duplicates(kept, sr)
    pool = split_pools(kept, seed)

    events = [r for r in kept if not r.label.startswith("bg:")]
    bgs = [r for r in kept if r.label.startswith("bg:")]
    labels = [c for c in EVENT_RULES if any(r.label == c for r in events)]
    classes = [c for c in labels if {pool[r.group] for r in events if r.label == c} == {"train", "unseen"}]
    dropped = sorted(set(labels) - set(classes))
    kinds = {c: ("transient" if np.median([r.stats["duration"] for r in events if r.label == c]) < TRANSIENT_S
                 else "long") for c in classes}
    classes = [c for c in classes if kinds[c] == "transient"] + [c for c in classes if kinds[c] == "long"]

    def pools(which: str):
        ev = {c: [r for r in events if r.label == c and pool[r.group] == which] for c in classes}
        bg = [r for r in bgs if pool[r.group] == which]
        if not bg:
            raise ValueError(f"no background recording in the {which} pool")
        return ev, bg

    plan = [("train", n_train, "train", True), ("validation", n_validation, "train", False),
            ("test", n_test, "unseen", False), ("test_seen", n_test_seen, "train", False)]
    meta.mkdir(parents=True, exist_ok=True)
    summary: dict = {"out": str(out), "seed": seed, "classes": {c: kinds[c] for c in classes},
                     "dropped_classes": dropped, "splits": {}}
    for split, count, which, aug in plan:
        ev_recs, bg_recs = pools(which)
        ev = {c: [r.samples for r in rs] for c, rs in ev_recs.items()}
        bg = [r.samples for r in bg_recs]
        sources = ["filename\tlabel\tonset\toffset\tpackage\tpath_in_package\tpart"]
        folder = out / "audio" / split
        folder.mkdir(parents=True, exist_ok=True)
        for f in folder.glob(f"{split}_*.wav"):
            f.unlink()
        weak, strong, empty = [], [], []
        for i in range(count):
            rng = np.random.default_rng([seed, SPLIT_IDS[split], i])
            x, placed, info = make_mixture(rng, ev, bg, sr, duration, augment_events=aug)
            name = f"{split}_{i:05d}.wav"
            b = bg_recs[info["background"]]
            sources.append(f"{name}\t{b.label}\t0\t{duration}\t{b.package}\t{b.path}\t0")
            for (on, off, lab), (plab, ri) in zip(placed, info["events"]):
                r = ev_recs[plab][ri]
                sources.append(f"{name}\t{plab}\t{on}\t{off}\t{r.package}\t{r.path}\t{r.part}")
            _write_wav(folder / name, x, sr)
            weak.append((name, sorted({lab for _, _, lab in placed}, key=classes.index)))
            strong.extend((name, on, off, lab) for on, off, lab in placed)
            if not placed:
                empty.append(name)
        write_weak_tsv(meta / f"{split}_weak.tsv", weak)
        _write_text(meta / f"{split}_sources.tsv", "\n".join(sources) + "\n")
        if split != "train":
            write_strong_tsv(meta / f"{split}_strong.tsv", strong, empty=empty)
        summary["splits"][split] = {"clips": count, "events": len(strong), "pool": which, "augmented": aug}
        log(f"{split}: {count} clips, {len(strong)} events")

    used = [r for r in kept if r.label in classes or r.label.startswith("bg:")]
    lic = ["file\tlabel\tpackage\tversion\tpath_in_package\tlicense\toriginal\tpool"]
    files = {(r.package, r.path): r for r in used}
    lic += [f"{i:04d}\t{r.label}\t{r.package}\t{r.version}\t{r.path}\t{r.license}\t{r.group}\t{pool[r.group]}"
            for i, r in enumerate(files.values())]
    _write_text(out / "LICENSES.tsv", "\n".join(lic) + "\n")
    rows = ["label\tpackage\tpath\tpart\tgroup\tpool\tduration_s\trms_dbfs\tpeak_dbfs\tclipped\tnative_sr\t"
            "bandwidth_hz\trejected"]
    for r in recs:
        s = r.stats or {}
        rows.append("\t".join(str(v) for v in (r.label, r.package, r.path, r.part, r.group, pool.get(r.group, ""),
                                                s.get("duration", ""), s.get("rms_db", ""), s.get("peak_db", ""),
                                                s.get("clipped", ""), s.get("native_sr", ""),
                                                s.get("bandwidth_hz", ""), r.rejected)))
    _write_text(meta / "recordings.tsv", "\n".join(rows) + "\n")
    per_class = {c: {"originals_train": len({r.group for r in events if r.label == c and pool[r.group] == "train"}),
                     "originals_unseen": len({r.group for r in events if r.label == c and pool[r.group] == "unseen"}),
                     "files": len({r.path for r in events if r.label == c}),
                     "events": sum(r.label == c for r in events),
                     "median_s": round(float(np.median([r.stats["duration"] for r in events if r.label == c])), 2),
                     "kind": kinds[c]} for c in classes}
    settings = {"generator": "engine.data.realsounds", "recipe_version": RECIPE_VERSION, "seed": seed, "sr": sr,
                "duration": duration, "packages": {n: v for n, (v, _) in PACKAGES.items()},
                "splits": {s: {"clips": n, "pool": w, "augmented": a} for s, n, w, a in plan},
                "classes": per_class, "dropped_classes": dropped,
                "backgrounds": {r.path: {"kind": r.label[3:], "pool": pool[r.group]} for r in bgs},
                "duplicates_merged": dups, "rejected": {r.path: r.rejected for r in recs if r.rejected}}
    _write_text(meta / "realsounds.json", json.dumps(settings, indent=2) + "\n")
    _write_text(meta / "classes.txt", "\n".join(classes) + "\n")
    summary["per_class"] = per_class
    summary["duplicates_merged"] = len(dups)
    summary["rejected"] = sum(bool(r.rejected) for r in recs)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def add_arguments(parser) -> None:
    parser.add_argument("out", help="output folder (created; an old real-sound dataset there is replaced)")
    parser.add_argument("--cache", default="data/realsounds-debs",
                        help="folder for the downloaded .deb files, reused by later runs (default data/realsounds-debs)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    parser.add_argument("--n-train", type=int, default=800)
    parser.add_argument("--n-validation", type=int, default=120)
    parser.add_argument("--n-test", type=int, default=200, help="test clips of unseen recordings")
    parser.add_argument("--n-test-seen", type=int, default=200, help="test clips of training recordings")


def run(args) -> int:
    for name in ("n_train", "n_validation", "n_test", "n_test_seen"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
    summary = build(args.out, args.cache, seed=args.seed, n_train=args.n_train, n_validation=args.n_validation,
                    n_test=args.n_test, n_test_seen=args.n_test_seen,
                    log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(summary, indent=2))
    return 0
