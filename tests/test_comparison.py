"""engine/comparison.py: aggregation of seed run folders, paired statistics, matching, verdicts,
the comparison-results JSON file, and bench/aggregate_seeds.py over it. Numbers are computed by
hand in the comments."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from engine import comparison as cmp
from engine.errors import ResultsFileError

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "aggregate_seeds.py"
BUNDLED = ROOT / "assets" / "results" / "fair-comparison.json"
NOTE_AUTHORS = "--set variant=authors-code --set micro_hidden=0"
# per seed: mAP, short, long, AUC, F1, seg F1, event F1 (fractions)
BASE = [[0.50, 0.2, 0.8, 0.9, 0.4, 0.6, 0.10], [0.60, 0.3, 0.8, 0.9, 0.4, 0.6, 0.20],
        [0.70, 0.4, 0.8, 0.9, 0.4, 0.6, 0.30]]
MM = [[0.55, 0.2, 0.8, 0.9, 0.4, 0.7, 0.20], [0.62, 0.3, 0.8, 0.9, 0.4, 0.7, 0.25],
      [0.80, 0.4, 0.8, 0.9, 0.4, 0.7, 0.40]]
MEAN = [[0.40, 0.1, 0.7, 0.8, 0.3, None, None]] * 3


def write_runs(root: Path, regime: str = "mixed") -> list[Path]:
    """Three seed folders as bench/fair_seeds.sh leaves them (seed 1 has a re-evaluated row)."""
    out = []
    for seed in (0, 1, 2):
        d = root / f"fair-{regime}-s{seed}"
        d.mkdir(parents=True)
        rows = [("resnet-mean", "", MEAN[seed]), ("resnet-att", "", BASE[seed]),
                ("mmnet-authors", NOTE_AUTHORS, MM[seed])]
        if seed == 1:      # an older evaluation first: the later row wins
            rows.insert(0, ("mmnet-authors", NOTE_AUTHORS, [0.0] * 7))
        (d / "all-results.tsv").write_text("".join("\t".join([n, note] + [str(v) for v in vals]) + "\n"
                                                   for n, note, vals in rows))
        (d / "times.txt").write_text(f"resnet-att: 200.0 s wall, {60 + seed}.5 s user + 4.5 s system CPU\n"
                                     "mmnet-authors: 210.0 s wall, 70.0 s user + 5.0 s system CPU\n"
                                     "a line that is not a time\n")
        out.append(d)
    return out


@pytest.fixture
def bench(tmp_path):
    return cmp.benchmark_from_folders(write_runs(tmp_path), "mixed", "Several events a clip")


def test_means_stds_and_cpu_by_hand(bench):
    assert list(bench.systems) == ["resnet-mean", "resnet-att", "mmnet-authors"]
    assert bench.seeds() == [0, 1, 2]
    mm = bench.systems["mmnet-authors"]
    assert mm.method == "mmnet" and mm.options == {"variant": "authors-code", "micro_hidden": "0"}
    s = cmp.spread(list(mm.values("mAP").values()))
    # 55, 62, 80: mean 65.667; deviations -10.667, -3.667, 14.333 -> sum of squares 332.667 / 2 -> std 12.897
    assert s.n == 3 and s.mean == pytest.approx(65.6667, abs=1e-4) and s.std == pytest.approx(12.8970, abs=1e-4)
    base = cmp.spread(list(bench.systems["resnet-att"].values("mAP").values()))
    assert (base.mean, base.std) == (pytest.approx(60.0), pytest.approx(10.0))
    assert cmp.spread(list(bench.systems["resnet-mean"].values("event_F1").values())) is None
    assert cmp.cpu_mean(bench.systems["resnet-att"]) == pytest.approx((65 + 66 + 67) / 3)   # user + system
    assert cmp.cpu_mean(bench.systems["resnet-mean"]) is None
    one = cmp.spread([0.25])
    assert one.mean == 25.0 and one.std is None


def test_known_methods_are_the_engines():
    from engine.models import METHODS

    assert set(cmp.KNOWN_METHODS) == set(METHODS)


def test_paired_difference_seeds_ahead_t_and_p_by_hand(bench):
    d = cmp.paired(bench, "mmnet-authors", "resnet-att", "mAP")
    # +5, +2, +10 points: mean 5.667, deviations -0.667, -3.667, 4.333 -> 32.667 / 2 -> std 4.0415
    assert d.seeds == (0, 1, 2) and d.diffs == pytest.approx((5.0, 2.0, 10.0))
    assert d.mean == pytest.approx(5.6667, abs=1e-4) and d.std == pytest.approx(4.0415, abs=1e-4)
    assert d.ahead == 3 and d.n == 3
    t = 5.6667 / (4.0415 / math.sqrt(3))                    # 2.4286
    assert d.t == pytest.approx(t, abs=1e-3)
    # Student t with 2 degrees of freedom: two-sided p = 1 - t / sqrt(2 + t^2)
    assert d.p == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-4)
    ev = cmp.paired(bench, "mmnet-authors", "resnet-att", "event_F1")     # +10, +5, +10
    assert ev.ahead == 3 and ev.mean == pytest.approx(8.3333, abs=1e-4)
    same = cmp.paired(bench, "mmnet-authors", "resnet-att", "mAP_long")      # 0 at every seed: no t
    assert same.ahead == same.behind == 0 and same.t is None and same.p is None
    assert cmp.paired(bench, "resnet-mean", "resnet-att", "event_F1") is None
    assert cmp.paired(bench, "nobody", "resnet-att", "mAP") is None


def test_verdict_is_computed_from_the_numbers(bench):
    names = {"mmnet-authors": "M&mnet (authors' loss)", "resnet-att": "ResNet-ATT"}
    v = cmp.verdict(bench, "mmnet-authors", "resnet-att", label=names.get)
    # seg F1 +10 at every seed (no spread) first, then by |t|: event F1 +10, +5, +10 (t 5.0, p 0.038), mAP (t 2.4)
    assert v == ("M&mnet (authors' loss) vs ResNet-ATT (3 seeds, paired) — ahead at every seed: "
                 "seg F1 +10.0 ± 0.0; event F1 +8.3 ± 2.9 (p 0.04); mAP +5.7 ± 4.0 · mixed: "
                 "short +0.0 ± 0.0, ahead at 0/3; long +0.0 ± 0.0, ahead at 0/3; AUC +0.0 ± 0.0, ahead at 0/3; "
                 "F1 +0.0 ± 0.0, ahead at 0/3")
    flipped = cmp.verdict(bench, "resnet-att", "mmnet-authors")
    assert ("— behind at every seed: seg F1 −10.0 ± 0.0; event F1 −8.3 ± 2.9 (p 0.04); mAP −5.7 ± 4.0 · mixed"
            in flipped)
    assert "baseline" in cmp.verdict(bench, "resnet-att", "resnet-att")
    assert "not in the benchmark" in cmp.verdict(bench, "mmnet-ms", "resnet-att")
    bench.systems["mmnet-authors"].runs = bench.systems["mmnet-authors"].runs[:1]
    one = cmp.verdict(bench, "mmnet-authors", "resnet-att")
    assert "(1 seed, paired) — ahead at its seed: " in one and "mAP +5.0 · mixed: short +0.0, ahead at 0/1" in one


def test_a_model_matches_the_most_specific_system(bench):
    z = cmp.System("mmnet-authors-z", "mmnet", {"variant": "authors-code", "micro_hidden": "0",
                                                "ensemble_pooling": "zscore"})
    bench.systems["mmnet-authors-z"] = z
    cfg = {"method": "mmnet", "variant": "authors-code", "micro_hidden": 0, "ensemble_pooling": "softmax"}
    assert cmp.match_system(bench, "mmnet", cfg).name == "mmnet-authors"
    assert cmp.match_system(bench, "mmnet", dict(cfg, ensemble_pooling="zscore")).name == "mmnet-authors-z"
    assert cmp.match_system(bench, "mmnet", dict(cfg, micro_hidden=128)) is None
    assert cmp.match_system(bench, "mmnet", {"variant": "paper"}) is None
    assert cmp.match_system(bench, "resnet-att", {}).name == "resnet-att"
    assert cmp.match_system(bench, "resnet-att-class", {}) is None


def test_json_round_trip_keeps_everything(bench, tmp_path):
    bench.baseline, bench.focus, bench.provenance = "resnet-att", "mmnet-authors", {"command": "x", "date": "d"}
    out = cmp.save(cmp.Comparison([bench]), tmp_path / "c.json")
    back = cmp.load(out)
    assert cmp.to_dict(back) == cmp.to_dict(cmp.Comparison([bench]))
    b = back.benchmark("mixed")
    assert b.systems["mmnet-authors"].runs[1].metrics["mAP"] == 0.62
    assert b.systems["resnet-mean"].runs[0].metrics["event_F1"] is None
    assert cmp.paired(b, "mmnet-authors", "resnet-att", "mAP").t == pytest.approx(2.4286, abs=1e-3)
    assert out.stat().st_size < 5000


@pytest.mark.parametrize("text, reason", [
    ("{not json", "not JSON"),
    ('{"format": "other"}', "not an M&m Studio comparison file"),
    ('{"format": "mmstudio-comparison", "format_version": 99, "benchmarks": []}', "version 99"),
    ('{"format": "mmstudio-comparison", "format_version": 1, "benchmarks": []}', "no benchmark"),
    ('{"format": "mmstudio-comparison", "format_version": 1, "benchmarks": [{"key": "k", "systems": '
     '[{"name": "s", "runs": [{"seed": 0, "metrics": {"mAP": "high"}}]}]}]}', "system 's', seed 0, mAP"),
    ('{"format": "mmstudio-comparison", "format_version": 1, "benchmarks": [{"key": "k", "systems": '
     '[{"name": "s", "runs": [{"seed": 0, "metrics": {"mAP": NaN}}]}]}]}', "not a finite number"),
    ('{"format": "mmstudio-comparison", "format_version": 1, "benchmarks": [{"systems": []}]}', '"key"'),
    ('{"format": "mmstudio-comparison", "format_version": 1, "benchmarks": [{"key": "k", "systems": '
     '[{"name": "s", "runs": [{"seed": 0}, {"seed": 0}]}]}]}', "a seed appears twice"),
])
def test_bad_files_raise_a_typed_error_naming_the_file(tmp_path, text, reason):
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(ResultsFileError, match="bad.json") as e:
        cmp.load(p)
    assert reason in str(e.value)


def test_missing_and_binary_files_and_bad_run_folders(tmp_path):
    with pytest.raises(ResultsFileError, match="no such file"):
        cmp.load(tmp_path / "none.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ResultsFileError, match="not UTF-8"):
        cmp.load(tmp_path / "bin.json")
    with pytest.raises(ResultsFileError, match="no such run folder"):
        cmp.read_run_folder(tmp_path / "fair-one-s0")
    d = tmp_path / "fair-one-s3"
    d.mkdir()
    with pytest.raises(ResultsFileError, match="no all-results.tsv"):
        cmp.read_run_folder(d)
    (d / "all-results.tsv").write_text("a\tnote\t0.1\t0.2\n")
    with pytest.raises(ResultsFileError, match=r"all-results.tsv:1: 4 cells"):
        cmp.read_run_folder(d)
    (d / "all-results.tsv").write_text("\n" + "\t".join(["a", ""] + ["0.5"] * 6 + ["half"]) + "\n")
    with pytest.raises(ResultsFileError, match=r"all-results.tsv:2: a metric is not a number"):
        cmp.read_run_folder(d)
    roots = [tmp_path / "r1", tmp_path / "r2"]
    folders = write_runs(roots[0]) + write_runs(roots[1])
    with pytest.raises(ResultsFileError, match="same seed"):
        cmp.benchmark_from_folders(folders, "x", read_models=False)


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_cli_json_adds_benchmarks_and_prints_the_same_tables_from_it(tmp_path):
    mixed, one = write_runs(tmp_path / "runs", "mixed"), write_runs(tmp_path / "runs", "one")
    out = tmp_path / "results.json"
    r = _run(*mixed, "--baseline", "resnet-att", "--per-seed", "--json", out, "--benchmark", "mixed",
             "--title", "Several", "--machine", "test box", "--label", "mmnet-authors=M&mnet A")
    assert r.returncode == 0, r.stderr
    assert "| mmnet-authors | 0,1,2 | 65.7 ± 12.9 |" in r.stdout
    assert "| mmnet-authors | 5.7 ± 4.0 [3/3, t 2.4] |" in r.stdout
    assert _run(*one, "--json", out, "--benchmark", "one").returncode == 0
    assert _run(*mixed, "--json", out, "--benchmark", "mixed", "--title", "Again").returncode == 0   # replaced
    data = json.loads(out.read_text())
    assert [b["key"] for b in data["benchmarks"]] == ["mixed", "one"]
    b = cmp.load(out).benchmark("mixed")
    assert b.title == "Again" and b.provenance["machine"] != "test box" and b.systems["mmnet-authors"].label == ""
    assert "--benchmark mixed" in b.provenance["command"] and b.provenance["date"].endswith("UTC")
    again = _run("--from-json", out, "--benchmark", "mixed", "--baseline", "resnet-att", "--per-seed")
    assert again.returncode == 0 and again.stdout == r.stdout


def test_cli_errors_leave_the_json_file_alone(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    runs = write_runs(tmp_path / "runs")
    r = _run(*runs, "--json", bad, "--benchmark", "mixed")
    assert r.returncode == 2 and "not an M&m Studio comparison file" in r.stderr and bad.read_text() == "{}"
    assert _run(*runs, "--json", bad).returncode == 2            # --benchmark is required
    r = _run("--from-json", bad, "--benchmark", "mixed")
    assert r.returncode == 2
    r = _run(tmp_path / "nowhere-s0")
    assert r.returncode == 2 and "no such run folder" in r.stderr


def test_the_bundled_results_file():
    c = cmp.load(BUNDLED)
    assert [b.key for b in c.benchmarks] == ["mixed", "one", "one-long", "real", "real-bundled"]
    main = ("resnet-mean", "resnet-att", "mmnet-authors", "resnet-att-class", "mmnet-label", "mmnet-authors-z",
            "mmnet-ms-authors", "mmnet-ms-authors-z")
    bundled = ("logreg-logmel-stats", "resnet-att", "resnet-att-class", "mmnet-ms")
    seeds = {"mixed": (main, [0, 1, 2]), "one": (main, [0, 1, 2]),
             "one-long": (("resnet-att", "mmnet-authors-z", "mmnet-authors"), [0, 1, 2]),
             "real": (("resnet-mean", "resnet-att", "mmnet-authors-z"), [0]),
             "real-bundled": (bundled, [0, 1, 2])}
    for b in c.benchmarks:
        assert b.baseline == "resnet-att"
        assert "aggregate_seeds.py" in b.provenance["command"]
        names, expected = seeds[b.key]
        for name in names:
            assert [r.seed for r in b.systems[name].runs] == expected, (b.key, name)
        if b.key == "real-bundled":      # the bundled real-sound models' recipe at 3 seeds
            assert b.focus == "resnet-att-class"
            ms = b.systems["mmnet-ms"]
            assert ms.method == "mmnet-ms" and ms.options == {"variant": "authors-code", "micro_hidden": "0",
                                                              "ensemble_pooling": "zscore"}
            assert len(set(b.systems["logreg-logmel-stats"].values("mAP").values())) == 1   # deterministic
            continue
        assert b.focus == "mmnet-authors-z"
        z = b.systems["mmnet-authors-z"]
        assert z.method == "mmnet" and z.options["variant"] == "authors-code"
        assert z.options["ensemble_pooling"] == "zscore"
    assert BUNDLED.stat().st_size < 100_000
