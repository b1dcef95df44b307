"""What the training dialog asks for, as ``mmnet train`` / ``mmnet synth`` command lines, and its checks.

No Qt here: :func:`check` runs on a pool thread (it reads the dataset's lists and file headers).
A run is described by its ``TrainConfig`` dict (:class:`engine.train.TrainConfig` fields), the
same dict the trainer saves as ``RUN/config.json``, so a run started anywhere (the app, a terminal)
can be resumed from its folder with :func:`train_command`.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

LAUNCH = "launch.json"    # written by the app in a run folder: {"config": ..., "threads": ...}


def defaults() -> dict:
    """The paper's hyperparameters, from :class:`engine.train.TrainConfig` (data left empty)."""
    from engine.train import TrainConfig

    return TrainConfig(data="").to_dict()


@dataclass
class SynthSpec:
    """The synthetic benchmark to generate before the runs (``mmnet synth``); sizes in clips, duration in s."""

    folder: str
    n_train: int = 200
    n_validation: int = 40
    n_test: int = 40
    duration: float = 10.0
    seed: int = 0
    sr: int = 44100

    def command(self) -> list[str]:
        return [sys.executable, "-m", "engine", "synth", self.folder, "--n-train", str(self.n_train),
                "--n-validation", str(self.n_validation), "--n-test", str(self.n_test),
                "--duration", repr(float(self.duration)), "--seed", str(self.seed), "--sr", str(self.sr)]


@dataclass
class RunSpec:
    """One run: its folder (absolute), its TrainConfig dict and the CPU threads of its process (None: torch's)."""

    out: str
    config: dict = field(default_factory=dict)
    threads: int | None = None

    @property
    def name(self) -> str:
        return Path(self.out).name

    def command(self, resume: bool = False) -> list[str]:
        return train_command(self.config, self.out, resume=resume, threads=self.threads)

    def save(self) -> None:
        """Write ``RUN/launch.json`` (so the run can be started or resumed after a restart)."""
        Path(self.out).mkdir(parents=True, exist_ok=True)
        (Path(self.out) / LAUNCH).write_text(json.dumps({"config": self.config, "threads": self.threads}, indent=2))

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> "RunSpec | None":
        """The spec of a run folder: ``launch.json`` (app) or ``config.json`` (any run); None if neither."""
        run = Path(run_dir)
        for name in (LAUNCH, "config.json"):
            try:
                data = json.loads((run / name).read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if name == LAUNCH and isinstance(data.get("config"), dict):
                return cls(str(run.absolute()), data["config"], data.get("threads"))
            if name == "config.json" and isinstance(data, dict) and data.get("data"):
                return cls(str(run.absolute()), data, None)
        return None


def train_command(config: dict, out: str, resume: bool = False, threads: int | None = None) -> list[str]:
    """``python -m engine [--threads N] train ...`` reproducing ``config`` (a TrainConfig dict) in ``out``."""
    c = {**defaults(), **config}
    cmd = [sys.executable, "-m", "engine"]
    if threads:
        cmd += ["--threads", str(int(threads))]
    cmd += ["train", "--data", str(c["data"]), "--method", str(c["method"]), "--out", str(out),
            "--epochs", str(int(c["epochs"])), "--batch-size", str(int(c["batch_size"])), "--lr", repr(float(c["lr"])),
            "--momentum", repr(float(c["momentum"])), "--weight-decay", repr(float(c["weight_decay"])),
            "--lr-step", str(int(c["lr_step"])), "--lr-gamma", repr(float(c["lr_gamma"])), "--seed", str(int(c["seed"])),
            "--workers", str(int(c["workers"]))]
    if c.get("device"):
        cmd += ["--device", str(c["device"])]
    if c.get("amp") is False:
        cmd.append("--no-amp")
    if c.get("cache_dir"):
        cmd += ["--cache", str(c["cache_dir"])]
    if c.get("max_batches"):
        cmd += ["--max-batches", str(int(c["max_batches"]))]
    if c.get("keep_snapshots"):
        cmd.append("--keep-snapshots")
    if c.get("augment"):
        cmd += ["--augment", str(c["augment"])]
    for key, value in (c.get("model") or {}).items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    if resume:
        cmd.append("--resume")
    return cmd


def parse_options(text: str) -> dict:
    """``KEY=VALUE`` items separated by blanks or new lines (values JSON where possible) -> dict.

    Raises ValueError naming an item without ``=``."""
    from engine.train import parse_sets

    return parse_sets(text.split())


def parse_seeds(text: str) -> list[int]:
    """"0 1 2" or "0, 1, 2" -> [0, 1, 2]; raises ValueError on anything else or on none."""
    items = [s for s in text.replace(",", " ").split() if s]
    if not items:
        raise ValueError("give at least one seed")
    try:
        seeds = [int(s) for s in items]
    except ValueError:
        raise ValueError(f"seeds must be whole numbers: {text!r}") from None
    return list(dict.fromkeys(seeds))


def run_folder(root: str, method: str, seed: int, prefix: str = "") -> str:
    """Where a run of ``method`` with ``seed`` goes under the output folder ``root``."""
    return str((Path(root) / f"{prefix}{method}-seed{seed}").absolute())


def holds_run(folder: str | os.PathLike) -> bool:
    """True when a folder already holds (part of) a training run."""
    p = Path(folder)
    return any((p / n).exists() for n in ("checkpoint.pt", "events.jsonl", "config.json", "model.safetensors", LAUNCH))


def check(specs: list[RunSpec], synth: SynthSpec | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) for starting ``specs``: errors stop the start, warnings are shown first.

    Checks the methods and model options (:func:`engine.models.make_config`), the numbers, the device,
    run folders (one that holds a run, or two runs in one folder) and the dataset (the lists of its
    train and validation splits, :attr:`engine.data.Dataset.problems`), or the synthetic data's folder.
    """
    from engine.errors import MMError
    from engine.models import METHODS, make_config

    errors: list[str] = []
    warnings: list[str] = []
    if not specs:
        errors.append("choose at least one method")
    seen: set[str] = set()
    option_errors: dict[str, list[str]] = {}     # message -> the methods it concerns (said once)
    for spec in specs:
        c = spec.config
        method = c.get("method")
        if method not in METHODS:
            errors.append(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        else:
            try:
                make_config(method, 2, **dict(c.get("model") or {}))
            except (MMError, TypeError, ValueError) as exc:
                names = option_errors.setdefault(str(exc), [])
                if method not in names:
                    names.append(method)
        if spec.out in seen:
            errors.append(f"two runs would share the folder {spec.out}")
        seen.add(spec.out)
        if holds_run(spec.out):
            errors.append(f"{spec.out} already holds a run: choose another output folder or name, or resume it "
                          "from the runs view")
    errors[:0] = [f"{', '.join(names)}: {msg}" for msg, names in option_errors.items()]
    if specs:
        errors += _check_numbers(specs[0].config)
    if synth is not None:
        folder = Path(synth.folder)
        if folder.exists() and any(folder.iterdir()):
            errors.append(f"{folder}: the synthetic data needs a new or empty folder (to train on data "
                          "generated before, choose it as the dataset folder)")
        if min(synth.n_train, synth.n_validation) < 1 or synth.duration <= 0:
            errors.append("the synthetic benchmark needs at least one training and one validation clip")
    elif specs:
        e, w = _check_dataset(specs[0].config.get("data") or "", int(specs[0].config.get("seed") or 0))
        errors += e
        warnings += w
    return errors, warnings


def _check_numbers(c: dict) -> list[str]:
    out = []
    if int(c.get("epochs", 1)) < 1:
        out.append("epochs must be at least 1")
    if int(c.get("batch_size", 1)) < 1:
        out.append("the batch size must be at least 1")
    if not float(c.get("lr", 0.1)) > 0:
        out.append("the learning rate must be above 0")
    device = c.get("device")
    if device and str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            out.append("CUDA is not available on this machine: choose cpu")
    return out


def _check_dataset(data: str, seed: int) -> tuple[list[str], list[str]]:
    from engine.errors import MMError
    from engine.data import load_dataset

    if not data:
        return ["choose a dataset folder (or the synthetic benchmark)"], []
    if not Path(data).is_dir():
        return [f"{data}: no such dataset folder"], []
    errors, warnings = [], []
    for split in ("train", "validation"):
        try:
            ds = load_dataset(data, split, seed=seed)
        except (MMError, OSError, ValueError) as exc:
            errors.append(f"{split} split: {exc}")
            continue
        if not ds.items:
            errors.append(f"{data}: the {split} split holds no usable clips"
                          + (f" ({len(ds.problems)} unusable, e.g. {ds.problems[0][0]}: {ds.problems[0][1]})"
                             if ds.problems else ""))
        elif ds.problems:
            warnings.append(f"{split} split: {len(ds.problems)} unusable files will be left out, e.g. "
                            + "; ".join(f"{Path(p).name}: {r}" for p, r in ds.problems[:2]))
    return errors, warnings


def default_runs_root() -> str:
    """Where the app keeps training runs: ``$MMSTUDIO_RUNS``, else ``~/mmstudio-runs``."""
    return os.environ.get("MMSTUDIO_RUNS") or str(Path.home() / "mmstudio-runs")
