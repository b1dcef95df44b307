"""Mean and spread over training seeds of bench/report_line.py's metrics, from run folders.

    python bench/aggregate_seeds.py RUN_FOLDER [RUN_FOLDER ...] [--baseline NAME] [--per-seed]

Each RUN_FOLDER is one seed's folder of bench/fair_seeds.sh (ROOT/fair-REGIME-sSEED; the seed
is read from the name's -sN suffix). It reads the folder's all-results.tsv (rows of
report_line.py --tsv: name, note, then mAP, mAP_short, mAP_long, AUC, F1_class_mean,
segment_F1, event_F1 as fractions or None; a later row of a name wins) and times.txt (the
`/usr/bin/time` line of each training: wall, user and system seconds).

Prints, in %, a Markdown table of mean +- sample standard deviation (n - 1) over the seeds for
each system with the mean CPU seconds (user + system) of its trainings; with --baseline, the
paired difference system - baseline at each seed (mean +- std) and on how many seeds the
system is ahead, with the paired t statistic (n - 1 degrees of freedom: |t| > 4.3
for 5 % two-sided at 3 seeds); with --per-seed, every seed's row.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

KEYS = ("mAP", "mAP_short", "mAP_long", "AUC", "F1_class_mean", "segment_F1", "event_F1")
HEAD = ("mAP", "short", "long", "AUC", "F1", "seg F1", "event F1")
TIME_RE = re.compile(r"^(\S+): ([\d.]+) s wall, ([\d.]+) s user \+ ([\d.]+) s system CPU")


def read_folder(folder: Path) -> tuple[int | str, dict[str, list[float | None]], dict[str, float]]:
    """(seed, {system: 7 metrics as fractions or None}, {system: CPU seconds}) of one run folder."""
    m = re.search(r"-s(\d+)$", folder.name)
    seed: int | str = int(m.group(1)) if m else folder.name
    rows: dict[str, list[float | None]] = {}
    tsv = folder / "all-results.tsv"
    if tsv.exists():
        for line in tsv.read_text().splitlines():
            cells = line.split("\t")
            if len(cells) == 2 + len(KEYS):
                rows[cells[0]] = [None if c == "None" else float(c) for c in cells[2:]]
    cpu: dict[str, float] = {}
    times = folder / "times.txt"
    if times.exists():
        for line in times.read_text().splitlines():
            t = TIME_RE.match(line)
            if t:
                cpu[t.group(1)] = float(t.group(3)) + float(t.group(4))
    return seed, rows, cpu


def cell(values: list[float]) -> str:
    """'mean +- std' in %, or the single value, or '-'."""
    if not values:
        return "-"
    a = 100 * np.asarray(values)
    return f"{a.mean():.1f}" if len(a) == 1 else f"{a.mean():.1f} ± {a.std(ddof=1):.1f}"


def paired_t(d: list[float]) -> str:
    """', t T': the paired t statistic mean / (std / sqrt(n)) of the differences, or ''."""
    a = np.asarray(d)
    if len(a) < 2 or a.std(ddof=1) == 0:
        return ""
    return f", t {a.mean() / (a.std(ddof=1) / np.sqrt(len(a))):.1f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--baseline", help="system to pair every other system with, seed by seed")
    p.add_argument("--per-seed", action="store_true")
    args = p.parse_args()
    runs = [read_folder(f) for f in args.folders]
    systems: list[str] = []
    for _, rows, _ in runs:
        systems += [s for s in rows if s not in systems]

    print("| system | seeds | " + " | ".join(HEAD) + " | CPU s / training |")
    print("|---" * (len(HEAD) + 3) + "|")
    for s in systems:
        have = [(seed, rows[s], cpu.get(s)) for seed, rows, cpu in runs if s in rows]
        cols = [cell([r[k] for _, r, _ in have if r[k] is not None]) for k in range(len(KEYS))]
        secs = [c for _, _, c in have if c is not None]
        seeds = ",".join(str(seed) for seed, _, _ in have)
        cost = f"{np.mean(secs):.0f}" if secs else "-"
        print(f"| {s} | {seeds} | " + " | ".join(cols) + f" | {cost} |")

    if args.baseline:
        print(f"\nPaired difference system - {args.baseline} (points), mean ± std over seeds, "
              "[seeds ahead / seeds, paired t]:\n")
        print("| system | " + " | ".join(HEAD) + " |")
        print("|---" * (len(HEAD) + 1) + "|")
        for s in systems:
            if s == args.baseline:
                continue
            cols = []
            for k in range(len(KEYS)):
                d = [rows[s][k] - rows[args.baseline][k] for _, rows, _ in runs
                     if s in rows and args.baseline in rows
                     and rows[s][k] is not None and rows[args.baseline][k] is not None]
                ahead = sum(x > 0 for x in d)
                cols.append(f"{cell(d)} [{ahead}/{len(d)}{paired_t(d)}]" if d else "-")
            print(f"| {s} | " + " | ".join(cols) + " |")

    if args.per_seed:
        print("\n| system | seed | " + " | ".join(HEAD) + " | CPU s |")
        print("|---" * (len(HEAD) + 3) + "|")
        for s in systems:
            for seed, rows, cpu in runs:
                if s in rows:
                    vals = " | ".join("-" if v is None else f"{100 * v:.1f}" for v in rows[s])
                    c = f"{cpu[s]:.0f}" if s in cpu else "-"
                    print(f"| {s} | {seed} | {vals} | {c} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
