"""The grounding study: where does a prompt help, and how much *could* it help?

RONIN (arXiv 2507.14851) claims that a prompt grounded in language lets one network restore many
degradations better than the same network without it. Before asking whether the network's
*predicted* prompt helps, this study asks how much a *true* one can: a **non-blind** variant is
given the embedding of the oracle description of every frame (the degradation's true type and
severity, in words, through the same text encoder) as its prompt, in training and at test. The
gap between that network and the blind no-prompt twin is the most any predicted prompt could win
with that conditioning design; RONIN-lite's own gap says how much of it the prompt generator
delivers. Two conditioning designs are measured both ways:

``mask``  RONIN's soft masks, ``2 sigmoid(W P + b)`` gains on the last two decoder stages;
``film``  FiLM, a scale and a shift per channel, on the latent and every decoder stage (a
          course variant, :class:`~ronin_lite.models.prompts.FiLMInjection`).

Added later: the masks on every stage, and the prompt into the history router (``history_gate``:
the prompt sets how much the decoder's router reads the cached frames, and nothing else;
:class:`~ronin_lite.models.prompts.HistoryGate`).

Beside them, the learned **single-frame** baseline (the twin trained on 1-frame clips and run
with an empty history) separates what the history contributes from what the prompt does.

**Protocol** (the evaluation-protocol issue): the 18 ``"bundled"`` scenes
(:data:`~ronin_lite.data.benchmarks.BUNDLED_SPLITS`): training on the 8 training photographs,
every choice (the learning rate) on the 3 val scenes, results on the 7 test scenes (5 of them real
videos); ``clips_per_scene`` clips per scene; each scene's score is the mean over its clips, and
intervals treat scenes and seeds as the units (:mod:`ronin_lite.stats`). Every variant trains on
the same clips in the same order with the same budget and the same learning rate.

``data_scripts/run_grounding_study.py`` runs it and writes ``results/grounding_study_tiny.json``;
notebook 09 reads that file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from . import evaluate as ev
from . import stats
from .config import EARLIER_RECIPE, data_root, get_profile
from .data.benchmarks import BenchmarkClip, get_benchmark
from .train import TrainConfig

#: the protocol: benchmark, scene set, evaluation clips per scene (frames: the profile's
#: eval_size, the benchmark's 8-frame evaluation clips)
PROTOCOL = {"benchmark": "3d-lite", "scenes": "bundled", "clips_per_scene": 8}
_ORACLE = {"prompt_source": "describer", "describer": "oracle", "lambda_prompt": 0.0}
_FILM = {"condition": "film", "inject": "all+latent"}
#: label -> TrainConfig fields that differ from RONIN-lite's defaults
VARIANTS: dict[str, dict] = {
    # the learned single-frame baseline: the twin trained on 1-frame clips (12 per step: the
    # same frames per step, each from another crop) and run frame by frame with no history
    "single frame (no history)": {"prompt": False, "inject": None, "lambda_prompt": 0.0,
                                  "clip_len": 1, "batch": 12},
    "no prompt (twin)": {"prompt": False, "inject": None, "lambda_prompt": 0.0},
    "RONIN-lite (masks)": {},
    "oracle prompt, masks": dict(_ORACLE),
    "RONIN-lite (FiLM)": dict(_FILM),
    "oracle prompt, FiLM": {**_ORACLE, **_FILM},
    # what the prompt carries: the oracle's descriptions with the degradation's type only (no
    # severity word, no verdict), against the oracle that also names the severity
    "oracle type only, FiLM": {**_ORACLE, "describer": "oracle:type", **_FILM},
    # the paper's masks at FiLM's places (the latent and every decoder stage): with the two
    # FiLM rows, it tells *how* the prompt enters (a gain, or a gain and a shift) from *where*
    "RONIN-lite (masks, every stage)": {"inject": "all+latent"},
    "oracle prompt, masks, every stage": {**_ORACLE, "inject": "all+latent"},
    # the prompt into the history router (a course variant): the prompt sets, per channel, how
    # much the decoder's router reads the cached frames, and touches nothing else (no masks)
    "RONIN-lite (history gate)": {"inject": "none", "history_gate": True},
    "oracle prompt, history gate": {**_ORACLE, "inject": "none", "history_gate": True},
    # the control that separates grounding from the FiLM path itself: RONIN-lite's FiLM network
    # with no prompt loss (lambda_2 = 0), so the prompt generator reads the network's pooled
    # features and never sees language; if it matches RONIN-lite (FiLM), the gain is the path
    "FiLM, no language (lambda_2 = 0)": {**_FILM, "lambda_prompt": 0.0},
    # and the converse: the prompt loss trains the generator (and, through it, the encoder's
    # features) but the prompt never touches the restoration; if it matches RONIN-lite (FiLM),
    # the gain is the auxiliary task of recognising the degradation, not the conditioning
    "prompt loss only (not injected)": {"inject": "none"},
    # RONIN-lite trained on soft clean frames as well (TrainConfig.soften; the range chosen on
    # val among CHOICES, at small: results/grounding_study_small_6x2_clip0.01_soft.json)
    "RONIN-lite (masks), soft clean frames": {"soften": 2.0},
}
#: the recipe choices of RONIN-lite made on the **val** scenes only (the evaluation-protocol
#: issue): label -> changes against RONIN-lite's defaults (the reference, ``CHOICE_REFERENCE``);
#: ``run_grounding_study.py choose`` trains them and scores val, never test
CHOICE_REFERENCE = "RONIN-lite (masks)"
CHOICES: dict[str, dict] = {
    "lambda_2 = 0.01 (the paper's)": {"lambda_prompt": 0.01},
    "lambda_2 = 0.1": {"lambda_prompt": 0.1},
    "raw prompt targets (no centring)": {"target_norm": "none"},
    # the paper's plain sigmoid masks, default initialisation (ours: 2 sigmoid, identity at init)
    "plain sigmoid masks (the paper's)": {"condition": "sigmoid"},
    # soft clean frames (TrainConfig.soften): half the training clips get targets blurred by
    # sigma ~ U(0, s) px, since the real videos' frames are softer than the bundled photographs
    # and the networks were seen to sharpen them past their clean frames (the evaluation issue)
    "soft clean frames (sigma <= 1 px)": {"soften": 1.0},
    "soft clean frames (sigma <= 2 px)": {"soften": 2.0},
}


def grounded_choice(val_choices: Mapping) -> str:
    """The rule for the prompt path's recipe (``val_choices`` of a results file): among
    RONIN-lite's defaults and the :data:`CHOICES` whose prompt stays grounded on val (R^2 of
    the predicted embeddings against the text > 0 for every seed), the one with the highest val
    PSNR. Returns its label (:data:`CHOICE_REFERENCE` for the defaults). A prompt that no
    longer approximates language is not RONIN's, however it restores; the rule was written
    after the first val numbers were seen, and says so where it is reported."""
    def grounded(per_seed: Mapping) -> bool:
        return all(entry["r2"] > 0 for entry in per_seed.values())

    candidates = {CHOICE_REFERENCE: (val_choices["reference_psnr"]["mean"],
                                     grounded(val_choices["reference_prompt"]))}
    for label, entry in val_choices["choices"].items():
        candidates[label] = (entry["psnr"]["mean"], grounded(entry["prompt"]))
    kept = {label: psnr for label, (psnr, ok) in candidates.items() if ok}
    if not kept:
        raise ValueError("no setting keeps a grounded prompt on val: the rule has no answer")
    return max(kept, key=kept.get)


#: the shape of a training batch, swept on val with the twin (``run_grounding_study.py shape``):
#: label -> TrainConfig changes. Every shape trains on 12 frames per step, so each step costs
#: about the same and the budget stays the same; fewer, longer clips train the history on more
#: consecutive frames, more, shorter ones see more distinct crops
SHAPES: dict[str, dict] = {
    # the study's base: tiny's shape when the study began (config.EARLIER_RECIPE); the profile
    # has since taken the recipe this study chose. Pinned, so every committed command re-makes
    # its runs and finds their folders
    "4 clips x 3 frames": {},
    "6 clips x 2 frames": {"batch": 6, "clip_len": 2},
    "2 clips x 6 frames": {"batch": 2, "clip_len": 6},
}
DEFAULT_SHAPE = "4 clips x 3 frames"

#: the reference every gap is measured against
TWIN = "no prompt (twin)"
#: the learning rates of the recipe sweep (val, the twin; see the results file)
LRS = (1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2)
WARMUP = 25
#: AdamW decays every parameter in the study's runs, as in the runs it was first made with (the
#: learning-rate sweep and the 3d-lite comparison); the package's default now decays only the
#: weights of convolutions and linear layers (``TrainConfig.decay``), a change the study has
#: not been re-run with
DECAY = "all"


def study_config(changes: Mapping, seed: int, lr: float, profile: str = "tiny",
                 steps: int | None = None, warmup: int = WARMUP,
                 runs: str | Path = "runs/grounding-study",
                 grounding: str | Path | None = None,
                 benchmark: str = PROTOCOL["benchmark"]) -> TrainConfig:
    """The training config of one variant, seed and learning rate on ``benchmark`` (its run
    folder is named by all of them and by the profile, so that a finished run is found again
    and another profile's is not; the protocol's benchmark and ``tiny`` keep the folder names of
    the first study)."""
    settings = {**changes}
    describer = settings.get("describer", "statistics")
    steps = steps or get_profile(profile).steps
    name = "_".join(f"{k}={v}" for k, v in sorted(settings.items())) or "ronin-lite"
    name = f"{name}_lr={lr:g}_warmup={warmup}_steps={steps}".replace(":", "-")
    if benchmark != PROTOCOL["benchmark"]:
        name = f"{benchmark}_{name}"
    if profile != "tiny":  # tiny keeps the first study's folder names
        name = f"{profile}_{name}"
    grounding = Path(grounding) if grounding is not None else data_root() / "grounding-study"
    return TrainConfig(profile=profile, benchmark=benchmark,
                       scenes=PROTOCOL["scenes"], steps=steps, lr=lr, warmup=warmup, seed=seed,
                       decay=DECAY,
                       run_dir=str(Path(runs) / name / f"seed{seed}"),
                       grounding_root=str(grounding / describer.replace(":", "-")),
                       log_every=25,
                       **{**EARLIER_RECIPE.get(profile, {}), **settings})


def eval_clips(split: str, profile: str = "tiny",
               clips_per_scene: int = PROTOCOL["clips_per_scene"],
               benchmark: str = PROTOCOL["benchmark"]) -> list[BenchmarkClip]:
    """The protocol's fixed evaluation clips of ``split`` (``val`` or ``test``) of
    ``benchmark``."""
    prof = get_profile(profile)
    bench = get_benchmark(benchmark, size=prof.eval_size, seed=prof.seed,
                          scenes=PROTOCOL["scenes"], clips_per_scene=clips_per_scene)
    return list(bench.clips(split))


def described_embeddings(clips: Sequence[BenchmarkClip], describer: str = "oracle",
                         seed: int = 0, encoder=None) -> list[np.ndarray]:
    """Per clip, the text embeddings ``(T, D)`` of its frames' descriptions (what a non-blind
    network is given at test, as in training)."""
    from .grounding import TextEncoder, make_describer

    encoder = encoder or TextEncoder(device="cpu")
    desc = make_describer(describer, seed=seed)
    texts = [desc.describe(c.degraded, c.records) for c in clips]
    unique = sorted({t for clip in texts for t in clip})
    table = dict(zip(unique, encoder.encode(unique)))
    return [np.stack([table[t] for t in clip]) for clip in texts]


class NonFiniteOutput(ValueError):
    """A trained network returned NaN or infinity: its training diverged."""


@torch.no_grad()
def score(model, clips: Sequence[BenchmarkClip],
          embeddings: Sequence[np.ndarray] | None = None,
          single_frame: bool = False) -> list[dict]:
    """One row per clip (scene, task, PSNR of input and restoration: :func:`evaluate.score_clip`);
    ``embeddings`` (per clip ``(T, D)``) are given to the network as its prompts;
    ``single_frame``: every frame restored on its own, with an empty history. Raises
    :class:`NonFiniteOutput` where the network returns NaN or infinity (a run that diverged)."""
    rows = []
    for i, clip in enumerate(clips):
        prompts = None
        if embeddings is not None:
            prompts = model.prompt_from_embedding(torch.from_numpy(embeddings[i]).float())
        if single_frame:
            restored = np.concatenate([ev.restore_frames(model, clip.degraded[t:t + 1])[0]
                                       for t in range(len(clip.degraded))])
        else:
            restored, _ = ev.restore_frames(model, clip.degraded, prompts)
        if not np.isfinite(restored).all():
            raise NonFiniteOutput(f"the network's output for clip {clip.clip_id} is not finite")
        row = ev.score_clip(restored, clip)
        rows.append({k: row[k] for k in ("clip_id", "scene", "task", "severity", "psnr_input",
                                         "psnr", "ssim_input", "ssim")})
    return rows


def per_scene(rows: Sequence[Mapping], key: str = "psnr") -> dict[str, float]:
    """Scene -> mean of ``key`` over its clips."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["scene"], []).append(float(r[key]))
    return {s: float(np.mean(v)) for s, v in out.items()}


def seed_means(split_entry: Mapping) -> dict[str, float]:
    """Seed -> a variant's PSNR averaged over the scenes of one split (a results file's
    ``variants[label][split]``): one number per trained network."""
    return {seed: float(np.mean(list(scenes.values())))
            for seed, scenes in split_entry["per_seed_scene"].items()}


def scene_means(split_entry: Mapping) -> dict[str, float]:
    """Scene -> a variant's PSNR averaged over its seeds (a results file's
    ``variants[label][split]``): the per-scene row of tables and figures."""
    table, _, scenes = stats.scene_seed_table(split_entry["per_seed_scene"])
    return dict(zip(scenes, map(float, table.mean(axis=0))))


def gain_over_input(split_entry: Mapping) -> dict:
    """Restored minus degraded PSNR of a variant on one split (a results file's
    ``variants[label][split]``), per seed and scene, with its interval over both
    (:func:`ronin_lite.stats.scene_seed_interval`)."""
    inp = split_entry["input_psnr_by_scene"]
    per_seed = split_entry["per_seed_scene"]
    table, _, _ = stats.scene_seed_table({seed: {c: x - inp[c] for c, x in scenes.items()}
                                          for seed, scenes in per_seed.items()})
    return stats.scene_seed_interval(table)


#: the study variant each shipped `small` checkpoint is, by the label that
#: ``data_scripts/eval_protocol.py``'s files (``protocol_small_bundled[_val].json``) give it
SHIPPED_SMALL = {TWIN: "no-prompt twin", "RONIN-lite (masks)": "RONIN-lite"}


def against_shipped(results: Mapping, shipped_val: Mapping, shipped_test: Mapping) -> dict:
    """A `small` study (a results file, one seed or several) against the pair shipped with the
    profile's earlier recipe, scored on the same clips by ``eval_protocol.py`` (``shipped_val``,
    ``shipped_test``), and against the best classical method per task chosen on val.

    ``{label: {"val": iv, "test": iv, "classical": iv}}`` (``val``/``test`` only for the
    variants that were shipped): each interval is the study network minus the other, paired
    scene by scene over the split's scenes and over the study's seeds, 95 % jointly over all of
    them. The shipped networks are one training run each and the classical row has no seed, so
    each study seed is paired with the same reference: the interval holds the variation of the
    study's seeds and scenes, not that of the shipped network's seed."""
    seeds = [str(s) for s in results["meta"]["seeds"]]
    if results["meta"]["profile"] != "small" or not seeds:
        raise ValueError("against_shipped compares a study of the small profile with the shipped "
                         f"small pair, not profile {results['meta']['profile']!r} with seeds "
                         f"{seeds}")
    variants = results["variants"]
    n = 2 * sum(lb in SHIPPED_SMALL for lb in variants) + len(variants)

    def pair(ours: Mapping, theirs: Mapping) -> dict:  # ours: {seed: {scene: dB}}
        trained = [s for s in seeds if s in ours]  # a diverged seed has no scores
        return stats.paired_interval({s: ours[s] for s in trained},
                                     {s: theirs for s in trained}, comparisons=n)

    out: dict[str, dict] = {}
    for label, entry in variants.items():
        test = entry["test"]["per_seed_scene"]
        out[label] = {"classical": pair(test, results["classical"]["test_per_scene"])}
        if label in SHIPPED_SMALL:
            for split, shipped in (("val", shipped_val), ("test", shipped_test)):
                out[label][split] = pair(entry[split]["per_seed_scene"],
                                         shipped["per_scene"][SHIPPED_SMALL[label]])
    return out


def per_task(rows: Sequence[Mapping], key: str = "psnr") -> dict[str, float]:
    """Task -> mean of ``key`` over its clips."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["task"], []).append(float(r[key]))
    return {s: float(np.mean(v)) for s, v in sorted(out.items())}


def diverged(scores: Mapping) -> bool:
    """Did a run fail to train? Its mean **val** PSNR is below the degraded input's: every
    variant starts near the identity (zero-initialised residual scales), so a network that ends
    worse than returning its input has diverged (a loss that exploded), whatever its test
    score. Decided on val, so that leaving a run out never looks at test. ``scores``: a run's
    ``scores.json`` (rows with ``psnr`` and ``psnr_input``; a run whose outputs became
    non-finite, :class:`NonFiniteOutput`, has none and is marked ``non_finite``)."""
    if scores.get("non_finite"):
        return True
    rows = scores["val"]
    return float(np.mean([r["psnr"] for r in rows])) < float(np.mean([r["psnr_input"]
                                                                       for r in rows]))


def gap_table(results: Mapping, split: str = "test", reference: str = TWIN,
              comparisons: int | None = None) -> dict[str, dict]:
    """Variant -> the interval of its PSNR gap over ``reference`` (paired by seed and scene;
    :func:`ronin_lite.stats.paired_interval`), jointly over all the comparisons made. A variant
    with diverged seeds (:func:`diverged`, listed in its ``diverged_seeds``) is paired with the
    reference on the seeds it trained with; its interval's ``n_seeds`` says on how many."""
    variants = results["variants"]
    ref = variants[reference][split]["per_seed_scene"]
    others = [v for v in variants if v != reference]
    k = comparisons or len(others)
    out = {}
    for v in others:
        table = variants[v][split]["per_seed_scene"]
        common = [seed for seed in table if seed in ref]  # the seeds both trained with
        out[v] = stats.paired_interval({seed: table[seed] for seed in common},
                                       {seed: ref[seed] for seed in common}, comparisons=k)
    return out


def with_shape(changes: Mapping, shape: str = DEFAULT_SHAPE) -> dict:
    """A variant's changes trained with the batch shape ``shape`` (:data:`SHAPES`); the
    variant's own batch and clip length (the single-frame network's) take precedence."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {list(SHAPES)}")
    return {**SHAPES[shape], **changes}


def results_name(profile: str = "tiny", benchmark: str = PROTOCOL["benchmark"],
                 steps: int | None = None, shape: str = DEFAULT_SHAPE,
                 grad_clip: float = 0.0, per_variant_lr: bool = False,
                 confirm: int = 1) -> str:
    """The results file of a study: ``grounding_study_<profile>.json`` on the protocol's
    benchmark at the profile's steps and batch shape, ``..._<benchmark>`` on another
    benchmark, ``..._<steps>steps`` at another budget (``grounding_study_tiny_1200steps.json``),
    ``..._<batch>x<clip_len>`` with another batch shape (:data:`SHAPES`), ``..._clip<c>``
    with the gradient norm clipped at ``c`` (``TrainConfig.grad_clip``) and ``..._lrvariant``
    where every variant trained at its own rate chosen on val (not all at the twin's),
    ``..._lrvariant_top<n>`` where the ``n`` best rates of each sweep were compared on val
    over every seed."""
    tail = "" if benchmark == PROTOCOL["benchmark"] else f"_{benchmark}"
    if steps is not None and steps != get_profile(profile).steps:
        tail += f"_{steps}steps"
    if shape != DEFAULT_SHAPE:
        changes = SHAPES[shape]
        tail += f"_{changes['batch']}x{changes['clip_len']}"
    if grad_clip:
        tail += f"_clip{grad_clip:g}"
    if per_variant_lr:
        tail += "_lrvariant" + (f"_top{confirm}" if confirm > 1 else "")
    return f"grounding_study_{profile}{tail}.json"


def load_results(path: str | Path | None = None, profile: str = "tiny",
                 benchmark: str = PROTOCOL["benchmark"], steps: int | None = None) -> dict:
    """``results/`` :func:`results_name` (the repository's, or ``path``)."""
    from .results import load_result

    if path is not None:
        return json.loads(Path(path).read_text())
    return load_result(results_name(profile, benchmark, steps))
