"""engine/metrics.py: cases written to kill the mutants that tests/test_metrics.py let survive (bench/mutation.md).

Expected values are counted by hand in the comments or computed by sed_eval / scikit-learn, never by
engine.metrics itself.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine.metrics import segment_based

approx = pytest.approx


def _sed_eval_segments(ref, est, res):
    """sed_eval 0.2.1's SegmentBasedMetrics fed file by file (as engine.metrics documents): overall dict."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # dcase_util imports pkg_resources
        import dcase_util
        import sed_eval
    labels = sorted({e[3] for e in ref + est})
    m = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=labels, time_resolution=res)
    for f in dict.fromkeys(e[0] for e in ref + est):
        def box(events):
            return dcase_util.containers.MetaDataContainer(
                [{"filename": f, "onset": a, "offset": b, "event_label": lab} for g, a, b, lab in events if g == f])
        m.evaluate(reference_event_list=box(ref), estimated_event_list=box(est))
    return m.results_overall_metrics()


# ------------------------------------------------------------------------------------ the phantom segment
def test_float_noise_on_a_boundary_adds_no_segment():
    off = 0.1 * 3 * 10                                   # 3.0000000000000004 (0.1 * 3 is 0.30000000000000004)
    assert off == 3.0000000000000004 != 3.0
    ref = [("a.wav", 0.0, off, "dog")]
    est = [("a.wav", 0.0, 3.0, "dog")]
    # sed_eval on the raw times: ceil(3.0000000000000004) = 4 segments, the 4th a deletion
    raw = _sed_eval_segments(ref, est, 1.0)
    assert raw["f_measure"]["recall"] == approx(0.75) and raw["error_rate"]["error_rate"] == approx(0.25)
    # engine.metrics snaps the offset onto the boundary: what sed_eval gives for the intended 3.0 s
    m = segment_based(ref, est, time_resolution=1.0)
    clean = _sed_eval_segments([("a.wav", 0.0, 3.0, "dog")], est, 1.0)
    assert clean["f_measure"]["f_measure"] == 1.0
    assert (m["f1"], m["error_rate"], m["n_segments"], m["tp"]) == (1.0, 0.0, 3, 3)
    # an onset a hair before boundary 3 (0.3 / 0.1 = 2.9999999999999996) starts at 3, not in segment 2
    assert 0.3 / 0.1 == 2.9999999999999996
    m = segment_based([("b", 0.3 / 0.1, 4.0, "x")], [("b", 3.0, 4.0, "x")])
    assert (m["n_ref"], m["n_sys"], m["tp"]) == (1, 1, 1)
    # on a 0.1-s grid the snap works in segments too: 0.30000000000000004 s is boundary 3
    m = segment_based([("c", 0.1, 0.1 + 0.2, "x")], [("c", 0.1, 0.3, "x")], time_resolution=0.1)
    assert (m["n_segments"], m["n_ref"], m["tp"], m["error_rate"]) == (3, 2, 2, 0.0)
    # a real overhang (1 ms) still marks the next segment, as in sed_eval
    late = [("d", 0.0, 3.001, "dog")]
    m = segment_based(late, [("d", 0.0, 3.0, "dog")])
    s = _sed_eval_segments(late, [("d", 0.0, 3.0, "dog")], 1.0)
    assert m["recall"] == approx(s["f_measure"]["recall"]) == approx(0.75)
