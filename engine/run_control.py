"""Control of one training process: its run folder, its events, its checkpoints and its stop signals.

:mod:`engine.train` trains; this module is the glue around it that does not depend on the model:

- :func:`own_run_folder`: check that a folder may hold a run (new or resumed), take its lock
  (``RUN/lock``) and open its ``events.jsonl`` (schema in :mod:`engine.runs`);
- :func:`stamp_event`, :func:`write_event`, :func:`print_event`: an event dict gets its type,
  time (UNIX s) and run folder, goes to the event sinks (a broken sink is dropped, never stops
  training) and, for a person, to stderr as progress lines;
- :func:`event_sinks`: the sinks of ``mmnet train --events FILE|-``;
- :func:`atomic_torch_save`: a checkpoint written so that a reader or a crash sees the old one
  or the new one, never half of one;
- :func:`install_stop_handlers`, :func:`restore_handlers`: SIGINT / SIGTERM ask the run to stop
  after a checkpoint; a second signal ends the process at once.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .errors import TrainingError
from .runs import CHECKPOINT, EVENTS, EventWriter, RunLock


# ------------------------------------------------------------------ run folder
def own_run_folder(out: Path, resume: bool, is_main: bool) -> tuple[RunLock | None, EventWriter | None]:
    """Check that ``out`` may hold this run (``resume``: it must hold a checkpoint; otherwise it must
    not), then, in the main process, lock it and open its events log. Returns (lock, events log);
    (None, None) in the other processes of a distributed run. Raises :class:`TrainingError`."""
    if resume and not (out / CHECKPOINT).exists():
        raise TrainingError(f"{out}: nothing to resume (no {CHECKPOINT})")
    if not resume and (out / CHECKPOINT).exists():
        raise TrainingError(f"{out} already holds a run; use --resume to continue it or another --out")
    if not is_main:
        return None, None
    out.mkdir(parents=True, exist_ok=True)
    lock = RunLock(out)
    if not lock.acquire():
        raise TrainingError(f"{out}: another process is training in this folder")
    return lock, EventWriter(out / EVENTS)


# ---------------------------------------------------------------------- events
def stamp_event(event: dict, run: Path) -> dict:
    """The event with ``type`` first, then ``time`` (UNIX s, ms resolution) and ``run`` (the folder)."""
    return {"type": event["type"], "time": round(time.time(), 3), "run": str(run),
            **{k: v for k, v in event.items() if k != "type"}}


def write_event(event: dict, run_log: EventWriter | None, sinks: list) -> None:
    """Write ``event`` to the run's own log and to every sink. A sink that fails (a closed pipe, a
    full disk) is reported on stderr and removed from ``sinks`` (the run's log is kept): writing
    events must never stop training."""
    for sink in ([run_log] if run_log is not None else []) + list(sinks):
        try:
            sink.write(event)
        except (OSError, ValueError) as exc:
            if sink is not run_log:
                sinks.remove(sink)
            sys.stderr.write(f"mmnet train: cannot write events ({exc})\n")


def print_event(event: dict) -> None:
    """Human progress on stderr: a progress bar of batches on a terminal (one line per epoch in a
    log file), feature-cache progress, and the message of start/log/finished/cancelled events
    (a ``failed`` run's exception speaks for itself)."""
    kind = event["type"]
    tty = sys.stderr.isatty()
    if kind == "features":
        _print_cache_progress(event["done"], event["total"], tty)
        return
    if kind == "batch" and not tty:
        return
    if kind == "batch":
        eta = event.get("eta_s")
        line = (f"\repoch {event['epoch']}/{event['epochs']} batch {event['batch']}/{event['batches']} "
                f"loss {event['loss']:.4f} {event['clips_per_s']:.1f} clips/s"
                + (f" ETA {fmt_time(eta)}" if eta is not None else ""))
        sys.stderr.write(line.ljust(100)[:100])
    elif kind == "epoch":
        if tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
        sys.stderr.write(
            f"epoch {event['epoch']}/{event['epochs']}: loss {event['train_loss']:.4f} "
            f"val mAP {event['val_mAP']:.4f} AUC {event['val_AUC']:.4f} lr {event['lr']:.4g} "
            f"({event['seconds']:.1f} s){' *best*' if event['best'] else ''}\n")
    elif kind in ("start", "finished", "cancelled", "log"):
        sys.stderr.write(f"{event.get('message', kind)}\n")
    sys.stderr.flush()


def _print_cache_progress(done: int, total: int, tty: bool) -> None:
    if tty:
        sys.stderr.write(f"\rfeatures {done}/{total}" + ("\n" if done == total else ""))
    elif done == total:
        sys.stderr.write(f"features of {total} clips ready\n")
    sys.stderr.flush()


def fmt_time(seconds: float) -> str:
    """Seconds as M:SS or H:MM:SS."""
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def event_sinks(target: str | None, out: str | os.PathLike) -> list[EventWriter]:
    """The extra sinks of ``--events FILE|-`` (none when FILE is the run folder's own log)."""
    if not target:
        return []
    if target != "-" and Path(target).resolve() == (Path(out) / EVENTS).resolve():
        return []
    return [EventWriter(target)]


# ----------------------------------------------------------------- checkpoints
def atomic_torch_save(obj, path: Path) -> None:
    """Write to a temporary file, flush it to disk, then rename it over ``path``: a reader (or a
    crash) sees the old checkpoint or the new one, never half of one."""
    import torch

    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------- signals
def install_stop_handlers(trainer) -> dict:
    """SIGINT / SIGTERM: the first asks ``trainer`` to stop after a checkpoint (``request_stop``, and
    ``trainer.stop_signal`` is set to the signal's number); a second one ends the process at once (the
    signal's default action). Only in the main thread (elsewhere nothing is installed). Returns the
    previous handlers, for :func:`restore_handlers`."""
    import signal
    import threading

    trainer.stop_signal = 0
    previous = {}

    def handler(signum, frame):
        if trainer.stop_signal:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        trainer.stop_signal = signum
        trainer.request_stop(signal.Signals(signum).name)
        sys.stderr.write(f"\nmmnet train: {signal.Signals(signum).name}: stopping after a checkpoint "
                         "(send it again to stop at once)\n")

    if threading.current_thread() is not threading.main_thread():
        return previous
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def restore_handlers(previous: dict) -> None:
    """Put back the handlers :func:`install_stop_handlers` replaced."""
    import signal

    for sig, h in previous.items():
        signal.signal(sig, h)
