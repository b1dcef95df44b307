"""Rebuild the teaching mode's lesson clips: a short event inside a long one (assets/teaching/).

    .venv/bin/python scripts/make_teaching_clips.py [--out assets/teaching] [--check]

Each clip is 5 s at 44.1 kHz, 16-bit mono (441 KB), mixed with the synthetic benchmark's own
sound generators (``engine.data.synth``: ``render_event`` and its pink-noise background), so
the bundled demo models (trained on that benchmark) know both classes: pink noise at -38 dBFS
RMS, the long event from 0.2 s at -26 dBFS RMS over its extent (at most 4.6 s), the short event
from 2.3 s at -24 dBFS (at most 0.8 s), then scaled down if the peak passes 0.98. The same seed
gives the same samples. Beside each WAV, ``<stem>_strong.tsv`` holds the exact event times (the
app reads it as the clip's reference labels). ``--check`` prints, for the two bundled models,
the short event's final clip probability against its threshold and the share of the model's
pooling attention that falls on the short event (measured with ``engine.explain``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.synth import BACKGROUNDS, F32, render_event  # noqa: E402

SR = 44100
DURATION = 5.0
# name: (long class, short class, seed), chosen among 6 pairs x 8 seeds so that one clip shows
# M&mnet-MS recalling the short event that ResNet-ATT misses and the other the reverse
LESSONS = {
    "lesson-clink-in-vacuum": ("vacuum_cleaner", "glass_clink", 2),
    "lesson-bark-in-siren": ("siren", "dog_bark", 3),
}
LONG_AT, SHORT_AT = 0.2, 2.3


def make(long_cls: str, short_cls: str, seed: int):
    """(samples float32 (N,), [(onset s, offset s, label)]) of one lesson clip."""
    rng = np.random.default_rng(seed)
    n = int(DURATION * SR)
    mix = BACKGROUNDS["pink"](rng, n, SR) * F32(10 ** (-38 / 20))
    events = []
    for cls, at, max_s, db in ((long_cls, LONG_AT, 4.6, -26), (short_cls, SHORT_AT, 0.8, -24)):
        x = render_event(cls, rng, SR, max_s=max_s)
        a = int(at * SR)
        mix[a:a + len(x)] += x * F32(10 ** (db / 20))
        events.append((a / SR, (a + len(x)) / SR, cls))
    peak = float(np.abs(mix).max())
    if peak > 0.98:
        mix *= F32(0.98 / peak)
    return mix.astype(np.float32), events


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (lg, sh, seed) in LESSONS.items():
        samples, events = make(lg, sh, seed)
        wav = out / f"{name}.wav"
        sf.write(wav, samples, SR, subtype="PCM_16")
        rows = "".join(f"{wav.name}\t{a:.6f}\t{b:.6f}\t{c}\n" for a, b, c in events)
        (out / f"{name}_strong.tsv").write_text("filename\tonset\toffset\tevent_label\n" + rows)
        paths.append(wav)
    return paths


def check(paths: list[Path]) -> None:
    import engine
    from engine.explain import explain

    for wav in paths:
        lg, sh, _ = LESSONS[wav.stem]
        rows = [r.split("\t") for r in (wav.parent / f"{wav.stem}_strong.tsv").read_text().splitlines()[1:]]
        on, off = next((float(r[1]), float(r[2])) for r in rows if r[3] == sh)
        for m in ("mmnet-ms", "resnet-att"):
            les = explain(engine.load_model(ROOT / "assets" / "models" / f"{m}.safetensors", device="cpu"),
                          str(wav), labels=[lg, sh])
            c = les.class_index(sh)
            final = les.ensemble if les.ensemble is not None else les.clip_probs
            print(f"{wav.name} {m:10s} {sh}: p={final[c]:.3f} thr={les.thresholds[c]:.3f} "
                  f"recalled={les.recalls(sh)} attention on it={les.primary.share_inside(on, off, c):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "assets" / "teaching"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    paths = write(Path(args.out))
    for p in paths:
        print(p, p.stat().st_size, "bytes")
    if args.check:
        check(paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
