"""The shipped `small` pair under the evaluation protocol: results/protocol_small_bundled.json.

The README's benchmark table. The shipped ``small-3d-lite`` (RONIN-lite) and
``small-3d-lite-noprompt`` (its twin) were trained on the 8 training photographs that the
``"bundled"`` protocol keeps for training, so they can be scored on its **7 test scenes** (5 of
them real videos; :data:`ronin_lite.data.benchmarks.BUNDLED_SPLITS`) at the `small` profile's
128 px, 8 clips per scene, beside the degraded input and the classical methods tuned on val for
each task at the same size (``python data_scripts/tune_baselines.py --profile small`` first).
Every figure is the mean over scenes of the per-scene means; intervals resample scenes
(:mod:`ronin_lite.stats`; one training seed of each network exists, so seed-to-seed variation is
*not* in these intervals: the grounding study measures it at `tiny` scale)::

    python data_scripts/tune_baselines.py --profile small
    python data_scripts/eval_protocol.py            # ~5 minutes on 2 cores

``--split val`` scores the pair on the protocol's 3 val scenes instead
(``results/protocol_small_bundled_val.json``, no classical row): what a recipe chosen for the
`small` profile is compared with (``run_grounding_study.py --profile small`` scores the same val
clips), so that the choice never reads test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ronin_lite import evaluate as ev
from ronin_lite import stats, study
from ronin_lite.checkpoints import load_pretrained
from ronin_lite.io import write_json_atomic

NETWORKS = {"RONIN-lite": "small-3d-lite", "no-prompt twin": "small-3d-lite-noprompt"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default="results")
    p.add_argument("--split", choices=("test", "val"), default="test",
                   help="val: the networks and the degraded input on the val scenes only")
    args = p.parse_args(argv)
    if args.split == "val":
        return score_val(args, argv)
    clips = study.eval_clips("test", "small")
    tuned = json.loads((Path(args.results) / "baselines_bundled_small.json").read_text())
    rows = score_pair(clips)
    per_scene = {label: study.per_scene(r) for label, r in rows.items()}
    per_task = {label: study.per_task(r) for label, r in rows.items()}
    best = tuned["best_per_task"]
    per_scene["best classical per task (val)"] = best["test_per_scene"]
    per_task["best classical per task (val)"] = {
        t: tuned["test"][m][t]["psnr"] for t, m in best["methods"].items()}
    scenes = list(per_scene["RONIN-lite"])
    summary = {label: stats.scene_seed_interval([v[s] for s in scenes])
               for label, v in per_scene.items()}
    gaps = {f"RONIN-lite - {ref}": stats.scene_seed_interval(
        [per_scene["RONIN-lite"][s] - per_scene[ref][s] for s in scenes], comparisons=3)
        for ref in ("no-prompt twin", "best classical per task (val)", "degraded input")}
    results = {
        "command": ("python data_scripts/eval_protocol.py " + " ".join(
            sys.argv[1:] if argv is None else argv)).rstrip(),
        "protocol": study.PROTOCOL, "size": 128, "clips": len(clips),
        "frames_per_clip": len(clips[0].degraded), "scenes": scenes,
        "classical": {"methods": best["methods"], "file": "baselines_bundled_small.json",
                      "params": {t: tuned["chosen"][m][t]["params"]
                                 for t, m in best["methods"].items()}},
        "per_scene": per_scene, "per_task": per_task, "summary": summary, "gaps": gaps,
        "ssim": {label: float(np.mean([r["ssim"] for r in r_])) for label, r_ in rows.items()},
        "rows": {label: [{k: r[k] for k in ("clip_id", "scene", "task", "psnr")}
                         for r in r_] for label, r_ in rows.items()},
    }
    out = Path(args.results) / "protocol_small_bundled.json"
    write_json_atomic(out, results)
    for name, g in gaps.items():
        print(f"{name}: {stats.format_interval(g)}")
    print(f"wrote {out}")
    return 0


def score_pair(clips) -> dict[str, list[dict]]:
    """Rows of the shipped pair restoring ``clips``, and of the degraded input."""
    rows: dict[str, list[dict]] = {}
    for label, name in NETWORKS.items():
        rows[label] = study.score(load_pretrained(name, "cpu"), clips)
        print(f"{label}: {np.mean([r['psnr'] for r in rows[label]]):.2f} dB", flush=True)
    rows["degraded input"] = [{**r, "psnr": r["psnr_input"], "ssim": r["ssim_input"]}
                              for r in rows["RONIN-lite"]]
    return rows


def score_val(args, argv) -> int:
    """The shipped pair and the degraded input on the protocol's val clips, per scene."""
    clips = study.eval_clips("val", "small")
    rows = score_pair(clips)
    per_scene = {label: study.per_scene(r) for label, r in rows.items()}
    results = {
        "command": ("python data_scripts/eval_protocol.py " + " ".join(
            sys.argv[1:] if argv is None else argv)).rstrip(),
        "protocol": study.PROTOCOL, "split": "val", "size": 128, "clips": len(clips),
        "frames_per_clip": len(clips[0].degraded), "scenes": list(per_scene["RONIN-lite"]),
        "networks": NETWORKS, "per_scene": per_scene,
        "per_task": {label: study.per_task(r) for label, r in rows.items()},
        "val_psnr": {label: float(np.mean(list(v.values()))) for label, v in per_scene.items()},
    }
    out = Path(args.results) / "protocol_small_bundled_val.json"
    write_json_atomic(out, results)
    for label, value in results["val_psnr"].items():
        print(f"{label}: val {value:.2f} dB (mean of {len(per_scene[label])} scenes)")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
