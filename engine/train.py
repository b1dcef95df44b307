"""Training: ``mmnet train --data DIR --method NAME --out RUN_DIR``.

The paper's recipe by default: SGD (lr 0.1, momentum 0.9, weight decay 1e-4),
batch 64, lr divided by 10 every 30 epochs, 100 epochs, He initialization
(in the models), per-class loss weights of eq. 11 from the training labels.

A run folder holds:
  config.json         the full training configuration
  metrics.csv         one row per epoch (losses, validation mAP/AUC/F1, lr, time)
  checkpoint.pt       model, optimizer, scheduler, RNG, position and the losses of the epoch begun;
                      written atomically after every epoch and on Ctrl-C (``--resume`` continues
                      exactly from it: same weights and same metrics.csv rows, but for seconds)
  best.safetensors    the best epoch by validation mAP so far
  model.safetensors   the export: best epoch with class thresholds tuned on the validation split
  events.jsonl        the run's events, one JSON object per line (schema in :mod:`engine.runs`)
  lock                held (flock) by the process training in the folder
  snapshots/          with ``--keep-snapshots``: epoch-000.safetensors (initial weights),
                      epoch-001.safetensors, ... (float16 weights, loadable by engine.load_model)
  tensorboard/        TensorBoard logs when tensorboard is installed
Only checkpoints this program wrote are read back, with ``torch.load(weights_only=True)``.

Determinism: the order of clips in epoch e is a permutation drawn from
(seed, e) alone, so a resumed run visits the same batches as an uninterrupted
one. Progress goes to the terminal (stderr), to the run's events.jsonl, to
``--events FILE|-`` and to any callback as event dicts {"type": "start" | "log" |
"features" | "batch" | "epoch" | "finished" | "failed" | "cancelled", ...}
(fields in :mod:`engine.runs`).

Stopping: ``request_stop()``, SIGINT or SIGTERM (the CLI) stop the run before its next
batch, after an atomic checkpoint, with a final ``cancelled`` event; ``--resume``
continues exactly there. A second signal ends the process at once (the checkpoint
on disk stays the previous one). Exit codes of ``mmnet train``: 0 finished, 2 a
problem the user can fix (data, options, resume), 1 an unexpected error, 128 +
the signal's number when stopped by a signal (130 SIGINT, 143 SIGTERM).

Distributed training uses PyTorch's own launcher: ``torchrun --nproc-per-node N
-m engine train ...`` (DDP; NCCL on GPUs, gloo on CPUs). Each rank takes every
N-th clip of the epoch's permutation; rank 0 writes the run folder.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import Cancelled, DatasetError, user_message
from .augment import Augmenter, parse_names
from .features import FeatureConfig, Normalizer
from .losses import class_weights, method_loss
from .modelfile import ModelBundle, save_model
from .models import METHODS, make_config
from .models.network import SoundEventModel
from .run_control import (atomic_torch_save, event_sinks, install_stop_handlers, own_run_folder, print_event,
                          restore_handlers, stamp_event, write_event)
from .runs import CHECKPOINT  # noqa: F401  (re-exported: engine.train.CHECKPOINT)
from .errors import TrainingError  # noqa: F401  (re-exported)


@dataclass
class TrainConfig:
    """Everything that defines a run (saved as config.json in the run folder)."""

    data: str
    method: str = "mmnet"
    epochs: int = 100
    batch_size: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step: int = 30
    lr_gamma: float = 0.1
    seed: int = 0
    device: str | None = None
    amp: bool | None = None          # mixed precision; None = on with CUDA
    cache_dir: str | None = None     # feature cache; default DATA/.mmstudio-cache
    workers: int = 2                 # feature-cache workers
    model: dict = field(default_factory=dict)   # ModelConfig overrides (heads, mu, variant, ...)
    feature: dict = field(default_factory=dict)  # FeatureConfig overrides
    max_batches: int | None = None   # per epoch, for quick runs and tests
    keep_snapshots: bool = False     # a float16 model file per epoch in snapshots/
    augment: str = ""                # training-batch augmentation, e.g. "gain,eq,pitch,reverb,mix" (engine/augment.py)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _dist_info() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class Trainer:
    """Train one method on one dataset into a run folder. ``run()`` returns a summary dict."""

    def __init__(self, config: TrainConfig, out_dir: str | os.PathLike,
                 callback: Callable[[dict], None] | None = None, verbose: bool = True,
                 events: list | None = None):
        """callback: called with every event dict (unthrottled); verbose: human progress on stderr;
        events: extra event sinks (:class:`engine.runs.EventWriter`), besides the run's events.jsonl."""
        self.cfg = config
        self.out = Path(out_dir).absolute()
        self.callback = callback
        self.verbose = verbose
        self.sinks = list(events or [])
        self._run_log = None     # the run folder's events.jsonl, once this process owns the folder
        self._lock = None
        self._stop_reason = "stop requested"
        self.rank, self.world = _dist_info()
        self.is_main = self.rank == 0
        if config.method not in METHODS:
            raise TrainingError(f"unknown method {config.method!r}; choose from {', '.join(METHODS)}")
        try:
            parse_names(config.augment)
        except ValueError as exc:
            raise TrainingError(str(exc)) from None
        dev = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dev == "cuda" and self.world > 1:
            dev = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        self.device = torch.device(dev)
        self.amp = (self.device.type == "cuda") if config.amp is None else bool(config.amp)
        self._stop = False
        self.stop_signal = 0     # the signal that stopped the run (CLI), 0 for none

    # ------------------------------------------------------------------ events
    def emit(self, event: dict) -> None:
        """Stamp ``event`` (type, time, run), write it to the run's log and the sinks (main process),
        pass it to the callback, and show it as progress on stderr when verbose."""
        event = stamp_event(event, self.out)
        if self.is_main:
            write_event(event, self._run_log, self.sinks)
        if self.callback is not None:
            self.callback(event)
        if self.verbose and self.is_main:
            print_event(event)

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the run to stop before its next batch, after a checkpoint (a GUI's Stop; SIGINT/SIGTERM)."""
        self._stop_reason = reason
        self._stop = True

    # -------------------------------------------------------------------- data
    def _prepare_data(self):
        from .data import FeatureCache, load_dataset
        from .data.cache import ClipFeatureSet

        cfg = self.cfg
        fcfg = FeatureConfig.from_dict({**FeatureConfig().to_dict(), **cfg.feature})
        data_dir = Path(cfg.data)
        if not data_dir.exists():
            raise TrainingError(f"{data_dir}: no such dataset folder")
        train = load_dataset(data_dir, "train", seed=cfg.seed)
        val = load_dataset(data_dir, "validation", seed=cfg.seed)
        self._emit_start(train, val)
        for name, ds in (("train", train), ("validation", val)):
            if ds.problems and self.is_main:
                self.emit({"type": "log", "message": f"{name}: {len(ds.problems)} unusable files left out, e.g. "
                           + "; ".join(f"{p}: {r}" for p, r in ds.problems[:3])})
            if len(ds.items) == 0:
                raise TrainingError(f"{data_dir}: the {name} split holds no usable clips")
        cache = FeatureCache(cfg.cache_dir or data_dir / ".mmstudio-cache", fcfg)
        paths = [it.path for it in train.items] + [it.path for it in val.items]
        if self.is_main:
            cache.build(paths, workers=cfg.workers,
                        progress=lambda done, total: self.emit({"type": "features", "done": done, "total": total}))
        if self.world > 1:
            torch.distributed.barrier()
        # files whose features could not be computed (unreadable audio) are left out and reported
        for name in ("train", "val"):
            ds = train if name == "train" else val
            bad = [i for i, it in enumerate(ds.items) if not cache.contains(it.path)]
            if bad:
                if self.is_main:
                    self.emit({"type": "log", "message": f"{name}: {len(bad)} clips without features left out, "
                               f"e.g. {ds.items[bad[0]].path}"})
                keep = ds.subset([i for i in range(len(ds.items)) if i not in set(bad)])
                train, val = (keep, val) if name == "train" else (train, keep)
        if len(train.items) == 0 or len(val.items) == 0:
            raise TrainingError(f"{data_dir}: no usable clips left after computing features")
        self.fcfg = fcfg
        self.augmenter = Augmenter(cfg.augment, cfg.seed, fcfg)
        self.train_set = ClipFeatureSet(train, cache, fcfg.clip_frames, train=True, seed=cfg.seed)
        self.val_set = ClipFeatureSet(val, cache, fcfg.clip_frames, train=False)
        self.stats_set = ClipFeatureSet(train, cache, fcfg.clip_frames, train=False)
        self.classes = list(train.classes)
        self.train_labels = train.labels_matrix()
        self.val_labels = val.labels_matrix()

    def _batch(self, dataset, indices, epoch: int, augment_batch: int | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(features B x n_mels x T normalized, labels B x C, real frames B): padded frames
        of short clips are masked out of the models' softmaxes over time by n_valid.
        augment_batch: the batch's number in the epoch, for a training batch to augment (the
        config's ``augment``, before standardization); None (validation, statistics): as read."""
        feats, labels, valid = [], [], []
        for i in indices:
            item = dataset.get(int(i), epoch=epoch) if hasattr(dataset, "get") else dataset[int(i)]
            feats.append(item[0])
            labels.append(item[1])
            valid.append(int(item[2]) if len(item) > 2 else item[0].shape[-1])
        x = torch.stack(feats).to(self.device, non_blocking=True)
        y = torch.stack(labels).to(self.device, non_blocking=True)
        n_valid = torch.tensor(valid, device=self.device)
        if augment_batch is not None and self.augmenter:
            x, y, n_valid = self.augmenter(x, y, n_valid, epoch=epoch, batch=augment_batch, rank=self.rank)
        return self.normalizer_apply(x), y, n_valid

    def normalizer_apply(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self._mean) / self._std

    # ------------------------------------------------------------------- model
    def _build(self):
        from .data.cache import feature_stats

        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        overrides = dict(cfg.model)
        mcfg = make_config(cfg.method, len(self.classes), n_mels=self.fcfg.n_mels,
                           frame_hop_s=self.fcfg.frame_hop_s, **overrides)
        self.model = SoundEventModel(mcfg).to(self.device)
        self.normalizer = feature_stats(self.stats_set)
        self._mean = torch.as_tensor(self.normalizer.mean, device=self.device)[:, None]
        self._std = torch.as_tensor(self.normalizer.std, device=self.device)[:, None]
        self.weights = class_weights(self.train_labels, mcfg.class_weight_beta).to(self.device)
        self.net = self.model
        if self.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                   weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=cfg.lr_step, gamma=cfg.lr_gamma)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and self.device.type == "cuda")

    # ------------------------------------------------------------- checkpoint
    def _state(self, epoch: int, batch: int, best: dict, history: list, partial: dict | None = None) -> dict:
        """The checkpoint: ``epoch`` and ``batch`` (0-based) where training continues, and ``partial``,
        the epoch begun so far ({"losses": [train loss of each batch done], "seconds": time spent}), so
        that a resumed epoch's train_loss and seconds in metrics.csv are those of the whole epoch."""
        return {
            "format": "mmstudio-checkpoint-1",
            "config": json.dumps(self.cfg.to_dict()),
            "epoch": epoch, "batch": batch,
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "best": json.dumps(best),
            "history": json.dumps(history),
            "partial_epoch": json.dumps(partial or _NO_PARTIAL),
        }

    def _save_checkpoint(self, epoch: int, batch: int, best: dict, history: list, partial: dict | None = None) -> None:
        if self.is_main:
            atomic_torch_save(self._state(epoch, batch, best, history, partial), self.out / CHECKPOINT)

    def _load_checkpoint(self) -> tuple[int, int, dict, list, dict]:
        """(epoch, batch, best, history, partial epoch) of the run's checkpoint, after restoring the
        model, optimizer, scheduler, scaler and RNG from it."""
        path = self.out / CHECKPOINT
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as exc:
            raise TrainingError(f"{path}: cannot resume from this checkpoint ({exc})") from None
        saved = json.loads(state["config"])
        current = json.loads(json.dumps(self.cfg.to_dict()))
        for key in ("method", "model", "feature", "data", "seed", "batch_size", "augment"):
            if saved.get(key, "" if key == "augment" else None) != current.get(key):
                raise TrainingError(f"cannot resume: {key} differs from the run's ({saved.get(key)!r})")
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        partial = json.loads(state["partial_epoch"]) if "partial_epoch" in state else _NO_PARTIAL
        return (int(state["epoch"]), int(state["batch"]), json.loads(state["best"]), json.loads(state["history"]),
                partial)

    # -------------------------------------------------------------- evaluate
    @torch.no_grad()
    def predict_set(self, dataset) -> np.ndarray:
        """Clip-level predictions (N x C) of the current model on a feature set."""
        self.model.eval()
        out = []
        for start in range(0, len(dataset), self.cfg.batch_size):
            idx = range(start, min(len(dataset), start + self.cfg.batch_size))
            x, _, n_valid = self._batch(dataset, idx, epoch=0)
            out.append(self.model(x, n_valid=n_valid).predictions.float().cpu().numpy())
        self.model.train()
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def _bundle(self, thresholds=None, extra: dict | None = None) -> ModelBundle:
        import copy

        model = copy.deepcopy(self.model).cpu().eval()
        prov = {
            "trained_with": "mmnet train",
            "data": str(Path(self.cfg.data).resolve()),
            "train_clips": len(self.train_set), "validation_clips": len(self.val_set),
            "config": self.cfg.to_dict(),
            "torch": torch.__version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        if self.augmenter:
            prov["augment"] = self.augmenter.describe()
        prov.update(extra or {})
        return ModelBundle(model, self.fcfg, self.classes, self.normalizer, thresholds, prov)

    # -------------------------------------------------------------------- run
    def run(self, resume: bool = False) -> dict:
        """Train (or continue with ``resume``); returns a summary dict ({"stopped": True, ...} when stopped).

        Every way out ends with one final event: ``finished``, ``cancelled`` or ``failed``
        (then the exception is raised on).
        """
        self._t_run0 = time.time()
        try:
            return self._run(resume)
        except (Cancelled, KeyboardInterrupt):  # stopped before training began (data preparation)
            ckpt = self.out / CHECKPOINT
            self.emit({"type": "cancelled", "reason": self._stop_reason if self._stop else "interrupted",
                       "checkpoint": str(ckpt) if ckpt.exists() and self._run_log is not None else None,
                       "epoch": None, "batch": None, "message": "stopped before training began"})
            return {"stopped": True, "epoch": None, "best": None}
        except BaseException as exc:
            self.emit({"type": "failed", "reason": user_message(exc), "error_type": type(exc).__name__,
                       "message": f"failed: {user_message(exc)}"})
            raise
        finally:
            if self._run_log is not None:
                self._run_log.close()
                self._run_log = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def _own_folder(self, resume: bool) -> None:
        """Check the folder may hold this run, lock it, and open its events log (main process)."""
        self._lock, self._run_log = own_run_folder(self.out, resume, self.is_main)

    def _emit_start(self, train, val) -> None:
        import socket

        cfg = self.cfg
        n = len(train.items)
        self.emit({"type": "start", "config": cfg.to_dict(), "method": cfg.method,
                   "dataset": str(Path(cfg.data).resolve()),
                   "clips": {"train": n, "validation": len(val.items)}, "classes": list(train.classes),
                   "device": str(self.device), "world_size": self.world, "epochs": cfg.epochs,
                   "resumed": self._resume, "pid": os.getpid(), "host": socket.gethostname(),
                   "message": f"training {cfg.method} on {n} clips ({len(train.classes)} classes), "
                              f"{cfg.epochs} epochs, device {self.device}"
                              + (f", {self.world} processes" if self.world > 1 else "")
                              + (" (resumed)" if self._resume else "")})

    def _check_stop(self) -> None:
        if self._stop:
            raise Cancelled(self._stop_reason)

    def _run(self, resume: bool) -> dict:
        from .metrics import tagging_metrics, tune_thresholds

        cfg = self.cfg
        make_config(cfg.method, 1, **dict(cfg.model))  # a bad method or model option fails before the data work
        self._resume = bool(resume)
        self._own_folder(resume)
        self._prepare_data()
        self._check_stop()
        self._build()
        start_epoch, start_batch, best, history, partial = 0, 0, {"mAP": -1.0, "epoch": -1}, [], _NO_PARTIAL
        if resume:
            start_epoch, start_batch, best, history, partial = self._load_checkpoint()
        self._check_stop()
        if self.is_main:
            (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        writer = self._tensorboard()
        n = len(self.train_set)
        per_rank = max(1, cfg.batch_size // self.world)
        n_batches = math.ceil(n / (per_rank * self.world))
        if cfg.max_batches:
            n_batches = min(n_batches, cfg.max_batches)
        self.emit({"type": "ready", "clips": {"train": n, "validation": len(self.val_set)}, "batches": n_batches,
                   "start_epoch": start_epoch + 1, "start_batch": start_batch + 1})
        if cfg.keep_snapshots and start_epoch == 0 and start_batch == 0:
            self._snapshot(0)
        t_run = time.time()
        clips_done = 0
        epoch, b = start_epoch, start_batch
        t0, losses = time.time() - partial["seconds"], list(partial["losses"])
        self.model.train()
        try:
            for epoch in range(start_epoch, cfg.epochs):
                if epoch != start_epoch:
                    t0, losses = time.time(), []   # (the first epoch goes on from the checkpoint's part)
                perm = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 100003 + epoch))
                first = start_batch if epoch == start_epoch else 0
                for b in range(first, n_batches):
                    if self._stop:
                        raise KeyboardInterrupt
                    chunk = perm[b * per_rank * self.world:(b + 1) * per_rank * self.world]
                    idx = chunk[self.rank::self.world]
                    if len(idx) == 0:
                        continue
                    x, y, n_valid = self._batch(self.train_set, idx, epoch, augment_batch=b)
                    with torch.autocast(self.device.type, enabled=self.amp, dtype=torch.float16
                                        if self.device.type == "cuda" else torch.bfloat16):
                        out = self.net(x, n_valid=n_valid)
                    loss, parts = method_loss(_float_output(out), y, self.model.config, self.weights)
                    if not torch.isfinite(loss):
                        raise TrainingError(f"the loss became {float(loss)} at epoch {epoch + 1}, batch {b + 1}: "
                                            "lower the learning rate (--lr)")
                    self.opt.zero_grad(set_to_none=True)
                    self.scaler.scale(loss).backward()
                    self.scaler.step(self.opt)
                    self.scaler.update()
                    losses.append(float(loss.detach()))
                    clips_done += len(idx) * self.world
                    elapsed = time.time() - t_run
                    rate = clips_done / max(elapsed, 1e-6)
                    remaining = ((cfg.epochs - epoch - 1) * n_batches + (n_batches - b - 1)) * per_rank * self.world
                    self.emit({"type": "batch", "epoch": epoch + 1, "epochs": cfg.epochs, "batch": b + 1,
                               "batches": n_batches, "loss": losses[-1], "parts": parts,
                               "clips_per_s": rate, "eta_s": remaining / rate if rate > 0 else None})
                start_batch = 0
                lr = self.opt.param_groups[0]["lr"]
                self.sched.step()
                # validation (every rank computes it; cheap next to training)
                val_pred = self.predict_set(self.val_set)
                m = tagging_metrics(self.val_labels, val_pred, classes=self.classes)
                row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)) if losses else float("nan"),
                       "val_mAP": _num(m["mAP"]), "val_AUC": _num(m["AUC"]),
                       "val_F1_class_mean": _num(m["F1_class_mean"]), "lr": lr,
                       "seconds": time.time() - t0}
                is_best = row["val_mAP"] > best["mAP"]
                if is_best:
                    best = {"mAP": row["val_mAP"], "epoch": epoch + 1}
                    if self.is_main:
                        save_model(self._bundle(extra={"epoch": epoch + 1, "val_mAP": row["val_mAP"]}),
                                   self.out / "best.safetensors")
                history.append(row)
                if self.is_main:
                    self._write_metrics(history)
                    if writer is not None:
                        for k, v in row.items():
                            if k != "epoch":
                                writer.add_scalar(k, v, epoch + 1)
                snapshot = self._snapshot(epoch + 1) if cfg.keep_snapshots else None
                self._save_checkpoint(epoch + 1, 0, best, history)
                self.emit({"type": "epoch", **row, "epochs": cfg.epochs, "best": is_best,
                           "checkpoint": str(self.out / CHECKPOINT),
                           "snapshot": None if snapshot is None else str(snapshot),
                           "best_model": str(self.out / "best.safetensors")})
        except KeyboardInterrupt:
            self._save_checkpoint(epoch, b, best, history, {"losses": losses, "seconds": time.time() - t0})
            self.emit({"type": "cancelled", "reason": self._stop_reason if self._stop else "interrupted",
                       "checkpoint": str(self.out / CHECKPOINT), "epoch": epoch + 1, "batch": b,
                       "message": f"stopped in epoch {epoch + 1} after {b} batches; checkpoint saved in "
                                  f"{self.out / CHECKPOINT} (continue with --resume)"})
            if writer is not None:
                writer.close()
            return {"stopped": True, "epoch": epoch, "best": best}
        if writer is not None:
            writer.close()
        self.ddp_check = {"world_size": self.world, "ranks_agree": self._ranks_agree()}
        summary = self._export(best, tune_thresholds, tagging_metrics)
        self.emit({"type": "finished", "model": summary["model"], "best_epoch": best["epoch"],
                   "best_mAP": best["mAP"], "val_F1_class_mean_tuned": summary.get("val_F1_class_mean_tuned"),
                   "seconds": round(time.time() - self._t_run0, 3),
                   "message": f"done: best epoch {best['epoch']} (validation mAP {best['mAP']:.4f}); "
                              f"model written to {self.out / 'model.safetensors'}"})
        return summary

    def _snapshot(self, epoch: int) -> Path | None:
        """A small model file of the current weights (float16) in snapshots/epoch-NNN.safetensors."""
        if not self.is_main:
            return None
        bundle = self._bundle(extra={"epoch": epoch, "snapshot": True})
        bundle.model.half()   # floating-point weights in float16: half the size; loading restores float32
        return save_model(bundle, self.out / "snapshots" / f"epoch-{epoch:03d}.safetensors")

    def _ranks_agree(self) -> bool:
        """With several processes: whether every rank ends with the same weights (DDP keeps them in sync)."""
        if self.world == 1:
            return True
        vec = torch.cat([p.detach().double().reshape(-1) for p in self.model.parameters()]).cpu()
        pos = torch.arange(len(vec), dtype=torch.float64)
        mine = torch.stack([vec.sum(), vec.abs().sum(), (vec * pos).sum() / len(vec)])
        gathered = [torch.zeros_like(mine) for _ in range(self.world)]
        torch.distributed.all_gather(gathered, mine)
        return all(torch.allclose(g, gathered[0], rtol=1e-9, atol=1e-9) for g in gathered)

    def _export(self, best: dict, tune_thresholds, tagging_metrics) -> dict:
        """Reload the best epoch, tune class thresholds on the validation split, write model.safetensors."""
        from .modelfile import load_bundle

        summary = {"best_epoch": best["epoch"], "val_mAP": best["mAP"], "model": str(self.out / "model.safetensors")}
        if not self.is_main:
            return summary
        best_path = self.out / "best.safetensors"
        bundle = load_bundle(best_path)
        self.model.load_state_dict(bundle.model.state_dict())
        val_pred = self.predict_set(self.val_set)
        thresholds = tune_thresholds(self.val_labels, val_pred)
        m = tagging_metrics(self.val_labels, val_pred, thresholds=thresholds, classes=self.classes)
        extra = {"epoch": best["epoch"], "val_mAP": _num(m["mAP"]), "val_F1_class_mean": _num(m["F1_class_mean"]),
                 "thresholds_tuned_on": "validation", **getattr(self, "ddp_check", {})}
        save_model(self._bundle(thresholds, extra), self.out / "model.safetensors")
        summary["val_F1_class_mean_tuned"] = _num(m["F1_class_mean"])
        return summary

    def _write_metrics(self, history: list) -> None:
        path = self.out / "metrics.csv"
        tmp = path.with_name(".metrics.csv.tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[0].keys()))
            w.writeheader()
            w.writerows(history)
        os.replace(tmp, path)

    def _tensorboard(self):
        if not self.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:
            return None
        return SummaryWriter(str(self.out / "tensorboard"))


_NO_PARTIAL = {"losses": [], "seconds": 0.0}   # a checkpoint at an epoch's start: nothing of it done yet


def _float_output(out):
    """Autocast outputs in float32 for the losses (BCE in half precision is unsafe)."""
    if out.clip_probs.dtype == torch.float32:
        return out
    import copy

    out = copy.copy(out)
    for name in ("clip_probs", "clip_logits", "ensemble_probs", "ensemble_logits"):
        v = getattr(out, name)
        if v is not None:
            setattr(out, name, v.float())
    scales = []
    for s in out.scales:
        s = copy.copy(s)
        for name in ("segment_probs", "segment_logits", "attention", "class_attention", "head_logits"):
            v = getattr(s, name)
            if v is not None:
                setattr(s, name, v.float())
        scales.append(s)
    out.scales = scales
    return out


def _num(v) -> float:
    return float("nan") if v is None else float(v)


# ------------------------------------------------------------------------ CLI
def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="dataset folder (DESED-style, see README)")
    p.add_argument("--method", default="mmnet", choices=METHODS)
    p.add_argument("--out", required=True, help="run folder (created)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--lr-step", type=int, default=30, help="divide the learning rate every N epochs")
    p.add_argument("--lr-gamma", type=float, default=0.1, help="factor applied every --lr-step epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda when available)")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--cache", default=None, help="feature cache folder (default DATA/.mmstudio-cache)")
    p.add_argument("--workers", type=int, default=2, help="processes computing the feature cache")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--max-batches", type=int, default=None, help="batches per epoch (quick runs)")
    p.add_argument("--events", default=None, metavar="FILE|-",
                   help="also write the run's events as JSON lines to FILE (appended) or to stdout with '-' "
                        "(human progress stays on stderr); the run folder always gets events.jsonl")
    p.add_argument("--keep-snapshots", action="store_true",
                   help="keep a float16 model file per epoch in RUN/snapshots/epoch-NNN.safetensors")
    p.add_argument("--augment", default="", metavar="LIST",
                   help="augment training batches (on the log-mel features): comma-separated from gain, eq, pitch, "
                        "stretch, reverb, mix, mask, or 'all' (default none; see engine/augment.py)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="model option, e.g. --set heads=8 --set variant=authors-code --set mu=0.5 "
                        "(any ModelConfig field; repeatable)")


def parse_sets(items: list[str]) -> dict:
    """KEY=VALUE strings -> dict with JSON-parsed values where possible."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def run(args) -> int:
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo"
        torch.distributed.init_process_group(backend)
    cfg = TrainConfig(data=args.data, method=args.method, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay, lr_step=args.lr_step,
                      lr_gamma=args.lr_gamma, seed=args.seed, device=args.device,
                      amp=False if args.no_amp else None, cache_dir=args.cache, workers=args.workers,
                      model=parse_sets(args.set), max_batches=args.max_batches,
                      keep_snapshots=args.keep_snapshots, augment=args.augment)
    sinks = event_sinks(args.events, args.out)
    trainer = Trainer(cfg, args.out, events=sinks)
    signals = install_stop_handlers(trainer)
    completed = False
    try:
        summary = trainer.run(resume=args.resume)
        completed = True
    except (TrainingError, DatasetError) as exc:
        print(f"mmnet train: {exc}", file=sys.stderr)
        return 2
    finally:
        restore_handlers(signals)
        for sink in sinks:
            sink.close()
        if distributed and torch.distributed.is_initialized():
            if completed:
                # rank 0 writes the model after the last collective: a rank that tore gloo down
                # meanwhile aborted at exit now and then ("terminate called without an active exception")
                torch.distributed.barrier()
            torch.distributed.destroy_process_group()
    if summary.get("stopped"):
        return 128 + trainer.stop_signal if trainer.stop_signal else 130
    return 0
