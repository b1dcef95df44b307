"""``mmnet batch FOLDER MODEL [--model-b MODEL] [--table OUT.csv] [--events OUT.tsv]``: batch
analysis of a folder (see :mod:`engine.batch`). Prints the table as CSV on stdout unless
``--table`` is given; progress goes to stderr."""
from __future__ import annotations

import sys


def add_arguments(p) -> None:
    p.add_argument("folder", help="folder of audio files (searched recursively)")
    p.add_argument("model", help="model A (.safetensors)")
    p.add_argument("--model-b", default=None, help="model B, for the A/B disagreement column")
    p.add_argument("--table", default=None, help="write the results table to this CSV (default: stdout)")
    p.add_argument("--events", default=None, help="write every event of model A to this DCASE TSV")
    p.add_argument("--events-b", default=None, help="write every event of model B to this DCASE TSV")
    p.add_argument("--batch-size", type=int, default=8, help="clips per forward pass (default 8)")
    p.add_argument("--top", type=int, default=3, help="top classes listed per clip (default 3)")
    p.add_argument("--short", type=float, default=0.5, help="events shorter than this (s) count as short")
    p.add_argument("--device", default=None)


def run(args) -> int:
    from . import load_model
    from .batch import iter_batch, table_rows, write_events_tsv, write_table_csv
    from .errors import MMError

    try:
        a = load_model(args.model, device=args.device)
        b = load_model(args.model_b, device=args.device) if args.model_b else None

        def progress(done, total, clip):
            sys.stderr.write(f"\r{done}/{total} {clip[:60]:60s}")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        items = list(iter_batch(args.folder, a, b, batch_size=args.batch_size, top_k=args.top,
                                short_s=args.short, progress=progress))
        rows = [it.row for it in items]
        if args.table:
            write_table_csv(args.table, rows)
        else:
            import csv

            from .batch import TABLE_COLUMNS

            w = csv.DictWriter(sys.stdout, fieldnames=TABLE_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(table_rows(rows))
        if args.events:
            write_events_tsv(args.events, items, "a")
        if args.events_b:
            if b is None:
                raise ValueError("--events-b needs --model-b")
            write_events_tsv(args.events_b, items, "b")
    except (MMError, ValueError, OSError) as exc:
        print(f"mmnet: {exc}", file=sys.stderr)
        return 2
    failed = sum(1 for r in rows if r.error)
    if failed:
        print(f"mmnet: {failed} of {len(rows)} files could not be read (see the error column)", file=sys.stderr)
    return 1 if failed else 0
