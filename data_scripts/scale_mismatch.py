"""What a training/test content-scale mismatch costs, measured at the ``tiny`` scale.

A training "crop" is a window over the scene (35-80 % of its shorter side) resampled to
``crop`` pixels, and an evaluation frame is the same kind of window resampled to
``eval_size`` (``ronin_lite.data.clips``). ``tiny`` trains and tests at 64 px: the same
content scale. ``small`` trains at 96 and tests at 128, ``full`` at 192 and 256: at test the
same content covers 1.33x more pixels, while noise, blur and JPEG blocks keep their size in
pixels. This script measures that mismatch where it is cheap: the no-prompt twin with
``tiny``'s recipe, trained on crops of 64 px (matched) and of 48 px (64 / 48 = 1.33, the
mismatch of ``small`` and ``full``), all scored on the grounding study's protocol clips at
64 px (val and test; 7 test scenes of real photographs and videos), 3 seeds each, paired seed
by seed and scene by scene with the matched network.

A smaller crop also means fewer pixels per step. So the mismatch is trained twice: with the
same 6 clips per step (fewer pixels: cheaper) and with 11 clips per step (about as many pixels
as 6 of 64 px, but more distinct crops). If both lose to the matched network, the mismatch
costs at least the smaller of the two gaps; if they disagree, pixels per step and scale cannot
be told apart at this budget, and the file says so by its numbers::

    python data_scripts/scale_mismatch.py --seeds 0 1 2 --out results/scale_mismatch_tiny.json

Runs go to ``runs/grounding-study`` (the matched network is the study's twin at the tiny
recipe, so a finished study run is reused) and are resumed when interrupted; the results file
is written atomically with the command. On the course's 2-core CPU each run takes about two
minutes; ``--variants`` trains some variants only (to split the work between two processes),
and a run without it trains what is missing and scores them all.
"""

from __future__ import annotations

import argparse
import sys

from ronin_lite import stats, study
from ronin_lite.config import get_profile
from ronin_lite.io import write_json_atomic
from ronin_lite.train import train

#: the reference every gap is measured against
MATCHED = "matched: 64 px crops, 6 clips a step"
#: label -> changes to the twin at the tiny recipe
VARIANTS: dict[str, dict] = {
    MATCHED: {},
    "1.33x mismatch: 48 px crops, 6 clips a step": {"crop": 48},
    "1.33x mismatch: 48 px crops, 11 clips a step": {"crop": 48, "batch": 11},
}


def recipe_changes() -> dict:
    """The twin with the ``tiny`` profile's recipe (its batch shape and clipping; the study's
    own base is the earlier 4 x 3, unclipped)."""
    tiny = get_profile("tiny")
    return {**study.VARIANTS[study.TWIN], "batch": tiny.batch, "clip_len": tiny.clip_len,
            "grad_clip": tiny.grad_clip}


def config(label: str, seed: int, runs: str):
    tiny = get_profile("tiny")
    return study.study_config({**recipe_changes(), **VARIANTS[label]}, seed, tiny.lr,
                              warmup=tiny.warmup, runs=runs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                   help="train these only, and stop (default: all, then score them)")
    p.add_argument("--runs", default="runs/grounding-study")
    p.add_argument("--out", default=None, help="results JSON")
    args = p.parse_args(argv)
    for label in args.variants:
        for seed in args.seeds:
            cfg = config(label, seed, args.runs)
            print(f"{label}, seed {seed}: {cfg.run_dir}", flush=True)
            train(cfg, ground=False, progress=False)
    if set(args.variants) != set(VARIANTS):
        print("trained; scoring compares every variant with the matched one: run without "
              "--variants once every run is trained")
        return 0
    results: dict = {"variants": {}, "meta": {
        "command": "python data_scripts/scale_mismatch.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "reference": MATCHED, "seeds": args.seeds, "protocol": study.PROTOCOL,
        "eval_size": get_profile("tiny").eval_size, "recipe": recipe_changes(),
        "comparisons": len(VARIANTS) - 1}}
    clips = {split: study.eval_clips(split) for split in ("val", "test")}
    for label in VARIANTS:
        entry: dict = {"changes": VARIANTS[label]}
        for seed in args.seeds:
            cfg = config(label, seed, args.runs)
            entry["config"] = {k: v for k, v in cfg.to_dict().items()
                               if k not in ("run_dir", "grounding_root", "seed")}
            model = train(cfg, ground=False, progress=False).model.eval().cpu()  # finished: loads
            for split, split_clips in clips.items():
                rows = study.score(model, split_clips)
                scores = entry.setdefault(split, {"per_seed_scene": {}})
                scores["per_seed_scene"][str(seed)] = study.per_scene(rows)
                scores["input_psnr_by_scene"] = study.per_scene(rows, "psnr_input")
        for split in clips:
            entry[split]["psnr"] = stats.scene_seed_interval(
                stats.scene_seed_table(entry[split]["per_seed_scene"])[0])
        results["variants"][label] = entry
    ref = results["variants"][MATCHED]
    for label, entry in results["variants"].items():
        for split in clips:
            if label != MATCHED:
                entry[split]["gap_vs_matched"] = stats.paired_interval(
                    entry[split]["per_seed_scene"], ref[split]["per_seed_scene"],
                    comparisons=len(VARIANTS) - 1)
        gap = entry["test"].get("gap_vs_matched")
        print(f"{label}: test {entry['test']['psnr']['mean']:.2f} dB"
              + (f", vs matched {stats.format_interval(gap)}" if gap else ""))
        per_scene = study.scene_means(entry["test"])  # scene -> mean over seeds
        order = ref["test"]["per_seed_scene"][str(args.seeds[0])]
        print("   per test scene:", ", ".join(f"{s} {per_scene[s]:.2f}" for s in order))
    if args.out:
        write_json_atomic(args.out, results)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
