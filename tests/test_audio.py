import numpy as np
import pytest
import soundfile as sf

from engine.audio import AudioError, as_clip, info, iter_blocks, load_audio
from tests.conftest import realistic_audio


def test_any_rate_and_channels_are_converted(tmp_path):
    y = realistic_audio(1.0, sr=22050)
    stereo = np.stack([y, 0.5 * y], axis=1)
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, 22050)
    clip = load_audio(path, 44100)
    assert clip.sr == 44100 and clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    assert abs(clip.duration - 1.0) < 1e-3
    assert info(path).channels == 2 and info(path).sr == 22050


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    (b"", "empty"),
    (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 4, "not a readable audio file"),
])
def test_bad_files_give_clear_errors(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=reason):
        load_audio(path)


def test_non_finite_and_silent_files(tmp_path):
    path = tmp_path / "nan.wav"
    y = np.zeros(1000, np.float32)
    y[10] = np.nan
    sf.write(path, y, 44100, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)
    empty = tmp_path / "nosamples.wav"
    sf.write(empty, np.zeros(0, np.float32), 44100)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(empty)
    with pytest.raises(AudioError):
        list(iter_blocks(empty, 44100))


def test_streamed_blocks_equal_whole_file(tmp_path):
    y = realistic_audio(5.0, sr=48000)
    path = tmp_path / "a.wav"
    sf.write(path, y, 48000, subtype="FLOAT")
    whole = load_audio(path, 44100).samples
    streamed = np.concatenate(list(iter_blocks(path, 44100, block_s=0.7)))
    assert abs(len(streamed) - len(whole)) <= 2
    n = min(len(whole), len(streamed))
    # same resampler, streamed: identical away from the very ends
    assert np.max(np.abs(streamed[1000:n - 1000] - whole[1000:n - 1000])) < 1e-3


def test_arrays_need_their_rate():
    with pytest.raises(AudioError, match="sample rate"):
        as_clip(np.zeros(100, np.float32), None, 44100)
    clip = as_clip(np.zeros((2, 16000), np.float32), 16000, 44100)
    assert clip.samples.shape == (44100,)
