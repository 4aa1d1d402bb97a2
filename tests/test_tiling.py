"""Tiled streaming restoration (ronin_lite.tiling): coverage, blending, history per tile, spill."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pytest
import torch

from ronin_lite.metrics import psnr
from ronin_lite.models import RoninLite
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
    """The shipped small network, 4 frames of 128 x 160, tiled against
    whole frames (3 x 4 tiles of 64, overlap 24): channel attention and the prompt pool over each tile, so the two differ a
    little everywhere; they must agree far beyond what the eye or a metric of restoration
    quality resolves (PSNR of one against the other)."""
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
    with TiledStream(net, tile=64, overlap=24) as stream:
        tiled = [stream(f).clamp(0, 1) for f in frames]
        assert stream.tiles == 3 * 4
    agreement = [psnr(t[0].permute(1, 2, 0).numpy(), w[0].permute(1, 2, 0).numpy())
                 for t, w in zip(tiled, whole)]
    print(agreement)
    assert min(agreement) > 40, agreement


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
