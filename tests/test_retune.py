"""``mmnet retune``: a model's class thresholds tuned anew on a labelled split, weights untouched."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "assets" / "models" / "resnet-att.safetensors"     # trained on this benchmark's generator


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from engine.data.synth import generate

    root = tmp_path_factory.mktemp("retune") / "data"
    generate(root, n_train=2, n_test=2, n_validation=40, seed=11)
    return root


def _tensors(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def test_retune_writes_the_tuned_thresholds_and_keeps_the_weights(data, tmp_path):
    import engine
    from engine.data import load_dataset
    from engine.metrics import tune_thresholds
    from engine.modelfile import read_metadata
    from engine.retune import retune

    out = tmp_path / "retuned.safetensors"
    r = retune(str(MODEL), str(data), str(out))
    old, new = read_metadata(MODEL), read_metadata(out)
    # the same clips scored as mmnet predict / evaluate score them, tuned by the library function
    model = engine.load_model(str(MODEL), device="cpu")
    ds = load_dataset(data, "validation")
    col = [model.classes.index(c) for c in ds.classes]
    s = np.stack([model.analyze(it.path).clip_probs[col] for it in ds.items])
    y = np.array([[1.0 if c in it.labels else 0.0 for c in ds.classes] for it in ds.items])
    expect = np.array(old["thresholds"])
    expect[col] = tune_thresholds(y, s)
    assert new["thresholds"] == pytest.approx(expect.astype(np.float32).tolist(), abs=1e-6)
    assert new["thresholds"] != pytest.approx(old["thresholds"], abs=1e-6)     # this split moves them
    a, b = _tensors(MODEL), _tensors(out)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    earlier = old["provenance"].get("thresholds_retuned", [])
    assert new["provenance"]["thresholds_retuned"][:-1] == earlier            # a record appended, none lost
    info = new["provenance"]["thresholds_retuned"][-1]
    assert info["previous"] == pytest.approx(old["thresholds"]) and info["clips"] == 40 == r["clips"]
    assert info["split"] == "validation" and info["chance_guard_alpha"] == 0.05
    keep = lambda p: {k: v for k, v in p.items() if k != "thresholds_retuned"}  # noqa: E731
    assert keep(new["provenance"]) == keep(old["provenance"])
    # the summary's tag rates are the decisions of the old and new thresholds on these clips
    for j, c in enumerate(ds.classes):
        row = r["classes"][c]
        assert row["tagged_new"] == pytest.approx(float((s[:, j] >= np.float32(new["thresholds"][col[j]])).mean()))
        assert row["tagged_old"] == pytest.approx(float((s[:, j] >= np.float32(old["thresholds"][col[j]])).mean()))
        assert row["labelled"] == pytest.approx(float(y[:, j].mean()))


def test_retune_on_the_command_line_in_place_and_its_errors(data, tmp_path, capsys):
    from engine.cli import main
    from engine.modelfile import read_metadata

    model = tmp_path / "m.safetensors"
    shutil.copy(MODEL, model)
    (data / "audio" / "validation" / "zz-broken.wav").write_bytes(b"RIFF, but not audio")
    try:
        assert main(["retune", str(model), "--data", str(data), "-o", str(model), "--json"]) == 0
    finally:
        (data / "audio" / "validation" / "zz-broken.wav").unlink()
    r = json.loads(capsys.readouterr().out)
    assert read_metadata(model)["thresholds"] == pytest.approx([r["classes"][c]["new"] for c in
                                                                read_metadata(model)["classes"]], abs=1e-6)
    plain = tmp_path / "plain.safetensors"
    assert main(["retune", str(MODEL), "--data", str(data), "-o", str(plain), "--no-guard"]) == 0
    assert "thresholds tuned on 40 clips" in capsys.readouterr().out
    assert read_metadata(plain)["provenance"]["thresholds_retuned"][-1]["chance_guard_alpha"] is None
    assert main(["retune", str(MODEL), "--data", str(data), "-o", str(plain), "--alpha", "1.5"]) == 2
    assert "--alpha must be between 0 and 1" in capsys.readouterr().err
    assert main(["retune", str(MODEL), "--data", str(tmp_path / "nowhere"), "-o", str(plain)]) == 2
    assert capsys.readouterr().err.startswith("mmnet: ")
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(MODEL.read_bytes()[:5000])
    assert main(["retune", str(damaged), "--data", str(data), "-o", str(tmp_path / "x.safetensors")]) == 2
    assert "damaged" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()
