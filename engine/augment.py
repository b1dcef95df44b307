"""Training-time augmentation of log-mel batches, batched in torch (``mmnet train --augment LIST``).

The transforms work on the features the training reads from the feature cache, so the cache
stays valid: nothing is recomputed from audio, and no transform loops over frames in Python.

Domain and units. A cached feature is ``f = log(1 + C * P)`` (natural log, ``C`` =
:attr:`engine.features.FeatureConfig.log_gain` = 10000) of the mel-band power ``P`` of a frame
(:mod:`engine.features`). ``P = expm1(f) / C`` is recovered exactly, so gain, filtering,
reverberation and mixing are done on ``P`` (where they are linear) and mapped back; ``f = 0`` is
exact silence. Every transform takes and returns a batch **before** standardization
(:meth:`engine.train.Trainer._batch` standardizes afterwards with the statistics of the
un-augmented training set):

    x        float32 (B, M, T)   features f (B clips, M mel bands, T frames)
    y        float32 (B, K)      clip labels in {0, 1}
    n_valid  int64   (B,)        real frames of each clip; frames t >= n_valid[b] are padding (f = 0)

Padding stays silence after every transform. Transforms (the names of ``--augment``):

    gain     P * 10^(g/10), g uniform in +-gain_db dB per clip: a change of level (exact in f).
    eq       P[m] * 10^(c[m]/10): a smooth random filter curve c (dB) per clip, linear between
             eq_points control points spread evenly over the mel axis, each uniform in +-eq_db.
    pitch    the mel axis shifted by s bands (fractional, linear interpolation, edge bands
             repeated), s uniform in +-pitch_bands. Above 1 kHz the Slaney mel scale is
             logarithmic: with 128 bands to 22.05 kHz one band is a factor 1.033 in frequency
             (0.56 semitone), so 4 bands is about +-2.2 semitones; below 1 kHz a band is a
             constant 15 Hz step. It approximates a pitch change (not a speed change).
    stretch  the time axis scaled by a factor s (duration x s, linear interpolation of f),
             log2(s) uniform in +-log2(stretch); n_valid becomes min(T, (n_valid - 1) * s + 1) and
             the end of a lengthened clip past T frames is cut (a weak label may then name an
             event cut away: keep stretch small).
    reverb   a late-reverberation smear: P convolved along time, in each band, with the causal
             kernel h[0] = 1, h[l] = w * d^l (l >= 1), an exponential decay of 60 dB over RT60
             seconds (d = 10^(-6 * hop_s / RT60)), RT60 uniform in reverb_rt60 (s) and shorter by
             up to reverb_damping at the top band (air and walls absorb high frequencies faster),
             w such that the tail holds 10^(-DRR/10) of the direct power, DRR uniform in
             reverb_drr_db. Only adds power, and only at and after energy already present.
    mix      another clip of the batch (a cyclic derangement of a seeded permutation) added in
             power at r dB (r uniform in mix_db), labels the union (max) of both, n_valid the
             larger. Applied after the per-clip transforms, so the partner is augmented too.
    mask     SpecAugment-style masks: mask_time masks of up to mask_time_frames frames and
             mask_freq masks of up to mask_freq_bands bands per clip, filled with the clip's
             mean f of each band over its real frames (what SpecAugment's zero fill is after
             per-utterance mean normalization). Applied last.

Each transform is applied to a clip with its probability (``AugmentParams.p_<name>``); the batch
is transformed at once (the chosen clips, or all with identity parameters for the others). Order:
pitch and stretch (on f), then gain, eq, reverb and mix in one round trip to P, then mask. Cost on
one CPU thread for a batch of 16 x 128 x 896: about 0.1 s with all seven (a ResNet-ATT training
step of the bundled width takes about 0.5 s).

Determinism: :class:`Augmenter` draws every random number from a ``torch.Generator`` seeded by
(training seed, epoch, batch, rank) alone, never from the global RNG: the same batch of the same
run is augmented identically after ``--resume`` (no RNG state to checkpoint), and turning
augmentation on does not change any other random draw of the training. Validation, test and
``mmnet evaluate`` never call it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

NAMES = ("gain", "eq", "pitch", "stretch", "reverb", "mix", "mask")


@dataclass(frozen=True)
class AugmentParams:
    """Ranges and probabilities of the transforms (units in the names; see the module docstring)."""

    gain_db: float = 8.0
    eq_db: float = 8.0
    eq_points: int = 6
    pitch_bands: float = 4.0
    stretch: float = 1.12                    # duration factor in [1/stretch, stretch]
    reverb_rt60: tuple = (0.2, 1.0)          # seconds
    reverb_drr_db: tuple = (0.0, 12.0)       # direct-to-reverberant power ratio, dB
    reverb_damping: float = 0.5              # RT60 of the top band = (1 - damping) x RT60
    mix_db: tuple = (-8.0, 0.0)              # partner level relative to the clip, dB (power)
    mask_time: int = 2
    mask_time_frames: int = 20
    mask_freq: int = 2
    mask_freq_bands: int = 12
    p_gain: float = 0.8
    p_eq: float = 0.6
    p_pitch: float = 0.5
    p_stretch: float = 0.5
    p_reverb: float = 0.4
    p_mix: float = 0.5
    p_mask: float = 0.5

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def parse_names(spec: str | None) -> tuple[str, ...]:
    """``"gain,eq,reverb"`` -> the names in the canonical order; ``""``/``"none"``/None -> (); ``"all"`` -> NAMES.

    Raises ValueError naming an unknown transform."""
    if spec is None:
        return ()
    parts = [p.strip().lower() for p in str(spec).replace("+", ",").split(",") if p.strip()]
    if parts in ([], ["none"], ["off"]):
        return ()
    if parts == ["all"]:
        return NAMES
    unknown = [p for p in parts if p not in NAMES]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)}; choose from {', '.join(NAMES)} (or all, none)")
    return tuple(n for n in NAMES if n in parts)


# ------------------------------------------------------------------ domains
def to_power(x: torch.Tensor, log_gain: float) -> torch.Tensor:
    """Mel power P from features f = log(1 + C P)."""
    return torch.expm1(x) / log_gain


def from_power(p: torch.Tensor, log_gain: float) -> torch.Tensor:
    """Features f = log(1 + C P) of mel power P (negative rounding errors clamped to 0)."""
    return torch.log1p(p.clamp_min(0) * log_gain)


def _valid_mask(n_valid: torch.Tensor, frames: int) -> torch.Tensor:
    """(B, 1, T) bool, True on real frames."""
    return (torch.arange(frames, device=n_valid.device)[None, :] < n_valid[:, None])[:, None, :]


def _interp(x: torch.Tensor, pos: torch.Tensor, dim: int) -> torch.Tensor:
    """Linear interpolation of x (B, M, T) at fractional positions pos along ``dim`` (pos broadcastable
    to x's shape with size 1 on the other non-batch axis; positions clamped to the axis)."""
    n = x.shape[dim]
    pos = pos.clamp(0, n - 1)
    i0 = pos.floor().long()
    i1 = (i0 + 1).clamp(max=n - 1)
    w = (pos - i0.to(pos.dtype))
    shape = list(x.shape)
    i0, i1, w = (t.expand(shape) for t in (i0, i1, w))
    return torch.gather(x, dim, i0) * (1 - w) + torch.gather(x, dim, i1) * w


# --------------------------------------------------------------- transforms
def gain(x: torch.Tensor, gain_db: torch.Tensor, log_gain: float) -> torch.Tensor:
    """Scale each clip's power by 10^(gain_db/10); gain_db (B,) in dB."""
    return from_power(to_power(x, log_gain) * (10.0 ** (gain_db / 10.0))[:, None, None], log_gain)


def eq(x: torch.Tensor, curve_db: torch.Tensor, log_gain: float) -> torch.Tensor:
    """Filter: each band m of clip b scaled in power by 10^(curve_db[b, m]/10); curve_db (B, M) in dB."""
    return from_power(to_power(x, log_gain) * (10.0 ** (curve_db / 10.0))[:, :, None], log_gain)


def eq_curve(points_db: torch.Tensor, n_mels: int) -> torch.Tensor:
    """(B, P) control values in dB at P evenly spaced mel positions -> (B, n_mels), linear in between."""
    return torch.nn.functional.interpolate(points_db[:, None, :], size=n_mels, mode="linear",
                                           align_corners=True)[:, 0, :]


def pitch(x: torch.Tensor, bands: torch.Tensor) -> torch.Tensor:
    """Shift the mel axis up by ``bands`` (B,) bands (fractional; negative = down): output band m is
    input band m - bands (linear interpolation; the edge band repeated where that falls outside)."""
    m = torch.arange(x.shape[1], device=x.device, dtype=x.dtype)
    return _interp(x, (m[None, :] - bands[:, None])[:, :, None], 1)


def stretch(x: torch.Tensor, n_valid: torch.Tensor, factor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each clip's duration by ``factor`` (B,): output frame t is input frame t / factor
    (linear interpolation). Returns (x, new n_valid = min(T, floor((n_valid - 1) * factor) + 1));
    frames past the new n_valid are silence (0)."""
    frames = x.shape[2]
    t = torch.arange(frames, device=x.device, dtype=x.dtype)
    out = _interp(x, (t[None, :] / factor[:, None])[:, None, :], 2)
    new_valid = torch.clamp(torch.floor((n_valid - 1).to(x.dtype) * factor + 1e-6).long() + 1, 1, frames)
    new_valid = torch.where(n_valid > 0, new_valid, n_valid)
    return out * _valid_mask(new_valid, frames), new_valid


def reverb_kernel(rt60_s: torch.Tensor, drr_db: torch.Tensor, hop_s: float, n_mels: int, damping: float,
                  length: int) -> torch.Tensor:
    """(B, n_mels, length) causal power kernels: h[0] = 1 and h[l] = w d^l, d = 10^(-6 hop_s / RT60_m),
    RT60_m = rt60_s x (1 - damping x m / (n_mels - 1)), w such that sum(h[1:]) = 10^(-drr_db / 10)."""
    frac = torch.linspace(0, 1, n_mels, device=rt60_s.device, dtype=rt60_s.dtype)
    rt = rt60_s[:, None] * (1 - damping * frac[None, :])                       # (B, M) seconds
    d = 10.0 ** (-6.0 * hop_s / rt.clamp_min(1e-3))                            # power decay per frame
    lags = torch.arange(1, length, device=rt60_s.device, dtype=rt60_s.dtype)
    tail = d[:, :, None] ** lags[None, None, :]                                # (B, M, length-1)
    tail = tail * (10.0 ** (-drr_db / 10.0))[:, None, None] / tail.sum(-1, keepdim=True).clamp_min(1e-12)
    return torch.cat([torch.ones_like(tail[:, :, :1]), tail], dim=-1)


def reverb(x: torch.Tensor, kernel: torch.Tensor, n_valid: torch.Tensor, log_gain: float) -> torch.Tensor:
    """Convolve each clip's band powers along time with ``kernel`` (B, M, L), causally; the tail
    past a clip's last real frame is dropped (padding stays silence)."""
    return from_power(reverb_power(to_power(x, log_gain), kernel, n_valid), log_gain)


def reverb_power(p: torch.Tensor, kernel: torch.Tensor, n_valid: torch.Tensor) -> torch.Tensor:
    """:func:`reverb` on mel power P (B, M, T)."""
    b, m, frames = p.shape
    length = kernel.shape[-1]
    padded = torch.nn.functional.pad(p.reshape(1, b * m, frames), (length - 1, 0))
    weight = kernel.reshape(b * m, 1, length).flip(-1)
    out = torch.nn.functional.conv1d(padded, weight, groups=b * m).reshape(b, m, frames)
    return out * _valid_mask(n_valid, frames)


def mix(x: torch.Tensor, y: torch.Tensor, n_valid: torch.Tensor, partner: torch.Tensor, level_db: torch.Tensor,
        active: torch.Tensor, log_gain: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where ``active`` (B,) bool: clip b plus clip partner[b] at level_db[b] dB, in power; labels the
    union, n_valid the larger. Inactive clips are returned unchanged."""
    p, y, n_valid = mix_power(to_power(x, log_gain), y, n_valid, partner, level_db, active)
    return torch.where(active[:, None, None], from_power(p, log_gain), x), y, n_valid


def mix_power(p: torch.Tensor, y: torch.Tensor, n_valid: torch.Tensor, partner: torch.Tensor,
              level_db: torch.Tensor, active: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`mix` on mel power P (B, M, T)."""
    scale = torch.where(active, 10.0 ** (level_db / 10.0), torch.zeros_like(level_db))
    p = p + scale[:, None, None] * p[partner]
    y = torch.where(active[:, None], torch.maximum(y, y[partner]), y)
    n_valid = torch.where(active, torch.maximum(n_valid, n_valid[partner]), n_valid)
    return p, y, n_valid


def spans_mask(start: torch.Tensor, width: torch.Tensor, size: int) -> torch.Tensor:
    """(B, size) bool: True inside any of the spans [start, start + width) given as (B, n) tensors."""
    i = torch.arange(size, device=start.device)[None, None, :]
    return ((i >= start[:, :, None]) & (i < (start + width)[:, :, None])).any(dim=1)


def mask(x: torch.Tensor, n_valid: torch.Tensor, time_mask: torch.Tensor, freq_mask: torch.Tensor) -> torch.Tensor:
    """Fill time_mask (B, T) frames and freq_mask (B, M) bands with each band's mean over the clip's
    real frames; padding stays silence."""
    valid = _valid_mask(n_valid, x.shape[2]).to(x.dtype)
    mean = (x * valid).sum(-1, keepdim=True) / valid.sum(-1, keepdim=True).clamp_min(1)   # (B, M, 1)
    hit = time_mask[:, None, :] | freq_mask[:, :, None]
    return torch.where(hit, mean.expand_as(x), x) * valid


# ----------------------------------------------------------------- sampler
def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0] >> 1)


class Augmenter:
    """The training batches' augmentation: ``Augmenter("gain,eq,mix", seed, feature_config)``.

    ``aug(x, y, n_valid, epoch=e, batch=b, rank=r)`` returns the augmented (x, y, n_valid) (shapes
    in the module docstring), its random draws a function of (seed, e, b, r) only.
    """

    def __init__(self, names: str | tuple | list, seed: int, feature_config, params: AugmentParams | None = None):
        self.names = parse_names(names if isinstance(names, str) else ",".join(names))
        self.seed = int(seed)
        self.log_gain = float(feature_config.log_gain)
        self.hop_s = float(feature_config.frame_hop_s)
        self.params = params or AugmentParams()

    def __bool__(self) -> bool:
        return bool(self.names)

    def describe(self) -> dict:
        """What the model file's provenance records."""
        return {"transforms": list(self.names), "params": self.params.to_dict(), "domain":
                "log(1 + C mel power) features before standardization (engine/augment.py)"}

    def __call__(self, x: torch.Tensor, y: torch.Tensor, n_valid: torch.Tensor, *, epoch: int, batch: int,
                 rank: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if not self.names:
            return x, y, n_valid
        g = torch.Generator().manual_seed(_seed(self.seed, 0xA06, epoch, batch, rank))
        pr = self.params
        b, m, frames = x.shape
        dev, dt = x.device, x.dtype
        n_valid = n_valid.to(dev).long()

        def uniform(lo, hi, *shape):
            return (lo + (hi - lo) * torch.rand(*(shape or (b,)), generator=g)).to(dev, dt)

        def chosen(p):
            return (torch.rand(b, generator=g) < p).to(dev)

        # every name draws its numbers whether or not it is on: a transform's draws do not depend
        # on which other transforms are selected (an ablation changes one thing)
        on = {n: n in self.names for n in NAMES}
        sel = {n: chosen(getattr(pr, f"p_{n}")) & on[n] for n in NAMES}
        zero = torch.zeros(b, device=dev, dtype=dt)
        draws = {
            "gain": uniform(-pr.gain_db, pr.gain_db),
            "eq": uniform(-pr.eq_db, pr.eq_db, b, pr.eq_points),
            "pitch": uniform(-pr.pitch_bands, pr.pitch_bands),
            "stretch": uniform(-math.log2(pr.stretch), math.log2(pr.stretch)),
            "rt60": uniform(*pr.reverb_rt60), "drr": uniform(*pr.reverb_drr_db),
            "perm": torch.randperm(b, generator=g).to(dev), "mix_db": uniform(*pr.mix_db),
            "t_w": torch.randint(0, pr.mask_time_frames + 1, (b, pr.mask_time), generator=g).to(dev),
            "t_s": torch.rand(b, pr.mask_time, generator=g).to(dev, dt),
            "f_w": torch.randint(0, pr.mask_freq_bands + 1, (b, pr.mask_freq), generator=g).to(dev),
            "f_s": torch.rand(b, pr.mask_freq, generator=g).to(dev, dt),
        }
        # feature-domain resampling first, on the chosen clips only
        if on["pitch"] and sel["pitch"].any():
            i = sel["pitch"].nonzero()[:, 0]
            x = x.index_copy(0, i, pitch(x[i], draws["pitch"][i]))
        if on["stretch"] and sel["stretch"].any():
            i = sel["stretch"].nonzero()[:, 0]
            xs, nv = stretch(x[i], n_valid[i], 2.0 ** draws["stretch"][i])
            x, n_valid = x.index_copy(0, i, xs), n_valid.index_copy(0, i, nv)
        # then the power-domain ones, in one round trip: gain and eq (one scale per band), reverb, mix
        power_on = [n for n in ("gain", "eq", "reverb", "mix") if on[n] and sel[n].any()]
        if power_on:
            p = to_power(x, self.log_gain)
            db = torch.zeros(b, m, device=dev, dtype=dt)
            if "gain" in power_on:
                db = db + torch.where(sel["gain"], draws["gain"], zero)[:, None]
            if "eq" in power_on:
                db = db + eq_curve(draws["eq"], m) * sel["eq"][:, None]
            if "gain" in power_on or "eq" in power_on:
                p = p * (10.0 ** (db / 10.0))[:, :, None]
            if "reverb" in power_on:
                i = sel["reverb"].nonzero()[:, 0]
                length = int(math.ceil(pr.reverb_rt60[1] / self.hop_s)) + 1
                kern = reverb_kernel(draws["rt60"][i], draws["drr"][i], self.hop_s, m, pr.reverb_damping, length)
                p = p.index_copy(0, i, reverb_power(p[i], kern, n_valid[i]))
            if "mix" in power_on and b > 1:
                perm = draws["perm"]
                partner = torch.empty_like(perm)
                partner[perm] = perm.roll(-1)      # a cycle through the permutation: nobody mixes with itself
                p, y, n_valid = mix_power(p, y, n_valid, partner, draws["mix_db"], sel["mix"])
            x = from_power(p, self.log_gain)
        if on["mask"]:
            t_w = draws["t_w"] * sel["mask"][:, None]
            f_w = draws["f_w"] * sel["mask"][:, None]
            t_start = (draws["t_s"] * (n_valid[:, None] - t_w + 1).clamp_min(1)).long()
            f_start = (draws["f_s"] * (m - f_w + 1)).long()
            x = mask(x, n_valid, spans_mask(t_start, t_w, frames), spans_mask(f_start, f_w, m))
        return x, y, n_valid
