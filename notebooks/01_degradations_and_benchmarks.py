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
# # 01 · Degradations and benchmarks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ronin-lite/ronin-lite/blob/v0.1.0/notebooks/01_degradations_and_benchmarks.ipynb)
#
# **What you will learn**
# - how a still photograph becomes a video clip with real camera motion;
# - the thirteen degradations of the course - noise, blur, compression, weather, light - each a
#   plain, seeded function, shown at three intensities with the PSNR it costs;
# - why every degraded frame carries a *record* of what was applied, and what it is used for;
# - time-varying degradations (AverNet-style composites, snow that comes and goes);
# - the four `-lite` benchmarks of the course, split by scene, and how hard each one is.
#
# **What you need**: notebook 00 (optional). No internet, no GPU.
#
# **Time**: about a minute on a CPU (the course map in notebook 00 and the README gives the time
# its last build took on one CPU thread); a GPU changes nothing (nothing here uses it).

# %%
# Colab only: install the course package at the version of this notebook (skipped elsewhere).
import sys

if "google.colab" in sys.modules:
    # %pip install -q "ronin-lite[course] @ git+https://github.com/ronin-lite/ronin-lite@v0.1.0"
    pass

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ronin_lite import config, viz
from ronin_lite.data import benchmarks as B
from ronin_lite.data import degradations as D
from ronin_lite.data.clips import camera_path, make_clip, render_clip
from ronin_lite.data.scenes import get_scene
from ronin_lite.measured import Measured
from ronin_lite.metrics import psnr, ssim

config.seed_everything(0)
# H.264 (video_codec) goes through x264 and swscale, whose SIMD paths differ between CPUs: the
# numbers measured on its frames are shown as ≈value and checked with a measured tolerance
m = Measured("01_degradations_and_benchmarks")
profile = config.get_profile()
print("profile:", profile.name)

# %% [markdown]
# ## 1. From a photograph to a clip
#
# RONIN and Turtle train on real videos. Offline, we make video from the photographs that ship
# with scikit-image, scikit-learn and matplotlib by moving a **virtual camera** over them: a
# window that pans, zooms, rotates or shakes, resampled to the crop size. Consecutive frames
# then differ by a real, bounded motion (at most 4 % of the crop per frame), which is what the
# causal history of notebook 03 will exploit.

# %%
image = get_scene("astronaut").load()
rng = np.random.default_rng(3)
path = camera_path("mixed", 12, image.shape[:2], 96, rng)
clip = render_clip(image, path, 96)
print("clip:", clip.shape, clip.dtype, f"range [{clip.min():.2f}, {clip.max():.2f}]")
print("camera:", path.kind, "=", " + ".join(path.components))

fig, ax = plt.subplots(1, 2, figsize=(8, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
ax[0].imshow(image)
for t, corners in enumerate(path.corners()):
    poly = np.vstack([corners, corners[:1]])
    ax[0].plot(poly[:, 0], poly[:, 1], color=plt.cm.viridis(t / 11), lw=1)
ax[0].set_title("the camera window, frame 0 (purple) to 11 (yellow)", fontsize=9)
ax[0].axis("off")
diffs = [np.abs(clip[t + 1] - clip[t]).mean() for t in range(len(clip) - 1)]
ax[1].bar(range(1, len(clip)), diffs)
ax[1].set_xlabel("frame t")
ax[1].set_ylabel("mean |frame t - frame t-1|")
ax[1].set_title("real, bounded motion between frames", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
# (the encoded video's bytes carry container metadata: shown, not compared)
viz.video_html([clip], ["a 12-frame clip from a still photograph"], fps=6)

# %% [markdown]
# ## 2. Thirteen degradations, three intensities
#
# Each degradation is a plain function `fn(clip, *, parameters..., rng)` on a clip
# `(T, H, W, 3)` float32 in [0, 1], with documented parameter ranges. For benchmarks, one
# scalar **intensity** in [0, 1] maps to parameters (`params_at`): 0 is barely visible, 1 is
# severe. Below, every degradation at intensities 0.2, 0.5 and 0.9 on the same frame, with the
# PSNR of the degraded frame against the clean one.

# %%
scene_clip, _ = make_clip(get_scene("chelsea"), 2, 96, np.random.default_rng(0), kind="pan")
names = list(D.DEGRADATIONS)
levels = (0.2, 0.5, 0.9)
rows = []
fig, axes = plt.subplots(len(names), 4, figsize=(5.2, 1.3 * len(names)), dpi=80)
for i, name in enumerate(names):
    spec = D.DEGRADATIONS[name]
    axes[i, 0].imshow(scene_clip[0])
    axes[i, 0].set_ylabel(f"{name}\n({spec.family})", fontsize=8)
    row = {"degradation": name, "family": spec.family}
    for j, level in enumerate(levels):
        op = D.make_op(name, level, np.random.default_rng(1))
        degraded, records = D.apply_ops(scene_clip, [op], seed=2)
        value = psnr(degraded[:1], scene_clip[:1])
        row[f"PSNR @ {level}"] = round(value, 1)
        if name == "video_codec":
            m(f"video_codec: PSNR @ {level}", value, ".1f", show=False)
        axes[i, j + 1].imshow(degraded[0])
        axes[i, j + 1].set_title(f"{level}: {value:.1f} dB", fontsize=7)
    rows.append(row)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_title("clean", fontsize=7)
fig.tight_layout()
plt.show()

# %%
table = pd.DataFrame(rows).set_index("degradation")
shown = table.astype(object)
for column in table.columns[1:]:  # the PSNR columns
    shown.loc["video_codec", column] = m.text(table.loc["video_codec", column], ".1f")
shown

# %% [markdown]
# The table is the lesson of the figure in numbers: the PSNR falls as the intensity rises, for
# every degradation (the unit tests check this monotonicity for all thirteen). Note how little
# PSNR says about *what kind* of damage a frame has: moderate Gaussian noise and moderate rain
# (intensity 0.5) cost the same decibels, to a tenth, and look nothing alike; so do a strong
# JPEG (0.9) and a moderate Gaussian blur (0.5). That is the information RONIN wants its prompt
# to carry.

# %%
# the sentence above, checked on the table
same = table["PSNR @ 0.5"]
assert abs(same["gaussian_noise"] - same["rain"]) <= 0.1, same
assert abs(table.loc["jpeg", "PSNR @ 0.9"] - table.loc["gaussian_blur", "PSNR @ 0.5"]) <= 0.15

# %%
assert all(r["PSNR @ 0.2"] > r["PSNR @ 0.5"] > r["PSNR @ 0.9"] for r in rows)

# %% [markdown]
# ## 3. Every frame carries a record
#
# `apply_ops` and `apply_schedule` return, beside the degraded frames, one **record** per frame:
# the exact list of what was applied, with its parameters. Records never reach the network;
# they are the ground truth that notebook 04 scores the describers against, that the *oracle*
# describer reads, and that the evaluation uses to report PSNR per degradation.

# %%
op = D.make_op("jpeg", 0.7, np.random.default_rng(0))
_, records = D.apply_ops(scene_clip, [op], seed=0)
print(json.dumps(records[0], indent=1))

# %% [markdown]
# ## 4. Degradations that change over time
#
# Real footage does not keep one degradation: the light changes, the encoder adapts its
# bit rate, it starts to snow. Two schedules model this.
#
# **AverNet-style segments** (`tv-lite`): every $k$ frames a new random combination is drawn,
# each candidate (Gaussian / Poisson / speckle noise, Gaussian / resize blur, JPEG, H.264) with
# probability 0.45, at most one per family, applied in the order a camera meets them (optics,
# sensor, encoder).

# %%
T = 16
long_clip, _ = make_clip(get_scene("grace_hopper"), T, 96, np.random.default_rng(5), kind="pan")
schedule = D.segment_schedule(T, np.random.default_rng(4), k=4)
tv_clip, tv_records = D.apply_schedule(long_clip, schedule, seed=4)

pool = list(D.AVERNET_POOL)
active = np.zeros((len(pool), T))
for t, frame in enumerate(tv_records):
    for r in frame:
        active[pool.index(r["name"]), t] = r["intensity"]
fig, ax = plt.subplots(figsize=(8, 2.6))
im = ax.imshow(active, aspect="auto", cmap="magma_r", vmin=0, vmax=1)
ax.set_yticks(range(len(pool)), pool, fontsize=8)
ax.set_xlabel("frame")
ax.set_title("which degradation is active in each frame (colour = intensity)", fontsize=9)
fig.colorbar(im, ax=ax, fraction=0.03)
fig.tight_layout()
plt.show()
for seg in schedule:
    print(f"frames {seg.start:2d}-{seg.stop - 1:2d}:",
          ", ".join(f"{o.name} ({o.intensity:.2f})" for o in seg.ops))

# %%
# NBVAL_IGNORE_OUTPUT
viz.video_html([tv_clip, long_clip], ["time-varying composite (tv-lite style)", "clean"], fps=4)

# %% [markdown]
# **Snow of varying intensity** (`snowy-lite`): flakes of several sizes fall and drift
# consistently from frame to frame, and their number follows a smooth random curve.

# %%
curve = D.smooth_curve(T, np.random.default_rng(8), 0.05, 0.95)
snow_op = D.make_op("snow", tuple(float(c) for c in curve), np.random.default_rng(8))
snow_clip, snow_records = D.apply_ops(long_clip, [snow_op], seed=8)
snow_psnr = [psnr(snow_clip[t], long_clip[t]) for t in range(T)]

fig, ax = plt.subplots(figsize=(7, 2.4))
ax.plot(curve, "o-", label="snow intensity")
ax2 = ax.twinx()
ax2.plot(snow_psnr, "s--", color="C1", label="PSNR (dB)")
ax.set_xlabel("frame")
ax.set_ylabel("intensity")
ax2.set_ylabel("PSNR (dB)")
fig.legend(loc="upper center", ncol=2, fontsize=8)
fig.tight_layout()
plt.show()
print("correlation of intensity and PSNR:", round(float(np.corrcoef(curve, snow_psnr)[0, 1]), 2))

# %%
# NBVAL_IGNORE_OUTPUT
viz.video_html([snow_clip, long_clip], ["snow of varying intensity", "clean"], fps=4)

# %% [markdown]
# ## 5. Explore
#
# Choose a degradation and an intensity and see the frame and what it costs. (The sliders need
# a live kernel: in a static view of this notebook you see the first setting only.)

# %%
import ipywidgets as widgets


def explore(name="gaussian_noise", intensity=0.5, seed=0):
    op = D.make_op(name, intensity, np.random.default_rng(seed))
    degraded, records = D.apply_ops(scene_clip, [op], seed=seed)
    fig = viz.show_frames([scene_clip[0], degraded[0]],
                          ["clean", f"{name} @ {intensity:.2f} ({records[0][0]['severity']})"],
                          size=3)
    plt.show()
    print(f"PSNR {psnr(degraded[:1], scene_clip[:1]):.2f} dB   "
          f"SSIM {ssim(degraded[:1], scene_clip[:1]):.3f}")
    print("parameters:", {k: round(v, 3) if isinstance(v, float) else v
                          for k, v in op.params.items()})


explore("snow", 0.7)  # one setting, for readers of the static notebook

# %%
# NBVAL_IGNORE_OUTPUT
# the live explorer (widget state is not compared)
widgets.interact(explore, name=widgets.Dropdown(options=names, value="gaussian_noise"),
                 intensity=widgets.FloatSlider(min=0.0, max=1.0, step=0.05, value=0.5),
                 seed=widgets.IntSlider(min=0, max=9, value=0))

# %% [markdown]
# ## 6. The four benchmarks
#
# A benchmark is named and seeded: every clip is a pure function of (benchmark, seed, split,
# index), so training clips are generated on the fly and evaluation clips are a fixed list.
# Splits are by **scene**: the test scenes never appear in training.

# %%
for name, spec in B.BENCHMARKS.items():
    print(f"{name:11s} {spec.description}")
bench = B.get_benchmark("3d-lite", profile)
print()
for split, scenes in bench.splits.items():
    print(f"{split:5s} ({len(scenes)} scenes): {', '.join(s.name for s in scenes)}")

# %%
example = [B.get_benchmark(name, profile).sample(index=2, T=profile.clip_len)
           for name in B.BENCHMARKS]
fig = viz.show_frames([c.degraded[0] for c in example] + [c.clean[0] for c in example],
                      [f"{n}: {' + '.join(c.labels[0])}" for n, c in zip(B.BENCHMARKS, example)]
                      + ["clean"] * len(example), ncols=len(example), size=2.2)
plt.show()

# %% [markdown]
# How hard is each benchmark? The input PSNR and SSIM of the degraded evaluation clips (the
# `tiny` profile's sizes), overall and per degradation - the baseline every restorer of the
# course must beat.

# %%
summary, per_degradation = [], []
for name in B.BENCHMARKS:
    bench = B.get_benchmark(name, profile)
    for split in ("val", "test"):
        clips = list(bench.clips(split))
        mean_psnr = np.mean([psnr(c.degraded, c.clean) for c in clips])
        mean_ssim = np.mean([ssim(c.degraded, c.clean) for c in clips])
        if any(r["name"] == "video_codec" for c in clips for rs in c.records for r in rs):
            m(f"{name} {split}: input PSNR", mean_psnr, ".1f", show=False)
            m(f"{name} {split}: input SSIM", mean_ssim, ".2f", show=False)
            mean_psnr, mean_ssim = m.text(mean_psnr, ".1f"), m.text(mean_ssim, ".2f")
        else:
            mean_psnr, mean_ssim = round(mean_psnr, 1), round(mean_ssim, 2)
        summary.append({
            "benchmark": name, "split": split, "scenes": len(bench.splits[split]),
            "clips": len(clips), "frames": sum(len(c.degraded) for c in clips),
            "input PSNR": mean_psnr, "input SSIM": mean_ssim,
        })
        if split == "test":
            for c in clips:
                for t, frame_records in enumerate(c.records):
                    for r in frame_records:
                        per_degradation.append({
                            "benchmark": name, "degradation": r["name"],
                            "PSNR": psnr(c.degraded[t], c.clean[t]),
                            "SSIM": ssim(c.degraded[t], c.clean[t]),
                            "H.264": any(x["name"] == "video_codec" for x in frame_records)})
    summary.append({"benchmark": name, "split": "train", "scenes": len(bench.splits["train"]),
                    "clips": "on the fly", "frames": "any", "input PSNR": np.nan,
                    "input SSIM": np.nan})
pd.DataFrame(summary).set_index(["benchmark", "split"])

# %%
frame_table = (pd.DataFrame(per_degradation).groupby(["benchmark", "degradation"])
               .agg(frames=("PSNR", "size"), PSNR=("PSNR", "mean"), SSIM=("SSIM", "mean"),
                    h264=("H.264", "any")))
shown = frame_table.drop(columns="h264").round({"PSNR": 1, "SSIM": 2})
shown = shown.astype({"PSNR": object, "SSIM": object})
for (bench_name, degradation), row in frame_table[frame_table["h264"]].iterrows():
    for k, fmt in (("PSNR", ".1f"), ("SSIM", ".2f")):  # rows with H.264 frames: ≈value
        m(f"{bench_name}, frames with {degradation}: {k}", row[k], fmt, show=False)
        shown.loc[(bench_name, degradation), k] = m.text(row[k], fmt)
shown

# %% [markdown]
# (In `tv-lite` and `snowy-lite` a frame has several degradations at once; it counts under
# each of them, so the per-degradation rows there describe frames *containing* that
# degradation.)
#
# ## 7. On disk, verifiably
#
# For evaluation, a split is written to disk as PNG frames plus a `manifest.json` that holds
# every record and a SHA-256 hash of the content. The build runs in a `.partial` folder renamed
# into place at the end, so an interrupted build resumes and never looks finished. The command
# line does the same for every benchmark:
#
# ```bash
# python data_scripts/build_benchmarks.py --benchmark 3d-lite --profile tiny --splits val test
# ```

# %%
import tempfile
from pathlib import Path

bench = B.get_benchmark("3d-lite", profile)
with tempfile.TemporaryDirectory() as tmp:
    path_a = B.write_split(bench, "test", Path(tmp) / "a", progress=False)
    path_b = B.write_split(bench, "test", Path(tmp) / "b", progress=False)
    manifest = json.loads((path_a / "manifest.json").read_text())
    same = manifest["sha256"] == json.loads((path_b / "manifest.json").read_text())["sha256"]
    n_files = len(list(path_a.rglob("*.png")))
    back = B.read_split(path_a)  # verifies every clip's hash
print(f"{len(manifest['clips'])} clips, {n_files} PNG files; rebuilt twice, same hash: {same}")
print("read back and verified:", len(back), "clips of", back[0].degraded.shape)

# %%
# NBVAL_IGNORE_OUTPUT
# the hash identifies the exact content: compare yours with a colleague's
print("content hash:", manifest["sha256"])

# %% [markdown]
# ## Exercises
#
# 1. Which degradation of the table loses the most PSNR at intensity 0.9? Is it the one that
#    *looks* worst to you?
# 2. Make a 10-frame clip of the `coffee` scene with a `zoom` camera and apply a JPEG whose
#    quality you choose directly (not through an intensity). Print the record of frame 0.
# 3. Build an AverNet schedule that changes every 2 frames instead of 4, and count how many
#    different combinations appear in 16 frames.
# 4. Write the `snowy-lite` test split to a temporary folder and find the frame with the most
#    snow from its manifest alone.
#
# <details><summary>Solutions</summary>
#
# ```python
# # 1. low_light, 7.3 dB: PSNR punishes a global change of brightness hardest, though the
# #    dark frame is still easy to read; haze (10.0 dB) is next. What looks worst is usually
# #    strong noise or rain, at 13-16 dB.
# table["PSNR @ 0.9"].idxmin()
# # 2. the record of frame 0 (the op's own parameters are kept, the intensity is a label):
# #    [{'name': 'jpeg', 'family': 'compression', 'intensity': 0.5, 'severity': 'moderate',
# #      'params': {'quality': 15}}]
# clip, info = make_clip(get_scene("coffee"), 10, 96, np.random.default_rng(0), kind="zoom")
# op = D.Op("jpeg", 0.5, {"quality": 15})
# degraded, records = D.apply_ops(clip, [op], seed=0)
# records[0]
# # 3.
# s = D.segment_schedule(16, np.random.default_rng(0), k=2)
# len({tuple(o.name for o in seg.ops) for seg in s})  # 8 segments, 8 different combinations
# # 4. ('test/chelsea/001', 0, 0.886...): frame 0 of clip 001 of chelsea, intensity 0.89
# bench = B.get_benchmark("snowy-lite", profile)
# path = B.write_split(bench, "test", tempfile.mkdtemp(), progress=False)
# m = json.loads((path / "manifest.json").read_text())
# max(((c["clip_id"], t, r["intensity"]) for c in m["clips"]
#      for t, frame in enumerate(c["records"]) for r in frame if r["name"] == "snow"),
#     key=lambda x: x[2])
# ```
#
# </details>
#
# ## Check yourself
#
# - Why are the benchmarks split by scene and not by frame? What would go wrong otherwise?
# - Which degradations here act on the whole clip rather than on each frame independently, and
#   why does that matter for a video restorer?
# - What is a record used for, and why must the restorer never see it?
# - Why is PSNR alone a poor description of *what* is wrong with a frame?
#
# <details><summary>Answers</summary>
#
# - Frames of one scene are near-copies of each other: with a frame split, the test frames'
#   scenes would have been seen in training, and a network that memorised them would look far
#   better than it is on new footage. Split by scene, the test measures what users meet: content
#   never seen.
# - H.264 (`video_codec`) compresses the whole clip as one stream, predicting frames from
#   earlier ones, so its artefacts drift and persist over time; haze (its depth map), rain and
#   snow are drawn once per clip and move with it, and the time-varying schedules change the
#   degradation along the clip (section 4). A frame-by-frame restorer cannot exploit that
#   consistency; a restorer with a history can, and must not be misled when the degradation
#   changes.
# - It lists, per frame, which degradation was applied, at what intensity and severity: the
#   ground truth for scoring describers (notebook 04), for the oracle describer and for per-task
#   results. The restorer must never see it because real footage comes without one: a network
#   that read it would be non-blind, and its scores would not transfer.
# - It measures how far the frame is from the clean one, not how: moderate Gaussian noise and
#   moderate rain cost the same 19.4 dB (section 2's table) and need opposite repairs. That
#   missing *what* is the information RONIN's prompt is meant to carry.
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
# - AverNet: H. Zhao et al., *AverNet: All-in-one Video Restoration for Time-varying Unknown
#   Degradations*, NeurIPS 2024.
# - SSIM: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, *Image Quality Assessment: From
#   Error Visibility to Structural Similarity*, IEEE Transactions on Image Processing, 2004.
