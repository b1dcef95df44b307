"""The bundled demo sets: a demo clip and the pair of models (A, B) trained for its classes.

- ``realsounds``: models trained on real recordings from Debian's data packages (A: ResNet-ATT with
  Xu et al.'s per-class attention, B: M&mnet-MS; the seed paper's ResNet-ATT is bundled too) and a demo clip
  mixed from such recordings (docs/realsounds.md): the app's default where its files are present,
  so that an annotator's or a microphone's real sounds meet models that have heard real sounds.
- ``synthetic``: the synthetic benchmark's models and demo clip (``mmnet synth``); the teaching
  lessons use these, and ``python main.py --demo synthetic`` opens them.

Headless (no Qt): paths only. ``ASSETS`` is read at each call so tests can point it elsewhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ORDER = ("realsounds", "synthetic")      # the default is the first complete set


@dataclass(frozen=True)
class DemoSet:
    key: str
    label: str          # shown after the method in model names ("ResNet-ATT · real sounds")
    title: str          # shown in the File ▸ Open demo menu
    folder: Path        # the set's model files (top level of the folder only)
    clip: Path          # the demo clip
    stems: tuple[str, str] = ("resnet-att", "mmnet-ms")     # file stems of the models for slots A and B

    def model_files(self) -> list[Path]:
        """The set's .safetensors files, the A/B pair first."""
        if not self.folder.is_dir():
            return []
        order = {stem: i for i, stem in enumerate(self.stems)}
        return sorted(self.folder.glob("*.safetensors"), key=lambda p: (order.get(p.stem, len(order)), p.name))

    def pair(self) -> tuple[Path, Path]:
        return tuple(self.folder / f"{stem}.safetensors" for stem in self.stems)

    @property
    def complete(self) -> bool:
        """The clip and both models of the pair exist."""
        return self.clip.exists() and all(p.exists() for p in self.pair())


def demo_sets() -> dict[str, DemoSet]:
    return {
        "realsounds": DemoSet("realsounds", "real sounds", "Real-sound demo (models trained on real recordings)",
                              ASSETS / "models" / "realsounds", ASSETS / "demo" / "realsounds-demo.wav",
                              # A: Xu et al.'s per-class ATT, the best real-sound model (docs/results.md, section 4)
                              stems=("resnet-att-class", "mmnet-ms")),
        "synthetic": DemoSet("synthetic", "synthetic", "Synthetic demo (the benchmark's models, as in teaching)",
                             ASSETS / "models", ASSETS / "demo" / "demo.wav"),
    }


def default_set() -> DemoSet:
    """The first complete set of ``ORDER``; the synthetic one when none is complete."""
    sets = demo_sets()
    return next((sets[k] for k in ORDER if sets[k].complete), sets["synthetic"])


def get(key: str | None) -> DemoSet:
    """The set named ``key`` (None: the default). KeyError names the known ones."""
    if key is None:
        return default_set()
    sets = demo_sets()
    if key not in sets:
        raise KeyError(f"unknown demo set {key!r}; choose from {', '.join(sets)}")
    return sets[key]


def set_of(path: str | os.PathLike) -> DemoSet | None:
    """The set whose model folder holds ``path`` directly, else None."""
    parent = Path(os.path.abspath(path)).parent
    return next((s for s in demo_sets().values() if Path(os.path.abspath(s.folder)) == parent), None)
