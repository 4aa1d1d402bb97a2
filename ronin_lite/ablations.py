"""RONIN's ablations at our scale, several seeds each, and how to read them.

The paper (arXiv 2507.14851) ablates where the prompt is injected (none / first decoder / last
two / all decoders: "last two" best), perturbs the prompts with Gaussian noise at inference (a
sharp PSNR drop: the prompts carry the degradation) and names grounding quality as a limit
without measuring it. We rerun those questions on the ``tiny`` profile, add the ones the paper
leaves open (the prompt-loss weight lambda_2, the cross-attention, who describes the training
frames) and train **every variant with several seeds**, because at this scale the seed moves
PSNR by a few tenths of a dB - as much as most of the effects asked about.

Each *group* trains variants that differ from :data:`DEFAULT` in one setting:

``inject``      where the soft masks go: none / first / last2 (paper's) / all decoders
``lambda``      the prompt-loss weight lambda_2: 0 (no grounding) / 0.001 / 0.01 (paper's) / 0.1 / 1
``grounding``   who describes the training frames: the oracle (true labels), the statistics
                describer, the statistics describer corrupted at rate 0.25 / 0.5, and no
                grounding (lambda_2 = 0)
``cross``       the encoder-1 -> latent cross-attention on / off
``twin``        the no-prompt network against the default RONIN-lite
``perturb``     Gaussian noise of growing sigma (in units of the prompts' spread) on the
                default variant's prompts at inference (no training of its own)

**Reading a result.** Every variant trains on the same clips in the same order (the
benchmark's ``data_seed``); the training ``seed`` sets the initialisation (identical across
variants of one architecture) and each clip's symmetry, so the seed's effect is largely common
to the variants of one seed. :func:`paired` compares a variant with a reference seed by seed and gives the mean
difference, its standard deviation and a 95 % t-interval; a difference whose interval contains
0 is reported as *within seed noise*, not as a win or a loss.

``data_scripts/run_ablations.py`` is the command line that runs groups and writes
``results/ablation_<group>_<profile>.json``; notebook 09 reads those files and reruns one
variant live.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from . import analysis
from . import evaluate as ev
from .config import EARLIER_RECIPE, data_root, get_profile
from .train import TrainConfig

#: the default RONIN-lite variant every group departs from (lambda_2 = 1: see ``train.py``)
DEFAULT = {"inject": "last2", "lambda_prompt": 1.0, "describer": "statistics",
           "cross_attention": True, "prompt": True}
#: group -> variant label -> the settings that differ from DEFAULT
GROUPS: dict[str, dict[str, dict]] = {
    "inject": {m: {"inject": m} for m in ("none", "first", "last2", "all")},
    "lambda": {f"{v:g}": {"lambda_prompt": v} for v in (0.0, 0.001, 0.01, 0.1, 1.0)},
    "grounding": {"oracle": {"describer": "oracle"},
                  "statistics": {},
                  "corrupted 0.25": {"describer": "corrupted:0.25:statistics"},
                  "corrupted 0.5": {"describer": "corrupted:0.5:statistics"},
                  "none (lambda 0)": {"lambda_prompt": 0.0}},
    "cross": {"on": {}, "off": {"cross_attention": False}},
    "twin": {"no prompt": {"prompt": False, "inject": None, "lambda_prompt": 0.0},
             "RONIN-lite": {}},
}
#: all groups, the inference-only one last
ALL_GROUPS = tuple(GROUPS) + ("perturb",)
#: the label of the default variant in each group (the reference of :func:`paired`)
REFERENCE = {"inject": "last2", "lambda": "1", "grounding": "statistics", "cross": "on",
             "twin": "RONIN-lite", "perturb": "RONIN-lite"}
#: prompt-noise levels of the ``perturb`` group, in units of the prompts' standard deviation
SIGMAS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
#: the degradation types of ``3d-lite`` (for the prompt-naming accuracy)
TYPES = ("noise", "blur", "compression")


def variant_settings(changes: Mapping) -> dict:
    """DEFAULT updated with ``changes`` (a network without a prompt injects nothing)."""
    unknown = set(changes) - set(DEFAULT)
    if unknown:
        raise ValueError(f"unknown ablation settings {sorted(unknown)}; choose from "
                         f"{sorted(DEFAULT)}")
    settings = {**DEFAULT, **changes}
    if not settings["prompt"]:
        settings["inject"] = None
    return settings


#: the recipe the ablation study ran with (``results/ablation_*.json`` record it in each
#: variant's ``config``): the ``tiny`` learning rate before it was chosen on val, no warm-up,
#: every parameter decayed, and the profile's batch shape of the time
#: (``ronin_lite.config.EARLIER_RECIPE``). Kept so that its runs are found and re-evaluated as
#: they were trained (notebook 09, section 7); a study with today's recipe is another study.
ABLATION_RECIPE = {"warmup": 0, "decay": "all"}
ABLATION_LR = {"tiny": 1e-3}


def variant_config(changes: Mapping, seed: int, profile: str = "tiny",
                   benchmark: str = "3d-lite", steps: int | None = None,
                   runs: str | Path = "runs/ablations",
                   grounding: str | Path | None = None) -> TrainConfig:
    """The training config of one variant and seed. Its run folder is named by all the
    variant's settings, so groups that share a variant (the default one) share its runs."""
    settings = variant_settings(changes)
    name = "_".join(f"{k}={v}" for k, v in sorted(settings.items())).replace(":", "-")
    default_steps = get_profile(profile).steps
    if steps and steps != default_steps:  # another budget: another run (a fresh schedule)
        name += f"_steps={steps}"
    grounding = Path(grounding) if grounding is not None else data_root() / "grounding-ablations"
    return TrainConfig(
        profile=profile, benchmark=benchmark, steps=steps or default_steps,
        lr=ABLATION_LR.get(profile), **ABLATION_RECIPE, **EARLIER_RECIPE.get(profile, {}),
        seed=seed, run_dir=str(Path(runs) / name / f"seed{seed}"),
        grounding_root=str(grounding / settings["describer"].replace(":", "-")),
        log_every=25, **settings)


def benchmark_clips(profile: str = "tiny", benchmark: str = "3d-lite", clips_per_scene: int = 16):
    """The benchmark and its test clips at the profile's evaluation size."""
    from .data.benchmarks import get_benchmark

    prof = get_profile(profile)
    bench = get_benchmark(benchmark, size=prof.eval_size, seed=prof.seed,
                          clips_per_scene=clips_per_scene)
    return bench, list(bench.clips("test"))


def naming_prototypes(encoder=None, phrasings: int = 24):
    """Prototype embeddings of (degradation, severity) descriptions, for naming prompts."""
    if encoder is None:
        from .grounding import TextEncoder

        encoder = TextEncoder(device="cpu")
    return analysis.description_prototypes(encoder, list(TYPES), phrasings=phrasings)


@torch.no_grad()
def evaluate_variant(model, clips, prototypes=None, keys=None) -> dict:
    """Mean PSNR / SSIM over ``clips``, PSNR per degradation type and, for a network with a
    prompt generator and given prototypes, the share of frames whose prompt names the right
    degradation type (nearest description, :mod:`ronin_lite.analysis`). The network runs in
    eval mode and is left in the mode it came in."""
    tasks = [ev.clip_task(c) for c in clips]
    outs = [ev.restore_frames(model, c.degraded) for c in clips]
    rows = [ev.score_clip(r, c) for (r, _), c in zip(outs, clips)]
    summary = ev.summarise(rows)
    result = {"psnr": summary["all"]["psnr"], "ssim": summary["all"]["ssim"],
              "psnr_by_type": {k: v["psnr"] for k, v in summary.items() if k != "all"}}
    if model.generator is not None and prototypes is not None:
        prompts = model.embedding_from_prompt(torch.from_numpy(
            np.concatenate([q for _, q in outs]))).numpy()
        truth = [t for t, c in zip(tasks, clips) for _ in range(len(c.degraded))]
        named = analysis.nearest_description(prompts, prototypes, keys,
                                             model.target_mean.numpy().astype(np.float64))
        result["prompt_type_accuracy"] = analysis.naming_accuracy(named, truth)["type"]
    return result


@torch.no_grad()
def perturbation(model, clips, sigmas: Sequence[float] = SIGMAS, seed: int = 0) -> dict:
    """Mean PSNR with Gaussian noise of ``sigma x spread`` added to every generated prompt.

    ``spread`` is the standard deviation of all the prompts' values over ``clips`` (normalised
    prompt space), so sigma = 1 is noise as large as the prompts' own variation.
    """
    if model.generator is None:
        raise ValueError("perturbation needs a network with a prompt generator")
    outs = [ev.restore_frames(model, c.degraded) for c in clips]
    spread = float(np.concatenate([q for _, q in outs]).std())
    gen = torch.Generator().manual_seed(seed)
    curve = {}
    for sigma in sigmas:
        scores = [ev.score_clip(ev.restore_frames(
            model, c.degraded, torch.from_numpy(q) + sigma * spread * torch.randn(
                q.shape, generator=gen))[0], c)["psnr"] for c, (_, q) in zip(clips, outs)]
        curve[f"{sigma:g}"] = float(np.mean(scores))
    return {"psnr_by_sigma": curve, "prompt_spread": spread}


def aggregate(per_seed: Mapping[str, dict]) -> dict:
    """Mean and standard deviation (ddof 1) over seeds of every number in the per-seed results,
    keeping their nesting; ``seeds`` is their count."""
    seeds = list(per_seed.values())
    if not seeds:
        raise ValueError("no seeds to aggregate")

    def walk(values: list):
        if isinstance(values[0], dict):
            return {k: walk([v[k] for v in values]) for k in values[0]}
        arr = np.array(values, dtype=float)
        return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0}

    out = walk(seeds)
    out["seeds"] = len(seeds)
    return out


def seed_values(entry: Mapping, key: str = "psnr") -> dict[str, float]:
    """Seed -> value of ``key`` for one entry of a results file's ``variants``, in seed order.

    ``key`` is a dotted path into the per-seed results (``"psnr"``,
    ``"psnr_by_type.noise"``, ``"psnr_by_sigma.16"``).
    """
    out = {}
    for seed in sorted(entry["per_seed"], key=int):
        value = entry["per_seed"][seed]
        for part in key.split("."):
            value = value[part]
        out[seed] = float(value)
    return out


def paired(variant: Mapping, reference: Mapping, key: str = "psnr") -> dict:
    """``variant - reference`` seed by seed, for two entries of a results file's ``variants``.

    ``key`` as in :func:`seed_values`. Returns the differences, their mean,
    standard deviation, a 95 % t-interval for the mean and a ``verdict``: ``"better"`` or
    ``"worse"`` when the interval excludes 0, else ``"within seed noise"``.
    """
    from scipy import stats

    a, b = seed_values(variant, key), seed_values(reference, key)
    seeds = [s for s in a if s in b]
    if len(seeds) < 2:
        raise ValueError(f"need at least 2 seeds in common to compare, got {seeds}")
    diffs = np.array([a[s] - b[s] for s in seeds])
    mean, std = float(diffs.mean()), float(diffs.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(diffs) - 1) * std / np.sqrt(len(diffs)))
    low, high = mean - half, mean + half
    verdict = "better" if low > 0 else "worse" if high < 0 else "within seed noise"
    return {"seeds": seeds, "diffs": diffs.tolist(), "mean": mean, "std": std,
            "ci95": (low, high), "verdict": verdict}


def results_name(group: str, profile: str = "tiny", steps: int | None = None) -> str:
    """``ablation_<group>_<profile>.json``; ``..._<steps>steps.json`` for a budget other than
    the profile's."""
    budget = "" if steps is None or steps == get_profile(profile).steps else f"_{steps}steps"
    return f"ablation_{group}_{profile}{budget}.json"


def results_path(group: str, profile: str = "tiny", root: str | Path = "results",
                 steps: int | None = None) -> Path:
    return Path(root) / results_name(group, profile, steps)


def load_results(group: str, profile: str = "tiny", root: str | Path | None = None,
                 steps: int | None = None) -> dict:
    """A results file written by ``data_scripts/run_ablations.py``: from ``root`` when given,
    else the repository's ``results/`` (:mod:`ronin_lite.results`), with a clear error when it
    has not been produced yet."""
    from .results import load_result

    if group not in ALL_GROUPS:
        raise ValueError(f"unknown ablation group {group!r}; choose one of {list(ALL_GROUPS)}")
    hint = f"run `python data_scripts/run_ablations.py --groups {group} --profile {profile}" + (
        f" --steps {steps}`" if steps else "`")
    if root is None:
        try:
            return load_result(results_name(group, profile, steps))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}; {hint}") from None
    path = results_path(group, profile, root, steps)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: {hint} first")
    return json.loads(path.read_text())


def variant_order(results: Mapping) -> list[str]:
    """The variants of a results file in their group's order (:data:`GROUPS`; the file's JSON
    keys are sorted), any unknown ones after them."""
    known = list(GROUPS.get(results["meta"]["group"], {}))
    present = list(results["variants"])
    return [v for v in known if v in present] + [v for v in present if v not in known]


def sigma_order(curve: Mapping[str, object]) -> list[str]:
    """The sigma keys of a ``psnr_by_sigma`` mapping in increasing order."""
    return sorted(curve, key=float)


def perturbation_drop(entry: Mapping) -> dict[str, float]:
    """For the ``perturb`` group's entry: sigma -> PSNR change against sigma = 0, mean over
    seeds of each seed's own change (sigmas in increasing order)."""
    clean = seed_values(entry, "psnr_by_sigma.0")
    return {s: float(np.mean([v - clean[seed] for seed, v in
                              seed_values(entry, f"psnr_by_sigma.{s}").items()]))
            for s in sigma_order(entry["psnr_by_sigma"])}


def paired_table(results: Mapping, key: str = "psnr", reference: str | None = None):
    """A pandas table of a group: mean +- std over seeds of ``key`` per variant, and the paired
    difference to the group's reference variant with its verdict."""
    import pandas as pd

    group = results["meta"]["group"]
    reference = reference or REFERENCE[group]
    variants = results["variants"]
    ref = variants[reference]
    rows = {}
    for label in variant_order(results):
        entry = variants[label]
        values = np.array(list(seed_values(entry, key).values()))
        row = {"mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else 0.0,
               "seeds": len(values)}
        if label != reference:
            p = paired(entry, ref, key)
            row.update({"diff": p["mean"], "diff std": p["std"], "ci95 low": p["ci95"][0],
                        "ci95 high": p["ci95"][1], "verdict": p["verdict"]})
        else:
            row.update({"diff": 0.0, "verdict": "reference"})
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")
