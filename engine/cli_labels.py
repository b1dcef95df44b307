"""``mmnet convert IN OUT [--from FMT] [--to FMT]``: label files from one format to another.

IN may be a file or a folder (every label file in it, merged); OUT a file, or a folder with
``--per-clip`` (one file per clip, needed for one-clip formats such as Audacity). Bad lines
of IN are listed on stderr with their line numbers and left out; the rest is converted.
"""
from __future__ import annotations

import sys


def add_arguments(p) -> None:
    from .labels import FORMATS

    names = list(FORMATS)
    p.add_argument("input", metavar="IN", help="label file or folder of label files")
    p.add_argument("output", metavar="OUT", help="label file (or folder with --per-clip)")
    p.add_argument("--from", dest="src", choices=names, default=None,
                   help="format of IN (default: guessed from its name and contents)")
    p.add_argument("--to", dest="dst", choices=names, default=None,
                   help="format of OUT (default: from its name: .tsv dcase, .selections.txt raven, "
                        ".txt audacity, .sv.csv sv, .csv csv)")
    p.add_argument("--per-clip", action="store_true", help="write one file per clip into the folder OUT")
    p.add_argument("--clip", default=None, help="clip name for events of one-clip formats (Audacity, SV)")
    p.add_argument("--label", action="append", default=None, help="only events with this label (repeatable)")
    p.add_argument("--min-score", type=float, default=None, help="only events scoring at least this")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when IN has bad lines")


def run(args) -> int:
    from .errors import MMError
    from .labels import read_labels, select_events, write_labels, write_per_clip

    try:
        result = read_labels(args.input, args.src, clip=args.clip)
        for problem in result.problems:
            print(f"mmnet: {problem}", file=sys.stderr)
        events = select_events(result.events, labels=args.label, min_score=args.min_score)
        if args.per_clip:
            if not args.dst:
                raise ValueError("--per-clip needs --to FORMAT")
            paths = write_per_clip(args.output, events, args.dst)
            fmt, where = args.dst, f"{len(paths)} files in {args.output}"
        else:
            fmt = write_labels(args.output, events, args.dst, clip=args.clip)
            where = args.output
    except (MMError, ValueError, OSError) as exc:
        print(f"mmnet: {exc}", file=sys.stderr)
        return 2
    print(f"{len(events)} events from {args.input} ({result.format}) -> {where} ({fmt})"
          + (f"; {len(result.problems)} bad lines left out" if result.problems else ""), file=sys.stderr)
    return 1 if (args.strict and result.problems) else 0
