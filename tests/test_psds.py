"""PSDS (engine.psds) against sed_scores_eval called directly on a hand-made example, sanity
checks (perfect scores ~1, random scores low), and the psds1/psds2 keys of evaluation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sed_scores_eval")
from engine.psds import SCENARIOS, ClipScores, psds, psds_both  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["dog", "cat", "bird"]
HOP, T, DUR = 0.1, 100, 10.0
REF = [("a", 1.0, 2.0, "dog"), ("a", 5.0, 5.5, "cat"), ("b", 2.0, 4.0, "dog"), ("b", 7.0, 8.0, "bird"),
       ("c", 0.3, 0.6, "cat")]


def _perfect(clip):
    s = np.zeros((T, len(CLASSES)))
    for c, on, off, label in REF:
        if c == clip:
            s[int(round(on / HOP)):int(round(off / HOP)), CLASSES.index(label)] = 1.0
    return s


def _scores(fn):
    b = np.arange(T + 1) * HOP
    return {clip: ClipScores(b, fn(clip), DUR) for clip in "abc"}


def test_matches_sed_scores_eval_called_directly():
    from sed_scores_eval.base_modules.scores import create_score_dataframe
    from sed_scores_eval.intersection_based import psds as lib_psds

    rng = np.random.default_rng(1)
    # a plausible detector: the reference smeared and shifted, plus noise and a false alarm
    noisy = {}
    for clip in "abc":
        s = 0.6 * np.roll(_perfect(clip), 2, axis=0) + 0.4 * rng.random((T, 3))
        s[60:70, 2] = 0.99
        noisy[clip] = s
    ours = psds_both(_scores(lambda c: noisy[c]), REF, CLASSES)
    b = np.arange(T + 1) * HOP
    frames = {c: create_score_dataframe(noisy[c], b, CLASSES) for c in "abc"}
    gt = {c: [(on, off, lab) for cc, on, off, lab in REF if cc == c] for c in "abc"}
    dur = {c: DUR for c in "abc"}
    for key, scen in (("psds1", 1), ("psds2", 2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, per_class, _, _ = lib_psds(frames, gt, dur, **SCENARIOS[scen])
        assert ours[key] == pytest.approx(value, abs=1e-12)
        for c in CLASSES:
            assert ours["per_class"][c][key] == pytest.approx(per_class[c], abs=1e-12)
    assert ours["psds1"] < ours["psds2"] < 1.0, ours     # shifted scores: localization (1) suffers more
    # DCASE's published scenario parameters
    assert SCENARIOS[1]["dtc_threshold"] == 0.7 and SCENARIOS[2]["cttc_threshold"] == 0.3
    assert SCENARIOS[2]["alpha_ct"] == 0.5 and SCENARIOS[1]["alpha_st"] == SCENARIOS[2]["alpha_st"] == 1.0


def test_perfect_scores_near_one_random_scores_low():
    perfect = psds_both(_scores(_perfect), REF, CLASSES)
    assert perfect["psds1"] > 0.95 and perfect["psds2"] > 0.95
    rng = np.random.default_rng(0)
    random = psds_both(_scores(lambda c: rng.random((T, 3))), REF, CLASSES)
    assert random["psds1"] < 0.2 and random["psds2"] < 0.5
    # labels the model does not know are left out and counted; no reference gives None
    out = psds(_scores(_perfect), REF + [("a", 1, 2, "horse")], CLASSES)
    assert out["left_out_labels"] == 1 and out["reference_events"] == len(REF)
    assert psds(_scores(_perfect), [], CLASSES)["psds"] is None


@pytest.fixture(scope="module")
def synth_test_split(tmp_path_factory):
    from engine.data.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate(root, n_train=1, n_test=4, n_validation=1, seed=11)
    return root


MODEL = ROOT / "assets" / "models" / "mmnet-ms.safetensors"


def test_evaluate_reports_psds(synth_test_split):
    from engine.evaluate import evaluate

    result = evaluate(str(MODEL), str(synth_test_split), "test", device="cpu")
    assert 0.0 <= result["psds1"] <= 1.0 and 0.0 <= result["psds2"] <= 1.0
    assert any(pc.get("psds2") is not None for pc in result["per_class"].values())
    proc = subprocess.run([sys.executable, "-m", "engine", "evaluate", str(MODEL), "--data", str(synth_test_split),
                           "--split", "test", "--json", "--device", "cpu"], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    cli = json.loads(proc.stdout)
    assert cli["psds1"] == pytest.approx(result["psds1"], abs=1e-6)
    assert cli["psds2"] == pytest.approx(result["psds2"], abs=1e-6)
