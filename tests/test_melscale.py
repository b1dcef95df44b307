"""engine.melscale against librosa: the filterbank and band frequencies the features use."""
import numpy as np
import pytest

from engine import melscale


@pytest.mark.parametrize("sr, n_fft, n_mels, fmin, fmax", [
    (44100, 2048, 128, 0.0, None),        # the paper's features
    (44100, 2048, 128, 50.0, 16000.0),
    (16000, 1024, 64, 0.0, None),
    (22050, 512, 40, 125.0, 7500.0),
    (8000, 256, 32, 0.0, 3999.0),
])
def test_filterbank_and_frequencies_equal_librosas(sr, n_fft, n_mels, fmin, fmax):
    import librosa

    ours = melscale.mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.shape == ref.shape == (n_mels, 1 + n_fft // 2) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-9)
    top = sr / 2 if fmax is None else fmax
    np.testing.assert_allclose(melscale.mel_frequencies(n_mels + 2, fmin, top),
                               librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=top), rtol=1e-12)


def test_the_scale_by_hand():
    """Linear below 1 kHz (200/3 Hz a mel), 27 mels per factor 6.4 above; the two inverses agree."""
    assert melscale.hz_to_mel(0.0) == 0.0
    assert melscale.hz_to_mel(200.0) == pytest.approx(3.0)
    assert melscale.hz_to_mel(1000.0) == pytest.approx(15.0)
    assert melscale.hz_to_mel(6400.0) == pytest.approx(42.0)
    hz = np.array([0.0, 10.0, 999.0, 1000.0, 1001.0, 8000.0, 22050.0])
    np.testing.assert_allclose(melscale.mel_to_hz(melscale.hz_to_mel(hz)), hz, rtol=1e-12, atol=1e-9)
