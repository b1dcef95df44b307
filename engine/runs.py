"""Training run folders and their event logs, for ``mmnet train --events`` and a runs view.

Every run folder holds ``events.jsonl``: one JSON object per line, appended by the
training process (a resumed run appends a new ``start``). Each object has ``type``,
``time`` (UNIX s) and ``run`` (the folder); the types and their fields:

==========  ==================================================================================
start       config (the TrainConfig dict), method, dataset (folder), clips {train, validation},
            classes, device, world_size, epochs, resumed, pid, host; first, once the dataset's
            lists are read
log         message (for example files of the dataset left out)
features    done, total: feature-cache progress before training (at most 4 per second)
ready       clips {train, validation} (those with features), batches (per epoch), start_epoch,
            start_batch: training begins there
batch       epoch, epochs, batch, batches, loss, clips_per_s, eta_s (at most 4 per second to
            files and streams, plus the last batch of every epoch)
epoch       epoch, epochs, train_loss, val_mAP, val_AUC, val_F1_class_mean, lr, seconds, best,
            checkpoint (path), snapshot (path or null), best_model (path)
finished    model (path), best_epoch, best_mAP, val_F1_class_mean_tuned, seconds
failed      reason (one line), error_type (the exception's class name)
cancelled   reason ("SIGTERM", "SIGINT" or "stop requested"), checkpoint (path or null:
            stopped before training began), epoch, batch (where ``--resume`` continues)
==========  ==================================================================================

Epochs and batches count from 1 in events. A run whose last ``start`` has no
``finished``/``failed``/``cancelled`` after it is running while its process holds
``RUN/lock`` (an exclusive ``flock``), and was interrupted (killed from outside) otherwise.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

EVENTS = "events.jsonl"
LOCK = "lock"
CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
SNAPSHOTS = "snapshots"
TERMINAL = ("finished", "failed", "cancelled")
THROTTLED = ("batch", "features")

try:
    import fcntl
except ImportError:  # Windows: no run locks; liveness falls back to the process id
    fcntl = None


class EventWriter:
    """Writes events as JSON lines to a file (appended) or a stream (``-`` = stdout), one flush per line.

    ``batch`` and ``features`` events are thinned to one per ``min_interval_s`` (the last batch of
    an epoch and the last feature step always pass); every other event is written.
    """

    def __init__(self, target: str | os.PathLike | IO[str], min_interval_s: float = 0.25):
        self._own = False
        if target == "-":
            self._f = sys.stdout
        elif hasattr(target, "write"):
            self._f = target
        else:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(path, "a", encoding="utf-8")
            self._own = True
        self.min_interval_s = float(min_interval_s)
        self._last: dict[str, float] = {}

    def write(self, event: dict) -> None:
        kind = event.get("type")
        if kind in THROTTLED:
            now = time.monotonic()
            last_step = (event.get("batch") == event.get("batches")) if kind == "batch" else (
                event.get("done") == event.get("total"))
            if not last_step and now - self._last.get(kind, -1e9) < self.min_interval_s:
                return
            self._last[kind] = now
        self._f.write(json.dumps(clean_numbers(event), allow_nan=False, default=_jsonable) + "\n")
        self._f.flush()

    def close(self) -> None:
        if self._own:
            self._f.close()


def _jsonable(v):
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON serializable: {type(v).__name__}")


def clean_numbers(value):
    """NaN and infinities (a metric undefined on a tiny validation split) as null: strict JSON."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_numbers(v) for v in value]
    return value


def read_events(path: str | os.PathLike) -> list[dict]:
    """Every complete event of an ``events.jsonl`` (a line torn by a kill is skipped)."""
    path = Path(path)
    if path.is_dir():
        path = path / EVENTS
    if not path.exists():
        return []
    data = path.read_bytes()
    return _complete_events(data[:data.rfind(b"\n") + 1])


def _complete_events(data: bytes) -> list[dict]:
    """The events in ``data``, complete lines only: a line that is not a JSON object with a type is skipped."""
    out = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(ev, dict) and "type" in ev:
            out.append(ev)
    return out


class EventFollower:
    """Follows a growing ``events.jsonl``: ``poll()`` returns the events completed since the last call."""

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        self.path = path / EVENTS if path.is_dir() else path
        self._offset = 0

    def poll(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        return _complete_events(data[:end])


class RunLock:
    """An exclusive lock on ``RUN/lock`` held while a process trains in the folder."""

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / LOCK
        self._f = None

    def acquire(self, wait_s: float = 2.0) -> bool:
        """True when this process now owns the run (waits up to ``wait_s`` for a reader's brief look)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a+")
        if fcntl is None:
            return True
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._f.seek(0)
                self._f.truncate()
                self._f.write(f"{os.getpid()} {socket.gethostname()}\n")
                self._f.flush()
                return True
            except OSError:
                if time.monotonic() > deadline:
                    self._f.close()
                    self._f = None
                    return False
                time.sleep(0.1)

    def release(self) -> None:
        if self._f is not None:
            self._f.close()   # closing drops the flock
            self._f = None


def is_locked(run_dir: str | os.PathLike) -> bool | None:
    """Whether a process holds the run's lock now (None where locks are not available)."""
    path = Path(run_dir) / LOCK
    if fcntl is None:
        return None
    if not path.exists():
        return False
    with open(path) as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


@dataclass
class RunState:
    """What a run folder says about its run.

    status: "new" (nothing yet), "running", "finished", "failed", "cancelled" or
    "interrupted" (its process died without a final event; ``resumable`` if a checkpoint exists).
    history: the epoch events of the whole run (resumes included), in order.
    progress: the newest batch event of the current attempt (None before the first batch).
    """

    path: Path
    status: str
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    progress: dict | None = None
    last: dict | None = None
    error: str | None = None
    model: Path | None = None
    resumable: bool = False
    snapshots: list[tuple[int, Path]] = field(default_factory=list)

    @property
    def method(self) -> str | None:
        return self.config.get("method")


def snapshots(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(epoch, path) of the per-epoch model snapshots (``--keep-snapshots``), by epoch; epoch 0 = initial."""
    folder = Path(run_dir) / SNAPSHOTS
    out = []
    if folder.is_dir():
        for p in folder.glob("epoch-*.safetensors"):
            try:
                out.append((int(p.stem.split("-", 1)[1]), p))
            except ValueError:
                continue
    return sorted(out)


def run_state(run_dir: str | os.PathLike) -> RunState:
    """Read a run folder (never fails on a damaged or partial one: that is a status too)."""
    run = Path(run_dir)
    events = read_events(run / EVENTS)
    config = {}
    try:
        config = json.loads((run / CONFIG).read_text())
    except (OSError, json.JSONDecodeError):
        pass
    starts = [i for i, e in enumerate(events) if e["type"] == "start"]
    current = events[starts[-1]:] if starts else events
    history_by_epoch: dict[int, dict] = {}
    for e in events:
        if e["type"] == "epoch":
            history_by_epoch[int(e.get("epoch", 0))] = e
    if starts and not config:
        config = events[starts[-1]].get("config") or {}
    terminal = next((e for e in reversed(current) if e["type"] in TERMINAL), None)
    resumable = (run / CHECKPOINT).exists()
    if terminal is not None:
        status = terminal["type"]
    elif not starts and not is_locked(run):
        status = "interrupted" if resumable else "new"
    else:
        locked = is_locked(run)
        if locked is None:
            locked = bool(starts) and _pid_alive(events[starts[-1]].get("pid"))
        status = "running" if locked else "interrupted"
    progress = next((e for e in reversed(current) if e["type"] == "batch"), None)
    model = run / "model.safetensors"
    return RunState(run, status, config, [history_by_epoch[k] for k in sorted(history_by_epoch)], progress,
                    events[-1] if events else None,
                    terminal.get("reason") if terminal is not None and status == "failed" else None,
                    model if status == "finished" and model.exists() else None,
                    resumable and status in ("cancelled", "interrupted", "failed"), snapshots(run))


def list_runs(root: str | os.PathLike) -> list[RunState]:
    """The runs in the folders directly under ``root`` (those with an events log or a config), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and ((p / EVENTS).exists() or (p / CONFIG).exists())]
    runs.sort(key=lambda p: max((p / n).stat().st_mtime for n in (EVENTS, CONFIG) if (p / n).exists()),
              reverse=True)
    return [run_state(p) for p in runs]
