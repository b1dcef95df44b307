"""Training that learns, stops and resumes exactly, and measures what ``mmnet evaluate`` measures.

Real training on the synthetic benchmark (64 training and 32 validation clips of 3 s, 14 classes)
with a small M&mnet (16 channels), on the CPU. The clips are 269 feature frames long and the
training clip length is set to 3.005 s = 269 frames, so that validation during training sees each
clip whole, as ``mmnet evaluate`` does: a clip padded or cut to another training length is not the
same input (see ``test_evaluate_gives_the_metrics_training_reported``).
"""
import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine.train import TrainConfig, Trainer

pytestmark = pytest.mark.slow

SMALL = dict(channels=[16, 16, 16], stem=16, fc_hidden=32, micro_hidden=16, heads=4)
DURATION_S = 3.0
CLIP_S = 3.005          # 1 + 132300 // 492 = 269 frames = round(3.005 * 44100) // 492


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: these runs are small, and two threads on a busy machine wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """(data folder, feature cache folder) of 64 train / 32 validation / 4 test clips."""
    from engine.data.synth import generate

    root = tmp_path_factory.mktemp("learning")
    generate(root / "data", n_train=64, n_test=4, n_validation=32, seed=11, duration=DURATION_S)
    return root / "data", root / "cache"


def _config(synth, **kw) -> TrainConfig:
    data, cache = synth
    base = dict(data=str(data), method="mmnet", epochs=3, batch_size=16, lr=0.05, lr_step=2, seed=5,
                model=dict(SMALL), feature={"clip_seconds": CLIP_S}, cache_dir=str(cache), workers=1)
    base.update(kw)
    return TrainConfig(**base)


def _metrics(run) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(synth, tmp_path_factory):
    """A 20-epoch run (seed 0): (run folder, its events)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    events = []
    Trainer(_config(synth, epochs=20, lr_step=100, seed=0), run, callback=events.append, verbose=False).run()
    return run, events


def test_a_short_run_learns_clearly_above_chance(synth, trained):
    """Validation AUC well above 0.5 and mAP well above the classes' positive rates (the AP of random
    scores) after 20 epochs; measured at seeds 0, 1, 2: final AUC 0.72, 0.73, 0.75; first epoch 0.48-0.56."""
    from engine.data import load_dataset

    run, events = trained
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) == 20
    labels = load_dataset(synth[0], "validation").labels_matrix()
    present = labels.sum(axis=0) > 0
    chance_map = float(labels.mean(axis=0)[present].mean())      # expected AP of random scores
    last = epochs[-1]
    assert last["val_AUC"] >= 0.65, [round(e["val_AUC"], 3) for e in epochs]
    assert last["val_mAP"] >= chance_map + 0.15, (chance_map, [round(e["val_mAP"], 3) for e in epochs])
    assert epochs[0]["val_AUC"] < last["val_AUC"] - 0.08            # it learned here, not by luck at the start
    assert last["train_loss"] < 0.6 * epochs[0]["train_loss"]


def test_evaluate_gives_the_metrics_training_reported(synth, trained):
    """``mmnet evaluate`` of model.safetensors on the validation split: the mAP and AUC of its epoch
    in metrics.csv and in the events (the best epoch: model.safetensors is the best epoch), and the
    class-mean F1 with the tuned thresholds that the model file records.

    Equal because both see the same input: validation during training reads the feature cache
    (float16; probabilities within 1e-4 of float32 features, which changes no ranking here) of each
    whole clip. With a training clip length other than the clips' length the two differ: a clip
    padded to more frames (log-mel zeros, which are not zeros after standardization) gets other
    probabilities (up to 0.065 apart on this model, validation mAP 0.463 in training against 0.416
    from evaluate at clip_seconds 3.02).
    """
    data, _ = synth
    run, events = trained
    proc = subprocess.run([sys.executable, "-m", "engine", "evaluate", str(run / "model.safetensors"), "--data",
                           str(data), "--split", "validation", "--json", "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    finished = events[-1]
    assert finished["type"] == "finished" and result["clips"] == 32
    best = finished["best_epoch"]
    row = _metrics(run)[best - 1]
    epoch_event = next(e for e in events if e["type"] == "epoch" and e["epoch"] == best)
    assert result["mAP"] == pytest.approx(float(row["val_mAP"]), abs=1e-6)
    assert result["mAP"] == pytest.approx(epoch_event["val_mAP"], abs=1e-6)
    assert result["mAP"] == pytest.approx(finished["best_mAP"], abs=1e-6)
    assert result["AUC"] == pytest.approx(float(row["val_AUC"]), abs=1e-6)
    from engine.modelfile import read_metadata

    prov = read_metadata(run / "model.safetensors")["provenance"]
    assert prov["epoch"] == best
    assert result["F1_class_mean"] == pytest.approx(prov["val_F1_class_mean"], abs=1e-6)
    assert result["F1_class_mean"] == pytest.approx(finished["val_F1_class_mean_tuned"], abs=1e-6)


@pytest.fixture(scope="module")
def straight(synth, tmp_path_factory):
    """The 3-epoch run that is never stopped."""
    run = tmp_path_factory.mktemp("straight") / "run"
    Trainer(_config(synth), run, verbose=False).run()
    return run


def _stop_at(trainer: Trainer, epoch: int, batch: int):
    def callback(event):
        if event["type"] == "batch" and (event["epoch"], event["batch"]) == (epoch, batch):
            trainer.request_stop()
    return callback


@pytest.mark.parametrize("stop_after, checkpoint_at", [((2, 2), (1, 2)), ((2, 4), (2, 0))],
                         ids=["in-the-middle-of-an-epoch", "at-an-epoch-boundary"])
def test_stop_and_resume_give_the_uninterrupted_run_exactly(synth, straight, tmp_path, stop_after, checkpoint_at):
    """Stopped after batch 2 of 4 of epoch 2 (or after its last batch), then resumed: the same weights,
    the same metrics.csv rows (train loss of the interrupted epoch included; all but seconds), the same
    best model and tuned thresholds as a run that was never stopped. The learning rate drops after epoch 2."""
    from engine.modelfile import load_bundle
    from engine.runs import read_events

    run = tmp_path / "stopped"
    trainer = Trainer(_config(synth), run, verbose=False)
    trainer.callback = _stop_at(trainer, *stop_after)
    assert trainer.run()["stopped"]
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["batch"]) == checkpoint_at           # 0-based: where training goes on
    cancelled = read_events(run)[-1]
    assert cancelled["type"] == "cancelled" and (cancelled["epoch"], cancelled["batch"]) == (
        checkpoint_at[0] + 1, checkpoint_at[1])
    assert len(_metrics(run)) == checkpoint_at[0]

    Trainer(_config(synth), run, verbose=False).run(resume=True)
    a = torch.load(straight / "checkpoint.pt", weights_only=True)
    b = torch.load(run / "checkpoint.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    rows_a, rows_b = _metrics(straight), _metrics(run)
    assert len(rows_a) == len(rows_b) == 3
    for ra, rb in zip(rows_a, rows_b):
        assert {k: v for k, v in ra.items() if k != "seconds"} == {k: v for k, v in rb.items() if k != "seconds"}
        assert float(rb["seconds"]) > 0
    assert float(rows_a[2]["lr"]) == pytest.approx(0.005)
    for name in ("best.safetensors", "model.safetensors"):
        ba, bb = load_bundle(straight / name), load_bundle(run / name)
        assert ba.provenance["epoch"] == bb.provenance["epoch"]
        np.testing.assert_array_equal(ba.thresholds, bb.thresholds)
        sa, sb = ba.model.state_dict(), bb.model.state_dict()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), (name, k)
    history = [e for e in read_events(run) if e["type"] == "epoch"]
    assert [e["epoch"] for e in history] == [1, 2, 3]
    assert all(math.isclose(e["train_loss"], float(r["train_loss"]), rel_tol=1e-12)
               for e, r in zip(history, rows_a))


def test_stop_and_resume_with_augmentation_give_the_uninterrupted_run_exactly(synth, tmp_path):
    """With every augmentation on (its random draws a function of seed, epoch and batch), a run stopped
    after batch 2 of epoch 2 and resumed ends with the weights and metrics of a run never stopped,
    and those differ from the run without augmentation (the augmentation did something)."""
    aug = "gain,eq,pitch,stretch,reverb,mix,mask"
    straight = tmp_path / "straight"
    Trainer(_config(synth, epochs=2, augment=aug), straight, verbose=False).run()
    run = tmp_path / "stopped"
    trainer = Trainer(_config(synth, epochs=2, augment=aug), run, verbose=False)
    trainer.callback = _stop_at(trainer, 2, 2)
    assert trainer.run()["stopped"]
    with pytest.raises(Exception, match="augment differs"):
        Trainer(_config(synth, epochs=2), run, verbose=False).run(resume=True)
    Trainer(_config(synth, epochs=2, augment=aug), run, verbose=False).run(resume=True)
    a = torch.load(straight / "checkpoint.pt", weights_only=True)
    b = torch.load(run / "checkpoint.pt", weights_only=True)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    rows_a, rows_b = _metrics(straight), _metrics(run)
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in rows_a] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in rows_b]
    plain = tmp_path / "plain"
    Trainer(_config(synth, epochs=1), plain, verbose=False).run()
    assert _metrics(plain)[0]["train_loss"] != rows_a[0]["train_loss"]


def test_resume_restores_the_global_rng_of_the_checkpoint(synth, tmp_path):
    """The checkpoint's torch RNG state comes back on resume (a layer drawing from the global RNG,
    such as dropout, would depend on it), whatever was drawn before the checkpoint is read."""
    run = tmp_path / "stopped"
    trainer = Trainer(_config(synth), run, verbose=False)
    trainer.callback = _stop_at(trainer, 1, 2)
    assert trainer.run()["stopped"]
    saved = torch.load(run / "checkpoint.pt", weights_only=True)["torch_rng"]
    resumed = Trainer(_config(synth), run, verbose=False)
    load = resumed._load_checkpoint

    def load_after_other_draws():
        torch.manual_seed(12345)                   # another state than the checkpoint's
        assert not torch.equal(torch.get_rng_state(), saved)
        return load()

    seen = []

    def first_batch(event):
        if event["type"] == "batch" and not seen:
            seen.append(torch.get_rng_state())
            resumed.request_stop()

    resumed._load_checkpoint, resumed.callback = load_after_other_draws, first_batch
    resumed.run(resume=True)
    assert seen and torch.equal(seen[0], saved)
