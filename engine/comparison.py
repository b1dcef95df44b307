"""Benchmark comparisons over training seeds: aggregation of run folders, paired differences,
and the small versioned JSON "comparison results" file the app's Compare tab shows.

A *benchmark* is one data set or regime (e.g. the synthetic benchmark with several events a
clip); each *system* (a method with options, e.g. ``mmnet-authors`` = method ``mmnet`` with
``variant=authors-code``) was trained at several *seeds*, and each (system, seed) has a
value per metric (fractions in [0, 1], or None where the system has no such output) and the
CPU seconds of its training.

Run folders are those of ``bench/fair_seeds.sh`` (ROOT/fair-REGIME-sSEED): ``all-results.tsv``
holds rows of ``bench/report_line.py --tsv`` (name, note, then the :data:`KEYS` as fractions
or ``None``; a later row of a name wins) and ``times.txt`` the ``/usr/bin/time`` line of each
training (wall, user and system seconds).

Statistics are in points (%, the fractions x 100): :func:`spread` is mean +- sample standard
deviation (n - 1) over seeds; :func:`paired` is the difference system - baseline seed by
seed, with the number of seeds where the system is ahead and the paired t statistic
(mean / (std / sqrt(n)), n - 1 degrees of freedom). Never imports Qt; bad files raise
:class:`~engine.errors.ResultsFileError`.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ResultsFileError

FORMAT = "mmstudio-comparison"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 20_000_000
# metric key (as report_line.py writes it) -> short column title
METRICS = {"mAP": "mAP", "mAP_short": "short", "mAP_long": "long", "AUC": "AUC", "F1_class_mean": "F1",
           "segment_F1": "seg F1", "event_F1": "event F1"}
KEYS = tuple(METRICS)
METRIC_HELP = {
    "mAP": "mean average precision over classes", "mAP_short": "mean AP of the transient classes "
    "(median event under 1 s)", "mAP_long": "mean AP of the long classes", "AUC": "mean ROC AUC over classes",
    "F1_class_mean": "class-mean F1 at thresholds tuned on validation", "segment_F1": "segment F1 (1-s segments, "
    "from d_t)", "event_F1": "event F1 (0.2-s onset collar, from d_t)"}
TIME_RE = re.compile(r"^(\S+): ([\d.]+) s wall, ([\d.]+) s user \+ ([\d.]+) s system CPU")
SEED_RE = re.compile(r"-s(\d+)$")
# engine.models.METHODS (tested equal), without importing torch: a system's method is guessed from
# its name when its run folder has no model file
KNOWN_METHODS = ("convnet-mean", "resnet-mean", "resnet-max", "resnet-wlat", "resnet-slat", "resnet-plat",
                 "resnet-att", "resnet-att-class", "mmnet", "mmnet-ms")


@dataclass
class SeedRun:
    """One training of a system: its seed, metrics (fractions or None) and CPU seconds."""

    seed: int | str
    metrics: dict[str, float | None]
    cpu_s: float | None = None


@dataclass
class System:
    """A method with options, trained at several seeds (``runs`` in folder order)."""

    name: str
    method: str | None = None
    options: dict[str, str] = field(default_factory=dict)    # model config values that define it
    note: str = ""                                            # the report line's note (CLI options)
    label: str = ""                                           # a display name ("" = the app makes one)
    parameters: int | None = None
    training: dict = field(default_factory=dict)              # epochs, lr, batch size, clips, ...
    runs: list[SeedRun] = field(default_factory=list)

    def values(self, metric: str) -> dict[int | str, float]:
        """{seed: value} of ``metric`` where it has one."""
        return {r.seed: r.metrics[metric] for r in self.runs if r.metrics.get(metric) is not None}

    def cpu(self) -> list[float]:
        return [r.cpu_s for r in self.runs if r.cpu_s is not None]


@dataclass
class Benchmark:
    """One benchmark (data set or regime): its systems in order, and where the numbers come from."""

    key: str
    title: str = ""
    description: str = ""
    baseline: str | None = None          # the system to pair the others with by default
    focus: str | None = None             # the system a verdict is about by default
    provenance: dict = field(default_factory=dict)   # command, date, machine, note, folders
    systems: dict[str, System] = field(default_factory=dict)

    def seeds(self) -> list[int | str]:
        out: list[int | str] = []
        for s in self.systems.values():
            out += [r.seed for r in s.runs if r.seed not in out]
        return out


@dataclass
class Comparison:
    """A comparison-results file: benchmarks in order."""

    benchmarks: list[Benchmark] = field(default_factory=list)

    def benchmark(self, key: str) -> Benchmark:
        for b in self.benchmarks:
            if b.key == key:
                return b
        raise KeyError(key)

    def put(self, bench: Benchmark) -> None:
        """Add ``bench``, replacing a benchmark of the same key in place."""
        keys = [b.key for b in self.benchmarks]
        if bench.key in keys:
            self.benchmarks[keys.index(bench.key)] = bench
        else:
            self.benchmarks.append(bench)


# ================================================================ statistics (points, %)
@dataclass(frozen=True)
class Spread:
    """mean +- sample std (None with one value) of n values, in points."""

    mean: float
    std: float | None
    n: int
    values: tuple[float, ...]


def spread(values, scale: float = 100.0) -> Spread | None:
    """Mean and sample standard deviation of ``scale`` x values (None without values)."""
    if len(values) == 0:
        return None
    a = scale * np.asarray(values, dtype=float)
    return Spread(float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else None, len(a), tuple(a.tolist()))


@dataclass(frozen=True)
class Paired:
    """system - baseline at each seed both have, in points: mean +- std, seeds ahead, t and p."""

    seeds: tuple
    diffs: tuple[float, ...]
    mean: float
    std: float | None
    ahead: int                   # seeds where system > baseline
    behind: int                  # seeds where system < baseline
    t: float | None              # None with one seed or no spread

    @property
    def n(self) -> int:
        return len(self.diffs)

    @property
    def p(self) -> float | None:
        """Two-sided p of t with n - 1 degrees of freedom (Student's t: I_{df/(df+t^2)}(df/2, 1/2))."""
        if self.t is None:
            return None
        from scipy.special import betainc

        df = self.n - 1
        return float(betainc(df / 2, 0.5, df / (df + self.t ** 2)))


def paired(bench: Benchmark, system: str, baseline: str, metric: str) -> Paired | None:
    """The paired difference ``system`` - ``baseline`` on ``metric`` (None without a common seed)."""
    if system not in bench.systems or baseline not in bench.systems:
        return None
    a, b = bench.systems[system].values(metric), bench.systems[baseline].values(metric)
    seeds = [s for s in a if s in b]
    if not seeds:
        return None
    d = np.asarray([a[s] - b[s] for s in seeds])
    pts = spread(d)
    t = None
    if len(d) > 1 and d.std(ddof=1) != 0:
        t = float(d.mean() / (d.std(ddof=1) / np.sqrt(len(d))))
    return Paired(tuple(seeds), pts.values, pts.mean, pts.std, int(sum(x > 0 for x in d)), int(sum(x < 0 for x in d)),
                  t)


def cpu_mean(system: System) -> float | None:
    secs = system.cpu()
    return float(np.mean(secs)) if secs else None


# ================================================================ run folders
@dataclass
class FolderRun:
    """One seed's run folder: {system: (note, metrics)} and {system: CPU seconds}."""

    seed: int | str
    rows: dict[str, tuple[str, dict[str, float | None]]]
    cpu: dict[str, float]


def read_run_folder(folder: str | Path) -> FolderRun:
    """Read ROOT/fair-REGIME-sSEED: the seed from the name's -sN suffix (else the name)."""
    folder = Path(folder)
    tsv = folder / "all-results.tsv"
    if not folder.is_dir():
        raise ResultsFileError(f"{folder}: no such run folder")
    if not tsv.is_file():
        raise ResultsFileError(f"{folder}: no all-results.tsv (rows of bench/report_line.py --tsv)")
    m = SEED_RE.search(folder.name)
    rows: dict[str, tuple[str, dict[str, float | None]]] = {}
    for i, line in enumerate(_text(tsv).splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 2 + len(KEYS):
            raise ResultsFileError(f"{tsv}:{i}: {len(cells)} cells, expected {2 + len(KEYS)} "
                                   f"(name, note, {', '.join(KEYS)})")
        try:
            vals = [None if c == "None" else float(c) for c in cells[2:]]
        except ValueError:
            raise ResultsFileError(f"{tsv}:{i}: a metric is not a number or None") from None
        rows[cells[0]] = (cells[1], dict(zip(KEYS, vals)))
    cpu: dict[str, float] = {}
    times = folder / "times.txt"
    if times.is_file():
        for line in _text(times).splitlines():
            t = TIME_RE.match(line)
            if t:
                cpu[t.group(1)] = float(t.group(3)) + float(t.group(4))
    return FolderRun(int(m.group(1)) if m else folder.name, rows, cpu)


def parse_options(note: str) -> dict[str, str]:
    """{key: value} of the ``--set key=value`` options in a report line's note."""
    return dict(re.findall(r"--set\s+([A-Za-z_][\w]*)=(\S+)", note))


def benchmark_from_folders(folders, key: str, title: str = "", description: str = "",
                           read_models: bool = True) -> Benchmark:
    """A :class:`Benchmark` of the seeds' run folders (one a seed), systems in order of first
    appearance. With ``read_models``, each system's method, parameter count and training
    settings come from the header of its first FOLDER/NAME/model.safetensors (no weights
    are read); without one, the method is the longest known method name that starts the name."""
    runs = [read_run_folder(f) for f in folders]
    seen = [r.seed for r in runs]
    if len(set(map(str, seen))) != len(seen):
        raise ResultsFileError(f"two run folders with the same seed ({', '.join(map(str, seen))})")
    bench = Benchmark(key, title, description)
    for folder, run in zip(folders, runs):
        for name, (note, metrics) in run.rows.items():
            if name not in bench.systems:
                bench.systems[name] = System(name, options=parse_options(note), note=note)
                _describe(bench.systems[name], Path(folder) / name / "model.safetensors", read_models)
            bench.systems[name].runs.append(SeedRun(run.seed, metrics, run.cpu.get(name)))
    return bench


def _describe(system: System, model_file: Path, read_models: bool) -> None:
    if read_models and model_file.is_file():
        from .modelfile import read_metadata

        meta = read_metadata(model_file)
        system.method = meta.get("method")
        system.parameters = meta.get("parameters")
        prov = meta.get("provenance") or {}
        cfg = prov.get("config") or {}
        system.training = {k: v for k, v in (("epochs", cfg.get("epochs")), ("batch_size", cfg.get("batch_size")),
                                             ("lr", cfg.get("lr")), ("lr_step", cfg.get("lr_step")),
                                             ("train_clips", prov.get("train_clips")),
                                             ("validation_clips", prov.get("validation_clips")),
                                             ("width", cfg.get("model"))) if v is not None}
    if system.method is None:
        known = [m for m in KNOWN_METHODS if system.name == m or system.name.startswith(m + "-")]
        system.method = max(known, key=len) if known else None


# ================================================================ matching and verdicts
def match_system(bench: Benchmark, method: str | None, config: dict | None) -> System | None:
    """The system of ``bench`` a model of ``method`` with model config ``config`` is an instance
    of: same method, every option of the system equal in the config (compared as text); the
    system with the most options wins (the most specific), the first one on a tie."""
    best, best_n = None, -1
    for s in bench.systems.values():
        if s.method is None or s.method != method:
            continue
        if all(_same(config.get(k) if config else None, v) for k, v in s.options.items()) and len(s.options) > best_n:
            best, best_n = s, len(s.options)
    return best


def _same(value, text: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == text.lower()
    return value is not None and str(value) == text


def _fmt_pts(x: float, sign: bool = True) -> str:
    s = f"{x:+.1f}" if sign else f"{x:.1f}"
    return s.replace("-", "−")


def describe_paired(d: Paired, title: str, ahead: bool = True) -> str:
    """'event F1 +6.7 ± 4.2, ahead at 3/3 (p 0.03)': p where p < 0.05; without ``ahead``, no count."""
    text = f"{title} {_fmt_pts(d.mean)}" + (f" ± {d.std:.1f}" if d.std is not None else "")
    if ahead:
        text += f", ahead at {d.ahead}/{d.n}"
    if d.p is not None and d.p < 0.05:
        text += f" (p {d.p:.2f})"
    return text


def verdict(bench: Benchmark, system: str, baseline: str, label=None) -> str:
    """One line from the data: ``system`` against ``baseline`` on every metric both have,
    grouped by whether the system is ahead at every seed, behind at every seed, or neither
    (strongest first: by |t|; a difference without spread over several seeds first; then by
    |mean|). ``label(name) -> str`` names the systems."""
    label = label or (lambda n: n)
    if system == baseline:
        return f"{label(system)} is the baseline: choose another system to compare with it."
    for s in (system, baseline):
        if s not in bench.systems:
            return f"{s} is not in the benchmark {bench.title or bench.key}."
    groups: dict[str, list[tuple]] = {"ahead": [], "behind": [], "mixed": []}
    n = 0
    for i, (k, title) in enumerate(METRICS.items()):
        d = paired(bench, system, baseline, k)
        if d is None:
            continue
        n = max(n, d.n)
        kind = "ahead" if d.ahead == d.n else "behind" if d.behind == d.n else "mixed"
        strength = abs(d.t) if d.t is not None else math.inf if d.n > 1 and d.mean != 0 else 0.0
        groups[kind].append((-strength, -abs(d.mean), i, describe_paired(d, title, ahead=kind == "mixed")))
    if n == 0:
        return f"{label(system)} and {label(baseline)} share no seed with results."
    seeds = "every seed" if n > 1 else "its seed"
    parts = [f"{head}: " + "; ".join(g[-1] for g in sorted(groups[kind]))
             for kind, head in (("ahead", f"ahead at {seeds}"), ("behind", f"behind at {seeds}"), ("mixed", "mixed"))
             if groups[kind]]
    return f"{label(system)} vs {label(baseline)} ({n} seed{'s' if n > 1 else ''}, paired) — " + " · ".join(parts)


# ================================================================ the JSON file
def to_dict(comparison: Comparison) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "benchmarks": [
        {"key": b.key, "title": b.title, "description": b.description, "baseline": b.baseline, "focus": b.focus,
         "provenance": b.provenance, "systems": [
             {"name": s.name, "label": s.label, "method": s.method, "options": s.options, "note": s.note,
              "parameters": s.parameters, "training": s.training,
              "runs": [{"seed": r.seed, "cpu_s": r.cpu_s, "metrics": r.metrics} for r in s.runs]}
             for s in b.systems.values()]}
        for b in comparison.benchmarks]}


def save(comparison: Comparison, path: str | Path) -> Path:
    """Write ``comparison`` as JSON (UTF-8, indented; innermost objects and lists on one line), atomically."""
    path = Path(path)
    text = json.dumps(to_dict(comparison), indent=1, ensure_ascii=False)
    text = re.sub(r"([\[{])\n\s*([^\[\]{}]*?)\n\s*([\]}])",
                  lambda m: m.group(1) + re.sub(r"\n\s*", " ", m.group(2)) + m.group(3), text)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load(path: str | Path) -> Comparison:
    """Read a comparison-results file; :class:`ResultsFileError` says what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ResultsFileError(f"{path}: {path.stat().st_size / 1e6:.0f} MB is too large for a comparison file")
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        return from_dict(data)
    except ResultsFileError as exc:
        raise ResultsFileError(f"{path}: {exc}") from None


def from_dict(data) -> Comparison:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsFileError(f"not an M&m Studio comparison file (no \"format\": \"{FORMAT}\")")
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise ResultsFileError(f"comparison format version {version!r} is not supported "
                               f"(this build reads 1 to {FORMAT_VERSION})")
    raw = data.get("benchmarks")
    if not isinstance(raw, list) or not raw:
        raise ResultsFileError("it holds no benchmark")
    out = Comparison()
    for i, b in enumerate(raw):
        where = f"benchmark {i + 1}"
        key = _get(b, "key", str, where)
        bench = Benchmark(key, _opt(b, "title", str, where, ""), _opt(b, "description", str, where, ""),
                          _opt(b, "baseline", str, where, None), _opt(b, "focus", str, where, None),
                          _opt(b, "provenance", dict, where, {}))
        for s in _get(b, "systems", list, f"benchmark {key!r}"):
            sys_where = f"benchmark {key!r}, a system"
            name = _get(s, "name", str, sys_where)
            sys_where = f"benchmark {key!r}, system {name!r}"
            options = _opt(s, "options", dict, sys_where, {})
            system = System(name, _opt(s, "method", str, sys_where, None), {str(k): str(v) for k, v in options.items()},
                            _opt(s, "note", str, sys_where, ""), _opt(s, "label", str, sys_where, ""),
                            _opt(s, "parameters", int, sys_where, None), _opt(s, "training", dict, sys_where, {}))
            for r in _get(s, "runs", list, sys_where):
                seed = _get(r, "seed", (int, str), sys_where)
                metrics = _opt(r, "metrics", dict, f"{sys_where}, seed {seed}", {})
                system.runs.append(SeedRun(seed, {str(k): _number(v, f"{sys_where}, seed {seed}, {k}")
                                                  for k, v in metrics.items()},
                                           _number(r.get("cpu_s"), f"{sys_where}, seed {seed}, cpu_s")))
            if len({str(r.seed) for r in system.runs}) != len(system.runs):
                raise ResultsFileError(f"{sys_where}: a seed appears twice")
            bench.systems[name] = system
        out.put(bench)
    return out


def _get(d, key: str, kind, where: str):
    if not isinstance(d, dict) or not isinstance(d.get(key), kind) or isinstance(d.get(key), bool):
        raise ResultsFileError(f"{where}: \"{key}\" missing or of the wrong type")
    return d[key]


def _opt(d, key: str, kind, where: str, default):
    if d.get(key) is None:
        return default
    return _get(d, key, kind, where)


def _number(v, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ResultsFileError(f"{where}: {v!r} is not a finite number or null")
    return float(v)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ResultsFileError(f"{path}: cannot be read ({exc.strerror})") from None


__all__ = ["FORMAT", "FORMAT_VERSION", "METRICS", "KEYS", "METRIC_HELP", "SeedRun", "System", "Benchmark",
           "Comparison", "Spread", "spread", "Paired", "paired", "cpu_mean", "FolderRun", "read_run_folder",
           "parse_options", "benchmark_from_folders", "match_system", "describe_paired", "verdict", "to_dict",
           "save", "load", "from_dict"]
