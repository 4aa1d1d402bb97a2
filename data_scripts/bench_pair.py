"""Before and after: the inference speed of two versions of the package, paired in one process.

On a shared host a process's speed drifts by a fifth or more from one run to the next (the
memory-bound layers share the host's cache and memory bandwidth), which hides a change of a
few per cent however many separate runs are alternated. This script measures both versions in
the **same process, frame by frame**: it loads a second copy of ``ronin_lite`` from another
checkout (``--base``, e.g. a git worktree of the commit before a change) under a private name,
builds the same profile's RoninLite in both with the same random weights, and streams the same
frames through both (``torch.inference_mode``, batch 1, as ``ronin-lite restore`` does),
alternating which version runs first on each frame. It reports each version's median time per
frame, the median of the per-frame ratios (base / this checkout: above 1, this one is faster),
the best rate of the reference convolution of ``bench_roofline.py`` timed between frames (so
each median also reads as a ratio to the ceiling), and the largest difference between the two
versions' outputs: a change for speed must not change the restoration.

    git worktree add /tmp/before HEAD~1
    python data_scripts/bench_pair.py --base /tmp/before --profile small --size 256 --frames 40 \
        --repeats 5

The copy is made by renaming the package in the base's sources (every ``ronin_lite`` becomes
the private name), so both versions' modules live side by side in one interpreter; data,
checkpoints and caches are not touched.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data_scripts"))
from bench_roofline import machine, reference_conv, stream_macs  # noqa: E402


def load_base(checkout: Path, into: Path):
    """Import ``checkout``'s ``ronin_lite`` as a renamed copy in ``into`` (a fresh name per
    folder, so that a second call in one process never finds the first copy's modules)."""
    name = "ronin_base_" + "".join(c if c.isalnum() else "_" for c in Path(into).name)
    source = Path(checkout) / "ronin_lite"
    if not (source / "__init__.py").exists():
        raise SystemExit(f"--base {checkout}: no ronin_lite package there (give the root of a "
                         "checkout, e.g. a git worktree of the commit to compare with)")
    target = Path(into) / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for py in target.rglob("*.py"):
        py.write_text(py.read_text().replace("ronin_lite", name))
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{name}.models")


def checkout_commit(checkout: Path) -> str | None:
    """The short commit id the checkout holds (None outside git): what the base was."""
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def paired(profile: str, size: int, frames: int, base_models, seed: int = 0) -> dict:
    """Stream ``frames`` random frames through both versions, alternating; times and outputs."""
    from ronin_lite.models import RoninLite

    gen = torch.Generator().manual_seed(seed)
    new = RoninLite.from_profile(profile).eval()
    with torch.no_grad():  # trained-looking weights: every residual branch and scale non-zero
        for p in new.parameters():
            p.normal_(0, 0.05, generator=gen)
    old = base_models.RoninLite.from_profile(profile).eval()
    old.load_state_dict(new.state_dict())
    clip = torch.rand(frames, 1, 3, size, size, generator=gen)
    tau = new.backbone.config.tau
    times = {"base": [], "this": []}
    state = {"base": None, "this": None}
    diff, references = 0.0, []
    with torch.inference_mode():
        for i, frame in enumerate(clip):
            order = [("this", new), ("base", old)]
            outs = {}
            for name, model in order if i % 2 == 0 else order[::-1]:
                tick = time.perf_counter()
                out = model(frame, state[name])
                times[name].append(time.perf_counter() - tick)
                state[name], outs[name] = out.state, out.restored
            diff = max(diff, (outs["this"] - outs["base"]).abs().max().item())
            if i % 4 == 0:
                references.append(reference_conv(torch.device("cpu"), repeats=3))
    warm = slice(tau, None)  # the history is full from frame tau on: the stream's steady state
    base_s, this_s = (statistics.median(times[k][warm]) for k in ("base", "this"))
    ratios = [b / t for b, t in zip(times["base"][warm], times["this"][warm])]
    ceiling = max(r["gmac_per_s"] for r in references)
    gmacs = stream_macs(new, clip[:tau + 1]) / 1e9
    return {"profile": profile, "size": size, "frames": frames, "timed_frames": len(ratios),
            "base_seconds_per_frame": base_s, "this_seconds_per_frame": this_s,
            "speedup_of_medians": base_s / this_s, "paired_ratio_median": statistics.median(ratios),
            "paired_ratio_range": [min(ratios), max(ratios)], "max_abs_output_diff": diff,
            "ceiling_gmac_per_s": ceiling, "gmacs_per_frame": gmacs,
            "base_ratio_to_ceiling": gmacs / base_s / ceiling,
            "this_ratio_to_ceiling": gmacs / this_s / ceiling}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", type=Path, required=True,
                   help="root of the checkout to compare with (it holds ronin_lite/)")
    p.add_argument("--profile", default="small", choices=("tiny", "small", "full"))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--frames", type=int, default=24, help="streamed frames (the first tau warm "
                   "the history and are not timed)")
    p.add_argument("--repeats", type=int, default=1,
                   help="stream the frames this many times (fresh networks each time) and also "
                        "report the median and range of the runs' paired ratios")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--default-allocator", action="store_true",
                   help="leave glibc's malloc settings alone (see bench_roofline.py)")
    p.add_argument("--out", type=Path, help="also write the figures (and the machine) as JSON")
    args = p.parse_args(argv)
    from ronin_lite.runtime import keep_freed_memory

    kept = False if args.default_allocator else keep_freed_memory()
    torch.set_num_threads(args.threads)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        base_models = load_base(args.base, Path(tmp))
        for _ in range(args.repeats):
            result = paired(args.profile, args.size, args.frames, base_models)
            runs.append(result)
            print(f"{args.profile} at {args.size}px, {result['timed_frames']} timed frames: base "
                  f"{1e3 * result['base_seconds_per_frame']:.1f} ms/frame, this "
                  f"{1e3 * result['this_seconds_per_frame']:.1f}; paired ratio (base/this) "
                  f"median {result['paired_ratio_median']:.3f} (range "
                  f"{result['paired_ratio_range'][0]:.2f}-{result['paired_ratio_range'][1]:.2f});"
                  f" x the ceiling {result['base_ratio_to_ceiling']:.2f} -> "
                  f"{result['this_ratio_to_ceiling']:.2f}; outputs differ by at most "
                  f"{result['max_abs_output_diff']:.1e}", flush=True)
    medians = [r["paired_ratio_median"] for r in runs]
    summary = {"runs": runs, "paired_ratio_median_of_runs": statistics.median(medians),
               "paired_ratio_medians_range": [min(medians), max(medians)],
               "max_abs_output_diff": max(r["max_abs_output_diff"] for r in runs)}
    if args.repeats > 1:
        print(f"over {args.repeats} runs: paired ratio median {summary['paired_ratio_median_of_runs']:.3f}"
              f" (runs {min(medians):.3f}-{max(medians):.3f})")
    if args.out:
        from ronin_lite.io import write_json_atomic

        commit = checkout_commit(args.base)
        words = argv if argv is not None else sys.argv[1:]
        if args.base.is_absolute():  # results/ holds no machine's paths: name the commit instead
            words = [f"<checkout of {commit}>" if w == str(args.base) else w for w in words]
        write_json_atomic(args.out, {**summary, "base": {"commit": commit},
                                     "machine": {**machine(torch.device("cpu"), args.threads),
                                                 "freed_memory_kept": kept},
                                     "command": "python data_scripts/bench_pair.py "
                                                + " ".join(words)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
