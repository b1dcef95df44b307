import numpy as np
import pytest
import torch

from engine.features import FeatureConfig, LogMelStream, Normalizer, log_mel, log_mel_batch
from tests.conftest import realistic_audio


def librosa_reference(y, cfg: FeatureConfig):
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                         n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, center=True,
                                         pad_mode="constant", power=2.0)
    return np.log1p(cfg.log_gain * mel)


def test_defaults_follow_the_paper():
    cfg = FeatureConfig()
    assert (cfg.sr, cfg.n_fft, cfg.hop_length, cfg.n_mels) == (44100, 2048, 492, 128)
    assert cfg.clip_frames == 896
    assert abs(cfg.frame_hop_s - 0.011156) < 1e-5
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg


def test_log_mel_matches_librosa(audio_3s):
    cfg = FeatureConfig()
    ours = log_mel(audio_3s, cfg.sr).numpy()
    ref = librosa_reference(audio_3s, cfg)
    assert ours.shape == ref.shape == (128, 1 + len(audio_3s) // 492)
    assert ours.dtype == np.float32
    # float32 STFT against librosa's: rounding only matters in bands whose power is
    # tiny next to the clip's loudest components (lowest mel bands, leakage only)
    diff = np.abs(ours - ref)
    assert np.max(diff) < 0.05
    assert np.quantile(diff, 0.999) < 5e-3
    assert np.mean(diff) < 1e-3
    # in the power domain the error is float32 rounding relative to the loudest band
    np.testing.assert_allclose(np.expm1(ours), np.expm1(ref), atol=1e-5 * np.expm1(ref).max(), rtol=1e-3)


def test_batch_of_variable_lengths_matches_single_clips():
    clips = [realistic_audio(s, seed=i) for i, s in enumerate((1.0, 2.5, 0.3))]
    n = max(len(c) for c in clips)
    batch = np.zeros((3, n), np.float32)
    for i, c in enumerate(clips):
        batch[i, :len(c)] = c
    # garbage past each clip's length must be ignored
    batch[0, len(clips[0]):] = 1.0
    feats, frames = log_mel_batch(batch, lengths=[len(c) for c in clips])
    for i, c in enumerate(clips):
        single = log_mel(c, 44100)
        assert frames[i] == single.shape[1]
        assert torch.allclose(feats[i, :, :frames[i]], single, atol=1e-4)


def test_resampling_and_config():
    y = realistic_audio(1.0, sr=22050)
    feats = log_mel(y, 22050)
    assert feats.shape == (128, 1 + 44100 // 492)
    small = FeatureConfig(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    f2 = log_mel(y, 22050, small)
    assert f2.shape == (40, 101)


def test_stream_equals_whole_signal(audio_3s):
    whole = log_mel(audio_3s, 44100)
    stream = LogMelStream()
    parts = [stream.feed(audio_3s[i:i + 7777]) for i in range(0, len(audio_3s), 7777)] + [stream.finish()]
    streamed = torch.cat(parts, dim=1)
    assert streamed.shape == whole.shape
    assert torch.allclose(streamed, whole, atol=1e-5)


def test_normalizer_fit_and_apply():
    rng = np.random.default_rng(0)
    a = rng.normal(3.0, 2.0, (8, 500)).astype(np.float32)
    b = rng.normal(3.0, 2.0, (8, 300)).astype(np.float32)
    norm = Normalizer.fit([a, b])
    both = np.concatenate([a, b], axis=1)
    np.testing.assert_allclose(norm.mean, both.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(norm.std, both.std(axis=1), rtol=1e-4)
    z = norm.apply(torch.from_numpy(both)).numpy()
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=1), 1, atol=1e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_matches_cpu(audio_3s):
    cpu, _ = log_mel_batch(audio_3s)
    gpu, _ = log_mel_batch(torch.from_numpy(audio_3s).cuda())
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-3)
