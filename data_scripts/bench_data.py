"""How fast are clips generated on the fly? (Training must not starve waiting for data.)

    python data_scripts/bench_data.py                  # 64 and 128 px, every benchmark
    python data_scripts/bench_data.py --sizes 64 --clips 40

Prints, for each benchmark and frame size, training frames generated per second in one
process (what one DataLoader worker delivers), and the time to write each benchmark's test
split at the tiny profile's size. Figures depend on the machine: rerun it on yours.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import torch

from ronin_lite.config import get_profile
from ronin_lite.data.benchmarks import BENCHMARKS, get_benchmark, write_split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    p.add_argument("--clips", type=int, default=30, help="training clips timed per cell")
    p.add_argument("--T", type=int, default=5, help="frames per training clip")
    p.add_argument("--profile", default="tiny", help="profile for the test-split write timing")
    args = p.parse_args(argv)

    print(f"torch threads: {torch.get_num_threads()}; {args.clips} clips of {args.T} frames")
    print(f"{'benchmark':12s}" + "".join(f"{f'{s}px fps':>12s}" for s in args.sizes)
          + f"{'test split write':>20s}")
    profile = get_profile(args.profile)
    for name in sorted(BENCHMARKS):
        row = f"{name:12s}"
        for size in args.sizes:
            bench = get_benchmark(name, size=size)
            for scene in bench.scene_list:  # decode every scene once (cached in-process)
                scene.load()
            start = time.perf_counter()
            for i in range(args.clips):
                bench.sample(i + 1, T=args.T)
            row += f"{args.clips * args.T / (time.perf_counter() - start):12.0f}"
        bench = get_benchmark(name, profile)
        tmp = tempfile.mkdtemp()
        try:
            start = time.perf_counter()
            write_split(bench, "test", tmp, progress=False)
            row += f"{time.perf_counter() - start:14.1f} s ({bench.num_clips('test')} clips)"
        finally:
            shutil.rmtree(tmp)
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
