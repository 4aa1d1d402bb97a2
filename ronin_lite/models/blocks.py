"""Building blocks of the Turtle U-Net (Turtle, arXiv 2410.03936; Restormer, arXiv 2111.09881).

RONIN (arXiv 2507.14851) uses Turtle as its backbone. Turtle is a Restormer-style U-Net whose
every level is a stack of transformer blocks,

    x = x + Attention(LN(x))
    x = x + FFN(LN(x)),

with two kinds of attention: a cheap *reduced* attention (a gated depthwise-convolution branch,
as in NAFNet) at the high-resolution levels, and Restormer's *channel* ("transposed") attention
deeper down, whose attention map is C x C rather than HW x HW, so its cost grows linearly with
the number of pixels. The feed-forward network is Restormer's gated depthwise-convolution FFN
(GDFN). Resolution changes by PixelUnshuffle / PixelShuffle.

Departures from Turtle's code, all for readability:

* One LayerNorm (with bias) over the channels of a ``(B, C, H, W)`` map, computed in place
  rather than by reshaping to ``(B, HW, C)`` and back: the same numbers.
* Turtle uses a plain (ungated) FFN in its first two encoder levels and the GDFN elsewhere; we
  use the GDFN everywhere, which keeps one FFN in the code. Its expansion factor is
  configurable (Turtle: 2.5).
* The blocks that carry history (frame history router, state alignment) live in
  :mod:`ronin_lite.models.history`; this module holds the stateless ones.
"""

from __future__ import annotations

from typing import Literal

from einops import rearrange
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import framewide

AttentionKind = Literal["reduced", "channel"]
ATTENTION_KINDS: tuple[str, ...] = ("reduced", "channel")


def is_nhwc(x: Tensor) -> bool:
    """Is ``x (B, C, H, W)`` laid out channels_last (NHWC), the inference layout?

    The network runs NHWC without gradients (see :mod:`ronin_lite.models.unet`); the blocks
    below then take fast paths that compute the same numbers in an order that suits that
    layout. Training (NCHW) never takes them.
    """
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def unit_norm_last(x: Tensor, eps: float = 1e-12) -> Tensor:
    """``F.normalize(x, dim=-1)`` for a view whose last axis is strided (NHWC tokens).

    ``torch.linalg.vector_norm`` over a strided axis runs an unvectorised loop, slower than
    squaring and summing; the quotient equals ``F.normalize``'s to float rounding.
    """
    return x / x.square().sum(-1, keepdim=True).sqrt().clamp_min(eps)


def _depthwise(channels: int) -> nn.Conv2d:
    """A 3x3 depthwise convolution: local spatial mixing at a cost of 9 MACs per value."""
    return nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of a ``(B, C, H, W)`` map, with a learned affine."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        if is_nhwc(x):
            # NHWC (inference, see models/unet.py): the channels are the contiguous last axis of
            # the permuted view, so one fused layer_norm kernel does it. It accumulates in fp32
            # for bf16 inputs, and autocast runs layer_norm in fp32: the statistics stay fp32.
            out = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],),  # (B, H, W, C)
                               self.weight.view(-1).to(x.dtype), self.bias.view(-1).to(x.dtype),
                               self.eps)
            return out.permute(0, 3, 1, 2)  # (B, C, H, W) view, channels_last in memory
        # statistics in fp32 even when the features are bf16/fp16 (autocast): a mean and a
        # variance taken in bf16 lose everything below 1/128 of the features' magnitude. For
        # fp32 features every cast below is a no-op (the same bits as before).
        x32 = x.float()
        mean = x32.mean(1, keepdim=True)  # (B, 1, H, W)
        var = (x32 - mean).pow(2).mean(1, keepdim=True)  # biased variance, as nn.LayerNorm
        out = (x32 - mean) / torch.sqrt(var + self.eps) * self.weight.float() + self.bias.float()
        return out.to(x.dtype)


class ReducedAttention(nn.Module):
    """Turtle's "reduced attention": 1x1 expand, depthwise 3x3, GELU, 1x1 back, times a scale.

    No attention map at all: a depthwise-convolution branch that mixes a 3x3 neighbourhood.
    The per-channel output scale starts at zero, so each block starts as the identity and the
    network grows its residual branches during training (Turtle / NAFNet's ``beta``).
    """

    def __init__(self, channels: int, expansion: int = 2) -> None:
        super().__init__()
        hidden = channels * expansion
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.spatial = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.project = nn.Conv2d(hidden, channels, 1)
        self.scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.spatial(self.expand(x))  # (B, C, H, W) -> (B, eC, H, W)
        y = self.project(F.gelu(y))  # (B, eC, H, W) -> (B, C, H, W)
        return y * self.scale


class ChannelAttention(nn.Module):
    """Restormer's multi-head transposed attention: attention *between channels*.

    q, k, v come from a 1x1 convolution followed by a depthwise 3x3 one. Split into ``heads``
    groups of ``d = C / heads`` channels, each channel is a vector of its HW values; q and k are
    L2-normalised along that spatial axis, so ``q @ k^T`` is a ``d x d`` matrix of cosine
    similarities, scaled by a learned per-head temperature and softmax-normalised along the
    keys. The output ``A @ v`` re-mixes the value channels, then a 1x1 convolution projects out.

    :meth:`qkv`, :meth:`attend` and :attr:`project` are separate so that the frame history
    router (:class:`~ronin_lite.models.history.FrameHistoryRouter`) can put cached keys and
    values of earlier frames beside the current ones. Channel attention sums over all pixels,
    so it gives the same result whatever order the pixels are in, as long as q, k and v share it.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        self.channels = channels
        self.heads = heads
        self.to_qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        self.qkv_spatial = _depthwise(3 * channels)
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.project = nn.Conv2d(channels, channels, 1, bias=False)

    def qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """q, k, v of a frame, each ``(B, heads, d, HW)``; q and k unit-norm along HW (raw
        inside a tiled stream's frame statistics: :meth:`attend` normalises them over the
        frame, see :mod:`ronin_lite.models.framewide`)."""
        qkv = self.qkv_spatial(self.to_qkv(x))  # (B, C, H, W) -> (B, 3C, H, W)
        q, k, v = rearrange(qkv, "b (three heads d) h w -> b three heads d (h w)", three=3,
                            heads=self.heads).unbind(1)  # 3 x (B, heads, d, HW)
        if framewide.current() is not None:
            return q, k, v
        if is_nhwc(qkv):  # inference: HW is the strided axis of these views
            return unit_norm_last(q), unit_norm_last(k), v
        return F.normalize(q, dim=-1), F.normalize(k, dim=-1), v

    def attend(self, q: Tensor, k: Tensor, v: Tensor, tokens_first: bool = False,
               pixels: framewide.Pixels | None = None, bias: Tensor | None = None) -> Tensor:
        """``softmax(q k^T * temperature) v``: ``q (B, h, d, L)``, ``k, v (B, h, m, L)``.

        ``m`` is the number of key channels per head: ``d`` for plain channel attention,
        ``(n + 1) d`` when ``n`` cached frames are routed beside the current one. Returns
        ``(B, h, d, L)``, before the output projection; with ``tokens_first`` its transpose
        ``(B, h, L, d)``, computed as ``v^T A^T`` (the same products, made directly in the order
        an NHWC map needs, see :meth:`merge_heads`). Inside a tiled stream's frame statistics
        q and k are raw and the cosines are taken over the frame; ``pixels = (H, W, patch)``
        then says where each of the ``L`` pixels lies (:mod:`~ronin_lite.models.framewide`).
        ``bias``, broadcastable to ``(B, h, d, m)``, is added to the scaled cosines before the
        softmax (the prompt's history gate, :class:`~ronin_lite.models.history.FrameHistoryRouter`).
        """
        frame = framewide.current()
        if frame is None:
            logits = (q @ k.transpose(-2, -1)) * self.temperature  # (B, h, d, m)
        else:
            if pixels is None:
                raise ValueError("attend() inside frame statistics needs pixels=(H, W, patch)")
            logits = frame.cosine(q, k, pixels) * self.temperature
        if bias is not None:
            logits = logits + bias
        attn = logits.softmax(dim=-1)  # (B, h, d, m)
        if frame is not None:
            attn = attn.to(v.dtype)
        if tokens_first:
            return v.transpose(-2, -1) @ attn.transpose(-2, -1)  # (B, h, L, d)
        return attn @ v

    def merge_heads(self, out: Tensor, like: Tensor) -> Tensor:
        """Attention output back to a map shaped and laid out like ``like (B, C, H, W)``.

        NCHW: ``out (B, h, d, HW)`` is already one (a view). NHWC: ``out (B, h, HW, d)`` (from
        ``attend(..., tokens_first=True)``) becomes ``(B, H, W, C)`` in memory, a view for one
        head, one copy for several; the projection and the residual sum then stay NHWC instead
        of mixing layouts.
        """
        b, _, h, w = like.shape
        if is_nhwc(like):
            tokens = out.transpose(1, 2).reshape(b, h, w, self.channels)  # (B, H, W, C)
            return tokens.permute(0, 3, 1, 2)  # (B, C, H, W) view, channels_last in memory
        return rearrange(out, "b heads d (h w) -> b (heads d) h w", h=h)

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.qkv(x)  # (B, h, d, HW) each
        out = self.attend(q, k, v, tokens_first=is_nhwc(x), pixels=(*x.shape[-2:], 0))
        return self.project(self.merge_heads(out, x))  # (B, C, H, W)


class GatedFFN(nn.Module):
    """Restormer's gated depthwise-convolution feed-forward network (GDFN).

    1x1 to ``2 * hidden`` channels, depthwise 3x3, split in two halves, ``gelu(x1) * x2``,
    1x1 back to ``channels``; ``hidden = int(channels * expansion)``.
    """

    def __init__(self, channels: int, expansion: float) -> None:
        super().__init__()
        hidden = int(channels * expansion)
        if hidden < 1:
            raise ValueError(f"ffn expansion {expansion} leaves no hidden channels")
        self.expand = nn.Conv2d(channels, 2 * hidden, 1, bias=False)
        self.spatial = _depthwise(2 * hidden)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if is_nhwc(x):
            # inference: the two halves as two half-width branches (the same weights, sliced),
            # so that each half is a contiguous NHWC map; GELU on a channel half of one NHWC
            # map is a strided loop, much slower than on a contiguous one. The same numbers.
            hidden = self.project.in_channels
            halves = [F.conv2d(F.conv2d(x, self.expand.weight[part]),
                               self.spatial.weight[part], padding=1, groups=hidden)
                      for part in (slice(None, hidden), slice(hidden, None))]
            return self.project(F.gelu(halves[0]).mul_(halves[1]))  # (B, C, H, W)
        x1, x2 = self.spatial(self.expand(x)).chunk(2, dim=1)  # 2 x (B, hidden, H, W)
        return self.project(F.gelu(x1) * x2)  # (B, C, H, W)


def make_attention(kind: AttentionKind, channels: int, heads: int) -> nn.Module:
    """The stateless attention of a block: ``"reduced"`` or ``"channel"``."""
    if kind == "reduced":
        return ReducedAttention(channels)
    if kind == "channel":
        return ChannelAttention(channels, heads)
    raise ValueError(f"unknown attention kind {kind!r}; choose one of {list(ATTENTION_KINDS)}")


class TransformerBlock(nn.Module):
    """``x = x + attn(LN(x)); x = x + ffn(LN(x))`` with reduced or channel attention."""

    def __init__(
        self, channels: int, heads: int, ffn_expansion: float, attention: AttentionKind
    ) -> None:
        super().__init__()
        self.norm1 = LayerNorm2d(channels)
        self.attn = make_attention(attention, channels, heads)
        self.norm2 = LayerNorm2d(channels)
        self.ffn = GatedFFN(channels, ffn_expansion)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class Downsample(nn.Module):
    """3x3 conv to C/2, then PixelUnshuffle(2): ``(B, C, H, W) -> (B, 2C, H/2, W/2)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"Downsample needs an even channel count, got {channels}")
        self.conv = nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False)
        self.shuffle = nn.PixelUnshuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))


class Upsample(nn.Module):
    """3x3 conv to 2C, then PixelShuffle(2): ``(B, C, H, W) -> (B, C/2, 2H, 2W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"Upsample needs an even channel count, got {channels}")
        self.conv = nn.Conv2d(channels, 2 * channels, 3, padding=1, bias=False)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))
