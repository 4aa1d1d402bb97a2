"""Behaviour of the degradation library: seeded, shape-preserving, monotone in intensity,
honestly recorded, temporally consistent for weather, and strict about bad input."""

import json

import cv2
import numpy as np
import pytest
from skimage import data

from ronin_lite.data import degradations as D

NAMES = sorted(D.DEGRADATIONS)


def _astronaut_clip(height: int, width: int, n_frames: int) -> np.ndarray:
    """A natural image resized to (H, W), panned by one pixel per frame: (T, H, W, 3)."""
    image = cv2.resize(data.astronaut(), (width + n_frames, height), interpolation=cv2.INTER_AREA)
    image = image.astype(np.float32) / 255.0
    return np.stack([image[:, t:t + width] for t in range(n_frames)])


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return _astronaut_clip(32, 48, 3)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def _flat(value: float, n_frames: int = 3, height: int = 48, width: int = 64) -> np.ndarray:
    return np.full((n_frames, height, width, 3), value, np.float32)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_arrays_and_records(clip):
    schedule = D.segment_schedule(3, np.random.default_rng(0), k=2, pool=D.AVERNET_POOL, p=0.8)
    out_a, rec_a = D.apply_schedule(clip, schedule, seed=7)
    out_b, rec_b = D.apply_schedule(clip, schedule, seed=7)
    assert np.array_equal(out_a, out_b)
    assert rec_a == rec_b
    again = D.segment_schedule(3, np.random.default_rng(0), k=2, pool=D.AVERNET_POOL, p=0.8)
    assert again == schedule


def test_different_seed_gives_different_noise(clip):
    ops = [D.make_op("gaussian_noise", 0.5, 0)]
    out_a, _ = D.apply_ops(clip, ops, seed=1)
    out_b, _ = D.apply_ops(clip, ops, seed=2)
    assert not np.array_equal(out_a, out_b)


def test_stochastic_functions_accept_an_int_seed_like_a_generator(clip):
    by_int = D.gaussian_noise(clip, sigma=0.1, rng=3)
    by_generator = D.gaussian_noise(clip, sigma=0.1, rng=np.random.default_rng(3))
    assert np.array_equal(by_int, by_generator)


# --- strength, shape, dtype, range ----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_psnr_falls_as_intensity_rises(clip, name):
    psnrs = []
    for intensity in (0.1, 0.5, 0.9):
        op = D.make_op(name, intensity, np.random.default_rng(3))  # same secondary draws
        out, _ = D.apply_ops(clip[:2], [op], seed=5)
        psnrs.append(_psnr(out, clip[:2]))
    assert psnrs[0] > psnrs[1] > psnrs[2], f"{name}: PSNR {psnrs} does not fall"


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_and_range_are_preserved_for_odd_sizes(name):
    odd = _astronaut_clip(33, 47, 2)
    out, _ = D.apply_ops(odd, [D.make_op(name, 0.9, 1)], seed=0)
    assert out.shape == odd.shape
    assert out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert not np.shares_memory(out, odd)


def test_smallest_frames_are_accepted():
    small = _astronaut_clip(16, 17, 2)
    out, _ = D.apply_ops(small, [D.make_op("video_codec", 0.5, 0)], seed=0)
    assert out.shape == small.shape


# --- records --------------------------------------------------------------------------------


def test_records_hold_one_json_list_per_frame_matching_the_ops(clip):
    ops = [D.make_op("gaussian_blur", 0.4, 0), D.make_op("jpeg", 0.8, 0)]
    schedule = (D.Segment(0, 1, ()), D.Segment(1, 3, tuple(ops)))
    _, records = D.apply_schedule(clip, schedule, seed=0)
    assert len(records) == len(clip)
    assert records[0] == []  # a clean frame
    decoded = json.loads(json.dumps(records))
    for frame in decoded[1:]:
        assert [r["name"] for r in frame] == ["gaussian_blur", "jpeg"]
        assert [r["family"] for r in frame] == ["blur", "compression"]
        assert [r["params"] for r in frame] == [op.params for op in ops]
        assert [r["severity"] for r in frame] == ["moderate", "severe"]
        assert frame[0]["intensity"] == pytest.approx(0.4)


@pytest.mark.parametrize("name", ["gaussian_blur", "jpeg"])
def test_recorded_params_reproduce_a_deterministic_degradation(clip, name):
    out, records = D.apply_ops(clip, [D.make_op(name, 0.6, 4)], seed=0)
    for t, frame_records in enumerate(records):
        (record,) = frame_records
        again = D.get_degradation(record["name"]).fn(clip[t:t + 1], **record["params"])
        assert np.array_equal(again[0], out[t])


def test_recorded_params_with_the_same_seed_reproduce_a_stochastic_degradation(clip):
    out, records = D.apply_ops(clip, [D.make_op("speckle_noise", 0.5, 2)], seed=9)
    (record,) = json.loads(json.dumps(records))[0]
    rebuilt = D.Op(record["name"], record["intensity"], record["params"])
    again, _ = D.apply_ops(clip, [rebuilt], seed=9)
    assert np.array_equal(again, out)


def test_apply_ops_is_a_one_segment_schedule(clip):
    ops = [D.make_op("poisson_noise", 0.3, 0), D.make_op("video_codec", 0.3, 0)]
    by_ops = D.apply_ops(clip, ops, seed=4)
    by_schedule = D.apply_schedule(clip, D.constant_schedule(len(clip), ops), seed=4)
    assert np.array_equal(by_ops[0], by_schedule[0])
    assert by_ops[1] == by_schedule[1]


# --- weather over time ------------------------------------------------------------------------


def _bright_pixels(frame: np.ndarray) -> int:
    return int((frame.mean(axis=-1) > 0.6).sum())


def test_snow_flakes_follow_a_per_frame_intensity_curve():
    curve = (0.1, 0.9, 0.5, 0.3)
    op = D.make_op("snow", curve, 3)
    out, records = D.apply_ops(_flat(0.2, n_frames=4), [op], seed=1)
    counts = [_bright_pixels(frame) for frame in out]
    assert counts[1] > counts[2] > counts[3] > counts[0], counts
    assert [r[0]["intensity"] for r in records] == list(curve)
    assert [r[0]["params"]["intensity"] for r in records] == list(curve)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_snow_flakes_move_consistently_between_frames():
    base = _flat(0.3, n_frames=3, height=64, width=64)
    frames = D.snow(base, intensity=0.8, rng=5, speed=3.0).mean(axis=-1)  # (T, H, W)
    independent = D.snow(base, intensity=0.8, rng=6, speed=3.0).mean(axis=-1)
    assert not np.allclose(frames[0], frames[1])  # flakes move...
    # ... downwards by about `speed`: frame t shifted by the fall matches frame t + 1 best,
    # much better than an independent draw of snow does.
    by_shift = [_correlation(np.roll(frames[0], s, axis=0), frames[1]) for s in range(6)]
    assert int(np.argmax(by_shift)) in (2, 3)
    assert max(by_shift) > 0.5 > _correlation(frames[1], independent[1]) + 0.3


def test_rain_streaks_fall_along_their_angle_and_wrap_around():
    params = {"density": 0.01, "length": 9.0, "angle": 0.0, "brightness": 0.8, "speed": 5.0}
    out = D.rain(_flat(0.2), rng=2, **params)
    assert np.array_equal(np.roll(out[0], 5, axis=0), out[1])
    assert np.array_equal(np.roll(out[0], 10, axis=0), out[2])


def test_haze_is_the_same_in_every_frame_of_a_still_clip():
    out = D.haze(_flat(0.3), beta=1.5, airlight=0.9, rng=0)
    assert np.array_equal(out[0], out[-1])
    assert out[0, 0].mean() > out[0, -1].mean()  # the top (far) is hazier than the bottom


# --- schedules --------------------------------------------------------------------------------


def test_segment_schedule_changes_every_k_frames_and_degrades_every_frame():
    schedule = D.segment_schedule(20, np.random.default_rng(11), k=6, p=0.45)
    assert [(s.start, s.stop) for s in schedule] == [(0, 6), (6, 12), (12, 18), (18, 20)]
    for segment in schedule:
        families = [D.DEGRADATIONS[op.name].family for op in segment.ops]
        assert families, "every frame must be degraded"
        assert len(families) == len(set(families)), "at most one op per family"
        assert families == sorted(families, key=D.FAMILY_ORDER.index)
        assert all(op.name in D.AVERNET_POOL for op in segment.ops)
        assert all(0.2 <= op.intensity <= 0.9 for op in segment.ops)
    assert schedule == D.segment_schedule(20, np.random.default_rng(11), k=6, p=0.45)


def test_segment_schedule_with_p_zero_still_draws_one_op_per_segment(clip):
    schedule = D.segment_schedule(3, 0, k=1, p=0.0)
    _, records = D.apply_schedule(clip, schedule, seed=0)
    assert [len(r) for r in records] == [1, 1, 1]


def test_smooth_curve_stays_in_range_rises_and_falls():
    curve = D.smooth_curve(30, np.random.default_rng(2), lo=0.2, hi=0.9)
    assert curve.shape == (30,)
    assert curve.min() >= 0.2 and curve.max() <= 0.9
    steps = np.diff(curve)
    assert (steps > 0).any() and (steps < 0).any()
    assert np.abs(steps).max() < 0.2  # smooth: no jumps
    assert np.array_equal(curve, D.smooth_curve(30, np.random.default_rng(2), lo=0.2, hi=0.9))


def test_severity_splits_intensity_in_thirds():
    assert [D.severity(s) for s in (0.0, 0.3, 0.34, 0.6, 0.7, 1.0)] == [
        "slight", "slight", "moderate", "moderate", "severe", "severe",
    ]


# --- bad input ----------------------------------------------------------------------------------


def test_wrong_shape_dtype_or_range_is_rejected_with_a_hint(clip):
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        D.gaussian_blur(clip[0], sigma=1.0)
    with pytest.raises(TypeError, match="float32"):
        D.gaussian_blur(clip.astype(np.float64), sigma=1.0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        D.gaussian_blur(clip * 255, sigma=1.0)
    with pytest.raises(ValueError, match="at least 16x16"):
        D.gaussian_blur(clip[:, :8, :8], sigma=1.0)


def test_unknown_name_lists_the_known_degradations():
    with pytest.raises(ValueError, match="known degradations are .*gaussian_noise") as err:
        D.get_degradation("fog")
    assert isinstance(err.value, KeyError)
    with pytest.raises(ValueError, match="unknown degradation 'fog'"):
        D.make_op("fog", 0.5, 0)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda c: D.gaussian_noise(c, sigma=0.5, rng=0), r"sigma=0\.5 .*\[0\.0, 0\.3\]"),
        (lambda c: D.poisson_noise(c, peak=0.5, rng=0), r"peak=0\.5 .*\[1\.0, 1000\.0\]"),
        (lambda c: D.jpeg(c, quality=99), r"quality=99 .*\[5, 95\]"),
        (lambda c: D.video_codec(c, crf=60), r"crf=60 .*\[18, 51\]"),
        (lambda c: D.video_codec(c, crf=30, preset="warp"), r"preset='warp' .*medium"),
        (lambda c: D.motion_blur(c, length=40, angle=0), r"length=40 .*\[1\.0, 31\.0\]"),
        (lambda c: D.resize_blur(c, scale=0.05), r"scale=0\.05 .*\[0\.1, 1\.0\]"),
        (lambda c: D.low_light(c, gamma=0.5, gain=0.5, noise_sigma=0, rng=0), r"gamma=0\.5"),
        (lambda c: D.snow(c, intensity=(0.1, 0.2), rng=0), r"one value per frame"),
        (lambda c: D.gaussian_blur(c, sigma=float("nan")), r"sigma=nan .*\[0\.0, 5\.0\]"),
    ],
)
def test_out_of_range_parameter_names_parameter_value_and_range(clip, call, needle):
    with pytest.raises(ValueError, match=needle):
        call(clip)


def test_rng_must_be_explicit(clip):
    with pytest.raises(TypeError, match="default_rng"):
        D.gaussian_noise(clip, sigma=0.1, rng=None)


def test_bad_ops_and_schedules_are_rejected_with_a_hint(clip):
    with pytest.raises(ValueError, match=r"intensity=1\.5 .*\[0, 1\]"):
        D.make_op("jpeg", 1.5, 0)
    with pytest.raises(ValueError, match=r"only supported by \['snow'\]"):
        D.make_op("jpeg", (0.1, 0.2), 0)
    with pytest.raises(ValueError, match=r"unknown params \['sigma'\]"):
        D.Op("jpeg", 0.5, {"quality": 30, "sigma": 1.0})
    with pytest.raises(ValueError, match=r"curve of 2"):
        D.Segment(0, 3, (D.make_op("snow", (0.1, 0.2), 0),))
    op = D.make_op("jpeg", 0.5, 0)
    with pytest.raises(ValueError, match="gap at frame 1"):
        D.apply_schedule(clip, (D.Segment(0, 1, (op,)), D.Segment(2, 3, (op,))), seed=0)
    with pytest.raises(ValueError, match="overlap at frame 2"):
        D.apply_schedule(clip, (D.Segment(0, 2, (op,)), D.Segment(1, 3, (op,))), seed=0)
    with pytest.raises(ValueError, match=r"covers frames \[0, 2\) but the clip has 3"):
        D.apply_schedule(clip, (D.Segment(0, 2, (op,)),), seed=0)


def test_low_light_does_not_depend_on_the_cpus_simd_code():
    """The power is computed in float64 and rounded once: equal to the C library's pow, value by
    value (NumPy's float32 power differs in its last bits between AVX2 and AVX-512 code, which
    changed a frame's bytes, and so the describer's phrasing, from one machine to another)."""
    import math

    rng = np.random.default_rng(0)
    clip = rng.random((2, 16, 16, 3), dtype=np.float32)
    out = D.low_light(clip, gamma=2.3, gain=0.4, noise_sigma=0.0, rng=0)
    reference = np.array([math.pow(float(x), 2.3) for x in clip.ravel()]).astype(np.float32)
    expected = np.clip(np.float32(0.4) * reference.reshape(clip.shape), 0, 1)
    np.testing.assert_array_equal(out, expected)
