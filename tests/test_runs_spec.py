"""Run descriptions -> ``mmnet train`` command lines, and the training dialog's checks (no processes, no Qt)."""
from __future__ import annotations

import json
import sys

import pytest

from engine.train import TrainConfig, add_arguments, parse_sets
from mmgui.runs.spec import RunSpec, SynthSpec, check, parse_options, parse_seeds, run_folder, train_command


def _parse(cmd: list[str]):
    import argparse

    assert cmd[:3] == [sys.executable, "-m", "engine"]
    rest = cmd[3:]
    threads = None
    if rest[0] == "--threads":
        threads, rest = int(rest[1]), rest[2:]
    assert rest[0] == "train"
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(rest[1:]), threads


def test_command_reproduces_the_config_exactly(tmp_path):
    config = {**TrainConfig(data=str(tmp_path)).to_dict(), "method": "mmnet-ms", "epochs": 7, "batch_size": 3,
              "lr": 0.0123456789, "lr_step": 4, "seed": 5, "device": "cpu", "amp": False, "cache_dir": "/c",
              "max_batches": 2, "keep_snapshots": True, "augment": "pitch,stretch", "model": {"heads": 4, "channels": [16, 16, 16], "variant":
                                                                   "authors-code"}}
    args, threads = _parse(train_command(config, str(tmp_path / "run"), resume=True, threads=3))
    assert threads == 3 and args.resume and args.keep_snapshots and args.no_amp
    assert (args.data, args.method, args.out, args.epochs, args.batch_size, args.lr, args.lr_step, args.seed,
            args.device, args.cache, args.max_batches, args.augment) == (str(tmp_path), "mmnet-ms", str(tmp_path / "run"),
                                                                         7, 3, 0.0123456789, 4, 5, "cpu", "/c", 2,
                                                                         "pitch,stretch")
    assert parse_sets(args.set) == config["model"]
    args, threads = _parse(train_command({"data": "d"}, "o"))
    assert threads is None and not args.resume and args.epochs == 100 and args.lr == 0.1 and args.set == []


def test_spec_saved_and_read_back_and_from_a_terminal_run(tmp_path):
    spec = RunSpec(str(tmp_path / "a"), {"data": "/d", "method": "mmnet", "epochs": 2}, threads=2)
    spec.save()
    back = RunSpec.load(tmp_path / "a")
    assert (back.out, back.config, back.threads) == (spec.out, spec.config, 2)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "config.json").write_text(json.dumps(TrainConfig(data="/x").to_dict()))
    assert RunSpec.load(tmp_path / "b").config["data"] == "/x"
    assert RunSpec.load(tmp_path / "c") is None


def test_parsing_seeds_and_options():
    assert parse_seeds("0, 1 2 1") == [0, 1, 2]
    for bad in ("", "a", "1.5"):
        with pytest.raises(ValueError):
            parse_seeds(bad)
    assert parse_options("heads=8 channels=[16,16,16] variant=authors-code") == {
        "heads": 8, "channels": [16, 16, 16], "variant": "authors-code"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_options("heads")


def test_check_explains_what_is_wrong(tmp_path):
    import torch

    out = run_folder(str(tmp_path), "mmnet", 0)
    ok = RunSpec(out, {"data": str(tmp_path / "nowhere"), "method": "mmnet", "epochs": 0, "lr": 0.0,
                       "model": {"headz": 3}})
    errors, _ = check([ok, RunSpec(out, {"method": "nope"})])
    text = "\n".join(errors)
    for part in ("headz", "unknown method 'nope'", "two runs would share", "epochs must be", "learning rate",
                 "no such dataset folder"):
        assert part in text, (part, errors)
    (tmp_path / "mmnet-seed0").mkdir()
    (tmp_path / "mmnet-seed0" / "events.jsonl").write_text("")
    errors, _ = check([RunSpec(out, {"method": "mmnet", "data": ""})])
    assert any("already holds a run" in e for e in errors) and any("choose a dataset" in e for e in errors)
    synth = SynthSpec(str(tmp_path), n_train=0)
    errors, _ = check([RunSpec(str(tmp_path / "x"), {"method": "mmnet", "device": "cuda"})], synth)
    assert any("new or empty folder" in e for e in errors) and any("at least one training" in e for e in errors)
    assert any("CUDA is not available" in e for e in errors) != torch.cuda.is_available()
    assert check([])[0] == ["choose at least one method"]
