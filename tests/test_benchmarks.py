"""Benchmarks and datasets: seeded, split by scene, written atomically, read back verified."""

import json
import shutil

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ronin_lite.data import degradations as D
from ronin_lite.data.benchmarks import (
    BENCHMARKS, Benchmark, get_benchmark, read_split, split_dir, split_scenes, write_split,
)
from ronin_lite.data.datasets import EvalClips, TrainClips, collate_clips
from ronin_lite.data.scenes import builtin_scenes
from ronin_lite.metrics import psnr


@pytest.fixture(scope="module")
def small3d():
    return get_benchmark("3d-lite", size=32, clips_per_scene=2, eval_len=4)


def test_same_seed_gives_identical_clips_and_a_different_seed_does_not():
    a = get_benchmark("tv-lite", size=32).sample(7, T=4)
    b = get_benchmark("tv-lite", size=32).sample(7, T=4)
    c = get_benchmark("tv-lite", size=32, seed=1).sample(7, T=4)
    assert np.array_equal(a.degraded, b.degraded) and a.records == b.records
    assert not np.array_equal(a.degraded, c.degraded)


def test_splits_share_no_scene_for_builtin_and_folder_scenes(tmp_path):
    splits = split_scenes(builtin_scenes())
    names = [set(s.name for s in v) for v in splits.values()]
    assert all(not (x & y) for i, x in enumerate(names) for y in names[i + 1:])
    assert sum(len(n) for n in names) == len(builtin_scenes())
    from PIL import Image
    for i in range(6):
        Image.fromarray(np.full((40, 40, 3), i * 30, np.uint8)).save(tmp_path / f"im{i}.png")
    bench = Benchmark("3d-lite", scenes=tmp_path, size=16)
    parts = [set(s.name for s in bench.splits[k]) for k in ("train", "val", "test")]
    assert parts[2] and parts[0] and not (parts[0] & parts[2]) and not (parts[1] & parts[2])


def test_training_clips_never_come_from_test_scenes(small3d):
    test_scenes = {s.name for s in small3d.splits["test"]}
    assert all(small3d.sample(i, T=2).scene not in test_scenes for i in range(20))


def test_3d_lite_applies_exactly_one_of_noise_blur_jpeg_per_clip(small3d):
    seen = set()
    for i in range(12):
        clip = small3d.sample(i, T=3)
        labels = set(clip.labels)
        assert len(labels) == 1 and len(clip.labels[0]) == 1
        seen |= labels
    assert seen == {("gaussian_noise",), ("gaussian_blur",), ("jpeg",)}


def test_4d_lite_draws_weather_or_light_as_a_fourth_task():
    bench = get_benchmark("4d-lite", size=32)
    names = {clip.labels[0][0] for clip in (bench.sample(i, T=2) for i in range(40))}
    assert names & {"snow", "rain", "haze", "low_light"}
    assert {"gaussian_noise", "gaussian_blur", "jpeg"} <= names


def test_tv_lite_changes_degradations_within_evaluation_clips():
    bench = get_benchmark("tv-lite", size=32, clips_per_scene=3)
    changes = [len(set(clip.labels)) > 1 or len({json.dumps(r) for r in clip.records}) > 1
               for clip in bench.clips("test")]
    assert all(changes)


def test_snowy_lite_snow_intensity_varies_along_the_clip():
    clip = get_benchmark("snowy-lite", size=32).sample(3, T=8)
    snow = [next(r for r in frame if r["name"] == "snow")["intensity"] for frame in clip.records]
    assert max(snow) - min(snow) > 0.05


def test_every_frame_of_every_benchmark_is_degraded_and_records_are_json():
    for name in BENCHMARKS:
        clip = get_benchmark(name, size=32).sample(1, T=3)
        assert clip.degraded.shape == clip.clean.shape == (3, 32, 32, 3)
        assert clip.degraded.dtype == np.float32
        assert all(len(frame) >= 1 for frame in clip.records)
        json.dumps(clip.records)
        assert psnr(clip.degraded, clip.clean) < 60


def test_written_split_reads_back_verified_and_hash_is_reproducible(tmp_path, small3d):
    path_a = write_split(small3d, "test", tmp_path / "a", progress=False)
    path_b = write_split(small3d, "test", tmp_path / "b", progress=False)
    man_a = json.loads((path_a / "manifest.json").read_text())
    man_b = json.loads((path_b / "manifest.json").read_text())
    assert man_a["sha256"] == man_b["sha256"]
    clips = read_split(path_a)
    mem = list(small3d.clips("test"))
    assert [c.clip_id for c in clips] == [c.clip_id for c in mem]
    assert np.abs(clips[0].degraded - mem[0].degraded).max() <= 0.5 / 255 + 1e-6


def test_interrupted_build_is_never_mistaken_for_a_finished_one_and_resumes(tmp_path, small3d):
    final = split_dir(tmp_path, small3d, "test")
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        read_split(final)
    # simulate a kill: one finished clip, one half-written clip folder, no manifest
    write_split(small3d, "test", tmp_path / "ref", progress=False)
    ref = split_dir(tmp_path / "ref", small3d, "test")
    partial = final.with_name("test.partial")
    shutil.copytree(ref, partial)
    (partial / "manifest.json").unlink()
    first, second = sorted(p for p in (partial / "chelsea").iterdir())
    (second / "clip.json").unlink()
    (second / "degraded" / "000.png").write_bytes(b"torn")
    with pytest.raises(FileNotFoundError, match="interrupted build"):
        read_split(final)
    write_split(small3d, "test", tmp_path, progress=False)
    assert not partial.exists()
    assert len(read_split(final)) == small3d.num_clips("test")


def test_tampered_benchmark_file_is_refused(tmp_path, small3d):
    path = write_split(small3d, "test", tmp_path, progress=False)
    png = next(path.rglob("degraded/000.png"))
    from PIL import Image
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(png)
    with pytest.raises(ValueError, match="does not match its checksum"):
        read_split(path)


def test_unknown_names_and_bad_sizes_raise_helpful_errors(small3d):
    with pytest.raises(ValueError, match="unknown benchmark '5d-lite'"):
        get_benchmark("5d-lite")
    with pytest.raises(ValueError, match="too small"):
        Benchmark("3d-lite", size=8)
    with pytest.raises(ValueError, match="unknown split"):
        next(small3d.clips("holdout"))


def test_datasets_yield_channels_first_float_clips_that_batch(small3d):
    train = TrainClips(small3d, length=4, T=3, size=24)
    item = train[0]
    assert item["degraded"].shape == (3, 3, 24, 24) and item["degraded"].dtype == torch.float32
    assert 0 <= float(item["degraded"].min()) and float(item["degraded"].max()) <= 1
    batch = next(iter(DataLoader(train, batch_size=2, collate_fn=collate_clips)))
    assert batch["degraded"].shape == (2, 3, 3, 24, 24) and len(batch["records"]) == 2
    assert torch.equal(train[1]["clean"], train[1]["clean"])  # item i is always the same clip
    ev = EvalClips(small3d, "test")
    assert len(ev) == small3d.num_clips("test") and ev[0]["degraded"].shape[0] == 4
    with pytest.raises(IndexError):
        train[4]


def test_schedules_of_benchmarks_cover_every_frame():
    rng = np.random.default_rng(0)
    for spec in BENCHMARKS.values():
        for T in (1, 3, 8):
            D.check_schedule(spec.schedule(T, rng), T)


def test_soft_clean_frames_blur_the_targets_of_about_half_the_training_clips(small3d):
    """``sample(soften=s)`` (``TrainConfig.soften``): with probability 1/2 the clean frames are
    blurred by sigma ~ U(0, s) before the same degradation; the scene, camera path, schedule and
    degradation seed are those of the plain clip, and the other half are the plain clips."""
    softened = 0
    for i in range(40):
        plain, soft = small3d.sample(i, T=2), small3d.sample(i, T=2, soften=2.0)
        sigma = soft.info.pop("softened_sigma")
        assert "softened_sigma" not in plain.info and soft.info == plain.info
        assert (soft.clip_id, soft.records) == (plain.clip_id, plain.records)
        assert 0.0 <= sigma < 2.0
        if sigma == 0.0:
            assert np.array_equal(soft.clean, plain.clean)
            assert np.array_equal(soft.degraded, plain.degraded)
            continue
        softened += 1
        np.testing.assert_array_equal(soft.clean, D.gaussian_blur(plain.clean, sigma=sigma))
    assert 10 <= softened <= 30  # 1/2 of 40, binomial spread
    clip = TrainClips(small3d, 4, 2, soften=2.0)[1]
    assert torch.equal(clip["clean"], TrainClips(small3d, 4, 2)[1]["clean"]) == \
        (small3d.sample(1, T=2, soften=2.0).info["softened_sigma"] == 0.0)
    with pytest.raises(ValueError, match="soften must be >= 0"):
        small3d.sample(0, soften=-1.0)
