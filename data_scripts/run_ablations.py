"""Run RONIN-lite's ablations, several seeds each: results/ablation_<group>_<profile>.json.

The groups, the default variant and how to read the results are in
:mod:`ronin_lite.ablations`. Each group trains variants of RONIN-lite that differ in one
setting (same data, steps and seeds), evaluates them on a benchmark's test split and writes
every seed's figures and their mean +- standard deviation, so a difference smaller than the
seed-to-seed noise is visible as such.

Runs are resumable and shared between groups (the default variant, "last2 / lambda 1 /
statistics / cross on", is trained once per seed); a finished run is not trained again, and the
results file is rewritten atomically after every variant, so an interrupted invocation loses at
most the variant in progress. Every entry records its training config; the file records the
command::

    python data_scripts/run_ablations.py --groups inject lambda --seeds 0 1 2
    python data_scripts/run_ablations.py --groups grounding cross twin perturb --seeds 0 1 2
    python data_scripts/run_ablations.py --groups twin --steps 1200   # a longer budget

A budget other than the profile's is written to ``ablation_<group>_<profile>_<steps>steps.json``.

On the course's 2-core CPU a ``tiny`` run (300 steps) takes ~75 s of training plus ~20 s of
evaluation; two invocations with different groups can run side by side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ronin_lite import ablations as ab
from ronin_lite.config import get_profile
from ronin_lite.io import write_json_atomic
from ronin_lite.train import train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--groups", nargs="+", default=list(ab.ALL_GROUPS), choices=ab.ALL_GROUPS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--profile", default="tiny")
    p.add_argument("--benchmark", default="3d-lite")
    p.add_argument("--steps", type=int, default=None, help="default: the profile's")
    p.add_argument("--clips-per-scene", type=int, default=16)
    p.add_argument("--runs", default="runs/ablations")
    p.add_argument("--grounding", default=None,
                   help="grounding caches (default: <data root>/grounding-ablations)")
    p.add_argument("--results", default="results")
    args = p.parse_args(argv)
    steps = args.steps or get_profile(args.profile).steps
    bench, clips = ab.benchmark_clips(args.profile, args.benchmark, args.clips_per_scene)
    prototypes, keys = ab.naming_prototypes()
    command = "python data_scripts/run_ablations.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    meta = {"command": command, "profile": args.profile, "benchmark": args.benchmark,
            "steps": steps, "seeds": args.seeds, "test_clips": len(clips),
            "test_frames": len(clips) * bench.eval_len, "size": bench.size}
    Path(args.results).mkdir(parents=True, exist_ok=True)
    for group in args.groups:
        out_file = ab.results_path(group, args.profile, args.results, steps)
        variants = ab.GROUPS.get(group, {"RONIN-lite": {}})
        results: dict = {"meta": {**meta, "group": group}, "variants": {}}
        if group == "perturb":
            results["meta"]["sigmas"] = list(ab.SIGMAS)
        for label, changes in variants.items():
            per_seed = {}
            for seed in args.seeds:
                cfg = ab.variant_config(changes, seed, args.profile, args.benchmark, steps,
                                        args.runs, args.grounding)
                print(f"[{group}] {label} seed {seed}: {cfg.run_dir}", flush=True)
                model = train(cfg, ground=cfg.needs_targets, progress=False).model.eval().cpu()
                per_seed[str(seed)] = (ab.perturbation(model, clips) if group == "perturb"
                                       else ab.evaluate_variant(model, clips, prototypes, keys))
            results["variants"][label] = {"changes": changes, "config": cfg.portable_dict(),
                                          "per_seed": per_seed, **ab.aggregate(per_seed)}
            write_json_atomic(out_file, results)
            summary = results["variants"][label]
            key = "psnr_by_sigma" if group == "perturb" else "psnr"
            print(f"  -> {key}: {summary[key]}", flush=True)
        print(f"wrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
