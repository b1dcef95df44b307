"""Label formats: round trips per format (every field it carries), bad lines reported with
their line numbers while the rest imports, format guessing, crowsetta cross-checks, and
``mmnet convert`` through real subprocesses."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import DatasetError
from engine.labels import Event, guess_format, read_labels, select_events, write_labels, write_per_clip

ROOT = Path(__file__).resolve().parents[1]

# times and frequencies chosen to need exact decimal round trips
EVENTS = [
    Event(0.101385, 0.36752, "dog bark", 300.5, 4000.25, clip="a.wav"),
    Event(1.0, 1.0, "click", clip="a.wav"),                           # a point label
    Event(2.5, 7.123456789, "speech", None, 8000.0, clip="a.wav"),  # only the high edge
    Event(3.25, 4.0, "alarm", 1000.0, 2000.0, clip="a.wav"),
]


def _key(e: Event, fields):
    return tuple(round(getattr(e, f), 9) if isinstance(getattr(e, f), float) else getattr(e, f) for f in fields)


def _same(a, b, fields):
    assert [_key(e, fields) for e in a] == [_key(e, fields) for e in b]


def test_dcase_strong_round_trip_and_bad_lines(tmp_path):
    events = EVENTS + [Event(0.5, 1.5, "dog bark", clip="b.wav")]
    p = tmp_path / "strong.tsv"
    assert write_labels(p, events) == "dcase"
    r = read_labels(p)
    assert r.format == "dcase" and r.ok
    _same(r.events, events, ("clip", "onset", "offset", "label"))
    bad = tmp_path / "bad.tsv"
    bad.write_text("filename\tonset\toffset\tevent_label\n"
                   "a.wav\t0.5\t1.0\tdog\n"
                   "a.wav\tzero\t1.0\tdog\n"        # line 3: onset not a number
                   "a.wav\t2.0\t1.0\tcat\n"         # line 4: offset before onset
                   "b.wav\t\t\t\n"                  # a clip without events
                   "b.wav\t1\t2\tcat\textra\n"      # line 6: too many fields
                   "c.wav\t3\t4\tbird\n")
    r = read_labels(bad)
    assert [p.line for p in r.problems] == [3, 4, 6]
    assert "onset" in r.problems[0].reason and str(bad) in str(r.problems[0])
    assert [(e.clip, e.label) for e in r.events] == [("a.wav", "dog"), ("c.wav", "bird")]
    assert r.clips == ["b.wav"]


def test_dcase_weak_round_trip(tmp_path):
    events = [Event(None, None, "dog", clip="a.wav"), Event(None, None, "cat", clip="a.wav"),
              Event(None, None, "bird", clip="b.wav")]
    p = tmp_path / "weak.tsv"
    assert write_labels(p, events) == "dcase-weak"
    assert p.read_text().splitlines()[0] == "filename\tevent_labels"
    r = read_labels(p)
    assert r.format == "dcase-weak"
    _same(r.events, events, ("clip", "onset", "offset", "label"))
    # strong events collapse to the clip's labels; weak ones cannot become strong
    write_labels(tmp_path / "w2.tsv", EVENTS, "dcase-weak")
    assert read_labels(tmp_path / "w2.tsv").events[0].label == "dog bark"
    with pytest.raises(ValueError, match="no onset"):
        write_labels(tmp_path / "s.tsv", events, "dcase")


def test_audacity_round_trip_keeps_frequency_lines(tmp_path):
    p = tmp_path / "a.txt"
    assert write_labels(p, EVENTS) == "audacity"
    text = p.read_text().splitlines()
    assert text[0] == "0.101385\t0.36752\tdog bark" and text[1] == "\\\t300.5\t4000.25"
    assert text[2] == "1.0\t1.0\tclick"                       # no frequency line for this label
    assert text[4] == "\\\t-1.0\t8000.0"                      # Audacity's -1 for an undefined edge
    r = read_labels(p, clip="a.wav")
    assert r.format == "audacity" and r.ok
    _same(r.events, EVENTS, ("clip", "onset", "offset", "label", "low_hz", "high_hz"))


def test_audacity_bad_lines(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("1.5\t2.25\tdog\n\\\t300\t4000\n"
                 "xx\t3\tbad\n\\\t1\t2\n"        # line 3 bad; its frequency line 4 goes with it
                 "\\\t5\t6\n"                    # line 5: a frequency line without a label
                 "3\t4\tcat\n\\\t900\t100\n"     # line 7: high below low (the label is kept)
                 "5\t6\tbird\n")
    r = read_labels(p)
    assert [x.line for x in r.problems] == [3, 5, 7]
    assert [(e.label, e.low_hz, e.high_hz) for e in r.events] == [
        ("dog", 300.0, 4000.0), ("cat", None, None), ("bird", None, None)]


def test_raven_round_trip_keeps_columns(tmp_path):
    src = tmp_path / "t.selections.txt"
    src.write_text("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
                   "Delta Time (s)\tAnnotation\tPeak Freq (Hz)\n"
                   "1\tSpectrogram 1\t1\t0.5\t1.25\t300\t4000\t0.75\tdog\t1200.5\n"
                   "1\tWaveform 1\t1\t0.5\t1.25\t300\t4000\t0.75\tdog\t1200.5\n"   # same selection, other view
                   "2\tSpectrogram 1\t2\t2.000000001\t3\t100.25\t200\t1.0\tcat\t150\n"
                   "3\tSpectrogram 1\t1\tbad\t3\t100\t200\t1.0\tcat\t150\n")        # line 5: bad time
    r = read_labels(src)
    assert r.format == "raven" and [x.line for x in r.problems] == [5]
    assert [(e.onset, e.offset, e.low_hz, e.high_hz, e.label) for e in r.events] == [
        (0.5, 1.25, 300.0, 4000.0, "dog"), (2.000000001, 3.0, 100.25, 200.0, "cat")]
    assert r.events[1].extra == {"Selection": "2", "View": "Spectrogram 1", "Channel": "2",
                                 "Delta Time (s)": "1.0", "Peak Freq (Hz)": "150"}
    out = tmp_path / "o.selections.txt"
    write_labels(out, [e.with_(score=0.75, source="mmnet-ms") for e in r.events])
    back = read_labels(out)
    assert back.ok
    _same(back.events, [e.with_(score=0.75, source="mmnet-ms") for e in r.events],
          ("onset", "offset", "low_hz", "high_hz", "label", "score", "source", "clip"))
    assert back.events[1].extra == r.events[1].extra          # Channel 2, measurements kept
    header = out.read_text().splitlines()[0].split("\t")
    assert header[:7] == ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)",
                          "Low Freq (Hz)", "High Freq (Hz)"]


def test_raven_multi_file_table(tmp_path):
    src = tmp_path / "m.selections.txt"
    src.write_text("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\t"
                   "Begin File\tFile Offset (s)\tSpecies\n"
                   "1\tSpectrogram 1\t1\t12.5\t13\t100\t200\tb.wav\t2.5\tEATO\n")
    e = read_labels(src).events[0]
    assert (e.clip, e.onset, e.offset, e.label) == ("b.wav", 2.5, 3.0, "EATO")
    write_labels(tmp_path / "o.selections.txt", [e])
    e2 = read_labels(tmp_path / "o.selections.txt").events[0]
    assert (e2.clip, e2.onset, e2.offset, e2.label) == ("b.wav", 2.5, 3.0, "EATO")


def test_sonic_visualiser_boxes_regions_instants(tmp_path):
    p = tmp_path / "boxes.sv.csv"
    assert write_labels(p, [e for e in EVENTS if e.has_frequency], clip="a.wav") == "sv"
    assert p.read_text().splitlines()[0] == "START,END,EXTENT START,EXTENT END,LABEL"
    r = read_labels(p, clip="a.wav")
    assert r.format == "sv" and r.ok
    want = [e.with_(low_hz=e.low_hz or 0.0) for e in EVENTS if e.has_frequency]
    _same(r.events, want, ("onset", "offset", "label", "low_hz", "high_hz"))
    regions = [Event(0.5, 1.5, "a, with comma", score=0.875), Event(2.0, 2.5, "b")]
    p2 = tmp_path / "regions.sv.csv"
    write_labels(p2, regions)
    r2 = read_labels(p2)
    assert [(e.onset, e.offset, e.label, e.extra["value"]) for e in r2.events] == [
        (0.5, 1.5, "a, with comma", "0.875"), (2.0, 2.5, "b", "0")]
    write_labels(tmp_path / "again.sv.csv", r2.events)        # the value survives a second trip
    assert (tmp_path / "again.sv.csv").read_text() == p2.read_text()
    # what SV itself exports: no header, RealTime strings; and instants; and a bad row
    raw = tmp_path / "export.csv"
    raw.write_text("0.500000000,440,1.250000000,note A\n1.000000000,0,x,bad\n2.000000000,0,0.5\n")
    r3 = read_labels(raw, "sv")
    assert [x.line for x in r3.problems] == [2]
    assert [(e.onset, e.offset, e.label) for e in r3.events] == [(0.5, 1.75, "note A"), (2.0, 2.5, "")]
    inst = tmp_path / "inst.csv"
    inst.write_text("TIME,LABEL\n1.5,beat\n2.5,beat\n")
    assert [(e.onset, e.offset) for e in read_labels(inst).events] == [(1.5, 1.5), (2.5, 2.5)]


def test_plain_csv_keeps_every_field(tmp_path):
    events = [e.with_(score=0.5 + i / 10, source="annotator" if i % 2 else "mmnet-ms.safetensors")
              for i, e in enumerate(EVENTS)] + [Event(None, None, "rain", clip="b.wav"),
                                               Event(1, 2, "x", clip="b.wav", extra={"note": "check, later"})]
    p = tmp_path / "all.csv"
    assert write_labels(p, events) == "csv"
    r = read_labels(p)
    assert r.format == "csv" and r.ok
    fields = ("clip", "onset", "offset", "label", "low_hz", "high_hz", "score", "source")
    _same(r.events, events, fields)
    assert r.events[-1].extra == {"note": "check, later"}
    bad = tmp_path / "bad.csv"
    bad.write_text("label,onset_s,offset_s,notated_path\nA,0.1,0.2,x.wav\nB,nope,0.3,x.wav\nC,0.5,0.4,x.wav\n"
                   "D,1,2,x.wav\n")
    r = read_labels(bad)
    assert [x.line for x in r.problems] == [3, 4]
    assert [(e.label, e.clip) for e in r.events] == [("A", "x.wav"), ("D", "x.wav")]
    (tmp_path / "nohdr.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DatasetError, match="header"):
        read_labels(tmp_path / "nohdr.csv", "csv")


def test_guess_selection_per_clip_and_folder(tmp_path):
    events = EVENTS + [Event(0.5, 1.0, "dog bark", clip="sub/b.wav")]
    paths = write_per_clip(tmp_path / "out", events, "audacity")
    assert sorted(p.name for p in paths) == ["a.txt", "sub__b.txt"]
    merged = read_labels(tmp_path / "out")
    assert len(merged.events) == len(events) and {e.clip for e in merged.events} == {"a", "sub__b"}
    with pytest.raises(ValueError, match="one clip"):
        write_labels(tmp_path / "x.txt", events)
    sel = select_events(events, labels=["dog bark"])
    assert len(sel) == 2 and select_events(events, indices=[1])[0].label == "click"
    assert guess_format(tmp_path / "x.selections.txt", for_writing=True) == "raven"
    write_labels(tmp_path / "r.selections.txt", EVENTS)
    (tmp_path / "r.txt").write_bytes((tmp_path / "r.selections.txt").read_bytes())
    assert guess_format(tmp_path / "r.txt") == "raven"        # told by its header, not its name
    with pytest.raises(DatasetError):
        read_labels(tmp_path / "missing.tsv")


# ------------------------------------------------------------------------ crowsetta cross-checks
def _example(name):
    crowsetta = pytest.importorskip("crowsetta")  # a test dependency: only these tests need it
    return Path(crowsetta.__file__).parent / "examples" / name


def test_crowsetta_reads_our_audacity_and_raven_files_the_same(tmp_path):
    import warnings

    pytest.importorskip("crowsetta")

    from crowsetta.formats.bbox import AudBBox, Raven

    boxes = [e for e in EVENTS if e.low_hz is not None]
    write_labels(tmp_path / "a.txt", boxes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = AudBBox.from_file(tmp_path / "a.txt").df
    assert list(df.begin_time_s) == [e.onset for e in boxes]
    assert list(df.high_freq_hz) == [e.high_hz for e in boxes] and list(df.label) == [e.label for e in boxes]
    write_labels(tmp_path / "r.selections.txt", [e.with_(clip=None) for e in boxes])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rdf = Raven.from_file(tmp_path / "r.selections.txt", annot_col="Annotation").df
    assert list(rdf.begin_time_s) == [e.onset for e in boxes]
    assert list(rdf.low_freq_hz) == [e.low_hz for e in boxes] and list(rdf.annotation) == [e.label for e in boxes]


def test_crowsetta_example_files_read_the_same_here():
    import warnings

    pytest.importorskip("crowsetta")

    from crowsetta.formats.bbox import AudBBox, Raven

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aud = AudBBox.from_file(_example("spinetail.txt")).df
        rav = Raven.from_file(_example("Recording_1_Segment_02.Table.1.selections.txt"), annot_col="Species").df
    ours = read_labels(_example("spinetail.txt"))
    assert ours.format == "audacity" and ours.ok
    assert [(e.onset, e.offset, e.label, e.low_hz, e.high_hz) for e in ours.events] == list(
        zip(aud.begin_time_s, aud.end_time_s, aud.label, aud.low_freq_hz, aud.high_freq_hz))
    ours = read_labels(_example("Recording_1_Segment_02.Table.1.selections.txt"))   # CRLF, Species column
    assert ours.format == "raven" and ours.ok
    assert [(e.onset, e.offset, e.label, e.low_hz, e.high_hz) for e in ours.events] == list(
        zip(rav.begin_time_s, rav.end_time_s, rav.annotation, rav.low_freq_hz, rav.high_freq_hz))
    seq = read_labels(_example("bird1.csv"))                  # crowsetta's generic-seq CSV
    assert seq.format == "csv" and seq.ok and seq.events[0].clip.endswith(".wav")


# ------------------------------------------------------------------------------ mmnet convert
def _mmnet(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_mmnet_convert_subprocess(tmp_path):
    src = tmp_path / "a.txt"
    write_labels(src, EVENTS)
    p = _mmnet("convert", src, tmp_path / "a.selections.txt", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    r = read_labels(tmp_path / "a.selections.txt")
    _same(r.events, EVENTS, ("onset", "offset", "label", "low_hz", "high_hz"))
    # Audacity -> DCASE needs a clip name; --clip gives it
    p = _mmnet("convert", src, tmp_path / "a.tsv", "--clip", "a.wav", "--label", "dog bark", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "a.tsv").read_text().splitlines()[1] == "a.wav\t0.101385\t0.36752\tdog bark"
    # bad lines: reported with line numbers on stderr, the rest converted; --strict fails
    bad = tmp_path / "bad.tsv"
    bad.write_text("filename\tonset\toffset\tevent_label\na.wav\t1\t2\tdog\na.wav\tx\t2\tdog\nb.wav\t3\t4\tcat\n")
    p = _mmnet("convert", bad, tmp_path / "out.csv", "--strict", cwd=tmp_path)
    assert p.returncode == 1 and f"{bad}:3:" in p.stderr and "1 bad lines" in p.stderr
    assert len(read_labels(tmp_path / "out.csv").events) == 2     # the rest is converted
    # explicit formats, per clip output, and clear errors
    p = _mmnet("convert", tmp_path / "out.csv", tmp_path / "per", "--to", "sv", "--per-clip", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (tmp_path / "per").iterdir()) == ["a.sv.csv", "b.sv.csv"]
    p = _mmnet("convert", tmp_path / "out.csv", tmp_path / "x.txt", cwd=tmp_path)
    assert p.returncode == 2 and "one clip" in p.stderr and "Traceback" not in p.stderr
