"""Turtle's truncated causal history: the frame history router and the state alignment.

Turtle (arXiv 2410.03936), RONIN's backbone, restores a video *online*: frame ``t`` is restored
from frame ``t`` and a short history of what the network computed for the frames before it,
never from future frames. The history is *truncated*: only the last ``tau`` frames are kept
(Turtle: ``tau = 3``), so memory and time per frame stay constant however long the video.

Two mechanisms read the history:

**Frame history router (FHR)** -- channel attention (Restormer's transposed attention) whose
keys and values are those of the current frame *concatenated with those of the cached frames*.
Each query channel of frame ``t`` attends over ``(n + 1) d`` key channels (``n <= tau`` cached
frames, ``d`` channels per head), so it can route features of earlier frames into frame ``t``.
Turtle puts it in the first and last blocks of the latent level.

**State alignment** -- in the decoder, the last block of each level first *aligns* the cached
history to the current frame (the camera and the objects moved), then routes it with an FHR;
Turtle calls the pair the *causal history model* (CHM). Alignment is a windowed cosine
attention: the current frame is cut into ``p x p`` patches (``p = window``); each patch, in each
head, is a query (a ``d p^2`` vector, L2-normalised); in a cached frame it is compared with the
patches in a ``(2r + 1) x (2r + 1)`` neighbourhood around the same place (the local mask,
``r = search_radius``), only the ``k`` most similar are kept (the top-k mask, ``k = 5``), and the
aligned history at that patch is their softmax(temperature x cosine)-weighted sum. Doing this
per cached frame gives a motion-compensated history, which the router then reads.

Departures from Turtle's released code, and why:

* **The alignment is used.** The released ``StateAlignBlock`` computes the aligned values
  (``attn @ v``) and then discards them (``out = v``): the router reads the *unaligned* history.
  We implement what the paper describes: the router reads the aligned history.
* **What is aligned.** Turtle projects the aligned features again (1x1 + depthwise conv, per
  cached frame) into the router's keys and values. We cache the router's own keys and values of
  each frame (computed once, when that frame was current) and warp *those* with the alignment
  weights; warped keys are re-normalised. No convolution ever runs on a history frame: the
  history's cost is the warping and the wider attention, +11 to +21 % per frame for the
  ``small`` backbone on 2 CPU cores (``data_scripts/bench_backbone.py``).
* **Local + top-k.** Turtle averages a local-masked score map (L1 distance <= 4 patches) with
  a *global* top-5 score map, over all patch pairs of the frame (quadratic in the number of
  patches), and adds a sinusoidal position code to the queries and keys. We keep the top-k
  *within* the local neighbourhood: linear in the number of pixels, and no position code is
  needed because distant patches are never compared. Patches here are contiguous ``p x p``
  blocks; Turtle's are strided samples of the frame.
* Turtle's router in the CHM concatenates the current frame's keys twice (once from the aligned
  "history", which includes the current frame, once on its own); ours uses them once.

**The prompt's history gate** (a course variant, not Turtle's or RONIN's; the grounding
study's "prompt into the history router"): a router may be given ``gate (B, C)``, one number
per query channel, added to the attention logits of every *cached* key channel (the current
frame's keys get 0). A gate ``g`` multiplies the weight a query channel gives the history, against
the current frame, by ``exp(g)``: the prompt can tell the router to lean on the history (a
static degradation, where earlier frames carry the same content under independent noise) or to
distrust it (the degradation changed, and the history still carries the old one). With no
cached frame, or ``g = 0``, the router is unchanged. :class:`~ronin_lite.models.prompts.HistoryGate`
makes the gates from the prompt, for the decoder's history blocks (the latent's routers run
before the prompt exists).

The cache (one per history block, a plain ``dict`` of tensors so that it can be inspected):
every tensor is ``(B, n, ...)`` with the cached frames along dim 1, oldest first,
``0 <= n <= tau``; a block returns the *entry* of the current frame (``n = 1``) and
:func:`push_frame` appends it and drops the oldest frames beyond ``tau``. Each module makes its
own empty cache (``empty_cache(batch, height, width)``), in its own layout:

* :class:`FrameHistoryRouter`: ``{"key", "value"}``, each ``(B, n, heads, d, H W)`` -- the
  router's keys (L2-normalised along ``H W``) and values, split into heads (head ``h`` owns
  channels ``[h d, (h + 1) d)``), pixels in row-major order.
* :class:`CausalHistoryModel`: ``{"key", "value", "match"}``, each ``(B, n, heads, d p^2,
  H/p, W/p)`` -- *patch tokens*: entry ``[.., h, c p^2 + i p + j, y, x]`` is channel ``c`` of
  head ``h`` at pixel ``(y p + i, x p + j)`` (``pixel_unshuffle``'s order). ``key`` and
  ``value`` are the router's (a channel's ``p^2 Hp Wp`` values are all its pixels, in another
  order, which channel attention does not see); ``match`` the alignment keys, each token
  L2-normalised. Keeping the history as tokens means that it is never converted again: only the
  current frame is, once.
"""

from __future__ import annotations

from einops import rearrange
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import framewide
from .blocks import ChannelAttention, GatedFFN, LayerNorm2d, is_nhwc

BlockCache = dict[str, Tensor]  # name -> (B, n, ...), n <= tau cached frames, oldest first


def push_frame(cache: BlockCache, entry: BlockCache, tau: int) -> BlockCache:
    """Append this frame's entry ``(B, 1, ...)`` and keep only the last ``tau`` frames.

    The oldest frames are dropped before concatenating, so no tensor ever holds more than
    ``tau`` frames.
    """
    if tau < 1:
        raise ValueError(f"tau must be >= 1 (frames of history kept), got {tau}")
    newest = {name: x[:, max(x.shape[1] - (tau - 1), 0) :] for name, x in cache.items()}
    # the cache keeps its dtype: an entry computed in another one (fp32 out of a norm under
    # bf16 autocast) is cast to it rather than promoting the whole history
    return {name: torch.cat([newest[name], entry[name].to(newest[name].dtype)], dim=1)
            for name in cache}


def cached_frames(cache: BlockCache) -> int:
    """Number of frames ``n`` held by a block's cache."""
    return next(iter(cache.values())).shape[1]


def _frames_to_channels(x: Tensor) -> Tensor:
    """``(B, n, h, d, L) -> (B, h, n d, L)``: cached frames become extra key channels."""
    return rearrange(x, "b n h d l -> b h (n d) l")


class FrameHistoryRouter(ChannelAttention):
    """FHR: channel attention whose keys/values also include those of the cached frames.

    ``forward(x, cache) -> (out, entry)`` with ``x (B, C, H, W)`` the (normalised) features of
    the current frame and ``cache = {"key", "value"}`` of ``n`` earlier frames. Queries come
    from the current frame only; keys and values concatenate the cached frames' and the current
    frame's along the channel axis, so the attention map is ``d x (n + 1) d`` per head. With
    ``n = 0`` it is exactly :class:`~ronin_lite.models.blocks.ChannelAttention`.
    """

    cache_names: tuple[str, ...] = ("key", "value")

    def empty_cache(
        self,
        batch: int,
        height: int,
        width: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> BlockCache:
        """No frame yet: ``(B, 0, heads, d, H W)`` tensors."""
        shape = (batch, 0, self.heads, self.channels // self.heads, height * width)
        return {name: torch.zeros(shape, device=device, dtype=dtype) for name in self.cache_names}

    def route(
        self, q: Tensor, k: Tensor, v: Tensor, past_k: Tensor, past_v: Tensor,
        tokens_first: bool = False, pixels: framewide.Pixels | None = None,
        gate: Tensor | None = None,
    ) -> Tensor:
        """Attend from the current frame over cached + current keys and values.

        ``q, k, v (B, h, d, L)``: the current frame; ``past_k, past_v (B, n, h, d, L)``: the
        history (keys unit-norm along ``L``), pixels in the same order. ``gate (B, C)``: the
        prompt's history gate (module docstring), or None. Returns ``(B, h, d, L)``
        (``tokens_first``: ``(B, h, L, d)``), before the output projection.
        """
        keys = torch.cat([_frames_to_channels(past_k), k], dim=2)  # (B, h, (n + 1) d, L)
        values = torch.cat([_frames_to_channels(past_v), v], dim=2)
        n, d = past_k.shape[1], q.shape[2]
        bias = None
        if gate is not None and n:
            if gate.ndim != 2 or gate.shape[1] != self.channels:
                raise ValueError(f"a history gate must be shaped (B, {self.channels}), got "
                                 f"{tuple(gate.shape)}")
            # (B, C) -> (B, h, d, 1): each query channel's logit shift for the cached keys;
            # padded with zeros for the current frame's d keys (they come last)
            per_query = rearrange(gate, "b (heads d) -> b heads d 1", heads=self.heads)
            bias = F.pad(per_query.expand(-1, -1, -1, n * d), (0, d))  # (B, h, d, (n + 1) d)
        return self.attend(q, keys, values, tokens_first=tokens_first, pixels=pixels, bias=bias)

    def forward(  # type: ignore[override]  # the cache is an extra input
        self, x: Tensor, cache: BlockCache, gate: Tensor | None = None
    ) -> tuple[Tensor, BlockCache]:
        q, k, v = self.qkv(x)  # (B, h, d, HW) each
        out = self.route(q, k, v, cache["key"], cache["value"], tokens_first=is_nhwc(x),
                         pixels=(*x.shape[-2:], 0), gate=gate)
        return self.project(self.merge_heads(out, x)), {"key": k[:, None], "value": v[:, None]}


def _to_patches(x: Tensor, heads: int, patch: int) -> Tensor:
    """``(B, m, C, H, W) -> (B, m, heads, d p^2, H/p, W/p)``: a token per head and patch."""
    b, m = x.shape[:2]
    per_head = rearrange(x, "b m (heads d) h w -> (b m heads) d h w", heads=heads)
    tokens = F.pixel_unshuffle(per_head, patch)  # (., d, H, W) -> (., d p^2, H/p, W/p)
    return rearrange(tokens, "(b m heads) dim hp wp -> b m heads dim hp wp", b=b, m=m)


def _from_patches(tokens: Tensor, patch: int) -> Tensor:
    """Inverse of :func:`_to_patches`: ``(B, m, heads, d p^2, Hp, Wp) -> (B, m, C, H, W)``."""
    b, m = tokens.shape[:2]
    x = F.pixel_shuffle(rearrange(tokens, "b m heads dim hp wp -> (b m heads) dim hp wp"), patch)
    return rearrange(x, "(b m heads) d h w -> b m (heads d) h w", b=b, m=m)


def _inside_frame(hp: int, wp: int, radius: int, device: torch.device) -> Tensor:
    """``(O, Hp, Wp)`` bool: is neighbour ``o`` of patch ``(y, x)`` on the patch grid?

    Neighbours are numbered row by row over offsets ``dy, dx`` in ``[-r, r]``:
    ``o = (dy + r) (2r + 1) + (dx + r)``.
    """
    offsets = torch.arange(-radius, radius + 1, device=device)
    rows = torch.arange(hp, device=device)[None] + offsets[:, None]  # (2r+1, Hp)
    cols = torch.arange(wp, device=device)[None] + offsets[:, None]  # (2r+1, Wp)
    ok_rows = (rows >= 0) & (rows < hp)
    ok_cols = (cols >= 0) & (cols < wp)
    inside = ok_rows[:, None, :, None] & ok_cols[None, :, None, :]  # (2r+1, 2r+1, Hp, Wp)
    return inside.reshape(-1, hp, wp)


class StateAlignment(nn.Module):
    """Align cached frames to the current one: windowed cosine attention, local + top-k mask.

    Works on patch tokens ``(B, ., heads, D, Hp, Wp)``, ``D = d p^2``. :meth:`project` gives
    the current frame's alignment query and key (1x1 + depthwise 3x3 convolution to ``2C``
    channels, split, cut into unit-norm tokens); the key is what the frame contributes to the
    cache (``"match"``). :meth:`forward` takes the query, the cached frames' keys and any number
    of cached token tensors, and returns those tensors aligned to the current frame, one aligned
    copy per cached frame.

    Computed as a correlation (as in optical-flow networks) rather than as masked dense
    attention: one score per query patch and neighbour offset (``(2r + 1)^2`` of them), then
    the ``k`` best neighbours are gathered. Only the candidates that the local mask allows are
    ever touched, which on a CPU is several times faster than windowed matrix products.
    """

    def __init__(
        self, channels: int, heads: int, window: int, search_radius: int, topk: int
    ) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if window < 1 or search_radius < 0 or topk < 1:
            raise ValueError(
                f"need window >= 1, search_radius >= 0, topk >= 1; got window={window}, "
                f"search_radius={search_radius}, topk={topk}"
            )
        self.heads = heads
        self.window = window
        self.radius = search_radius
        self.topk = min(topk, (2 * search_radius + 1) ** 2)
        self.to_qk = nn.Conv2d(channels, 2 * channels, 1, bias=False)
        self.qk_spatial = nn.Conv2d(
            2 * channels, 2 * channels, 3, padding=1, groups=2 * channels, bias=False
        )
        self.temperature = nn.Parameter(torch.ones(heads))

    def project(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Alignment query and key tokens of the current frame, each ``(B, heads, D, Hp, Wp)``,
        unit-norm along ``D`` (so that their products are cosine similarities)."""
        qk = self.qk_spatial(self.to_qk(x))  # (B, C, H, W) -> (B, 2C, H, W)
        b, c2, h, w = qk.shape
        tokens = _to_patches(qk.reshape(b, 2, c2 // 2, h, w), self.heads, self.window)
        query, key = F.normalize(tokens, dim=3).unbind(1)
        return query, key

    def _neighbour_scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """Cosine similarity of each query patch with its ``O = (2r + 1)^2`` neighbours.

        ``query (B, 1, h, D, Hp, Wp)``, ``keys (B, n, h, D, Hp, Wp)``, both unit-norm along
        ``D``. Returns ``(B, n, h, O, Hp, Wp)``; neighbours off the grid score ``-inf``.
        """
        hp, wp = query.shape[-2:]
        span = 2 * self.radius + 1
        padded = F.pad(keys, (self.radius,) * 4)  # (B, n, h, D, Hp + 2r, Wp + 2r)
        scores = torch.stack(
            [
                (query * padded[..., dy : dy + hp, dx : dx + wp]).sum(3)  # (B, n, h, Hp, Wp)
                for dy in range(span)
                for dx in range(span)
            ],
            dim=3,
        )
        inside = _inside_frame(hp, wp, self.radius, query.device)  # (O, Hp, Wp)
        return scores.masked_fill(~inside, float("-inf"))

    def _neighbour_index(self, neighbour: Tensor, hp: int, wp: int) -> Tensor:
        """Flat index ``y' Wp + x'`` of each kept neighbour on the patch grid.

        ``neighbour (B, n, h, k, Hp, Wp)``: offset index in ``[0, O)``. A neighbour off the grid
        (only kept where fewer than ``k`` lie on it, with softmax weight exactly 0) is moved to
        the nearest patch on the grid: it adds ``0 x`` a finite value, as the zero padding it
        replaces did, so the grid needs no padded copy.
        """
        span = 2 * self.radius + 1
        rows = torch.arange(hp, device=neighbour.device)[:, None]  # (Hp, 1)
        cols = torch.arange(wp, device=neighbour.device)[None, :]  # (1, Wp)
        y = (rows + neighbour // span - self.radius).clamp_(0, hp - 1)  # (B, n, h, k, Hp, Wp)
        x = (cols + neighbour % span - self.radius).clamp_(0, wp - 1)
        return y * wp + x

    @staticmethod
    def _gather(state: Tensor, index: Tensor, weights: Tensor) -> Tensor:
        """Weighted sum of the selected neighbours of each patch.

        ``state (B, n, h, D, Hp, Wp)``; ``index, weights (B, n, h, k, Hp, Wp)``: the kept
        neighbours' flat grid index (:meth:`_neighbour_index`) and softmax weight. Returns
        ``(B, n, h, D, Hp, Wp)``. One gather per kept neighbour, accumulated, so that no
        ``k``-times larger tensor is ever made.
        """
        b, n, h, dim = state.shape[:4]
        flat = state.flatten(-2)  # (B, n, h, D, Hp Wp)
        aligned = None
        for j in range(index.shape[3]):
            where = index[:, :, :, j].flatten(-2).unsqueeze(3).expand(b, n, h, dim, -1)
            picked = flat.gather(-1, where).view_as(state)  # (B, n, h, D, Hp, Wp)
            weight = weights[:, :, :, j, None]  # (B, n, h, 1, Hp, Wp)
            aligned = picked * weight if aligned is None else aligned.addcmul_(picked, weight)
        return aligned

    def forward(self, query: Tensor, past_keys: Tensor, states: list[Tensor]) -> list[Tensor]:
        """Align each token tensor of ``states`` (``(B, n, h, D_s, Hp, Wp)``) to this frame.

        ``query (B, h, D, Hp, Wp)``: the current frame's alignment query; ``past_keys
        (B, n, h, D, Hp, Wp)``: the cached frames' alignment keys (both from :meth:`project`).
        """
        # local mask: score only the (2r+1)^2 neighbours, times a per-head temperature (applied
        # to the query, before the mask's -inf: -inf * temperature has a NaN gradient)
        scaled = query * self.temperature.view(1, -1, 1, 1, 1)  # (B, h, D, Hp, Wp)
        scores = self._neighbour_scores(scaled[:, None], past_keys)  # (B, n, h, O, Hp, Wp)
        # top-k mask: softmax over the k best neighbours only
        best, neighbour = scores.topk(self.topk, dim=3)  # (B, n, h, k, Hp, Wp)
        weights = best.softmax(dim=3)
        # warp every state with the same weights and neighbours
        index = self._neighbour_index(neighbour, *query.shape[-2:])
        if not torch.is_grad_enabled():  # inference: each state on its own, no concatenated copy
            return [self._gather(state, index, weights) for state in states]
        # training: one gather along a concatenated D, so that the weights' gradient is one sum
        # over all of D (two partial sums would round differently: runs reproduce bit for bit)
        aligned = self._gather(torch.cat(states, dim=3), index, weights)
        return list(aligned.split([s.shape[3] for s in states], dim=3))


class CausalHistoryModel(nn.Module):
    """Turtle's CHM: align the cached history to the current frame, then route it (FHR).

    ``forward(x, cache) -> (out, entry)`` with ``cache = {"key", "value", "match"}`` (patch
    tokens, see the module docstring). The router's keys and values of each earlier frame are
    warped to the current frame by :class:`StateAlignment` (queries from the current frame,
    keys ``"match"`` from the cached one), re-normalised, and routed beside the current frame's
    own keys and values. ``H`` and ``W`` of ``x`` must be multiples of ``window``.
    """

    cache_names: tuple[str, ...] = ("key", "value", "match")

    def __init__(
        self, channels: int, heads: int, window: int, search_radius: int, topk: int
    ) -> None:
        super().__init__()
        self.router = FrameHistoryRouter(channels, heads)
        self.align = StateAlignment(channels, heads, window, search_radius, topk)

    def empty_cache(
        self,
        batch: int,
        height: int,
        width: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> BlockCache:
        """No frame yet: ``(B, 0, heads, d p^2, H/p, W/p)`` tensors."""
        p, heads = self.align.window, self.router.heads
        dim = self.router.channels // heads * p * p
        shape = (batch, 0, heads, dim, height // p, width // p)
        return {name: torch.zeros(shape, device=device, dtype=dtype) for name in self.cache_names}

    def forward(self, x: Tensor, cache: BlockCache,
                gate: Tensor | None = None) -> tuple[Tensor, BlockCache]:
        b, c, h, w = x.shape
        p, heads = self.align.window, self.router.heads
        if h % p or w % p:
            raise ValueError(f"the causal history model needs H, W divisible by {p}, got {h}x{w}")
        # the current frame, once, as patch tokens: router q, k, v and alignment query, key
        qkv = torch.stack(self.router.qkv(x), dim=1)  # (B, 3, h, d, HW), q, k unit-norm
        qkv = _to_patches(rearrange(qkv, "b three heads d (h w) -> b three (heads d) h w", h=h),
                          heads, p)  # (B, 3, h, D, Hp, Wp)
        match_query, match_key = self.align.project(x)  # (B, h, D, Hp, Wp)
        past_k, past_v = cache["key"], cache["value"]  # (B, n, h, D, Hp, Wp)
        n = past_k.shape[1]
        if n:
            # state alignment: warp the history to the current frame
            past_k, past_v = self.align(match_query, cache["match"], [past_k, past_v])
        # frame history router over the aligned history and the current frame, in patch order:
        # (B, m, h, d p^2, Hp, Wp) -> (B, m, h, d, HW), a channel's pixels in patch order
        to_channels = "b m heads (d pp) hp wp -> b m heads d (pp hp wp)"
        q, k, v = rearrange(qkv, to_channels, d=c // heads).unbind(1)
        past_k = rearrange(past_k, to_channels, d=c // heads)
        if framewide.current() is None:  # (a tiled stream normalises over the frame)
            past_k = F.normalize(past_k, dim=-1)  # warping changed the keys' norms
        past_v = rearrange(past_v, to_channels, d=c // heads)
        out = self.router.route(q, k, v, past_k, past_v, pixels=(h, w, p),
                                gate=gate)  # (B, h, d, HW in patch order)
        out = _from_patches(out.reshape(b, 1, *qkv.shape[2:]), p)[:, 0]  # (B, C, H, W)
        entry = {"key": qkv[:, 1:2], "value": qkv[:, 2:3], "match": match_key[:, None]}
        return self.router.project(out), entry


class HistoryBlock(nn.Module):
    """A transformer block whose attention reads the history: FHR or CHM.

    ``x = x + attn(LN(x), cache); x = x + ffn(LN(x))``; returns ``(x, entry)``. ``gate
    (B, C)``: the prompt's history gate for the router (module docstring), or None.
    """

    def __init__(
        self,
        channels: int,
        ffn_expansion: float,
        attention: FrameHistoryRouter | CausalHistoryModel,
    ) -> None:
        super().__init__()
        self.norm1 = LayerNorm2d(channels)
        self.attn = attention
        self.norm2 = LayerNorm2d(channels)
        self.ffn = GatedFFN(channels, ffn_expansion)

    def empty_cache(
        self,
        batch: int,
        height: int,
        width: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> BlockCache:
        """The attention's empty cache for frames of this block's ``height x width``."""
        return self.attn.empty_cache(batch, height, width, device, dtype)

    def forward(self, x: Tensor, cache: BlockCache,
                gate: Tensor | None = None) -> tuple[Tensor, BlockCache]:
        routed, entry = self.attn(self.norm1(x), cache, gate)
        x = x + routed
        return x + self.ffn(self.norm2(x)), entry
