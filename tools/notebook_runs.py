"""Train the runs the notebooks load, exactly as the notebooks would, and ship them.

A notebook step that trains for minutes calls ``ronin_lite.train.load_or_train(config,
shipped=NAME)``: it loads ``checkpoints/NAME/`` when that shipped run has the identity of
``config``, and trains otherwise. This script makes those checkpoints: each run below is trained
with the configuration its notebook builds, in the notebooks' environment (``tiny`` profile, one
thread, no GPU: ``ronin_lite.measured.NOTEBOOK_ENV``), then shipped with
``data_scripts/ship_checkpoint.py`` (weights, config, log, run.json, manifest; no optimizer
state). Its manifest digest goes into ``ronin_lite.checkpoints.PRETRAINED_MANIFESTS`` (printed at
the end), so that an install without the repository (Colab) downloads and verifies it.

    python tools/notebook_runs.py                 # every run (2 at a time)
    python tools/notebook_runs.py tiny-06-lambda1 # one run
    python tools/notebooks.py build 06            # then rebuild the notebook that loads it

If a notebook changes a run's configuration, change it here too: the notebook then prints that
it trained the run instead of loading it, and strict nbval fails on that line.

**Lesson runs** (``lesson-*``): notebooks 02 and 03 write their training loops out in full and
run them through :func:`ronin_lite.lesson_runs.load_or_run`. Their runs are made by executing
the notebook itself (headless, in the notebooks' environment, outputs discarded) with
``RONIN_SHIP_RUNS=1 RONIN_RETRAIN=1``: the loop the reader sees is the loop that trained the
shipped weights, and nothing here restates it. Rebuild the notebook afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ronin_lite.measured import NOTEBOOK_ENV  # noqa: E402



def _ablation_fields(changes: dict, seed: int) -> dict:
    """The fields of an ablation variant's run as notebook 09 configures it (paths aside)."""
    from ronin_lite.ablations import variant_config

    fields = variant_config(changes, seed=seed, runs="runs").to_dict()
    return {k: v for k, v in fields.items() if k not in ("run_dir", "grounding_root")}


#: name -> (notebook, TrainConfig fields the notebook sets; the rest are the tiny profile's)
RUNS = {
    **{f"tiny-06-lambda{lam:g}": ("06_prompt_approximation",
                                  dict(profile="tiny", benchmark="3d-lite", steps=500,
                                       log_every=10, ckpt_every=500, lambda_prompt=lam))
       for lam in (0.01, 1.0)},
    # notebook 09, section 7: the default ablation variant, seed 0
    "tiny-09-default-seed0": ("09_evaluation_and_ablations", _ablation_fields({}, seed=0)),
}

#: lesson run -> the notebook whose hand-written loop trains it (executed to ship it)
LESSON_RUNS = {
    "lesson-02-single-frame": "02_unet_backbone",
    "lesson-03-single-frame": "03_causal_history",
    "lesson-03-history": "03_causal_history",
}

_CHILD = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, {root!r})
from ronin_lite.train import TrainConfig, train
from data_scripts.ship_checkpoint import ship
fields, name, force = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
with tempfile.TemporaryDirectory(prefix="ronin-run-") as tmp:
    cfg = TrainConfig(**fields, grounding_root=f"{{tmp}}/grounding", run_dir=f"{{tmp}}/run")
    train(cfg, ground=True, progress=False)
    print(ship(Path(cfg.run_dir), name, force=force))
"""


def ship_lesson_notebook(notebook: str) -> None:
    """Execute ``notebooks/<notebook>.py`` with ``RONIN_SHIP_RUNS=1 RONIN_RETRAIN=1``: every
    lesson run it trains is written to ``checkpoints/`` (the executed notebook is discarded)."""
    env = {**os.environ, **NOTEBOOK_ENV, "RONIN_SHIP_RUNS": "1", "RONIN_RETRAIN": "1"}
    proc = subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; sys.path.insert(0, {tools!r}); import notebooks; "
        "notebooks.execute(Path({py!r}), 3600, {{}})").format(
            tools=str(ROOT / "tools"), py=str(ROOT / "notebooks" / f"{notebook}.py"))],
        env=env, cwd=ROOT, text=True, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{notebook} failed:\n{proc.stderr[-3000:]}")


def train_and_ship(name: str, force: bool) -> str:
    if name in LESSON_RUNS:
        if (ROOT / "checkpoints" / name).exists() and not force:
            raise FileExistsError(f"checkpoints/{name} exists; pass --force to replace it")
        ship_lesson_notebook(LESSON_RUNS[name])
        return str(ROOT / "checkpoints" / name)
    _, fields = RUNS[name]
    env = {**os.environ, **NOTEBOOK_ENV}
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(root=str(ROOT)), json.dumps(fields),
                           name, "1" if force else "0"], env=env, cwd=ROOT, text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = [*RUNS, *LESSON_RUNS]
    p.add_argument("names", nargs="*", help=f"runs (default: all of {', '.join(known)})")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--force", action="store_true", help="replace shipped runs")
    args = p.parse_args(argv)
    names = args.names or known
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown runs {unknown}; known: {', '.join(known)}")
    # a notebook with several lesson runs is executed once (it ships all of them)
    seen: set[str] = set()
    jobs = [n for n in names if n not in LESSON_RUNS or not (
        LESSON_RUNS[n] in seen or seen.add(LESSON_RUNS[n]))]
    with ThreadPoolExecutor(args.jobs) as pool:
        for name, folder in zip(jobs, pool.map(lambda n: train_and_ship(n, args.force), jobs)):
            print(f"{name}: {folder}")
    from ronin_lite.io import sha256_file

    print("manifest digests for ronin_lite.checkpoints.PRETRAINED_MANIFESTS:")
    for name in names:
        print(f'    "{name}": "{sha256_file(ROOT / "checkpoints" / name / "manifest.json")}",')
    return 0


if __name__ == "__main__":
    sys.exit(main())
