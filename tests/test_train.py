"""Real training on tiny synthetic data: run folder, resume, stop, CLI, evaluation, DDP."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.train import TrainConfig, Trainer, TrainingError
from tests.conftest import TINY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from engine.data.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate(root, n_train=16, n_test=6, n_validation=6, seed=7)
    return root


def _config(data, **kw):
    base = dict(data=str(data), method="mmnet", epochs=2, batch_size=8, lr=0.05, lr_step=1, seed=3,
                model=dict(TINY), workers=1)
    base.update(kw)
    return TrainConfig(**base)


def _weights(run: Path) -> dict:
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    return state["model"]


def test_training_writes_a_complete_run(tiny_data, tmp_path):
    events = []
    run = tmp_path / "run"
    summary = Trainer(_config(tiny_data), run, callback=events.append, verbose=False).run()
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finished" and kinds.count("epoch") == 2
    assert {e["batch"] for e in events if e["type"] == "batch"} == {1, 2}
    for name in ("config.json", "metrics.csv", "checkpoint.pt", "best.safetensors", "model.safetensors"):
        assert (run / name).exists(), name
    rows = (run / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,train_loss,val_mAP") and len(rows) == 3
    from engine.modelfile import read_metadata

    meta = read_metadata(run / "model.safetensors")
    assert meta["provenance"]["thresholds_tuned_on"] == "validation"
    assert meta["provenance"]["epoch"] == summary["best_epoch"]
    assert len(meta["thresholds"]) == len(meta["classes"]) >= 10
    # the learning rate was divided by 10 after epoch 1
    lrs = [float(r.split(",")[5]) for r in rows[1:]]
    assert lrs == pytest.approx([0.05, 0.005])


def test_stop_and_resume_give_the_uninterrupted_run(tiny_data, tmp_path):
    straight = tmp_path / "straight"
    Trainer(_config(tiny_data), straight, verbose=False).run()

    stopped = tmp_path / "stopped"
    trainer = Trainer(_config(tiny_data), stopped, verbose=False)

    def stop_mid_epoch_2(event):
        if event["type"] == "batch" and event["epoch"] == 2 and event["batch"] == 1:
            trainer.request_stop()

    trainer.callback = stop_mid_epoch_2
    assert trainer.run()["stopped"]
    state = torch.load(stopped / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["batch"]) == (1, 1)  # in epoch 2 (index 1), after its first batch
    with pytest.raises(TrainingError, match="already holds a run"):
        Trainer(_config(tiny_data), stopped, verbose=False).run()
    Trainer(_config(tiny_data), stopped, verbose=False).run(resume=True)
    a, b = _weights(straight), _weights(stopped)
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k


def test_damaged_checkpoint_and_bad_data_are_clear_errors(tiny_data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(TrainingError, match="cannot resume"):
        Trainer(_config(tiny_data), run, verbose=False).run(resume=True)
    with pytest.raises(TrainingError, match="no such dataset"):
        Trainer(_config(tmp_path / "nowhere"), tmp_path / "r2", verbose=False).run()


def test_cli_train_then_evaluate(tiny_data, tmp_path):
    run = tmp_path / "cli-run"
    sets = sum((["--set", f"{k}={json.dumps(v)}"] for k, v in TINY.items()), [])
    proc = subprocess.run([sys.executable, "-m", "engine", "train", "--data", str(tiny_data), "--method",
                           "resnet-att", "--out", str(run), "--epochs", "1", "--batch-size", "8", "--lr", "0.05",
                           "--seed", "1", *sets], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (run / "model.safetensors").exists()
    assert "epoch 1/1" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "engine", "evaluate", str(run / "model.safetensors"), "--data",
                           str(tiny_data), "--split", "test", "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for key in ("mAP", "AUC", "F1_class_mean", "F1_micro", "segment_ER", "segment_F1", "event_F1"):
        assert key in result, key
    assert result["clips"] == 6 and result["method"] == "resnet-att"


def test_distributed_two_cpu_processes_agree(tiny_data, tmp_path):
    run = tmp_path / "ddp"
    sets = sum((["--set", f"{k}={json.dumps(v)}"] for k, v in TINY.items()), [])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "--master-port", "29533", "-m", "engine", "train", "--data", str(tiny_data),
                           "--method", "mmnet", "--out", str(run), "--epochs", "1", "--batch-size", "8",
                           "--device", "cpu", *sets], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from engine.modelfile import read_metadata

    prov = read_metadata(run / "model.safetensors")["provenance"]
    assert prov["world_size"] == 2 and prov["ranks_agree"] is True


def test_reproduce_quick(tmp_path):
    """The reproduction pipeline end to end at its --quick size (1 seed, 2 systems): every number of the
    table is a finite fraction in [0, 1], the one that evaluating the run's written model gives (with and
    without EP for M&mnet), and results.md prints it."""
    from engine import load_model
    from engine.data import load_dataset
    from engine.metrics import tagging_metrics
    from engine.reproduce import METRICS, _slug, run_reproduction

    mm = "mmnet[heads=8,micro_hidden=32]"
    summary = run_reproduction(tmp_path, systems=["resnet-mean", mm], seeds=(0,), quick=True, log=lambda m: None)
    assert set(summary["rows"]) == {"resnet-mean", mm, f"{mm} without EP"}
    text = (tmp_path / "results.md").read_text()
    assert (tmp_path / "results-ap_vs_duration.png").stat().st_size > 1000
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert {r["system"] for r in runs} == set(summary["rows"])
    test = load_dataset(tmp_path / "data", "test")
    y_true = test.labels_matrix()
    scores = {}
    table = {line.split("|")[1].strip(): [c.strip() for c in line.strip().strip("|").split("|")]
             for line in text.splitlines() if line.startswith("| ") and "params" not in line}
    for system, spec, ensemble in (("resnet-mean", "resnet-mean", None), (mm, mm, True),
                                   (f"{mm} without EP", mm, False)):
        row = summary["rows"][system]
        assert row["n_seeds"] == 1 and row["params"] > 0
        for key, _ in METRICS:
            if row[key] is None:        # detection metrics of a method without segment level
                assert system == "resnet-mean" and key in ("segment_F1", "event_F1"), key
                continue
            mean, std = row[key]
            assert math.isfinite(mean) and 0.0 <= mean <= 1.0 and std == 0.0, (system, key, row[key])
        # the written model, analyzed again clip by clip, gives the tagging numbers of the table
        predictor = load_model(tmp_path / "runs" / f"{_slug(spec)}-s0" / "model.safetensors", device="cpu")
        col = [predictor.classes.index(c) for c in test.classes]
        scores[system] = np.stack([predictor.analyze(it.path, ensemble=ensemble).clip_probs[col]
                                   for it in test.items])
        m = tagging_metrics(y_true, scores[system], thresholds=np.asarray(predictor.thresholds)[col], classes=test.classes)
        for key in ("mAP", "AUC", "F1_class_mean", "P_class_mean", "R_class_mean"):
            assert row[key][0] == pytest.approx(m[key], abs=1e-6), (system, key)
        cells = table[system]
        assert cells[2:] == ["-" if row[k] is None else f"{100 * row[k][0]:.1f}" for k, _ in METRICS], system
    assert not np.allclose(scores[mm], scores[f"{mm} without EP"])   # with and without EP: two predictions


def test_system_specs_with_options():
    """reproduce --systems: METHOD[key=value,...] with JSON values, lists included."""
    from engine.reproduce import parse_system

    assert parse_system("resnet-att") == ("resnet-att", {})
    assert parse_system("mmnet[heads=8,variant=authors-code]") == ("mmnet", {"heads": 8, "variant": "authors-code"})
    assert parse_system("mmnet-ms[channels=[128,192,192],attention_scale=unit]") == (
        "mmnet-ms", {"channels": [128, 192, 192], "attention_scale": "unit"})
    with pytest.raises(ValueError, match="bad system"):
        parse_system("mmnet[heads=8")
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_system("mmnet[heads]")


def test_bad_model_option_fails_before_any_data_work(tmp_path, capsys):
    """A misspelled --set option is a one-line error, before the feature cache is built."""
    from engine.cli import main

    rc = main(["train", "--data", str(tmp_path / "no-such-data"), "--method", "mmnet", "--out",
               str(tmp_path / "run"), "--set", "heeds=8"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("mmnet: unknown model option heeds") and "\n" not in err
    assert not (tmp_path / "run").exists()
