"""The grounding study (ronin_lite.study): recipe sweep on val, then the oracle and the predicted
prompt against the no-prompt twin on test, several seeds: results/grounding_study_<profile>.json.

Three steps, each resumable (a finished run is found in its folder and not trained again; its
scores are kept beside it in ``scores.json``), and safe to run as two processes side by side on
different runs once the grounding caches exist::

    python data_scripts/run_grounding_study.py ground                      # caches (once)
    python data_scripts/run_grounding_study.py sweep --lrs 0.001 0.004     # val only
    python data_scripts/run_grounding_study.py sweep --lrs 0.002 0.008
    python data_scripts/run_grounding_study.py shape                       # val only
    python data_scripts/run_grounding_study.py compare --seeds 0 1 2       # at the val choice
    python data_scripts/run_grounding_study.py choose --seeds 0 1 2        # val only
    python data_scripts/run_grounding_study.py report                      # the results file

``sweep`` trains the no-prompt twin at each learning rate (with the warm-up of
:data:`ronin_lite.study.WARMUP` steps, and the ``--steps`` and ``--shape`` of the study it
chooses for) and scores it on the **val** scenes only; ``compare``
reads the sweep's choice (highest mean val PSNR) and trains every variant of
:data:`ronin_lite.study.VARIANTS` at it, scoring val and test; ``choose`` trains the recipe
choices of :data:`ronin_lite.study.CHOICES` (the prompt-loss weight, the target centring, soft
clean frames; ``--choices`` picks some) and scores them on **val only**, against RONIN-lite's
defaults; ``report`` writes the file. Runs made on another machine need not be made again:
``report --earlier FILE`` takes a variant whose runs are not in ``--runs`` from the results
file ``FILE`` where it records the same recipe (profile, benchmark, steps, batch shape,
clipping, seeds, the variant's changes and rate), recomputes every gap beside the variants run
here, and pairs the recipe choices with its RONIN-lite on ``--choice-seeds``.
``shape`` trains the twin, at the chosen learning rate, with each batch shape of
:data:`ronin_lite.study.SHAPES` (the same 12 frames per step, cut into more shorter or fewer
longer clips) and scores val only; ``compare`` and ``report`` with ``--shape LABEL`` train and
report every variant with that shape (a results file of its own, ``..._<batch>x<clip_len>``).

By default the rate is tuned for the twin and every variant trains at it. On ``4d-lite`` at
600 steps the twin's rate sank RONIN-lite's prompt path, and the twin's second rate did not
(README, "4d-lite at 600 steps"; the two results files
``grounding_study_tiny_4d-lite_600steps_6x2_clip0.01*.json``). ``--per-variant-lr`` gives every
variant the tuning the twin gets: ``sweep --variants A B`` sweeps each listed variant (the twin
alone without ``--variants``) on val at the sweep seed, and ``compare``/``report`` with
``--per-variant-lr`` train and report each variant at its own val choice (the results file ends
in ``_lrvariant`` and records each variant's sweep and rate). One seed ranks close rates by
chance, so ``--confirm 2`` (the rule the README's per-variant studies use) trains each variant's
two best sweep rates on every seed, scores them on val only, and takes the better over the
seeds (``_lrvariant_top2``; each variant's ``lr_confirm``)::

    python data_scripts/run_grounding_study.py sweep --variants "no prompt (twin)" \
        "RONIN-lite (FiLM)" --lrs 0.004 0.008 0.016                      # val only
    python data_scripts/run_grounding_study.py compare --per-variant-lr --confirm 2 \
        --variants "no prompt (twin)" "RONIN-lite (FiLM)"
    python data_scripts/run_grounding_study.py report --per-variant-lr --confirm 2 \
        --lrs 0.004 0.008 0.016
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from ronin_lite import stats, study
from ronin_lite.io import write_json_atomic
from ronin_lite.train import RUN_FILE, prepare_targets, run_differences, train

SCORES = "scores.json"


def _command(argv) -> str:
    return ("python data_scripts/run_grounding_study.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)).rstrip()


def _run(cfg, splits: dict, encoder) -> dict:
    """Train ``cfg`` (or find it finished) and score it on ``splits``; cached in the run."""
    out_file = Path(cfg.run_dir) / SCORES
    done = json.loads(out_file.read_text()) if out_file.exists() else {}
    if done and (Path(cfg.run_dir) / RUN_FILE).exists():
        differs = run_differences(cfg.run_dir, cfg)
        if differs:  # never take another run's scores for this one's
            raise ValueError(
                f"{cfg.run_dir} holds another run (differs in {', '.join(differs)}), whose "
                "scores are not this run's: pass another --runs folder, or delete that one")
    if all(s in done for s in splits):
        return done
    t0 = time.perf_counter()
    result = train(cfg, ground=False, progress=False)
    model = result.model.eval().cpu()
    log = result.log
    for split, clips in splits.items():
        if split in done:
            continue
        given = None
        if cfg.prompt_source == "describer":
            given = study.described_embeddings(clips, cfg.describer, cfg.describer_seed, encoder)
        try:
            done[split] = study.score(model, clips, given, single_frame=cfg.clip_len == 1)
        except study.NonFiniteOutput as e:
            # the loss exploded (a rate too high for this variant): nothing to score; the run
            # counts as diverged (study.diverged) and a sweep never chooses its rate
            done = {**{s: [] for s in splits}, "non_finite": str(e),
                    "train_seconds": log[-1]["time"] if log else None, "final_loss": None}
            write_json_atomic(out_file, done)
            print(f"  {cfg.run_dir}: {e}; diverged", flush=True)
            return done
    done["train_seconds"] = done.get("train_seconds") or (log[-1]["time"] if log else None)
    done["final_loss"] = log[-1]["l1"] if log else None
    write_json_atomic(out_file, done)
    print(f"  {cfg.run_dir}: " + ", ".join(
        f"{s} {np.mean([r['psnr'] for r in done[s]]):.2f} dB" for s in splits)
        + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
    return done


def _config(args, changes, seed: int, lr: float):
    """The run config of ``changes`` (a variant's or a choice's) at ``seed`` and ``lr``, with the
    command line's profile, steps, folders and benchmark."""
    if args.grad_clip:  # the run folder names it; without it, the folders of earlier runs
        changes = {**changes, "grad_clip": args.grad_clip}
    return study.study_config(changes, seed, lr, args.profile, args.steps, runs=args.runs,
                              grounding=args.grounding, benchmark=args.benchmark)


def _shape_config(args, shape: str, lr: float):
    """The twin trained with the batch shape ``shape`` (the ``shape`` step's run)."""
    return _config(args, study.with_shape(study.VARIANTS[study.TWIN], shape), args.sweep_seed, lr)


def _shaped_config(args, changes, seed: int, lr: float):
    """``changes`` (a variant's or a recipe choice's) at ``seed`` and ``lr``, with the study's
    batch shape."""
    return _config(args, study.with_shape(changes, args.shape), seed, lr)


def _variant_config(args, label: str, seed: int, lr: float):
    """The variant ``label`` at ``seed`` and ``lr``, with the study's batch shape."""
    return _shaped_config(args, study.VARIANTS[label], seed, lr)


def _sweep_config(args, lr: float, label: str = study.TWIN):
    """The variant ``label`` (the twin by default) at ``lr``: the ``sweep`` step's run, with the
    study's batch shape and steps and the sweep seed. A learning rate is chosen for the recipe it
    trains (at the study's base shape, the ``shape`` step's run of a shape is also that shape's
    sweep run at the chosen rate); a variant's sweep run at its chosen rate is also its
    ``compare`` run of the sweep seed."""
    return _variant_config(args, label, args.sweep_seed, lr)


def _encoder():
    from ronin_lite.grounding import TextEncoder

    return TextEncoder(device="cpu")


def sweep_scores(args, label: str = study.TWIN) -> dict[float, dict]:
    """Learning rate -> the scores of its finished sweep run (the variant ``label``, the twin by
    default, ``--sweep-seed``), for the default grid and any rate of ``--lrs`` (a grid extended
    where its best rate was at an edge)."""
    out = {}
    for lr in sorted({*study.LRS, *args.lrs}):
        cfg = _sweep_config(args, lr, label)
        f = Path(cfg.run_dir) / SCORES
        if f.exists():
            out[lr] = json.loads(f.read_text())
    return out


def shape_scores(args, lr: float) -> dict[str, dict]:
    """Batch shape -> the scores of its finished twin run (``--sweep-seed``, at ``lr``)."""
    out = {}
    for label in study.SHAPES:
        cfg = _shape_config(args, label, lr)
        f = Path(cfg.run_dir) / SCORES
        if f.exists():
            out[label] = json.loads(f.read_text())
    return out


def sweep_ranking(args, label: str = study.TWIN) -> list[float]:
    """The rates of the finished sweep runs of the variant ``label`` (the twin by default), best
    mean val PSNR first; a rate whose run diverged to non-finite outputs is never ranked."""
    table = {lr: np.mean([r["psnr"] for r in s["val"]])
             for lr, s in sweep_scores(args, label).items() if not s.get("non_finite")}
    if not table:
        raise SystemExit(f"no finished sweep run of {label!r}: run the sweep step first"
                         + ("" if label == study.TWIN else f' (sweep --variants "{label}")'))
    return sorted(table, key=table.get, reverse=True)


def sweep_choice(args, label: str = study.TWIN) -> float:
    """The learning rate with the highest mean val PSNR among the finished sweep runs of the
    variant ``label`` (the twin by default)."""
    return sweep_ranking(args, label)[0]


def confirm_table(args, label: str) -> dict[float, float | None]:
    """``--confirm N``: the ``N`` best rates of ``label``'s sweep, each -> its mean val PSNR
    over every seed of ``--seeds`` and every val scene (``None`` until all its runs are
    finished; ``-inf`` where a run's outputs became non-finite)."""
    out = {}
    for lr in sweep_ranking(args, label)[:args.confirm]:
        values = []
        for seed in args.seeds:
            f = Path(_variant_config(args, label, seed, lr).run_dir) / SCORES
            s = json.loads(f.read_text()) if f.exists() else {}
            if s.get("non_finite"):
                values = [-np.inf]
                break
            if "val" not in s:
                values = None
                break
            values.append(np.mean([r["psnr"] for r in s["val"]]))
        out[lr] = None if values is None else float(np.mean(values))
    return out


def confirmed_choice(args, label: str) -> float:
    """The rate of :func:`confirm_table` with the highest val PSNR over the seeds."""
    table = confirm_table(args, label)
    if any(v is None for v in table.values()):
        raise SystemExit(f"{label!r}: the confirmation runs are not finished (compare "
                         f"--per-variant-lr --confirm {args.confirm} trains them)")
    return max(table, key=table.get)


def chosen_lr(args) -> float:
    """The sweep's choice, or ``--lr`` (which needs ``--lr-reason``: the results file records
    both, e.g. that a variant diverged at the sweep's choice)."""
    if args.lr is None:
        return sweep_choice(args)
    if not args.lr_reason:
        raise SystemExit("--lr overrides the learning rate chosen on val: say why with "
                         "--lr-reason (it is written into the results file)")
    return args.lr


def variant_lr(args, label: str) -> float:
    """The rate the variant ``label`` trains at: ``--lr`` where given, its own val choice with
    ``--per-variant-lr``, otherwise the twin's (:func:`chosen_lr`)."""
    if args.per_variant_lr and args.lr is None:
        return confirmed_choice(args, label) if args.confirm > 1 else sweep_choice(args, label)
    return chosen_lr(args)


def _ground_softened(args, changes: dict, lr: float) -> None:
    """Runs on soft clean frames (``soften``) train on clips of their own, described in a
    grounding cache of their own: ground it (once; resumable) before the first such run."""
    cfg = _shaped_config(args, changes, 0, lr)
    if cfg.soften and cfg.needs_targets:  # a network without the prompt loss needs none
        prepare_targets(cfg, ground=True, progress=False)


def _needs_encoder(label: str) -> bool:
    return study.VARIANTS[label].get("prompt_source") == "describer"


def prompt_agreement(cfg, clips, targets) -> dict:
    """How well the finished run ``cfg``'s predicted prompts approximate the describer's text
    embeddings of ``clips``' frames (``targets``, per clip ``(T, D)``): R^2 (against the targets'
    own mean, the best constant), the spread ratio and the centred cosine of
    :func:`ronin_lite.analysis.prompt_agreement`, over all frames. Cached in the run's scores
    file (``val_prompt``)."""
    from ronin_lite import analysis
    from ronin_lite import evaluate as ev

    out_file = Path(cfg.run_dir) / SCORES
    done = json.loads(out_file.read_text())
    if "val_prompt" not in done:
        model = train(cfg, ground=False, progress=False).model.eval().cpu()  # finished: loads
        predicted = []
        for clip in clips:
            _, prompts = ev.restore_frames(model, clip.degraded)
            with torch.no_grad():
                predicted.append(model.embedding_from_prompt(torch.from_numpy(
                    np.asarray(prompts, np.float32))).numpy())
        target = np.concatenate(targets)
        # R^2 against the best constant on these frames (their mean), whatever the run's own
        # target normalisation, so that every choice is measured on the same scale
        agreement = analysis.prompt_agreement(np.concatenate(predicted), target,
                                              target.mean(0))
        done["val_prompt"] = {k: agreement[k] for k in ("r2", "spread_ratio", "centred_cosine")}
        write_json_atomic(out_file, done)
    return done["val_prompt"]


def earlier_entry(args, earlier: dict | None, label: str, changes: dict, lr: float) -> dict | None:
    """``--earlier``: the variant ``label`` as the results file ``earlier`` reports it, where
    that file records this very recipe (profile, benchmark, steps, batch shape, clipping, seeds,
    and the variant's changes and rate), with ``from`` naming the file; its gaps are dropped, to
    be recomputed beside this report's variants. ``None`` where the file has no such entry."""
    if earlier is None or label not in earlier["variants"]:
        return None
    meta, entry = earlier["meta"], earlier["variants"][label]
    ours = {"profile": args.profile, "steps": args.steps or study.get_profile(args.profile).steps,
            "shape": args.shape, "grad_clip": args.grad_clip, "seeds": args.seeds,
            "benchmark": args.benchmark}
    theirs = {**{k: meta.get(k) for k in ours}, "benchmark": meta["protocol"]["benchmark"]}
    if theirs != ours or entry["changes"] != changes or entry["lr"] != lr:
        return None
    out = {**entry, "from": Path(args.earlier).name}
    for split in ("val", "test"):
        out[split] = {k: v for k, v in entry[split].items() if k != "gap_vs_twin"}
    return out


def val_choices(args, lr: float, earlier: dict | None = None) -> dict:
    """The finished ``choose`` runs: per choice, its val PSNR and its paired gap over
    RONIN-lite's defaults (:data:`ronin_lite.study.CHOICE_REFERENCE`, the same seeds), jointly
    over the choices made, and how well its prompt approximates the text on val (R^2: what
    the prompt-loss weight and the centring trade against restoration). Test is not read."""
    seeds = args.choice_seeds or args.seeds

    def per_seed(changes) -> dict | None:
        out = {}
        for seed in seeds:
            f = Path(_shaped_config(args, changes, seed, lr).run_dir) / SCORES
            if not f.exists():
                return None
            out[str(seed)] = study.per_scene(json.loads(f.read_text())["val"])
        return out

    val_clips = targets = None

    def grounding(changes) -> dict:
        nonlocal val_clips, targets
        if val_clips is None:
            val_clips = study.eval_clips("val", args.profile, benchmark=args.benchmark)
            targets = study.described_embeddings(val_clips, "statistics", 0, _encoder())
        return {str(seed): prompt_agreement(_shaped_config(args, changes, seed, lr), val_clips,
                                            targets)
                for seed in seeds}

    reference = per_seed(study.VARIANTS[study.CHOICE_REFERENCE])
    reference_from = None
    if reference is None:  # its runs made elsewhere: the per-seed table of --earlier's file
        entry = earlier_entry(args, earlier, study.CHOICE_REFERENCE, study.with_shape(
            study.VARIANTS[study.CHOICE_REFERENCE], args.shape), lr)
        table = entry and entry["val"]["per_seed_scene"]
        if table and all(str(seed) in table for seed in seeds):
            reference = {str(seed): table[str(seed)] for seed in seeds}
            reference_from = entry["from"]
    found = {label: per_seed(changes) for label, changes in study.CHOICES.items()
             if not args.choices or label in args.choices}
    found = {label: table for label, table in found.items() if table}
    if reference is None or not found:
        return {}
    out = {"reference": study.CHOICE_REFERENCE, "split": "val", "choices": {},
           "prompt_targets": "the statistics describer's descriptions of the val frames"}
    if seeds != args.seeds:
        out["seeds"] = seeds
    if reference_from:  # no run here to measure its prompt's agreement with
        out["reference_from"] = reference_from
    for label, table in found.items():
        scenes_table, _, _ = stats.scene_seed_table(table)
        out["choices"][label] = {
            "changes": study.CHOICES[label], "per_seed_scene": table,
            "psnr": stats.scene_seed_interval(scenes_table),
            "gap_vs_reference": stats.paired_interval(table, reference, comparisons=len(found)),
            "prompt": grounding(study.CHOICES[label])}
    ref_table, _, _ = stats.scene_seed_table(reference)
    out["reference_psnr"] = stats.scene_seed_interval(ref_table)
    if not reference_from:
        out["reference_prompt"] = grounding(study.VARIANTS[study.CHOICE_REFERENCE])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("step", choices=("ground", "sweep", "shape", "compare", "choose", "report"))
    p.add_argument("--profile", default="tiny")
    p.add_argument("--benchmark", default=study.PROTOCOL["benchmark"],
                   choices=("3d-lite", "4d-lite", "tv-lite"),
                   help="the benchmark trained and scored on (the results file names it when "
                        "it is not the protocol's)")
    p.add_argument("--steps", type=int, default=None, help="default: the profile's")
    p.add_argument("--lrs", nargs="+", type=float, default=list(study.LRS))
    p.add_argument("--lr", type=float, default=None,
                   help="compare/report at this learning rate instead of the sweep's choice "
                        "(needs --lr-reason)")
    p.add_argument("--lr-reason", default=None,
                   help="why --lr overrides the val choice (recorded in the results file)")
    p.add_argument("--sweep-seed", type=int, default=0)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", default=None, choices=list(study.VARIANTS),
                   help="compare: these variants (default: all); sweep: sweep these (default: "
                        "the twin alone); report: these beside the twin (default: every "
                        "variant with finished runs), e.g. variants added to a study later, "
                        "compared in a file of their own (--out)")
    p.add_argument("--choices", nargs="+", default=None, choices=list(study.CHOICES),
                   help="choose: train these recipe choices only; report: report these only "
                        "(default: all)")
    p.add_argument("--choice-seeds", nargs="+", type=int, default=None,
                   help="report: the seeds the recipe choices were trained with (default: "
                        "--seeds)")
    p.add_argument("--earlier", default=None,
                   help="report: a results file whose variants stand in for runs that are not "
                        "in --runs (made on another machine), where it records the same recipe; "
                        "their entries name it (from), and every gap is recomputed")
    p.add_argument("--per-variant-lr", action="store_true",
                   help="compare/report: every variant at its own rate chosen on val (its sweep "
                        "runs; sweep --variants makes them) instead of the twin's")
    p.add_argument("--confirm", type=int, default=1,
                   help="with --per-variant-lr: the N best rates of a variant's one-seed sweep "
                        "are trained at every seed of --seeds and scored on val, and the rate "
                        "with the best val PSNR over the seeds is chosen (1: the sweep's best); "
                        "test is scored at the chosen rate only")
    p.add_argument("--shape", default=study.DEFAULT_SHAPE, choices=list(study.SHAPES),
                   help="compare/report every variant with this batch shape (default: the "
                        "study's base, 4 clips x 3 frames, the tiny profile's when the study "
                        "began; the shape step sweeps them on val)")
    p.add_argument("--grad-clip", type=float, default=0.0,
                   help="every run (sweep and shape included) clips its gradient norm at this "
                        "value (TrainConfig.grad_clip; 0: no clipping, the study's default; the "
                        "results file's name ends in _clip<value>)")
    p.add_argument("--runs", default="runs/grounding-study")
    p.add_argument("--grounding", default=None, help="default: <data root>/grounding-study")
    p.add_argument("--results", default="results")
    p.add_argument("--out", default=None,
                   help="report: the results file (default: <results>/<the study's name>); "
                        "e.g. a replication on another machine beside the original")
    args = p.parse_args(argv)
    if args.confirm > 1 and not args.per_variant_lr:
        p.error("--confirm needs --per-variant-lr")

    if args.step == "ground":
        for describer in ("statistics", "oracle", "oracle:type"):
            changes = {**study.VARIANTS["oracle prompt, masks"], "describer": describer}
            if describer == "statistics":
                changes = study.VARIANTS["RONIN-lite (masks)"]
            changes = study.with_shape(changes, args.shape)  # the cache is per clip length
            cfg = _config(args, changes, 0, study.LRS[0])
            prepare_targets(cfg, ground=True, progress=True)
            print(f"grounded: {describer}", flush=True)
        return 0

    if args.step == "sweep":
        val = {"val": study.eval_clips("val", args.profile, benchmark=args.benchmark)}
        labels = args.variants or [study.TWIN]
        encoder = _encoder() if any(map(_needs_encoder, labels)) else None
        for label in labels:
            for lr in args.lrs:
                print(f"[{label}] lr {lr:g}, seed {args.sweep_seed}", flush=True)
                _run(_sweep_config(args, lr, label), val, encoder)
        return 0

    if args.step == "shape":
        lr = chosen_lr(args)
        val = {"val": study.eval_clips("val", args.profile, benchmark=args.benchmark)}
        for label in study.SHAPES:
            cfg = _shape_config(args, label, lr)
            print(f"[{label}] seed {args.sweep_seed}", flush=True)
            _run(cfg, val, None)
        return 0

    if args.step == "compare":
        labels = args.variants or list(study.VARIANTS)
        if args.per_variant_lr and args.lr is None:  # every sweep finished, before training
            for label in labels:
                sweep_ranking(args, label)
        else:
            chosen_lr(args)
        if args.lr is not None:
            print(f"learning rate {args.lr:g}, not the val choice: {args.lr_reason}", flush=True)
        splits = {s: study.eval_clips(s, args.profile, benchmark=args.benchmark)
                  for s in ("val", "test")}
        encoder = _encoder()
        if args.per_variant_lr and args.confirm > 1 and args.lr is None:
            for label in labels:  # the candidates on val at every seed; test not scored
                for lr in sweep_ranking(args, label)[:args.confirm]:
                    for seed in args.seeds:
                        cfg = _variant_config(args, label, seed, lr)
                        print(f"[{label}] candidate rate {lr:g}, seed {seed} (val)", flush=True)
                        _run(cfg, {"val": splits["val"]}, encoder)
        rates = {label: variant_lr(args, label) for label in labels}
        for label in labels:
            lr = rates[label]
            _ground_softened(args, study.VARIANTS[label], lr)
            print(f"[{label}] learning rate {lr:g}"
                  + (" (its own, chosen on val)" if args.per_variant_lr and args.lr is None
                     else " (the twin's, chosen on val)" if args.lr is None else ""), flush=True)
            for seed in args.seeds:
                cfg = _variant_config(args, label, seed, lr)
                print(f"[{label}] seed {seed}", flush=True)
                _run(cfg, splits, encoder)
        return 0

    if args.step == "choose":
        lr = chosen_lr(args)
        val = {"val": study.eval_clips("val", args.profile, benchmark=args.benchmark)}
        for label, changes in study.CHOICES.items():
            if args.choices and label not in args.choices:
                continue
            _ground_softened(args, changes, lr)
            for seed in args.seeds:
                cfg = _shaped_config(args, changes, seed, lr)
                print(f"[{label}] seed {seed}", flush=True)
                _run(cfg, val, None)
        return 0

    # report
    lr = chosen_lr(args)

    def sweep_table(label: str = study.TWIN) -> dict:
        return {f"{lr_i:g}": {"val_psnr": float(np.mean([r["psnr"] for r in s["val"]])),
                              "val_psnr_by_scene": study.per_scene(s["val"]),
                              "train_seconds": s["train_seconds"]}
                if not s.get("non_finite") else  # diverged: no score
                {"val_psnr": None, "non_finite": True, "train_seconds": s["train_seconds"]}
                for lr_i, s in sweep_scores(args, label).items()}

    earlier = json.loads(Path(args.earlier).read_text()) if args.earlier else None
    sweep = sweep_table() or (earlier or {}).get("lr_sweep", {})
    variants, failed = {}, {}
    for label, changes in study.VARIANTS.items():
        if args.variants and label not in args.variants and label != study.TWIN:
            continue  # report --variants: these alone, beside the twin (the reference)
        changes = study.with_shape(changes, args.shape)
        entry: dict = {"changes": changes, "diverged_seeds": {}}
        if args.per_variant_lr and args.lr is None:
            if not sweep_scores(args, label):
                continue  # a variant is reported at its own rate only once it was swept
            if args.confirm > 1:
                table = confirm_table(args, label)
                if any(v is None for v in table.values()):
                    continue
                entry["lr_confirm"] = {f"{r:g}": v if np.isfinite(v) else "diverged"
                                       for r, v in table.items()}
            entry["lr"] = variant_lr(args, label)
            entry["lr_sweep"] = sweep_table(label)
        else:
            entry["lr"] = lr
        scores = {}
        for seed in args.seeds:
            cfg = _config(args, changes, seed, entry["lr"])
            f = Path(cfg.run_dir) / SCORES
            if not f.exists():
                break
            scores[seed] = json.loads(f.read_text())
            entry["config"] = cfg.portable_dict()
        if len(scores) != len(args.seeds):
            known = earlier_entry(args, earlier, label, changes, entry["lr"])
            if known and not (args.per_variant_lr and args.lr is None):
                variants[label] = known  # its runs made elsewhere, reported in --earlier
            continue  # reported once every seed has run
        for seed, s in scores.items():
            if study.diverged(s):  # decided on val; its scores stay in the file, apart
                entry["diverged_seeds"][str(seed)] = {
                    split: float(np.mean([r["psnr"] for r in s[split]])) if s[split] else None
                    for split in ("val", "test")}
        trained = [seed for seed in args.seeds if str(seed) not in entry["diverged_seeds"]]
        if not trained:
            failed[label] = entry
            continue
        for split in ("val", "test"):
            per_seed, per_seed_task, rows_all = {}, {}, []
            for seed in trained:
                rows = scores[seed][split]
                per_seed[str(seed)] = study.per_scene(rows)
                per_seed_task[str(seed)] = study.per_task(rows)
                rows_all.append(rows)
            table, _, scenes = stats.scene_seed_table(per_seed)
            entry[split] = {"per_seed_scene": per_seed, "per_seed_task": per_seed_task,
                            "psnr": stats.scene_seed_interval(table),
                            "input_psnr_by_scene": study.per_scene(rows_all[0], "psnr_input"),
                            "input_psnr_by_task": study.per_task(rows_all[0], "psnr_input"),
                            "clips_by_task": dict(sorted(Counter(
                                r["task"] for r in rows_all[0]).items()))}
        if "test" in entry:
            variants[label] = entry
    results = {
        "meta": {"command": _command(argv), "profile": args.profile,
                 "protocol": {**study.PROTOCOL, "benchmark": args.benchmark},
                 "steps": args.steps or study.get_profile(args.profile).steps,
                 "warmup": study.WARMUP, "seeds": args.seeds, "sweep_seed": args.sweep_seed,
                 "chosen_lr": lr, "sweep_choice": (sweep_choice(args) if sweep_scores(args)
                                                   or not earlier
                                                   else earlier["meta"]["sweep_choice"]),
                 "lr_rule": ("each variant at its own rate, chosen on val (its entry's lr and "
                             "lr_sweep" + (f"; the {args.confirm} best rates of the sweep "
                                           "re-scored on val over every seed: lr_confirm"
                                           if args.confirm > 1 else "") + ")"
                             if args.per_variant_lr and args.lr is None else
                             "every variant at chosen_lr"),
                 "confirm": args.confirm,
                 "shape": args.shape, "shape_changes": study.SHAPES[args.shape],
                 "grad_clip": args.grad_clip,
                 "lr_reason": args.lr_reason if args.lr is not None else None,
                 "reference": study.TWIN,
                 "bootstrap": f"stats.scene_seed_interval, {stats.N_BOOT} resamples"},
        "lr_sweep": sweep, "variants": variants}
    if args.earlier:
        results["meta"]["earlier"] = Path(args.earlier).name
    shapes = shape_scores(args, lr)
    if shapes:  # the batch shapes on val (the twin, the sweep seed, the chosen rate)
        results["shape_sweep"] = {
            label: {"val_psnr": float(np.mean([r["psnr"] for r in s["val"]])),
                    "val_psnr_by_scene": study.per_scene(s["val"]),
                    "train_seconds": s["train_seconds"], "changes": study.SHAPES[label]}
            for label, s in shapes.items()}
    if failed:  # every seed diverged: no interval, the per-seed scores kept
        results["diverged_variants"] = failed
    if study.TWIN in variants:
        for split in ("val", "test"):
            gaps = study.gap_table(results, split)
            for label, gap in gaps.items():
                variants[label][split]["gap_vs_twin"] = gap
    choices = val_choices(args, lr, earlier) if not args.per_variant_lr else {}
    if choices:
        results["val_choices"] = choices
    classical = Path(args.results) / f"baselines_bundled_{args.profile}.json"
    # data_scripts/tune_baselines.py: the val-chosen classical row (tuned on the protocol's
    # benchmark only)
    if classical.exists() and args.benchmark == study.PROTOCOL["benchmark"]:
        best = json.loads(classical.read_text())["best_per_task"]
        results["classical"] = {"label": "best classical per task (chosen on val)",
                                "methods": best["methods"],
                                "test_per_scene": best["test_per_scene"],
                                "test_psnr": best["test_psnr"], "file": classical.name}
    out = Path(args.out) if args.out else Path(args.results) / study.results_name(
        args.profile, args.benchmark, args.steps, args.shape, args.grad_clip,
        per_variant_lr=args.per_variant_lr and args.lr is None, confirm=args.confirm)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, results)
    print(f"wrote {out}")
    for label, entry in variants.items():
        gap = entry["test"].get("gap_vs_twin")
        print(f"  {label:24s} lr {entry['lr']:<6g} test {entry['test']['psnr']['mean']:.2f} dB"
              + (f"  gap {stats.format_interval(gap)}" if gap else "")
              + (f"  (diverged: seeds {', '.join(entry['diverged_seeds'])})"
                 if entry["diverged_seeds"] else ""))
    for label, entry in failed.items():
        print(f"  {label:24s} diverged on every seed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
