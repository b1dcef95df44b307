import json
import pickle

import numpy as np
import pytest
import torch

from engine import load_model
from engine.modelfile import ModelFileError, load_bundle, read_metadata


class Boom:
    """Unpickling this would run a command."""

    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/mmstudio-pwned",))


def test_round_trip_keeps_everything(tiny_model_file):
    path = tiny_model_file("mmnet-ms", 4)
    bundle = load_bundle(path)
    meta = read_metadata(path)
    assert meta["method"] == "mmnet-ms" and meta["classes"] == [f"class_{i}" for i in range(4)]
    assert meta["feature_config"]["hop_length"] == 492
    assert len(meta["scales"]) == 5
    np.testing.assert_allclose(bundle.normalizer.std, 2.0)
    # the same weights give the same outputs
    torch.manual_seed(0)
    x = torch.randn(1, 128, 200)
    with torch.no_grad():
        a = bundle.model(x).ensemble_probs
        b = load_bundle(path).model(x).ensemble_probs
    assert torch.equal(a, b)


def test_pickle_files_are_refused_without_unpickling(tmp_path):
    import os

    if os.path.exists("/tmp/mmstudio-pwned"):
        os.unlink("/tmp/mmstudio-pwned")
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="never unpickled"):
        load_model(evil)
    torch_file = tmp_path / "checkpoint.pt"
    torch.save({"state": Boom()}, torch_file)
    with pytest.raises(ModelFileError, match="not a safetensors model file"):
        load_model(torch_file)
    assert not os.path.exists("/tmp/mmstudio-pwned")


def test_damaged_and_foreign_files(tmp_path, tiny_model_file):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load_model(empty)
    good = tiny_model_file("mmnet", 4)
    data = open(good, "rb").read()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        load_model(truncated)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, foreign)
    with pytest.raises(ModelFileError, match="not an M&m Studio model"):
        load_model(foreign)


def test_metadata_that_lies_is_caught(tmp_path, tiny_model_file):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    path = tiny_model_file("mmnet", 4)
    with safe_open(path, framework="pt") as f:
        header = f.metadata()
    meta = json.loads(header["meta"])
    meta["model_config"]["n_classes"] = 7
    header["meta"] = json.dumps(meta)
    bad = tmp_path / "lying.safetensors"
    save_file(load_file(path), bad, metadata=header)
    with pytest.raises(ModelFileError, match="inconsistent"):
        load_model(bad)
