"""Classical baselines tuned on val, per task, and scored once on test:
results/baselines_bundled_<profile>.json.

Every classical method of :mod:`ronin_lite.baselines` gets the same care as the networks: each
parameter grid below is scored on the **val** scenes of the ``"bundled"`` protocol
(:mod:`ronin_lite.study`), separately on the clips of each task (noise, blur, compression), the
best setting per method and task is kept, and only that setting is run on **test**. The
"best classical per task" row picks, for each task, the method with the highest val PSNR: it
knows each clip's task (the networks do not), so it is a strong, task-aware reference. Wiener
deconvolution with the *true* blur sigma is listed, labelled as an oracle, and never chosen as
the best classical method::

    python data_scripts/tune_baselines.py            # ~5 minutes on 2 cores (tiny: 64 px)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

from ronin_lite import baselines as B
from ronin_lite import evaluate as ev
from ronin_lite import stats, study
from ronin_lite.io import write_json_atomic
from ronin_lite.metrics import psnr


def _grid(**axes) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


BALANCES = (0.001, 0.003, 0.01, 0.03, 0.1)
#: method -> (restorer(clip, clip_record, **params), parameter grid, is an oracle)
METHODS = {
    "input": (lambda clip, sigma, **p: B.identity(clip), [{}], False),
    "nlm": (lambda clip, sigma, **p: B.nlm(clip, **p),
            _grid(h_factor=(0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 2.0)), False),
    "tv": (lambda clip, sigma, **p: B.tv(clip, **p),
           _grid(weight_factor=(0.25, 0.5, 1.0, 1.5, 2.5, 4.0, 8.0)), False),
    "wavelet": (lambda clip, sigma, **p: B.wavelet(clip), [{}], False),
    "nlm-video": (lambda clip, sigma, **p: B.nlm_video(clip), [{}], False),
    "wiener (fixed PSF)": (lambda clip, sigma, **p: B.wiener(clip, **p),
                           _grid(psf_sigma=(0.8, 1.2, 1.6, 2.0, 2.5), balance=BALANCES), False),
    "wiener (estimated PSF)": (lambda clip, sigma, **p: B.wiener(clip, "estimate", **p),
                               _grid(balance=BALANCES), False),
    "wiener (oracle PSF)": (lambda clip, sigma, **p: B.wiener(clip, sigma or 1e-3, **p),
                            _grid(balance=BALANCES), True),
    "deblock": (lambda clip, sigma, **p: B.deblock(clip, **p),
                _grid(strength=("weak", "strong"), scale=(0.5, 1.0, 2.0, 4.0)), False),
}


def _true_blur_sigma(clip) -> float | None:
    for frame in clip.records:
        for rec in frame:
            if rec["name"] == "gaussian_blur":
                return float(rec["params"]["sigma"])
    return None


def _scores(method: str, params: dict, clips) -> list[float]:
    fn = METHODS[method][0]
    return [psnr(fn(c.degraded, _true_blur_sigma(c), **params), c.clean) for c in clips]


def _scene_mean(clips, values) -> dict[str, float]:
    """Scene -> mean of ``values`` over its clips (the protocol's per-scene score)."""
    return study.per_scene([{"scene": c.scene, "psnr": v} for c, v in zip(clips, values)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="tiny")
    p.add_argument("--results", default="results")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    split_clips = {s: study.eval_clips(s, args.profile) for s in ("val", "test")}
    by_task = {s: {} for s in split_clips}
    for s, clips in split_clips.items():
        for c in clips:
            by_task[s].setdefault(ev.clip_task(c)[0], []).append(c)
    tasks = sorted(by_task["val"])

    val_table: dict = {}
    chosen: dict = {}
    for method, (_, grid, _) in METHODS.items():
        val_table[method], chosen[method] = {}, {}
        for task in tasks:
            clips = by_task["val"][task]
            rows = []
            for params in grid:
                # each val scene weighs the same: the mean over scenes of the scene means
                per_scene = _scene_mean(clips, _scores(method, params, clips))
                rows.append({"params": params, "val_psnr": float(np.mean(list(
                    per_scene.values())))})
            val_table[method][task] = rows
            chosen[method][task] = max(rows, key=lambda r: r["val_psnr"])
        print(f"{method}: " + ", ".join(f"{t} {chosen[method][t]['val_psnr']:.2f} dB "
                                         f"{chosen[method][t]['params']}" for t in tasks),
              flush=True)

    best = {t: max((m for m in METHODS if not METHODS[m][2]),
                   key=lambda m: chosen[m][t]["val_psnr"]) for t in tasks}
    test: dict = {}
    for method in METHODS:
        test[method] = {}
        for task in tasks:
            clips = by_task["test"][task]
            values = _scores(method, chosen[method][task]["params"], clips)
            test[method][task] = {"psnr": float(np.mean(values)),
                                  "per_scene": _scene_mean(clips, values)}
    # the task-aware composite, clip by clip on the whole test split
    clips = split_clips["test"]
    values = [_scores(best[ev.clip_task(c)[0]],
                      chosen[best[ev.clip_task(c)[0]]][ev.clip_task(c)[0]]["params"], [c])[0]
              for c in clips]
    composite = _scene_mean(clips, values)
    results = {
        "meta": {"command": ("python data_scripts/tune_baselines.py " + " ".join(
                     sys.argv[1:] if argv is None else argv)).rstrip(),
                 "profile": args.profile, "protocol": study.PROTOCOL,
                 "size": study.get_profile(args.profile).eval_size,
                 "selection": "per method and task: highest mean val PSNR over the val scenes",
                 "oracles": [m for m in METHODS if METHODS[m][2]],
                 "seconds": round(time.perf_counter() - t0, 1)},
        "val": val_table, "chosen": chosen, "test": test,
        "best_per_task": {"methods": best, "test_per_scene": composite,
                          "test_psnr": stats.scene_seed_interval(list(composite.values()))},
    }
    out = Path(args.results) / f"baselines_bundled_{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, results)
    print(f"best classical per task (chosen on val): {best}; test "
          f"{stats.format_interval(results['best_per_task']['test_psnr'], signed=False)}")
    print(f"wrote {out} ({results['meta']['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
