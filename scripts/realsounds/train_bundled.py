"""Train, measure and bundle the real-sound models; pick the real-sound demo clip.

    PYTHONPATH=. python scripts/realsounds/train_bundled.py --stage STAGE [--data data/realsounds]
        [--augment gain,eq,pitch,reverb,mix] [--epochs 20 --lr-step 12] [--work DIR --cache DIR --no-export]

Stages (each writes WORK/<stage>.json, WORK = runs/realsounds; run the two models in parallel
if you like, then ``report``):

- ``resnet-att-class`` / ``mmnet-ms`` / ``resnet-att`` (the bundled ones; also ``mmnet`` and
  ``mmnet-ms-label``, see ``STAGES``): ``mmnet train`` at the bundled-model size (the same compact
  width as assets/models/README.md), evaluation on ``test`` (events from recordings never used in
  training) and ``test_seen`` (new mixtures of training recordings), and the export to
  assets/models/realsounds/<stage>.safetensors with its provenance (recipe version, data
  command and seed, training command, test metrics) in the file's metadata.
  ``--augment LIST`` trains with that training-batch augmentation (engine/augment.py; recorded in
  the provenance and the training command); ``--no-export`` measures without touching assets/
  (ablations: one ``--work`` folder per arm, one ``--cache`` shared by all). ``--retune``
  re-exports a finished run without training again: the same best epoch, its class thresholds
  tuned anew by the current ``engine.metrics.tune_thresholds``, measured and exported again (the
  stage's earlier training time is kept).
- ``baseline``: logistic regression (one per class, scikit-learn) on log-mel statistics (per-band
  mean, standard deviation, maximum and 90th percentile over the clip), thresholds tuned on
  validation, same splits and metrics.
- ``tsv``: WORK/all-results.tsv, the ``test`` figures of WORK's stages as rows of
  ``bench/report_line.py --tsv`` (mAP, transient and long mAP, AUC, F1, segment F1, event F1),
  so that ``bench/aggregate_seeds.py`` gives mean ± std over training seeds (one WORK a seed,
  linked as ROOT/real-bundled-sSEED; ``bench/fair_results_json.sh`` adds them to the app's
  benchmark results). The regression (``baseline``) is deterministic: the same row at every seed.
- ``report``: assets/models/realsounds/models.json (all figures) and the demo clip
  assets/demo/realsounds-demo.wav (a ``test_seen`` clip, i.e. a new mixture of training
  recordings, where a transient event lies inside a long one; chosen by that rule alone, never
  by the models' output), its strong labels and credits.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZE = dict(channels=[128, 192, 192], stem=128, fc_hidden=256, micro_hidden=128, heads=64)
# M&mnet in the form that won the fair comparison (docs/results.md, section 0): the authors' loss
# with a_t standardized over time before eq. 9's softmax (``mmnet-authors-z``, ``mmnet-ms-authors-z``).
MMNET_Z = {"variant": "authors-code", "micro_hidden": 0, "ensemble_pooling": "zscore"}
# stage -> (method, model options); the stage names the run folder and the exported file
STAGES = {"resnet-att": ("resnet-att", {}), "resnet-att-class": ("resnet-att-class", {}),
          "mmnet": ("mmnet", MMNET_Z), "mmnet-ms": ("mmnet-ms", MMNET_Z),
          "mmnet-ms-label": ("mmnet-ms", {"variant": "label-specific", "ensemble_pooling": "zscore"})}
EPOCHS, BATCH, LR, LR_STEP, SEED = 20, 16, 0.05, 12, 0
DATA_COMMAND = "mmnet realsounds data/realsounds --seed 0"
KEYS = ("mAP", "AUC", "F1_class_mean", "F1_micro", "segment_F1", "event_F1")


def _summary(r: dict) -> dict:
    out = {k: r.get(k) for k in KEYS}
    out["per_class"] = {c: {k: v for k, v in pc.items() if k in ("AP", "AUC", "F1", "segment_F1", "event_F1")}
                        for c, pc in r["per_class"].items()}
    return out


def _recipe_version(data: Path, default: int) -> int:
    """The recipe version the dataset was built with (its metadata/realsounds.json), else ``default``."""
    try:
        return int(json.loads((data / "metadata" / "realsounds.json").read_text())["recipe_version"])
    except (OSError, KeyError, ValueError):
        return default


def train_model(stage: str, data: Path, work: Path, *, epochs: int = EPOCHS, lr_step: int = LR_STEP,
                augment: str = "", cache: Path | None = None, export: bool = True, seed: int = SEED) -> dict:
    from engine.data.realsounds import RECIPE_VERSION
    from engine.evaluate import evaluate
    from engine.modelfile import load_bundle, save_model
    from engine.train import TrainConfig, Trainer

    method, options = STAGES[stage]
    run = work / stage
    t0 = time.time()
    cfg = TrainConfig(data=str(data), method=method, epochs=epochs, batch_size=BATCH, lr=LR, lr_step=lr_step,
                      seed=seed, model={**SIZE, **options},
                      cache_dir=str(cache or work / "cache"), workers=1, augment=augment)
    if not (run / "model.safetensors").exists():
        Trainer(cfg, run).run(resume=(run / "checkpoint.pt").exists())
    minutes = round((time.time() - t0) / 60, 1)
    res = {s: _summary(evaluate(str(run / "model.safetensors"), str(data), s)) for s in ("test", "test_seen")}
    bundle = load_bundle(run / "model.safetensors")
    sets = " ".join(f"--set {k}={json.dumps(v).replace(' ', '')}" for k, v in cfg.model.items())
    aug = f" --augment {augment}" if augment else ""
    bundle.provenance.update({
        "dataset": "realsounds (real recordings from Debian data packages)",
        "recipe_version": _recipe_version(data, RECIPE_VERSION), "data_command": DATA_COMMAND, "data_seed": 0,
        "train_command": (f"mmnet train --data data/realsounds --method {method} --epochs {epochs} "
                          f"--batch-size {BATCH} --lr {LR} --lr-step {lr_step} --seed {seed}{aug} {sets}"),
        "test_metrics": {s: {k: res[s][k] for k in KEYS} for s in res},
        "test_note": "test: events from recordings never used in training; test_seen: new mixtures of "
                     "training recordings",
    })
    dest = (ROOT / "assets" / "models" / "realsounds" if export else run) / f"{stage}.safetensors"
    save_model(bundle, dest)
    return {"method": method, "stage": stage, "seed": seed, "train_minutes": minutes, "params": bundle.metadata()["parameters"],
            "size_mb": round(dest.stat().st_size / 1e6, 1), "epochs": epochs, "lr_step": lr_step,
            "augment": augment, "exported": str(dest), **res}


def _clip_features(path: str) -> np.ndarray:
    from engine.audio import load_audio
    from engine.features import FeatureConfig, log_mel

    clip = load_audio(path, sr=44100)
    m = log_mel(clip.samples, clip.sr, FeatureConfig()).numpy()
    return np.concatenate([m.mean(1), m.std(1), m.max(1), np.percentile(m, 90, axis=1)])


def baseline(data: Path) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from engine.data import load_dataset
    from engine.metrics import tagging_metrics, tune_thresholds

    t0 = time.time()
    sets = {}
    for split in ("train", "validation", "test", "test_seen"):
        ds = load_dataset(data, split)
        classes = ds.classes
        X = np.stack([_clip_features(str(it.path)) for it in ds.items])
        Y = np.array([[1.0 if c in it.labels else 0.0 for c in classes] for it in ds.items], np.float32)
        sets[split] = (X, Y)
    scaler = StandardScaler().fit(sets["train"][0])

    def scores(split):
        X = scaler.transform(sets[split][0])
        return np.stack([m.predict_proba(X)[:, 1] for m in models], axis=1)

    models = []
    for j in range(len(classes)):
        m = LogisticRegression(C=0.1, max_iter=2000)
        m.fit(scaler.transform(sets["train"][0]), sets["train"][1][:, j])
        models.append(m)
    thr = tune_thresholds(sets["validation"][1], scores("validation"))
    out = {"method": "logreg-logmel-stats", "train_minutes": round((time.time() - t0) / 60, 1)}
    for split in ("test", "test_seen"):
        r = tagging_metrics(sets[split][1], scores(split), thresholds=thr, classes=classes)
        out[split] = {k: r.get(k) for k in KEYS}
        out[split]["per_class"] = {c: {k: v for k, v in pc.items() if k in ("AP", "AUC", "F1")}
                                   for c, pc in r["per_class"].items()}
    return out


DEMO_SPLIT = "test_seen"


def demo_clip(data: Path, split: str = DEMO_SPLIT) -> dict:
    """The clip of ``split`` with about three events of different classes, one of them a transient
    inside a long one: of those, the clip where the long event outlasts the transient the most.

    The demo shows what the views do with sounds the bundled models know: ``test_seen`` mixes
    training recordings anew (other backgrounds, times, gains); the ``test`` split's figures say
    how they do on recordings never heard (docs/results.md, section 4)."""
    meta = json.loads((data / "metadata" / "realsounds.json").read_text())
    kinds = {c: v["kind"] for c, v in meta["classes"].items()}
    rows = [l.split("\t") for l in (data / "metadata" / f"{split}_sources.tsv").read_text().splitlines()[1:]]
    by_clip: dict[str, list] = {}
    for name, label, on, off, pkg, path, part in rows:
        by_clip.setdefault(name, []).append((label, float(on), float(off), pkg, path))
    best, key = None, None
    for name, items in sorted(by_clip.items()):
        ev = [i for i in items if not i[0].startswith("bg:")]
        inside = [(t, l) for t in ev for l in ev if kinds[t[0]] == "transient" and kinds[l[0]] == "long"
                  and l[1] <= t[1] and t[2] <= l[2]]
        if not inside:
            continue
        contrast = max((l[2] - l[1]) - (t[2] - t[1]) for t, l in inside)   # the clearest short-in-long pair
        k = (-abs(len(ev) - 3), len({e[0] for e in ev}), round(contrast, 3))
        if key is None or k > key:
            best, key = name, k
    if best is None:
        raise SystemExit(f"no {split} clip has a transient event inside a long one")
    demo = ROOT / "assets" / "demo"
    shutil.copy(data / "audio" / split / best, demo / "realsounds-demo.wav")
    ev = sorted((i for i in by_clip[best] if not i[0].startswith("bg:")), key=lambda e: e[1])
    with open(demo / "realsounds-demo_strong.tsv", "w") as f:
        f.write("filename\tonset\toffset\tevent_label\n")
        for label, on, off, _, _ in ev:
            f.write(f"realsounds-demo.wav\t{on:.3f}\t{off:.3f}\t{label}\n")
    lic = {}
    for line in (data / "LICENSES.tsv").read_text().splitlines()[1:]:
        c = line.split("\t")
        lic[(c[2], c[4])] = (c[3], c[5])
    seen = ("a new mixture of recordings the bundled real-sound models were trained on" if split == "test_seen"
            else "its events come from recordings never used to train the bundled real-sound models")
    lines = [f"realsounds-demo.wav: {split} clip {best} of the real-sound dataset ({DATA_COMMAND}, recipe "
             f"version {_recipe_version(data, 0)}): {seen}.", "",
             "what\tonset_s\toffset_s\tdebian_package\tversion\tpath_in_package\tlicense"]
    for label, on, off, pkg, path in sorted(by_clip[best], key=lambda e: e[1]):
        version, license_ = lic[(pkg, path)]
        lines.append(f"{label}\t{on:.3f}\t{off:.3f}\t{pkg}\t{version}\t{path}\t{license_}")
    lines += ["", "Each recording keeps its license (see each package's /usr/share/doc/PACKAGE/copyright);",
              "the mixture is distributed under the terms of all of them (GPL for the GPL-licensed parts)."]
    (demo / "realsounds-demo_CREDITS.txt").write_text("\n".join(lines) + "\n")
    return {"clip": best, "split": split, "events": [(l, on, off) for l, on, off, _, _ in ev]}


def tables(parts: dict, kinds: dict) -> str:
    """Markdown: overall figures per system and split, per-class AP and F1, per-class segment and event F1
    (``-``: no such event in the split's strong labels, or a system without segment output)."""
    order = [m for m in ("logreg-logmel-stats", *STAGES) if m in parts]
    f = lambda v: "-" if v is None else f"{100 * v:.1f}"  # noqa: E731
    lines = ["| system | split | mAP | AUC | F1 (class mean) | F1 (micro) | segment F1 | event F1 |",
             "|---|---|---|---|---|---|---|---|"]
    for m in order:
        for split in ("test", "test_seen"):
            r = parts[m][split]
            lines.append(f"| {m} | {split} | " + " | ".join(f(r.get(k)) for k in KEYS) + " |")
    lines += ["", "| class | kind | " + " | ".join(f"{m} AP unseen / seen" for m in order) + " | "
              + " | ".join(f"{m} F1 unseen / seen" for m in order) + " |",
              "|---|---|" + "---|" * (2 * len(order))]
    for c, kind in kinds.items():
        ap = [f"{f(parts[m]['test']['per_class'][c].get('AP'))} / {f(parts[m]['test_seen']['per_class'][c].get('AP'))}"
              for m in order]
        f1 = [f"{f(parts[m]['test']['per_class'][c].get('F1'))} / {f(parts[m]['test_seen']['per_class'][c].get('F1'))}"
              for m in order]
        lines.append(f"| {c} | {kind} | " + " | ".join(ap + f1) + " |")
    nets = [m for m in order if m != "logreg-logmel-stats"]          # segment and event F1: networks only
    pair = lambda m, c, k: " / ".join(f(parts[m][s]["per_class"][c].get(k)) for s in ("test", "test_seen"))  # noqa: E731
    lines += ["", "| class | kind | " + " | ".join(f"{m} segment F1 unseen / seen" for m in nets) + " | "
              + " | ".join(f"{m} event F1 unseen / seen" for m in nets) + " |",
              "|---|---|" + "---|" * (2 * len(nets))]
    for c, kind in kinds.items():
        cells = [pair(m, c, "segment_F1") for m in nets] + [pair(m, c, "event_F1") for m in nets]
        lines.append(f"| {c} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _set_up_retune(work: Path, stage: str) -> float | None:
    """Make ``train_model`` re-export the finished run ``WORK/STAGE``: its model file moves aside
    (``model-before-retune.safetensors``), so the trainer resumes from the final checkpoint, trains
    no further, and exports the best epoch with thresholds tuned anew. Returns the stage's earlier
    training minutes (from ``WORK/STAGE.json``), or None."""
    if stage == "baseline":
        return None                        # the regression is refitted and tuned on every run anyway
    run = work / stage
    if not (run / "checkpoint.pt").exists() or not (run / "best.safetensors").exists():
        raise SystemExit(f"--retune: {run} holds no finished run (checkpoint.pt and best.safetensors)")
    if (run / "model.safetensors").exists():
        (run / "model.safetensors").replace(run / "model-before-retune.safetensors")
    try:
        return json.loads((work / f"{stage}.json").read_text())["train_minutes"]
    except (OSError, KeyError, ValueError):
        return None


def results_tsv(work: Path, data: Path, split: str = "test") -> str:
    """The ``tsv`` stage: a row a stage of WORK (name, note, then comparison.KEYS as fractions or None)."""
    from engine.comparison import KEYS as COLUMNS

    kinds = {c: v["kind"] for c, v in json.loads((data / "metadata" / "realsounds.json").read_text())
             ["classes"].items()}
    rows = []
    for stage in ("baseline", *STAGES):
        path = work / f"{stage}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())[split]
        ap = {c: v.get("AP") for c, v in r["per_class"].items()}
        mean = lambda kind: float(np.mean([v for c, v in ap.items() if kinds[c] == kind and v is not None]))  # noqa: E731
        values = {**r, "mAP_short": mean("transient"), "mAP_long": mean("long")}
        note = "logistic regression on log-mel statistics" if stage == "baseline" else (
            f"--method {STAGES[stage][0]} " + " ".join(f"--set {k}={v}" for k, v in STAGES[stage][1].items())).strip()
        name = "logreg-logmel-stats" if stage == "baseline" else stage
        rows.append("\t".join([name, note] + [str(values.get(k)) for k in COLUMNS]))
    if not rows:
        raise SystemExit(f"{work}: no stage results (*.json) to write")
    return "\n".join(rows) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", required=True, choices=[*STAGES, "baseline", "report", "tsv"])
    ap.add_argument("--data", default=str(ROOT / "data" / "realsounds"))
    ap.add_argument("--work", default=str(ROOT / "runs" / "realsounds"))
    ap.add_argument("--cache", default=None, help="feature cache folder (default WORK/cache)")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr-step", type=int, default=LR_STEP)
    ap.add_argument("--seed", type=int, default=SEED, help="training seed (default 0, the bundled models'; "
                    "other seeds measure the spread, with --no-export and their own --work)")
    ap.add_argument("--augment", default="", help="training augmentation (engine/augment.py names), e.g. "
                    "gain,eq,pitch,reverb,mix; default none")
    ap.add_argument("--no-export", action="store_true", help="write the model into WORK/METHOD, not assets/")
    ap.add_argument("--retune", action="store_true", help="a finished run: tune its thresholds anew, measure "
                    "and export it again without training")
    args = ap.parse_args()
    data, work = Path(args.data), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    minutes = None
    if args.retune:
        minutes = _set_up_retune(work, args.stage)
    if args.stage == "tsv":
        (work / "all-results.tsv").write_text(results_tsv(work, data))
        print(work / "all-results.tsv")
        return 0
    if args.stage == "report":
        parts = {p.stem: json.loads(p.read_text()) for p in work.glob("*.json")}
        parts = {("logreg-logmel-stats" if k == "baseline" else k): v for k, v in parts.items()}
        kinds = {c: v["kind"] for c, v in json.loads((data / "metadata" / "realsounds.json").read_text())
                 ["classes"].items()}
        (work / "tables.md").write_text(tables(parts, kinds))
        report = {"data_command": DATA_COMMAND, "size": SIZE, "epochs": args.epochs, "results": parts,
                  "demo": demo_clip(data)}
        (ROOT / "assets" / "models" / "realsounds/models.json").write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(report["demo"]))
        return 0
    result = baseline(data) if args.stage == "baseline" else train_model(
        args.stage, data, work, epochs=args.epochs, lr_step=args.lr_step, augment=args.augment,
        cache=Path(args.cache) if args.cache else None, export=not args.no_export, seed=args.seed)
    if minutes is not None:
        result["train_minutes"] = minutes
    (work / f"{args.stage}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({s: {k: result[s][k] for k in KEYS} for s in ("test", "test_seen")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
