"""One training run as the app sees it: its status, progress, per-epoch history and log.

:class:`Run` takes the events of ``RUN/events.jsonl`` (schema in :mod:`engine.runs`) one by one
(:meth:`Run.apply`) and reads the process's output, ``RUN/train.log``, incrementally (:meth:`Run.read_log`).
Plain Python (no Qt): the :class:`~mmgui.runs.model.RunsModel` owns the runs and their processes.
"""
from __future__ import annotations

from pathlib import Path

from engine.runs import CHECKPOINT, EventFollower, snapshots

from .spec import RunSpec

LOG = "train.log"          # the process's merged stdout/stderr, appended (the log survives a restart)
MAX_LOG_LINES = 5000


class Run:
    """One run as the app sees it (plain Python, owned by the :class:`RunsModel`).

    history: epoch -> the ``epoch`` event (train_loss, val_mAP, lr, ...), epochs from 1;
    progress: the newest ``batch`` event of the current attempt; features: (done, total) of the cache.
    """

    def __init__(self, path: str, spec: RunSpec | None = None):
        self.path = str(Path(path).absolute())
        self.spec = spec or RunSpec.load(self.path)
        self.status = "new"
        self.reason: str | None = None
        self.history: dict[int, dict] = {}
        self.progress: dict | None = None
        self.features: tuple[int, int] | None = None
        self.start: dict | None = None
        self.finished: dict | None = None
        self.log: list[str] = []
        self.waiting: str | None = None        # synthetic data folder being generated first
        self.resume_next = False               # queued to continue from its checkpoint
        self.process: QProcess | None = None
        self.exit_code: int | None = None
        self.follower = EventFollower(self.path)   # new lines of the run's events.jsonl
        self._log_offset = 0
        self._log_tail = b""

    # ------------------------------------------------------------------ facts
    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def config(self) -> dict:
        return (self.start or {}).get("config") or (self.spec.config if self.spec else {})

    @property
    def method(self) -> str:
        return str(self.config.get("method") or "?")

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs") or 0)

    @property
    def model(self) -> str | None:
        path = Path(self.path) / "model.safetensors"
        return str(path) if self.status == "finished" and path.exists() else None

    @property
    def resumable(self) -> bool:
        return self.status in ("cancelled", "interrupted", "failed") and (Path(self.path) / CHECKPOINT).exists()

    @property
    def startable(self) -> bool:
        """Never started (or stopped before its first checkpoint) and the app knows how to start it."""
        return (self.status in ("new", "cancelled", "interrupted", "failed") and not self.resumable
                and self.spec is not None and not (Path(self.path) / "model.safetensors").exists())

    @property
    def snapshots(self) -> list[tuple[int, Path]]:
        return snapshots(self.path)

    @property
    def fraction(self) -> float:
        """Training progress in [0, 1] (batches done over all batches)."""
        if self.status == "finished":
            return 1.0
        p = self.progress
        if p and p.get("epochs") and p.get("batches"):
            return min(1.0, ((p["epoch"] - 1) * p["batches"] + p["batch"]) / (p["epochs"] * p["batches"]))
        done = max(self.history) if self.history else 0
        return min(1.0, done / self.epochs) if self.epochs else 0.0

    @property
    def speed(self) -> float | None:
        """Clips per second of the current attempt (None before its first batch or when not running)."""
        return self.progress.get("clips_per_s") if self.progress and self.status == "running" else None

    @property
    def eta_s(self) -> float | None:
        return self.progress.get("eta_s") if self.progress and self.status == "running" else None

    @property
    def best_mAP(self) -> float | None:
        values = [e.get("val_mAP") for e in self.history.values() if e.get("val_mAP") is not None]
        return max(values) if values else None

    def curves(self) -> dict[str, tuple[list[int], list[float]]]:
        """key -> (epochs, values) for train_loss, val_mAP, val_AUC, lr (undefined values left out)."""
        out = {}
        for key in ("train_loss", "val_mAP", "val_AUC", "lr"):
            pts = [(k, e[key]) for k, e in sorted(self.history.items()) if e.get(key) is not None]
            out[key] = ([p[0] for p in pts], [float(p[1]) for p in pts])
        return out

    # ---------------------------------------------------------------- reading
    def apply(self, ev: dict) -> str | None:
        """Take one event; returns a log line for it (or None)."""
        kind = ev.get("type")
        if kind == "start":
            self.start, self.progress, self.features, self.finished = ev, None, None, None
            if self.spec is None and isinstance(ev.get("config"), dict):   # a run started elsewhere
                self.spec = RunSpec.load(self.path) or RunSpec(self.path, ev["config"])
            self.status, self.reason = "running", None
            return ev.get("message")
        if kind == "features":
            self.features = (int(ev.get("done", 0)), int(ev.get("total", 0)))
        elif kind == "batch":
            self.progress = ev
        elif kind == "epoch":
            self.history[int(ev.get("epoch", 0))] = ev
            return (f"epoch {ev.get('epoch')}/{ev.get('epochs')}: loss {_f(ev.get('train_loss'))} "
                    f"val mAP {_f(ev.get('val_mAP'))} lr {ev.get('lr')}" + (" (best)" if ev.get("best") else ""))
        elif kind in ("finished", "failed", "cancelled"):
            self.status = kind
            self.reason = ev.get("reason") if kind in ("failed", "cancelled") else None
            if kind == "finished":
                self.finished = ev
            return ev.get("message") or f"{kind}: {ev.get('reason', '')}"
        elif kind == "log":
            return ev.get("message")
        return None

    def read_log(self) -> list[str]:
        """New complete lines of ``RUN/train.log`` (carriage-return progress lines split)."""
        try:
            with open(Path(self.path) / LOG, "rb") as f:
                f.seek(self._log_offset)
                data = f.read()
        except OSError:
            return []
        self._log_offset += len(data)
        data = self._log_tail + data
        end = data.rfind(b"\n") + 1
        self._log_tail = data[end:]
        text = data[:end].decode("utf-8", errors="replace").replace("\r", "\n")
        return [line.rstrip() for line in text.split("\n") if line.strip()]


def _f(v) -> str:
    return "-" if v is None else f"{float(v):.4f}"
