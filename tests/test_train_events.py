"""``mmnet train --events`` / ``--keep-snapshots`` and SIGTERM, with real processes on tiny synthetic data."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from engine.runs import EventFollower, read_events, run_state, snapshots

pytestmark = pytest.mark.slow

TINY_SETS = ["--set", "channels=[16,16,16]", "--set", "stem=16", "--set", "fc_hidden=32",
             "--set", "micro_hidden=16", "--set", "heads=4"]


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1")


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("events-data")
    proc = subprocess.run([sys.executable, "-m", "engine", "synth", str(root / "data"), "--n-train", "16",
                           "--n-test", "2", "--n-validation", "6", "--duration", "3", "--seed", "2"],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr
    return root / "data", root / "cache"


def _train_cmd(data, cache, out, *extra, epochs=4):
    return [sys.executable, "-m", "engine", "train", "--data", str(data), "--cache", str(cache), "--out", str(out),
            "--method", "mmnet", "--epochs", str(epochs), "--batch-size", "4", "--lr", "0.05", "--seed", "1",
            "--workers", "1", *TINY_SETS, *extra]


def _parse(stdout: str) -> list[dict]:
    # every stdout line is one JSON object: human text never lands there
    return [json.loads(line) for line in stdout.splitlines()]


def test_events_on_stdout_and_snapshots(synth_data, tmp_path):
    data, cache = synth_data
    run = tmp_path / "run"
    proc = subprocess.run(_train_cmd(data, cache, run, "--events", "-", "--keep-snapshots", epochs=2),
                          capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr
    events = _parse(proc.stdout)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finished" and kinds.count("epoch") == 2
    assert "ready" in kinds and kinds.index("ready") < kinds.index("batch")
    start = events[0]
    assert start["method"] == "mmnet" and start["clips"] == {"train": 16, "validation": 6}
    assert start["config"]["epochs"] == 2 and start["config"]["keep_snapshots"] is True
    assert start["device"] == "cpu" and start["pid"] > 0 and start["resumed"] is False
    assert all(e["run"] == str(run) and e["time"] > 0 for e in events)
    batches = [e for e in events if e["type"] == "batch"]
    assert {(e["epoch"], e["batch"]) for e in batches} >= {(1, 4), (2, 4)}   # an epoch's last batch always
    for e in batches:
        assert e["batches"] == 4 and e["loss"] > 0 and e["clips_per_s"] > 0 and e["eta_s"] >= 0
    epochs = [e for e in events if e["type"] == "epoch"]
    for i, e in enumerate(epochs, 1):
        assert e["epoch"] == i and e["lr"] == 0.05 and e["seconds"] > 0 and e["train_loss"] > 0
        assert "val_mAP" in e and Path(e["checkpoint"]) == run / "checkpoint.pt"
        assert Path(e["snapshot"]) == run / "snapshots" / f"epoch-{i:03d}.safetensors"
    fin = events[-1]
    assert Path(fin["model"]) == run / "model.safetensors" and fin["best_epoch"] in (1, 2)
    # the human progress went to stderr
    assert "epoch 2/2" in proc.stderr and "done: best epoch" in proc.stderr
    # the run folder's own log holds the same events (the file gets everything the stream got)
    assert [e["type"] for e in read_events(run)] == kinds
    # snapshots: the initial weights and one per epoch, float16 and loadable by engine.load_model
    snaps = snapshots(run)
    assert [e for e, _ in snaps] == [0, 1, 2]
    assert snaps[-1][1].stat().st_size < 0.7 * (run / "best.safetensors").stat().st_size
    from engine import load_model

    p = load_model(snaps[1][1], device="cpu")
    assert next(p.model.parameters()).dtype == torch.float32
    a = p.analyze(sorted(data.rglob("*.wav"))[0])
    assert a.scales and a.scales[0].attention is not None
    state = run_state(run)
    assert state.status == "finished" and state.model == run / "model.safetensors"
    assert [h["epoch"] for h in state.history] == [1, 2] and not state.resumable


def test_sigterm_stops_after_a_checkpoint_and_resume_finishes_exactly(synth_data, tmp_path):
    data, cache = synth_data
    straight = tmp_path / "straight"
    proc = subprocess.run(_train_cmd(data, cache, straight), capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr

    run = tmp_path / "run"
    events_file = tmp_path / "events.jsonl"
    err = open(tmp_path / "stderr.txt", "w")
    child = subprocess.Popen(_train_cmd(data, cache, run, "--events", str(events_file)), stdout=subprocess.PIPE,
                             stderr=err, text=True, env=_env())
    follower = EventFollower(events_file)
    seen = []
    deadline = time.time() + 300
    try:
        while not any(e["type"] == "epoch" for e in seen):
            assert child.poll() is None, "the run ended before its first epoch"
            assert time.time() < deadline
            seen += follower.poll()
            time.sleep(0.05)
        assert run_state(run).status == "running"
        child.send_signal(signal.SIGTERM)
        rc = child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
        err.close()
    assert rc == 143, (tmp_path / "stderr.txt").read_text()
    seen += follower.poll()
    last = seen[-1]
    assert last["type"] == "cancelled" and last["reason"] == "SIGTERM"
    assert Path(last["checkpoint"]) == run / "checkpoint.pt"
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert (state["epoch"] + 1, state["batch"]) == (last["epoch"], last["batch"])
    assert "stopping after a checkpoint" in (tmp_path / "stderr.txt").read_text()
    st = run_state(run)
    assert st.status == "cancelled" and st.resumable
    # a second process may not start a new run over it
    proc = subprocess.run(_train_cmd(data, cache, run), capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 2 and "already holds a run" in proc.stderr
    assert read_events(run)[-1]["type"] == "cancelled"   # ... and does not touch the run's log

    proc = subprocess.run(_train_cmd(data, cache, run, "--resume", "--events", "-"), capture_output=True, text=True,
                          timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr
    resumed = _parse(proc.stdout)
    ready = next(e for e in resumed if e["type"] == "ready")
    assert resumed[0]["resumed"] is True
    assert (ready["start_epoch"], ready["start_batch"]) == (last["epoch"], last["batch"] + 1)
    assert resumed[-1]["type"] == "finished"
    # the same weights as the uninterrupted run
    a = torch.load(straight / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(run / "checkpoint.pt", weights_only=True)["model"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k
    st = run_state(run)
    assert st.status == "finished" and [h["epoch"] for h in st.history] == [1, 2, 3, 4]


def test_killed_run_is_interrupted_and_failures_are_events(synth_data, tmp_path):
    data, cache = synth_data
    run = tmp_path / "run"
    child = subprocess.Popen(_train_cmd(data, cache, run, epochs=50), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=_env())
    try:
        deadline = time.time() + 300
        while not any(e["type"] == "epoch" for e in read_events(run)):
            assert child.poll() is None and time.time() < deadline
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    st = run_state(run)
    assert st.status == "interrupted" and st.resumable and st.history

    # a problem the user can fix: exit 2, one line on stderr, a "failed" event with the error's type
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run(_train_cmd(empty, cache, tmp_path / "bad", "--events", "-"), capture_output=True,
                          text=True, timeout=300, env=_env())
    assert proc.returncode == 2
    failed = _parse(proc.stdout)[-1]
    assert failed["type"] == "failed" and failed["error_type"] in ("TrainingError", "DatasetError")
    assert failed["reason"] and "\n" not in failed["reason"]
    assert run_state(tmp_path / "bad").status == "failed"
