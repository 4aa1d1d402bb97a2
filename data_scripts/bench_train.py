"""A short training run that measures what a profile costs: seconds per step and peak memory.

    python data_scripts/bench_train.py --profile full --steps 200 --device cuda   # a GPU check
    python data_scripts/bench_train.py --profile tiny --steps 40                  # on a CPU
    python data_scripts/bench_train.py --profile tiny --steps 350 --threads 2 \
        --set scenes=bundled batch=6 clip_len=2 warmup=25 lr=0.008 grad_clip=0.01 \
        --grounding-root data/grounding-study/statistics \
        --out results/bench_train_tiny_cpu_350steps.json
    python data_scripts/bench_train.py --profile tiny --steps 300 --threads 2 \
        --set scenes=bundled batch=6 clip_len=2 warmup=25 lr=0.008 grad_clip=0.01 \
        --vs scenes=bundled batch=4 clip_len=3 lr=0.004 grad_clip=0 \
        --grounding-root data/grounding-study/statistics \
        --out results/bench_train_tiny_cpu.json    # the study's tiny recipe vs tiny's old run

The grounding cache for the run's training clips must exist (ground once on any machine with
`python -m ronin_lite.train ... --ground`, or pass --ground here). Prints a JSON summary: steps,
wall time, seconds per step after a 20-step warm-up, peak GPU memory (CUDA), the first and last
logged losses. The run folder is a temporary one unless --run-dir is given. ``--set KEY=VALUE``
changes any ``TrainConfig`` field (values read as JSON where they parse, else as text);
``--out`` also writes the summary, with the command and the machine, to a JSON file.
``--vs KEY=VALUE ...`` also times a reference run (the profile with these changes, same steps)
before and after the measured one, in the same process, and reports ``ratio``: the measured
run's wall time over the mean of the two reference runs - a figure that holds on a machine whose
speed drifts (a shared host), where seconds alone do not.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch

from ronin_lite.train import TrainConfig, train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="tiny")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--device", default=None)
    p.add_argument("--grounding-root", default="data/grounding")
    p.add_argument("--run-dir", default=None)
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--ground", action="store_true", help="ground missing clips first")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="TrainConfig fields to change, e.g. batch=6 clip_len=2 scenes=bundled")
    p.add_argument("--vs", nargs="+", default=None, metavar="KEY=VALUE",
                   help="also time this reference (the profile with these changes) before and "
                        "after, and report the ratio of wall times")
    p.add_argument("--out", default=None, help="also write the summary to this JSON file")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    def parse(items: list[str], flag: str) -> dict:
        out = {}
        for item in items:
            key, sep, value = item.partition("=")
            if not sep:
                p.error(f"{flag} takes KEY=VALUE, got {item!r}")
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value
        return out

    changes = parse(args.set, "--set")
    cuda = torch.cuda.is_available() and (args.device or "cuda").startswith("cuda")
    if cuda:
        print(torch.__version__, torch.cuda.get_device_name(0), flush=True)

    def timed(run_changes: dict, run_dir: str | None) -> dict:
        run_dir = run_dir or tempfile.mkdtemp(prefix="bench_train_")
        cfg = TrainConfig(profile=args.profile, steps=args.steps, device=args.device,
                          grounding_root=args.grounding_root, run_dir=run_dir, log_every=10,
                          ckpt_every=args.steps, num_workers=args.num_workers, **run_changes)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.time()
        result = train(cfg, ground=args.ground, progress=False)
        late = [r for r in result.log if r["step"] >= 20]
        return {
            "profile": args.profile, "steps": result.step,
            "wall_s": round(time.time() - start, 1),
            "s_per_step_after_20": round((late[-1]["time"] - late[0]["time"])
                                         / (late[-1]["step"] - late[0]["step"]), 3)
            if len(late) >= 2 else None,
            "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            "first": result.log[0], "last": result.log[-1],
            "changes": run_changes, "threads": torch.get_num_threads(),
        }

    if args.vs is None:
        summary = timed(changes, args.run_dir)
    else:  # reference, measured, reference: the ratio holds while the machine's speed drifts
        reference = parse(args.vs, "--vs")
        before = timed(reference, None)
        summary = timed(changes, args.run_dir)
        after = timed(reference, None)
        summary["reference"] = {"changes": reference,
                                "wall_s": [before["wall_s"], after["wall_s"]],
                                "s_per_step_after_20": [before["s_per_step_after_20"],
                                                        after["s_per_step_after_20"]]}
        summary["ratio"] = round(summary["wall_s"] / ((before["wall_s"] + after["wall_s"]) / 2),
                                 3)
    print(json.dumps(summary, indent=1))
    if args.out:
        from ronin_lite.io import write_json_atomic

        summary["command"] = "python data_scripts/bench_train.py " + shlex.join(
            sys.argv[1:] if argv is None else argv)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_roofline import machine  # the same description as the speed benchmarks

        summary["machine"] = machine(torch.device("cuda" if cuda else "cpu"),
                                     torch.get_num_threads())
        write_json_atomic(args.out, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
