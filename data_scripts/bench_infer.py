"""Streaming inference figures: frames per second by resolution, peak memory by video length.

For a checkpoint (default: the shipped ``small-3d-lite``):

* frames per second of the network alone after the first frame (``network_fps``), the first
  frame's one-off set-up time, and frames per second of the whole decode -> restore -> encode
  loop, at each ``--sizes`` (``HxW``);
* the peak resident memory of a fresh process that restores a ``--short`` and a ``--long``
  frame video at ``--memory-size`` (they must be about equal: nothing grows with length).

Each measurement runs in its own process (``ronin-lite restore`` via ``python -m
ronin_lite.infer``) so that peak memory is that run's own::

    python data_scripts/bench_infer.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

RUN = """
import json, sys, torch
torch.set_num_threads(int(sys.argv[4]))
from ronin_lite import infer
from ronin_lite.checkpoints import load_any
model = load_any(sys.argv[1], "cpu")
s = infer.restore_video(model, sys.argv[2], sys.argv[3], progress=False)
print(json.dumps({"frames": s.frames, "fps": s.fps, "network_fps": s.network_fps,
                  "first_frame_seconds": s.first_frame_seconds, "peak_rss_mb": s.peak_rss_mb}))
"""


def make_video(path: Path, frames: int, h: int, w: int) -> Path:
    """A moving noisy test pattern, H.264: cheap to make at any size and length."""
    import av

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(path), mode="w", format="mp4") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for t in range(frames):
            base = 0.5 + 0.4 * np.sin((xx + 3 * t) / 9.0)[..., None] * np.cos(yy / 13.0)[..., None]
            img = np.clip(base + rng.normal(0, 0.08, (h, w, 3)), 0, 1)
            for p in s.encode(av.VideoFrame.from_ndarray((img * 255).astype(np.uint8), "rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def run(checkpoint: str, video: Path, out: Path, threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", RUN, checkpoint, str(video), str(out),
                           str(threads)], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", default="small-3d-lite")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", nargs="+", default=["256x256", "480x854"])
    p.add_argument("--frames", type=int, default=20, help="frames per speed measurement")
    p.add_argument("--short", type=int, default=50)
    p.add_argument("--long", type=int, default=500)
    p.add_argument("--memory-size", default="128x128")
    p.add_argument("--out", default=None, help="JSON results file")
    args = p.parse_args(argv)
    results: dict = {"checkpoint": args.checkpoint, "threads": args.threads, "speed": {},
                     "memory": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            h, w = map(int, size.split("x"))
            video = make_video(tmp / f"{size}.mp4", args.frames, h, w)
            r = run(args.checkpoint, video, tmp / f"{size}_out.mp4", args.threads)
            results["speed"][size] = r
            print(f"{size}: network {r['network_fps']:.2f} frames/s after the first frame "
                  f"(which took {r['first_frame_seconds']:.1f} s), whole loop {r['fps']:.2f} "
                  f"frames/s ({args.threads} threads)", flush=True)
        h, w = map(int, args.memory_size.split("x"))
        for n in (args.short, args.long):
            video = make_video(tmp / f"len{n}.mp4", n, h, w)
            r = run(args.checkpoint, video, tmp / f"len{n}_out.mp4", args.threads)
            results["memory"][str(n)] = r
            print(f"{n} frames at {args.memory_size}: peak RSS {r['peak_rss_mb']:.0f} MB, "
                  f"{r['fps']:.1f} frames/s", flush=True)
    if args.out:
        from ronin_lite.io import write_json_atomic

        results["command"] = "python data_scripts/bench_infer.py " + " ".join(argv or sys.argv[1:])
        write_json_atomic(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
