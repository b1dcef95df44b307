"""``mmnet evaluate``'s detection figures are the metric functions' on the same predictions (issue 15).

The tagging half (mAP, AUC, F1 from ``tagging_metrics`` on the clip scores) is checked in
tests/test_bad_input.py::test_evaluate_leaves_out_bad_and_deleted_clips and
tests/test_train.py::test_reproduce_quick. Here: segment ER / F1 (1-s segments) and event F1 / ER
(200-ms collar, offsets within 50 % of the length), overall and per class, equal
``segment_based`` / ``event_based`` (themselves checked against sed_eval in tests/test_metrics.py)
fed with the events of each test clip's analysis and the split's strong labels, and PSDS1 / PSDS2
equal ``psds_of_analyses`` of the same analyses. The analyses are
made by hand from the strong labels (some events found, some late, some too long, some missed, one invented), so
that both figures are strictly between 0 and 1 and depend on the collar and the resolution.
"""
import math

import numpy as np
import pytest

HOP = 0.1          # s, one segment


def _model(data, path) -> str:
    """A small random M&mnet file over the dataset's classes (evaluate reads its classes, thresholds
    and whether it has a segment level; its outputs are replaced by the hand-made analyses)."""
    import torch

    from engine.features import FeatureConfig, Normalizer
    from engine.modelfile import ModelBundle, save_model
    from engine.models import build
    from tests.conftest import TINY

    classes = [l.strip() for l in (data / "metadata" / "classes.txt").read_text().splitlines() if l.strip()]
    torch.manual_seed(0)
    bundle = ModelBundle(build("mmnet", len(classes), **TINY).eval(), FeatureConfig(), classes,
                         Normalizer(np.full(128, 1.0), np.full(128, 2.0)),
                         thresholds=np.full(len(classes), 0.5, np.float32))
    save_model(bundle, path)
    return str(path)


def _hand_analysis(item, classes, duration: float, first: int, invent: bool):
    """Segment probabilities 0.9 where the estimate says active, 0.1 elsewhere: the clip's k-th event
    (by onset; ``first + k`` over the split) is found 0.1 s late (``first + k`` % 4 == 0), 0.5 s late
    (1: the segments overlap, the onset is past the collar), missed (2), or 30 % longer (3: the
    offset is within 50 % of the length, not within 20 %, for events of 0.7 s and more); with
    ``invent``, an invented 1-s event at 8 s of the first class the clip does not hold."""
    from engine.analysis import Analysis, ScaleAnalysis

    n = int(round(duration / HOP))
    probs = np.full((n, len(classes)), 0.1, np.float32)
    events = sorted(item.events or ())
    for k, (on, off, label) in enumerate(events):
        kind = (first + k) % 4
        if kind == 2:
            continue
        late = (0.1, 0.5, None, 0.0)[kind]
        long = 0.3 * (off - on) if kind == 3 else 0.0
        a, b = int((on + late) / HOP), min(n, int(math.ceil((off + late + long) / HOP)))
        probs[a:b, classes.index(label)] = 0.9
    if invent:
        absent = next(c for c in classes if c not in {e[2] for e in events})
        probs[80:90, classes.index(absent)] = 0.9
    return Analysis(classes=list(classes), duration=duration, clip_macro=np.ones(len(classes), np.float32),
                    clip_ensemble=None, scales=[ScaleAnalysis("s", HOP, np.arange(n) * HOP, probs)],
                    thresholds=np.full(len(classes), 0.5, np.float32), method="mmnet", primary_scale=0)


def test_evaluate_detection_figures_are_the_metric_functions_on_the_same_events(tmp_path, monkeypatch):
    from engine import load_model
    from engine.data import load_dataset
    from engine.data.synth import generate
    from engine.evaluate import evaluate
    from engine.infer import Predictor
    from engine.metrics import event_based, segment_based
    from engine.psds import psds_of_analyses

    data = tmp_path / "data"
    generate(data, n_train=2, n_test=6, n_validation=1, seed=3)
    ds = load_dataset(data, "test")
    model = _model(data, tmp_path / "m.safetensors")
    predictor = load_model(model, device="cpu")
    by_path = {str(it.path): it for it in ds.items}
    analyses, first = {}, 0
    for k, (p, it) in enumerate(by_path.items()):
        analyses[p] = _hand_analysis(it, predictor.classes, 10.0, first, invent=k == 0)
        first += len(it.events or ())
    monkeypatch.setattr(Predictor, "analyze", lambda self, path, **kw: analyses[str(path)])
    result = evaluate(model, str(data), "test", predictor=predictor)

    estimated = [(it.name, e.onset, e.offset, e.label) for it in ds.items for e in analyses[str(it.path)].events()]
    reference = ds.strong_events()
    assert len(reference) >= 6 and len(estimated) >= 4
    seg = segment_based(reference, estimated, time_resolution=1.0)
    ev = event_based(reference, estimated, t_collar=0.2, percentage_of_length=0.5)
    # not a 0 == 0 check: events found and missed, on both figures
    assert 0.2 < seg["f1"] < 1.0 and 0.1 < ev["f1"] < 0.9
    assert result["clips"] == len(ds.items) == 6
    assert result["segment_F1"] == pytest.approx(seg["f1"], abs=1e-12)
    assert result["segment_ER"] == pytest.approx(seg["error_rate"], abs=1e-12)
    assert result["event_F1"] == pytest.approx(ev["f1"], abs=1e-12)
    assert result["event_ER"] == pytest.approx(ev["error_rate"], abs=1e-12)
    for c in ds.classes:
        got = result["per_class"][c]
        assert got["segment_F1"] == seg["per_class"].get(c, {}).get("f1"), c
        assert got["event_F1"] == ev["per_class"].get(c, {}).get("f1"), c
    # PSDS1 and PSDS2 (tests/test_psds.py checks them against sed_scores_eval) of the same analyses
    ps = psds_of_analyses({it.name: analyses[str(it.path)] for it in ds.items}, reference)
    assert 0.0 < ps["psds1"] < 1.0 and 0.0 < ps["psds2"] < 1.0
    assert (result["psds1"], result["psds2"]) == pytest.approx((ps["psds1"], ps["psds2"]), abs=1e-12)
    # other settings give other numbers here: the comparison pins the documented ones
    assert segment_based(reference, estimated, time_resolution=0.5)["f1"] != pytest.approx(seg["f1"])
    assert event_based(reference, estimated, t_collar=0.6, percentage_of_length=0.5)["f1"] != pytest.approx(ev["f1"])
    assert event_based(reference, estimated, t_collar=0.2, percentage_of_length=0.2)["f1"] != pytest.approx(ev["f1"])
