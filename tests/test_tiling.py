"""Tiled streaming restoration (ronin_lite.tiling): coverage, blending, history per tile, spill."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pytest
import torch

import torch.nn.functional as F

from ronin_lite.metrics import psnr
from ronin_lite.models import RoninLite, framewide
from ronin_lite.tiling import TiledStream, tile_starts


@pytest.mark.parametrize("length,tile,overlap", [(100, 32, 8), (64, 64, 8), (50, 64, 8),
                                                 (1080, 512, 32), (97, 40, 39)])
def test_tiles_cover_the_frame_and_overlap_enough(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    covered = np.zeros(length, bool)
    for s in starts:
        assert 0 <= s and s + size <= length
        covered[s:s + size] = True
    assert covered.all() and starts[-1] + size == length
    for a, b in zip(starts, starts[1:]):
        assert a + size - b >= overlap  # neighbours share at least `overlap` pixels


@dataclasses.dataclass(frozen=True)
class _State:  # the shape of a StreamState as TiledStream uses it
    caches: dict
    cached_frames: int = 1

    @property
    def nbytes(self) -> int:
        return sum(x.numel() * x.element_size() for c in self.caches.values() for x in c.values())


class _Out(NamedTuple):
    restored: torch.Tensor
    state: _State


class PixelHistory(torch.nn.Module):
    """A pointwise "network" with a history: frame - 0.5 x the previous frame at each pixel.
    Tiled or not, it must give the same output if every tile carries its own window's history."""

    def forward(self, frame, state=None):
        prev = state.caches["h"]["prev"] if state is not None else torch.zeros_like(frame)
        return _Out(frame - 0.5 * prev, _State({"h": {"prev": frame.clone()}}))


def _frames(n: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("spill", [False, True])
def test_each_tile_carries_the_history_of_its_own_window(spill, tmp_path):
    frames, net = _frames(4, 70, 90), PixelHistory()
    with TiledStream(net, tile=32, overlap=8, spill=spill, spill_dir=tmp_path) as stream:
        tiled = [stream(f) for f in frames]
        assert stream.tiles == 3 * 4 and stream.spilling == spill  # rows 0, 24, 38; columns 0, 24, 48, 58
    state = None
    for f, t in zip(frames, tiled):
        out = net(f, state)
        state = out.state
        torch.testing.assert_close(t, out.restored, atol=1e-6, rtol=0)
    assert list(tmp_path.iterdir()) == []  # the spilled states are gone after close


def test_spilled_states_give_the_same_restoration_bit_for_bit(tmp_path):
    torch.manual_seed(0)
    net = RoninLite.from_profile("tiny").eval()
    frames = _frames(4, 80, 72, seed=1)
    outs = {}
    for spill in (False, True):
        with TiledStream(net, tile=48, overlap=16, spill=spill, spill_dir=tmp_path) as stream:
            outs[spill] = [stream(f) for f in frames]
            assert stream.spilling == spill
            if spill:
                assert len(list(tmp_path.iterdir())) == 1  # one folder of tile states
    for a, b in zip(outs[False], outs[True]):
        assert torch.equal(a, b)
    assert list(tmp_path.iterdir()) == []


def test_a_frame_no_larger_than_a_tile_is_restored_exactly_as_whole():
    torch.manual_seed(0)
    net = RoninLite.from_profile("tiny").eval()
    frames, state = _frames(3, 40, 56), None
    with TiledStream(net, tile=64) as stream, torch.no_grad():
        for f in frames:
            out = net(f, state)
            state = out.state
            assert torch.equal(stream(f), out.restored)


def test_tiled_restoration_of_a_trained_network_is_close_to_the_whole_frame():
    """The shipped small network, 4 frames of 128 x 160, tiled against whole frames (3 x 4
    tiles of 64, overlap 24). With one pass each tile uses its own statistics in the channel
    attention, cross-attention grid and prompt pool, so the two differ a little everywhere;
    with two the first pass gathers the frame's statistics and the difference must shrink by
    an order of magnitude (tens of dB in PSNR of one against the other), beyond what a metric
    of restoration quality resolves."""
    from ronin_lite.checkpoints import load_pretrained

    net = load_pretrained("small-3d-lite").eval()
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 128), torch.linspace(0, 1, 160), indexing="ij")
    scene = torch.stack([0.5 + 0.3 * torch.sin(9 * xx + 4 * yy), 0.4 + 0.3 * yy, 0.6 - 0.2 * xx])
    gen = torch.Generator().manual_seed(0)
    frames = [(torch.roll(scene, t, -1) + 0.08 * torch.randn(scene.shape, generator=gen))
              .clamp(0, 1)[None] for t in range(4)]
    state, whole = None, []
    with torch.no_grad():
        for f in frames:
            out = net(f, state)
            state = out.state
            whole.append(out.restored.clamp(0, 1))
    agreement = {}
    for passes in (1, 2):
        with TiledStream(net, tile=64, overlap=24, passes=passes) as stream:
            tiled = [stream(f).clamp(0, 1) for f in frames]
            assert stream.tiles == 3 * 4
        agreement[passes] = [psnr(t[0].permute(1, 2, 0).numpy(), w[0].permute(1, 2, 0).numpy())
                             for t, w in zip(tiled, whole)]
    print(agreement)
    assert min(agreement[1]) > 40, agreement
    assert min(agreement[2]) > 50 and min(agreement[2]) > max(agreement[1]) + 10, agreement


def _partition(h: int, w: int, tile: int, overlap: int):
    """Tiles ``(y, x, th, tw)`` and their cores ``(y0, y1, x0, x1)``, as TiledStream lays them."""
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    th, tw = min(tile, h), min(tile, w)
    return [((y, x, th, tw), (*cy, *cx))
            for y, cy in zip(ys, framewide.core_bounds(ys, th, h))
            for x, cx in zip(xs, framewide.core_bounds(xs, tw, w))]


@pytest.mark.parametrize("patch", [0, 2])
def test_frame_statistics_summed_over_tile_cores_are_the_whole_frame_s(patch):
    """The sums each tile adds over its core, replayed, are exactly the whole frame's: channel
    cosines (row-major and the history model's patch order), the cross-attention's grid pooling
    at a downsampled level, and the global average. Nothing is counted twice or missed."""
    gen = torch.Generator().manual_seed(0)
    h, w, heads, d, m = 48, 80, 2, 3, 5
    q = torch.randn(1, heads, d, h, w, generator=gen)
    k = torch.randn(1, heads, m, h, w, generator=gen)
    half = torch.randn(1, 4, h // 2, w // 2, generator=gen)  # a level-2 map of the frame

    def flat(x, y0, x0, th, tw):  # (1, h, c, th, tw) window -> (1, h, c, L) in ``patch`` order
        x = x[..., y0:y0 + th, x0:x0 + tw]
        if patch:
            x = F.pixel_unshuffle(x.reshape(-1, 1, th, tw), patch).reshape(*x.shape[:3], -1)
        return x.reshape(*x.shape[:3], -1)

    tiles = _partition(h, w, 32, 8)
    assert len(tiles) == 2 * 3
    stats = framewide.FrameStatistics((h, w))
    for mode in ("record", "replay"):
        for box, core in tiles:
            y, x, th, tw = box
            with stats.tile(box, core, mode):
                cos = stats.cosine(flat(q, y, x, th, tw), flat(k, y, x, th, tw), (th, tw, patch))
                pooled = stats.grid_pool(half[..., y // 2:(y + th) // 2, x // 2:(x + tw) // 2], 4)
                mean = stats.mean(half[..., y // 2:(y + th) // 2, x // 2:(x + tw) // 2])
            if mode == "replay":
                whole = (F.normalize(q.flatten(-2), dim=-1)
                         @ F.normalize(k.flatten(-2), dim=-1).mT)
                torch.testing.assert_close(cos, whole, atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(pooled, F.adaptive_avg_pool2d(half, 4))
                torch.testing.assert_close(mean, half.mean((2, 3)))
        stats.finish()


def test_one_tile_with_frame_statistics_is_the_whole_network():
    """A tile that is the whole frame, recorded then replayed frame after frame (its history
    from the replay), restores as the plain network does: the frame-statistics arithmetic
    (raw keys in the history, cosines from sums) is the network's own. (48 x 64: a multiple of
    the network's padding, as TiledStream's canvas is.)"""
    torch.manual_seed(0)
    net = RoninLite.from_profile("tiny").eval()
    frames, plain, state = _frames(3, 48, 64, seed=2), None, None
    with torch.no_grad():
        for f in frames:
            out = net(f, plain)
            plain = out.state
            stats = framewide.FrameStatistics((48, 64))
            with stats.tile((0, 0, 48, 64), (0, 48, 0, 64), "record"):
                net(f, state)
            stats.finish()
            with stats.tile((0, 0, 48, 64), (0, 48, 0, 64), "replay"):
                replayed = net(f, state)
            state = replayed.state
            torch.testing.assert_close(replayed.restored, out.restored, atol=1e-5, rtol=0)
            torch.testing.assert_close(replayed.prompt, out.prompt, atol=1e-5, rtol=0)
    assert framewide.current() is None  # nothing left active outside a tile


def test_frame_statistics_refuse_misuse():
    stats = framewide.FrameStatistics((32, 32))
    with pytest.raises(RuntimeError, match="finished record pass"):
        with stats.tile((0, 0, 32, 32), (0, 32, 0, 32), "replay"):
            pass
    with pytest.raises(ValueError, match="passes"):
        TiledStream(PixelHistory(), passes=0)


def test_bad_tiling_settings_and_frames_are_refused():
    net = PixelHistory()
    with pytest.raises(ValueError, match="overlap < tile"):
        TiledStream(net, tile=32, overlap=32)
    with pytest.raises(ValueError, match="spill"):
        TiledStream(net, spill="maybe")
    stream = TiledStream(net, tile=32, overlap=8)
    stream(_frames(1, 40, 40)[0])
    with pytest.raises(ValueError, match="start a new TiledStream"):
        stream(_frames(1, 40, 48)[0])
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        stream(torch.rand(2, 3, 40, 40))
    stream.close()
    with pytest.raises(RuntimeError, match="closed"):
        stream(_frames(1, 40, 40)[0])


def test_frame_statistics_are_float32_under_bf16_autocast():
    """Tiled bf16 inference (a GPU's, here CPU autocast): the frame's sums are taken in float32
    whatever the compute dtype, and the tiled output stays close to the float32 one."""
    torch.manual_seed(0)
    net = RoninLite.from_profile("tiny").eval()
    frames = _frames(2, 80, 96, seed=3)
    q = torch.randn(1, 2, 3, 64, generator=torch.Generator().manual_seed(0))
    k = torch.randn(1, 2, 5, 64, generator=torch.Generator().manual_seed(1))
    exact = F.normalize(q.double(), dim=-1) @ F.normalize(k.double(), dim=-1).mT
    stats = framewide.FrameStatistics((8, 8))
    with torch.autocast("cpu", dtype=torch.bfloat16), \
            stats.tile((0, 0, 8, 8), (0, 8, 0, 8), "record"):
        cos = stats.cosine(q, k, (8, 8, 0))  # autocast would run the products in bf16
    assert cos.dtype == torch.float32 and (cos.double() - exact).abs().max() < 1e-5
    outs = {}
    for dtype in (torch.float32, torch.bfloat16):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16), \
                TiledStream(net, tile=48, overlap=16) as stream:
            outs[dtype] = [stream(f).float() for f in frames]
    for a, b in zip(outs[torch.float32], outs[torch.bfloat16]):
        assert (a - b).abs().max() < 0.05
