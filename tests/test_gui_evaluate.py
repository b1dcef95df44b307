"""Evaluation against annotations in the window (mmgui.evaluation): a dataset of 2 clips and
2 classes with strong labels, models A and B whose analyses are written here (segment
probabilities 0.95 inside the spans below, 0.01 elsewhere; hop 0.25 s so that every edge is an
exact number), and the expected metrics worked out by hand in the comments (not recomputed with
the code under test); the error flags on the event rows, the clip list sorted by A's errors, an
annotation taking over from the dataset labels, and PSDS against sed_scores_eval called directly.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("pytestqt")
pytest.importorskip("sed_scores_eval")

from PySide6.QtCore import Qt  # noqa: E402

from tests.conftest import realistic_audio  # noqa: E402
from tests.test_gui import CLASSES, make_window, models, wait_idle  # noqa: E402,F401

HOP, DUR = 0.25, 4.0
STRONG = {"c1.wav": [(0.5, 1.5, "dog"), (2.0, 3.0, "bell")], "c2.wav": [(1.0, 2.0, "dog")]}
# (segment spans [, their probability when not 0.95], clip probabilities of dog and bell); speech and
# alarm stay at 0.01 everywhere. B's false positive scores lower than its hits: above 0.7, B detects
# every reference event and nothing else (its PSDS is high); A never does without a false positive
A = {"c1.wav": ([(0.5, 1.5, "dog"), (3.5, 4.0, "bell")], {"dog": 0.95, "bell": 0.6}),
     "c2.wav": ([(1.0, 2.0, "dog")], {"dog": 0.95, "bell": 0.7})}
B = {"c1.wav": ([(0.5, 1.5, "dog"), (2.0, 3.0, "bell")], {"dog": 0.9, "bell": 0.95}),
     "c2.wav": ([(1.0, 2.0, "dog"), (1.0, 2.0, "bell", 0.7)], {"dog": 0.9, "bell": 0.8})}


def _probs(spans) -> np.ndarray:
    p = np.full((int(DUR / HOP), len(CLASSES)), 0.01, np.float32)
    for on, off, label, *prob in spans:
        p[int(on / HOP):int(off / HOP), CLASSES.index(label)] = prob[0] if prob else 0.95
    return p


def _analysis(entry, spans, clip_probs):
    from engine.analysis import Analysis, ScaleAnalysis

    probs = _probs(spans)
    n = len(probs)
    cp = np.full(len(CLASSES), 0.01, np.float32)
    for label, v in clip_probs.items():
        cp[CLASSES.index(label)] = v
    sc = ScaleAnalysis("stage3", HOP, np.arange(n) * HOP, probs, np.full(n, 1.0 / n, np.float32))
    return Analysis(list(CLASSES), DUR, cp, None, [sc], entry.thresholds, method=entry.method, primary_scale=0)


@pytest.fixture
def evaluated(qtbot, make_window, models, tmp_path):
    """A window on the dataset with the analyses of A and B injected (the window installs the Evaluate tab)."""
    root = tmp_path / "set"
    (root / "audio" / "test").mkdir(parents=True)
    (root / "metadata").mkdir()
    rows = ["filename\tonset\toffset\tevent_label"]
    for i, (name, events) in enumerate(STRONG.items()):
        sf.write(root / "audio" / "test" / name, realistic_audio(DUR, seed=40 + i), 44100)
        rows += [f"{name}\t{on}\t{off}\t{label}" for on, off, label in events]
    (root / "metadata" / "test_strong.tsv").write_text("\n".join(rows) + "\n")
    win = make_window()
    doc = win.doc
    win.open_paths([str(root)], remember=False)
    wait_idle(qtbot, win)
    a, b = doc.add_model(models["mmnet-ms"]), doc.add_model(models["resnet-att"])
    for c in doc.clips:
        doc.analyses[(c.path, a.path)] = _analysis(a, *A[c.name])
        doc.analyses[(c.path, b.path)] = _analysis(b, *B[c.name])
    doc.set_slot("A", a.path)
    doc.set_slot("B", b.path)
    view = win.features["mmgui.evaluation.install"]
    wait_idle(qtbot, win)
    return win, view


def _run(qtbot, win, view, scope: int):
    view.result = None
    view.scope.setCurrentIndex(scope)
    assert view.evaluate()
    qtbot.waitUntil(lambda: view.result is not None, timeout=60000)
    wait_idle(qtbot, win)


def test_metrics_by_hand_and_psds_against_sed_scores_eval(qtbot, evaluated):
    win, view = evaluated
    assert "evaluate" in win.tab_keys()
    _run(qtbot, win, view, 1)
    got = view.class_values()
    # A: segments (1 s): c1 has 4 (A's bell ends at 4.0 s): dog/dog, dog/dog, bell/-, -/bell; c2 has 2:
    #    -/-, dog/dog -> TP 3, Nref 4, Nsys 4, D 1, I 1: ER 2/4, F1 3/4. Events: dogs hit, c1's bell
    #    missed (A's bell starts 1.5 s late), A's bell a false positive: F1 2/(2 + 1/2 + 1/2) = 2/3.
    #    Tagging: dog AP 1, F1 1; bell scores 0.6 (c1, positive) < 0.7 (c2, negative): AP 1/2, both
    #    above the 0.4 threshold: F1 2/3; means 3/4 and 5/6.
    # B: c1 3 segments all hits; c2 seg 1: dog/dog+bell -> TP 4, Nref 4, Nsys 5, I 1: ER 1/4,
    #    F1 2*(4/5)*1/(4/5+1) = 8/9; events: 3 hits, c2's bell a false positive: F1 6/7; bell AP 1.
    expected = {
        "All classes": {"Ref. events": "3", "A seg ER": "0.500", "A seg F1": "0.750", "A event F1": "0.667",
                        "A AP": "0.750", "A tag F1": "0.833", "B seg ER": "0.250", "B seg F1": "0.889",
                        "B event F1": "0.857", "B AP": "1.000", "B tag F1": "0.833"},
        "dog": {"Ref. events": "2", "A seg ER": "0.000", "A seg F1": "1.000", "A event F1": "1.000",
                "A AP": "1.000", "A tag F1": "1.000", "B seg ER": "0.000", "B seg F1": "1.000",
                "B event F1": "1.000", "B AP": "1.000", "B tag F1": "1.000"},
        "bell": {"Ref. events": "1", "A seg ER": "2.000", "A seg F1": "0.000", "A event F1": "0.000",
                 "A AP": "0.500", "A tag F1": "0.667", "B seg ER": "1.000", "B seg F1": "0.667",
                 "B event F1": "0.667", "B AP": "1.000", "B tag F1": "0.667"},
    }
    assert set(got) == set(expected)
    for row, values in expected.items():
        assert {k: got[row][k] for k in values} == values, row
    # the per-clip table: worst first by A's errors (c1: 1 FP + 1 miss; c2: none)
    t = view.clips
    heads = [t.horizontalHeaderItem(j).text() for j in range(t.columnCount())]
    table = [{h: t.item(i, j).text() for j, h in enumerate(heads)} for i in range(t.rowCount())]
    assert [(r["Clip"], r["A errors"], r["A FP"], r["A missed"], r["B errors"]) for r in table] == [
        ("c1.wav", "2", "1", "1", "0"), ("c2.wav", "0", "0", "0", "1")]
    assert {r["Reference"] for r in table} == {"dataset labels"}

    # PSDS: sed_scores_eval on the same segment scores (dog and bell: the classes with references)
    from sed_scores_eval.base_modules.scores import create_score_dataframe
    from sed_scores_eval.intersection_based import psds

    bounds = np.arange(int(DUR / HOP) + 1) * HOP
    gt = {n: list(ev) for n, ev in STRONG.items()}
    for slot, spans in (("A", A), ("B", B)):
        frames = {n: create_score_dataframe(_probs(s[0])[:, :2].astype(np.float64), bounds, ["dog", "bell"])
                  for n, s in spans.items()}
        for key, params in (("psds1", dict(dtc_threshold=0.7, gtc_threshold=0.7, cttc_threshold=None,
                                           alpha_ct=0.0, alpha_st=1.0, max_efpr=100.0)),
                            ("psds2", dict(dtc_threshold=0.1, gtc_threshold=0.1, cttc_threshold=0.3,
                                           alpha_ct=0.5, alpha_st=1.0, max_efpr=100.0))):
            value, per_class, _, _ = psds(frames, gt, {n: DUR for n in STRONG}, **params)
            report = view.result["models"][slot]
            assert report["overall"][key] == pytest.approx(value, abs=1e-9), (slot, key)
            assert got["All classes"][f"{slot} {key.upper()}"] == f"{value:.3f}"
            for c in ("dog", "bell"):
                assert report["per_class"][c][key] == pytest.approx(per_class[c], abs=1e-9)
    # 8 s of audio: one false positive is 450 per hour, past PSDS's 100 per hour
    assert view.result["models"]["A"]["overall"]["psds1"] == 0.0 < 0.5 < view.result["models"]["B"]["overall"]["psds1"]


def test_clip_list_cells_sort_as_numbers_with_blanks_last(qtbot):
    from PySide6.QtWidgets import QTableWidget

    from mmgui.views.cliplist import SORT_ROLE, Cell

    t = QTableWidget(4, 1)
    qtbot.addWidget(t)
    for i, (text, n) in enumerate([("10 (9 FP, 1 missed)", 10), ("", None), ("9 (9 FP, 0 missed)", 9),
                                   ("2 (1 FP, 1 missed)", 2)]):
        c = Cell(text)
        c.setData(SORT_ROLE, n)
        t.setItem(i, 0, c)
    for order, expected in ((Qt.SortOrder.AscendingOrder, ["2", "9", "10", ""]),
                            (Qt.SortOrder.DescendingOrder, ["10", "9", "2", ""])):
        t.horizontalHeader().setSortIndicator(0, order)
        t.sortItems(0, order)
        assert [t.item(i, 0).text().split(" ")[0] for i in range(4)] == expected


def test_error_flags_on_the_event_rows_and_the_clip_list_sorted_by_errors(qtbot, evaluated):
    from mmgui.annotations.store import Annotation
    from mmgui.views.cliplist import COL_ERRORS

    win, view = evaluated
    doc = win.doc
    pane = win.analysis.events
    assert doc.current.name == "c1.wav"
    assert [k for k, _, _ in pane.lanes] == ["ref", "A", "B"]
    doc.display.set_mark_errors(False)                      # marks are shown on request only
    assert pane.errors == {}
    doc.display.set_mark_errors(True)
    # A on c1: its dog (0.5-1.5 s) hits, its bell at 3.5-4.0 s is a false positive, and the reference
    # bell at 2.0-3.0 s is missed; B finds both
    assert [e[:3] for e in pane.errors["A"]["estimated"]] == [(0.5, 1.5, "dog"), (3.5, 4.0, "bell")]
    assert pane.errors["A"]["false_positive"] == [False, True]
    assert pane.errors["A"]["missed"] == [False, True]
    assert pane.errors["B"]["errors"] == 0
    assert "false positive" in pane._titles[0] and "missed" in pane._titles[0]
    assert pane.readout(3.7, 1.5).endswith(": 3.500–4.000 s, peak d_t 0.95 (false positive)")
    assert "missed 2.000–3.000 s" in pane.readout(2.5, 1.5)

    cl = win.clip_list
    names = lambda: [os.path.basename(p) for p in cl.paths_in_order()]  # noqa: E731
    texts = {cl.table.item(i, 0).text(): cl.table.item(i, COL_ERRORS).text() for i in range(2)}
    assert texts == {"c1.wav": "2 (1 FP, 1 missed)", "c2.wav": "0 (0 FP, 0 missed)"}
    cl.table.horizontalHeader().sectionClicked.emit(COL_ERRORS)     # a click on the header: fewest first
    assert names() == ["c2.wav", "c1.wav"]
    cl.table.horizontalHeader().sectionClicked.emit(COL_ERRORS)     # again: most first
    assert names() == ["c1.wav", "c2.wav"]
    cl.sort_by(COL_ERRORS, Qt.SortOrder.AscendingOrder)
    assert names() == ["c2.wav", "c1.wav"]
    # a click on a sorted row opens that clip (rows are found by path, not by position)
    cl.table.selectRow(0)
    assert doc.current.name == "c2.wav"
    wait_idle(qtbot, win)

    # the annotator's events replace the dataset labels of c2: A's dog (1.0-2.0 s) is now a false
    # positive and the three annotated events are missed (one of a class no model knows) -> 4
    # errors, and the sorted list follows
    _run(qtbot, win, view, 0)
    assert not view.stale
    c2 = doc.current.path
    doc.annotations.add(c2, Annotation(3.0, 3.5, "dog"))
    doc.annotations.add(c2, Annotation(2.5, 3.0, "bell"))
    doc.annotations.add(c2, Annotation(0.0, 0.5, "horse"))
    doc.annotations.add(c2, Annotation(0.0, 1.0, "bell", status="rejected"))   # not a label: left out
    assert view.stale and "Out of date" in view.status.text()
    assert cl.table.item(cl.row_of(c2), COL_ERRORS).text() == "4 (1 FP, 3 missed)"
    assert names() == ["c1.wav", "c2.wav"]
    assert pane.lanes[0][1] == "reference (annotations)"
    assert pane.errors["A"]["missed"] == [True, True, True] and pane.errors["A"]["false_positive"] == [True]
    _run(qtbot, win, view, 0)
    got = view.class_values()
    assert got["All classes"]["Ref. events"] == "3" and got["All classes"]["A event F1"] == "0.000"
    assert got["horse"]["Ref. events"] == "1" and got["horse"]["A event F1"] == got["horse"]["B AP"] == "unknown"
    # c2 alone: bell tagged (AP 1) but never detected: no precision, so no event F1 (sed_eval's rule)
    assert got["bell"]["A AP"] == "1.000" and got["bell"]["A event F1"] == "—"
    assert view.clips.item(0, 1).text() == "annotations"


def test_missing_analyses_are_run_first(qtbot, evaluated, models):
    """B has not analyzed c2: Evaluate starts that analysis (the real model) and evaluates when it is
    done, both models on both clips."""
    win, view = evaluated
    doc = win.doc
    c2 = doc.clips[1].path
    del doc.analyses[(c2, doc.slots["B"])]
    view.scope.setCurrentIndex(1)
    view.result = None
    view.run_button.click()
    assert "Analyzing 1 clip/model pair(s) first" in view.status.text()
    qtbot.waitUntil(lambda: view.result is not None, timeout=60000)
    assert doc.analysis("B", c2) is not None
    assert sorted(os.path.basename(r["clip"]) for r in view.result["clips"]) == ["c1.wav", "c2.wav"]
    assert "3 reference events in 2 clip(s)" in view.status.text()
