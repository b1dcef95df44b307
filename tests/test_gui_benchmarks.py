"""The Compare tab's "Benchmark results" (mmgui/benchmarks): real widgets, offscreen, on a small
comparison file written here (numbers checked by hand in tests/test_comparison.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine import comparison as cmp

from .test_comparison import write_runs
from .test_gui_display import doc  # noqa: F401  (the Document fixture; the lead may move it to conftest.py)


@pytest.fixture
def results(tmp_path):
    """Two benchmarks: "mixed" (resnet-mean, resnet-att, mmnet-authors at seeds 0-2) and "one"."""
    c = cmp.Comparison()
    for regime, title in (("mixed", "Several events"), ("one", "One event")):
        b = cmp.benchmark_from_folders(write_runs(tmp_path / regime, regime), regime, title, read_models=False)
        b.baseline = "resnet-att"
        c.put(b)
    c.benchmarks[1].systems.pop("mmnet-authors")
    return cmp.save(c, tmp_path / "results.json")


def make_view(qtbot, doc, path):
    from mmgui.benchmarks.view import BenchmarkView

    view = BenchmarkView(doc, path=path)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitUntil(lambda: view.results is not None, timeout=10000)
    return view


def by_name(view) -> dict[str, dict]:
    return {r["name"]: r for r in view.table.rows()}


def test_table_chart_and_verdict_show_the_files_numbers(qtbot, doc, results):
    view = make_view(qtbot, doc, results)
    assert [view.bench_box.itemText(i) for i in range(view.bench_box.count())] == ["Several events", "One event"]
    assert view.baseline_box.currentData() == "resnet-att"
    rows = by_name(view)
    assert list(rows) == ["resnet-mean", "resnet-att", "mmnet-authors"]
    mm = rows["mmnet-authors"]
    assert mm["System"] == "M&mnet (authors' loss)"          # method + options in words
    assert (mm["mAP"], mm["seg F1"], mm["event F1"]) == ("65.7 ± 12.9", "70.0 ± 0.0", "28.3 ± 10.4")
    assert rows["resnet-att"]["mAP"] == "60.0 ± 10.0" and rows["resnet-att"]["CPU s"] == "66"
    assert rows["resnet-mean"]["event F1"] == "-" and rows["resnet-mean"]["CPU s"] == "-"
    # the chart: event F1 by default, mean and std per system, the seeds as dots
    drawn = {n: (m, s, d) for n, m, s, d in view.chart.bars}
    assert set(drawn) == {"resnet-att", "mmnet-authors"}
    assert drawn["mmnet-authors"][0] == pytest.approx(28.333, abs=1e-3)
    assert drawn["mmnet-authors"][2] == pytest.approx([20.0, 25.0, 40.0])
    # the verdict, generated: the focus defaults to the first M&mnet system
    assert view.verdict.text().startswith("M&mnet (authors' loss) vs ResNet-ATT (3 seeds, paired) — ahead at every "
                                          "seed: seg F1 +10.0 ± 0.0; event F1 +8.3 ± 2.9 (p 0.04); mAP +5.7 ± 4.0")
    # sorting by mAP, descending: mmnet-authors first
    view.table.sortItems(2 + list(cmp.METRICS).index("mAP"), Qt.SortOrder.DescendingOrder)
    assert [r["name"] for r in view.table.rows()] == ["mmnet-authors", "resnet-att", "resnet-mean"]
    # clicking a cell of the mAP column charts mAP
    view.table.setCurrentCell(0, 2)
    assert view.chart_metric == "mAP" and view.chart.bars[0][0] == "resnet-mean"
    # the other benchmark
    view.bench_box.setCurrentIndex(1)
    assert list(by_name(view)) == ["resnet-att", "resnet-mean"]        # still sorted by mAP
    assert view.verdict.text().startswith("ResNet-mean vs ResNet-ATT (3 seeds, paired)")


def test_baseline_switch_and_paired_mode(qtbot, doc, results):
    view = make_view(qtbot, doc, results)
    view.set_mode("paired")
    rows = by_name(view)
    assert rows["resnet-att"]["mAP"] == "baseline"
    assert rows["mmnet-authors"]["mAP"] == "+5.7 ± 4.0 [3/3]" and rows["mmnet-authors"]["seeds"] == "0, 1, 2"
    assert rows["resnet-mean"]["mAP"] == "−20.0 ± 10.0 [0/3]" and rows["resnet-mean"]["event F1"] == "-"
    drawn = {n: (m, d) for n, m, _, d in view.chart.bars}
    assert drawn["mmnet-authors"][0] == pytest.approx(8.333, abs=1e-3) and "resnet-att" not in drawn
    view.set_baseline("mmnet-authors")
    rows = by_name(view)
    assert rows["mmnet-authors"]["mAP"] == "baseline" and rows["resnet-att"]["mAP"] == "−5.7 ± 4.0 [0/3]"
    assert rows["resnet-att"]["event F1"] == "−8.3 ± 2.9 [0/3]"
    assert view.verdict.text().startswith("ResNet-ATT vs M&mnet (authors' loss) (3 seeds, paired) — behind at every "
                                          "seed: seg F1 −10.0 ± 0.0; event F1 −8.3 ± 2.9 (p 0.04)")


def test_the_systems_of_the_slot_models_are_highlighted(qtbot, doc, results, tiny_model_file):
    from mmgui import theme

    first = Path(tiny_model_file("mmnet", variant="authors-code", micro_hidden=0))
    authors = str(first.rename(first.with_name("authors.safetensors")))
    plain = tiny_model_file("mmnet")                                    # the paper's loss: no such system
    att = tiny_model_file("resnet-att")
    view = make_view(qtbot, doc, results)
    assert not any(r["tinted"] for r in view.table.rows())
    assert "empty" in view.slots_note.text()
    doc.set_slot("A", att)
    doc.set_slot("B", authors)
    rows = by_name(view)
    assert (rows["resnet-att"]["slot"], rows["mmnet-authors"]["slot"], rows["resnet-mean"]["slot"]) == ("A", "B", "")
    assert rows["resnet-att"]["tinted"] and rows["mmnet-authors"]["tinted"] and not rows["resnet-mean"]["tinted"]
    row = [r["name"] for r in view.table.rows()].index("mmnet-authors")
    assert view.table.item(row, 3).background().color().name() == theme.SLOT_COLOURS["B"]
    assert "B: " in view.slots_note.text() and "= M&mnet (authors' loss)" in view.slots_note.text()
    # the verdict is about B's system against the baseline, A's is the baseline here
    assert view.verdict.text().startswith("M&mnet (authors' loss) vs ResNet-ATT")
    doc.set_slot("B", plain)
    rows = by_name(view)
    assert rows["mmnet-authors"]["slot"] == "" and not rows["mmnet-authors"]["tinted"]
    assert "no system of this benchmark has its method and options" in view.slots_note.text()
    # the chart colours the bars of the slots' systems
    view.set_mode("mean")
    assert view.chart.bars and view.chart.plot_item.items


def test_a_bad_file_says_why_and_keeps_the_results(qtbot, doc, results, tmp_path):
    view = make_view(qtbot, doc, results)
    before = view.table.rows()
    messages = []
    doc.message.connect(lambda text, level: messages.append((level, text)))
    for bad, reason in ((tmp_path / "none.json", "no such file"), (results.parent / "x.json", "not JSON")):
        if bad.name == "x.json":
            bad.write_text("{oops")
        view.open_path(bad)
        qtbot.waitUntil(view.status.isVisible, timeout=10000)
        assert reason in view.status.text() and "Still showing results.json" in view.status.text()
        assert view.table.rows() == before and view.source == str(results)
        assert messages[-1][0] == "error"
        view.status.hide()
    view.open_path(results)                                   # a good file again: the message goes
    qtbot.waitUntil(lambda: messages[-1][0] == "info", timeout=10000)
    assert not view.status.isVisible()


def test_compare_tab_builds_the_page_on_first_show_from_the_bundled_file(qtbot, doc):
    from mmgui.views.compare import CompareView

    view = CompareView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 640)
    view.show()
    assert view.benchmarks is None and view.currentWidget() is view.clip
    page = view.show_results()
    assert page is not None and view.benchmarks is page
    qtbot.waitUntil(lambda: page.results is not None, timeout=10000)
    keys = [page.bench_box.itemData(i) for i in range(page.bench_box.count())]
    assert keys == ["mixed", "one", "one-long", "real", "real-bundled"]
    assert page.baseline_box.currentData() == "resnet-att"
    assert "(bundled)" in page.info.text()
    assert page.verdict.text().startswith("M&mnet (authors' loss, z-scored a_t) vs ResNet-ATT (3 seeds, paired) — ")
    page.bench_box.setCurrentIndex(keys.index("real-bundled"))     # the bundled real-sound models' recipe
    assert page.verdict.text().startswith("ResNet-ATT-class vs ResNet-ATT (3 seeds, paired) — ahead at every seed: ")
    assert page.minimumSizeHint().width() <= 480          # fits the tab without a scroll bar at 1280 px


def test_rows_keep_the_files_order_until_a_header_is_clicked(qtbot, doc, results, tiny_model_file):
    view = make_view(qtbot, doc, results)
    doc.set_slot("A", tiny_model_file("resnet-att"))
    assert [r["name"] for r in view.table.rows()] == ["resnet-mean", "resnet-att", "mmnet-authors"]


def test_benchmarks_with_one_system_or_none_show_without_failing(qtbot, doc, tmp_path):
    one = cmp.System("resnet-att", "resnet-att", runs=[cmp.SeedRun(0, {"mAP": 0.5})])
    path = cmp.save(cmp.Comparison([cmp.Benchmark("a", systems={"resnet-att": one}), cmp.Benchmark("empty")]),
                    tmp_path / "small.json")
    view = make_view(qtbot, doc, path)
    assert [r["mAP"] for r in view.table.rows()] == ["50.0"] and view.chart.bars == []     # event F1: none
    assert view.verdict.text() == "Fewer than two systems: nothing to compare."
    view.set_mode("paired")
    assert view.table.rows()[0]["mAP"] == "baseline" and view.chart.bars == []
    view.bench_box.setCurrentIndex(1)
    assert view.table.rows() == [] and view.chart.bars == [] and view.baseline_box.count() == 0
    assert view.verdict.text() == "Fewer than two systems: nothing to compare."
