"""Frame-wide statistics for a network that sees one tile of a frame at a time.

Not in the paper (RONIN and Turtle restore whole frames). A few operations of the network
reduce over *every pixel* of their input, so a tile sees its own statistics, not the frame's,
and a tiled restoration differs from the whole-frame one everywhere, not only at seams:

* **channel attention** (Restormer's transposed attention, and the frame history router that
  extends it): the ``d x m`` attention map of a head is ``softmax(t * cos(q_i, k_j))``, cosines
  between channels taken over all pixels;
* **the encoder-latent cross-attention** pools encoder-1 features over a fixed ``g x g`` grid of
  the frame (a tile has its own grid);
* **the prompt generator** starts from the latent's global average.

Each is a function of sums over pixels: ``sum_p q_ip k_jp`` and ``sum_p q_ip^2`` (the cosine is
``q.k / (|q| |k|)``), the grid cells' sums and pixel counts, the latent's sum. Sums over the
frame are sums over the tiles' **cores** (a partition of the frame: each pixel belongs to the
one tile whose core holds it, the overlap split down the middle). So a tiled stream can run each
frame twice (:class:`~ronin_lite.tiling.TiledStream`, ``passes=2``, the default):

1. **record**: every tile runs as it would alone (its own statistics) and adds its core's sums
   to the frame's;
2. **replay**: every tile runs again, each of those operations now using the frame's totals;
   this pass's outputs and histories are the ones kept.

The frame-wide values of pass 1 were computed from features that used the tiles' own
statistics in the earlier layers, so pass 2 is closer to the whole-frame network, not equal to
it; further passes (each records while it replays) gather the sums again from the previous
pass's features. What it buys is measured by ``data_scripts/bench_tiling.py`` (PSNR of tiled
against whole-frame restoration; the README's tiling section quotes it).

The network's modules call :func:`current`; it is ``None`` outside a tiled stream, and their
arithmetic is then exactly the usual one. Under a context the attention blocks hand over
*unnormalised* queries and keys (the history caches keep raw keys, normalised over the frame
when they are used), see :meth:`FrameStatistics.cosine`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Mode = Literal["record", "replay", "both"]
#: how a pixel axis ``L`` is laid out: ``(H, W, patch)``; ``patch = 0``: row-major ``(H W)``;
#: ``patch = p``: the history model's patch order ``(p^2, H/p, W/p)``
Pixels = tuple[int, int, int]

_ACTIVE: contextvars.ContextVar["FrameStatistics | None"] = contextvars.ContextVar(
    "ronin_lite_frame_statistics", default=None)
_EPS = 1e-12  # F.normalize's


def current() -> "FrameStatistics | None":
    """The frame statistics of the tile being restored, or ``None`` (a whole frame)."""
    return _ACTIVE.get()


def core_bounds(starts: list[int], tile: int, length: int,
                align: int = 8) -> list[tuple[int, int]]:
    """Each tile's core ``[a, b)`` along one axis: the cores partition ``[0, length)``; the
    boundary between neighbours is the middle of their overlap, rounded down to a multiple of
    ``align`` (so that it falls on a pixel of every downsampled level) where that stays inside
    the overlap."""
    bounds = [0]
    for prev, start in zip(starts, starts[1:]):
        middle = (prev + tile + start) // 2
        aligned = middle - middle % align
        bounds.append(aligned if start <= aligned <= prev + tile else middle)
    bounds.append(length)
    return list(zip(bounds[:-1], bounds[1:]))


def _level_range(a: int, b: int, origin: int, size: int, factor: int, n: int) -> tuple[int, int]:
    """Rows ``[a, b)`` of the frame, for a tile at ``origin`` of ``size`` pixels, as rows of
    its level-``factor`` map of ``n`` rows (padding beyond the tile excluded)."""
    end = min(n, math.ceil(min(b - origin, size) / factor))
    return min(max((a - origin) // factor, 0), end), end


class FrameStatistics:
    """Sums over pixels gathered over the tiles of one frame, and served back to them.

    ``size``: the frame's ``(H, W)``; ``padded``: the size the whole-frame network pads it to
    (the grid pooling's cells are cells of the padded frame). Use :meth:`tile` around each
    tile's forward pass, :meth:`finish` after each pass over all tiles.
    """

    def __init__(self, size: tuple[int, int], padded: tuple[int, int] | None = None) -> None:
        self.size = size
        self.padded = padded or size
        self.mode: Mode = "record"
        self._frame: list[Tensor] | None = None  # the last finished pass's frame-wide sums
        self._sums: list[Tensor] = []  # the pass in progress, one per site
        self._site = 0
        self._box: tuple[int, int, int, int] | None = None  # tile y, x, h, w
        self._core: tuple[int, int, int, int] | None = None  # core y0, y1, x0, x1 (frame)
        self._weights: dict[tuple, Tensor] = {}
        self.passes = 0

    # --- driving it -------------------------------------------------------------------------
    @contextlib.contextmanager
    def tile(self, box: tuple[int, int, int, int], core: tuple[int, int, int, int],
             mode: Mode) -> Iterator["FrameStatistics"]:
        """Run the network on the tile ``box = (y, x, h, w)`` whose core is ``core = (y0, y1,
        x0, x1)`` (frame pixels) inside this context. ``mode``: ``"record"`` (the tile's own
        statistics used, the core's added), ``"replay"`` (the last finished pass's frame-wide
        ones used) or ``"both"``."""
        if mode != "record" and self._frame is None:
            raise RuntimeError("replay needs a finished record pass: call finish() after one")
        self.mode, self._box, self._core, self._site = mode, box, core, 0
        self._weights = {}
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)
        if self._frame is not None and self._site != len(self._frame):
            raise RuntimeError(f"a tile used {self._site} frame-wide statistics, the frame has "
                               f"{len(self._frame)}: every tile must run the same network")

    def finish(self) -> None:
        """End a pass over all tiles: what it recorded becomes the frame-wide statistics."""
        self._frame, self._sums = self._sums, []
        self.passes += 1

    # --- the sites the network calls ------------------------------------------------------
    def _serve(self, tile_value, core_value, device: torch.device) -> Tensor:
        """Record ``core_value()`` (mode record / both) and return the tile's own value
        (record) or the frame's (replay / both); sums in float32, also under autocast."""
        i = self._site
        self._site += 1
        with torch.autocast(device.type, enabled=False):
            if self.mode in ("record", "both"):
                core = core_value()
                if len(self._sums) == i:
                    self._sums.append(core)
                else:
                    if self._sums[i].shape != core.shape:
                        raise RuntimeError("tiles of one frame disagree on a statistic's shape")
                    self._sums[i] = self._sums[i] + core
            return tile_value() if self.mode == "record" else self._frame[i]

    def _factor(self, h: int) -> int:
        """How many frame pixels one pixel of the tile's ``h``-row map stands for (a power of
        2: the network's downsampling; its padding of the tile ignored)."""
        return 2 ** max(round(math.log2(self._box[2] / h)), 0)

    def _level(self, h: int, w: int) -> tuple[int, int, int, int]:
        """The tile's core as rows and columns ``(r0, r1, c0, c1)`` of its ``h x w`` map."""
        y, x, th, tw = self._box
        y0, y1, x0, x1 = self._core
        factor = self._factor(h)
        r0, r1 = _level_range(y0, y1, y, th, factor, h)
        c0, c1 = _level_range(x0, x1, x, tw, factor, w)
        return r0, r1, c0, c1

    def _pixel_weights(self, pixels: Pixels, like: Tensor) -> Tensor:
        """``(L,)`` 1 on the core's pixels, 0 elsewhere, in the order of ``pixels``."""
        key = (pixels, like.device)
        if key not in self._weights:
            h, w, patch = pixels
            r0, r1, c0, c1 = self._level(h, w)
            core = torch.zeros(1, 1, h, w, device=like.device)
            core[..., r0:r1, c0:c1] = 1
            if patch:  # (p^2, H/p, W/p), as the history model's patch tokens
                core = F.pixel_unshuffle(core, patch)
            self._weights[key] = core.reshape(-1)
        return self._weights[key]

    def cosine(self, q: Tensor, k: Tensor, pixels: Pixels) -> Tensor:
        """Cosines between query and key channels over the pixels: ``q (B, h, d, L)``,
        ``k (B, h, m, L)``, unnormalised; returns ``(B, h, d, m)`` in float32, what
        ``F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).mT`` gives for a whole frame."""
        q, k = q.float(), k.float()
        # q on the core's pixels only, 0 elsewhere (not needed when only replaying)
        qw = q * self._pixel_weights(pixels, q) if self.mode != "replay" else None
        kw = k * self._pixel_weights(pixels, k) if self.mode != "replay" else None
        q_sq = self._serve(lambda: q.square().sum(-1, keepdim=True),
                           lambda: (qw * q).sum(-1, keepdim=True), q.device)  # (B, h, d, 1)
        k_sq = self._serve(lambda: k.square().sum(-1, keepdim=True),
                           lambda: (kw * k).sum(-1, keepdim=True), q.device)  # (B, h, m, 1)
        gram = self._serve(lambda: q @ k.mT, lambda: qw @ k.mT, q.device)  # (B, h, d, m)
        norms = q_sq.sqrt().clamp_min(_EPS) * k_sq.sqrt().clamp_min(_EPS).mT
        return gram / norms  # float32

    def grid_pool(self, x: Tensor, grid: int) -> Tensor:
        """``F.adaptive_avg_pool2d(x, grid)`` of the frame: ``x (B, C, h, w)`` the tile's map;
        the cells are those of the whole (padded) frame at this map's scale."""
        b, c, h, w = x.shape

        def cells(axis: int):
            """``(grid, n)`` membership of the tile's core rows (axis 0) or columns in the
            frame's cells, as adaptive pooling draws them."""
            n = (h, w)[axis]
            r0, r1, c0, c1 = self._level(h, w)
            lo, hi = ((r0, r1), (c0, c1))[axis]
            factor = self._factor(h)
            origin = self._box[axis] // factor
            total = math.ceil(self.padded[axis] / factor)
            m = torch.zeros(grid, n, device=x.device)
            for i in range(grid):
                start, end = (i * total) // grid, -((-(i + 1) * total) // grid)
                a, b_ = max(start - origin, lo), min(end - origin, hi)
                if a < b_:
                    m[i, a:b_] = 1
            return m

        def core():
            my, mx = cells(0), cells(1)
            sums = torch.einsum("gh,bchw,kw->bcgk", my, x.float(), mx)  # (B, C, g, g)
            counts = (my.sum(1)[:, None] * mx.sum(1)[None, :]).expand(b, 1, grid, grid)
            return torch.cat([sums, counts], dim=1)  # (B, C + 1, g, g)

        out = self._serve(lambda: torch.cat([F.adaptive_avg_pool2d(x.float(), grid),
                                             torch.ones(b, 1, grid, grid, device=x.device)], 1),
                          core, x.device)
        return (out[:, :c] / out[:, c:].clamp_min(1)).to(x.dtype)  # (B, C, g, g)

    def mean(self, x: Tensor) -> Tensor:
        """``x.mean((2, 3))`` of the frame: ``x (B, C, h, w)`` the tile's map -> ``(B, C)``."""
        b, c, h, w = x.shape

        def core():
            r0, r1, c0, c1 = self._level(h, w)
            part = x[..., r0:r1, c0:c1].float()
            count = torch.full((b, 1), float(part.shape[-1] * part.shape[-2]), device=x.device)
            return torch.cat([part.sum((2, 3)), count], 1)  # (B, C + 1)

        out = self._serve(lambda: torch.cat([x.float().mean((2, 3)),
                                             torch.ones(b, 1, device=x.device)], 1), core,
                          x.device)
        return (out[:, :c] / out[:, c:].clamp_min(1)).to(x.dtype)  # (B, C)
