"""Streaming inference: round trips, bad input, no grounding imports, flat memory."""

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from ronin_lite import infer
from ronin_lite.checkpoints import save_checkpoint
from ronin_lite.models import RoninConfig, RoninLite
from ronin_lite.viz import encode_mp4


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return RoninLite(RoninConfig("tiny")).eval()


def _video(path: Path, frames: int = 6, h: int = 24, w: int = 30) -> Path:
    rng = np.random.default_rng(0)
    clip = rng.random((frames, h, w, 3)).astype(np.float32)
    path.write_bytes(encode_mp4(clip, fps=5))
    return path


def _count(path: Path) -> tuple[int, tuple[int, int]]:
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return len(frames), frames[0].shape[:2]


def test_video_round_trip_keeps_frames_and_size(model, tmp_path):
    src = _video(tmp_path / "in.mp4", frames=6, h=24, w=30)
    stats = infer.restore_video(model, src, tmp_path / "out.mp4",
                                side_by_side=tmp_path / "sbs.mp4", progress=False)
    assert (stats.frames, stats.height, stats.width) == (6, 24, 30)
    assert _count(tmp_path / "out.mp4") == (6, (24, 30))
    assert _count(tmp_path / "sbs.mp4") == (6, (24, 60))
    assert stats.fps_video == pytest.approx(5) and stats.network_fps > 0
    assert not list(tmp_path.glob(".*partial"))


def test_folder_round_trip_grey_alpha_and_odd_sizes(model, tmp_path, capsys):
    src = tmp_path / "frames"
    src.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((21, 17)) * 255).astype(np.uint8)).save(src / "a.png")  # grey
    Image.fromarray((rng.random((21, 17, 4)) * 255).astype(np.uint8)).save(src / "b.png")  # RGBA
    stats = infer.restore_video(model, src, tmp_path / "out", progress=False)
    written = sorted((tmp_path / "out").iterdir())
    assert stats.frames == 2 and len(written) == 2
    assert np.asarray(Image.open(written[0])).shape == (21, 17, 3)
    err = capsys.readouterr().err
    assert "grey-level" in err and "alpha" in err
    # an odd-sized video output is padded to even sizes for H.264
    infer.restore_video(model, src, tmp_path / "odd.mp4", progress=False)
    assert _count(tmp_path / "odd.mp4") == (2, (22, 18))


def test_existing_output_is_refused_and_overwrite_works(model, tmp_path):
    src = _video(tmp_path / "in.mp4", frames=2)
    (tmp_path / "out.mp4").write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        infer.restore_video(model, src, tmp_path / "out.mp4", progress=False)
    assert (tmp_path / "out.mp4").read_bytes() == b"keep me"
    infer.restore_video(model, src, tmp_path / "out.mp4", overwrite=True, progress=False)
    assert _count(tmp_path / "out.mp4")[0] == 2


def test_bad_inputs_leave_no_output(model, tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(FileNotFoundError, match="no video file"):
        infer.restore_video(model, tmp_path / "missing.mp4", out, progress=False)
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(ValueError, match="cannot open|could not be decoded"):
        infer.restore_video(model, tmp_path / "text.mp4", out, progress=False)
    full = _video(tmp_path / "full.mp4", frames=12).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError):
        infer.restore_video(model, tmp_path / "cut.mp4", out, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        infer.restore_video(model, tmp_path / "empty", out, progress=False)
    small = tmp_path / "small"
    small.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(small / "a.png")
    with pytest.raises(ValueError, match="too small"):
        infer.restore_video(model, small, out, progress=False)
    sizes = tmp_path / "sizes"
    sizes.mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(sizes / "a.png")
    Image.fromarray(np.zeros((24, 20, 3), np.uint8)).save(sizes / "b.png")
    with pytest.raises(ValueError, match="keep its size"):
        infer.restore_video(model, sizes, out, progress=False)
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


def test_zero_length_video(model, tmp_path):
    path = tmp_path / "zero.mp4"
    path.write_bytes(b"")  # a zero-length file: what an interrupted download leaves
    with pytest.raises(ValueError, match="cannot open"):
        infer.restore_video(model, path, tmp_path / "out.mp4", progress=False)
    assert not (tmp_path / "out.mp4").exists()


RUN = """
import json, sys, torch
torch.set_num_threads(1)
from ronin_lite import infer
from ronin_lite.checkpoints import load_checkpoint
m = load_checkpoint(sys.argv[1])
s = infer.restore_video(m, sys.argv[2], sys.argv[3], progress=False)
mods = [k for k in sys.modules if k.startswith(("ronin_lite.grounding", "sentence_transformers",
                                                "transformers"))]
print(json.dumps({"frames": s.frames, "rss": s.peak_rss_mb, "mods": mods}))
"""


def test_cli_never_imports_grounding_and_memory_is_flat(model, tmp_path):
    save_checkpoint(model, tmp_path / "ckpt")
    results = {}
    for n in (10, 80):
        src = _video(tmp_path / f"in{n}.mp4", frames=n, h=48, w=48)
        out = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "ckpt"), str(src),
                              str(tmp_path / f"out{n}.mp4")], capture_output=True, text=True,
                             check=True)
        results[n] = json.loads(out.stdout.strip().splitlines()[-1])
    assert results[10]["frames"] == 10 and results[80]["frames"] == 80
    assert results[80]["mods"] == []
    assert results[80]["rss"] - results[10]["rss"] < 20, results  # MB; 8x the frames


def test_cli(model, tmp_path, capsys):
    save_checkpoint(model, tmp_path / "ckpt")
    src = _video(tmp_path / "in.mp4", frames=3)
    assert infer.main(["restore", str(src), str(tmp_path / "o.mp4"), "--checkpoint",
                       str(tmp_path / "ckpt"), "--quiet"]) == 0
    assert "restored 3 frames" in capsys.readouterr().out
    assert infer.main(["restore", str(src), str(tmp_path / "o.mp4"), "--checkpoint",
                       str(tmp_path / "ckpt"), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err
    assert infer.main(["restore", str(src), str(tmp_path / "p.mp4"), "--checkpoint",
                       "no-such-model", "--quiet"]) == 2
    capsys.readouterr()
    assert infer.main(["restore", str(src), str(tmp_path / "q.mp4"), "--checkpoint",
                       str(tmp_path / "ckpt"), "--quiet", "--tile-passes", "0"]) == 2
    assert "passes must be an integer >= 1" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("q", ".q"))]  # nothing


def test_frame_folders_are_read_in_natural_order(tmp_path):
    """FFmpeg's %d.png writes f1, f2, ..., f10: the causal history must see f2 before f10."""
    src = tmp_path / "frames"
    src.mkdir()
    for i in (1, 2, 10, 11, 3):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(src / f"f{i}.png")
    (src / ".hidden.png").write_bytes(b"not an image")
    frames, _ = infer.read_frames(src)
    assert [int(f[0, 0, 0]) for f in frames] == [1, 2, 3, 10, 11]


def test_a_truncated_video_is_restored_as_far_as_it_goes_with_a_warning_and_exit_code_3(
        model, tmp_path, capsys):
    """The head of an AVI decodes without an error, just fewer frames: say so, do not exit 0."""
    rng = np.random.default_rng(0)
    with av.open(str(tmp_path / "full.avi"), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for _ in range(30):
            frame = av.VideoFrame.from_ndarray((rng.random((48, 64, 3)) * 255).astype(np.uint8),
                                               format="rgb24")
            for packet in s.encode(frame):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    data = (tmp_path / "full.avi").read_bytes()
    (tmp_path / "head.avi").write_bytes(data[:len(data) // 3])
    stats = infer.restore_video(model, tmp_path / "full.avi", tmp_path / "a.mp4", progress=False)
    assert stats.complete and stats.frames == 30
    stats = infer.restore_video(model, tmp_path / "head.avi", tmp_path / "b.mp4", progress=False)
    assert not stats.complete and 0 < stats.frames < 30
    assert "warning: incomplete input: decoded" in capsys.readouterr().err
    save_checkpoint(model, tmp_path / "ckpt")
    code = infer.main(["restore", str(tmp_path / "head.avi"), str(tmp_path / "c.mp4"),
                       "--checkpoint", str(tmp_path / "ckpt"), "--quiet"])
    assert code == 3 and _count(tmp_path / "c.mp4")[0] == stats.frames


def test_restored_pixels_equal_restore_frames_on_the_same_frames(model, tmp_path):
    """Not only count and size: the CLI's frames are the network's output for the input's
    frames, so an RGB/BGR swap, a scaling or an ordering bug in the streaming path fails here."""
    from ronin_lite.evaluate import restore_frames

    src = tmp_path / "frames"
    src.mkdir()
    rng = np.random.default_rng(3)
    clip_u8 = (rng.random((5, 20, 28, 3)) * 255).astype(np.uint8)
    clip_u8[..., 0] //= 3  # channels differ, so a swap shows
    for i, frame in enumerate(clip_u8):
        Image.fromarray(frame).save(src / f"f{i + 1}.png")
    infer.restore_video(model, src, tmp_path / "out", progress=False)
    written = np.stack([np.asarray(Image.open(p)) for p in
                        sorted((tmp_path / "out").iterdir(), key=lambda p: p.name)])
    expected, _ = restore_frames(model, clip_u8.astype(np.float32) / 255.0)
    expected_u8 = np.floor(expected * 255.0 + 0.5).astype(np.uint8)
    assert written.shape == expected_u8.shape
    assert np.abs(written.astype(int) - expected_u8).max() <= 1
    assert np.mean(written != expected_u8) < 0.01


def test_large_frames_are_restored_in_tiles_each_with_its_history(model, tmp_path):
    """Frames larger than --tile are restored tile by tile (ronin_lite.tiling): the written
    frames are the TiledStream's output, spilled or not; --tile 0 restores whole frames."""
    import torch

    from ronin_lite.tiling import TiledStream

    src = tmp_path / "frames"
    src.mkdir()
    rng = np.random.default_rng(5)
    clip_u8 = (rng.random((4, 40, 56, 3)) * 255).astype(np.uint8)
    for i, frame in enumerate(clip_u8):
        Image.fromarray(frame).save(src / f"f{i + 1}.png")

    def written(folder: Path) -> np.ndarray:
        return np.stack([np.asarray(Image.open(p)) for p in
                         sorted(folder.iterdir(), key=lambda p: p.name)])

    with TiledStream(model, tile=32, overlap=8, spill=False) as stream, torch.no_grad():
        expected = [stream(torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255.0)
                    .clamp(0, 1)[0].permute(1, 2, 0).numpy() for f in clip_u8]
        assert stream.tiles == 2 * 3  # over 48x64: the frame padded as the network pads it
    expected_u8 = np.floor(np.stack(expected) * 255.0 + 0.5).astype(np.uint8)
    for spill in (False, True):
        out = tmp_path / f"tiled-{spill}"
        infer.restore_video(model, src, out, progress=False, tile=32, overlap=8, spill=spill)
        assert np.abs(written(out).astype(int) - expected_u8).max() <= 1
    from ronin_lite.evaluate import restore_frames

    save_checkpoint(model, tmp_path / "ckpt")
    assert infer.main([str(src), str(tmp_path / "whole"), "--tile", "0", "--quiet",
                       "--checkpoint", str(tmp_path / "ckpt")]) == 0
    whole, _ = restore_frames(model, clip_u8.astype(np.float32) / 255.0)
    whole_u8 = np.floor(whole * 255.0 + 0.5).astype(np.uint8)
    assert np.abs(written(tmp_path / "whole").astype(int) - whole_u8).max() <= 1
