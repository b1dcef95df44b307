"""Batch analysis: the batched path gives what Predictor.analyze gives clip by clip, two models
with disagreement, progress, cancel, unreadable files, and the CSV / DCASE TSV exports."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine import load_model
from engine.batch import iter_batch, run_batch, write_events_tsv, write_table_csv
from engine.errors import Cancelled
from engine.labels import read_labels
from tests.conftest import realistic_audio

ROOT = Path(__file__).resolve().parents[1]
MS = ROOT / "assets" / "models" / "mmnet-ms.safetensors"
ATT = ROOT / "assets" / "models" / "resnet-att.safetensors"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    (root / "sub").mkdir()
    for i in range(3):
        sf.write(root / f"c{i}.wav", realistic_audio(10.0, seed=i), 44100)
    sf.write(root / "sub" / "long.flac", realistic_audio(13.0, seed=7), 44100)   # two windows
    sf.write(root / "sub" / "short.wav", realistic_audio(4.0, seed=8), 22050)    # resampled, alone
    (root / "broken.wav").write_bytes(b"RIFF not really")
    return root


@pytest.fixture(scope="module")
def models():
    return load_model(MS, device="cpu"), load_model(ATT, device="cpu")


def test_batched_equals_clip_by_clip(folder, models):
    ms, att = models
    seen = []
    timings = {}
    items = run_batch(folder, ms, att, batch_size=4, keep_analyses=True, timings=timings,
                      progress=lambda done, total, clip: seen.append((done, total, clip)))
    clips = [it.row.clip for it in items]
    assert clips == ["broken.wav", "c0.wav", "c1.wav", "c2.wav", "sub/long.flac", "sub/short.wav"]
    assert seen[-1][:2] == (6, 6) and [s[2] for s in seen] == clips
    assert items[0].row.error and "broken.wav" in items[0].row.error
    assert set(timings) == {"decode", "features", "model", "events"}
    for it in items[1:]:
        for a, model in ((it.analysis_a, ms), (it.analysis_b, att)):
            ref = model.analyze(it.row.path)
            np.testing.assert_allclose(a.clip_probs, ref.clip_probs, atol=1e-5)
            for s, r in zip(a.scales, ref.scales):
                np.testing.assert_allclose(s.segment_probs, r.segment_probs, atol=1e-5)
            assert a.duration == pytest.approx(ref.duration)
        row = it.row
        assert row.top_a[0][1] == pytest.approx(float(np.max(it.analysis_a.clip_probs)), abs=1e-4)
        assert len(row.top_a) == 3 and row.top_b is not None
        assert row.events_a == len(it.events_a) and row.short_a <= row.events_a
        assert row.disagreement is not None and 0 <= row.disagreement.value <= 1
        assert row.disagreement.label in ms.classes


def test_cancel_and_exports(folder, models, tmp_path):
    ms, _ = models
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 3

    got = []
    with pytest.raises(Cancelled):
        for it in iter_batch(folder, ms, batch_size=2, cancel=cancel):
            got.append(it)
    assert len(got) < 6
    items = run_batch(folder, ms, batch_size=8)
    write_table_csv(tmp_path / "t.csv", [it.row for it in items])
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert [r["clip"] for r in rows] == [it.row.clip for it in items] and rows[0]["error"]
    assert rows[1]["top_a"].count(";") == 2 and rows[1]["top_b"] == ""
    write_events_tsv(tmp_path / "e.tsv", items)
    back = read_labels(tmp_path / "e.tsv")
    assert back.ok and back.format == "dcase"
    n = sum(len(it.events_a) for it in items)
    assert len(back.events) == n
    assert len(back.clips) == sum(1 for it in items if not it.row.error and not it.events_a)


def test_mmnet_batch_subprocess(folder, tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "engine", "batch", str(folder), str(MS), "--model-b", str(ATT),
                        "--table", str(tmp_path / "t.csv"), "--events", str(tmp_path / "e.tsv"), "--device", "cpu"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 1, p.stderr          # broken.wav could not be read; the rest is there
    assert "1 of 6 files" in p.stderr and "Traceback" not in p.stderr
    rows = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert len(rows) == 6 and all(r["disagreement"] for r in rows if not r["error"])
    assert read_labels(tmp_path / "e.tsv").ok
