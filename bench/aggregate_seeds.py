"""Mean and spread over training seeds of bench/report_line.py's metrics, from run folders.

    python bench/aggregate_seeds.py RUN_FOLDER [RUN_FOLDER ...] [--baseline NAME] [--per-seed]
        [--json OUT --benchmark KEY [--title TEXT] [--description TEXT] [--focus NAME]
         [--machine TEXT] [--note TEXT] [--label NAME=TEXT ...]]
    python bench/aggregate_seeds.py --from-json FILE --benchmark KEY [--baseline NAME] [--per-seed]

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

--json OUT adds the folders as benchmark KEY to the comparison-results file OUT (created, or
updated: a benchmark of the same key is replaced), which the app's Compare tab shows
("Benchmark results"); the file records this command, the date and --machine / --note.
--from-json prints the same tables from such a file. The aggregation is engine/comparison.py.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import comparison as cmp  # noqa: E402
from engine.errors import MMError  # noqa: E402

HEAD = tuple(cmp.METRICS.values())


def cell(s: cmp.Spread | None) -> str:
    """'mean +- std' in %, or the single value, or '-'."""
    if s is None:
        return "-"
    return f"{s.mean:.1f}" if s.std is None else f"{s.mean:.1f} ± {s.std:.1f}"


def markdown(bench: cmp.Benchmark, baseline: str | None, per_seed: bool) -> str:
    """The tables of this script's output (see the module docstring)."""
    out = ["| system | seeds | " + " | ".join(HEAD) + " | CPU s / training |", "|---" * (len(HEAD) + 3) + "|"]
    for s in bench.systems.values():
        cols = [cell(cmp.spread(list(s.values(k).values()))) for k in cmp.KEYS]
        cost = cmp.cpu_mean(s)
        seeds = ",".join(str(r.seed) for r in s.runs)
        out.append(f"| {s.name} | {seeds} | " + " | ".join(cols) + f" | {'-' if cost is None else f'{cost:.0f}'} |")

    if baseline:
        out += [f"\nPaired difference system - {baseline} (points), mean ± std over seeds, "
                "[seeds ahead / seeds, paired t]:\n", "| system | " + " | ".join(HEAD) + " |",
                "|---" * (len(HEAD) + 1) + "|"]
        for s in bench.systems:
            if s == baseline:
                continue
            cols = []
            for k in cmp.KEYS:
                d = cmp.paired(bench, s, baseline, k)
                t = "" if d is None or d.t is None else f", t {d.t:.1f}"
                cols.append("-" if d is None else
                            f"{cell(cmp.Spread(d.mean, d.std, d.n, d.diffs))} [{d.ahead}/{d.n}{t}]")
            out.append(f"| {s} | " + " | ".join(cols) + " |")

    if per_seed:
        out += ["\n| system | seed | " + " | ".join(HEAD) + " | CPU s |", "|---" * (len(HEAD) + 3) + "|"]
        for s in bench.systems.values():
            for r in s.runs:
                vals = " | ".join("-" if r.metrics.get(k) is None else f"{100 * r.metrics[k]:.1f}" for k in cmp.KEYS)
                c = "-" if r.cpu_s is None else f"{r.cpu_s:.0f}"
                out.append(f"| {s.name} | {r.seed} | {vals} | {c} |")
    return "\n".join(out)


def machine_note() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def write_json(args, bench: cmp.Benchmark) -> None:
    bench.title, bench.description = args.title or bench.key, args.description or ""
    bench.baseline, bench.focus = args.baseline, args.focus
    for item in args.label:
        name, _, text = item.partition("=")
        if name not in bench.systems:
            raise MMError(f"--label {item!r}: no system {name!r} in the folders")
        bench.systems[name].label = text
    bench.provenance = {
        "command": "python bench/aggregate_seeds.py " + shlex.join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": args.machine or machine_note(), "note": args.note or "",
        "folders": [str(f) for f in args.folders]}
    results = cmp.load(args.json) if args.json.exists() else cmp.Comparison()
    results.put(bench)
    cmp.save(results, args.json)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folders", nargs="*", type=Path)
    p.add_argument("--baseline", help="system to pair every other system with, seed by seed")
    p.add_argument("--per-seed", action="store_true")
    p.add_argument("--json", type=Path, help="add the folders as a benchmark to this comparison-results file")
    p.add_argument("--from-json", type=Path, help="print the tables of a benchmark of this comparison-results file")
    p.add_argument("--benchmark", help="the benchmark's key in the JSON file (e.g. mixed, one)")
    p.add_argument("--title", help="the benchmark's title in the app (default: its key)")
    p.add_argument("--description", help="what the benchmark is (data, sizes, schedule)")
    p.add_argument("--focus", help="the system the app's verdict line is about by default")
    p.add_argument("--machine", help="where the numbers were measured (default: this machine)")
    p.add_argument("--note", help="more provenance: the training commands, their cost")
    p.add_argument("--label", action="append", default=[], metavar="NAME=TEXT", help="a system's display name")
    args = p.parse_args()
    if (args.json or args.from_json) and not args.benchmark:
        p.error("--json and --from-json need --benchmark KEY")
    if bool(args.folders) == bool(args.from_json):
        p.error("give run folders or --from-json FILE")
    try:
        if args.from_json:
            bench = cmp.load(args.from_json).benchmark(args.benchmark)
        else:
            bench = cmp.benchmark_from_folders(args.folders, args.benchmark or "")
        print(markdown(bench, args.baseline, args.per_seed))
        if args.json:
            write_json(args, bench)
    except KeyError:
        print(f"error: {args.from_json}: no benchmark {args.benchmark!r}", file=sys.stderr)
        return 2
    except MMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
