"""Write the evaluation splits of the `-lite` benchmarks to disk.

    python data_scripts/build_benchmarks.py                          # all four, tiny profile
    python data_scripts/build_benchmarks.py --benchmark 3d-lite --profile small --splits val test
    python data_scripts/build_benchmarks.py --scenes path/to/frames  # your own scenes

Each split becomes ``<root>/<name>_<size>px_seed<seed>/<split>/`` with PNG frames and a
``manifest.json`` (records of every frame, camera paths, a SHA-256 content hash). An
interrupted build resumes where it stopped; a folder without its manifest is never trusted.
Training clips are not written: training generates them on the fly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ronin_lite.config import data_root, get_profile
from ronin_lite.data.benchmarks import BENCHMARKS, SPLITS, get_benchmark, write_split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", nargs="+", default=sorted(BENCHMARKS),
                   choices=sorted(BENCHMARKS), help="which benchmarks (default: all)")
    p.add_argument("--profile", default="tiny", help="sizes from this profile (tiny/small/full)")
    p.add_argument("--splits", nargs="+", default=["test"], choices=SPLITS)
    p.add_argument("--size", type=int, help="frame size (default: the profile's eval_size)")
    p.add_argument("--seed", type=int, help="benchmark seed (default: the profile's)")
    p.add_argument("--scenes", default="builtin", help="'builtin' or a folder of scenes")
    p.add_argument("--root", type=Path, default=None,
                   help="output folder (default: <data root>/benchmarks)")
    args = p.parse_args(argv)

    profile = get_profile(args.profile)
    root = args.root or data_root() / "benchmarks"
    extra = {k: v for k, v in (("size", args.size), ("seed", args.seed)) if v is not None}
    for name in args.benchmark:
        bench = get_benchmark(name, profile, scenes=args.scenes, **extra)
        for split in args.splits:
            start = time.perf_counter()
            path = write_split(bench, split, root)
            manifest = json.loads((path / "manifest.json").read_text())
            print(f"{name:10s} {split:5s} {len(manifest['clips']):3d} clips "
                  f"{sum(c['frames'] for c in manifest['clips']):4d} frames "
                  f"sha256 {manifest['sha256'][:16]}  {time.perf_counter() - start:6.1f} s  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
