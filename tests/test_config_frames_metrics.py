"""Profiles, frame conventions and metrics: the small pieces everything else stands on."""

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ronin_lite import config
from ronin_lite.data.frames import check_clip, to_frames, to_numpy_clip, to_torch_clip, to_uint8
from ronin_lite.metrics import psnr, ssim


def test_profile_is_chosen_by_environment_and_overrides_apply(monkeypatch):
    monkeypatch.setenv("RONIN_PROFILE", "small")
    assert config.get_profile().name == "small"
    monkeypatch.setenv("RONIN_STEPS", "123")
    assert config.get_profile().steps == 123
    assert config.get_profile(steps=7).steps == 7  # keyword beats environment
    monkeypatch.delenv("RONIN_PROFILE")
    expected = "tiny"
    if torch.cuda.is_available():
        expected = "full" if config.gpu_memory_gib() >= config.FULL_MIN_GPU_GIB else "small"
    assert config.default_profile_name() == expected


def test_bad_profile_names_and_fields_raise_helpful_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        config.get_profile("huge")
    with pytest.raises(ValueError, match="unknown profile field"):
        config.get_profile("tiny", stepz=3)
    monkeypatch.setenv("RONIN_PROFILE", "medium")
    with pytest.raises(ValueError, match="RONIN_PROFILE='medium' is not a profile"):
        config.get_profile()
    monkeypatch.setenv("RONIN_PROFILE", "tiny")
    monkeypatch.setenv("RONIN_LR", "fast")
    with pytest.raises(ValueError, match="RONIN_LR"):
        config.get_profile()


def test_seed_everything_makes_numpy_and_torch_repeatable():
    a = config.seed_everything(5).random(3), torch.rand(3)
    b = config.seed_everything(5).random(3), torch.rand(3)
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_to_frames_converts_common_image_layouts():
    u8 = np.full((10, 12, 3), 255, np.uint8)
    assert to_frames(u8).shape == (1, 10, 12, 3) and to_frames(u8).max() == 1.0
    assert to_frames(np.zeros((4, 10, 12), np.uint8)).shape == (4, 10, 12, 3)  # grey stack
    assert to_frames(np.zeros((10, 12, 4), np.uint8)).shape == (1, 10, 12, 3)  # alpha dropped
    assert to_frames(torch.zeros(2, 3, 10, 12)).shape == (2, 10, 12, 3)


def test_clip_checks_say_what_was_wrong_and_what_to_do():
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\).*to_frames"):
        check_clip(np.zeros((480, 640, 3), np.float32))
    with pytest.raises(TypeError, match="float32"):
        check_clip(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        check_clip(np.full((1, 8, 8, 3), 2.0, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        check_clip(np.full((1, 8, 8, 3), np.nan, np.float32))


def test_numpy_and_torch_layouts_round_trip():
    clip = np.random.default_rng(0).random((3, 9, 7, 3), dtype=np.float32)
    t = to_torch_clip(clip)
    assert t.shape == (3, 3, 9, 7)
    assert np.array_equal(to_numpy_clip(t), clip)
    assert to_uint8(clip).dtype == np.uint8


def test_metrics_agree_with_scikit_image():
    rng = np.random.default_rng(0)
    clean = rng.random((2, 32, 32, 3))
    noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1)
    ref_psnr = np.mean([peak_signal_noise_ratio(c, n, data_range=1) for c, n in zip(clean, noisy)])
    ref_ssim = np.mean([structural_similarity(c, n, channel_axis=-1, data_range=1,
                                              gaussian_weights=True, use_sample_covariance=False)
                        for c, n in zip(clean, noisy)])
    assert psnr(noisy, clean) == pytest.approx(ref_psnr, abs=1e-9)
    assert ssim(noisy, clean) == pytest.approx(ref_ssim, abs=1e-9)
    assert ssim(clean, clean) == pytest.approx(1.0)
