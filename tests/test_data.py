"""engine.data: label formats, dataset layouts, problems, the validation hold-out, the feature cache."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.audio import AudioError
from engine.data import (
    DatasetError,
    FeatureCache,
    load_dataset,
    read_audacity_labels,
    read_strong_tsv,
    read_weak_tsv,
    stratified_holdout,
    write_audacity_labels,
    write_strong_tsv,
    write_weak_tsv,
)
from engine.data.cache import ClipFeatureSet, feature_stats
from engine.features import FeatureConfig, RunningStats, log_mel

SR = 44100


def wav(path: Path, seconds: float = 0.3, seed: int = 0, sr: int = SR) -> Path:
    """A short deterministic test clip (noise + tone)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.05 * rng.standard_normal(len(t)) + 0.3 * np.sin(2 * np.pi * (300 + 100 * seed) * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y.astype(np.float32), sr, subtype="PCM_16")
    return path


def text(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    return path


# ----------------------------------------------------------------------------- formats
def test_strong_tsv_round_trip_with_and_without_header(tmp_path):
    events = [("a.wav", 0.5, 1.25, "dog"), ("a.wav", 2.0, 3.0, "car horn"), ("b.wav", 0.0, 10.0, "speech")]
    write_strong_tsv(tmp_path / "s.tsv", events, empty=["c.wav"])
    lines = (tmp_path / "s.tsv").read_text().splitlines()
    assert lines[0] == "filename\tonset\toffset\tevent_label"
    assert lines[-1] == "c.wav\t\t\t"
    assert read_strong_tsv(tmp_path / "s.tsv") == events
    write_strong_tsv(tmp_path / "h.tsv", events, header=False)       # DCASE 2017 style
    assert read_strong_tsv(tmp_path / "h.tsv") == events


def test_weak_tsv_and_audacity_round_trip(tmp_path):
    rows = [("a.wav", ["dog", "cat"]), ("b.wav", [])]
    write_weak_tsv(tmp_path / "w.tsv", rows)
    assert read_weak_tsv(tmp_path / "w.tsv") == rows
    labels = [(0.5, 1.0, "knock"), (2.0, 2.0, "point"), (3.25, 4.5, "two words")]
    write_audacity_labels(tmp_path / "labels.txt", labels)
    assert read_audacity_labels(tmp_path / "labels.txt") == labels
    # Audacity's spectral-selection lines (starting with a backslash) are skipped
    text(tmp_path / "spectral.txt", "1.0\t2.0\tbird\n\\\t500.0\t4000.0\n3\t4\t\n")
    assert read_audacity_labels(tmp_path / "spectral.txt") == [(1.0, 2.0, "bird"), (3.0, 4.0, "")]


def test_malformed_lines_name_file_and_line(tmp_path):
    text(tmp_path / "bad.tsv", "filename\tonset\toffset\tevent_label\na.wav\t0\t1\tdog\na.wav\tzero\t1\tdog\n")
    with pytest.raises(DatasetError, match=r"bad\.tsv:3: onset 'zero'"):
        read_strong_tsv(tmp_path / "bad.tsv")
    text(tmp_path / "rev.tsv", "a.wav\t2\t1\tdog\n")
    with pytest.raises(DatasetError, match=r"rev\.tsv:1: offset"):
        read_strong_tsv(tmp_path / "rev.tsv")
    with pytest.raises(DatasetError, match="no such label file"):
        read_strong_tsv(tmp_path / "missing.tsv")


# ------------------------------------------------------------------------------ DESED
def desed(root: Path, *, with_validation: bool = False) -> Path:
    for i in range(6):
        wav(root / "audio" / "train" / f"t{i}.wav", seed=i)
    corrupt(root / "audio" / "train" / "broken.wav")
    text(root / "metadata" / "train_weak.tsv",
         "filename\tevent_labels\n"
         "t0.wav\tdog,cat\nt1.wav\tdog\nt2.wav\t\nt3.wav\tcat\nt4.wav\tbird\nt5.wav\tdog\n"
         "missing.wav\tcat\nbroken.wav\tdog\n")
    for i in range(2):
        wav(root / "audio" / "test" / f"s{i}.wav", seed=10 + i)
    # the test split has strong labels only: weak labels are derived from them
    text(root / "metadata" / "test_strong.tsv",
         "filename\tonset\toffset\tevent_label\n"
         "s0.wav\t0.0\t0.1\tdog\ns0.wav\t0.12\t0.2\tbird\ns1.wav\t\t\t\n")
    if with_validation:
        wav(root / "audio" / "validation" / "v0.wav", seed=20)
        text(root / "metadata" / "validation_weak.tsv", "filename\tevent_labels\nv0.wav\tbird\n")
    return root


def test_desed_train_reports_missing_and_corrupt_files(tmp_path):
    root = desed(tmp_path / "ds", with_validation=True)
    ds = load_dataset(root, "train")
    assert ds.format == "desed"
    assert ds.classes == ["bird", "cat", "dog"]              # sorted union of every split's labels
    assert [it.name for it in ds.items] == [f"t{i}.wav" for i in range(6)]
    problems = {Path(p).name: reason for p, reason in ds.problems}
    assert set(problems) == {"missing.wav", "broken.wav"}
    assert "no such file" in problems["missing.wav"]
    assert "not a readable audio file" in problems["broken.wav"]
    y = ds.labels_matrix()
    assert y.dtype == np.float32 and y.shape == (6, 3)
    np.testing.assert_array_equal(y[0], [0, 1, 1])
    np.testing.assert_array_equal(y[2], [0, 0, 0])
    assert not ds.has_strong and ds.strong_events() == []
    val = load_dataset(root, "validation")
    assert [it.name for it in val.items] == ["v0.wav"] and val.notes == []


def test_desed_strong_only_split_derives_weak_labels(tmp_path):
    root = desed(tmp_path / "ds")
    ds = load_dataset(root, "test")
    assert [it.labels for it in ds.items] == [["dog", "bird"], []]
    assert ds.strong_events() == [("s0.wav", 0.0, 0.1, "dog"), ("s0.wav", 0.12, 0.2, "bird")]
    assert ds.items[1].events == []        # listed with an empty row: known to have no events
    np.testing.assert_array_equal(ds.labels_matrix(), [[1, 0, 1], [0, 0, 0]])


def test_unknown_label_names_file_and_line(tmp_path):
    root = desed(tmp_path / "ds")
    text(root / "metadata" / "classes.txt", "dog\ncat\n")
    with pytest.raises(DatasetError, match=r"train_weak\.tsv:6: label 'bird' is not in the class list"):
        load_dataset(root, "train")
    with pytest.raises(DatasetError, match=r"test_strong\.tsv:3: label 'bird'"):
        load_dataset(root, "test", classes=["dog", "cat"])
    ds = load_dataset(root, "test", classes=["dog", "cat", "bird", "owl"])  # a superset is fine
    assert ds.labels_matrix().shape == (2, 4)


def test_derived_validation_is_a_seeded_disjoint_hold_out(tmp_path):
    root = tmp_path / "ds"
    rows, rng = [], np.random.default_rng(0)
    for i in range(40):
        wav(root / "audio" / "train" / f"c{i:02d}.wav", seconds=0.05, seed=i)
        labels = [c for c in ("a", "b", "c") if rng.random() < 0.4]
        rows.append((f"c{i:02d}.wav", labels))
    write_weak_tsv(text(root / "metadata" / "train_weak.tsv", ""), rows)
    train = load_dataset(root, "train", seed=5, check_audio=False)
    val = load_dataset(root, "validation", seed=5, check_audio=False)
    assert len(val) == 4 and len(train) == 36
    names_t, names_v = {it.name for it in train.items}, {it.name for it in val.items}
    assert not names_t & names_v and len(names_t | names_v) == 40
    assert "hold-out" in val.notes[0]
    again = load_dataset(root, "validation", seed=5, check_audio=False)
    assert [it.name for it in again.items] == [it.name for it in val.items]
    others = {tuple(it.name for it in load_dataset(root, "validation", seed=s, check_audio=False).items)
              for s in range(6)}
    assert len(others) > 1


def test_stratified_holdout_keeps_label_proportions():
    rng = np.random.default_rng(3)
    names = [f"l{j}" for j in range(8)]
    probs = np.array([0.5, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.02])
    sets = [[names[j] for j in np.flatnonzero(rng.random(8) < probs)] for _ in range(1000)]
    mask = stratified_holdout(sets, 0.1, seed=0)
    assert mask.sum() == 100
    np.testing.assert_array_equal(mask, stratified_holdout(sets, 0.1, seed=0))
    for name in names:
        total = sum(name in s for s in sets)
        held = sum(name in s for s, m in zip(sets, mask) if m)
        assert abs(held - 0.1 * total) <= 1.0, (name, held, total)
    assert stratified_holdout([["a"], ["a"]], 0.1).sum() == 1      # at least one clip
    assert stratified_holdout([["a"]], 0.1).sum() == 0


# ---------------------------------------------------------------------- DCASE 2017
def test_dcase2017_layout(tmp_path):
    root = tmp_path / "dcase"
    wav(root / "audio" / "Yabc_30.000_40.000.wav", seed=1)
    wav(root / "audio" / "Ydef_0.000_10.000.wav", seed=2)
    wav(root / "audio" / "Yghi_5.000_15.000.wav", seed=3)
    text(root / "training_set.csv",
         "Yabc_30.000_40.000.wav\t30.000\t40.000\tCar\n"
         "Yabc_30.000_40.000.wav\t30.000\t40.000\tAir horn, truck horn\n"
         "def_0.000_10.000.wav\t0.000\t10.000\tTrain\n"          # without the Y: still found
         "Ygone_0.000_10.000.wav\t0.000\t10.000\tTrain\n")
    text(root / "groundtruth_strong_label_testing_set.csv",
         "ghi_5.000_15.000.wav\t0.917\t2.029\tTrain\nghi_5.000_15.000.wav\t3.5\t4.0\tCar\n")
    train = load_dataset(root, "train", val_fraction=0)
    assert train.format == "dcase2017"
    assert train.classes == ["Air horn, truck horn", "Car", "Train"]
    assert [sorted(it.labels) for it in train.items] == [["Air horn, truck horn", "Car"], ["Train"]]
    assert [Path(p).name for p, _ in train.problems] == ["Ygone_0.000_10.000.wav"]
    test = load_dataset(root, "test")
    assert test.strong_events() == [("Yghi_5.000_15.000.wav", 0.917, 2.029, "Train"),
                                    ("Yghi_5.000_15.000.wav", 3.5, 4.0, "Car")]
    np.testing.assert_array_equal(test.labels_matrix(), [[0, 1, 1]])


# -------------------------------------------------------------------------- AudioSet
def audioset(root: Path) -> Path:
    text(root / "class_labels_indices.csv",
         'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/05zppz,"Male speech, man speaking"\n'
         '2,/m/0bt9lr,"Dog"\n')
    text(root / "balanced_train_segments.csv",
         "# Segments csv created Sun Mar  5 10:54:31 2017\n"
         "# num_ytids=3, num_segs=3, num_unique_labels=3, num_positive_labels=4\n"
         "# YTID, start_seconds, end_seconds, positive_labels\n"
         '--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/m/05zppz"\n'
         '--ZhevVpy1s, 50.000, 60.000, "/m/0bt9lr"\n'
         '--aE2O5G5WE, 0.000, 10.000, "/m/09x0r"\n')
    wav(root / "audio" / "Y--PJHxphWEs_30.000_40.000.wav", seed=1)
    wav(root / "audio" / "--ZhevVpy1s.wav", seed=2)
    return root


def test_audioset_layout(tmp_path):
    root = audioset(tmp_path / "as")
    ds = load_dataset(root, "train", val_fraction=0)
    assert ds.format == "audioset"
    assert ds.classes == ["Speech", "Male speech, man speaking", "Dog"]
    assert [it.name for it in ds.items] == ["Y--PJHxphWEs_30.000_40.000.wav", "--ZhevVpy1s.wav"]
    np.testing.assert_array_equal(ds.labels_matrix(), [[1, 1, 0], [0, 0, 1]])
    assert len(ds.problems) == 1 and "--aE2O5G5WE" in ds.problems[0][0]
    with open(root / "balanced_train_segments.csv", "a") as f:
        f.write('--new, 0.000, 10.000, "/m/unknown"\n')
    with pytest.raises(DatasetError, match=r"balanced_train_segments\.csv:7: label '/m/unknown'"):
        load_dataset(root, "train")


def test_dataset_splits_and_the_gui_open_every_layout_as_a_dataset(tmp_path):
    from engine.data import dataset_splits
    from mmgui import datasets

    dcase = tmp_path / "dcase"
    wav(dcase / "audio" / "Yghi_5.000_15.000.wav", seed=3)
    wav(dcase / "audio" / "Yabc_30.000_40.000.wav", seed=1)
    text(dcase / "training_set.csv", "Yabc_30.000_40.000.wav\t30.000\t40.000\tCar\n")
    text(dcase / "groundtruth_strong_label_testing_set.csv", "ghi_5.000_15.000.wav\t0.917\t2.029\tTrain\n")
    assert dataset_splits(dcase) == ["train", "validation", "test"]
    coll = datasets.open_folder(dcase)                   # the GUI's "Open folder": a dataset, its test split
    assert [c.name for c in coll.clips] == ["Yghi_5.000_15.000.wav"]
    assert coll.clips[0].strong == [(0.917, 2.029, "Train")] and coll.clips[0].weak == ["Train"]
    assert coll.title.startswith("dcase2017 dataset")
    aset = audioset(tmp_path / "as")
    assert dataset_splits(aset) == ["train", "validation"]
    colls = [datasets.open_dataset(aset, split) for split in ("train", "validation")]
    assert sorted(c.weak for coll in colls for c in coll.clips) == [["Dog"], ["Male speech, man speaking",
                                                                              "Speech"]]
    assert any("--aE2O5G5WE" in w for coll in colls for w in coll.warnings)   # missing: reported, not fatal
    assert dataset_splits(tmp_path / "nothing") == [] and dataset_splits(dcase / "audio") == []


def test_unknown_folder_is_a_clear_error(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DatasetError, match="not a dataset folder"):
        load_dataset(tmp_path / "x", "train")
    with pytest.raises(DatasetError, match="no such dataset folder"):
        load_dataset(tmp_path / "nothing", "train")
    root = desed(tmp_path / "ds")
    with pytest.raises(DatasetError, match="no 'evaluation' split"):
        load_dataset(root, "evaluation")


# ------------------------------------------------------------------------------ cache
def test_cached_features_equal_log_mel(tmp_path):
    path = wav(tmp_path / "a.wav", seconds=0.7, seed=4)
    y, sr = sf.read(path, dtype="float32")
    ref = log_mel(y, sr).numpy()
    exact = FeatureCache(tmp_path / "c32", dtype="float32")
    np.testing.assert_array_equal(exact.get(path), ref)
    np.testing.assert_array_equal(exact.get(path), ref)           # the second read comes from disk
    half = FeatureCache(tmp_path / "c16")
    got = half.get(path)
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3)
    entry = half.entry_path(path)
    assert entry.exists() and np.load(entry, allow_pickle=False).dtype == np.float16


def test_cache_recomputes_after_file_or_config_change(tmp_path):
    path = wav(tmp_path / "a.wav", seed=1)
    cache = FeatureCache(tmp_path / "cache", dtype="float32")
    first = cache.get(path)
    old_entry = cache.entry_path(path)
    wav(path, seed=2)                                   # new content (same size)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    second = cache.get(path)
    assert cache.entry_path(path) != old_entry and not old_entry.exists()
    y, sr = sf.read(path, dtype="float32")
    np.testing.assert_array_equal(second, log_mel(y, sr).numpy())
    assert not np.array_equal(first, second)
    other = FeatureCache(tmp_path / "cache", FeatureConfig(n_mels=64, hop_length=256), dtype="float32")
    assert other.dir != cache.dir
    assert other.get(path).shape == (64, 1 + len(y) // 256)


def test_corrupt_entry_is_recomputed_and_missing_audio_raises(tmp_path):
    path = wav(tmp_path / "a.wav", seed=3)
    cache = FeatureCache(tmp_path / "cache", dtype="float32")
    ref = cache.get(path)
    entry = cache.entry_path(path)
    entry.write_bytes(b"\x93NUMPY garbage")
    np.testing.assert_array_equal(cache.get(path), ref)
    entry.write_bytes(entry.read_bytes()[:200])          # truncated
    np.testing.assert_array_equal(cache.open(path), ref)
    with pytest.raises(AudioError, match="no such file"):
        cache.get(tmp_path / "gone.wav")
    with pytest.raises(AudioError):
        cache.get(corrupt(tmp_path / "bad.wav"))


def test_long_files_are_streamed_with_the_same_result(tmp_path, monkeypatch):
    import engine.data.cache as cache_mod

    path = wav(tmp_path / "long.wav", seconds=2.5, seed=5, sr=22050)   # resampled to 44.1 kHz on the way
    whole = FeatureCache(tmp_path / "a", dtype="float32").get(path)
    monkeypatch.setattr(cache_mod, "STREAM_ABOVE_S", 1.0)
    streamed = FeatureCache(tmp_path / "b", dtype="float32").get(path)
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=2e-3, rtol=1e-4)


def test_build_in_parallel_with_progress(tmp_path):
    paths = [wav(tmp_path / f"c{i}.wav", seconds=0.2, seed=i) for i in range(5)]
    cache = FeatureCache(tmp_path / "cache")
    calls = []
    threads = torch.get_num_threads()
    summary = cache.build(paths + [tmp_path / "gone.wav", corrupt(tmp_path / "bad.wav")], workers=2,
                          progress=lambda done, total: calls.append((done, total)))
    assert torch.get_num_threads() == threads
    assert summary["computed"] == 5 and summary["cached"] == 0
    assert {Path(p).name for p, _ in summary["failed"]} == {"gone.wav", "bad.wav"}
    assert calls[-1] == (6, 6) and len(calls) == 6
    assert all(cache.contains(p) for p in paths)
    again = cache.build(paths, workers=2, progress=None)
    assert again["cached"] == 5 and again["computed"] == 0


def test_clip_feature_set_pads_crops_and_feature_stats(tmp_path):
    root = tmp_path / "ds"
    wav(root / "audio" / "train" / "short.wav", seconds=0.2, seed=1)
    wav(root / "audio" / "train" / "long.wav", seconds=1.0, seed=2)
    text(root / "metadata" / "train_weak.tsv", "filename\tevent_labels\nshort.wav\ta\nlong.wav\tb\n")
    ds = load_dataset(root, "train", val_fraction=0)
    cache = FeatureCache(tmp_path / "cache", dtype="float32")
    frames = 40
    eval_set = ClipFeatureSet(ds, cache, frames)
    x, y, n = eval_set[0]
    short = cache.get(ds.items[0].path)
    assert x.shape == (128, frames) and x.dtype == torch.float32 and n == short.shape[1] < frames
    np.testing.assert_array_equal(x[:, :n].numpy(), short)
    assert torch.all(x[:, n:] == 0)
    np.testing.assert_array_equal(y.numpy(), [1, 0])
    long = cache.get(ds.items[1].path)
    x, y, n = eval_set[1]
    assert n == frames
    np.testing.assert_array_equal(x.numpy(), long[:, :frames])             # evaluation: from the start
    train_set = ClipFeatureSet(ds, cache, frames, train=True, seed=7)
    starts = set()
    for epoch in range(6):
        a = train_set.get(1, epoch=epoch)[0].numpy()
        np.testing.assert_array_equal(a, train_set.get(1, epoch=epoch)[0].numpy())   # reproducible
        match = [s for s in range(long.shape[1] - frames + 1) if np.array_equal(long[:, s:s + frames], a)]
        assert match
        starts.add(match[0])
    assert len(starts) > 1                                                   # random crops
    stats = feature_stats(eval_set)
    ref = RunningStats()
    ref.update(short)
    ref.update(long[:, :frames])
    expected = ref.normalizer()
    np.testing.assert_allclose(stats.mean, expected.mean, rtol=1e-5)
    np.testing.assert_allclose(stats.std, expected.std, rtol=1e-5)
