"""The runs of a runs folder, each trained by its own ``mmnet train`` process (QProcess).

:class:`RunsModel` reads the folder (:func:`engine.runs.list_runs`), starts queued runs N at a
time, follows every run's ``events.jsonl`` (:class:`engine.runs.EventFollower`) and the process's
output (``RUN/train.log``) with one QTimer on the GUI thread (no threads), and keeps per run:
status, progress, speed, ETA, the per-epoch history (curves) and the log. A run's process crashing
never touches the app: it only ends that run (failed with its last line, or interrupted).

Statuses: ``new`` (a folder the app prepared, never started), ``queued``, ``running``, ``finished``,
``failed`` (``reason``), ``cancelled``, ``interrupted`` (its process died without a final event,
for example killed from outside; ``resumable`` when a checkpoint exists).
"""
from __future__ import annotations

import os
import signal
import socket
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal
from engine.runs import CHECKPOINT, is_locked, list_runs, run_state

from .run import LOG, MAX_LOG_LINES, Run
from .spec import LAUNCH, RunSpec, SynthSpec


class RunsModel(QObject):
    """The runs of one runs folder; every run trains in its own process, ``parallel`` at a time."""

    runsChanged = Signal()                # runs added or removed (the folder was read again)
    runChanged = Signal(str)              # a run's status / progress changed (its path)
    epochAdded = Signal(str, int)         # run path, epoch: its curves grew
    logAdded = Signal(str, str)           # run path, one line
    modelReady = Signal(str)              # the model file of a run that just finished
    message = Signal(str, str)            # text, level ("info" | "warning" | "error")

    def __init__(self, root: str | None = None, parallel: int = 1, poll_ms: int = 250, parent=None):
        super().__init__(parent)
        self.root: str | None = None
        self.parallel = max(1, int(parallel))
        self.runs: dict[str, Run] = {}
        self._queue: list[str] = []
        self._synth: dict[str, QProcess] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(int(poll_ms))
        self._timer.timeout.connect(self.poll)
        self._ticks = 0
        if root:
            self.set_root(root)
        self._timer.start()

    # ---------------------------------------------------------------- folder
    def set_root(self, root: str) -> None:
        """Read a runs folder: its runs reappear with their curves and logs. A folder that does
        not exist yet is not made here (the first launched run makes it), so merely starting
        the app leaves the user's home as it was."""
        if Path(root).exists() and not Path(root).is_dir():
            self.message.emit(f"{root}: cannot use this runs folder (not a folder)", "error")
            return
        self.root = str(Path(root).absolute())
        keep = {p: r for p, r in self.runs.items() if r.process is not None or p in self._queue}
        self.runs = dict(keep)
        found = []
        if Path(self.root).is_dir():
            try:
                found = [s.path for s in list_runs(self.root)]
                found += [p for p in Path(self.root).iterdir() if (p / LAUNCH).exists() and p not in found]
            except OSError as exc:
                self.message.emit(f"{root}: cannot read this runs folder ({exc.strerror or exc})", "error")
        for path in found:
            path = str(Path(path).absolute())
            if path not in self.runs:
                self.runs[path] = self._read(path)
        self.runsChanged.emit()

    def _read(self, path: str) -> Run:
        run = Run(path)
        for ev in run.follower.poll():
            line = run.apply(ev)
            if line:
                run.log.append(line)
        if (Path(path) / LOG).exists():
            run.log = run.read_log()
        state = run_state(path)
        run.status = state.status
        run.reason = state.error or run.reason
        if state.status == "interrupted":
            run.reason = "its process ended without a final event (killed from outside?)"
        return run

    def run(self, path: str) -> Run | None:
        return self.runs.get(str(Path(path).absolute()))

    def ordered(self) -> list[Run]:
        """Newest first: the queue's runs and the folder's (by their last activity)."""
        def mtime(r: Run) -> float:
            try:
                return max((Path(r.path) / n).stat().st_mtime for n in ("events.jsonl", LAUNCH, LOG)
                           if (Path(r.path) / n).exists())
            except ValueError:
                return 0.0
        return sorted(self.runs.values(), key=mtime, reverse=True)

    # ------------------------------------------------------------- starting
    def submit(self, specs: list[RunSpec], synth: SynthSpec | None = None) -> list[Run]:
        """Queue new runs (their folders get ``launch.json``); with ``synth``, generate its data first."""
        for spec in specs:      # every folder first: an OSError here queues nothing
            spec.save()
        out = []
        for spec in specs:
            run = Run(spec.out, spec)
            run.status = "queued"
            run.waiting = synth.folder if synth is not None else None
            self.runs[run.path] = run
            self._queue.append(run.path)
            out.append(run)
        if synth is not None:
            self._generate(synth)
        self.runsChanged.emit()
        self._schedule()
        return out

    def resume(self, path: str) -> bool:
        """Queue a cancelled/interrupted/failed run to continue from its checkpoint (or a never-started run)."""
        run = self.run(path)
        if run is None or run.process is not None or not (run.resumable or run.startable):
            return False
        if run.spec is None:
            self.message.emit(f"{run.name}: no config.json or launch.json to resume it from", "error")
            return False
        run.resume_next = run.resumable
        run.status, run.reason = "queued", None
        self._queue.append(run.path)
        self.runChanged.emit(run.path)
        self._schedule()
        return True

    def cancel(self, path: str) -> bool:
        """Stop a run: a queued one leaves the queue; a running one gets SIGTERM (checkpoint, then exit)."""
        run = self.run(path)
        if run is None:
            return False
        if run.path in self._queue:
            self._queue.remove(run.path)
            run.status, run.reason = "cancelled", "cancelled before it started"
            self.runChanged.emit(run.path)
            return True
        if run.process is not None:
            run.process.terminate()
            self.logAdded.emit(run.path, "stopping after a checkpoint (SIGTERM)")
            return True
        pid = (run.start or {}).get("pid")
        here = (run.start or {}).get("host") == socket.gethostname()
        if run.status == "running" and pid and here and is_locked(run.path):   # started elsewhere, on this machine
            os.kill(int(pid), signal.SIGTERM)
            return True
        return False

    def _schedule(self) -> None:
        active = sum(1 for r in self.runs.values() if r.process is not None)
        for path in list(self._queue):
            if active >= self.parallel:
                break
            run = self.runs.get(path)
            if run is None or run.waiting:
                continue
            self._queue.remove(path)
            self._start(run)
            active += 1

    def _start(self, run: Run) -> None:
        cmd = run.spec.command(resume=run.resume_next)
        proc = QProcess(self)
        proc.setProgram(cmd[0])
        proc.setArguments(cmd[1:])
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.setStandardOutputFile(str(Path(run.path) / LOG), QProcess.OpenModeFlag.Append)
        cwd = _start_folder(run)
        if cwd:
            proc.setWorkingDirectory(cwd)
        if run.spec.threads:
            env = proc.processEnvironment()
            if env.isEmpty():
                from PySide6.QtCore import QProcessEnvironment

                env = QProcessEnvironment.systemEnvironment()
            env.insert("OMP_NUM_THREADS", str(int(run.spec.threads)))
            proc.setProcessEnvironment(env)
        proc.finished.connect(partial(self._process_finished, run.path))
        proc.errorOccurred.connect(partial(self._process_error, run.path))
        run.process, run.exit_code = proc, None
        run.status, run.reason, run.progress, run.features = "running", None, None, None
        with open(Path(run.path) / LOG, "a", encoding="utf-8") as f:   # the command heads its part of the log
            f.write(f"$ {' '.join(cmd[1:])}\n")
        proc.start()
        self.runChanged.emit(run.path)

    def _process_error(self, path: str, error) -> None:
        run = self.runs.get(path)
        if run is not None and error == QProcess.ProcessError.FailedToStart and run.process is not None:
            proc, run.process = run.process, None
            proc.deleteLater()
            run.status, run.reason = "failed", f"cannot start the training process: {proc.errorString()}"
            self.runChanged.emit(path)
            self._schedule()

    def _process_finished(self, path: str, code: int, status) -> None:
        try:
            self._ended(path, code, status)
        except RuntimeError:     # the model is being destroyed (its QProcess ends with it): nothing to show
            pass

    def _ended(self, path: str, code: int, status) -> None:
        run = self.runs.get(path)
        if run is None or run.process is None:
            return
        proc, run.process = run.process, None
        _delete_later(proc)
        run.exit_code = code
        self._follow(run)
        if run.status == "running":     # no final event from this attempt
            if status == QProcess.ExitStatus.CrashExit:
                run.status = "interrupted"
                run.reason = "its process was killed" + ("" if run.resumable else " before its first checkpoint")
            else:
                run.status = "failed"
                run.reason = next((s for s in reversed(run.log) if not s.startswith("$ ")), f"exit status {code}")
        self.runChanged.emit(path)
        self._schedule()

    # ---------------------------------------------------------- synthetic data
    def _generate(self, synth: SynthSpec) -> None:
        if synth.folder in self._synth:
            return
        cmd = synth.command()
        proc = QProcess(self)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.finished.connect(partial(self._synth_finished, synth.folder))
        self._synth[synth.folder] = proc
        for run in self._waiting(synth.folder):
            self._note(run, f"$ {' '.join(cmd[1:])}")
        proc.start(cmd[0], cmd[1:])

    def _note(self, run: Run, line: str) -> None:
        run.log.append(line)
        self.logAdded.emit(run.path, line)

    def _waiting(self, folder: str) -> list[Run]:
        return [r for r in self.runs.values() if r.waiting == folder]

    def _synth_finished(self, folder: str, code: int, status) -> None:
        proc = self._synth.pop(folder)
        text = bytes(proc.readAll()).decode("utf-8", errors="replace").strip()
        proc.deleteLater()
        ok = code == 0 and status == QProcess.ExitStatus.NormalExit
        for run in self._waiting(folder):
            run.waiting = None
            for line in (text.splitlines()[-5:] if not ok else [f"synthetic benchmark ready in {folder}"]):
                self._note(run, line)
            if not ok:
                if run.path in self._queue:
                    self._queue.remove(run.path)
                run.status = "failed"
                run.reason = "generating the synthetic data failed: " + (text.splitlines() or [f"exit {code}"])[-1]
            self.runChanged.emit(run.path)
        if ok:
            self.message.emit(f"synthetic benchmark ready in {folder}", "info")
        self._schedule()

    # --------------------------------------------------------------- follow
    def poll(self) -> None:
        """Read what every live run wrote since the last poll (the timer calls this)."""
        self._ticks += 1
        for run in list(self.runs.values()):
            if run.process is not None or run.status == "running":
                self._follow(run)
            if run.process is None and run.status == "running" and self._ticks % 4 == 0:
                if not is_locked(run.path):       # a run started elsewhere (or before a restart) ended
                    self._follow(run)
                    if run.status == "running":
                        run.status = "interrupted"
                        run.reason = "its process ended without a final event (killed from outside?)"
                        self.runChanged.emit(run.path)

    def _follow(self, run: Run) -> None:
        changed = False
        was = run.status
        for ev in run.follower.poll():
            changed = True
            line = run.apply(ev)
            if line and not (Path(run.path) / LOG).exists():    # a run started elsewhere: its events are its log
                run.log.append(line)
                self.logAdded.emit(run.path, line)
            if ev.get("type") == "epoch":
                self.epochAdded.emit(run.path, int(ev.get("epoch", 0)))
            if ev.get("type") == "finished" and run.model:
                self.modelReady.emit(run.model)
        for line in run.read_log():
            run.log.append(line)
            self.logAdded.emit(run.path, line)
        del run.log[:-MAX_LOG_LINES]
        if changed or run.status != was:
            self.runChanged.emit(run.path)

    # --------------------------------------------------------------- closing
    def running(self) -> list[Run]:
        return [r for r in self.runs.values() if r.process is not None]

    def shutdown(self, wait_ms: int = 15000) -> None:
        """Stop every run this app started after a checkpoint (SIGTERM), waiting up to ``wait_ms`` each;
        they are offered for resume at the next start."""
        self._timer.stop()
        self._queue.clear()
        for proc in list(self._synth.values()):
            proc.kill()
            proc.waitForFinished(2000)
        for run in self.running():
            run.process.terminate()
        for run in self.running():
            if run.process is not None and not run.process.waitForFinished(wait_ms):
                run.process.kill()
                run.process.waitForFinished(2000)


def _start_folder(run: Run) -> str | None:
    """The working directory a run started with a relative ``--data`` needs to resume (from its ``start``
    event's absolute dataset), or None."""
    data = str(run.config.get("data") or "")
    dataset = (run.start or {}).get("dataset")
    if not data or Path(data).is_absolute() or not dataset:
        return None
    base = Path(dataset)
    for _ in Path(data).parts:
        base = base.parent
    return str(base) if (base / data).resolve() == Path(dataset).resolve() else None


def _delete_later(obj: QObject) -> None:
    try:
        obj.deleteLater()
    except RuntimeError:    # already destroyed with its parent (the model is being torn down)
        pass
