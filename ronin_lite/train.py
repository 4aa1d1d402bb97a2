"""Training RONIN-lite: restoration L1 plus the grounded prompt loss; resumable, DDP-ready.

RONIN (arXiv 2507.14851) trains its network with

    loss = L1(restored, clean) + lambda_2 * L1(P_t, e_t),    lambda_2 = 0.01,

where ``P_t`` is the prompt the network generated for degraded frame ``t`` and ``e_t`` the
sentence embedding of a description of that frame (Q-Instruct + BGE-Micro-v2 in the paper; a
describer and text encoder of :mod:`ronin_lite.grounding` here, computed ahead of training into a
:class:`~ronin_lite.grounding.GroundingCache`). Both terms are averaged over the frames of a
clip, which the network processes frame by frame carrying its history (Turtle's recipe: 5-frame
clips, crops, flips and 90-degree rotations, Adam at 4e-4 with cosine decay to 1e-7).

Departures, and why:

* **The prompt's target is normalised** (``target_norm``, default ``"center"``): the network
  predicts ``(e_t - mean) / std`` with the mean (and, for ``"standardize"``, the per-dimension
  standard deviation, floored) of the training cache's embeddings; ``"none"`` is the paper's
  raw target. Descriptions of degraded frames read alike ("... noise ... Overall, the quality is
  poor."), so their embeddings share a large common part: on 3d-lite oracle descriptions
  embedded by all-MiniLM-L6-v2, the mean of the unit-norm targets has norm 0.82 (two thirds of
  a target's energy, on average, is shared) and pairwise cosines run 0.45-0.93 (5th-95th
  percentile).
  Centring takes that part out, so the prompt the masks read is the informative part and
  starts at zero; it is a change of coordinates (``model.embedding_from_prompt`` maps back).
  ``"standardize"`` also gives every dimension unit spread.
  *Chosen on val* (``python data_scripts/run_grounding_study.py choose`` and ``report``;
  ``results/grounding_study_tiny.json``, ``val_choices``: the masks design, 300 ``tiny`` steps,
  3 val scenes x 3 seeds, paired with these defaults): raw, uncentred targets restore worse
  (the interval of the difference lies below 0) with a prompt no better grounded, so the
  targets are centred.
* **So our default is** ``lambda_prompt = 1`` (with centred targets), not the paper's 0.01
  (``--lambda-prompt 0.01`` gives the paper's weight). The same val study: at 0.01 the prompt
  restores as well (the interval contains 0) but is not grounded at all: its R^2 against the
  text embeddings of the val frames is far below 0 (the prompt drifts away from the text and
  becomes a free code for the masks; notebook 06 shows it). At 0.1 restoration is a little
  better than at 1 (an interval above 0), and the prompt keeps little of the text (R^2 near
  0, below it for one seed); at 1 it keeps R^2 of about 0.3 on every seed. The rule, stated
  after these numbers were seen: the best val PSNR *among the settings whose prompt stays
  grounded* (R^2 > 0 for every seed), since a prompt that no longer approximates language is
  not RONIN's; ``--lambda-prompt 0.1`` is the restoration-first choice. The two weights are
  not on the same scale anyway: a centred target's L1 per dimension is about 0.023, a raw
  unit-norm embedding's about 0.04.
* **AdamW** (weight decay 1e-4, as Restormer, on the weights of convolutions and linear layers
  only: not on norms, biases, attention temperatures or scales, :func:`param_groups`) instead of
  Adam; the learning rate is a pure function of the step (a linear warm-up over ``warmup``
  steps, then a cosine from ``lr`` to ``min_lr``), so the step counter is the whole state of
  the schedule. The ``tiny`` profile's recipe (6 clips x 2 frames, ``lr`` 8e-3 after a 25-step
  warm-up, ``grad_clip`` 0.01) was chosen on the val scenes
  (``results/grounding_study_tiny*.json``, ``shape_sweep`` and ``lr_sweep``; notebook 09,
  section 9).
* **Gradient clipping** (``grad_clip``; the ``tiny`` profile's 0.01 is Restormer's value):
  after the backward pass, and after DDP's all-reduce, the gradient's global L2 norm is scaled
  down to ``grad_clip`` when it is larger. Not in the paper's text; Restormer's training code,
  which Turtle builds on, does it.
* **Augmentation** draws one of the 8 symmetries of the square (quarter turns, flip) per clip
  from ``(seed, clip index)`` and applies it to every frame, degraded and clean alike. The
  target embedding is kept: it describes degradations, which a flip or a rotation does not
  change.
* **Soft clean frames** (``soften``, off by default; a course addition, not in the paper):
  with probability 1/2 a training clip's clean frames are blurred by a Gaussian of
  ``sigma ~ U(0, soften)`` pixels before the degradation, so the target is sometimes soft.
  The bundled training scenes are sharp photographs, and the real videos of val and test are
  softer; the ``small`` networks trained on photographs alone were seen to sharpen soft video
  frames past their clean frames (notebook 09). Those clips are described again (their
  degraded frames change), in a grounding cache of their own.

**Data and order.** Item ``i`` of :class:`~ronin_lite.data.datasets.TrainClips` is always the
same clip; step ``s`` uses items ``[s B, (s + 1) B)`` (``B = batch``, the global batch), each once.
Nothing random is drawn at run time: weights are initialised from ``seed``, clips and their
augmentation are functions of their index. So a run is reproducible, and a resumed run
continues as an uninterrupted one (weights, AdamW moments, step counter, loss-window
accumulators and torch's RNG state are restored): bit for bit on a CPU (tested); on a GPU the
same computation up to the last bits, since cuDNN's fastest kernels are not deterministic. The
run's numerics (device type, bf16 autocast) are part of its identity: a CPU run is not
continued on a GPU in bf16 (refused, with the flag that continues it as it was).

**Run folder.** ``run.json`` (the config; another config in the same folder is refused, the same
config resumes), ``log.jsonl`` (one line per ``log_every`` steps: step, loss, l1, prompt_loss,
lr, time; each term the mean over those steps), ``latest.json`` -> ``checkpoints/step-NNNNNNN/``
(a :mod:`ronin_lite.checkpoints` folder plus ``trainer.safetensors`` and ``trainer.json``, the
optimizer's tensors and the rest of the trainer's state: never pickle); with ``--val-every N``
the log lines of every N-th step carry ``val_psnr`` (PSNR on ``--val-clips`` clips of the val
scenes, at the training crop) and ``best/`` holds the network that scored highest.

**Devices.** CPU; one GPU with bf16 autocast (``amp``); several processes with ``torchrun``
(``DistributedDataParallel``, gloo on CPU, NCCL on GPU): each rank takes every ``world``-th clip
of a step's global batch (``batch`` must divide by the number of processes), gradients are
averaged, and rank 0 alone writes logs and checkpoints::

    python -m ronin_lite.train --profile tiny --benchmark 3d-lite --run-dir runs/tiny
    torchrun --nproc-per-node 2 -m ronin_lite.train --profile small --run-dir runs/small
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Sampler

from .checkpoints import LATEST_FILE, load_checkpoint, save_checkpoint, write_json_atomic
from .config import PROFILE_NAMES, data_root, get_profile, pick_device, retrain_requested
from .data.benchmarks import BENCHMARKS, Benchmark, get_benchmark
from .data.datasets import TrainClips, collate_clips
from .grounding.cache import GroundingCache, cache_name
from .models.prompts import CONDITIONS, INJECT_STAGES
from .models.ronin import RoninConfig, RoninLite
from .models.unet import CONFIG_NAMES

TARGET_NORMS = ("none", "center", "standardize")
#: where the prompt comes from: the network's generator (RONIN) or the describer (non-blind)
PROMPT_SOURCES = ("generated", "describer")
#: what AdamW's weight decay applies to (:func:`param_groups`)
DECAYS = ("weights", "all")
RUN_FILE = "run.json"
LOG_FILE = "log.jsonl"
TRAINER_TENSORS = "trainer.safetensors"
TRAINER_JSON = "trainer.json"
#: "standardize" divides by max(std, STD_FLOOR x mean std): all-MiniLM-L6-v2 has dimensions that
#: never vary over our descriptions (std 0 or 1e-9), which a plain division would blow up.
STD_FLOOR = 0.01
#: TrainConfig fields that do not change what is computed: they may differ on resume.
NOT_IDENTITY = ("run_dir", "grounding_root", "device", "num_workers", "log_every", "ckpt_every",
                "val_every", "val_clips")


def _opt(help_text: str, study: bool = False) -> dict:
    """A field's help text; ``study``: a switch of the grounding study's variants (departures
    from the paper, :mod:`ronin_lite.study`), which notebook 08's table of fields leaves out."""
    return {"metadata": {"help": help_text, "study": study}}


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``None`` fields take the profile's value (``ronin_lite.config``)."""

    profile: str | None = field(default=None, **_opt("tiny | small | full (default: automatic)"))
    benchmark: str = field(default="3d-lite", **_opt("training benchmark"))
    scenes: str = field(default="builtin", **_opt("clean scenes: builtin (the 11 bundled "
                                                  "photos) | bundled (those and 7 real video "
                                                  "scenes: the evaluation protocol's 18) | a "
                                                  "folder of your images, videos or frame "
                                                  "folders (split by scene)"))
    model: str | None = field(default=None, **_opt("backbone size (default: the profile's)"))
    steps: int | None = field(default=None, **_opt("optimisation steps"))
    batch: int | None = field(default=None, **_opt("clips per step (all processes together)"))
    crop: int | None = field(default=None, **_opt("training crop H = W in pixels"))
    clip_len: int | None = field(default=None, **_opt("frames per training clip"))
    lr: float | None = field(default=None, **_opt("peak learning rate"))
    min_lr: float = field(default=1e-7, **_opt("learning rate at the end of the cosine"))
    train_clips: int | None = field(default=None, **_opt(
        "training pool: distinct clips, used in epochs (each grounded once; default: the "
        "profile's, or steps x batch: every clip once)"))
    warmup: int | None = field(default=None, **_opt("steps of linear learning-rate warm-up "
                                                    "before the cosine (default: the "
                                                    "profile's)"))
    weight_decay: float = field(default=1e-4, **_opt("AdamW weight decay"))
    grad_clip: float | None = field(default=None, **_opt(
        "clip the gradient's global L2 norm to this value before each update (0: no "
        "clipping; Restormer's training code, which Turtle builds on, clips at 0.01; default: "
        "the profile's)"))
    soften: float = field(default=0.0, **_opt(
        "soft clean frames: with probability 1/2 a training clip's clean frames are blurred by "
        "a Gaussian of sigma ~ U(0, soften) px before degrading, so that the targets are as "
        "soft as real video frames often are (a course addition; 0: off, every run before it)",
        study=True))
    decay: str = field(default="weights", **_opt(
        "what the weight decay applies to: weights (of convolutions and linear layers; not "
        "norms, biases, temperatures or scales) | all (every parameter, as runs before it was "
        "an option)"))
    lambda_prompt: float = field(default=1.0, **_opt("weight of the prompt loss (paper: 0.01; "
                                                      "ours 1, see the module docstring)"))
    target_norm: str = field(default="center", **_opt("prompt target: none | center | "
                                                       "standardize (see the module docstring)"))
    prompt_dim: int = field(default=384, **_opt("prompt width = text-embedding width"))
    inject: str | None = field(default=None, **_opt("conditioned stages: none | first | "
                                                     "last2 | all | all+latent (default: last2, "
                                                     "the paper's)"))
    condition: str = field(default="mask", **_opt("how the prompt enters: mask (RONIN's soft "
                                                  "masks, 2 sigmoid, identity at init) | "
                                                  "sigmoid (the paper's plain sigmoid) | film "
                                                  "(scale and shift; a course variant)",
                                                  study=True))
    history_gate: bool = field(default=False, **_opt(
        "the prompt also gates how much the decoder's history routers read the cached frames "
        "(a course variant; with --inject none, the prompt's only way into the restoration)",
        study=True))
    prompt_source: str = field(default="generated", **_opt(
        "generated (RONIN: the network predicts its prompt) | describer (non-blind: the prompt "
        "IS the embedding of the describer's description, in training and at test; with "
        "--describer oracle, the upper bound of the grounding study)", study=True))
    cross_attention: bool = field(default=True, **_opt("encoder-1 -> latent cross-attention"))
    prompt: bool = field(default=True, **_opt("the prompt path (--no-prompt: the twin without)"))
    seed: int | None = field(default=None, **_opt("initialisation and augmentation seed"))
    data_seed: int | None = field(default=None, **_opt("the benchmark's seed (which clips)"))
    run_dir: str | None = field(default=None, **_opt("run folder (default: "
                                                      "runs/<benchmark>_<profile>)"))
    grounding_root: str | None = field(default=None, **_opt("grounding caches (default: "
                                                             "<data root>/grounding)"))
    describer: str = field(default="statistics", **_opt("describer of the grounding cache"))
    describer_seed: int = field(default=0, **_opt("the describer's seed"))
    encoder: str | None = field(default=None, **_opt("text encoder (default: the cache's)"))
    log_every: int = field(default=10, **_opt("steps per log line"))
    ckpt_every: int = field(default=250, **_opt("steps per checkpoint (and one at the end)"))
    val_every: int = field(default=0, **_opt("score PSNR on val clips every N steps (a multiple "
                                             "of --log-every; 0: never); the best network is "
                                             "kept in <run dir>/best"))
    val_clips: int = field(default=8, **_opt("val clips scored by --val-every"))
    device: str | None = field(default=None, **_opt("cpu | cuda (default: automatic)"))
    amp: bool = field(default=True, **_opt("bf16 autocast when training on CUDA (no effect "
                                            "on the CPU)"))
    num_workers: int = field(default=0, **_opt("data-loading worker processes"))

    def __post_init__(self) -> None:
        profile = get_profile(self.profile)
        defaults = {"profile": profile.name, "model": profile.model, "steps": profile.steps,
                    "batch": profile.batch, "crop": profile.crop, "clip_len": profile.clip_len,
                    "lr": profile.lr, "grad_clip": profile.grad_clip,
                    "seed": profile.seed, "data_seed": profile.seed,
                    "inject": "last2" if self.prompt else "none",
                    "grounding_root": str(data_root() / "grounding")}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.train_clips is None:
            object.__setattr__(self, "train_clips", profile.train_clips)
        if self.warmup is None:  # the profile's, at most a quarter of a (short) run
            object.__setattr__(self, "warmup", min(profile.warmup, self.steps // 4))
        if self.run_dir is None:
            object.__setattr__(self, "run_dir", str(Path("runs") / f"{self.benchmark}_"
                                                    f"{self.profile}"))
        self._validate()

    def _validate(self) -> None:
        if self.val_every < 0 or self.val_clips < 1 or (self.val_every
                                                         and self.val_every % self.log_every):
            raise ValueError(f"--val-every must be 0 or a multiple of --log-every "
                             f"({self.log_every}), and --val-clips >= 1; got "
                             f"{self.val_every} and {self.val_clips}")
        if self.benchmark not in BENCHMARKS:
            raise ValueError(f"unknown benchmark {self.benchmark!r}; choose one of "
                             f"{sorted(BENCHMARKS)}")
        if self.target_norm not in TARGET_NORMS:
            raise ValueError(f"unknown target_norm {self.target_norm!r}; choose one of "
                             f"{list(TARGET_NORMS)}")
        if self.inject not in INJECT_STAGES:
            raise ValueError(f"unknown inject {self.inject!r}; choose one of "
                             f"{list(INJECT_STAGES)}")
        positive = {k: getattr(self, k) for k in ("steps", "batch", "clip_len", "lr", "log_every",
                                                  "ckpt_every", "prompt_dim")}
        bad = {k: v for k, v in positive.items() if not v > 0}
        if bad or self.crop < 16:
            raise ValueError(f"these fields must be > 0 (crop >= 16): "
                             f"{bad or {'crop': self.crop}}")
        if self.train_clips is not None and self.train_clips < self.batch:
            raise ValueError(f"--train-clips must hold at least one batch ({self.batch} clips), "
                             f"got {self.train_clips}")
        if not 0 <= self.warmup < self.steps:
            raise ValueError(f"--warmup must be in [0, steps), got {self.warmup} of "
                             f"{self.steps} steps")
        if min(self.min_lr, self.weight_decay, self.lambda_prompt, self.num_workers,
               self.grad_clip, self.soften) < 0:
            raise ValueError("min_lr, weight_decay, lambda_prompt, num_workers, grad_clip and "
                             "soften must be >= 0")
        if self.decay not in DECAYS:
            raise ValueError(f"unknown decay {self.decay!r}; choose one of {list(DECAYS)}")
        if self.prompt_source not in PROMPT_SOURCES:
            raise ValueError(f"unknown prompt_source {self.prompt_source!r}; choose one of "
                             f"{list(PROMPT_SOURCES)}")
        injected = self.inject != "none" or self.history_gate
        if self.prompt_source == "describer" and (not self.prompt or not injected
                                                  or self.val_every):
            raise ValueError("prompt_source='describer' feeds the description's embedding to "
                             "the masks: it needs the prompt path, an inject mode other than "
                             "'none' (or --history-gate), and no --val-every (the val frames "
                             "would need describing too: score them with the grounding study's "
                             "script)")
        if self.prompt and not injected and self.lambda_prompt == 0:
            raise ValueError("with inject='none' and lambda_prompt=0 the prompt generator "
                             "learns nothing: set lambda_prompt > 0, or train --no-prompt")
        self.model_config()  # the architecture must be valid too

    def model_config(self) -> RoninConfig:
        """The architecture this run trains."""
        return RoninConfig(backbone=self.model, prompt_dim=self.prompt_dim, inject=self.inject,
                           cross_attention=self.cross_attention, prompt=self.prompt,
                           condition=self.condition, history_gate=self.history_gate)

    @property
    def pool(self) -> int:
        """Distinct training clips: ``train_clips``, or ``steps x batch`` (one pass)."""
        return min(self.train_clips or self.steps * self.batch, self.steps * self.batch)

    @property
    def needs_targets(self) -> bool:
        """True when the prompt loss is on, or the prompt is the description's embedding: both
        need a grounding cache."""
        return self.prompt and (self.lambda_prompt > 0 or self.prompt_source == "describer")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def portable_dict(self) -> dict:
        """:meth:`to_dict` for records that travel (``run.json``, checkpoints, results files):
        the folders, which only say where things were on the machine that wrote them, as
        ``$RONIN_DATA/...`` under the data root, relative under the working directory, and
        otherwise left out (``None``). Nothing that loads a record reads them."""
        out = self.to_dict()
        for key in ("grounding_root", "run_dir"):
            out[key] = portable_path(out[key])
        return out

    def numerics(self, device: str | torch.device | None = None) -> str:
        """How the run computes: ``"cpu fp32"``, ``"cuda fp32"`` or ``"cuda bf16 autocast"``
        (``device``: the resolved device; default: the one this config picks)."""
        kind = torch.device(device).type if device is not None else pick_device(self.device).type
        return f"{kind} bf16 autocast" if kind == "cuda" and self.amp else f"{kind} fp32"

    def identity(self, device: str | torch.device | None = None) -> dict:
        """The fields that decide what a run computes (two runs with equal identity are one),
        with the numerics of the device it runs on: a CPU run resumed on a GPU would go on in
        bf16, so it is refused rather than continued silently in other arithmetic."""
        out = {k: v for k, v in self.to_dict().items() if k not in NOT_IDENTITY}
        out["numerics"] = self.numerics(device)
        return out


def portable_path(path: str | None) -> str | None:
    """``path`` as it can travel to another machine: ``$RONIN_DATA/rel`` under the data root,
    ``rel`` under the working directory, ``None`` elsewhere (:meth:`TrainConfig.portable_dict`)."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    for base, prefix in ((data_root(), "$RONIN_DATA"), (Path.cwd(), None)):
        try:
            rel = p.resolve().relative_to(base.resolve())
        except ValueError:
            continue
        return f"{prefix}/{rel}" if prefix else str(rel)
    return None


# ---------------------------------------------------------------------------------------------
# Schedule, augmentation, order
# ---------------------------------------------------------------------------------------------
def cosine_lr(step: int, steps: int, lr: float, min_lr: float, warmup: int = 0) -> float:
    """Learning rate of step ``step`` (0-based): with ``warmup`` steps, a linear ramp up to
    ``lr`` over steps ``0 .. warmup - 1``; then a cosine from ``lr`` (at step ``warmup``) to
    ``min_lr`` at ``steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * (step - warmup)
                                                         / (steps - warmup)))


def dihedral(x: Tensor, k: int) -> Tensor:
    """Symmetry ``k`` (0..7) of the square on the last two dims: ``k % 4`` quarter turns, then
    a left-right flip when ``k >= 4``."""
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


class AugmentedClips(Dataset):
    """The run's stream of training clips: position ``i`` is clip ``i mod len(clips)`` of the
    pool (epochs over a finite pool; one pass when the pool is as long as the run) with one
    dihedral symmetry, drawn from ``(seed, i)``: each epoch sees its clips in another pose."""

    def __init__(self, clips: TrainClips, seed: int, length: int | None = None):
        self.clips, self.seed = clips, int(seed)
        self.length = len(clips) if length is None else int(length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        item = self.clips[index % len(self.clips)]
        k = int(np.random.default_rng([self.seed, index]).integers(8))
        # the same symmetry for every frame, degraded and clean: (T, 3, H, W) -> (T, 3, H, W)
        return {**item, "degraded": dihedral(item["degraded"], k),
                "clean": dihedral(item["clean"], k)}


class StepBatches(Sampler[list[int]]):
    """This process's clips of each step from ``start``: step ``s`` owns the global batch
    ``[s B, (s + 1) B)``, of which rank ``r`` takes every ``world``-th item from ``s B + r``."""

    def __init__(self, start: int, steps: int, batch: int, rank: int = 0, world: int = 1):
        if batch % world:
            raise ValueError(f"batch {batch} does not split over {world} processes: use a "
                             f"batch that is a multiple of {world}")
        self.start, self.steps, self.batch, self.rank, self.world = start, steps, batch, rank, world

    def __len__(self) -> int:
        return self.steps - self.start

    def __iter__(self) -> Iterator[list[int]]:
        for s in range(self.start, self.steps):
            yield list(range(s * self.batch + self.rank, (s + 1) * self.batch, self.world))


# ---------------------------------------------------------------------------------------------
# Grounding targets
# ---------------------------------------------------------------------------------------------
class PromptTargets:
    """The text embeddings of the training frames, and the statistics that normalise them:
    mean (and std) over the run's own frames, clips ``0 .. clips - 1`` and frames ``0 .. T - 1``
    (a cache may hold more: shared with a longer run, or with longer clips)."""

    def __init__(self, cache: GroundingCache, norm: str, clips: int | None = None,
                 T: int | None = None):
        self.cache = cache
        embeddings = cache.load_embeddings()  # key -> (D,) float32, keys train/<scene>/<i>/<t>
        if clips is not None:  # the run's own frames only: clips 0 .. clips-1, frames 0 .. T-1
            embeddings = {k: v for k, v in embeddings.items()
                          if int(k.split("/")[-2]) < clips
                          and (T is None or int(k.split("/")[-1]) < T)}
        if not embeddings:
            raise ValueError(f"the grounding cache at {cache.path} holds no embedding of this "
                             "run's training frames")
        table = np.stack(list(embeddings.values())).astype(np.float64)  # (N, D)
        self.dim = table.shape[1]
        mean = table.mean(0) if norm != "none" else np.zeros(self.dim)
        std = np.ones(self.dim)
        if norm == "standardize":  # floored: a few encoder dimensions are (nearly) constant
            std = table.std(0)
            std = std.clip(min=STD_FLOOR * std.mean())
        self.mean = torch.from_numpy(mean.astype(np.float32))
        self.std = torch.from_numpy(std.astype(np.float32))

    def batch(self, clip_ids: Sequence[str], T: int) -> Tensor:
        """Raw embeddings ``(B, T, D)`` of frames ``0 .. T - 1`` of each clip."""
        return torch.from_numpy(np.stack([
            np.stack([self.cache.lookup(c, t) for t in range(T)]) for c in clip_ids]))


def param_groups(model: nn.Module, weight_decay: float, decay: str = "weights") -> list[dict]:
    """AdamW's parameter groups: with ``decay="weights"`` the weight decay applies to the
    weights of convolutions and linear layers only. Norm gains and offsets, biases, attention
    temperatures and the zero-initialised scales are left undecayed: decay pulls a parameter
    towards 0, which for a LayerNorm gain (initialised at 1) or a temperature is not a
    regulariser but a drift of what the layer computes. ``decay="all"``: one group, every
    parameter decayed (what runs did before this was an option)."""
    if decay == "all":
        return [{"params": list(model.parameters()), "weight_decay": weight_decay}]
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {list(DECAYS)}, got {decay!r}")
    weights = {id(m.weight) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))}
    decayed, kept = [], []
    for p in model.parameters():
        (decayed if id(p) in weights else kept).append(p)
    return [{"params": decayed, "weight_decay": weight_decay},
            {"params": kept, "weight_decay": 0.0}]


def _grounded_indices(keys: Sequence[str], T: int) -> set[int]:
    """Training-clip indices with frames ``0 .. T - 1`` all grounded (keys ``train/<scene>/
    <index>/<frame>``)."""
    count = Counter(int(k.split("/")[-2]) for k in keys if int(k.split("/")[-1]) < T)
    return {i for i, n in count.items() if n >= T}


def _describer_config(spec: str, seed: int, on_disk: dict | None) -> dict:
    """What describer ``spec`` records in a cache's meta, without loading a VLM's weights: a
    ``vlm:<model>`` spec matches a cache made with that model (its other settings as on disk)."""
    from .grounding.describers import make_describer

    kind, _, model_id = spec.partition(":")
    if kind != "vlm":
        return make_describer(spec, seed=seed).config()
    if on_disk and on_disk.get("name") == "vlm" and on_disk.get("model") == model_id:
        return on_disk
    return {"name": "vlm", "model": model_id, "seed": seed}


def _ground_command(config: TrainConfig, n_clips: int) -> str:
    """The data_scripts/ground_split.py command that grounds this run's training clips."""
    profile = get_profile(config.profile)
    env = {"RONIN_CROP": (config.crop, profile.crop),
           "RONIN_CLIP_LEN": (config.clip_len, profile.clip_len),
           "RONIN_SEED": (config.data_seed, profile.seed)}
    prefix = "".join(f"{k}={v} " for k, (v, default) in env.items() if v != default)
    encoder = f" --encoder {config.encoder}" if config.encoder else ""
    if config.scenes != "builtin":
        encoder += f" --scenes {config.scenes}"
    if config.soften:
        encoder += f" --soften {config.soften:g}"
    return (f"{prefix}python data_scripts/ground_split.py --benchmark {config.benchmark} "
            f"--split train --profile {config.profile} --clips {n_clips} --describer "
            f"{config.describer} --seed {config.describer_seed} --root "
            f"{config.grounding_root}{encoder}")


def prepare_targets(config: TrainConfig, ground: bool = False, distributed: bool = False,
                    progress: bool = True) -> PromptTargets:
    """Open this run's grounding cache, checking it covers every training clip.

    With ``ground=True`` the missing clips are described and embedded first (single process);
    otherwise a missing cache raises an error that gives the command to run. A cache made with
    another describer or encoder, or whose embeddings are not ``prompt_dim`` wide, is refused.
    """
    n_clips = config.pool
    name = cache_name(config.benchmark, config.crop, config.data_seed, config.clip_len,
                      config.scenes, config.soften)
    path = Path(config.grounding_root) / name / "train"
    meta = json.loads((path / "meta.json").read_text()) if (path / "meta.json").exists() else None
    describer_config = _describer_config(config.describer, config.describer_seed,
                                         meta and meta.get("describer"))
    encoder_name = config.encoder or (meta or {}).get("encoder")
    missing: list[int] = list(range(n_clips))
    cache = None
    if meta is not None:
        cache = GroundingCache(config.grounding_root, name, "train", describer_config,
                               encoder_name)
        done = _grounded_indices(list(cache.load_embeddings()), config.clip_len)
        missing = [i for i in range(n_clips) if i not in done]
    if missing:
        if not ground:
            what = "there is no grounding cache" if meta is None else \
                f"{len(missing)} of the {n_clips} training clips are not grounded"
            raise FileNotFoundError(
                f"the prompt loss needs the text embedding of every training frame, but {what} "
                f"at {path}. Run this command again with --ground to ground them now, or run\n  "
                f"{_ground_command(config, n_clips)}\n(or train without the prompt loss: "
                "--lambda-prompt 0, or --no-prompt)"
            )
        if distributed:
            raise ValueError(
                "grounding inside a multi-process run is not supported: ground first with one "
                f"process (`python -m ronin_lite.train ... --ground`), or run\n  "
                f"{_ground_command(config, n_clips)}"
            )
        cache = _ground(config, name, missing, progress)
    if cache.meta["dim"] != config.prompt_dim:
        raise ValueError(
            f"the grounding cache at {cache.path} holds {cache.meta['dim']}-d embeddings "
            f"(encoder {cache.meta['encoder']!r}) but the prompt is {config.prompt_dim}-d: pass "
            f"--prompt-dim {cache.meta['dim']}, or ground with a {config.prompt_dim}-d encoder"
        )
    # statistics of this run's own frames: a cache shared with a longer run holds more
    return PromptTargets(cache, config.target_norm, n_clips, config.clip_len)


def _ground(config: TrainConfig, name: str, indices: list[int], progress: bool) -> GroundingCache:
    """Describe and embed the frames of training clips ``indices`` (the grounding API)."""
    from .grounding import TextEncoder, make_describer

    describer = make_describer(config.describer, seed=config.describer_seed,
                               **({"device": config.device}
                                  if config.describer.startswith("vlm:") else {}))
    encoder = TextEncoder(config.encoder, device=config.device)
    if encoder.dim != config.prompt_dim:
        raise ValueError(f"text encoder {encoder.name!r} gives {encoder.dim}-d embeddings but "
                         f"the prompt is {config.prompt_dim}-d: pass --prompt-dim {encoder.dim}")
    cache = GroundingCache(config.grounding_root, name, "train", describer.config(), encoder.name)
    bench = _benchmark(config)
    items = ((c.clip_id, c.degraded, c.records) for c in
             (bench.sample(i, "train", config.clip_len, config.crop, config.soften)
              for i in indices))
    cache.ground(items, describer, encoder, progress=progress, total=len(indices))
    return cache


def _benchmark(config: TrainConfig) -> Benchmark:
    return get_benchmark(config.benchmark, size=config.crop, seed=config.data_seed,
                         scenes=config.scenes)


# ---------------------------------------------------------------------------------------------
# The loss
# ---------------------------------------------------------------------------------------------
class ClipLoss(nn.Module):
    """RONIN's loss over clips, frame by frame carrying the state (what DDP wraps).

    ``forward(degraded, clean (B, T, 3, H, W), targets (B, T, D) normalised or None)`` ->
    ``(loss, l1, prompt_loss)``, each term averaged over the frames.
    """

    def __init__(self, model: RoninLite, lambda_prompt: float, given_prompt: bool = False):
        super().__init__()
        self.model, self.lambda_prompt, self.given_prompt = model, lambda_prompt, given_prompt

    def forward(self, degraded: Tensor, clean: Tensor,
                targets: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        T = degraded.shape[1]
        state, l1, prompt_loss = None, degraded.new_zeros(()), degraded.new_zeros(())
        for t in range(T):
            # restored (B, 3, H, W), prompt (B, D); non-blind: the target IS the prompt
            given = targets[:, t] if self.given_prompt else None
            out = self.model(degraded[:, t], state, given)
            state = out.state
            l1 = l1 + F.l1_loss(out.restored.float(), clean[:, t])
            if targets is not None and not self.given_prompt:
                prompt_loss = prompt_loss + F.l1_loss(out.prompt.float(), targets[:, t])
        l1, prompt_loss = l1 / T, prompt_loss / T
        return l1 + self.lambda_prompt * prompt_loss, l1, prompt_loss


# ---------------------------------------------------------------------------------------------
# Run folder: identity, trainer state, checkpoints
# ---------------------------------------------------------------------------------------------
def _identity_differences(run_file: Path, config: TrainConfig,
                          device: torch.device | None = None) -> dict[str, tuple]:
    """``{field: (held there, ours)}`` for each identity field in which the run recorded in
    ``run_file`` differs from ``config`` (empty: the same run)."""
    held = json.loads(run_file.read_text())["identity"]
    ours = json.loads(json.dumps(config.identity(device)))
    # runs written before these were recorded: on a CPU, on the bundled scenes
    held.setdefault("numerics", "cpu fp32")
    held.setdefault("scenes", "builtin")
    held.setdefault("condition", "mask")  # fields added with the grounding study
    held.setdefault("prompt_source", "generated")
    held.setdefault("warmup", 0)
    held.setdefault("decay", "all")  # AdamW parameter groups (the reliability issue)
    held.setdefault("train_clips", None)  # every clip once
    held.setdefault("grad_clip", 0.0)  # no clipping, as before it was an option
    held.setdefault("history_gate", False)  # the prompt into the history router (a variant)
    held.setdefault("soften", 0.0)  # sharp clean frames, as before softening was an option
    if held.get("prompt") is False and ours.get("prompt") is False:
        # without a prompt there is no prompt loss: its weight (0.01 by default in early runs,
        # 1.0 since) changes nothing that is computed
        held.pop("lambda_prompt", None)
        ours.pop("lambda_prompt", None)
    return {k: (held.get(k), ours.get(k)) for k in sorted(set(held) | set(ours))
            if held.get(k) != ours.get(k)}


def run_differences(run_dir: str | Path, config: TrainConfig) -> list[str]:
    """The identity fields in which the run recorded in ``run_dir`` differs from ``config``, the
    device's numerics aside (empty: ``config`` is that run). What callers that reuse a finished
    run's outputs without calling :func:`train` (the grounding study's cached scores, the
    notebooks' shipped runs) check first, so that another run's results are never taken for
    this one's. A folder without ``run.json`` raises :class:`FileNotFoundError`."""
    run_file = Path(run_dir) / RUN_FILE
    if not run_file.exists():
        raise FileNotFoundError(f"{run_dir} holds no {RUN_FILE}: not a training run's folder")
    return [k for k in _identity_differences(run_file, config) if k != "numerics"]


def _check_run_dir(config: TrainConfig, device: torch.device) -> Path:
    """Refuse a folder that holds another run, or other files; return the folder."""
    run_dir = Path(config.run_dir)
    run_file = run_dir / RUN_FILE
    if run_file.exists():
        differs = _identity_differences(run_file, config, device)
        if differs:
            listing = ", ".join(f"{k}: {a!r} there, {b!r} here" for k, (a, b) in differs.items())
            hint = ""
            if "numerics" in differs:
                device_there = differs["numerics"][0].split()[0]
                hint = f" (to continue it as it was computed: --device {device_there})"
            raise ValueError(
                f"the run folder {run_dir} holds another run ({listing}){hint}; use another "
                "--run-dir, or delete that folder to start over"
            )
        return run_dir
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(f"{run_dir} is not empty and holds no {RUN_FILE}: refusing to train "
                         "into it; choose an empty or new --run-dir")
    return run_dir


def _trainer_files(optimizer: torch.optim.Optimizer, step: int, elapsed: float,
                   window: Tensor, window_steps: int) -> dict[str, bytes]:
    """The optimizer's tensors + RNG as safetensors, the rest as JSON: no pickle anywhere."""
    from safetensors.torch import save as save_tensors

    state = optimizer.state_dict()
    tensors: dict[str, Tensor] = {"rng.torch": torch.get_rng_state()}
    scalars: dict[str, Any] = {}
    for pid, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, Tensor):
                tensors[f"optimizer.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    if torch.cuda.is_available():
        for i, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = rng
    tensors["window"] = window.detach().cpu()
    document = {"step": step, "elapsed": elapsed, "window_steps": window_steps,
                "param_groups": state["param_groups"], "optimizer_scalars": scalars}
    return {TRAINER_TENSORS: save_tensors(tensors),
            TRAINER_JSON: (json.dumps(document, indent=1) + "\n").encode()}


class _Resumed(NamedTuple):
    step: int
    elapsed: float
    window: Tensor
    window_steps: int


def _resume(run_dir: Path, model: RoninLite, optimizer: torch.optim.Optimizer,
            device: torch.device) -> _Resumed:
    """Restore the newest checkpoint of ``run_dir`` into ``model`` and ``optimizer``."""
    from safetensors.torch import load_file

    latest = json.loads((run_dir / LATEST_FILE).read_text())
    folder = run_dir / latest["checkpoint"]
    # load_checkpoint verifies every file of the folder (trainer files too) against its manifest
    model.load_state_dict(load_checkpoint(folder).state_dict(), strict=True)
    tensors = load_file(str(folder / TRAINER_TENSORS))
    document = json.loads((folder / TRAINER_JSON).read_text())
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    for key, value in document["optimizer_scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": document["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[f"rng.cuda.{i}"] for i in range(torch.cuda.device_count())
                   if f"rng.cuda.{i}" in tensors]
    if cuda_states:
        torch.cuda.set_rng_state_all(cuda_states)
    return _Resumed(int(document["step"]), float(document["elapsed"]),
                    tensors["window"].to(device), int(document["window_steps"]))


def _save(run_dir: Path, model: RoninLite, config: TrainConfig, extra: dict,
          files: dict[str, bytes]) -> Path:
    """A new checkpoint folder, then ``latest.json`` pointing at it, then older ones removed."""
    step = extra["step"]
    name = f"step-{step:07d}"
    folder = save_checkpoint(model, run_dir / "checkpoints" / name, config=config.portable_dict(),
                             extra=extra, files=files)
    write_json_atomic(run_dir / LATEST_FILE, {"checkpoint": f"checkpoints/{name}", "step": step})
    for old in (run_dir / "checkpoints").iterdir():
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


BEST_DIR = "best"  # the checkpoint with the highest val PSNR (``--val-every``)


def validation_clips(config: TrainConfig) -> list:
    """The first ``val_clips`` evaluation clips of the val split, at the training crop size
    (scenes never trained on; the same clips at every validation)."""
    bench = _benchmark(config)
    per_scene = -(-config.val_clips // max(1, len(bench.splits["val"])))
    if not bench.splits["val"]:
        raise ValueError(f"--val-every needs val scenes, and benchmark {config.benchmark!r} on "
                         f"{config.scenes!r} has none: add scenes, or set --val-every 0")
    bench = get_benchmark(config.benchmark, size=config.crop, seed=config.data_seed,
                          scenes=config.scenes, clips_per_scene=per_scene)
    return list(bench.clips("val"))[:config.val_clips]


def _val_psnr(model: RoninLite, clips: list) -> float:
    """Mean PSNR over the clips, restored causally (the model is left in training mode)."""
    from .evaluate import restore_frames
    from .metrics import psnr

    return float(np.mean([psnr(restore_frames(model, c.degraded)[0], c.clean) for c in clips]))


def _best_psnr(run_dir: Path) -> float:
    """The val PSNR of the kept best checkpoint (``-inf`` when there is none yet)."""
    from .checkpoints import verify_checkpoint

    if not (run_dir / BEST_DIR / "manifest.json").exists():
        return float("-inf")
    return float(verify_checkpoint(run_dir / BEST_DIR)["extra"]["val_psnr"])


def _trim_log(path: Path, step: int) -> None:
    """Keep the log lines of steps ``<= step`` (lines written after the checkpoint are redone)."""
    if not path.exists():
        return
    lines = [line for line in path.read_text().splitlines(keepends=True)
             if line.endswith("\n") and json.loads(line)["step"] <= step]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines))
    os.replace(tmp, path)


def read_log(run_dir: str | os.PathLike) -> list[dict]:
    """The lines of a run's ``log.jsonl`` (a torn last line is skipped)."""
    path = Path(run_dir) / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines(keepends=True)
            if line.endswith("\n")]


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------
class TrainResult(NamedTuple):
    model: RoninLite  # the trained network (on the training device)
    log: list[dict]  # the run's log lines, from step 1 (rank 0; other ranks: empty)
    run_dir: Path
    step: int  # steps done


def _distributed_env() -> tuple[int, int, int]:
    """``(rank, world size, local rank)`` from torchrun's environment (1 process: 0, 1, 0)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def train(config: TrainConfig, ground: bool = False, progress: bool = True,
          stop_at: int | None = None) -> TrainResult:
    """Train (or resume) the run ``config`` describes.

    ``ground``: ground missing training clips first; ``stop_at``: stop after this step (a
    checkpoint is written there; calling again resumes), e.g. to train a notebook in chunks.
    Under ``torchrun`` every process calls this; it sets up and tears down the process group.
    """
    rank, world, local_rank = _distributed_env()
    device = pick_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    own_group = world > 1 and not dist.is_initialized()
    if own_group:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        result = _train(config, ground, progress, stop_at, rank, world, device)
        if own_group:  # every rank done before any tears its group down: under load, gloo
            dist.barrier()  # once aborted a rank at exit in the torchrun test
        return result
    finally:
        if own_group:
            dist.destroy_process_group()


def _train(config: TrainConfig, ground: bool, progress: bool, stop_at: int | None, rank: int,
           world: int, device: torch.device) -> TrainResult:
    # every process checks the folder before any writes to it, so all of them agree
    run_dir = _check_run_dir(config, device)
    if world > 1:
        dist.barrier()
    if rank == 0 and not (run_dir / RUN_FILE).exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_dir / RUN_FILE, {"format": 1, "identity": config.identity(device),
                                               "config": config.portable_dict()})
    targets = prepare_targets(config, ground, world > 1, progress and rank == 0) \
        if config.needs_targets else None

    torch.manual_seed(config.seed)
    model = RoninLite(config.model_config())
    if targets is not None:
        model.set_target_stats(targets.mean, targets.std)
    model.to(device).train()
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay, config.decay),
                                  lr=config.lr, fused=device.type == "cuda")
    start, elapsed = 0, 0.0
    window, window_steps = torch.zeros(3, device=device), 0  # sums of loss, l1, prompt_loss
    if (run_dir / LATEST_FILE).exists():
        start, elapsed, window, window_steps = _resume(run_dir, model, optimizer, device)
    if rank == 0:
        _trim_log(run_dir / LOG_FILE, start)
    end = config.steps if stop_at is None else min(max(stop_at, start), config.steps)

    loss_fn: nn.Module = ClipLoss(model, config.lambda_prompt,
                                  given_prompt=config.prompt_source == "describer")
    if world > 1:
        # with one-frame clips the history is empty, so the state alignment's parameters get
        # no gradient: DDP must be told to expect unused parameters then (and only then: the
        # search costs a pass over the graph every step)
        loss_fn = nn.parallel.DistributedDataParallel(
            loss_fn, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=config.clip_len == 1 or config.prompt_source == "describer")
    clips = TrainClips(_benchmark(config), config.pool, config.clip_len, config.crop,
                       soften=config.soften)
    loader = DataLoader(AugmentedClips(clips, config.seed, config.steps * config.batch),
                        batch_sampler=StepBatches(start, end, config.batch, rank, world),
                        collate_fn=collate_clips, num_workers=config.num_workers,
                        pin_memory=device.type == "cuda",
                        generator=torch.Generator().manual_seed(config.seed))
    autocast = torch.autocast("cuda", torch.bfloat16, enabled=config.amp and
                              device.type == "cuda")
    extra = {"steps": config.steps, "world_size": world,
             "grounding": None if targets is None else targets.cache.meta}

    validating = config.val_every > 0 and rank == 0
    val_clips = validation_clips(config) if validating else []
    best = _best_psnr(run_dir) if validating else float("-inf")

    from tqdm.auto import tqdm

    bar = tqdm(total=config.steps, initial=start, disable=not progress or rank != 0,
               desc=f"train {config.benchmark} ({config.profile})", unit="step")
    step, tick = start, time.perf_counter()
    with contextlib.ExitStack() as stack:
        # no host synchronisation inside the loop (tested): the frames' value checks are off
        # while training (the clips come from the benchmark's generator), back on afterwards
        model.backbone.check_values = False
        stack.callback(setattr, model.backbone, "check_values", True)
        log = stack.enter_context(open(run_dir / LOG_FILE, "a", encoding="utf-8")) \
            if rank == 0 else None
        for batch in loader:
            lr = cosine_lr(step, config.steps, config.lr, config.min_lr, config.warmup)
            for group in optimizer.param_groups:
                group["lr"] = lr
            degraded = batch["degraded"].to(device, non_blocking=True)  # (b, T, 3, H, W)
            clean = batch["clean"].to(device, non_blocking=True)
            target = None if targets is None else model.prompt_from_embedding(
                targets.batch(batch["clip_id"], config.clip_len).to(device))  # (b, T, D)
            with autocast:
                loss, l1, prompt_loss = loss_fn(degraded, clean, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:  # after DDP's all-reduce: every rank clips the same
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()

            terms = torch.stack([loss, l1, prompt_loss]).detach()
            if world > 1:
                dist.all_reduce(terms)
                terms /= world
            window, window_steps, step = window + terms, window_steps + 1, step + 1
            bar.update(1)
            if step % config.log_every == 0 or step == config.steps:
                now = time.perf_counter()
                elapsed, tick = elapsed + now - tick, now
                mean = (window / window_steps).tolist()
                line = {"step": step, "loss": mean[0], "l1": mean[1],
                        "prompt_loss": mean[2] if targets is not None else None,
                        "lr": lr, "time": round(elapsed, 3)}
                if validating and (step % config.val_every == 0 or step == config.steps):
                    line["val_psnr"] = _val_psnr(model, val_clips)
                    if line["val_psnr"] > best:  # keep the best network beside the last one
                        best = line["val_psnr"]
                        save_checkpoint(model, run_dir / BEST_DIR, config=config.portable_dict(),
                                        extra={**extra, "step": step, "val_psnr": best})
                if log is not None:
                    log.write(json.dumps(line) + "\n")
                    log.flush()
                bar.set_postfix(loss=f"{mean[0]:.4f}", l1=f"{mean[1]:.4f}")
                window, window_steps = torch.zeros_like(window), 0
            if rank == 0 and (step % config.ckpt_every == 0 or step == end):
                now = time.perf_counter()
                elapsed, tick = elapsed + now - tick, now
                _save(run_dir, model, config, {**extra, "step": step},
                      _trainer_files(optimizer, step, elapsed, window, window_steps))
    bar.close()
    return TrainResult(model, read_log(run_dir) if rank == 0 else [], run_dir, step)


def load_or_train(config: TrainConfig, shipped: str, ground: bool = False,
                  progress: bool = True) -> TrainResult:
    """The run ``config`` describes: loaded from the shipped checkpoint ``shipped`` (weights and
    log) when that checkpoint *is* this run, trained with :func:`train` otherwise.

    What the notebooks use for their longer trainings, so that a reader sees the trained result
    in seconds. "Is this run" means that the shipped ``run.json`` holds the identity
    ``config`` has (:meth:`TrainConfig.identity`; the device's numerics aside: a network trained
    on a CPU in fp32 is loaded on a GPU too). Change a setting (steps, seed, lambda ...) and
    the run is trained; set ``RONIN_RETRAIN=1`` to train it anyway; where the checkpoint is
    neither in a clone nor downloadable (no internet), it is trained. The returned ``run_dir`` is
    the shipped folder then (read it, do not write into it).
    """
    from .checkpoints import pretrained_folder
    from .data.fetch import FetchError

    if retrain_requested():
        return train(config, ground=ground, progress=progress)
    try:
        folder = pretrained_folder(shipped)
    except (OSError, FetchError) as exc:  # not shipped here, or no internet
        print(f"shipped run {shipped!r} unavailable ({str(exc).splitlines()[0]}): training it")
        return train(config, ground=ground, progress=progress)
    differs = run_differences(folder, config)
    if differs:
        print(f"shipped run {shipped!r} is another run (differs in {', '.join(differs)}): "
              "training this one")
        return train(config, ground=ground, progress=progress)
    log = read_log(folder)
    return TrainResult(load_checkpoint(folder), log, folder, log[-1]["step"] if log else 0)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ronin-lite train", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Any unset field takes the profile's value (ronin_lite.config).\n\nexamples:\n"
               "  ronin-lite train --profile tiny --benchmark 3d-lite --ground --run-dir runs/tiny\n"
               "  ronin-lite train --profile tiny --benchmark 3d-lite --no-prompt "
               "--run-dir runs/tiny-twin\n"
               "  torchrun --nproc-per-node 2 -m ronin_lite.train --profile small --run-dir runs/ddp")
    choices = {"profile": PROFILE_NAMES, "benchmark": sorted(BENCHMARKS),
               "target_norm": TARGET_NORMS, "inject": tuple(INJECT_STAGES),
               "model": CONFIG_NAMES, "condition": CONDITIONS, "prompt_source": PROMPT_SOURCES,
               "decay": DECAYS}
    kinds = {"int": int, "float": float, "str": str}
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata["help"]
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=f"{help_text} (default: "
                                f"{f.default})")
            continue
        kind = kinds[f.type.split(" | ")[0]]
        parser.add_argument(flag, type=kind, choices=choices.get(f.name),
                            default=argparse.SUPPRESS, help=help_text)
    parser.add_argument("--ground", action="store_true",
                        help="ground the training clips that the cache lacks, then train")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--stop-at", type=int, default=None, metavar="STEP",
                        help="stop after this step with a checkpoint, as a time limit would "
                             "(the same command without it continues the run)")
    return parser


def parse_command(argv: list[str] | None = None) -> tuple[TrainConfig, dict]:
    """The command line's run as a :class:`TrainConfig`, and the options that are not part of
    a run's identity (``ground``, ``quiet``, ``stop_at``). A bad setting raises
    :class:`ValueError`."""
    args = vars(_parser().parse_args(argv))
    options = {name: args.pop(name) for name in ("ground", "quiet", "stop_at")}
    return TrainConfig(**args), options


def main(argv: list[str] | None = None) -> int:
    try:
        config, options = parse_command(argv)
        result = train(config, ground=options["ground"], progress=not options["quiet"],
                       stop_at=options["stop_at"])
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.log:
        first, last = result.log[0], result.log[-1]
        print(f"{result.step} steps in {last['time']:.1f} s: loss {first['loss']:.4f} (step "
              f"{first['step']}) -> {last['loss']:.4f} (step {last['step']}); run folder "
              f"{result.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
