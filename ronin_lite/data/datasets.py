"""torch Datasets over the benchmarks: what the training loop and the evaluation read.

RONIN (like Turtle) trains on short clips processed frame by frame while the model carries its
history; each item here is one clip:

* ``degraded`` and ``clean``: ``(T, 3, H, W)`` float32 in [0, 1];
* ``records``: per frame, the list of applied degradations (JSON-serialisable dicts) - kept
  for evaluation and for the oracle describer only, never fed to the network;
* ``clip_id``: a stable key (``"<split>/<scene>/<index>"``) under which the grounding cache
  stores descriptions and text embeddings of each frame.

:class:`TrainClips` generates clips on the fly (item ``i`` is always the same clip, so runs are
reproducible and resumable, and a distributed sampler can shard indices); :class:`EvalClips`
serves the fixed evaluation list of a split, either generated in memory or read from disk
(:func:`ronin_lite.data.benchmarks.write_split`). Use :func:`collate_clips` as the
``DataLoader``'s ``collate_fn``: it stacks tensors to ``(B, T, 3, H, W)`` and keeps records as
lists.
"""

from __future__ import annotations

import os

import torch
from torch.utils.data import Dataset

from .benchmarks import Benchmark, BenchmarkClip, read_split
from .frames import to_torch_clip


def clip_to_item(clip: BenchmarkClip) -> dict:
    """A :class:`BenchmarkClip` as a dataset item (torch tensors, channels first)."""
    return {
        "degraded": to_torch_clip(clip.degraded),  # (T, H, W, 3) -> (T, 3, H, W)
        "clean": to_torch_clip(clip.clean),
        "records": clip.records,
        "clip_id": clip.clip_id,
    }


class TrainClips(Dataset):
    """``length`` training clips of ``T`` frames at ``size`` x ``size``, generated on the fly."""

    def __init__(self, benchmark: Benchmark, length: int, T: int, size: int | None = None,
                 split: str = "train", soften: float = 0.0):
        if length < 1 or T < 1:
            raise ValueError(f"length and T must be >= 1, got length={length}, T={T}")
        self.benchmark, self.length, self.T = benchmark, int(length), int(T)
        self.size, self.split, self.soften = size or benchmark.size, split, float(soften)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} clips")
        return clip_to_item(self.benchmark.sample(index, self.split, self.T, self.size,
                                                  self.soften))


class EvalClips(Dataset):
    """The fixed evaluation clips of a split: from a :class:`Benchmark` or a folder on disk."""

    def __init__(self, source: Benchmark | str | os.PathLike, split: str = "test"):
        if isinstance(source, Benchmark):
            self.clips = list(source.clips(split))
        else:
            self.clips = read_split(source)
        if not self.clips:
            raise ValueError(f"no clips in {source!r} split {split!r}")

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict:
        return clip_to_item(self.clips[index])


def collate_clips(items: list[dict]) -> dict:
    """Stack a list of items: tensors -> ``(B, T, 3, H, W)``; records and ids stay lists."""
    shapes = {tuple(it["degraded"].shape) for it in items}
    if len(shapes) != 1:
        raise ValueError(
            f"cannot batch clips of different shapes {sorted(shapes)}: use one T and size per "
            "batch (or batch_size=1)"
        )
    return {
        "degraded": torch.stack([it["degraded"] for it in items]),
        "clean": torch.stack([it["clean"] for it in items]),
        "records": [it["records"] for it in items],
        "clip_id": [it["clip_id"] for it in items],
    }
