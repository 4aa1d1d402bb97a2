"""Evaluation time per benchmark split, and the shipped model's scores on every benchmark.

For each benchmark (default: all four) and split, at ``--size`` with ``--clips-per-scene``:

* ``build_s``: seconds to synthesise the split's clips (scenes, camera paths, degradations);
* per method (the degraded ``input``, the ``--baselines``, the ``--checkpoint``), ``restore_s``
  and ``score_s``: seconds to restore every clip and to score it (PSNR, SSIM, flicker), and the
  mean PSNR / SSIM over the split (:func:`ronin_lite.evaluate.summarise`).

The shipped checkpoints were trained on ``3d-lite`` only: on ``4d-lite`` (weather and low
light), ``tv-lite`` (composites changing every few frames) and ``snowy-lite`` they are out of
their training distribution, and the scores say how far that carries - not what RONIN-lite
trained on those benchmarks would reach. ::

    python data_scripts/bench_eval.py --threads 2 --out results/bench_eval_128.json
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from ronin_lite import evaluate as ev
from ronin_lite.baselines import get_baseline
from ronin_lite.checkpoints import load_any
from ronin_lite.data.benchmarks import BENCHMARKS, SPLITS, get_benchmark
from ronin_lite.io import write_json_atomic


def time_method(restore, clips) -> dict:
    tick = time.perf_counter()
    rows = ev.evaluate(restore, clips, progress=False)
    total = time.perf_counter() - tick
    restore_s = sum(r["sec_per_frame"] * len(c.degraded) for r, c in zip(rows, clips))
    summary = ev.summarise(rows)["all"]
    return {"restore_s": restore_s, "score_s": total - restore_s, "psnr": summary["psnr"],
            "ssim": summary["ssim"], "psnr_input": summary["psnr_input"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS), choices=list(BENCHMARKS))
    p.add_argument("--split", default="test", choices=list(SPLITS))
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--clips-per-scene", type=int, default=24)
    p.add_argument("--seed", type=int, default=0, help="the benchmarks' seed")
    p.add_argument("--checkpoint", nargs="*", default=["small-3d-lite"])
    p.add_argument("--baselines", nargs="*", default=["nlm"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        models = {spec: ev.model_restorer(load_any(spec, "cpu"), "cpu")
                  for spec in args.checkpoint}
        methods = {"input": get_baseline("input"),
                   **{b: get_baseline(b) for b in args.baselines}, **models}
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = {"command": "python data_scripts/bench_eval.py " + " ".join(
               sys.argv[1:] if argv is None else argv),
           "size": args.size, "clips_per_scene": args.clips_per_scene, "split": args.split,
           "threads": args.threads, "benchmarks": {}}
    print("| benchmark | clips x frames | build (s) | "
          + " | ".join(f"{m} (s)" for m in methods) + " | " + " | ".join(
              f"{m} PSNR" for m in methods) + " |")
    for name in args.benchmarks:
        tick = time.perf_counter()
        bench = get_benchmark(name, size=args.size, seed=args.seed,
                              clips_per_scene=args.clips_per_scene)
        clips = list(bench.clips(args.split))
        entry = {"clips": len(clips), "frames_per_clip": bench.eval_len,
                 "build_s": time.perf_counter() - tick, "methods": {}}
        for method, restore in methods.items():
            entry["methods"][method] = time_method(restore, clips)
        out["benchmarks"][name] = entry
        m = entry["methods"]
        print(f"| {name} | {len(clips)} x {bench.eval_len} | {entry['build_s']:.1f} | "
              + " | ".join(f"{v['restore_s'] + v['score_s']:.1f}" for v in m.values()) + " | "
              + " | ".join(f"{v['psnr']:.2f}" for v in m.values()) + " |", flush=True)
        if args.out:
            write_json_atomic(args.out, out)
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
