"""Streaming restoration of a video file or a folder of frames: RONIN's inference path.

RONIN (arXiv 2507.14851) needs neither the describer nor the text encoder once trained: the
network generates its own prompt from each frame. This module is that path and nothing more -
it never imports :mod:`ronin_lite.grounding` (a test checks), so a user restores a video with
the weights and PyAV alone.

**Streaming, constant memory.** Frames are decoded one at a time, restored with the causal
state of the previous frames (Turtle's history: at most ``tau`` frames), encoded and written
before the next one is read. Nothing grows with the video's length: a 500-frame video needs
the memory of a 50-frame one (``data_scripts/bench_infer.py`` measures it).

**Large frames, bounded memory.** Frames larger than ``tile`` (default 384) pixels on a side are
restored as overlapping tiles, each tile a stream with its own history, blended across the
overlap; the tiles' histories wait in a temporary folder between frames when together they
would exceed 256 MB (:mod:`ronin_lite.tiling`). Peak memory then no longer grows with the frame's
size (``data_scripts/bench_tiling.py`` measures it at 480p, 1080p and 2160p). Each frame is run
twice over its tiles, the first pass gathering the frame's statistics for the network's
frame-wide operations (``--tile-passes 1``: once, faster, each tile with its own statistics);
``--tile 0`` restores whole frames, as the network was trained.

**Inputs.** Any container and codec PyAV (FFmpeg) decodes, or a folder of images (PNG, JPEG,
BMP, TIFF, WebP; in natural order: f2.png before f10.png). Grey-level frames are repeated to three channels and an
alpha channel is dropped (documented handling, printed once). Frames of any size from
:data:`MIN_SIDE` pixels up; the network pads internally and crops back.

**Outputs.** An H.264 MP4 (``yuv420p``; an odd width or height is padded by one edge pixel to
the next even size, which that pixel format requires) at the input's frame rate, or - when the
output path has no video suffix - a folder of PNG frames. Optionally a side-by-side video
(input | restored). Every output is written under a temporary name and renamed when complete:
a failed or interrupted run leaves nothing under the final name. An existing output is refused
unless ``overwrite``.

Command line::

    ronin-lite restore in.mp4 out.mp4 --side-by-side sbs.mp4   # DEFAULT_CHECKPOINT
    ronin-lite restore in.mp4 out.mp4 --checkpoint small-3d-lite   # another shipped network
    python -m ronin_lite.infer restore frames/ restored/ --checkpoint runs/small
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .data.scenes import IMAGE_EXTENSIONS as IMAGE_SUFFIXES
from .data.scenes import visible_files
from .tiling import DEFAULT_OVERLAP, DEFAULT_PASSES, DEFAULT_TILE, TiledStream

MIN_SIDE = 16
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v")
DEFAULT_FPS = 25.0
#: what ``ronin-lite restore`` loads unless told otherwise: RONIN-lite of the ``small`` study's
#: shipped pair (the profile's recipe, chosen on val). It restores the protocol's test scenes and
#: the real-footage check's videos better than the earlier ``small-3d-lite`` (README, "Shipped
#: checkpoints"; the figures are in ``results/real_footage.json`` and notebook 09).
DEFAULT_CHECKPOINT = "small-3d-lite-masks-1200-seed0"
TRUNCATED = "incomplete input"  # the note that makes the command line exit with code 3


@dataclass
class RestoreStats:
    """What a restoration did: frames, size, frame rate of the stream, wall time, and the
    restorer's own frames per second (network only, without decoding and encoding, and without
    the first frame, which pays one-off set-up: kernel selection, allocations)."""

    frames: int
    height: int
    width: int
    fps_video: float
    seconds: float
    network_seconds: float  # every frame after the first
    first_frame_seconds: float
    peak_rss_mb: float
    complete: bool = True  # False: the input decoded to fewer frames than it declares

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else float("inf")

    @property
    def network_fps(self) -> float:
        if self.frames < 2:
            return 1.0 / self.first_frame_seconds if self.first_frame_seconds else float("inf")
        return (self.frames - 1) / self.network_seconds if self.network_seconds else float("inf")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _to_rgb(frame: np.ndarray, notes: set) -> np.ndarray:
    """``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8 -> ``(H, W, 3)`` uint8."""
    if frame.ndim == 2:
        frame = frame[..., None]
    if frame.ndim != 3 or frame.shape[-1] not in (1, 3, 4):
        raise ValueError(f"cannot read a frame shaped {frame.shape} as an image")
    if frame.shape[-1] == 1:
        notes.add("grey-level frames repeated to 3 channels")
        frame = np.repeat(frame, 3, axis=-1)
    elif frame.shape[-1] == 4:
        notes.add("alpha channel dropped")
        frame = frame[..., :3]
    return np.ascontiguousarray(frame)


def _image_files(folder: Path) -> list[Path]:
    # natural order (f2.png before f10.png, as FFmpeg's %d.png writes them): the causal history
    # must see the frames in time order
    files = visible_files(folder, IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}): "
                         "nothing to restore")
    return files


def read_frames(source: str | os.PathLike, notes: set | None = None
                ) -> tuple[Iterator[np.ndarray], float]:
    """``(frames, fps)``: an iterator of ``(H, W, 3)`` uint8 frames, decoded lazily, and the
    frame rate (``DEFAULT_FPS`` for a folder or a stream that does not say)."""
    notes = set() if notes is None else notes
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no video file or frame folder at {source}")
    if source.is_dir():
        from PIL import Image

        files = _image_files(source)

        def folder_frames() -> Iterator[np.ndarray]:
            for f in files:
                try:
                    with Image.open(f) as im:
                        if im.mode in ("RGBA", "LA", "PA"):
                            array = np.asarray(im.convert("RGBA"))
                        elif im.mode in ("L", "1", "I", "I;16", "F"):
                            array = np.asarray(im.convert("L"))
                        else:
                            array = np.asarray(im.convert("RGB"))
                except OSError as exc:
                    raise ValueError(f"cannot read the image {f}: {exc}") from exc
                yield _to_rgb(array, notes)

        return folder_frames(), DEFAULT_FPS
    import av

    try:
        container = av.open(str(source))
    except av.error.FFmpegError as exc:
        raise ValueError(f"cannot open {source} as a video ({exc}); is it a video file?") from exc
    if not container.streams.video:
        container.close()
        raise ValueError(f"{source} has no video stream")
    stream = container.streams.video[0]
    fps = float(stream.average_rate) if stream.average_rate else DEFAULT_FPS

    declared = int(stream.frames or 0)  # the container's frame count (0: it does not say)

    def video_frames() -> Iterator[np.ndarray]:
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                fmt = frame.format.name
                if fmt.startswith(("gray", "ya")):
                    notes.add("grey-level frames repeated to 3 channels")
                    yield _to_rgb(frame.to_ndarray(format="gray"), notes)
                else:
                    if "a" in fmt.replace("yuv", "").replace("gbr", "") and fmt != "pal8":
                        notes.add("alpha channel dropped")
                    yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise ValueError(f"{source} could not be decoded to the end ({exc}): the file is "
                             "damaged or truncated") from exc
        finally:
            container.close()
        # a cut-off file often decodes without an error, just fewer frames (the head of an AVI
        # of 30 frames gave 2): compare with what the container declares (one frame of slack)
        if declared and decoded < declared - 1:
            notes.add(f"{TRUNCATED}: decoded {decoded} of the {declared} frames that {source} "
                      "declares; the file is probably truncated, the rest was not restored")

    return video_frames(), fps


class _Writer:
    """Frames to an MP4 (H.264) or a PNG folder, under a temporary name until ``close``."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.video = path.suffix.lower() in VIDEO_SUFFIXES
        self.tmp = path.with_name(f".{path.name}.partial")
        self._remove(self.tmp)
        self.container = self.stream = None
        self.count = 0
        if not self.video:
            self.tmp.mkdir(parents=True)

    @staticmethod
    def _remove(p: Path) -> None:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()

    def write(self, frame: np.ndarray) -> None:  # (H, W, 3) uint8
        if not self.video:
            from PIL import Image

            Image.fromarray(frame).save(self.tmp / f"{self.count:06d}.png")
            self.count += 1
            return
        import av

        h, w = frame.shape[:2]
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # yuv420p: even
        if self.container is None:
            self.container = av.open(str(self.tmp), mode="w", format="mp4")
            rate = Fraction(self.fps).limit_denominator(1001)
            self.stream = self.container.add_stream("libx264", rate=rate)
            self.stream.width, self.stream.height = frame.shape[1], frame.shape[0]
            self.stream.pix_fmt = "yuv420p"
            self.stream.options = {"crf": "18", "preset": "medium"}
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self.container.mux(packet)
        self.count += 1

    def close(self) -> None:
        if self.container is not None:
            for packet in self.stream.encode():
                self.container.mux(packet)
            self.container.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away anyway
                pass
        self._remove(self.tmp)


def _check_output(path: Path, overwrite: bool) -> None:
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} exists; choose another output or pass --overwrite")
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if not path.parent.exists():
        raise FileNotFoundError(f"the output folder {path.parent} does not exist")


@torch.no_grad()
def restore_video(model, source: str | os.PathLike, output: str | os.PathLike,
                  side_by_side: str | os.PathLike | None = None, overwrite: bool = False,
                  device: torch.device | str | None = None, max_frames: int | None = None,
                  progress: bool = True, tile: int = DEFAULT_TILE,
                  overlap: int = DEFAULT_OVERLAP, spill: bool | str = "auto",
                  passes: int = DEFAULT_PASSES) -> RestoreStats:
    """Restore ``source`` (video file or frame folder) into ``output``, frame by frame.

    ``model``: a :class:`~ronin_lite.models.RoninLite` (e.g. ``load_pretrained(name)``).
    ``side_by_side``: also write input | restored. ``tile``, ``overlap``, ``spill``, ``passes``:
    frames larger than ``tile`` pixels on a side are restored as overlapping tiles, each with
    its own history (:class:`~ronin_lite.tiling.TiledStream`; ``tile=0``: whole frames). Returns
    :class:`RestoreStats`. Sets glibc to keep freed memory for the next frame
    (:func:`ronin_lite.runtime.keep_freed_memory`, process-wide; a no-op without glibc).
    """
    from tqdm.auto import tqdm

    from .runtime import keep_freed_memory

    outputs = [Path(output)] + ([Path(side_by_side)] if side_by_side else [])
    if len({p.resolve() for p in outputs}) != len(outputs):
        raise ValueError("the output and the side-by-side output must be different paths")
    if Path(source).resolve() in {p.resolve() for p in outputs}:
        raise ValueError("the output must not be the input")
    for path in outputs:
        _check_output(path, overwrite)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model = model.to(device).eval()
    keep_freed_memory()  # every frame reuses the last one's buffers: no page faults per frame
    notes: set = set()
    stream = TiledStream(model, tile, overlap, spill, passes=passes)  # checks its settings
    frames, fps = read_frames(source, notes)
    writers = [_Writer(p, fps) for p in outputs]
    count, size, net_seconds, first_seconds = 0, None, 0.0, 0.0
    tick = time.perf_counter()
    bar = tqdm(desc=f"restore {Path(source).name}", unit="frame", disable=not progress)
    try:
        for frame in frames:
            if max_frames is not None and count >= max_frames:
                break
            if size is None:
                size = frame.shape[:2]
                if min(size) < MIN_SIDE:
                    raise ValueError(f"frames of {size[1]}x{size[0]} px are too small: the "
                                     f"network needs at least {MIN_SIDE}x{MIN_SIDE}")
            elif frame.shape[:2] != size:
                raise ValueError(f"frame {count} is {frame.shape[1]}x{frame.shape[0]} px, the "
                                 f"first was {size[1]}x{size[0]}: a video must keep its size")
            if not frame.flags.writeable:  # PIL's and PyAV's arrays may be read-only
                frame = frame.copy()
            # (H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1] (the network picks its own memory
            # layout: channels_last without gradients, see ronin_lite/models/unet.py)
            x = torch.from_numpy(frame).to(device).permute(2, 0, 1)[None].float().contiguous()
            x = x / 255.0
            t0 = time.perf_counter()
            restored_t = stream(x).clamp(0, 1)[0]  # (3, H, W); the history is in the stream
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if count == 0:
                first_seconds = time.perf_counter() - t0
            else:
                net_seconds += time.perf_counter() - t0
            restored = (restored_t.permute(1, 2, 0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()
            writers[0].write(restored)
            if side_by_side:
                writers[1].write(np.concatenate([frame, restored], axis=1))
            count += 1
            bar.update(1)
        if count == 0:
            raise ValueError(f"{source} holds no frames: nothing to restore")
        for w in writers:
            w.close()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    finally:
        bar.close()
        stream.close()
    for note in sorted(notes):
        print(f"{'warning' if note.startswith(TRUNCATED) else 'note'}: {note}", file=sys.stderr)
    return RestoreStats(count, size[0], size[1], fps, time.perf_counter() - tick, net_seconds,
                        first_seconds, _peak_rss_mb(),
                        complete=not any(n.startswith(TRUNCATED) for n in notes))


def main(argv: list[str] | None = None) -> int:
    """``ronin-lite restore`` (``python -m ronin_lite.infer [restore] ...`` runs the same)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["restore"]:  # the older spelling, python -m ronin_lite.infer restore ...
        argv = argv[1:]
    p = argparse.ArgumentParser(
        prog="ronin-lite restore", description="Restore a video file or a folder of frames, "
        "frame by frame with the causal state (only the network is loaded).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  ronin-lite restore my_video.mp4 restored.mp4 --side-by-side sbs.mp4\n"
               "  ronin-lite restore frames/ restored/ --checkpoint runs/small\n"
               "exit codes: 0 done, 2 bad input, 3 the input ended early (truncated file)")
    p.add_argument("source", help="video file (any format FFmpeg reads) or folder of images")
    p.add_argument("output", help=".mp4/.mkv/... for a video, anything else for a PNG folder")
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT,
                   help=f"shipped name, checkpoint folder or run folder (default: "
                        f"{DEFAULT_CHECKPOINT})")
    p.add_argument("--side-by-side", default=None, help="also write input | restored here")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda when available)")
    p.add_argument("--tile", type=int, default=DEFAULT_TILE,
                   help=f"restore frames larger than this many pixels on a side as overlapping "
                        f"tiles, each with its own history (default {DEFAULT_TILE}; 0: whole "
                        "frames: small needs 3 GiB for 1080p on a CPU, data_scripts/bench_tiling.py)")
    p.add_argument("--tile-overlap", type=int, default=DEFAULT_OVERLAP,
                   help=f"pixels shared by neighbouring tiles, blended (default {DEFAULT_OVERLAP})")
    p.add_argument("--tile-passes", type=int, default=DEFAULT_PASSES,
                   help=f"passes over a frame's tiles (default {DEFAULT_PASSES}: the first "
                        "gathers the frame's statistics for the network's frame-wide operations, "
                        "the second restores with them; 1: each tile with its own statistics, "
                        "about twice as fast, further from the whole-frame result)")
    p.add_argument("--spill", choices=["auto", "yes", "no"], default="auto",
                   help="keep the tiles' histories in a temporary folder between frames: "
                        "auto (when they would exceed 256 MB), yes, no")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        from .checkpoints import load_any

        model = load_any(args.checkpoint, device)
        spill = {"auto": "auto", "yes": True, "no": False}[args.spill]
        stats = restore_video(model, args.source, args.output, args.side_by_side,
                              args.overwrite, device, args.max_frames, not args.quiet,
                              args.tile, args.tile_overlap, spill, args.tile_passes)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"restored {stats.frames} frames of {stats.width}x{stats.height} in "
          f"{stats.seconds:.1f} s: {stats.fps:.1f} frames/s overall, {stats.network_fps:.1f} "
          f"frames/s in the network ({device}); wrote {args.output}")
    return 0 if stats.complete else 3


if __name__ == "__main__":
    sys.exit(main())
