"""RONIN's ablations at our scale, several seeds each: results/ablation_<group>.json.

Each group trains variants of RONIN-lite that differ in one thing (same data, steps and
seeds), evaluates them on a benchmark's test split and writes mean +- standard deviation over
seeds, so a difference smaller than the seed-to-seed noise is visible as such:

``inject``      where the soft masks go: none / first / last2 (paper's) / all decoders
``lambda``      the prompt loss weight lambda_2: 0 (no grounding) / 0.001 / 0.01 (paper's) / 0.1 / 1
``grounding``   who describes the training frames (the paper's open question): the oracle, the
                statistics describer, the statistics describer corrupted at rate 0.25 and 0.5,
                and no grounding (lambda_2 = 0)
``cross``       the encoder-1 -> latent cross-attention on / off
``twin``        the no-prompt network (the reference every group is read against)
``perturb``     Gaussian noise of growing sigma on the prompts of the default variant at
                inference (no training of its own)

Runs are resumable and shared between groups (the default variant, "last2 / lambda 1 /
statistics / cross on", is trained once per seed); a finished run is skipped, and the results
file is rewritten atomically after every run, so an interrupted invocation loses at most the
run in progress. Every entry records its training config; the file records the command::

    python data_scripts/run_ablations.py --groups inject lambda --seeds 0 1 2
    python data_scripts/run_ablations.py --groups grounding cross twin perturb --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from ronin_lite import analysis
from ronin_lite import evaluate as ev
from ronin_lite.config import data_root, get_profile
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.io import write_json_atomic
from ronin_lite.train import TrainConfig, train

DEFAULT = {"inject": "last2", "lambda_prompt": 1.0, "describer": "statistics",
           "cross_attention": True, "prompt": True}
GROUPS: dict[str, dict[str, dict]] = {
    "inject": {m: {"inject": m} for m in ("none", "first", "last2", "all")},
    "lambda": {f"{v:g}": {"lambda_prompt": v} for v in (0.0, 0.001, 0.01, 0.1, 1.0)},
    "grounding": {"oracle": {"describer": "oracle"},
                  "statistics": {},
                  "corrupted 0.25": {"describer": "corrupted:0.25:statistics"},
                  "corrupted 0.5": {"describer": "corrupted:0.5:statistics"},
                  "none (lambda 0)": {"lambda_prompt": 0.0}},
    "cross": {"on": {}, "off": {"cross_attention": False}},
    "twin": {"no prompt": {"prompt": False, "inject": None, "lambda_prompt": 0.0},
             "RONIN-lite": {}},
}
SIGMAS = (0.0, 0.5, 1.0, 2.0, 4.0)
TYPES = ("noise", "blur", "compression")


def variant_config(changes: dict, seed: int, args) -> TrainConfig:
    settings = {**DEFAULT, **changes}
    if not settings["prompt"]:
        settings["inject"] = None
    describer = settings["describer"]
    name = "_".join(f"{k}={v}" for k, v in sorted(settings.items())).replace(":", "-")
    return TrainConfig(
        profile=args.profile, benchmark=args.benchmark, steps=args.steps, seed=seed,
        run_dir=str(Path(args.runs) / name / f"seed{seed}"),
        grounding_root=str(Path(args.grounding) / describer.replace(":", "-")),
        log_every=25, **settings)


def evaluate_model(model, clips, prototypes, keys) -> dict:
    tasks = [ev.clip_task(c) for c in clips]
    outs = [ev.restore_frames(model, c.degraded) for c in clips]
    rows = [ev.score_clip(r, c) for (r, _), c in zip(outs, clips)]
    summary = ev.summarise(rows)
    result = {"psnr": summary["all"]["psnr"], "ssim": summary["all"]["ssim"],
              "psnr_by_type": {k: v["psnr"] for k, v in summary.items() if k != "all"}}
    if model.generator is not None:
        prompts = model.embedding_from_prompt(torch.from_numpy(
            np.concatenate([q for _, q in outs]))).numpy()
        truth = [t for t in tasks for _ in range(len(clips[0].degraded))]
        named = analysis.nearest_description(prompts, prototypes, keys,
                                             model.target_mean.numpy().astype(np.float64))
        result["prompt_type_accuracy"] = analysis.naming_accuracy(named, truth)["type"]
    return result


def perturbation(model, clips) -> dict:
    outs = [ev.restore_frames(model, c.degraded) for c in clips]
    spread = float(np.concatenate([q for _, q in outs]).std())
    gen = torch.Generator().manual_seed(0)
    curve = {}
    for sigma in SIGMAS:
        scores = [ev.score_clip(ev.restore_frames(
            model, c.degraded, torch.from_numpy(q) + sigma * spread * torch.randn(
                q.shape, generator=gen))[0], c)["psnr"] for c, (_, q) in zip(clips, outs)]
        curve[f"{sigma:g}"] = float(np.mean(scores))
    return {"psnr_by_sigma": curve, "prompt_spread": spread}


def aggregate(per_seed: dict[str, dict]) -> dict:
    """mean and std over seeds of every number in the per-seed results."""
    seeds = list(per_seed.values())
    out: dict = {}

    def walk(path: tuple, values: list):
        if isinstance(values[0], dict):
            return {k: walk(path + (k,), [v[k] for v in values]) for k in values[0]}
        arr = np.array(values, dtype=float)
        return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0}

    out = walk((), seeds)
    out["seeds"] = len(seeds)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--groups", nargs="+", default=list(GROUPS) + ["perturb"],
                   choices=list(GROUPS) + ["perturb"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--profile", default="tiny")
    p.add_argument("--benchmark", default="3d-lite")
    p.add_argument("--steps", type=int, default=None, help="default: the profile's")
    p.add_argument("--clips-per-scene", type=int, default=16)
    p.add_argument("--runs", default="runs/ablations")
    p.add_argument("--grounding", default=str(data_root() / "grounding-ablations"))
    p.add_argument("--results", default="results")
    args = p.parse_args(argv)
    profile = get_profile(args.profile)
    args.steps = args.steps or profile.steps
    bench = get_benchmark(args.benchmark, size=profile.eval_size, seed=profile.seed,
                          clips_per_scene=args.clips_per_scene)
    clips = list(bench.clips("test"))
    from ronin_lite.grounding import TextEncoder

    prototypes, keys = analysis.description_prototypes(TextEncoder(device="cpu"), list(TYPES))
    command = "python data_scripts/run_ablations.py " + " ".join(argv or sys.argv[1:])
    meta = {"command": command, "profile": args.profile, "benchmark": args.benchmark,
            "steps": args.steps, "seeds": args.seeds, "test_clips": len(clips),
            "test_frames": len(clips) * bench.eval_len, "size": bench.size}
    Path(args.results).mkdir(parents=True, exist_ok=True)
    for group in args.groups:
        out_file = Path(args.results) / f"ablation_{group}_{args.profile}.json"
        variants = GROUPS.get(group, {"RONIN-lite": {}})
        results: dict = {"meta": {**meta, "group": group}, "variants": {}}
        for label, changes in variants.items():
            per_seed = {}
            for seed in args.seeds:
                cfg = variant_config(changes, seed, args)
                print(f"[{group}] {label} seed {seed}: {cfg.run_dir}", flush=True)
                model = train(cfg, ground=cfg.needs_targets, progress=False).model.eval().cpu()
                per_seed[str(seed)] = (perturbation(model, clips) if group == "perturb"
                                       else evaluate_model(model, clips, prototypes, keys))
            results["variants"][label] = {"changes": changes, "config": cfg.to_dict(),
                                          "per_seed": per_seed, **aggregate(per_seed)}
            write_json_atomic(out_file, results)
            summary = results["variants"][label]
            key = "psnr_by_sigma" if group == "perturb" else "psnr"
            print(f"  -> {key}: {summary[key]}", flush=True)
        print(f"wrote {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
