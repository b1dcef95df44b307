"""The display cache of long spectrograms, the dataset reader of the GUI, and the Qt guard."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from mmgui.pyramid import SpectrogramPyramid


def test_pyramid_levels_are_max_decimations_filled_progressively():
    rng = np.random.default_rng(0)
    frames = rng.random((8, 5000)).astype(np.float32)
    pyr = SpectrogramPyramid(8, 0.01, capacity=100, factor=4, top_cols=64)   # grows while filling
    for i in range(0, 5000, 333):
        pyr.append(frames[:, i:i + 333])
        assert pyr.frames == min(5000, i + 333)
    pyr.finish()
    np.testing.assert_array_equal(pyr.full(), frames)
    lv1 = pyr._levels[1][:, :pyr._counts[1]]
    np.testing.assert_array_equal(lv1, frames.reshape(8, 1250, 4).max(axis=2))
    lv2 = pyr._levels[2][:, :pyr._counts[2]]
    expect2 = np.concatenate([frames[:, :4992].reshape(8, 312, 16).max(axis=2),
                              frames[:, 4992:].max(axis=1, keepdims=True)], axis=1)
    np.testing.assert_array_equal(lv2, expect2)
    assert pyr._counts[-1] <= 64 and pyr.n_levels == 5


def test_pyramid_select_covers_the_range_with_bounded_columns():
    frames = np.arange(100_000, dtype=np.float32)[None, :].repeat(4, axis=0)
    pyr = SpectrogramPyramid(4, 0.01, capacity=100_000)
    pyr.append(frames)
    pyr.finish()
    img, start, end, level = pyr.select(0.0, 1000.0, max_cols=2000)
    assert img.flags.c_contiguous and img.shape[1] <= 2000 and level > 0
    assert start == 0.0 and end >= 1000.0
    img, start, end, level = pyr.select(500.0, 505.0, max_cols=2000)
    assert level == 0 and start <= 500.0 and end >= 505.0
    a = int(round(start / 0.01))
    np.testing.assert_array_equal(img, frames[:, a:a + img.shape[1]])
    assert pyr.select(2000.0, 2100.0) is None
    assert pyr.nbytes < frames.nbytes * 1.4


def test_pyramid_reads_stay_consistent_while_a_worker_appends():
    """A worker appends (the arrays grow and are reallocated) while this thread reads: every
    read is frames that were appended (all >= 1, so unfilled memory would show as 0), at
    their place, and whole-file reads are max-decimations of them."""
    import threading

    rng = np.random.default_rng(1)
    frames = (1.0 + rng.random((6, 40_000))).astype(np.float32)
    pyr = SpectrogramPyramid(6, 0.01, capacity=64, factor=4, top_cols=64)
    done = threading.Event()

    def writer():
        for i in range(0, frames.shape[1], 97):
            pyr.append(frames[:, i:i + 97])
        pyr.finish()
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    reads = 0
    while not done.is_set() or reads < 50:
        n = pyr.frames
        sel = pyr.select(0.0, 2.0, max_cols=4000)                 # level 0: the frames themselves
        if sel is not None:
            img, start, _, level = sel
            assert level == 0 and start == 0.0
            np.testing.assert_array_equal(img, frames[:, :img.shape[1]])
        whole = pyr.columns(0.0, 400.0, 300)
        if whole is not None and n > 0:
            img = whole[0]
            assert img.min() >= 1.0 and img.max() <= frames.max()
        reads += 1
    t.join()
    img, start, end, level, dt = pyr.columns(0.0, 400.0, 300)
    assert img.max() == frames.max()                              # the loudest frame is in the picture


def test_datasets_open_through_the_engine_reader(tmp_path):
    import soundfile as sf

    from mmgui import datasets

    root = tmp_path / "ds"
    (root / "audio" / "eval").mkdir(parents=True)
    (root / "metadata").mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(root / "audio" / "eval" / name, np.zeros(4410, np.float32), 44100)
    (root / "metadata" / "eval_weak.tsv").write_text("filename\tevent_labels\na.wav\tdog,bell\nb.wav\t\n")
    (root / "metadata" / "eval_strong.tsv").write_text(
        "filename\tonset\toffset\tevent_label\na.wav\t0.1\t0.3\tdog\na.wav\t0.2\t0.4\tbell\n")
    assert datasets.dataset_splits(root) == ["eval"]
    coll = datasets.open_folder(root)
    assert [c.name for c in coll.clips] == ["a.wav", "b.wav"]
    assert coll.clips[0].weak == ["bell", "dog"] and coll.clips[1].weak == []
    assert coll.clips[0].strong == [(0.1, 0.3, "dog"), (0.2, 0.4, "bell")] and coll.clips[1].strong == []


def test_qt_reference_guard_keeps_singletons_alive():
    import mmgui  # noqa: F401  (installs the guard)
    from PySide6.QtCore import QObject, Signal

    from mmgui.qtcompat import installed

    class Emitter(QObject):
        sig = Signal(object)

    e = Emitter()
    before = [sys.getrefcount(x) for x in (None, True, False)]
    for _ in range(5000):
        e.sig.emit(None)
        e.setObjectName("x")
    after = [sys.getrefcount(x) for x in (None, True, False)]
    if installed.get("needed"):
        assert all(a > 1 << 39 for a in after)
    else:
        assert all(b - a < 100 for a, b in zip(after, before))
