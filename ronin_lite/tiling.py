"""Tiled streaming restoration: frames larger than memory allows, each tile with its own history.

Not in the paper: RONIN and Turtle restore whole frames on large GPUs. On a laptop CPU the
``small`` network needs 3.5-3.8 GB to restore a 1080p frame whole, and its causal history alone
(``tau`` = 3 cached frames, 240 bytes per pixel) is 0.5 GB at 1080p and 2 GB at 2160p. This
module restores a stream of frames ``(1, 3, H, W)`` as overlapping tiles:

* **Tiles.** ``tile`` x ``tile`` windows (smaller where the frame is), ``overlap`` pixels shared
  by neighbours; the last tile of a row or column is moved back to end at the frame's edge, so
  every pixel is covered and no tile is padded beyond the frame.
* **History per tile.** Each tile is a stream of its own: its causal state holds the history of
  *that window* of the previous frames, exactly what the whole-frame network's history holds
  there (the history is aligned and routed within a few latent pixels: Turtle's state alignment
  searches a small neighbourhood). Only one tile's activations exist at a time.
* **States off memory.** With many tiles, their states together are as large as the whole
  frame's. ``spill`` keeps the states of the tiles not being restored in a temporary folder
  (safetensors files, one per tile, read back before the tile's next frame; deleted at
  :meth:`TiledStream.close`): memory then holds the network, one tile's activations and one
  tile's state, whatever the frame's size. ``"auto"`` spills when the states would exceed
  ``state_budget_mb``.
* **Blending.** Tiles overlap by ``overlap`` pixels and are blended with weights that ramp
  linearly across the shared band (a separable window, 1 inside, falling towards a neighbour;
  never towards the frame's own edge), so no seam is visible.

* **Frame-wide statistics.** The network's channel attention, its cross-attention's grid and
  its prompt generator reduce over the whole input: a tile alone sees its own statistics, not
  the frame's, and its output differs from the whole-frame one everywhere, not only at seams.
  With ``passes = 2`` (the default) each frame is run twice: the first pass gathers those sums
  over the tiles' cores (a partition of the frame), the second runs every tile with the frame's
  (:mod:`ronin_lite.models.framewide`). ``passes = 1`` is the single, faster pass with each
  tile's own statistics; each further pass gathers them again from the previous one's features.

``data_scripts/bench_tiling.py`` measures what tiling changes (PSNR of tiled against whole-frame
restoration, for each number of passes), whether it costs accuracy (both scored against the
clean frames of a real test video), the time per frame and the peak memory at 480p, 1080p and
2160p.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .models import framewide

#: default tile side (pixels) and overlap. A larger tile agrees better with the whole frame
#: (less of it lies within reach of a tile's edge, and with one pass its own statistics come
#: from more of the frame) and needs more memory; 384 keeps 2160p within 1.5 GiB on the CPU
#: (data_scripts/bench_tiling.py measures both: results/bench_tiling_cpu.json)
DEFAULT_TILE = 384
DEFAULT_OVERLAP = 32
#: passes over a frame's tiles: 1 = each tile with its own statistics; 2 = gather the frame's
#: statistics, then restore with them (see the module docstring; bench_tiling.py measures both)
DEFAULT_PASSES = 2
#: ``spill="auto"`` keeps tile states on disk when all of them together would exceed this
DEFAULT_STATE_BUDGET_MB = 256.0


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``[0, length)`` with at least
    ``overlap`` pixels shared by neighbours; the last tile ends at ``length``."""
    if tile >= length:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(size: int, start: int, length: int, overlap: int, device, dtype) -> Tensor:
    """1-D blending weights ``(size,)`` of a tile at ``start`` in a frame of ``length``: a linear
    ramp over ``overlap`` pixels on each side that has a neighbour, 1 elsewhere (> 0 always)."""
    w = torch.ones(size, device=device, dtype=dtype)
    if overlap <= 0:
        return w
    n = min(overlap, size)
    ramp = (torch.arange(n, device=device, dtype=dtype) + 0.5) / n  # (0, 1), never 0
    if start > 0:
        w[:n] = torch.minimum(w[:n], ramp)
    if start + size < length:
        w[size - n:] = torch.minimum(w[size - n:], ramp.flip(0))
    return w


@dataclasses.dataclass
class _Tile:
    y: int
    x: int
    h: int
    w: int
    core: tuple[int, int, int, int] = (0, 0, 0, 0)  # y0, y1, x0, x1: the pixels it stands for
    state: object = None  # the tile's StreamState (caches emptied while spilled)
    spilled: Path | None = None


class TiledStream:
    """Restore a stream of ``(1, 3, H, W)`` frames tile by tile (see the module docstring).

    ``model``: a :class:`~ronin_lite.models.RoninLite` (or anything called as ``model(frame,
    state)`` that returns ``.restored`` and ``.state``). ``tile = 0`` restores whole frames.
    ``spill``: ``"auto"``, ``True`` or ``False``. ``passes``: 1 (each tile with its own
    statistics) or more (the frame's, gathered by the first ``passes - 1`` passes; the module
    docstring). Use as a context manager, or call :meth:`close`, so that the spill folder is
    removed::

        with TiledStream(model, tile=256) as stream:
            for frame in frames:          # (1, 3, H, W) float in [0, 1]
                restored = stream(frame)  # (1, 3, H, W)
    """

    def __init__(self, model, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
                 spill: bool | str = "auto", state_budget_mb: float = DEFAULT_STATE_BUDGET_MB,
                 spill_dir: str | os.PathLike | None = None,
                 passes: int = DEFAULT_PASSES) -> None:
        if tile < 0 or overlap < 0 or (tile and overlap >= tile):
            raise ValueError(f"need tile >= 0 and 0 <= overlap < tile, got tile={tile}, "
                             f"overlap={overlap} (tile 0 restores whole frames)")
        if not isinstance(passes, int) or passes < 1:
            raise ValueError(f"passes must be an integer >= 1 (1: each tile's own statistics, "
                             f"2: the frame's), got {passes!r}")
        if spill not in ("auto", True, False):
            raise ValueError(f"spill must be 'auto', True or False, got {spill!r}")
        self.model, self.tile, self.overlap, self.passes = model, tile, overlap, passes
        self.spill, self.state_budget = spill, state_budget_mb * 2**20
        self._spill_parent = spill_dir
        self._dir: Path | None = None
        self._tiles: list[_Tile] | None = None
        self._weights: Tensor | None = None  # (1, 1, H, W) sum of the tiles' blending weights
        self.size: tuple[int, int] | None = None
        self._canvas: tuple[int, int] | None = None  # the padded frame the tiles cover
        self.frames = 0
        self._closed = False

    # --- set-up ----------------------------------------------------------------------------
    def _layout(self, h: int, w: int) -> list[_Tile]:
        if not self.tile:
            return [_Tile(0, 0, h, w, (0, h, 0, w))]
        th, tw = min(self.tile, h), min(self.tile, w)
        ys, xs = tile_starts(h, self.tile, self.overlap), tile_starts(w, self.tile, self.overlap)
        return [_Tile(y, x, th, tw, (*cy, *cx))
                for y, cy in zip(ys, framewide.core_bounds(ys, th, h))
                for x, cx in zip(xs, framewide.core_bounds(xs, tw, w))]

    def _padded(self, h: int, w: int) -> tuple[int, int]:
        """The size the whole-frame network pads ``h x w`` to (unchanged for a model that
        does not pad)."""
        backbone = getattr(self.model, "backbone", self.model)
        return backbone.padded_size(h, w) if hasattr(backbone, "padded_size") else (h, w)

    def _run(self, t: _Tile, frame: Tensor, stats: "framewide.FrameStatistics | None",
             mode: "framewide.Mode"):
        """The network on tile ``t`` of ``frame`` (its state read back from disk first when
        spilled), with the frame's statistics in ``mode`` when there are any."""
        if t.spilled is not None:
            self._take_back(t, frame.device)
        window = frame[..., t.y:t.y + t.h, t.x:t.x + t.w]
        if stats is None:
            return self.model(window, t.state)
        with stats.tile((t.y, t.x, t.h, t.w), t.core, mode):
            return self.model(window, t.state)

    def _gather(self, frame: Tensor) -> "framewide.FrameStatistics":
        """The first ``passes - 1`` passes: the frame's statistics, gathered over the tiles'
        cores; the tiles' states are read, not advanced."""
        stats = framewide.FrameStatistics(self._canvas, self._canvas)
        for p in range(self.passes - 1):
            for t in self._tiles:
                self._run(t, frame, stats, "record" if p == 0 else "both")
                if t.spilled is not None:  # unchanged on disk
                    t.state = dataclasses.replace(t.state, caches={})
            stats.finish()
        return stats

    def _weight(self, t: _Tile, like: Tensor) -> Tensor:
        """``(1, 1, h, w)`` blending weights of tile ``t``."""
        h, w = self._canvas
        wy = _ramp(t.h, t.y, h, self.overlap, like.device, like.dtype)
        wx = _ramp(t.w, t.x, w, self.overlap, like.device, like.dtype)
        return (wy[:, None] * wx[None, :])[None, None]

    @property
    def tiles(self) -> int:
        """Number of tiles per frame (0 before the first frame)."""
        return len(self._tiles or [])

    @property
    def spilling(self) -> bool:
        """Whether the tiles' states are kept on disk between frames."""
        return self._dir is not None

    # --- states on disk -------------------------------------------------------------------
    def _put_away(self, t: _Tile, index: int) -> None:
        from safetensors.torch import save_file

        flat = {f"{block}|{name}": x.contiguous() for block, cache in t.state.caches.items()
                for name, x in cache.items()}
        t.spilled = self._dir / f"tile-{index:05d}.safetensors"
        save_file(flat, str(t.spilled))
        t.state = dataclasses.replace(t.state, caches={})

    def _take_back(self, t: _Tile, device) -> None:
        from safetensors.torch import load_file

        caches: dict[str, dict[str, Tensor]] = {}
        for key, x in load_file(str(t.spilled), device=str(device)).items():
            block, name = key.split("|", 1)
            caches.setdefault(block, {})[name] = x
        t.state = dataclasses.replace(t.state, caches=caches)

    def _decide_spill(self) -> None:
        """After the first frame: spill when all tiles' full histories would exceed the budget."""
        if len(self._tiles) == 1 or self.spill is False:
            return
        state = self._tiles[0].state
        held = max(getattr(state, "cached_frames", 1), 1)
        tau = getattr(getattr(state, "config", None), "tau", 1)
        per_tile = state.nbytes * max(tau, held) / held  # a full history of tile 0
        if self.spill is True or per_tile * len(self._tiles) > self.state_budget:
            self._dir = Path(tempfile.mkdtemp(prefix="ronin-tiles-", dir=self._spill_parent))

    # --- restoring -------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(self, frame: Tensor) -> Tensor:
        """The restored frame ``(1, 3, H, W)`` (not clamped), the history carried per tile."""
        if self._closed:
            raise RuntimeError("this TiledStream was closed: start a new one")
        if frame.ndim != 4 or frame.shape[0] != 1:
            raise ValueError(f"TiledStream restores one frame at a time, shaped (1, 3, H, W); "
                             f"got {tuple(frame.shape)}")
        h, w = frame.shape[-2:]
        if self.size is None:
            # tiles cover the frame padded as the whole-frame network pads it (replicated
            # edge), so that the frame statistics and the edge tiles see what it sees
            self.size, self._canvas = (h, w), self._padded(h, w)
            self._tiles = self._layout(*self._canvas)
        elif (h, w) != self.size:
            raise ValueError(f"frame {self.frames} is {w}x{h} px, the stream's frames are "
                             f"{self.size[1]}x{self.size[0]}: start a new TiledStream")
        if len(self._tiles) == 1:  # whole frames: no blending, no copies
            t = self._tiles[0]
            out = self.model(frame, t.state)
            t.state = out.state
            self.frames += 1
            return out.restored
        if self._canvas != (h, w):
            frame = F.pad(frame, (0, self._canvas[1] - w, 0, self._canvas[0] - h),
                          mode="replicate")  # (1, 3, H', W')
        stats = self._gather(frame) if self.passes > 1 else None
        acc = torch.zeros_like(frame)  # (1, 3, H', W') weighted sum of the tiles' outputs
        first = self._weights is None
        if first:
            self._weights = torch.zeros_like(frame[:, :1])
        for i, t in enumerate(self._tiles):
            out = self._run(t, frame, stats, "replay")
            t.state = out.state
            window = (..., slice(t.y, t.y + t.h), slice(t.x, t.x + t.w))
            weight = self._weight(t, frame)
            acc[window] += out.restored * weight
            if first:
                self._weights[window] += weight
            if self._dir is None and first and i == 0:
                self._decide_spill()
            if self._dir is not None:
                self._put_away(t, i)
        self.frames += 1
        return (acc / self._weights)[..., :h, :w]

    def close(self) -> None:
        """Remove the spilled states (the stream cannot continue after this)."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._tiles, self._closed = None, True

    def __enter__(self) -> "TiledStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leave gigabytes in /tmp
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
