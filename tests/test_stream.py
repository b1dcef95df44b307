"""engine.stream: the shared window planners, the live StreamAnalyzer against offline analysis,
bounded memory, events and the callback ring buffer."""
import threading

import numpy as np
import pytest

from engine import load_model
from engine.features import log_mel
from engine.stream import EventTracker, FrameBuffer, SampleRing, SlidingPlanner, TilingPlanner, Window
from tests.conftest import realistic_audio


def test_tiling_planner_is_the_documented_rule():
    # a recording of at most W + 2M frames is one pass
    p = TilingPlanner(10, 2)
    assert p.plan(14, finished=True) == [Window(0, 14, 0, 14)]
    # a long one, fed incrementally: cores of W tile it, margins of M around each core
    p = TilingPlanner(10, 2)
    got = p.plan(11, finished=False)
    assert got == []                                     # the first window needs frames up to 12
    got += p.plan(12, finished=False)
    assert got == [Window(0, 12, 0, 10)]
    got += p.plan(25, finished=False)
    got += p.plan(27, finished=True)
    assert got == [Window(0, 12, 0, 10), Window(8, 22, 10, 20), Window(18, 27, 20, 27)]
    assert p.first_needed() == 25


def test_sliding_planner_windows_are_aligned_and_report_every_frame_once():
    p = SlidingPlanner(window=64, hop=16, align=8, delay=8)
    wins = []
    for n in range(0, 203, 7):
        wins += p.plan(n)
    wins.append(p.final(203))
    assert p.final(203) is None
    for w in wins:
        assert w.start % 8 == 0 and 0 < w.stop - w.start <= 64
        assert w.start <= w.core_start <= w.core_stop <= w.stop
    assert [w.stop for w in wins[:4]] == [16, 32, 48, 64]
    assert wins[0].core_stop == 8                      # the delay: frames [8, 16) wait for context
    cores = [(w.core_start, w.core_stop) for w in wins]
    assert cores[0][0] == 0 and cores[-1][1] == 203
    assert all(a[1] == b[0] for a, b in zip(cores, cores[1:]))
    with pytest.raises(ValueError):
        SlidingPlanner(window=16, hop=32)


def _odd_blocks(y, seed=0, biggest=9000):
    rng = np.random.default_rng(seed)
    i, sizes = 0, [1, 2, 491, 492, 493]
    while i < len(y):
        n = sizes.pop(0) if sizes else int(rng.integers(1, biggest))
        yield y[i:i + n]
        i += n


def _frames(r, fh):
    return int(round(r.window_start / fh)), int(round(r.window_end / fh))


def test_stream_gives_offline_analysis_window_by_window(tiny_model_file):
    """Fed block by block (odd sizes, down to 1 sample), every hop equals the offline analysis of
    its window: exactly (float rounding) the network on the same frames of the offline log-mel,
    and ``analyze()`` of the window cut out of the recording except near the window's edges."""
    predictor = load_model(tiny_model_file("mmnet-ms", 4), device="cpu")
    fh = predictor.feature_config.frame_hop_s
    y = realistic_audio(12.0, seed=5)
    sa = predictor.stream(44100, 1, hop_s=0.5, window_s=4.0)
    assert sa.hop_s == pytest.approx(3 * 16 * fh) and sa.window_s == pytest.approx(22 * 16 * fh)
    hops = []
    for block in _odd_blocks(y):
        hops += sa.feed(block)
    hops += sa.finish()
    assert [h.index for h in hops] == list(range(len(hops))) and len(hops) == 23
    feats = log_mel(y, 44100)   # what analyze() of the whole recording computes, in one go
    margin_s = predictor.margin_frames * fh
    worst_edge = 0.0
    for h in hops:
        a = h.analysis
        f0, f1 = _frames(h, fh)
        assert f0 % predictor.model.stride == 0 and f1 - f0 <= sa.planner.window
        out = predictor.forward_features(feats[:, f0:f1][None])
        np.testing.assert_allclose(a.clip_probs, out.ensemble_probs[0].numpy(), atol=1e-5)
        for s, ref in zip(a.scales, out.scales):
            np.testing.assert_allclose(s.segment_probs, ref.segment_probs[0].numpy(), atol=1e-5)
            np.testing.assert_allclose(s.attention, ref.attention[0].numpy(), atol=1e-4)
        # analyze() of the window's samples: its first and last 3 frames see zero padding instead of
        # the neighbouring audio, which moves clip scores a little and segments within the model's
        # receptive field (margin_frames, 0.71 s) of the edges; deeper segments are the same
        cut = predictor.analyze(y[f0 * 492:(f1 - 1) * 492 + 1], sr=44100)
        assert np.abs(a.clip_probs - cut.clip_probs).max() < 0.03
        for s, ref in zip(a.scales, cut.scales):
            assert s.segment_probs.shape == ref.segment_probs.shape
            inner = (s.times >= margin_s + 0.1) & (s.times + s.hop_s <= a.duration - margin_s - 0.1)
            if inner.any():
                np.testing.assert_allclose(s.segment_probs[inner], ref.segment_probs[inner], atol=1e-4)
            worst_edge = max(worst_edge, float(np.abs(s.segment_probs - ref.segment_probs).max()))
    assert worst_edge > 1e-3  # the edge effect is real: the bound above is not vacuous
    # the newest segments of successive hops tile the stream on one time grid, once each
    for k, name in enumerate(s.name for s in hops[0].scales):
        times = np.concatenate([h.scales[k].times for h in hops])
        hop_s = hops[0].scales[k].hop_s
        np.testing.assert_allclose(times, np.arange(len(times)) * hop_s, atol=1e-9)
        assert times[-1] < 12.0 <= times[-1] + hop_s + 1e-9
        # and are the window's own last segments
        h = hops[5]
        np.testing.assert_array_equal(h.scales[k].segment_probs,
                                      h.analysis.scales[k].segment_probs[-len(h.scales[k].times):])


def test_resampled_multichannel_input(tiny_model_file):
    """48 kHz stereo blocks are downmixed and resampled on the fly like the whole signal at once."""
    import soxr

    predictor = load_model(tiny_model_file("mmnet", 3), device="cpu")
    left = realistic_audio(7.0, sr=48000, seed=1)
    stereo = np.stack([left, 0.5 * left[::-1]], axis=1)
    ref_stream = predictor.stream(44100, 1, window_s=3.0, hop_s=1.0)
    mono44 = soxr.resample(stereo.mean(axis=1), 48000, 44100, quality="HQ").astype(np.float32)
    ref = ref_stream.feed(mono44) + ref_stream.finish()
    sa = predictor.stream(48000, 2, window_s=3.0, hop_s=1.0)
    got = []
    for block in _odd_blocks(stereo, seed=2, biggest=5000):
        got += sa.feed(block)
    got += sa.finish()
    assert len(got) == len(ref) == 7   # 6 hops of 1.07 s, then the final part window
    for g, r in zip(got, ref):
        assert g.window_end == pytest.approx(r.window_end)
        np.testing.assert_allclose(g.clip_probs, r.clip_probs, atol=1e-4)
        np.testing.assert_allclose(g.scales[0].segment_probs, r.scales[0].segment_probs, atol=1e-3)
    with pytest.raises(ValueError, match="channels"):
        sa2 = predictor.stream(48000, 2)
        sa2.feed(np.zeros((100, 3), np.float32))


def test_memory_is_bounded_for_any_length(tiny_model_file):
    predictor = load_model(tiny_model_file("resnet-att", 2), device="cpu")
    sa = predictor.stream(44100, 1, window_s=1.0, hop_s=0.5, keep_analysis=False)
    W, H = sa.planner.window, sa.planner.hop
    rng = np.random.default_rng(0)
    sizes = []
    n_hops = 0
    for i in range(200):                       # 60 s in 0.3-s blocks
        n_hops += len(sa.feed(0.1 * rng.standard_normal(13230).astype(np.float32)))
        sizes.append((sa.buffer.frames.shape[1], sa.features._buf.numel()))
    assert n_hops == int(60.0 / sa.hop_s)
    assert max(f for f, _ in sizes) <= W + sa.batch_size * H
    assert max(b for _, b in sizes) <= 13230 + 2048
    assert sizes[-1] <= max(sizes[:50])        # no growth after the first seconds


def test_event_tracker_opens_and_closes_events_with_wall_clock():
    tr = EventTracker(["dog", "bell"], np.array([0.5, 0.5]), 0.5)
    wall = lambda t: 1000.0 + t  # noqa: E731
    p = np.array([[0.9, 0.1], [0.8, 0.6], [0.2, 0.7]], np.float32)
    closed = tr.update(np.array([0.0, 0.5, 1.0]), p, 0.5, np.array([0.9, 0.9]), wall)
    assert [(e.label, e.onset, e.offset, e.score, e.offset_wall) for e in closed] == [("dog", 0.0, 1.0,
                                                                                         pytest.approx(0.9), 1001.0)]
    assert set(tr.open) == {1} and tr.open[1].onset_wall == 1000.5
    # the window's clip score gates the class: bell stops when its window is no longer tagged
    closed = tr.update(np.array([1.5]), np.array([[0.1, 0.9]], np.float32), 0.5, np.array([0.9, 0.2]), wall)
    assert [(e.label, e.onset, e.offset, e.score) for e in closed] == [("bell", 0.5, 1.5, pytest.approx(0.7))]
    tr.update(np.array([2.0]), np.array([[0.7, 0.0]], np.float32), 0.5, np.array([0.9, 0.2]), wall)
    assert [(e.label, e.onset, e.offset) for e in tr.close_all(2.5, wall)] == [("dog", 2.0, 2.5)]


def test_stream_events_and_json(tiny_model_file):
    predictor = load_model(tiny_model_file("mmnet-ms", 3), device="cpu")
    sa = predictor.stream(44100, 1, window_s=2.0, hop_s=0.5, thresholds=0.0, segment_threshold=0.0)
    y = realistic_audio(3.0, seed=2)
    t0 = 1.7e9
    hops = sa.feed(y[:44100], wall_time=t0 + 1.0) + sa.feed(y[44100:], wall_time=t0 + 3.0) + sa.finish()
    # thresholds 0: every class is active from 0 s to the end: one event per class, closed at the end
    events = [e for h in hops for e in h.events]
    assert sorted(e.label for e in events) == predictor.classes
    for e in events:
        assert e.onset == 0.0 and e.offset == pytest.approx(3.0, abs=0.2)
        assert e.onset_wall == pytest.approx(t0) and e.offset_wall == pytest.approx(t0 + e.offset)
    assert hops[0].open_events and not hops[-1].open_events
    d = hops[1].to_dict(predictor.classes)
    assert set(d) >= {"hop", "window_start", "window_end", "wall_time", "clip_probs", "scales", "events"}
    assert len(d["clip_probs"]) == 3 and d["scales"][0]["name"] == "stage1"
    with pytest.raises(RuntimeError):
        sa.feed(y)


def test_frame_buffer_refuses_frames_it_no_longer_holds():
    import torch

    buf = FrameBuffer(2)
    buf.append(torch.arange(10.0).reshape(2, 5))
    buf.drop_before(3)
    assert (buf.start, buf.end) == (3, 5) and buf.get(3, 5).tolist() == [[3.0, 4.0], [8.0, 9.0]]
    with pytest.raises(IndexError):
        buf.get(2, 4)


def test_sample_ring_wraps_drops_and_hands_over_between_threads():
    ring = SampleRing(10, channels=2)
    assert ring.write(np.ones((4, 2))) == 4
    assert ring.read().shape == (4, 2)
    assert ring.write(np.arange(16.0).reshape(8, 2)) == 8     # wraps around the end
    assert ring.write(np.zeros((5, 2))) == 2 and ring.dropped_frames == 3 and ring.overruns == 1
    out = ring.read()
    assert out.shape == (10, 2) and out[:8, 0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    assert ring.read(timeout=0.01).shape == (0, 2)
    # a producer thread and a consumer: every frame arrives once, in order
    data = np.arange(50000, dtype=np.float32)
    ring = SampleRing(len(data))
    t = threading.Thread(target=lambda: [ring.write(data[i:i + 256]) for i in range(0, len(data), 256)])
    got = []
    t.start()
    while sum(len(g) for g in got) < len(data):
        got.append(ring.read(timeout=0.1)[:, 0])
    t.join()
    assert ring.dropped_frames == 0
    np.testing.assert_array_equal(np.concatenate(got), data)
