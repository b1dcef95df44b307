"""The real-sound recipe's reader, screening and mixer on tiny fixtures (no download).

A tiny .deb is built with ``dpkg-deb --build`` (skipped where dpkg-deb is absent); it holds
WAV files, a Qt resource container with an OGG inside, an OpenTTD sound container (.cat) with
WAVs inside and a DEP-5 copyright file.
"""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.data import load_dataset
import importlib
rs_build = importlib.import_module("engine.data.realsounds.build")
from engine.data.realsounds.catfile import CatError, cat_files
from engine.data.realsounds.debs import dep5_license, deb_filename, iter_sounds
from engine.data.realsounds.mixer import make_mixture
from engine.data.realsounds.rcc import RccError, rcc_files
from engine.data.realsounds.screen import max_ncc, measure, screen, split_at_gaps, trim

SR = 44100
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")


def _wav(x: np.ndarray, sr: int = SR, fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype="VORBIS" if fmt == "OGG" else "PCM_16")
    return buf.getvalue()


def _rcc(files: dict[str, bytes], compress: set[str] = frozenset()) -> bytes:
    """A version-1 Qt resource container: root -> dir 'snd' -> files."""
    names, data = bytearray(), bytearray()

    def add_name(n: str) -> int:
        off = len(names)
        names.extend(struct.pack(">HI", len(n), 0) + n.encode("utf-16-be"))
        return off

    items = sorted(files)
    nodes = [struct.pack(">IHII", 0, 2, 1, 1),                       # root: 1 child at index 1
             struct.pack(">IHII", add_name("snd"), 2, len(items), 2)]  # dir: children from index 2
    for n in items:
        raw = files[n]
        flags = 0
        if n in compress:
            raw, flags = struct.pack(">I", len(raw)) + zlib.compress(raw), 1
        doff = len(data)
        data.extend(struct.pack(">I", len(raw)) + raw)
        nodes.append(struct.pack(">IHHHI", add_name(n), flags, 0, 0, doff))
    tree = b"".join(nodes)
    head = 20
    return (b"qres" + struct.pack(">IIII", 1, head, head + len(tree), head + len(tree) + len(data))
            + tree + bytes(data) + bytes(names))


def _cat(entries: list[tuple[str, str, bytes]]) -> bytes:
    """An OpenTTD sound container (new format): (description, file name, WAV bytes) per entry,
    each followed by zero padding and its name record, as OpenSFX writes them."""
    bodies = []
    for desc, name, wav in entries:
        d = desc.encode()
        bodies.append((bytes([len(d)]) + d + wav, bytes(7) + bytes([len(name) + 1]) + name.encode() + b"\0"))
    pos, table, blob = 8 * len(entries), b"", b""
    for entry, tail in bodies:
        table += struct.pack("<II", pos | 0x80000000, len(entry))
        blob += entry + tail
        pos += len(entry) + len(tail)
    return table + blob


def _tone(rng, f, dur, sr=SR):
    t = np.arange(int(dur * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * f * t) * np.hanning(len(t)) + 0.01 * rng.standard_normal(len(t))).astype(
        np.float32)


def _bark_series(rng, f, n=3):
    parts = []
    for _ in range(n):
        parts += [_tone(rng, f, 0.2), np.zeros(int(0.3 * SR), np.float32)]
    return np.concatenate(parts)


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: nobody
License: GPL-2+

Files: src/activities/x/resource/*.ogg
Copyright: somebody
License: CC0-1.0

Files: lib/y/*
Copyright: somebody else
License: MIT
"""


def _make_deb(tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp / "pkg"
    snd = root / "usr/share/testsounds"
    snd.mkdir(parents=True)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("Package: rs-fixture\nVersion: 1.0-1\nArchitecture: all\n"
                                         "Maintainer: t <t@t>\nDescription: fixture\n")
    doc = root / "usr/share/doc/rs-fixture"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    long_rec = _tone(rng, 440, 2.0)
    (snd / "beepA1.wav").write_bytes(_wav(_bark_series(rng, 900)))
    (snd / "beepB.wav").write_bytes(_wav(_bark_series(rng, 1300)))
    (snd / "beepC.wav").write_bytes(_wav(_bark_series(rng, 1700)))
    (snd / "humA.wav").write_bytes(_wav(long_rec))
    (snd / "humA_cut.wav").write_bytes(_wav(long_rec[SR // 2: SR + SR // 4]))   # a cut of humA: same original
    (snd / "humB.wav").write_bytes(_wav(_tone(rng, 300, 2.5)))
    (snd / "silent.wav").write_bytes(_wav(np.zeros(SR, np.float32)))
    (snd / "lowrate.wav").write_bytes(_wav(_tone(rng, 500, 1.0, 8000), 8000))
    for k in range(3):
        (snd / f"noise{k}.wav").write_bytes(_wav((0.05 * rng.standard_normal(3 * SR)).astype(np.float32)))
    rcc = _rcc({"humC.ogg": _wav(_tone(rng, 200, 2.2), fmt="OGG"), "readme.txt": b"hello"},
               compress={"readme.txt"})
    (snd / "res.rcc").write_bytes(rcc)
    (snd / "set.cat").write_bytes(_cat([("Hum D. By someone.", "src/wav/s_01.wav", _wav(_tone(rng, 250, 2.1))),
                                        ("Empty.", "src/wav/s_02.wav", b""),
                                        ("Hum D again.", "src/wav/s_03.wav", _wav(_tone(rng, 260, 1.9)))]))
    deb = tmp / deb_filename("rs-fixture", "1.0-1")
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


def test_rcc_reader_reads_plain_and_zlib_entries():
    blob = _rcc({"a.wav": b"RIFFxxxx", "b.txt": b"hello" * 10}, compress={"b.txt"})
    files = dict(rcc_files(blob))
    assert files == {"/snd/a.wav": b"RIFFxxxx", "/snd/b.txt": b"hello" * 10}
    with pytest.raises(RccError):
        list(rcc_files(b"nope" + bytes(40)))


def test_dep5_license_takes_last_matching_stanza():
    assert dep5_license(COPYRIGHT, "src/activities/x/resource/cat.ogg") == "CC0-1.0"
    assert dep5_license(COPYRIGHT, "usr/share/other.wav") == "GPL-2+"
    assert dep5_license(COPYRIGHT, "usr/lib/y/a.wav") == "MIT"               # glob matched by its tail
    assert dep5_license(COPYRIGHT, "usr/lib/y/a.wav", anchored=True) == "GPL-2+"  # whole path: only '*'
    assert dep5_license("free text, no stanzas", "a.wav") is None


def test_cat_reader_names_entries_and_skips_empty_ones():
    rng = np.random.default_rng(4)
    a, b = _wav(_tone(rng, 300, 0.5)), _wav(_tone(rng, 500, 0.4))
    files = list(cat_files(_cat([("A. License: CC0.", "src/wav/a_00.wav", a), ("Nothing.", "src/wav/a_01.wav", b""),
                                 ("B.", "src/wav/a_02.wav", b)])))
    assert files == [("src/wav/a_00.wav", a, "A. License: CC0."), ("src/wav/a_02.wav", b, "B.")]
    with pytest.raises(CatError):
        list(cat_files(b"\x09\x00\x00\x80" + bytes(20)))


def test_screening_trim_split_and_duplicates():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.zeros(SR // 2, np.float32), _bark_series(rng, 800, 3)])
    t = trim(x, SR)
    assert len(t) < len(x) - SR // 3                     # leading silence removed
    parts = split_at_gaps(t, SR)
    assert len(parts) == 3 and all(0.1 < len(p) / SR < 0.3 for p in parts)
    assert screen(measure(np.zeros(SR, np.float32), SR, SR)) == "silent"
    assert "Hz" in screen(measure(_tone(rng, 400, 1.0), SR, 8000))
    clipped = np.clip(4 * _tone(rng, 400, 1.0), -1, 1)
    assert screen(measure(clipped, SR, SR)).startswith("clipped")
    assert screen(measure(_tone(rng, 400, 1.0), SR, SR)) == ""
    a = _tone(rng, 440, 2.0)
    assert max_ncc(a, a[SR // 3: SR]) > 0.99
    assert max_ncc(a, _tone(rng, 1234, 0.7)) < 0.5


def test_mixture_labels_are_exact_and_distinct():
    rng = np.random.default_rng(3)
    ev = {"beep": [_tone(rng, 1000, 0.3)], "hum": [_tone(rng, 200, 12.0)]}
    bg = [(0.02 * rng.standard_normal(SR)).astype(np.float32)]
    for i in range(20):
        x, placed, _ = make_mixture(np.random.default_rng(i), ev, bg, SR, 10.0, augment_events=(i % 2 == 0))
        assert x.shape == (10 * SR,) and x.dtype == np.float32 and np.abs(x).max() <= 0.98 + 1e-6
        labels = [p[2] for p in placed]
        assert len(labels) == len(set(labels))
        for on, off, lab in placed:
            assert 0 <= on < off <= 10.0
            if lab == "hum":
                assert off - on <= 9.0 + 1e-6           # a long recording is cut to 90 % of the clip


@needs_dpkg
def test_reader_streams_files_and_rcc_out_of_a_deb(tmp_path):
    deb = _make_deb(tmp_path)
    got = dict(iter_sounds(deb, [r"testsounds/beep", r"res\.rcc!/snd/.*\.ogg$"],
                           also=lambda p: p.endswith("/copyright")))
    assert "usr/share/testsounds/beepA1.wav" in got and "usr/share/testsounds/humA.wav" not in got
    assert "usr/share/testsounds/res.rcc!/snd/humC.ogg" in got
    cat = dict(iter_sounds(deb, [r"set\.cat!/src/wav/s_0[13]\.wav$"]))
    assert sorted(cat) == ["usr/share/testsounds/set.cat!/src/wav/s_01.wav", "usr/share/testsounds/set.cat!/src/wav/s_03.wav"]
    assert got["usr/share/doc/rs-fixture/copyright"].decode() == COPYRIGHT
    x, sr = sf.read(io.BytesIO(got["usr/share/testsounds/res.rcc!/snd/humC.ogg"]))
    assert sr == SR and abs(len(x) / sr - 2.2) < 0.05


@needs_dpkg
def test_build_writes_a_loadable_dataset_with_unseen_test_and_licenses(tmp_path, monkeypatch):
    deb = _make_deb(tmp_path)
    S = r"^usr/share/testsounds/"
    monkeypatch.setattr(rs_build, "PACKAGES", {"rs-fixture": ("1.0-1", "GPL-2+")})
    monkeypatch.setattr(rs_build, "EVENT_RULES", {
        "beep": [("rs-fixture", S + r"beep[A-C]\d?\.wav$")],
        "hum": [("rs-fixture", S + r"hum[AB](?:_cut)?\.wav$"), ("rs-fixture", S + r"res\.rcc!/snd/humC\.ogg$"),
                ("rs-fixture", S + r"(?:silent|lowrate)\.wav$"),
                ("rs-fixture", S + r"set\.cat!/src/wav/s_0[13]\.wav$", "rs-fixture:humD")]})
    monkeypatch.setattr(rs_build, "BACKGROUND_RULES", {"noise": [("rs-fixture", S + r"noise(?P<g>\d)\.wav$")]})
    monkeypatch.setattr(rs_build, "SPLIT_AT_GAPS", {"beep"})
    out = tmp_path / "ds"
    summary = rs_build.build(out, tmp_path / "cache", seed=5, n_train=6, n_validation=2, n_test=4, n_test_seen=2,
                             debs={"rs-fixture": deb}, log=lambda m: None)
    assert summary["classes"] == {"beep": "transient", "hum": "long"}
    meta = __import__("json").loads((out / "metadata/realsounds.json").read_text())
    assert any({"usr/share/testsounds/humA.wav", "usr/share/testsounds/humA_cut.wav"} == {a, b}
               for a, b, _ in meta["duplicates_merged"])
    assert set(meta["rejected"]) == {"usr/share/testsounds/silent.wav", "usr/share/testsounds/lowrate.wav"}
    rows = [line.split("\t") for line in (out / "metadata/recordings.tsv").read_text().splitlines()[1:]]
    pool = {r[2]: r[5] for r in rows if r[0] != "bg:noise" and not r[-1]}
    assert pool["usr/share/testsounds/humA.wav"] == pool["usr/share/testsounds/humA_cut.wav"]  # one original
    group = {r[2]: r[4] for r in rows}
    cat = "usr/share/testsounds/set.cat!/src/wav/s_0"
    assert group[cat + "1.wav"] == group[cat + "3.wav"] == "rs-fixture:humD"   # the rule names their original
    assert {"train", "unseen"} <= set(pool.values())
    lic = (out / "LICENSES.tsv").read_text().splitlines()
    assert lic[0].split("\t")[:6] == ["file", "label", "package", "version", "path_in_package", "license"]
    assert any("humC.ogg" in line and "\tGPL-2+\t" in line for line in lic)
    assert not any("silent.wav" in line for line in lic)
    # test events (and backgrounds) come only from unseen originals, the other splits' only from training ones
    pool_of = {(r[2], r[3]): r[5] for r in rows}
    for split, want in (("test", "unseen"), ("train", "train"), ("validation", "train"), ("test_seen", "train")):
        src = [line.split("\t") for line in (out / f"metadata/{split}_sources.tsv").read_text().splitlines()[1:]]
        assert src and all(pool_of[(s[5], s[6])] == want for s in src)
    for split, n in (("train", 6), ("validation", 2), ("test", 4), ("test_seen", 2)):
        ds = load_dataset(out, split)
        assert len(ds.items) == n and not ds.problems
        if split != "train":
            assert ds.strong_events() is not None
    again = tmp_path / "ds2"
    rs_build.build(again, tmp_path / "cache", seed=5, n_train=6, n_validation=2, n_test=4, n_test_seen=2,
                   debs={"rs-fixture": deb}, log=lambda m: None)
    assert (out / "audio/test/test_00001.wav").read_bytes() == (again / "audio/test/test_00001.wav").read_bytes()
