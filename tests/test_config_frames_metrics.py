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
    # an optional count: a number sets it, "none" unsets it (the full profile's pool)
    monkeypatch.setenv("RONIN_TRAIN_CLIPS", "64")
    assert config.get_profile("tiny").train_clips == 64
    monkeypatch.setenv("RONIN_TRAIN_CLIPS", "none")
    assert config.get_profile("full").train_clips is None
    monkeypatch.delenv("RONIN_TRAIN_CLIPS")
    assert config.get_profile("full").train_clips == 8192
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


# --- metric conventions: RGB / Y, border crop, 8-bit ------------------------------------------
def _pair(h=40, w=48, seed=0):
    rng = np.random.default_rng(seed)
    clean = rng.random((2, h, w, 3))
    return np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1), clean


def test_psnr_of_a_hand_computed_pair():
    """Every pixel off by 0.1: MSE 0.01, PSNR = 10 log10(1 / 0.01) = 20 dB exactly; on Y the
    error is (65.481 + 128.553 + 24.966) / 255 x 0.1 = 0.0858824 -> 21.3219 dB."""
    from ronin_lite.metrics import Convention, psnr

    a, b = np.zeros((8, 8, 3)), np.full((8, 8, 3), 0.1)
    assert psnr(a, b) == pytest.approx(20.0, abs=1e-12)
    assert psnr(a, b, Convention("y")) == pytest.approx(
        -20 * np.log10(219.0 / 255 * 0.1), abs=1e-9)
    assert psnr(a, b, Convention("y")) == pytest.approx(21.3219, abs=1e-4)


def test_each_convention_agrees_with_scikit_image_on_the_same_arrays():
    from skimage.color import rgb2ycbcr
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from ronin_lite.metrics import Convention, psnr, ssim

    restored, clean = _pair()
    kw = dict(data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)

    def sk(conv):
        a, b = restored, clean
        if conv.quantize:  # BasicSR: to uint8 by rounding
            a, b = (np.round(a * 255) / 255), (np.round(b * 255) / 255)
        if conv.channel == "y":  # scikit-image's own BT.601 matrix, Y in [16, 235]
            a, b = rgb2ycbcr(a)[..., 0] / 255, rgb2ycbcr(b)[..., 0] / 255
        c = conv.crop_border
        if c:
            a, b = a[:, c:-c, c:-c], b[:, c:-c, c:-c]
        p = np.mean([peak_signal_noise_ratio(y, x, data_range=1.0) for x, y in zip(a, b)])
        s = np.mean([structural_similarity(x, y, channel_axis=-1 if x.ndim == 3 else None, **kw)
                     for x, y in zip(a, b)])
        return p, s

    for conv in (Convention(), Convention("y"), Convention("rgb", 4), Convention("rgb", 0, True),
                 Convention("y", 4, True)):
        p, s = sk(conv)
        assert psnr(restored, clean, conv) == pytest.approx(p, abs=1e-9), conv
        assert ssim(restored, clean, conv) == pytest.approx(s, abs=1e-9), conv
    # the conventions do differ on this pair: they are not one computation under five names
    values = {round(psnr(restored, clean, c), 6) for c in (Convention(), Convention("y"),
                                                          Convention("rgb", 4))}
    assert len(values) == 3


def test_a_bad_convention_says_what_is_allowed():
    from ronin_lite.metrics import Convention, psnr

    with pytest.raises(ValueError, match="channel must be one of"):
        Convention("lab")
    with pytest.raises(ValueError, match="crop_border"):
        Convention("rgb", -1)
    with pytest.raises(ValueError, match="too small to crop"):
        psnr(np.zeros((6, 6, 3)), np.zeros((6, 6, 3)), Convention("rgb", 3))


def test_the_readmes_profile_table_is_the_profiles():
    """The README's "Profiles" table states each profile's recipe; it must be what
    ``config.PROFILES`` holds (a recipe chosen anew changes both, or this fails)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = {}
    section = readme.split("\n## Profiles", 1)[1].split("\n## ", 1)[0]
    for line in section.split("\n\n| profile |", 1)[1].split("\n\n", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `"):
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(config.PROFILES)
    for name, p in config.PROFILES.items():
        clip, crop, batch, model, steps, lr, clipping = rows[name][1:8]
        assert (int(clip), int(crop), int(batch), model, int(steps)) == (
            p.clip_len, p.crop, p.batch, p.model, p.steps), name
        warmup = f"{p.warmup} steps" if p.warmup else "none"
        assert (float(lr.split()[0]), lr.split("(", 1)[1].rstrip(")")) == (p.lr, warmup), name
        assert clipping == (f"{p.grad_clip:g}" if p.grad_clip else "none"), name
