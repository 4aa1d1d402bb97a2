"""Print the README's ablation tables (Markdown) from results/ablation_*.json.

Each row: the variant's test PSNR, mean +- standard deviation over seeds; its difference to
the group's default variant, paired seed by seed, with a 95 % t-interval and the verdict of
:func:`ronin_lite.ablations.paired`; and the share of test frames whose prompt names the right
degradation type (networks with a prompt). ::

    python data_scripts/results_tables.py                 # the tiny, 300-step files
    python data_scripts/results_tables.py --steps 1200 --groups twin
"""

from __future__ import annotations

import argparse
import sys

from ronin_lite import ablations as ab


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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--groups", nargs="+", default=list(ab.ALL_GROUPS), choices=ab.ALL_GROUPS)
    p.add_argument("--profile", default="tiny")
    p.add_argument("--steps", type=int, default=None)
    args = p.parse_args(argv)
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
