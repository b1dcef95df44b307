"""engine/augment.py: each transform's hand-checkable effect on log(1 + C P) features, determinism,
and a tiny training run with augmentation (provenance, validation batches untouched)."""
import math

import pytest
import torch

from engine import augment as A
from engine.features import FeatureConfig

C = 10000.0
FC = FeatureConfig()


def _batch(b=4, m=16, t=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, m, t, generator=g) * 12 + 1
    y = (torch.rand(b, 5, generator=g) < 0.4).float()
    return x, y, torch.full((b,), t, dtype=torch.long)


def test_power_round_trip_and_silence():
    x, _, _ = _batch()
    assert torch.allclose(A.from_power(A.to_power(x, C), C), x, atol=1e-5)
    assert A.from_power(torch.zeros(3), C).eq(0).all()


def test_gain_scales_power_exactly_and_is_a_constant_shift_where_loud():
    x, _, _ = _batch()
    x[:, :, :2] = 0.0                                    # silent frames stay silent
    db = torch.tensor([6.0, -6.0, 0.0, 10.0])
    out = A.gain(x, db, C)
    ratio = torch.expm1(out[:, :, 2:]) / torch.expm1(x[:, :, 2:])
    assert torch.allclose(ratio, (10 ** (db / 10))[:, None, None].expand_as(ratio), rtol=1e-4)
    assert out[:, :, :2].eq(0).all()
    loud = x > 8                                         # log(1 + C P) ~ log C P: + ln(10) g / 10
    shift = (out - x)[0][loud[0]]
    assert torch.allclose(shift, torch.full_like(shift, math.log(10) * 0.6), atol=1e-3)


def test_eq_curve_passes_its_control_points_and_filters_per_band():
    pts = torch.tensor([[0.0, 6.0, -6.0]])
    curve = A.eq_curve(pts, 5)
    assert torch.allclose(curve, torch.tensor([[0.0, 3.0, 6.0, 0.0, -6.0]]))
    x, _, _ = _batch(b=1, m=5)
    out = A.eq(x, curve, C)
    ratio = torch.expm1(out) / torch.expm1(x)
    assert torch.allclose(ratio, (10 ** (curve / 10))[:, :, None].expand_as(ratio), rtol=1e-4)


def test_pitch_shifts_the_mel_axis():
    x = torch.zeros(2, 10, 3)
    x[:, 4, :] = 5.0
    out = A.pitch(x, torch.tensor([2.0, -1.5]))
    assert out[0, 6].eq(5).all() and out[0].sum() == 15          # whole band moved up by 2
    assert torch.allclose(out[1, 2], torch.full((3,), 2.5)) and torch.allclose(out[1, 3], torch.full((3,), 2.5))
    assert torch.equal(A.pitch(x, torch.zeros(2)), x)


def test_stretch_scales_time_and_the_valid_frames():
    x = torch.zeros(2, 3, 20)
    x[:, :, 4] = 7.0
    n = torch.tensor([10, 20])
    out, nv = A.stretch(x, n, torch.tensor([2.0, 0.5]))
    assert nv.tolist() == [19, 10]
    assert out[0, :, 8].eq(7).all() and out[0, :, 7].eq(3.5).all()   # frame 4 -> 8, interpolated around
    assert out[1, :, 2].eq(7).all() and out[1, :, 10:].eq(0).all()   # halved: 4 -> 2, padding silent
    same, nv1 = A.stretch(x, n, torch.ones(2))
    assert torch.equal(same[1], x[1]) and nv1.tolist() == [10, 20]


def test_reverb_only_adds_energy_at_and_after_onsets():
    x = torch.zeros(2, 8, 60)
    x[:, :, 20:23] = 10.0                                 # a 3-frame event at frame 20
    kern = A.reverb_kernel(torch.tensor([0.5, 0.2]), torch.tensor([3.0, 3.0]), FC.frame_hop_s, 8, 0.5, 50)
    assert kern.shape == (2, 8, 50) and kern[:, :, 0].eq(1).all()
    assert torch.allclose(kern[:, :, 1:].sum(-1), torch.full((2, 8), 10 ** -0.3))
    out = A.reverb(x, kern, torch.tensor([60, 50]), C)
    assert out[:, :, :20].eq(0).all()                     # nothing before the onset
    assert (out >= x - 1e-5)[:, :, :50].all()             # power only added
    assert (out[:, :, 23:50] > 0).all()                   # a decaying tail after the event
    assert (out[0, :, 30] > out[1, :, 30]).all()          # the longer RT60 rings longer
    assert (out[0, 0, 30] > out[0, 7, 30])                # high bands decay faster (damping)
    assert out[1, :, 50:].eq(0).all()                     # padding stays silent


def test_mix_sums_power_and_takes_the_union_of_labels():
    x, y, n = _batch(b=3)
    n = torch.tensor([40, 30, 40])
    x[1, :, 30:] = 0
    partner = torch.tensor([1, 2, 0])
    active = torch.tensor([True, True, False])
    out, yo, no = A.mix(x, y, n, partner, torch.tensor([0.0, -3.0, 0.0]), active, C)
    p = A.to_power(x, C)
    assert torch.allclose(A.to_power(out[0], C), p[0] + p[1], rtol=1e-4)
    assert torch.allclose(A.to_power(out[1], C), p[1] + 10 ** -0.3 * p[2], rtol=1e-4)
    assert torch.equal(out[2], x[2]) and torch.equal(yo[2], y[2])
    assert torch.equal(yo[0], torch.maximum(y[0], y[1])) and torch.equal(yo[1], torch.maximum(y[1], y[2]))
    assert no.tolist() == [40, 40, 40]


def test_masks_fill_their_ranges_with_the_band_mean_and_nothing_else():
    x, _, _ = _batch(b=2, m=6, t=12)
    n = torch.tensor([12, 8])
    x[1, :, 8:] = 0
    tm = A.spans_mask(torch.tensor([[2, 20], [0, 0]]), torch.tensor([[3, 0], [0, 0]]), 12)
    fm = A.spans_mask(torch.tensor([[0], [4]]), torch.tensor([[0], [2]]), 6)
    assert tm[0].tolist() == [False, False, True, True, True] + [False] * 7 and not tm[1].any()
    out = A.mask(x, n, tm, fm)
    mean0, mean1 = x[0].mean(-1), x[1, :, :8].mean(-1)
    assert torch.allclose(out[0, :, 2:5], mean0[:, None].expand(6, 3))
    assert torch.equal(out[0, :, :2], x[0, :, :2]) and torch.equal(out[0, :, 5:], x[0, :, 5:])
    assert torch.allclose(out[1, 4:, :8], mean1[4:, None].expand(2, 8)) and torch.equal(out[1, :4], x[1, :4])
    assert out[1, :, 8:].eq(0).all()


def test_parse_names():
    assert A.parse_names("") == () and A.parse_names("none") == () and A.parse_names(None) == ()
    assert A.parse_names("mix, gain") == ("gain", "mix") and A.parse_names("all") == A.NAMES
    with pytest.raises(ValueError, match="speed"):
        A.parse_names("gain,speed")


def test_augmenter_is_deterministic_shape_preserving_and_independent_of_the_global_rng():
    x, y, n = _batch(b=8, m=128, t=120)
    aug = A.Augmenter("all", 3, FC)
    torch.manual_seed(0)
    a = aug(x.clone(), y.clone(), n.clone(), epoch=2, batch=5)
    state = torch.get_rng_state()
    torch.manual_seed(99)
    b = aug(x.clone(), y.clone(), n.clone(), epoch=2, batch=5)
    c = aug(x.clone(), y.clone(), n.clone(), epoch=2, batch=6)
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    assert a[0].shape == x.shape and a[1].shape == y.shape and a[2].shape == n.shape
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[0], x)
    assert (a[1] >= y).all() and torch.isfinite(a[0]).all() and (a[0] >= 0).all()
    torch.manual_seed(0)
    aug(x, y, n, epoch=0, batch=0)
    assert torch.equal(torch.get_rng_state(), state)      # the global RNG is not drawn from
    off = A.Augmenter("", 3, FC)
    assert not off and all(u is v for u, v in zip(off(x, y, n, epoch=0, batch=0), (x, y, n)))


def test_a_transform_draws_the_same_numbers_whichever_others_are_on():
    """gain and eq both multiply the power: with both on, the power ratio is the product of the ratios
    of each alone, which holds only if each draws the same numbers either way."""
    x, y, n = _batch(b=6, m=32, t=50)
    p = A.to_power(x, C)
    ratio = {s: A.to_power(A.Augmenter(s, 1, FC)(x, y, n, epoch=0, batch=1)[0], C) / p
             for s in ("gain", "eq", "gain,eq")}
    assert torch.allclose(ratio["gain,eq"], ratio["gain"] * ratio["eq"], rtol=1e-3)
    chosen = (ratio["gain"] - 1).abs().amax(dim=(1, 2)) > 1e-3
    assert chosen.any() and (~chosen).any()                # p_gain picks some clips, not all


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from engine.data.synth import generate
    from engine.train import TrainConfig, Trainer

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("aug")
    generate(root / "data", n_train=16, n_test=2, n_validation=8, seed=3, duration=3.0)
    cfg = TrainConfig(data=str(root / "data"), method="mmnet", epochs=2, batch_size=8, lr=0.05, seed=2,
                      model=dict(channels=[16, 16, 16], stem=16, fc_hidden=32, micro_hidden=16, heads=4),
                      cache_dir=str(root / "cache"), workers=1, augment="gain,eq,pitch,stretch,reverb,mix,mask")
    trainer = Trainer(cfg, root / "run", verbose=False)
    summary = trainer.run()
    return trainer, summary, root


def test_a_tiny_training_run_with_augmentation(tiny_run):
    from engine.modelfile import read_metadata

    trainer, summary, root = tiny_run
    assert summary["best_epoch"] >= 1
    prov = read_metadata(root / "run" / "model.safetensors")["provenance"]
    assert prov["config"]["augment"] == "gain,eq,pitch,stretch,reverb,mix,mask"
    assert prov["augment"]["transforms"] == list(A.NAMES) and prov["augment"]["params"]["gain_db"] == 8.0
    idx = [0, 1, 2, 3]
    # validation batches are never augmented; training batches are (given their batch number)
    v1 = trainer._batch(trainer.val_set, idx, epoch=0)
    v2 = trainer._batch(trainer.val_set, idx, epoch=0)
    raw = torch.stack([trainer.val_set.get(i, epoch=0)[0] for i in idx])
    assert torch.equal(v1[0], v2[0]) and torch.allclose(v1[0], trainer.normalizer_apply(raw))
    t_plain = trainer._batch(trainer.train_set, idx, epoch=0)
    t_aug = trainer._batch(trainer.train_set, idx, epoch=0, augment_batch=0)
    assert not torch.equal(t_plain[0], t_aug[0])


def test_an_unknown_augmentation_is_a_training_error(tmp_path):
    from engine.train import TrainConfig, Trainer, TrainingError

    with pytest.raises(TrainingError, match="unknown augmentation"):
        Trainer(TrainConfig(data=str(tmp_path), augment="gain,wobble"), tmp_path / "run")
