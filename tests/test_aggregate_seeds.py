"""bench/aggregate_seeds.py: mean, spread and paired differences over seed folders."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "aggregate_seeds.py"


def _folder(root: Path, seed: int, rows: dict[str, list], times: dict[str, tuple]) -> Path:
    d = root / f"fair-one-s{seed}"
    d.mkdir()
    lines = ["\t".join([n, "note"] + ["None" if v is None else str(v) for v in vals]) for n, vals in rows.items()]
    (d / "all-results.tsv").write_text("\n".join(lines) + "\n")
    (d / "times.txt").write_text("".join(f"{n}: {w} s wall, {u} s user + {s} s system CPU\n" for n, (w, u, s) in times.items()))
    return d


def test_mean_std_pairs_and_costs(tmp_path):
    base = [0.5, 0.2, 0.8, 0.9, 0.4, None, None]
    a = _folder(tmp_path, 0, {"att": [0.6, 0.3, 0.8, 0.9, 0.5, 0.5, 0.1], "mean": base},
                {"att": (120, 80.0, 2.0), "mean": (90, 70.0, 0.0)})
    # a later row of the same system wins (a re-evaluation appended to all-results.tsv)
    b = _folder(tmp_path, 1, {"att": [0.1] * 7, "mean": [0.4] + base[1:]},
                {"att": (100, 90.0, 4.0), "mean": (90, 72.0, 0.0)})
    with open(b / "all-results.tsv", "a") as f:
        f.write("\t".join(["att", ""] + [str(v) for v in [0.8, 0.3, 0.8, 0.9, 0.5, 0.7, 0.3]]) + "\n")
    out = subprocess.run([sys.executable, str(SCRIPT), str(a), str(b), "--baseline", "mean", "--per-seed"],
                         capture_output=True, text=True, check=True).stdout
    assert "| att | 0,1 | 70.0 ± 14.1 | 30.0 ± 0.0 |" in out
    assert "60.0 ± 14.1 | 20.0 ± 14.1 | 88 |" in out   # seg F1, event F1, mean CPU (82 and 94 s)
    assert "| mean | 0,1 | 45.0 ± 7.1 |" in out and "| - | - | 71 |" in out
    assert "| att | 25.0 ± 21.2 [2/2, t 1.7] |" in out   # paired mAP: +10 and +40 points
    assert "| att | 1 | 80.0 | 30.0 | 80.0 | 90.0 | 50.0 | 70.0 | 30.0 | 94 |" in out
