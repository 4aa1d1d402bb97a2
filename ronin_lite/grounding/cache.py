"""The grounding cache: every training frame's description and its embedding, on disk.

RONIN's prompt loss ``L1(P_t, e_t)`` needs the text embedding ``e_t`` of every degraded training
frame. Describing a frame (an MLLM in the paper) and embedding the text are by far the slowest
parts of a training step, and they do not depend on the network, so they are done once, ahead
of training, and read back by key. The paper does not say how; we choose a cache that survives
being killed at any moment:

``<root>/<benchmark>/<split>/``
    ``meta.json``           which describer (its full config) and which encoder (name, dim)
                            made this cache; another describer or encoder is refused.
    ``descriptions.jsonl``  one line per frame: ``{"key": "<clip_id>/<frame>", "text": ...,
                            "clip_id", "frame", "describer", "shard"}``.
    ``emb-NNNNNN.safetensors``  the embeddings of one chunk of frames, keyed like the lines.

A chunk is committed in two steps: its shard is written to a temporary file and renamed into
place (``os.replace`` is atomic), then its lines are appended and flushed to disk. A frame is
done when it has both. On opening, a torn last line (a kill mid-append) is cut off, and shard
entries without a line (a kill between the two steps) are dropped, so every frame is either
done once or redone once: a restarted run never repeats finished work nor duplicates a key.
One writer at a time per cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..io import write_atomic

META = "meta.json"
LINES = "descriptions.jsonl"
SHARD_PATTERN = re.compile(r"^emb-(\d{6})\.safetensors$")
FORMAT_VERSION = 1

Item = tuple[str, np.ndarray, Sequence | None]  # (clip_id, frames (T, H, W, 3), records | None)


def cache_name(benchmark: str, size: int, seed: int, clip_len: int | None = None,
               scenes: str = "builtin", soften: float = 0.0) -> str:
    """The ``benchmark`` folder name of a cache: the benchmark with everything that shapes its
    clips (``3d-lite_64px_T3_seed0``), since clip ids alone do not say the size or length.
    Clips of a user's own scenes (``scenes``: a folder) get the folder's name and a digest of
    its scene names (``3d-lite_64px_T3_seed0_scenes-myvideos-1a2b3c4d``); clips whose clean
    frames were softened (``Benchmark.sample(soften=...)``) end in ``_soft<sigma>``."""
    length = f"_T{int(clip_len)}" if clip_len is not None else ""
    name = f"{benchmark}_{int(size)}px{length}_seed{int(seed)}"
    if soften:
        name += f"_soft{float(soften):g}"
    if scenes != "builtin":
        from ..data.scenes import scenes_from

        listing = "\n".join(sorted(s.name for s in scenes_from(scenes)))
        folder = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(scenes).name) or "scenes"
        name += f"_scenes-{folder}-{hashlib.sha256(listing.encode()).hexdigest()[:8]}"
    return name


def frame_key(clip_id: str, frame_idx: int) -> str:
    """The key of frame ``frame_idx`` of clip ``clip_id``: ``"<clip_id>/<frame_idx>"``."""
    return f"{clip_id}/{int(frame_idx)}"


def _check_name(value: str, what: str) -> str:
    plain = isinstance(value, str) and value not in ("", ".", "..")
    if not plain or "/" in value or "\\" in value:
        raise ValueError(f"{what} must be a plain non-empty name without slashes, got {value!r}")
    return value


class GroundingCache:
    """Descriptions (JSON lines) and embeddings (safetensors shards) of one benchmark split.

    ``describer_config`` is ``describer.config()`` and ``encoder_name`` is ``encoder.name`` of
    the describer and text encoder this cache is (or will be) made with; a cache on disk made
    with different ones is refused at construction.
    """

    def __init__(self, root: str | os.PathLike, benchmark: str, split: str,
                 describer_config: dict, encoder_name: str):
        self.benchmark = _check_name(benchmark, "benchmark")
        self.split = _check_name(split, "split")
        self.path = Path(root) / self.benchmark / self.split
        self.describer_config = json.loads(json.dumps(describer_config))  # JSON-able, a copy
        self.encoder_name = str(encoder_name)
        self._embeddings: dict[str, np.ndarray] | None = None
        if (self.path / META).exists():
            self._check_meta(self._read_meta())

    # ----------------------------------------------------------------------------- metadata
    def _read_meta(self) -> dict:
        try:
            return json.loads((self.path / META).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{self.path / META} is not valid JSON ({exc}); delete the folder {self.path} "
                "and ground the split again"
            ) from exc

    def _check_meta(self, meta: dict) -> None:
        differs = []
        if meta.get("describer") != self.describer_config:
            differs.append(f"describer (cache: {json.dumps(meta.get('describer'))}, "
                           f"asked: {json.dumps(self.describer_config)})")
        if meta.get("encoder") != self.encoder_name:
            differs.append(f"text encoder (cache: {meta.get('encoder')!r}, "
                           f"asked: {self.encoder_name!r})")
        if differs:
            raise ValueError(
                f"the grounding cache at {self.path} was made with another "
                + " and another ".join(differs)
                + "; use another --root for this combination, or delete that folder to rebuild it"
            )

    @property
    def meta(self) -> dict:
        """The cache's ``meta.json`` (describer config, encoder name, dim)."""
        self._require()
        return self._read_meta()

    def exists(self) -> bool:
        return (self.path / META).exists()

    def _require(self) -> None:
        if not self.exists():
            raise FileNotFoundError(
                f"no grounding cache at {self.path}: ground the split first, e.g. "
                f"`python data_scripts/ground_split.py --benchmark {self.benchmark} "
                f"--split {self.split}`"
            )

    def _ensure_meta(self, dim: int) -> None:
        if self.exists():
            meta = self._read_meta()
            self._check_meta(meta)
            if meta.get("dim") != dim:
                raise ValueError(
                    f"the grounding cache at {self.path} holds {meta.get('dim')}-d embeddings "
                    f"but the encoder gives {dim}-d; use another --root or delete that folder"
                )
            return
        self.path.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "benchmark": self.benchmark, "split": self.split,
                "describer": self.describer_config, "encoder": self.encoder_name, "dim": dim}
        write_atomic(self.path / META, json.dumps(meta, indent=1).encode())

    # ------------------------------------------------------------------- recovery and state
    def _shards(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir() if SHARD_PATTERN.match(p.name))

    def _read_lines(self, repair: bool) -> dict[str, dict]:
        """Lines by key. A torn last line is cut off when ``repair``, ignored otherwise."""
        path = self.path / LINES
        if not path.exists():
            return {}
        raw = path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]  # everything up to the last newline
        if repair and len(complete) != len(raw):
            with open(path, "r+b") as f:  # a kill mid-append: drop the partial line
                f.truncate(len(complete))
                f.flush()
                os.fsync(f.fileno())
        out: dict[str, dict] = {}
        for number, line in enumerate(complete.decode().splitlines(), 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"line {number} of {path} is damaged ({exc}); only the last line can be "
                    f"torn by an interrupted run. Delete {self.path} and ground again"
                ) from exc
            out.setdefault(entry["key"], entry)
        return out

    def _repair_shards(self, lines: dict[str, dict]) -> None:
        """Drop shard entries that have no line (a kill between writing a shard and its lines).

        Only the newest shard can hold such entries; it is rewritten without them, atomically,
        or removed when none of its entries has a line.
        """
        from safetensors.numpy import load_file, save

        shards = self._shards()
        if not shards:
            return
        last = shards[-1]
        tensors = load_file(str(last))
        kept = {k: v for k, v in tensors.items() if k in lines}
        if len(kept) == len(tensors):
            return
        if kept:
            write_atomic(last, save(kept))
        else:
            os.remove(last)

    def done_keys(self) -> set[str]:
        """Keys of the frames already grounded (after repairing an interrupted run)."""
        lines = self._read_lines(repair=True)
        self._repair_shards(lines)
        return set(lines)

    def __len__(self) -> int:
        return len(self._read_lines(repair=False))

    # --------------------------------------------------------------------------- grounding
    def ground(self, items: Iterable[Item], describer, encoder, progress: bool = True,
               chunk_frames: int = 64, total: int | None = None) -> dict[str, int]:
        """Describe and embed every frame of ``items`` not grounded yet; return counts.

        ``items`` yields ``(clip_id, frames (T, H, W, 3), records or None)``. Work is committed
        every ``chunk_frames`` frames (and at the end); a killed run restarted with the same
        items finishes the rest. ``total``: the number of clips, for the progress bar.
        """
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        asked = {"describer": describer.config(), "encoder": encoder.name}
        if asked["describer"] != self.describer_config or asked["encoder"] != self.encoder_name:
            raise ValueError(
                f"this GroundingCache was opened for describer {json.dumps(self.describer_config)}"
                f" and encoder {self.encoder_name!r}, but ground() got "
                f"{json.dumps(asked['describer'])} and {asked['encoder']!r}: open a cache for them"
            )
        self._ensure_meta(int(encoder.dim))
        done = self.done_keys()
        counts = {"grounded": 0, "skipped": 0}
        pending: list[dict[str, Any]] = []
        clips = items
        if progress:
            from tqdm.auto import tqdm

            clips = tqdm(items, total=total, desc=f"grounding {self.benchmark}/{self.split}",
                         unit="clip")
        for clip_id, frames, records in clips:
            todo = [t for t in range(len(frames)) if frame_key(clip_id, t) not in done]
            counts["skipped"] += len(frames) - len(todo)
            if not todo:
                continue
            texts = describer.describe(
                np.ascontiguousarray(frames[todo]),
                None if records is None else [records[t] for t in todo],
            )
            pending += [{"key": frame_key(clip_id, t), "clip_id": clip_id, "frame": t,
                         "text": text, "describer": describer.name}
                        for t, text in zip(todo, texts)]
            while len(pending) >= chunk_frames:
                self._commit(pending[:chunk_frames], encoder)
                counts["grounded"] += chunk_frames
                pending = pending[chunk_frames:]
        if pending:
            self._commit(pending, encoder)
            counts["grounded"] += len(pending)
        return counts

    def _commit(self, entries: list[dict[str, Any]], encoder) -> None:
        """Embed one chunk, write its shard atomically, then append its lines."""
        from safetensors.numpy import save

        emb = encoder.encode([e["text"] for e in entries])  # (n, dim) float32
        shards = self._shards()
        index = int(SHARD_PATTERN.match(shards[-1].name).group(1)) + 1 if shards else 0
        shard = self.path / f"emb-{index:06d}.safetensors"
        write_atomic(shard, save({e["key"]: np.ascontiguousarray(v)
                                   for e, v in zip(entries, emb)}))
        payload = "".join(json.dumps({**e, "shard": shard.name}) + "\n" for e in entries)
        with open(self.path / LINES, "a", encoding="utf-8") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        self._embeddings = None  # the in-memory view is stale

    # ---------------------------------------------------------------------------- reading
    def descriptions(self) -> dict[str, str]:
        """Key -> description text of every grounded frame."""
        self._require()
        return {k: e["text"] for k, e in self._read_lines(repair=False).items()}

    def load_embeddings(self) -> dict[str, np.ndarray]:
        """Key -> ``(dim,)`` float32 embedding of every grounded frame."""
        from safetensors.numpy import load_file

        self._require()
        if self._embeddings is None:
            lines = self._read_lines(repair=False)
            out: dict[str, np.ndarray] = {}
            for shard in self._shards():
                out.update({k: v for k, v in load_file(str(shard)).items() if k in lines})
            self._embeddings = out
        return self._embeddings

    def lookup(self, clip_id: str, frame_idx: int) -> np.ndarray:
        """The ``(dim,)`` embedding of one frame; a frame not grounded raises KeyError."""
        key = frame_key(clip_id, frame_idx)
        try:
            return self.load_embeddings()[key]
        except KeyError:
            raise KeyError(
                f"frame {key!r} is not in the grounding cache at {self.path}; ground the clip "
                "first (data_scripts/ground_split.py resumes where it stopped)"
            ) from None

    def __repr__(self) -> str:
        return f"GroundingCache({str(self.path)!r}, encoder={self.encoder_name!r})"
