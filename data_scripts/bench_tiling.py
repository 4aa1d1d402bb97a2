"""Tiled restoration of large frames: peak memory by resolution, and how close tiles come to whole.

For a checkpoint (default: the shipped ``small-3d-lite``) on the CPU:

* **peak memory**: the peak resident set size of a fresh ``ronin-lite restore`` process (torch
  and PyAV included) restoring ``--frames`` frames of a synthetic H.264 video at each of
  ``--sizes``, with the default settings (tiles of 384 px, overlap 32, tile histories spilled to
  a temporary folder when they would exceed 256 MB) and, with ``--whole``, with ``--tile 0``
  (whole frames) for contrast;
* **agreement**: the PSNR of the tiled restoration against the whole-frame restoration of the
  same frames, at ``--agreement-size`` (a size that fits both ways), frame by frame - how much
  tiling changes the result - at the tile size measured and at every size of
  ``--agreement-tiles``, for each number of passes of ``--passes`` (1: each tile with its own
  statistics; 2: the frame's, gathered by a first pass; see ``ronin_lite.tiling``), with the
  seconds per frame of each;
* **fidelity**: whether tiling costs accuracy, which agreement alone cannot say - a real video
  of the test split (``--fidelity-scene``, full size), degraded by noise, blur and JPEG at the
  real-footage check's settings, restored whole and in tiles of each size, each scored against
  the clean frames (and tiled against whole), for each number of passes.

Writes a JSON file with the command and the machine::

    python data_scripts/bench_tiling.py --threads 2 --out results/bench_tiling_cpu.json
    python data_scripts/bench_tiling.py --sizes --agreement-tiles 256 384 512 \
        --out results/bench_tiling_fidelity_cpu.json    # agreement and fidelity only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_infer import make_video  # noqa: E402

RUN = """
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[4]))
from ronin_lite import infer
from ronin_lite.checkpoints import load_any
model = load_any(sys.argv[1], "cpu")
from ronin_lite.tiling import DEFAULT_OVERLAP, DEFAULT_PASSES, DEFAULT_TILE
tile = DEFAULT_TILE if sys.argv[5] == "default" else int(sys.argv[5])
overlap = DEFAULT_OVERLAP if sys.argv[6] == "default" else int(sys.argv[6])
tick = time.perf_counter()
s = infer.restore_video(model, sys.argv[2], sys.argv[3], progress=False, tile=tile,
                        overlap=overlap)
print(json.dumps({"frames": s.frames, "seconds": time.perf_counter() - tick, "tile": tile,
                  "overlap": overlap, "passes": DEFAULT_PASSES if tile else 1,
                  "network_fps": s.network_fps, "peak_rss_mb": s.peak_rss_mb}))
"""


def restore_peak(checkpoint: str, video: Path, out: Path, threads: int, tile: str,
                 overlap: str) -> dict:
    """Run ``restore_video`` in a fresh process; ``tile``/``overlap``: a number or "default"."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", RUN, checkpoint, str(video), str(out),
                           str(threads), tile, overlap], capture_output=True, text=True,
                          env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(checkpoint: str, h: int, w: int, frames: int, tile: int, overlap: int,
              passes: int) -> tuple[list, float]:
    """PSNR (dB) of tiled against whole-frame restoration, frame by frame, and the tiled
    restoration's seconds per frame."""
    import torch

    from ronin_lite.checkpoints import load_any
    from ronin_lite.metrics import psnr
    from ronin_lite.tiling import TiledStream

    net = load_any(checkpoint, "cpu").eval()
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    scene = np.stack([0.5 + 0.3 * np.sin(29 * xx + 14 * yy), 0.4 + 0.3 * np.cos(23 * yy),
                      0.6 - 0.2 * xx]).astype(np.float32)
    rng = np.random.default_rng(0)
    clip = [torch.from_numpy(np.clip(np.roll(scene, 2 * t, -1)
                                     + rng.normal(0, 0.08, scene.shape), 0, 1)
                             .astype(np.float32))[None] for t in range(frames)]
    whole, state = [], None
    with torch.no_grad():
        for f in clip:
            out = net(f, state)
            state = out.state
            whole.append(out.restored.clamp(0, 1)[0].permute(1, 2, 0).numpy())
    tick = time.perf_counter()
    with TiledStream(net, tile=tile, overlap=overlap, passes=passes) as stream:
        tiled = [stream(f).clamp(0, 1)[0].permute(1, 2, 0).numpy() for f in clip]
    seconds = (time.perf_counter() - tick) / frames
    return [float(psnr(t, o)) for t, o in zip(tiled, whole)], seconds


def fidelity(checkpoint: str, scene: str, frames: int, tiles: list[int], overlap: int,
             passes: list[int]) -> dict:
    """Does tiling cost accuracy? A real video of the protocol's test split (never trained on),
    its first ``frames`` frames at full size, degraded by each of the real-footage check's
    settings (the project's operators: noise sigma 25/255, blur sigma 2, JPEG 20): the PSNR
    against the clean frames of whole-frame and tiled restoration, and tiled against whole."""
    import torch

    from real_footage_check import DEGRADATIONS, project_degrade
    from ronin_lite.checkpoints import load_any
    from ronin_lite.data.frames import to_uint8
    from ronin_lite.data.scenes import video_scenes
    from ronin_lite.metrics import psnr
    from ronin_lite.tiling import TiledStream

    net = load_any(checkpoint, "cpu").eval()
    videos = {v.name: v for v in video_scenes()}
    if scene not in videos:
        raise ValueError(f"no bundled video called {scene!r}; choose from {sorted(videos)}")
    clean = to_uint8(videos[scene].load(0, frames))  # (T, H, W, 3) uint8, as a user's video
    reference = clean.astype(np.float32) / 255
    out: dict = {"scene": scene, "size": "x".join(map(str, clean.shape[1:3])),
                 "frames": frames, "overlap": overlap, "degradations": {}}
    for degradation in DEGRADATIONS:
        degraded = project_degrade(clean, degradation, seed=0).astype(np.float32) / 255
        clip = [torch.from_numpy(f).permute(2, 0, 1)[None] for f in degraded]

        def restored(tile: int, n: int = 1) -> list:
            with TiledStream(net, tile=tile, overlap=overlap, passes=n) as stream:
                return [stream(f).clamp(0, 1)[0].permute(1, 2, 0).numpy() for f in clip]

        whole = restored(0)
        row = {"input": [float(psnr(d, c)) for d, c in zip(degraded, reference)],
               "whole": [float(psnr(o, c)) for o, c in zip(whole, reference)],
               "tiled": {}, "tiled_vs_whole": {}}  # passes -> tile -> per frame
        for n in passes:
            row["tiled"][str(n)], row["tiled_vs_whole"][str(n)] = {}, {}
            for tile in tiles:
                tiled = restored(tile, n)
                row["tiled"][str(n)][str(tile)] = [float(psnr(o, c))
                                                  for o, c in zip(tiled, reference)]
                row["tiled_vs_whole"][str(n)][str(tile)] = [float(psnr(t, o))
                                                           for t, o in zip(tiled, whole)]
            print(f"  {scene} {degradation}, {n} pass(es): input {np.mean(row['input']):.2f} dB, "
                  f"whole {np.mean(row['whole']):.2f}, " + ", ".join(
                      f"tiles of {t} {np.mean(v):.2f} (vs whole "
                      f"{np.mean(row['tiled_vs_whole'][str(n)][t]):.1f})"
                      for t, v in row["tiled"][str(n)].items()), flush=True)
        out["degradations"][degradation] = row
    return out


def main(argv: list[str] | None = None) -> int:
    # no torch in this process before the memory runs (see the note at the agreement below)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default="small-3d-lite")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", nargs="*", default=["480x854", "1080x1920", "2160x3840"],
                   help="frame sizes of the peak-memory runs (none: skip them)")
    p.add_argument("--frames", type=int, default=3, help="frames per memory measurement")
    p.add_argument("--whole", nargs="*", default=["480x854", "1080x1920"],
                   help="sizes also restored whole (--tile 0) for contrast")
    p.add_argument("--tile", default="default", help="tile side (default: the package's)")
    p.add_argument("--overlap", default="default", help="tile overlap (default: the package's)")
    p.add_argument("--agreement-size", default="720x1280")
    p.add_argument("--agreement-frames", type=int, default=3)
    p.add_argument("--agreement-tiles", nargs="*", type=int, default=[],
                   help="also measure the agreement at these tile sizes (same overlap)")
    p.add_argument("--passes", nargs="+", type=int, default=None,
                   help="numbers of passes of the agreement and fidelity runs (default: 1 and "
                        "the package's default)")
    p.add_argument("--fidelity-scene", default="bigbuckbunny",
                   help="the real test video of the fidelity measurement ('' skips it)")
    p.add_argument("--fidelity-frames", type=int, default=3)
    p.add_argument("--out", default=None, help="JSON results file")
    args = p.parse_args(argv)
    results: dict = {"checkpoint": args.checkpoint, "threads": args.threads,
                     "memory": {},
                     "machine": {"cpu": platform.processor() or platform.machine()}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            h, w = map(int, size.split("x"))
            video = make_video(tmp / f"{size}.mp4", args.frames, h, w)
            for tile in ([args.tile] + (["0"] if size in args.whole else [])):
                r = restore_peak(args.checkpoint, video, tmp / f"{size}_{tile}.mp4",
                                 args.threads, tile, args.overlap)
                tile = r["tile"]
                results["memory"][f"{size} tile {tile}"] = r
                print(f"{size} {'tiles of ' + str(tile) if tile else 'whole frames'}: peak RSS "
                      f"{r['peak_rss_mb']:.0f} MB ({r['peak_rss_mb'] / 1024:.2f} GiB), "
                      f"{r['seconds'] / r['frames']:.1f} s per frame", flush=True)
    # after the memory runs: a child process inherits the peak of the process that starts it
    # (Linux keeps the high-water mark across exec), so this process stays small until then
    import torch

    from ronin_lite.tiling import DEFAULT_OVERLAP, DEFAULT_PASSES, DEFAULT_TILE

    torch.set_num_threads(args.threads)
    tile = DEFAULT_TILE if args.tile == "default" else int(args.tile)
    overlap = DEFAULT_OVERLAP if args.overlap == "default" else int(args.overlap)
    passes = sorted(set(args.passes or [1, DEFAULT_PASSES]))
    results.update(tile=tile, overlap=overlap, passes=DEFAULT_PASSES, torch=torch.__version__)
    h, w = map(int, args.agreement_size.split("x"))
    # passes -> tile -> PSNR per frame; passes -> tile -> seconds per frame
    table: dict = {str(n): {} for n in passes}
    seconds: dict = {str(n): {} for n in passes}
    for n in passes:
        for size in sorted({tile, *args.agreement_tiles}):
            scores, secs = agreement(args.checkpoint, h, w, args.agreement_frames, size,
                                     overlap, n)
            table[str(n)][str(size)], seconds[str(n)][str(size)] = scores, secs
            print(f"tiled ({size} px, {n} pass(es)) vs whole at {args.agreement_size}: PSNR "
                  f"{', '.join(f'{s:.1f}' for s in scores)} dB over {len(scores)} frames, "
                  f"{secs:.1f} s per frame", flush=True)
    results["agreement"] = {"size": args.agreement_size, "psnr_db_by_passes": table,
                            "seconds_per_frame_by_passes": seconds}
    if str(DEFAULT_PASSES) in table:
        results["agreement"]["psnr_db"] = table[str(DEFAULT_PASSES)][str(tile)]
    if args.fidelity_scene:
        tick = time.perf_counter()
        print(f"fidelity on {args.fidelity_scene} (PSNR against the clean frames):", flush=True)
        results["fidelity"] = fidelity(args.checkpoint, args.fidelity_scene,
                                       args.fidelity_frames,
                                       sorted({tile, *args.agreement_tiles}), overlap, passes)
        print(f"  ({time.perf_counter() - tick:.0f} s)", flush=True)
    if args.out:
        from ronin_lite.io import write_json_atomic

        results["command"] = ("python data_scripts/bench_tiling.py "
                              + " ".join(argv if argv is not None else sys.argv[1:]))
        write_json_atomic(args.out, results)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
