"""mmgui.pyramid against values computed by hand (the survivors of a mutmut run, bench/mutation.md).

The frame period is 0.25 s (exact in binary) so that times, column widths and bin edges are
exact; expected images are numpy reshapes and maxima of the frames, not the pyramid's code.
"""
from __future__ import annotations

import numpy as np
import pytest

from mmgui.pyramid import SpectrogramPyramid

HOP = 0.25


@pytest.fixture(scope="module")
def frames():
    return np.random.default_rng(7).random((3, 4000)).astype(np.float32)


@pytest.fixture(scope="module")
def pyr(frames):
    # levels of 4000, 1000, 250 and 63 columns (1, 4, 16 and 64 frames each)
    p = SpectrogramPyramid(3, HOP, capacity=4000, top_cols=64)
    for i in range(0, 4000, 900):
        p.append(frames[:, i:i + 900])
    p.finish()
    return p


def test_allocation_follows_capacity_factor_and_top_cols():
    # the defaults the views use: 1024 frames, factor 4, at most 1024 columns on the top level
    p = SpectrogramPyramid(3, HOP)
    assert p.n_levels == 1 and p.nbytes == 3 * 1024 * 4
    p = SpectrogramPyramid(3, HOP, capacity=4100)              # 4100 -> 1025 (> 1024) -> 257
    assert p.n_levels == 3 and p.nbytes == 3 * 4 * (4100 + 1025 + 257)
    assert SpectrogramPyramid(3, HOP, capacity=0).nbytes == 3 * 4


def test_frames_of_the_wrong_shape_are_refused():
    p = SpectrogramPyramid(3, HOP)
    for bad in (np.ones((1, 10)), np.ones((4, 10)), np.ones(3)):   # (1, k) would broadcast silently
        with pytest.raises(ValueError, match=r"expected 3 x k frames"):
            p.append(bad)
    p.append(np.zeros((3, 0)))
    assert p.frames == 0


def test_level_for_is_the_finest_level_within_max_cols(pyr):
    assert pyr.n_levels == 4
    assert pyr.level_for(0.0, 2048 * HOP, 2048) == 0               # 2048 frames fit 2048 columns
    assert pyr.level_for(0.0, 2049 * HOP, 2048) == 1
    assert pyr.level_for(0.0, 4 * 2049 * HOP, 2048) == 2
    assert pyr.level_for(0.0, 1000.0, 1) == 3                      # never past the top level


def test_select_returns_the_covering_columns(pyr, frames):
    img, start, end, k = pyr.select(10.0, 20.0, max_cols=100, margin=0.0)
    assert (start, end, k) == (10.0, 20.25, 0)                     # frames 40 .. 80, both ends included
    np.testing.assert_array_equal(img, frames[:, 40:81])
    img, start, end, k = pyr.select(10.0, 20.0, max_cols=100)      # default margin: a quarter of the span
    assert (start, end, k) == (7.5, 22.75, 0)
    np.testing.assert_array_equal(img, frames[:, 30:91])
    # default max_cols 2048: with margins 341.5 s span 2049 frames, so level 1 (1 s columns)
    img, start, end, k = pyr.select(0.0, 341.5)
    assert (start, end, k) == (0.0, 428.0, 1)
    np.testing.assert_array_equal(img, frames[:, :1712].reshape(3, 428, 4).max(axis=2))
    # one column asked for: the top level, 64 frames a column, the last one holds the 32 left
    img, start, end, k = pyr.select(0.0, 1000.0, max_cols=1)
    assert (start, end, k) == (0.0, 63 * 16.0, 3)
    np.testing.assert_array_equal(img[:, :62], frames[:, :3968].reshape(3, 62, 64).max(axis=2))
    np.testing.assert_array_equal(img[:, 62], frames[:, 3968:].max(axis=1))
    assert pyr.select(1000.0, 1010.0, margin=0.0) is None          # starts where the frames end


def test_columns_bin_frames_on_a_grid_of_dt(pyr, frames):
    # 1024 frames on 64 px, no slack: dt = 4 s = 16 frames, read from level 1 (1 s <= dt / 4)
    img, start, end, k, dt = pyr.columns(0.0, 256.0, 64, margin=0.0, slack=1.0)
    assert (start, end, k, dt) == (0.0, 256.0, 1, 4.0)
    assert img.dtype == np.float32 and img.flags.c_contiguous
    np.testing.assert_array_equal(img, frames[:, :1024].reshape(3, 64, 16).max(axis=2))
    img, start, end, k, dt = pyr.columns(64.0, 192.0, 32, margin=0.0, slack=1.0)
    assert (start, end, k, dt) == (64.0, 192.0, 1, 4.0)
    np.testing.assert_array_equal(img, frames[:, 256:768].reshape(3, 32, 16).max(axis=2))
    # dt = 16 s: level 2 (4 s columns)
    img, start, end, k, dt = pyr.columns(0.0, 512.0, 32, margin=0.0, slack=1.0)
    assert (start, end, k, dt) == (0.0, 512.0, 2, 16.0)
    np.testing.assert_array_equal(img, frames[:, :2048].reshape(3, 32, 64).max(axis=2))
    # the default margin adds a quarter of the span (32 s = 8 bins) on each side
    img, start, end, k, dt = pyr.columns(64.0, 192.0, 32, slack=1.0)
    assert (start, end, k, dt) == (32.0, 224.0, 1, 4.0)
    np.testing.assert_array_equal(img, frames[:, 128:896].reshape(3, 48, 16).max(axis=2))
    # the default slack: a column is 1.02 pixels wide
    *_, dt = pyr.columns(64.0, 192.0, 32)
    assert dt == pytest.approx(128.0 / 32 * 1.02)
    *_, dt = pyr.columns(0.0, 100.0, 1)                            # a one-pixel view
    assert dt == pytest.approx(102.0)
    assert pyr.columns(2000.0, 3000.0, 64) is None                 # after the end


def test_columns_give_the_frames_themselves_when_they_fit(pyr, frames):
    """Up to one frame a pixel: level 0, whatever the margin (64 frames on 64 px with margins
    are 96 frames; they used to come from level 1, 4 frames a column, a picture 4 times
    coarser than at a slightly wider zoom)."""
    img, start, end, k, dt = pyr.columns(10.0, 26.0, 64)
    assert (start, end, k, dt) == (6.0, 30.25, 0, 0.0)
    np.testing.assert_array_equal(img, frames[:, 24:121])
    img, start, end, k, dt = pyr.columns(10.0, 26.0, 64, margin=0.0)
    assert (start, end, k, dt) == (10.0, 26.25, 0, 0.0)
    np.testing.assert_array_equal(img, frames[:, 40:105])
    assert pyr.columns(2000.0, 2010.0, 64) is None


def test_every_click_lands_in_its_column_at_the_views_settings():
    """The views' settings (factor 4, 1024 top columns, default margin and slack), bins not
    aligned with the levels: each one-frame click shows at its place, within one column."""
    hop, n = 0.01, 60_000
    rng = np.random.default_rng(3)
    at = np.sort(rng.choice(n, 300, replace=False))
    clicks = np.zeros((2, n), np.float32)
    clicks[0, at] = 1.0 + np.arange(len(at))                       # each click its own value
    p = SpectrogramPyramid(2, hop, capacity=n)
    p.append(clicks)
    p.finish()
    t0, t1, n_px = 137.3, 461.9, 517
    span = t1 - t0
    img, start, end, k, dt = p.columns(t0, t1, n_px)
    assert dt == pytest.approx(span / n_px * 1.02) and k > 0
    assert start <= t0 - 0.25 * span < start + dt and end - dt < t1 + 0.25 * span <= end
    assert img.shape == (2, round((end - start) / dt)) and not img[1].any()
    inside = [(i, v) for i, v in zip(at, clicks[0, at]) if start + dt <= i * hop < end - dt]
    assert len(inside) > 100
    for i, v in inside:
        col = int(np.floor(((i + 0.5) * hop - start) / dt))
        assert img[0, max(0, col - 1):col + 2].max() >= v         # the click is in its column or a neighbour
    shown = set(np.unique(img[0])) - {0.0}
    assert shown <= {v for i, v in zip(at, clicks[0, at]) if start - dt <= i * hop < end + dt}


def test_columns_choose_the_level_from_dt(pyr, frames):
    # dt = 2 frames: level 0 (a level-1 column would be wider than dt / 4)
    img, start, end, k, dt = pyr.columns(0.0, 64.0, 128, margin=0.0, slack=1.0)
    assert (start, end, k, dt) == (0.0, 64.0, 0, 0.5)
    np.testing.assert_array_equal(img, frames[:, :256].reshape(3, 128, 2).max(axis=2))
    # dt = 16 s from 256 s on: level 2 columns 64 .. 127
    img, start, end, k, dt = pyr.columns(256.0, 512.0, 16, margin=0.0, slack=1.0)
    assert (start, end, k, dt) == (256.0, 512.0, 2, 16.0)
    np.testing.assert_array_equal(img, frames[:, 1024:2048].reshape(3, 16, 64).max(axis=2))
    # the whole file on 2 px (dt 510 s): the top level; on 1 px (dt 2040 s) still the top level
    *_, k, dt = pyr.columns(0.0, 1000.0, 2)
    assert k == 3 and dt == pytest.approx(510.0)
    img, start, end, k, dt = pyr.columns(0.0, 2000.0, 1)
    assert (k, start) == (3, 0.0) and img.shape == (3, 1)
    np.testing.assert_array_equal(img[:, 0], frames.max(axis=1))


def test_frames_fill_a_wide_view_from_level_0(pyr, frames):
    """2000 frames on 2000 px: with the margins 3000 frames, more than select's default 2048."""
    img, start, end, k, dt = pyr.columns(100.0, 600.0, 2000)
    assert (start, end, k, dt) == (0.0, 725.25, 0, 0.0)
    np.testing.assert_array_equal(img, frames[:, :2901])
