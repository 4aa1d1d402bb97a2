"""Print the README's tables (Markdown): ablations (results/ablation_*.json), the grounding
study (results/grounding_study_tiny.json) and the protocol table of the shipped pair
(results/protocol_small_bundled.json).

Each row: the variant's test PSNR, mean +- standard deviation over seeds; its difference to
the group's default variant, paired seed by seed, with a 95 % t-interval and the verdict of
:func:`ronin_lite.ablations.paired`; and the share of test frames whose prompt names the right
degradation type (networks with a prompt). ::

    python data_scripts/results_tables.py                 # the tiny, 300-step files
    python data_scripts/results_tables.py --steps 1200 --groups twin
    python data_scripts/results_tables.py --study --protocol  # the evaluation protocol's tables
    python data_scripts/results_tables.py --study --benchmark 4d-lite  # the study on 4d-lite
    python data_scripts/results_tables.py --study --lr-table --file \\
        grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2.json  # + each variant's rates
    python data_scripts/results_tables.py --prompt-tests \\
        ronin_tiny-3d-lite-masks-1200-seed0.json ronin_tiny-3d-lite-masks-1200-seed1.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ronin_lite import ablations as ab
from ronin_lite import evaluate as ev
from ronin_lite import stats
from ronin_lite.results import load_result
from ronin_lite.study import (DEFAULT_SHAPE, SHAPES, SHIPPED_SMALL, against_shipped,
                              gain_over_input, results_name, scene_means)

TASKS = (("blur", "blur"), ("compression", "JPEG"), ("noise", "noise"))


def _label(label: str, entry: dict, gs: dict) -> str:
    """A variant's row label; one with diverged seeds says on how many seeds its row rests, and
    in a study where each variant trained at its own val-chosen rate, the label says which."""
    if "lr_sweep" in entry:  # run_grounding_study.py --per-variant-lr
        label = f"{label}, lr {entry['lr']:g}"
    diverged = entry.get("diverged_seeds") or {}
    if not diverged:
        return label
    n = len(gs["meta"]["seeds"])
    return (f"{label} ({n - len(diverged)} of {n} seeds; seed{'s' * (len(diverged) > 1)} "
            f"{', '.join(diverged)} diverged)")


def study_table(gs: dict) -> str:
    """Grounding study: every variant on test, its gap over the twin, per task."""
    v = gs["variants"]
    twin = v[gs["meta"]["reference"]]["test"]
    inp = float(np.mean(list(twin["input_psnr_by_scene"].values())))
    # a benchmark with more tasks than 3d-lite's (4d-lite: weather and light) gets one more
    # column, its other tasks pooled by their clip counts
    counts = twin.get("clips_by_task", {})
    if any("+" in k for k in counts):  # composites (tv-lite): pooled by what the mix holds
        return _composite_table(gs, inp, counts)
    others = [k for k in counts if k not in dict(TASKS)]
    head = ("| variant | test PSNR [95 %] | over input [95 %] | vs twin [joint 95 %] | blur | JPEG "
            "| noise |")
    head += " weather or light |" if others else ""

    def pooled(per_task: dict) -> str:
        n = sum(counts[k] for k in others)
        return f" {sum(per_task[k] * counts[k] for k in others) / n:.2f} |" if others else ""

    lines = [head, "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if others else "")]
    for label, e in v.items():
        t = e["test"]
        task = {k: np.mean([s[k] for s in t["per_seed_task"].values()])
                for k in [*dict(TASKS), *others]}
        gap = stats.bracket(t["gap_vs_twin"]) if "gap_vs_twin" in t else "reference"
        lines.append(f"| {_label(label, e, gs)} | {stats.bracket(t['psnr'], signed=False)} "
                     f"| {stats.bracket(gain_over_input(t))} | {gap} | "
                     + " | ".join(f"{task[k]:.2f}" for k, _ in TASKS) + " |" + pooled(task))
    c = gs.get("classical")
    if c:
        tuned = load_result(c["file"])
        lines.append(f"| {c['label']}: {', '.join(f'{n} {m}' for n, m in c['methods'].items())} "
                     f"| {stats.bracket(c['test_psnr'], signed=False)} | "
                     f"{c['test_psnr']['mean'] - inp:+.2f} | | "
                     + " | ".join(f"{tuned['test'][c['methods'][k]][k]['psnr']:.2f}"
                                  for k, _ in TASKS) + " |")
    lines.append(f"| degraded input | {inp:.2f} | | | " + " | ".join(
        f"{twin['input_psnr_by_task'][k]:.2f}" for k, _ in TASKS) + " |"
        + pooled(twin["input_psnr_by_task"]))
    return "\n".join(lines)


def lr_table(gs: dict) -> str:
    """The learning rates of a study where each variant trained at its own rate chosen on val
    (``run_grounding_study.py --per-variant-lr``): per variant, the val PSNR of its sweep (the
    sweep seed) at every rate it tried and, where its best rates were trained on every seed
    (``--confirm``), their mean over the seeds after a slash; the rate it trained at in bold."""
    swept = {label: e for label, e in gs["variants"].items() if "lr_sweep" in e}
    if not swept:
        raise SystemExit("--lr-table: this results file has no per-variant learning-rate sweep "
                         "(made by run_grounding_study.py report --per-variant-lr)")
    rates = sorted({float(r) for e in swept.values() for r in e["lr_sweep"]})
    seeds = len(gs["meta"]["seeds"])
    lines = [f"| val PSNR (dB): sweep seed / mean over {seeds} seeds | "
             + " | ".join(f"lr {r:g}" for r in rates) + " |",
             "|---|" + "---:|" * len(rates)]
    for label, e in swept.items():
        cells = []
        for r in rates:
            s = e["lr_sweep"].get(f"{r:g}")
            cell = "" if s is None else "diverged" if s["val_psnr"] is None else \
                f"{s['val_psnr']:.2f}"
            confirmed = e.get("lr_confirm", {}).get(f"{r:g}")
            if confirmed is not None:
                cell += " / " + (confirmed if isinstance(confirmed, str) else f"{confirmed:.2f}")
            cells.append(f"**{cell}**" if r == e["lr"] else cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def choices_table(gs: dict) -> str:
    """The recipe choices of a study, scored on val only (``run_grounding_study.py choose``,
    the results file's ``val_choices``): per val scene and over them, RONIN-lite's defaults
    (the reference) and each choice, on the seeds the choices trained with, and each choice's
    paired gap over the reference, jointly over the choices made. Test is never read."""
    vc = gs.get("val_choices")
    if not vc:
        raise SystemExit("--choices-table: this results file has no recipe choices scored on "
                         "val (run_grounding_study.py choose, then report)")
    seeds = [str(seed) for seed in vc.get("seeds", gs["meta"]["seeds"])]
    reference = gs["variants"][vc["reference"]]["val"]["per_seed_scene"]
    rows = {f"{vc['reference']} (reference)": {s: reference[s] for s in seeds},
            **{label: c["per_seed_scene"] for label, c in vc["choices"].items()}}
    scenes = list(next(iter(rows.values()))[seeds[0]])
    plural = "s" if len(seeds) > 1 else ""
    lines = [f"| val PSNR (dB), seed{plural} {', '.join(seeds)} | "
             + " | ".join(scenes) + " | mean | vs reference [joint 95 %] |",
             "|---|" + "---:|" * (len(scenes) + 2)]
    for label, table in rows.items():
        per_scene = {sc: np.mean([table[s][sc] for s in seeds]) for sc in scenes}
        gap = vc["choices"].get(label, {}).get("gap_vs_reference")
        lines.append(f"| {label} | " + " | ".join(f"{per_scene[sc]:.2f}" for sc in scenes)
                     + f" | {np.mean(list(per_scene.values())):.2f} | "
                     + (stats.bracket(gap) if gap else "reference") + " |")
    return "\n".join(lines)


def vs_shipped_table(gs: dict, val: dict, test: dict) -> str:
    """A `small` study's networks against the pair shipped with the profile's earlier recipe
    and against the best classical method per task chosen on val
    (:func:`ronin_lite.study.against_shipped`): the means over scenes and each paired
    difference with its interval; then the test scenes one by one."""
    try:
        gaps = against_shipped(gs, val, test)
    except ValueError as exc:
        raise SystemExit(f"--vs-shipped: {exc}") from None
    labels = [lb for lb in gs["variants"] if lb in SHIPPED_SMALL]
    classical = gs["classical"]["test_per_scene"]
    lines = ["| network | val: this recipe / shipped | this - shipped, val | test: this recipe / "
             "shipped | this - shipped, test | this - best classical per task (val), test |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, e in gs["variants"].items():
        cells = []
        for sp, shipped in (("val", val), ("test", test)):
            ours = scene_means(e[sp])
            mean = f"{np.mean(list(ours.values())):.2f}"
            if label not in SHIPPED_SMALL:
                cells += [mean, ""]
                continue
            theirs = shipped["per_scene"][SHIPPED_SMALL[label]]
            cells += [f"{mean} / {np.mean([theirs[k] for k in ours]):.2f}",
                      stats.bracket(gaps[label][sp])]
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {stats.bracket(gaps[label]['classical'])} |")
    g = gaps[labels[0]]
    n_seeds = len(gs["meta"]["seeds"])
    mine = ("one seed of each network" if n_seeds == 1 else
            f"{n_seeds} seeds of each network, the means over them")
    seeds = "" if n_seeds == 1 else f" and the {n_seeds} seeds"
    lines.append(f"\n(this recipe: {mine}; shipped: the earlier pair, `small-3d-lite` and its "
                 f"twin, one training run each; intervals "
                 f"over {g['val']['n_scenes']} val or {g['test']['n_scenes']} test scenes{seeds}, "
                 f"jointly over {g['test']['comparisons']} comparisons)")
    # test, scene by scene
    columns = {"degraded input": test["per_scene"]["degraded input"],
               **{f"shipped {SHIPPED_SMALL[lb]}": test["per_scene"][SHIPPED_SMALL[lb]]
                  for lb in labels},
               **{f"{lb}, this recipe": scene_means(e["test"])
                  for lb, e in gs["variants"].items()},
               "best classical per task (val)": classical}
    lines += ["", "| test scene | " + " | ".join(columns) + " |",
              "|---|" + "---:|" * len(columns)]
    for scene in test["scenes"]:
        lines.append(f"| {scene} | " + " | ".join(f"{c[scene]:.2f}" for c in columns.values())
                     + " |")
    return "\n".join(lines)


def _composite_table(gs: dict, inp: float, counts: dict) -> str:
    """The study on a benchmark of composites (``tv-lite``: a clip's task is its most common
    mix, e.g. ``blur+compression+noise``): per component, the clip-weighted mean PSNR of the
    clips whose mix holds it."""
    v = gs["variants"]

    def holding(per_task: dict) -> list[str]:
        out = []
        for k, _ in TASKS:
            tasks = [t for t in counts if k in t.split("+")]
            n = sum(counts[t] for t in tasks)
            out.append(f"{sum(per_task[t] * counts[t] for t in tasks) / n:.2f}")
        return out

    lines = ["| variant | test PSNR [95 %] | over input [95 %] | vs twin [joint 95 %] | "
             + " | ".join(f"clips with {k}" for k, _ in TASKS) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(TASKS)]
    for label, e in v.items():
        t = e["test"]
        task = {k: np.mean([s[k] for s in t["per_seed_task"].values()]) for k in counts}
        gap = stats.bracket(t["gap_vs_twin"]) if "gap_vs_twin" in t else "reference"
        lines.append(f"| {_label(label, e, gs)} | {stats.bracket(t['psnr'], signed=False)} "
                     f"| {stats.bracket(gain_over_input(t))} | {gap} | "
                     + " | ".join(holding(task)) + " |")
    twin = v[gs["meta"]["reference"]]["test"]
    lines.append(f"| degraded input | {inp:.2f} | | | "
                 + " | ".join(holding(twin["input_psnr_by_task"])) + " |")
    return "\n".join(lines)


def protocol_table(pr: dict) -> str:
    """The shipped pair, the classical row and the input on the protocol's test scenes."""
    lines = ["| method | PSNR, mean of 7 scenes [95 %] | blur | JPEG | noise | SSIM |",
             "|---|---:|---:|---:|---:|---:|"]
    order = sorted(pr["summary"], key=lambda k: pr["summary"][k]["mean"])
    for label in order:
        task = pr["per_task"][label]
        ssim = f"{pr['ssim'][label]:.3f}" if label in pr["ssim"] else ""
        lines.append(f"| {label} | {stats.bracket(pr['summary'][label], signed=False)} | "
                     + " | ".join(f"{task[k]:.2f}" for k, _ in TASKS) + f" | {ssim} |")
    lines += ["", "| scene | " + " | ".join(order) + " |",
              "|---|" + "---:|" * len(order)]
    for scene in pr["scenes"]:
        lines.append(f"| {scene} | " + " | ".join(f"{pr['per_scene'][m][scene]:.2f}"
                                                 for m in order) + " |")
    lines += ["", *(f"- {name}: {stats.format_interval(g)}" for name, g in pr["gaps"].items())]
    return "\n".join(lines)


def group_table(results: dict) -> str:
    table = ab.paired_table(results)
    lines = ["| variant | PSNR (dB) | vs default (paired) | 95 % interval | verdict | type named |",
             "|---|---:|---:|---:|---|---:|"]
    for label, row in table.iterrows():
        psnr = f"{row['mean']:.2f} ± {row['std']:.2f}"
        if row["verdict"] == "reference":
            diff, ci, verdict = "default", "", ""
        else:
            diff, ci, verdict = (f"{row['diff']:+.2f}",
                                 f"{row['ci95 low']:+.2f} .. {row['ci95 high']:+.2f}",
                                 row["verdict"])
        named = results["variants"][label].get("prompt_type_accuracy")
        named = f"{100 * named['mean']:.0f} ± {100 * named['std']:.0f} %" if named else "–"
        lines.append(f"| {label} | {psnr} | {diff} | {ci} | {verdict} | {named} |")
    return "\n".join(lines)


def perturb_table(results: dict) -> str:
    drops = ab.perturbation_drop(results["variants"]["RONIN-lite"])
    return "\n".join(["| σ / prompt spread | " + " | ".join(drops) + " |",
                      "|---|" + "---:|" * len(drops),
                      "| PSNR change (dB, mean over seeds) | " + " | ".join(
                          f"{d:+.2f}" for d in drops.values()) + " |"])


#: bench_ronin.py's prompt replacements, as the README names them
PROMPT_TESTS = {"oracle description": "description of the right degradation (oracle text)",
                "mean description (prompt 0)": "the mean description (prompt 0)",
                "other degradation's description": "description of another degradation"}


def prompt_test_table(files: dict) -> str:
    """bench_ronin.py's prompt tests of one or more networks side by side (``{name: results}``):
    the PSNR change, overall and per degradation, when a network's own prompt is replaced."""
    head, rule = "| prompt fed instead |", "|---|"
    for name in files:
        head += f" {name}: all | blur | JPEG | noise |"
        rule += "---:|" * 4
    lines = [head, rule]
    change = [ev.changes(r["prompt_tests"], r["summaries"]["RONIN-lite"]) for r in files.values()]
    for key, label in PROMPT_TESTS.items():
        cells = [f"{c[key][g]:+.2f}" for c in change for g in ("all", "blur", "compression", "noise")]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _real_footage_table(results: dict) -> str:
    """The table of data_scripts/real_footage_check.py (the script beside this one)."""
    import importlib.util

    path = Path(__file__).resolve().parent / "real_footage_check.py"
    spec = importlib.util.spec_from_file_location("real_footage_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.table(results)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--groups", nargs="+", default=list(ab.ALL_GROUPS), choices=ab.ALL_GROUPS)
    p.add_argument("--profile", default="tiny")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--study", action="store_true", help="the grounding study's table only")
    p.add_argument("--benchmark", default="3d-lite",
                   help="with --study: the study on this benchmark")
    p.add_argument("--shape", default=DEFAULT_SHAPE, choices=list(SHAPES),
                   help="with --study: the study trained with this batch shape")
    p.add_argument("--grad-clip", type=float, default=0.0,
                   help="with --study: the study trained with this gradient clipping")
    p.add_argument("--file", default=None,
                   help="--study: this results file of results/ instead of the study's own name")
    p.add_argument("--lr-table", action="store_true",
                   help="with --study: also the val learning-rate table of a study where each "
                        "variant trained at its own rate (--per-variant-lr)")
    p.add_argument("--choices-table", action="store_true",
                   help="with --study: the recipe choices scored on val (val_choices)")
    p.add_argument("--vs-shipped", action="store_true",
                   help="with --study (a one-seed small study): its networks against the shipped "
                        "small pair on val and test, and against the classical row")
    p.add_argument("--protocol", action="store_true", help="the shipped pair's protocol table")
    p.add_argument("--real-footage", action="store_true",
                   help="the real-footage check's table (data_scripts/real_footage_check.py)")
    p.add_argument("--prompt-tests", nargs="+", default=None, metavar="FILE",
                   help="bench_ronin.py results files of results/: their prompt tests side by "
                        "side")
    args = p.parse_args(argv)
    if args.prompt_tests:
        files = {}
        for name in args.prompt_tests:
            r = load_result(name)
            if "prompt_tests" not in r:
                print(f"error: {name} holds no prompt tests (a data_scripts/bench_ronin.py file?)",
                      file=sys.stderr)
                return 2
            files[Path(name).stem.removeprefix("ronin_")] = r
            print(f"\n`{r['command']}`")
        print(f"\n{prompt_test_table(files)}")
        return 0
    if args.real_footage:
        rf = load_result("real_footage.json")
        added = "".join(f" then `{c}`" for c in rf["meta"].get("added", []))  # pairs added later
        print(f"\n`{rf['meta']['command']}`{added}\n\n{_real_footage_table(rf)}")
        if not (args.study or args.protocol):
            return 0
    if args.study or args.protocol:
        if args.study:
            gs = load_result(args.file or results_name(args.profile, args.benchmark, args.steps,
                                                       args.shape, args.grad_clip))
            print(f"\n`{gs['meta']['command']}`\n\n{study_table(gs)}")
            if args.lr_table:
                print(f"\n{lr_table(gs)}")
            if args.choices_table:
                print(f"\n{choices_table(gs)}")
            if args.vs_shipped:
                shipped = [load_result(f"protocol_small_bundled{tail}.json")
                           for tail in ("_val", "")]
                print(f"\n{vs_shipped_table(gs, *shipped)}")
        if args.protocol:
            pr = load_result("protocol_small_bundled.json")
            print(f"\n`{pr['command']}`\n\n{protocol_table(pr)}")
        return 0
    for group in args.groups:
        try:
            results = ab.load_results(group, args.profile, steps=args.steps)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        meta = results["meta"]
        print(f"\n**{group}** ({meta['profile']}, {meta['steps']} steps, seeds "
              f"{', '.join(map(str, meta['seeds']))}; {meta['test_clips']} test clips at "
              f"{meta['size']} px; `{meta['command']}`)\n")
        print(perturb_table(results) if group == "perturb" else group_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
