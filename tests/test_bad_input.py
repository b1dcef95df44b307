"""Bad input: files that fail part-way through decoding, files deleted after they were listed,
NaN audio. Each is a typed error (engine.errors) naming the file, and the other files of the
same command or dataset are not lost."""
import json
import math

import numpy as np
import pytest
import soundfile as sf

from engine import load_model
from engine.audio import info, iter_blocks, load_audio
from engine.errors import AudioError
from tests.conftest import realistic_audio

SR = 44100


def _truncated(path, fmt: str, seconds: float = 12.0, keep: float = 0.5):
    """A file of ``seconds`` of audio in ``fmt`` whose second part is cut off (header intact)."""
    y = realistic_audio(seconds, seed=2)
    sf.write(path, y, SR, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _nan_wav(path, seconds: float = 9.0, at_s: float = 7.0):
    y = realistic_audio(seconds, seed=4)
    y[int(at_s * SR)] = np.nan
    sf.write(path, y, SR, subtype="FLOAT")
    return path


def test_truncated_flac_fails_part_way_with_an_audio_error(tmp_path, tiny_model_file):
    path = _truncated(tmp_path / "cut.flac", "FLAC")
    assert info(path).duration == pytest.approx(12.0)       # the header still promises 12 s
    blocks = iter_blocks(path, SR, block_s=2.0)
    assert len(next(blocks)) == 2 * SR                       # the start decodes ...
    with pytest.raises(AudioError, match=r"cut\.flac.*cannot be decoded after"):
        list(blocks)                                         # ... then it fails part-way
    with pytest.raises(AudioError, match=r"cut\.flac"):
        load_audio(path)
    predictor = load_model(tiny_model_file("mmnet", 3))
    with pytest.raises(AudioError, match=r"cut\.flac"):
        predictor.analyze(path, block_s=2.0)


@pytest.mark.parametrize("fmt, subtype", [("WAV", "PCM_16"), ("OGG", "VORBIS")])
def test_cut_wav_and_ogg_are_read_up_to_the_cut(tmp_path, tiny_model_file, fmt, subtype):
    """libsndfile stops at the end of the data present; the duration is what is there, the
    same for every reader, and the analysis covers exactly it."""
    path = tmp_path / f"cut.{fmt.lower()}"
    y = 0.5 * realistic_audio(12.0, seed=2)                  # within [-1, 1]: PCM keeps it
    sf.write(path, y, SR, format=fmt, subtype=subtype)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 1])             # also cuts a sample in half
    n = info(path).frames
    assert 0 < n < len(y)
    assert len(load_audio(path).samples) == n
    assert sum(len(b) for b in iter_blocks(path, SR, block_s=2.0)) == n
    if fmt == "WAV":                                          # PCM: the part present is intact
        np.testing.assert_allclose(load_audio(path).samples, y[:n], atol=1.0 / 2 ** 15)
    a = load_model(tiny_model_file("mmnet", 3)).analyze(path)
    assert a.duration == pytest.approx(n / SR)
    s = a.scale()
    assert s.times[-1] < a.duration <= s.times[-1] + s.hop_s + 1e-9


def test_nan_audio_is_an_audio_error(tmp_path, tiny_model_file):
    predictor = load_model(tiny_model_file("mmnet", 3))
    path = _nan_wav(tmp_path / "nan.wav")
    with pytest.raises(AudioError, match=r"nan\.wav.*NaN"):
        predictor.analyze(path, block_s=2.0)                # found in a later block
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)
    y = realistic_audio(2.0)
    y[100] = np.inf
    with pytest.raises(AudioError, match="NaN or infinite"):
        predictor.analyze(y, sr=SR)
    y[100] = np.nan
    with pytest.raises(AudioError, match="NaN or infinite"):
        predictor.analyze(y, sr=SR)


def test_predict_reports_each_bad_file_and_keeps_the_others(tmp_path, tiny_model_file, monkeypatch, capsys):
    """``mmnet predict`` over a folder: a truncated FLAC, NaN audio and a file deleted after the
    folder was listed each give one line on stderr; every good file is still analyzed."""
    from engine.cli import main
    from engine.infer import Predictor

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a_good.wav", "d_good.wav", "f_good.wav"):
        sf.write(folder / name, realistic_audio(3.0, seed=len(name)), SR)
    _truncated(folder / "b_cut.flac", "FLAC")
    _nan_wav(folder / "c_nan.wav")
    sf.write(folder / "e_deleted.wav", realistic_audio(3.0), SR)
    original = Predictor.analyze
    seen = []

    def analyze_and_delete(self, path, *args, **kw):
        seen.append(path.name)
        if len(seen) == 1:                                  # listed, then deleted before its turn
            (folder / "e_deleted.wav").unlink()
        return original(self, path, *args, **kw)

    monkeypatch.setattr(Predictor, "analyze", analyze_and_delete)
    rc = main(["predict", tiny_model_file("mmnet", 3), str(folder), "--format", "json"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert seen == ["a_good.wav", "b_cut.flac", "c_nan.wav", "d_good.wav", "e_deleted.wav", "f_good.wav"]
    files = [json.loads(line)["file"] for line in out.splitlines()]
    assert [f.split("/")[-1] for f in files] == ["a_good.wav", "d_good.wav", "f_good.wav"]
    lines = err.strip().splitlines()
    assert len(lines) == 3
    assert "b_cut.flac" in lines[0] and "cannot be decoded" in lines[0]
    assert "c_nan.wav" in lines[1] and "NaN" in lines[1]
    assert "e_deleted.wav" in lines[2] and "no such file" in lines[2]


def _model_for(data, path) -> str:
    """A small random M&mnet file over the dataset's classes."""
    import torch

    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from tests.conftest import TINY

    classes = [l.strip() for l in (data / "metadata" / "classes.txt").read_text().splitlines() if l.strip()]
    torch.manual_seed(0)
    bundle = ModelBundle(build("mmnet", len(classes), **TINY).eval(), FeatureConfig(), classes,
                         Normalizer(np.full(128, 1.0), np.full(128, 2.0)))
    save_model(bundle, path)
    return str(path)


@pytest.fixture(scope="module")
def small_synth(tmp_path_factory):
    from engine.data.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate(root, n_train=8, n_test=6, n_validation=4, seed=11)
    return root


def test_evaluate_leaves_out_bad_and_deleted_clips(small_synth, tmp_path, monkeypatch):
    """``mmnet evaluate``: a test clip deleted after the split was listed and one with NaN audio
    are reported as problems; the metrics are those of the remaining clips."""
    import shutil

    from engine.evaluate import evaluate
    from engine.infer import Predictor
    from engine.metrics import tagging_metrics

    data = tmp_path / "data"
    shutil.copytree(small_synth, data)
    test_dir = data / "audio" / "test"
    names = sorted(p.name for p in test_dir.glob("*.wav"))
    y, _ = sf.read(test_dir / names[2], dtype="float32")
    y[len(y) // 2] = np.nan
    sf.write(test_dir / names[2], y, SR, subtype="FLOAT")
    original = Predictor.analyze
    calls, scores = [], {}

    def analyze_and_delete(self, path, *args, **kw):
        calls.append(path)
        if len(calls) == 1:
            (test_dir / names[4]).unlink()
        a = original(self, path, *args, **kw)
        scores[str(path).split("/")[-1]] = a.clip_probs
        return a

    monkeypatch.setattr(Predictor, "analyze", analyze_and_delete)
    model = _model_for(data, tmp_path / "model.safetensors")
    predictor = load_model(model)
    result = evaluate(model, str(data), "test", predictor=predictor)
    problems = {p["file"].split("/")[-1]: p["reason"] for p in result["problems"]}
    assert set(problems) == {names[2], names[4]}
    assert "NaN" in problems[names[2]] and "no such file" in problems[names[4]]
    assert result["clips"] == len(names) - 2
    # the tagging figures are those of the four remaining clips
    from engine.data import load_dataset

    ds = load_dataset(data, "test")
    kept = [it for it in ds.items if it.path.split("/")[-1] in scores]
    y_true = np.array([[1.0 if c in it.labels else 0.0 for c in ds.classes] for it in kept])
    y_score = np.stack([scores[it.path.split("/")[-1]] for it in kept])
    ref = tagging_metrics(y_true, y_score, thresholds=np.asarray(predictor.thresholds), classes=ds.classes)
    for key in ("mAP", "AUC", "F1_class_mean", "F1_micro"):
        if ref[key] is None or (isinstance(ref[key], float) and math.isnan(ref[key])):
            assert result[key] is None or math.isnan(result[key])
        else:
            assert result[key] == pytest.approx(ref[key], abs=1e-6), key


def test_training_leaves_out_bad_and_deleted_clips(small_synth, tmp_path, monkeypatch):
    """A training clip deleted after the dataset was listed, one truncated FLAC (under a .wav name)
    and one with NaN audio: training reports them and runs on the others."""
    import shutil

    import engine.data as data_mod
    from engine.train import TrainConfig, Trainer
    from tests.conftest import TINY

    data = tmp_path / "data"
    shutil.copytree(small_synth, data)
    train_dir = data / "audio" / "train"
    names = sorted(p.name for p in train_dir.glob("*.wav"))
    y, _ = sf.read(train_dir / names[0], dtype="float32")
    sf.write(train_dir / names[0], y, SR, format="FLAC")     # FLAC content, .wav name
    raw = (train_dir / names[0]).read_bytes()
    (train_dir / names[0]).write_bytes(raw[: len(raw) // 2])
    y[len(y) // 3] = np.nan
    sf.write(train_dir / names[1], y, SR, subtype="FLOAT")
    original = data_mod.load_dataset

    def listed_then_deleted(root, split="train", **kw):
        ds = original(root, split, **kw)
        if split == "train":
            (train_dir / names[2]).unlink(missing_ok=True)
        return ds

    monkeypatch.setattr(data_mod, "load_dataset", listed_then_deleted)
    logs = []
    cfg = TrainConfig(data=str(data), method="mmnet", epochs=1, batch_size=4, lr=0.01, seed=0,
                      model=dict(TINY), workers=1, max_batches=1)
    summary = Trainer(cfg, tmp_path / "run", callback=lambda e: logs.append(e), verbose=False).run()
    assert summary["best_epoch"] == 1
    left_out = " ".join(e["message"] for e in logs if e["type"] == "log")
    assert "3 clips without features left out" in left_out, left_out
    ready = next(e for e in logs if e["type"] == "ready")     # the clips training really uses
    assert ready["clips"]["train"] == 8 - 3
