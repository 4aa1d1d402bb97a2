"""Intervals that match how the course's experiments are designed: scenes and seeds are the units.

A restoration benchmark scores many clips, but clips of one scene share its content (and, at
our scale, the camera paths over one photograph share almost everything), and runs of one seed
share their initialisation. Treating 48 clips of 2 photographs as 48 independent samples gives
intervals several times too narrow (the evaluation-protocol issue measured it on the shipped
model). So every interval in the course is computed here, from a table of scores
``values[seed, scene]`` (each entry already the mean over that scene's clips), by a **two-way
bootstrap**: resample the seeds with replacement and, independently, the scenes with replacement,
take the mean of the resampled table, and read the percentiles of that mean over ``n_boot``
resamples. Scene-to-scene and seed-to-seed variation both widen the interval; with one seed it
is the ordinary bootstrap over scenes. For a comparison, pass the *paired* differences
(variant minus reference, seed by seed and scene by scene): what is common to a scene or a seed
cancels before resampling.

Every result says on how many units it rests (``n_scenes``, ``n_seeds``); with few units a
percentile bootstrap is optimistic (about 90 % actual coverage for a nominal 95 % at 7 scenes),
which the tables say. When several comparisons are read together, ``comparisons=k`` widens each
interval to the Bonferroni level ``1 - (1 - level) / k``, so that all ``k`` hold together.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

#: resamples of :func:`scene_seed_interval` (the percentiles move by ~0.01 of the interval's
#: width between bootstrap seeds at this count)
N_BOOT = 10_000


def scene_seed_table(per_seed: Mapping[str, Mapping[str, float]],
                     scenes: Sequence[str] | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """``{seed: {scene: value}}`` -> ``(values (n_seeds, n_scenes), seeds, scenes)``.

    Every seed must have a value for every scene (a missing cell would bias the mean silently).
    """
    seeds = sorted(per_seed, key=str)
    if not seeds:
        raise ValueError("no seeds: pass {seed: {scene: value}} with at least one seed")
    scenes = list(scenes) if scenes is not None else sorted(per_seed[seeds[0]])
    missing = {s: sorted(set(scenes) - set(per_seed[s])) for s in seeds}
    missing = {s: m for s, m in missing.items() if m}
    if missing or not scenes:
        raise ValueError(f"every seed needs a value for every scene; missing {missing or scenes}")
    values = np.array([[float(per_seed[s][c]) for c in scenes] for s in seeds], np.float64)
    return values, seeds, scenes


def scene_seed_interval(values: np.ndarray | Sequence, level: float = 0.95, comparisons: int = 1,
                        n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Mean of ``values (n_seeds, n_scenes)`` (or ``(n_scenes,)``: one seed) with a two-way
    bootstrap interval over seeds and scenes (see the module docstring).

    Returns ``{"mean", "low", "high", "level", "comparisons", "n_scenes", "n_seeds", "method"}``;
    ``excludes_zero`` says whether the interval lies on one side of 0 (for differences).
    """
    table = np.asarray(values, np.float64)
    if table.ndim == 1:
        table = table[None]
    if table.ndim != 2 or table.size == 0 or not np.isfinite(table).all():
        raise ValueError(f"values must be a finite (n_seeds, n_scenes) table, got shape "
                         f"{np.shape(values)}")
    if not 0 < level < 1 or comparisons < 1:
        raise ValueError(f"need 0 < level < 1 and comparisons >= 1, got {level}, {comparisons}")
    n_seeds, n_scenes = table.shape
    adjusted = 1 - (1 - level) / comparisons
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for b in range(n_boot):  # resample seeds and scenes independently, with replacement
        rows = rng.integers(n_seeds, size=n_seeds) if n_seeds > 1 else np.zeros(1, int)
        cols = rng.integers(n_scenes, size=n_scenes)
        means[b] = table[np.ix_(rows, cols)].mean()
    tail = (1 - adjusted) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return {"mean": float(table.mean()), "low": float(low), "high": float(high),
            "level": level, "comparisons": comparisons, "n_scenes": n_scenes,
            "n_seeds": n_seeds, "excludes_zero": bool(low > 0 or high < 0),
            "method": "two-way bootstrap over seeds and scenes" if n_seeds > 1
            else "bootstrap over scenes"}


def paired_interval(variant: Mapping[str, Mapping[str, float]],
                    reference: Mapping[str, Mapping[str, float]], **kwargs) -> dict:
    """Interval of ``variant - reference`` from two ``{seed: {scene: value}}`` tables with the
    same seeds and scenes (paired seed by seed and scene by scene)."""
    if sorted(variant, key=str) != sorted(reference, key=str):
        raise ValueError(f"a paired comparison needs the same seeds, got {sorted(variant)} and "
                         f"{sorted(reference)}")
    a, _, scenes = scene_seed_table(variant)
    b, _, _ = scene_seed_table(reference, scenes)
    return scene_seed_interval(a - b, **kwargs)


def bracket(result: Mapping, signed: bool = True) -> str:
    """``+0.42 [+0.18, +0.66]``: a :func:`scene_seed_interval` result's mean and interval, the
    short form of tables (:func:`format_interval` adds the unit, level and units)."""
    f = "{:+.2f}" if signed else "{:.2f}"
    return (f"{f.format(result['mean'])} [{f.format(result['low'])}, "
            f"{f.format(result['high'])}]")


def format_interval(result: Mapping, unit: str = "dB", signed: bool = True) -> str:
    """``+0.42 dB [+0.18, +0.66] (95 %, 7 scenes x 3 seeds)`` for a :func:`scene_seed_interval`
    result."""
    f = "{:+.2f}" if signed else "{:.2f}"
    lvl = f"{100 * result['level']:g} %"
    if result.get("comparisons", 1) > 1:
        lvl += f" jointly over {result['comparisons']} comparisons"
    return (f"{f.format(result['mean'])} {unit} [{f.format(result['low'])}, "
            f"{f.format(result['high'])}] ({lvl}, {result['n_scenes']} scenes x "
            f"{result['n_seeds']} seed{'s' if result['n_seeds'] != 1 else ''})")
