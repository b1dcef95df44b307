"""The ``mmnet`` command line (also ``python -m engine``).

Sub-commands live next to what they drive: each module named in ``COMMANDS``
exposes ``add_arguments(parser)`` and ``run(args) -> int``. Errors the user can
fix (a bad file, a bad model) print one line on stderr and exit non-zero.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

# name -> (module, one-line help)
COMMANDS = {
    "predict": ("engine.cli", "analyze audio files with a model (JSON or DCASE TSV)"),
    "info": ("engine.cli", "print a model file's metadata"),
    "synth": ("engine.data.synth", "generate the synthetic transient-event benchmark"),
    "realsounds": ("engine.data.realsounds.build", "build the real-sound dataset from Debian packages"),
    "train": ("engine.train", "train a method on a dataset"),
    "evaluate": ("engine.evaluate", "evaluate a model on a dataset split"),
    "retune": ("engine.retune", "tune a model's class thresholds anew on a labelled split"),
    "reproduce": ("engine.reproduce", "reproduce the paper's comparison on the synthetic benchmark"),
    "monitor": ("engine.cli", "recognize events live from an input device or a replayed file (JSON lines)"),
    "devices": ("engine.cli", "list audio input devices"),
    "convert": ("engine.cli_labels", "convert label files between formats (DCASE, Audacity, Raven, SV, CSV)"),
    "batch": ("engine.cli_batch", "analyze a folder with one or two models: results table (CSV) and events (TSV)"),
}


def _audio_files(target: str) -> list[Path]:
    """The audio files of a folder (engine.audio.audio_files); any other target as given (a missing
    or unreadable file is reported when it is analyzed)."""
    from .audio import audio_files

    p = Path(target)
    return audio_files(p) if p.is_dir() else [p]


def _add_predict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model file (.safetensors)")
    parser.add_argument("inputs", nargs="+", help="audio files or folders (searched recursively)")
    parser.add_argument("--format", choices=("json", "tsv"), default="json",
                        help="json: one object per file per line; tsv: DCASE events (default json)")
    parser.add_argument("--threshold", type=float, default=None, help="one tagging threshold for all classes "
                        "(default: the model's class thresholds, tuned on validation data)")
    parser.add_argument("--segment-threshold", type=float, default=0.5,
                        help="segment probability that marks a tagged class active (default 0.5)")
    parser.add_argument("--scale", default=None, help="scale (index or name) events are read from "
                        "(default: the last backbone stage, 0.18 s)")
    parser.add_argument("--median", type=float, default=0.0, help="median filter length in seconds")
    parser.add_argument("--min-duration", type=float, default=0.0, help="drop events shorter than this (s)")
    parser.add_argument("--no-ensemble", action="store_true", help="M&mnet without ensemble prediction (eq. 9)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def _run_predict(args) -> int:
    from . import load_model
    from .analysis import events_to_tsv
    from .audio import AudioError

    predictor = load_model(args.model, device=args.device)
    scale = args.scale
    if scale is not None and scale.isdigit():
        scale = int(scale)
    failures = 0
    out = sys.stdout
    if args.format == "tsv":
        out.write("filename\tonset\toffset\tevent_label\n")
    for target in args.inputs:
        files = _audio_files(target)
        if not files:
            print(f"mmnet: {target}: no audio files found", file=sys.stderr)
            failures += 1
        for f in files:
            try:
                analysis = predictor.analyze(f, ensemble=False if args.no_ensemble else None)
                events = analysis.events(args.threshold, scale=scale, segment_threshold=args.segment_threshold,
                                         median_s=args.median, min_duration_s=args.min_duration)
            except AudioError as exc:
                print(f"mmnet: {exc}", file=sys.stderr)
                failures += 1
                continue
            if args.format == "json":
                out.write(json.dumps(analysis.to_dict(events)) + "\n")
            else:
                body = events_to_tsv([(f.name, e) for e in events]).split("\n", 1)[1]
                out.write(body)
            out.flush()
    return 1 if failures else 0


def _add_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model file (.safetensors)")


def _run_info(args) -> int:
    from .infer import model_info

    print(json.dumps(model_info(args.model), indent=2))
    return 0


def _add_monitor(parser):
    from .monitor import add_monitor_arguments

    add_monitor_arguments(parser)


def _run_monitor(args) -> int:
    from .monitor import run_monitor

    return run_monitor(args)


def _add_devices(parser):
    from .monitor import add_devices_arguments

    add_devices_arguments(parser)


def _run_devices(args) -> int:
    from .monitor import run_devices

    return run_devices(args)


_LOCAL = {"predict": (_add_predict, _run_predict), "info": (_add_info, _run_info),
          "monitor": (_add_monitor, _run_monitor), "devices": (_add_devices, _run_devices)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmnet", description="M&mnet sound event recognition and localization")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        if name in _LOCAL:
            add, run = _LOCAL[name]
        else:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name and module.startswith(exc.name):
                    continue  # not part of this build
                raise
            add, run = mod.add_arguments, mod.run
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import MMError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        return int(args._run(args) or 0)
    except (MMError, FileNotFoundError, ValueError) as exc:
        print(f"mmnet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mmnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
