"""Profiles, device choice and seeds: the three sizes of the course in one place.

RONIN (arXiv 2507.14851) trains a Turtle-sized U-Net on 192x192 crops of 5-frame clips on
GPUs. A course has to run on a laptop CPU too, so every experiment in ``ronin_lite`` is sized by
one *profile*:

``tiny``
    runs everywhere (CI, a 2-core CPU) in minutes; what the committed notebooks execute.
``small``
    a larger network at 96 px, trained in about 21 minutes on a 2-core CPU (minutes on a GPU).
``full``
    the GPU configuration (Colab, a workstation): Turtle-like proportions, real crop size.

One code path, three sizes (nanoGPT style). The profile is chosen automatically (a CUDA GPU
with at least 40 GiB -> ``full``, a smaller GPU -> ``small``, a CPU -> ``tiny``); the
environment variable ``RONIN_PROFILE`` overrides the choice, and any field can be overridden with :func:`get_profile`'s keyword arguments or
``RONIN_<FIELD>`` environment variables (``RONIN_STEPS=500``).
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROFILE_NAMES = ("tiny", "small", "full")


@dataclass(frozen=True)
class Profile:
    """Sizes of one run of the course. Every field has a meaning in the paper's terms."""

    name: str
    # --- data ---------------------------------------------------------------------------
    clip_len: int  # T: frames per training clip (Turtle trains on 5-frame clips)
    crop: int  # H = W of a training crop in pixels (Turtle: 192)
    batch: int  # clips per optimisation step
    eval_size: int  # H = W of evaluation frames written by the benchmark builder
    clips_per_scene: int  # evaluation clips drawn from each test / val scene
    # --- model --------------------------------------------------------------------------
    model: str  # name of the backbone size in ronin_lite.models (tiny / small / full)
    # --- optimisation -------------------------------------------------------------------
    steps: int  # optimisation steps of a training run
    lr: float  # peak learning rate (AdamW, cosine decay; Turtle: 4e-4)
    seed: int = 0
    warmup: int = 0  # steps of linear learning-rate warm-up before the cosine
    # distinct training clips, used in epochs (None: steps x batch, every clip seen once). Each
    # frame of the pool is described once before training; a VLM describer makes that the
    # cost that grows with the pool, not with the steps
    train_clips: int | None = None
    # clip the gradient's global L2 norm at this value before each update (0: never)
    grad_clip: float = 0.0

    def replace(self, **overrides) -> "Profile":
        """A copy with some fields changed; unknown fields raise a clear error."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown profile field(s) {unknown}; known fields are {sorted(known)}"
            )
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        # The recipe, chosen on the val scenes of the grounding study's protocol (notebook 09):
        # 6 clips x 2 frames per step beat 4 x 3 and 2 x 6 at the same 12 frames a step
        # (results/grounding_study_tiny.json, "shape_sweep", and _6x2.json on 3 seeds); the
        # gradient's norm clipped at 0.01 as Restormer's training code does; then lr swept
        # again, 8e-3 the val maximum (results/grounding_study_tiny_6x2_clip0.01.json,
        # "lr_sweep"). Until then tiny trained 4 x 3 at 4e-3, unclipped: the ablations and the
        # first studies pin that recipe (ronin_lite.ablations, ronin_lite.study)
        name="tiny", clip_len=2, crop=64, batch=6, eval_size=64, clips_per_scene=4,
        model="tiny", steps=300, lr=8e-3, warmup=25, grad_clip=0.01,
    ),
    "small": Profile(
        # tiny's recipe carried over (6 clips x 2 frames, the gradient norm clipped at 0.01,
        # 25 warm-up steps) at 1,200 steps, about 21 minutes on 2 CPU cores; the rate swept on
        # the val scenes (the twin, seed 0: 2e-3, 4e-3, 8e-3; 4e-3 the maximum;
        # results/grounding_study_small_6x2_clip0.01.json, "lr_sweep"). Both networks beat on
        # val the pair shipped with the earlier recipe (4 x 5 at 6e-4 for 2,400 steps,
        # unclipped: EARLIER_RECIPE; results/protocol_small_bundled_val.json)
        name="small", clip_len=2, crop=96, batch=6, eval_size=128, clips_per_scene=8,
        model="small", steps=1200, lr=4e-3, warmup=25, grad_clip=0.01,
    ),
    "full": Profile(
        name="full", clip_len=5, crop=192, batch=2, eval_size=256, clips_per_scene=16,
        # 8192 clips x 5 frames = 40,960 descriptions: an hour of a VLM at 11.4 frames/s (a
        # target, not measured here); 100k steps x 2 = 24 epochs over them
        model="full", steps=100_000, lr=4e-4, train_clips=8192,
    ),
}

#: the batch shape and clipping each profile trained with before its recipe was chosen on val
#: (``tiny``: 4 clips x 3 frames, unclipped; ``small``: 4 x 5, unclipped, at 6e-4 without
#: warm-up, the recipe of the shipped ``small-3d-lite`` pair). The ablations and the first
#: grounding studies ran with it and pin it (``ronin_lite.ablations``, ``ronin_lite.study``),
#: so that their committed tables are re-made by their commands; a profile absent here has not
#: changed its recipe
EARLIER_RECIPE: dict[str, dict] = {"tiny": {"batch": 4, "clip_len": 3, "grad_clip": 0.0},
                                   "small": {"batch": 4, "clip_len": 5, "grad_clip": 0.0}}

#: ``RONIN_RETRAIN=1``: the notebooks train what they would otherwise load from a shipped run
#: (:func:`ronin_lite.train.load_or_train`); their measured numbers are then not checked
RETRAIN_ENV = "RONIN_RETRAIN"


def retrain_requested() -> bool:
    """True when ``RONIN_RETRAIN`` is set to anything but empty or ``0``."""
    return os.environ.get(RETRAIN_ENV, "") not in ("", "0")


def has_gpu() -> bool:
    """True when a CUDA device is usable (torch imported lazily: config stays cheap)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return bool(torch.cuda.is_available())


#: ``full`` trains a 5-frame 192 px clip batch of 2 in 28 GiB with bf16 autocast (the default on
#: CUDA; ``data_scripts/bench_train.py`` on an H200) and about 45 GiB in fp32
#: (``data_scripts/bench_backbone.py``); smaller GPUs (Colab's T4, 16 GB) get ``small``.
FULL_MIN_GPU_GIB = 40


def gpu_memory_gib() -> float:
    """Total memory of CUDA device 0 in GiB (0 without a GPU)."""
    if not has_gpu():
        return 0.0
    import torch

    return torch.cuda.get_device_properties(0).total_memory / 2**30


def default_profile_name() -> str:
    """``RONIN_PROFILE`` if set; else ``full`` on a GPU with at least
    :data:`FULL_MIN_GPU_GIB` GiB, ``small`` on a smaller GPU, and ``tiny`` on a CPU."""
    env = os.environ.get("RONIN_PROFILE", "").strip().lower()
    if env:
        if env not in PROFILES:
            raise ValueError(
                f"RONIN_PROFILE={env!r} is not a profile; choose one of {list(PROFILE_NAMES)}"
            )
        return env
    if not has_gpu():
        return "tiny"
    return "full" if gpu_memory_gib() >= FULL_MIN_GPU_GIB else "small"


#: profile fields that may be None (``RONIN_TRAIN_CLIPS=none``: every clip once)
OPTIONAL_FIELDS = ("train_clips",)


def _env_overrides(base: Profile) -> dict:
    """``RONIN_<FIELD>=value`` environment variables, cast to the field's type."""
    out = {}
    for f in dataclasses.fields(base):
        if f.name == "name":
            continue
        raw = os.environ.get(f"RONIN_{f.name.upper()}")
        if raw is None:
            continue
        value = getattr(base, f.name)
        if f.name in OPTIONAL_FIELDS:  # an optional count: "none" unsets it
            if raw.strip().lower() in ("", "none"):
                out[f.name] = None
                continue
            value = 0 if value is None else value
        kind = type(value)
        try:
            out[f.name] = kind(float(raw)) if kind is int else kind(raw)
        except ValueError as exc:
            raise ValueError(
                f"RONIN_{f.name.upper()}={raw!r} is not a valid {kind.__name__}"
            ) from exc
    return out


def get_profile(name: str | None = None, **overrides) -> Profile:
    """The profile ``name`` (default: :func:`default_profile_name`), with overrides applied.

    Precedence: keyword overrides > ``RONIN_<FIELD>`` environment variables > profile defaults.
    """
    name = (name or default_profile_name()).lower()
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {list(PROFILE_NAMES)}")
    base = PROFILES[name]
    return base.replace(**{**_env_overrides(base), **overrides})


def pick_device(prefer: str | None = None):
    """``torch.device``: ``prefer`` if given, else CUDA when available, else CPU."""
    import torch

    if prefer:
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {prefer!r} was asked for but CUDA is not available; use 'cpu'"
            )
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch in one place; returns a NumPy Generator for the caller.

    Library functions never draw from global state: they take an explicit ``rng`` or ``seed``.
    This is for notebooks and scripts, so that "Restart & Run All" gives the same numbers.

    ``RONIN_SEED_OFFSET=k`` (default 0) adds ``k`` to every seed set here: ``python
    tools/notebooks.py spread`` uses it to measure how far a notebook's numbers move with the
    seed of its own models and draws (the data's seeds are explicit arguments elsewhere and do
    not move).
    """
    seed = seed + int(os.environ.get("RONIN_SEED_OFFSET", "0"))
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass
    return np.random.default_rng(seed)


def cache_root() -> Path:
    """Where downloads of an install without the repository go (shipped checkpoints,
    results files): ``RONIN_CACHE`` if set, else ``~/.cache/ronin-lite``."""
    return Path(os.environ.get("RONIN_CACHE", "~/.cache/ronin-lite")).expanduser()


def data_root() -> Path:
    """Where benchmarks, fetched data sets and grounding caches go.

    ``RONIN_DATA`` if set; else ``data/`` at the top of the repository when the package runs
    from a clone (editable install); else ``~/.cache/ronin-lite``.
    """
    env = os.environ.get("RONIN_DATA")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[1]
    if (repo / "pyproject.toml").exists():
        return repo / "data"
    return Path.home() / ".cache" / "ronin-lite"
