"""Reproduce the paper's comparison on the synthetic transient-event benchmark.

    mmnet reproduce --out OUT [--quick] [--seeds 0 1 2] [--systems resnet-mean resnet-att mmnet mmnet-ms]

1. generates the benchmark (``mmnet synth``) in OUT/data unless it is there;
2. trains every system with every seed (``mmnet train``) into OUT/runs/<system>-s<seed>;
3. evaluates each on the test split (``mmnet evaluate``); M&mnet is evaluated with and
   without the ensemble prediction (eq. 9) from the same training run;
4. writes OUT/results.md (a table shaped like the paper's Table 1, mean and spread over
   seeds), OUT/results.json, and OUT/results-ap_vs_duration.png (per-class AP against median
   event duration, the paper's Figure 4 question); ``--tag T`` names them results-T.*.

A system is a method name with optional model options in brackets, e.g.
``mmnet[attention_scale=unit]`` or ``mmnet[variant=authors-code]``, so formulations can be
compared the same way. Finished runs are reused (the command can be re-run after an
interruption: unfinished runs resume from their checkpoints).
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_SYSTEMS = ["resnet-mean", "resnet-att", "mmnet", "mmnet-ms"]

# Sized so the full reproduction (4 systems x 3 seeds) fits in 2 hours on a 2-core CPU.
FULL = dict(n_train=300, n_validation=60, n_test=200, epochs=12, lr_step=8, batch_size=16, lr=0.05)
QUICK = dict(n_train=24, n_validation=8, n_test=8, epochs=1, lr_step=1, batch_size=8, lr=0.05)


def parse_system(spec: str) -> tuple[str, dict]:
    """'mmnet[heads=8,variant=authors-code]' -> ('mmnet', {'heads': 8, 'variant': 'authors-code'}).

    Values are JSON where they parse as JSON, so lists work: 'resnet-att[channels=[128,192,192]]'.
    """
    from .train import parse_sets

    m = re.fullmatch(r"([a-z0-9-]+)(?:\[(.*)\])?", spec.strip())
    if not m:
        raise ValueError(f"bad system {spec!r}: expected METHOD or METHOD[key=value,...]")
    items = re.split(r",(?![^\[]*\])", m.group(2) or "")   # commas outside [...] separate options
    return m.group(1), parse_sets([kv for kv in items if kv])


def _slug(spec: str) -> str:
    return re.sub(r"[^a-z0-9=.-]+", "_", spec.lower()).strip("_")


def run_reproduction(out: str | Path, *, systems=None, seeds=(0, 1, 2), quick: bool = False,
                     settings: dict | None = None, data_seed: int = 1234, tag: str = "", log=print) -> dict:
    from .data.synth import generate
    from .evaluate import evaluate
    from .models import build, count_parameters
    from .train import TrainConfig, Trainer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(QUICK if quick else FULL)
    cfg.update(settings or {})
    systems = list(systems or DEFAULT_SYSTEMS)
    data = out / "data"
    t_start = time.time()
    if not (data / "metadata" / "classes.txt").exists():
        log(f"generating the benchmark in {data}: {cfg['n_train']} train, {cfg['n_validation']} validation, "
            f"{cfg['n_test']} test clips (seed {data_seed})")
        generate(data, n_train=cfg["n_train"], n_test=cfg["n_test"], n_validation=cfg["n_validation"],
                 seed=data_seed)
    results = []
    for spec in systems:
        method, opts = parse_system(spec)
        for seed in seeds:
            run_dir = out / "runs" / f"{_slug(spec)}-s{seed}"
            model_file = run_dir / "model.safetensors"
            t0 = time.time()
            if not model_file.exists():
                tc = TrainConfig(data=str(data), method=method, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                                 lr=cfg["lr"], lr_step=cfg["lr_step"], seed=seed, model=opts,
                                 cache_dir=str(out / "cache"))
                resume = (run_dir / "checkpoint.pt").exists()
                log(f"[{spec} seed {seed}] training{' (resumed)' if resume else ''} -> {run_dir}")
                summary = Trainer(tc, run_dir, verbose=False, callback=_epoch_logger(log, spec, seed)).run(resume=resume)
                if summary.get("stopped"):
                    raise KeyboardInterrupt
            train_s = time.time() - t0
            variants = [("", None)]
            if method.startswith("mmnet"):
                variants = [("", True), (" without EP", False)]
            for suffix, ens in variants:
                r = evaluate(str(model_file), str(data), "test", ensemble=ens)
                r.update({"system": spec + suffix, "seed": seed, "train_seconds": round(train_s, 1)})
                results.append(r)
                log(f"[{spec + suffix} seed {seed}] test mAP {r['mAP']:.3f} AUC {r['AUC']:.3f} "
                    f"F1 {r['F1_class_mean']:.3f} segment F1 {_fmt(r.get('segment_F1'))}")
    params = {}
    for spec in systems:
        method, opts = parse_system(spec)
        with_ep = {k: v for k, v in opts.items()}
        n_classes = len(results[0]["per_class"]) if results else 10
        params[spec] = count_parameters(build(method, n_classes, **with_ep))
    summary = aggregate(results, params)
    summary.update({"settings": cfg, "seeds": list(seeds), "systems": systems,
                    "wall_seconds": round(time.time() - t_start, 1),
                    "command": "mmnet reproduce " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["reproduce"] else None})
    name = f"results-{tag}" if tag else "results"
    (out / f"{name}.json").write_text(json.dumps({"summary": summary, "runs": results}, indent=1, default=float))
    plot_ap_vs_duration(results, out / f"{name}-ap_vs_duration.png")
    (out / f"{name}.md").write_text(results_markdown(summary, results, f"{name}-ap_vs_duration.png"))
    log(f"results written to {out / (name + '.md')} ({summary['wall_seconds'] / 60:.1f} min)")
    return summary


def _epoch_logger(log, spec, seed):
    def cb(event):
        if event["type"] == "epoch":
            log(f"  [{spec} seed {seed}] epoch {event['epoch']}/{event['epochs']} loss {event['train_loss']:.4f} "
                f"val mAP {event['val_mAP']:.3f} ({event['seconds']:.0f} s)")
    return cb


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"


METRICS = [("mAP", "mAP"), ("AUC", "AUC"), ("F1_class_mean", "F1"), ("R_class_mean", "R"),
           ("P_class_mean", "P"), ("segment_F1", "seg F1"), ("event_F1", "event F1")]


def aggregate(results: list[dict], params: dict) -> dict:
    """Mean and standard deviation over seeds of each metric, per system."""
    table = {}
    for r in results:
        table.setdefault(r["system"], []).append(r)
    rows = {}
    for system, runs in table.items():
        base = system.replace(" without EP", "")
        row = {"params": params.get(base), "n_seeds": len(runs)}
        for key, _ in METRICS:
            vals = [r.get(key) for r in runs if r.get(key) is not None]
            row[key] = (float(np.mean(vals)), float(np.std(vals))) if vals else None
        # per-class AP (mean over seeds) for the duration plot
        classes = list(runs[0]["per_class"])
        row["per_class_AP"] = {}
        for c in classes:
            aps = [r["per_class"][c].get("AP") for r in runs if r["per_class"][c].get("AP") is not None]
            row["per_class_AP"][c] = float(np.mean(aps)) if aps else float("nan")
        rows[system] = row
    durations = {}
    if results and results[0].get("by_duration"):
        bd = results[0]["by_duration"]
        durations = {c: v.get("median_duration_s") for c, v in bd.get("classes", {}).items()}
    return {"rows": rows, "median_durations": durations}


def results_markdown(summary: dict, results: list[dict], plot: str = "ap_vs_duration.png") -> str:
    s = summary.get("settings", {})
    lines = ["# Reproduction on the synthetic transient-event benchmark", ""]
    if summary.get("command"):
        lines += [f"Command: `{summary['command']}`", ""]
    lines += [f"Benchmark: {s.get('n_train')} training, {s.get('n_validation')} validation, {s.get('n_test')} test "
              f"clips of 10 s; {s.get('epochs')} epochs, batch {s.get('batch_size')}, SGD lr {s.get('lr')} divided "
              f"by 10 every {s.get('lr_step')} epochs; seeds {summary.get('seeds')}; wall time "
              f"{summary.get('wall_seconds', 0) / 60:.1f} min. In %; with several seeds, mean ± standard deviation "
              "over seeds.", ""]
    head = "| system | params | " + " | ".join(name for _, name in METRICS) + " |"
    lines += [head, "|" + "---|" * (2 + len(METRICS))]
    for system, row in summary["rows"].items():
        cells = []
        for key, _ in METRICS:
            v = row.get(key)
            if v is None:
                cells.append("-")
            elif row.get("n_seeds", 1) > 1:
                cells.append(f"{100 * v[0]:.1f} ± {100 * v[1]:.1f}")
            else:
                cells.append(f"{100 * v[0]:.1f}")
        p = row.get("params")
        lines.append(f"| {system} | {p / 1e6:.2f}M | " + " | ".join(cells) + " |" if p else
                     f"| {system} | - | " + " | ".join(cells) + " |")
    lines += ["", "F1, R, P: mean over classes with class thresholds tuned on the validation split "
              "(the paper's class-based F1). seg F1: segment-based F1 (1 s segments); event F1: event-based "
              "F1 (0.2 s onset collar, offset collar max(0.2 s, 50% of the length)), both from the "
              "events of the 0.18 s scale.", ""]
    durations = summary.get("median_durations") or {}
    if durations:
        lines += ["## Per-class AP against median event duration", "", f"![AP vs duration]({plot})", ""]
        systems = list(summary["rows"])
        lines += ["| class | median duration (s) | " + " | ".join(systems) + " |",
                  "|" + "---|" * (2 + len(systems))]
        for c, d in sorted(durations.items(), key=lambda kv: (kv[1] is None, kv[1])):
            cells = [f"{100 * summary['rows'][sy]['per_class_AP'].get(c, float('nan')):.1f}" for sy in systems]
            lines.append(f"| {c} | {d:.2f} | " + " | ".join(cells) + " |" if d is not None else
                         f"| {c} | - | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_ap_vs_duration(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    if not results or not results[0].get("by_duration"):
        return
    durations = {c: v.get("median_duration_s") for c, v in results[0]["by_duration"].get("classes", {}).items()}
    systems = []
    for r in results:
        if r["system"] not in systems:
            systems.append(r["system"])
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for k, system in enumerate(systems):
        runs = [r for r in results if r["system"] == system]
        xs, ys = [], []
        for c, d in durations.items():
            aps = [r["per_class"][c].get("AP") for r in runs if r["per_class"].get(c, {}).get("AP") is not None]
            if d is not None and aps:
                xs.append(d)
                ys.append(float(np.mean(aps)))
        order = np.argsort(xs)
        ax.plot(np.asarray(xs)[order], np.asarray(ys)[order], marker="o", label=system, alpha=0.85)
    ax.set_xscale("log")
    known = [d for d in durations.values() if d] or [1.0]
    ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20) if min(known) / 1.5 <= t <= max(known) * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("median event duration of the class (s, log scale)")
    ax.set_ylabel("test AP (mean over seeds)")
    ax.set_title("Per-class AP against event duration")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def add_arguments(p) -> None:
    p.add_argument("--out", required=True, help="folder for data, runs and results")
    p.add_argument("--quick", action="store_true", help="tiny sizes for a smoke test (minutes)")
    p.add_argument("--tag", default="", help="name the results results-TAG.md/.json (several comparisons in one folder)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--systems", nargs="+", default=DEFAULT_SYSTEMS,
                   help="methods, optionally with options: mmnet[attention_scale=unit]")
    for key in FULL:
        p.add_argument(f"--{key.replace('_', '-')}", type=type(FULL[key]), default=None,
                       help=f"default {FULL[key]} ({QUICK[key]} with --quick)")


def run(args) -> int:
    settings = {k: getattr(args, k) for k in FULL if getattr(args, k, None) is not None}
    run_reproduction(args.out, systems=args.systems, seeds=tuple(args.seeds), quick=args.quick, settings=settings,
                     tag=args.tag, log=lambda m: print(m, file=sys.stderr, flush=True))
    return 0
