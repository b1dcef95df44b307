"""The synthetic transient-event benchmark: determinism, format, exact labels, durations, separability."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.data import load_dataset, read_strong_tsv, read_weak_tsv
from engine.data.synth import BACKGROUNDS, CLASS_NAMES, CLASSES, generate, make_clip, render_event
from engine.features import log_mel

SR = 44100


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    summary = generate(root, n_train=12, n_test=4, n_validation=3, seed=11)
    return root, summary


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_classes_are_named_and_balanced():
    assert len(CLASSES) >= 10 and len(set(CLASS_NAMES)) == len(CLASSES)
    kinds = [c.kind for c in CLASSES]
    assert set(kinds) == {"transient", "long"} and kinds.count("transient") == kinds.count("long")
    assert all(c.name.replace("_", "").isalpha() and c.name == c.name.lower() for c in CLASSES)
    assert len(BACKGROUNDS) >= 4


def test_same_seed_gives_byte_identical_files(bench, tmp_path):
    root, _ = bench
    again = generate(tmp_path / "again", n_train=12, n_test=4, n_validation=3, seed=11)
    assert again["splits"] == bench[1]["splits"]
    first, second = _files(root), _files(tmp_path / "again")
    assert first.keys() == second.keys() and first == second
    other = generate(tmp_path / "other", n_train=2, n_test=1, seed=12)
    assert _files(tmp_path / "other")["audio/train/train_00000.wav"] != first["audio/train/train_00000.wav"]
    # a clip does not depend on how many clips the other splits have
    assert _files(tmp_path / "other")["metadata/classes.txt"] == first["metadata/classes.txt"]
    generate(tmp_path / "fewer", n_train=1, n_test=4, seed=11)
    assert _files(tmp_path / "fewer")["audio/test/test_00003.wav"] == first["audio/test/test_00003.wav"]


def test_format_is_readable_and_labels_consistent(bench):
    root, summary = bench
    assert (root / "metadata" / "classes.txt").read_text().split() == CLASS_NAMES
    for split, n in (("train", 12), ("validation", 3), ("test", 4)):
        ds = load_dataset(root, split)
        assert ds.problems == [] and len(ds) == n and ds.classes == CLASS_NAMES and ds.has_strong
        weak = dict(read_weak_tsv(root / "metadata" / f"{split}_weak.tsv"))
        strong = read_strong_tsv(root / "metadata" / f"{split}_strong.tsv")
        assert len(strong) == summary["splits"][split]["events"]
        for item in ds.items:
            from_strong = {e[3] for e in strong if e[0] == item.name}
            assert set(weak[item.name]) == from_strong == set(item.labels)
            for onset, offset, _ in item.events:
                assert 0 <= onset < offset <= 10.0
            info = sf.info(item.path)
            assert (info.samplerate, info.channels, info.subtype, info.frames) == (SR, 1, "PCM_16", 10 * SR)
    counts = [len(it.events) for s in ("train", "validation", "test") for it in load_dataset(root, s).items]
    assert max(counts) <= 4


def test_labels_are_the_events_exact_extent():
    # rebuild a clip without its background: the events' samples lie exactly in their labelled spans
    for i in range(6):
        rng = np.random.default_rng([5, 0, i])
        mix, events, info = make_clip(rng, SR, 10.0)
        assert mix.dtype == np.float32 and len(mix) == 10 * SR and np.abs(mix).max() <= 0.98 + 1e-6
        assert len(events) <= 4 and len({e[2] for e in events}) == len(events)
        for onset, offset, label in events:
            assert 0 <= onset < offset <= 10.0 and label in CLASS_NAMES
    for c in CLASSES:
        x = render_event(c.name, np.random.default_rng(1), SR)
        n20 = int(0.02 * SR)
        peak = np.abs(x).max()
        # sound right from the start and up to the end of the extent: no silent margin in the label
        assert np.abs(x[:n20]).max() > 1e-3 * peak, c.name
        assert np.abs(x[-n20:]).max() > 1e-3 * peak, c.name
        assert abs(np.sqrt(np.mean(x.astype(np.float64) ** 2)) - 1) < 1e-3


def test_transient_classes_are_short_and_long_classes_long():
    for c in CLASSES:
        rng = np.random.default_rng(2)
        lengths = [len(render_event(c.name, rng, SR)) / SR for _ in range(15)]
        med = float(np.median(lengths))
        if c.kind == "transient":
            assert med < 1.0, (c.name, med)
        else:
            assert med > 1.0, (c.name, med)
        assert max(lengths) <= 10.0


def test_classes_are_separable_by_their_spectrum():
    """Nearest-centroid on log-mel spectrum statistics of isolated events, leave-one-out.

    Pitches are random within overlapping ranges, so a few tonal events (beep, chirp, glass
    clink) look alike by their average spectrum alone (about 90% correct; chance is 7%); their
    time structure, which this test ignores, is what tells them apart.
    """
    feats, labels = [], []
    for ci, c in enumerate(CLASSES):
        rng = np.random.default_rng(100 + ci)
        for _ in range(5):
            x = render_event(c.name, rng, SR, max_s=3.0) * 0.05
            m = log_mel(x, SR).numpy()
            feats.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
            labels.append(ci)
    feats, labels = np.array(feats), np.array(labels)
    correct = 0
    for i in range(len(feats)):
        keep = np.arange(len(feats)) != i
        cents = np.array([feats[keep & (labels == k)].mean(axis=0) for k in range(len(CLASSES))])
        correct += int(np.argmin(((cents - feats[i]) ** 2).sum(axis=1)) == labels[i])
    assert correct / len(feats) >= 0.8
    # and inside real clips (with backgrounds and overlaps) the class-mean spectra differ
    sums, counts = np.zeros((len(CLASSES), 128)), np.zeros(len(CLASSES))
    hop = 492 / SR
    for i in range(40):
        mix, events, _ = make_clip(np.random.default_rng([9, 0, i]), SR, 10.0)
        m = log_mel(mix, SR).numpy()
        for onset, offset, label in events:
            k = CLASS_NAMES.index(label)
            seg = m[:, int(onset / hop):int(offset / hop) + 1]
            sums[k] += seg.mean(axis=1)
            counts[k] += 1
    seen = counts > 0
    means = sums[seen] / counts[seen, None]
    d = np.sqrt(((means[:, None] - means[None]) ** 2).mean(axis=2))
    assert seen.all() and d[~np.eye(len(means), dtype=bool)].min() > 0.25


def test_generation_speed_and_cli(tmp_path):
    from engine.cli import main

    t0 = time.perf_counter()
    summary = generate(tmp_path / "speed", n_train=10, n_test=0, seed=0)
    elapsed = time.perf_counter() - t0
    assert summary["ms_per_clip"] < 100 and elapsed < 5      # about 15 ms per clip on one core
    assert main(["synth", str(tmp_path / "cli"), "--n-train", "3", "--n-test", "2", "--seed", "1"]) == 0
    ds = load_dataset(tmp_path / "cli", "test")
    assert len(ds) == 2
    # regenerating replaces the old benchmark, stale clips included
    assert main(["synth", str(tmp_path / "cli"), "--n-train", "1", "--n-test", "1", "--seed", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "cli" / "audio" / "test").iterdir()) == ["test_00000.wav"]
    # ...but a folder holding something else is refused
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        generate(tmp_path / "busy", 1, 1)


def test_one_event_per_clip_regime(tmp_path):
    summary = generate(tmp_path / "one", n_train=8, n_test=3, seed=11, one_event_per_clip=True)
    assert summary["one_event_per_clip"] is True
    for split, n in (("train", 8), ("test", 3)):
        assert summary["splits"][split] == {"clips": n, "events": n, "clips_without_events": 0}
        for item in load_dataset(tmp_path / "one", split).items:
            assert len(item.events) == 1 and len(item.labels) == 1
    import json
    settings = json.loads((tmp_path / "one" / "metadata" / "synth.json").read_text())
    assert settings["one_event_per_clip"] is True and settings["events_per_clip_p"] == [0.0, 1.0, 0.0, 0.0, 0.0]
    # the mixed regime is unchanged by the option's existence: clips with events keep their first draws
    for i in range(10):
        mixed = make_clip(np.random.default_rng([5, 0, i]), SR, 10.0)
        one = make_clip(np.random.default_rng([5, 0, i]), SR, 10.0, one_event=True)
        assert len(one[1]) == 1
        if mixed[1]:
            assert mixed[2]["background"] == one[2]["background"]


def test_one_event_per_clip_cli(tmp_path):
    from engine.cli import main

    assert main(["synth", str(tmp_path / "b"), "--n-train", "3", "--n-test", "1", "--seed", "2",
                 "--one-event-per-clip"]) == 0
    ds = load_dataset(tmp_path / "b", "train")
    assert all(len(it.labels) == 1 for it in ds.items)
