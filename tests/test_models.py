"""Tests of the Turtle-style streaming U-Net (ronin_lite.models): shapes, causality, state,
gradients, determinism, input checks and the extension points of RONIN's prompt path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ronin_lite.models import (
    BackboneConfig,
    ChannelAttention,
    Downsample,
    FrameHistoryRouter,
    StateAlignment,
    StreamingUNet,
    Upsample,
    backbone_config,
    count_parameters,
    macs_per_frame,
)

# tiny, with state alignment at every decoder level so that every code path runs
CONFIG = BackboneConfig.tiny().replace(aligned_stages=("decoder3", "decoder2", "decoder1"))


def make_model(config: BackboneConfig = CONFIG, seed: int = 0) -> StreamingUNet:
    torch.manual_seed(seed)
    return StreamingUNet(config)


def clip(t: int = 3, h: int = 17, w: int = 23, batch: int | None = None, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    shape = (t, 3, h, w) if batch is None else (batch, t, 3, h, w)
    return torch.rand(shape, generator=gen)


@pytest.fixture(scope="module")
def model() -> StreamingUNet:
    return make_model()


@pytest.mark.parametrize("size", [(17, 23), (32, 32), (8, 40), (1, 1)])
def test_output_shape_equals_input_shape_for_odd_and_even_sizes(model, size):
    frames = clip(2, *size, batch=2)
    with torch.no_grad():
        out = model.restore_clip(frames)
    assert out.shape == frames.shape
    assert torch.isfinite(out).all()


def test_future_frames_never_change_earlier_outputs(model):
    frames = clip(5)
    changed = frames.clone()
    changed[3:] = torch.rand_like(changed[3:])
    with torch.no_grad():
        a, b = model.restore_clip(frames), model.restore_clip(changed)
    assert torch.equal(a[:3], b[:3])
    assert not torch.allclose(a[3:], b[3:])


@pytest.mark.parametrize("tau", [1, 3])
def test_state_holds_at_most_tau_frames_however_long_the_clip(tau):
    model, state = make_model(CONFIG.replace(tau=tau)), None
    with torch.no_grad():
        for t, frame in enumerate(clip(8, 16, 16)):
            _, state = model(frame[None], state)
            assert state.cached_frames == min(t + 1, tau)
            assert state.frames_seen == t + 1
            if t == tau - 1:
                full = state.nbytes
            elif t >= tau:
                assert state.nbytes == full > 0  # flat once tau frames are held
            for x in (x for cache in state.caches.values() for x in cache.values()):
                frame_bytes = x[:, :1].numel() * x.element_size()
                assert x.untyped_storage().nbytes() <= tau * frame_bytes  # nothing older kept


def test_restore_clip_equals_forward_frame_by_frame(model):
    frames = clip(4, batch=2)
    with torch.no_grad():
        whole = model.restore_clip(frames)
        state, by_hand = None, []
        for t in range(frames.shape[1]):
            out, state = model(frames[:, t], state)
            by_hand.append(out)
        single = model.restore_clip(frames[1])  # (T, 3, H, W) layout
    assert torch.equal(whole, torch.stack(by_hand, dim=1))
    assert torch.allclose(single, whole[1], atol=1e-6)


def test_every_parameter_gets_a_gradient_from_a_clip_loss():
    model = make_model()
    with torch.no_grad():  # zero-initialised scales would block the gradient of their branch
        for name, p in model.named_parameters():
            if name.endswith(".scale"):
                p.fill_(0.5)
    frames = clip(3, 16, 16)
    loss = (model.restore_clip(frames) - frames).abs().mean()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_same_seed_gives_the_same_output():
    frames = clip(3)
    with torch.no_grad():
        a = make_model(seed=3).restore_clip(frames)
        b = make_model(seed=3).restore_clip(frames)
        c = make_model(seed=4).restore_clip(frames)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize(
    "frame, error, words",
    [
        (np.zeros((480, 640, 3), np.uint8), TypeError, "to_torch_clip"),
        (torch.zeros(480, 640, 3), ValueError, "(B, 3, H, W)"),
        (torch.zeros(1, 4, 16, 16), ValueError, "(B, 3, H, W)"),
        (torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError, "float"),
        (torch.zeros(1, 3, 16, 16, dtype=torch.float64), TypeError, "frame.to("),
        (torch.full((1, 3, 16, 16), float("nan")), ValueError, "NaN"),
        (torch.full((1, 3, 16, 16), 255.0), ValueError, "divide 8-bit data by 255"),
    ],
)
def test_bad_frames_raise_errors_that_say_what_to_do(model, frame, error, words):
    with pytest.raises(error) as info:
        model(frame)
    assert words in str(info.value)


def test_bad_clips_raise_errors_that_say_what_to_do(model):
    with pytest.raises(ValueError, match="to_torch_clip"):
        model.restore_clip(torch.zeros(3, 16, 16))


def test_a_state_from_another_config_or_resolution_is_refused(model):
    frame = clip(1, 16, 16)
    with torch.no_grad():
        _, state = model(frame)
        _, other = make_model(CONFIG.replace(tau=2))(frame)
    with pytest.raises(ValueError, match="another configuration.*init_state"):
        model(frame, other)
    with pytest.raises(ValueError, match=r"\(B, H, W\).*state=None"):
        model(clip(1, 16, 24), state)
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        model(clip(1, 16, 16, batch=2)[:, 0], state)
    with pytest.raises(TypeError, match="StreamState"):
        model(frame, {"latent.0": None})


def test_init_state_is_the_same_as_starting_without_a_state(model):
    frames = clip(2)
    with torch.no_grad():
        a, _ = model(frames[:1])
        b, state = model(frames[:1], model.init_state(1, 17, 23))
    assert torch.equal(a, b)
    assert state.cached_frames == 1


def test_all_ones_masks_leave_the_output_unchanged(model):
    frames = clip(2, batch=2)
    ones = {
        name: torch.ones(2, c, 1, 1)
        for name, c in zip(model.decoder_stage_names, model.decoder_stage_channels)
    }
    with torch.no_grad():
        plain, state = model(frames[:, 0])
        masked, masked_state = model(frames[:, 0], masks=ones)
        plain2, _ = model(frames[:, 1], state, masks=ones)
        masked2, _ = model(frames[:, 1], masked_state)
    assert torch.equal(plain, masked)
    assert torch.equal(plain2, masked2)


@pytest.mark.parametrize("stage", ["decoder3", "decoder2", "decoder1"])
def test_a_mask_on_one_decoder_stage_changes_the_output(model, stage):
    frame = clip(1)
    channels = model.decoder_stage_channels[model.decoder_stage_names.index(stage)]
    with torch.no_grad():
        plain, _ = model(frame)
        masked, _ = model(frame, masks={stage: torch.full((1, channels, 1, 1), 0.5)})
    assert not torch.allclose(plain, masked)


def test_bad_masks_are_refused(model):
    frame = clip(1)
    with pytest.raises(ValueError, match="unknown decoder stage"):
        model(frame, masks={"decoder9": torch.ones(1, 8, 1, 1)})
    with pytest.raises(ValueError, match="must be shaped"):
        model(frame, masks={"decoder1": torch.ones(1, 3, 1, 1)})


def test_decoder_stage_channels_match_the_levels(model):
    c = CONFIG.width
    assert model.decoder_stage_names == ("decoder3", "decoder2", "decoder1")
    assert model.decoder_stage_channels == (4 * c, 2 * c, c)


def test_encode_then_decode_equals_forward_and_the_latent_can_be_replaced(model):
    frames = clip(2)
    with torch.no_grad():
        out, state = model(frames[:1])
        encoded = model.encode(frames[1:], state)
        assert encoded.skips[0].shape == (1, CONFIG.width, 32, 32)  # encoder stage 1, padded
        assert encoded.latent.shape == (1, 8 * CONFIG.width, 4, 4)
        direct, _ = model(frames[1:], state)
        decoded, _ = model.decode(encoded)
        same, _ = model.decode(encoded.with_latent(encoded.latent + 0.0))
        moved, _ = model.decode(encoded.with_latent(encoded.latent + 1.0))
    assert torch.equal(direct, decoded)
    assert torch.equal(direct, same)
    assert not torch.allclose(direct, moved)
    with pytest.raises(ValueError, match="keep the shape"):
        encoded.with_latent(encoded.latent[:, :8])


def test_without_history_previous_frames_are_ignored():
    single = make_model(CONFIG.replace(history=False))
    streaming = make_model(CONFIG)
    frames = clip(3)
    with torch.no_grad():
        alone, state = single(frames[2:])
        in_clip = single.restore_clip(frames)[2:]
        with_history = streaming.restore_clip(frames)[2:]
        without_history, _ = streaming(frames[2:])
    assert state.caches == {} and state.cached_frames == 0
    assert torch.equal(alone, in_clip)
    assert not torch.allclose(with_history, without_history)


def test_frame_history_router_with_an_empty_history_is_channel_attention():
    torch.manual_seed(0)
    plain = ChannelAttention(8, 2)
    router = FrameHistoryRouter(8, 2)
    router.load_state_dict(plain.state_dict())
    x = torch.randn(2, 8, 6, 10)
    out, entry = router(x, router.empty_cache(2, 6, 10))
    assert torch.allclose(out, plain(x), atol=1e-6)
    assert entry["key"].shape == entry["value"].shape == (2, 1, 2, 4, 60)  # (B, 1, h, d, HW)


def test_state_alignment_undoes_a_shift_of_whole_patches():
    torch.manual_seed(0)
    align = StateAlignment(8, 1, window=2, search_radius=2, topk=5)
    with torch.no_grad():
        align.temperature.fill_(100.0)  # sharp: the exact match takes all the weight
        for conv in (align.to_qk, align.qk_spatial):  # same projection for queries and keys
            conv.weight[8:] = conv.weight[:8]
    frame, content = torch.randn(1, 8, 16, 20), torch.randn(1, 8, 16, 20)

    def moved(x):  # the cached frame: everything 1 patch lower and 2 patches further right
        return torch.roll(x, shifts=(2, 4), dims=(-2, -1))

    def tokens(x):  # (1, 8, H, W) -> one head of 2x2 patch tokens (1, 1, 1, 32, H/2, W/2)
        return F.pixel_unshuffle(x, 2)[:, None, None]

    with torch.no_grad():
        query, _ = align.project(frame)
        _, cached_key = align.project(moved(frame))
        (aligned,) = align(query, cached_key[:, None], [tokens(moved(content))])
    # away from the borders (zero padding, wrap-around), each patch finds where it moved to
    assert torch.allclose(aligned[..., 1:6, 1:7], tokens(content)[..., 1:6, 1:7], atol=1e-5)


@pytest.mark.parametrize("grid", [(1, 2), (3, 4)])
def test_state_alignment_equals_a_plain_loop_over_patches_and_neighbours(grid):
    """Each patch's aligned state is the softmax-weighted sum of its ``k`` best neighbours on
    the grid (cosine times temperature), computed here patch by patch. On a 1 x 2 grid fewer
    than ``k`` neighbours exist: the kept off-grid ones weigh nothing. Inference (one gather
    per state) and training (one gather over the states' concatenation) agree with the loop."""
    torch.manual_seed(0)
    hp, wp = grid
    align = StateAlignment(8, 2, window=2, search_radius=1, topk=5)
    with torch.no_grad():
        align.temperature.copy_(torch.tensor([3.0, 0.5]))
    query = F.normalize(torch.randn(1, 2, 16, hp, wp), dim=2)  # (B, h, D, Hp, Wp)
    keys = F.normalize(torch.randn(1, 2, 2, 16, hp, wp), dim=3)  # n = 2 cached frames
    states = [torch.randn(1, 2, 2, 16, hp, wp), torch.randn(1, 2, 2, 8, hp, wp)]
    expected = [torch.zeros_like(s) for s in states]
    for f in range(2):
        for head in range(2):
            for y in range(hp):
                for x in range(wp):
                    near = [(yy, xx) for yy in range(y - 1, y + 2) for xx in range(x - 1, x + 2)
                            if 0 <= yy < hp and 0 <= xx < wp]
                    score = torch.stack([query[0, head, :, y, x] @ keys[0, f, head, :, yy, xx]
                                         for yy, xx in near]) * align.temperature[head]
                    best, which = score.detach().topk(min(5, len(near)))
                    for w, i in zip(best.softmax(0), which):
                        yy, xx = near[i]
                        for e, s in zip(expected, states):
                            e[0, f, head, :, y, x] += w * s[0, f, head, :, yy, xx]
    with torch.no_grad():
        fast = align(query, keys, states)
    trained = align(query, keys, [s.requires_grad_() for s in states])
    for a, b, e in zip(fast, trained, expected):
        torch.testing.assert_close(a, e.detach(), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(b.detach(), a, atol=0, rtol=0)


def test_blocks_change_shapes_as_documented():
    x = torch.randn(2, 8, 12, 16)
    assert Downsample(8)(x).shape == (2, 16, 6, 8)
    assert Upsample(8)(x).shape == (2, 4, 24, 32)


def test_named_configs_and_validation():
    assert backbone_config("tiny") == BackboneConfig.tiny()
    assert backbone_config("full").encoder_blocks == (2, 6, 10)
    with pytest.raises(ValueError, match="tiny"):
        backbone_config("huge")
    with pytest.raises(ValueError, match="divisible"):
        BackboneConfig(width=6, heads=(4, 2, 4, 8))
    with pytest.raises(ValueError, match="aligned_stages"):
        BackboneConfig(aligned_stages=("encoder1",))


def hand_counted_macs(model: StreamingUNet, size: int, warmup: int = 3) -> int:
    """MACs of the last of ``warmup + 1`` frames counted by hand, independently of torch's
    FLOP counter: every convolution ``out pixels x C_out x C_in / groups x k x k`` and every
    linear layer ``out x in`` (forward hooks), and the two products of each channel attention
    (``q k^T`` and ``A v``: ``heads x d x m x HW`` each, with ``m`` key channels per head,
    ``(n + 1) d`` when the history router puts ``n`` cached frames beside the current one)."""
    from ronin_lite.models.blocks import ChannelAttention

    count = {"on": False, "macs": 0}

    def conv(mod, inp, out):
        if count["on"]:
            count["macs"] += out[0].numel() * mod.in_channels // mod.groups * (
                mod.kernel_size[0] * mod.kernel_size[1])

    def linear(mod, inp, out):
        if count["on"]:
            count["macs"] += out.numel() * mod.in_features

    hooks = [mod.register_forward_hook(conv if isinstance(mod, torch.nn.Conv2d) else linear)
             for mod in model.modules() if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
    original = ChannelAttention.attend

    def attend(self, q, k, v, **kwargs):
        if count["on"]:
            _, heads, d, pixels = q.shape
            count["macs"] += 2 * heads * d * k.shape[2] * pixels
        return original(self, q, k, v, **kwargs)

    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(warmup + 1, 1, 3, size, size, generator=gen)
    ChannelAttention.attend = attend
    try:
        # the training (NCHW) layout, where every convolution runs as its module (the NHWC
        # inference path calls some as functions, which module hooks do not see); the counter
        # in macs_per_frame counts the inference path: equal counts, equal work in both
        with torch.enable_grad():
            state = None
            for frame in frames[:-1]:
                _, state = model(frame, state)
            count["on"] = True
            model(frames[-1], state)
    finally:
        ChannelAttention.attend = original
        for h in hooks:
            h.remove()
    return count["macs"]


def test_macs_per_frame_equals_a_hand_count_and_parameters_are_counted():
    """``macs_per_frame`` (torch's FLOP counter) equals the hand count exactly, with and
    without the history: it counts every convolution, linear layer and attention product,
    once, and nothing else."""
    with_history = macs_per_frame(make_model(), size=32)
    without = macs_per_frame(make_model(CONFIG.replace(history=False)), size=32)
    assert with_history == hand_counted_macs(make_model(), size=32)
    assert without == hand_counted_macs(make_model(CONFIG.replace(history=False)), size=32)
    assert with_history > without > 0
    assert count_parameters(make_model()) > count_parameters(
        make_model(CONFIG.replace(history=False))
    )


def test_layernorm_statistics_are_fp32_for_bf16_features():
    """Features of magnitude 100 varying by 0.1: statistics taken in bf16 (a step of 0.5 at
    100) would return noise; in fp32 the bf16 output matches the fp32 one to bf16 precision."""
    from ronin_lite.models.blocks import LayerNorm2d

    ln = LayerNorm2d(16)
    x = (100 + 0.1 * torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(0)))
    xb = x.bfloat16()
    out = ln(xb)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ln(xb.float()), atol=0.05, rtol=0.02)


def test_frame_values_are_checked_once_per_stream_not_per_frame(model, monkeypatch):
    """NaN / range checks read the frame back to the host (a sync per frame on a GPU): they
    run where a stream starts, and frames carried with a state only get the cheap checks."""
    calls = []
    isfinite = torch.isfinite
    monkeypatch.setattr(torch, "isfinite", lambda x: calls.append(1) or isfinite(x))
    frames = clip(5, 16, 16)
    with torch.no_grad():
        model.restore_clip(frames)
    assert len(calls) == 1


def test_channels_last_inference_equals_the_nchw_computation():
    """Without gradients the network runs NHWC (channels_last) with the fused norm; with
    gradients it runs NCHW as before. A trained network, streamed over frames with a growing
    history, gives the same restorations both ways to float rounding."""
    from ronin_lite.checkpoints import load_pretrained

    from ronin_lite.models.blocks import LayerNorm2d

    net = load_pretrained("small-3d-lite").eval()
    frames = torch.rand(4, 1, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    layouts = []  # the memory layout every norm of the network sees
    for module in net.modules():
        if isinstance(module, LayerNorm2d):
            module.register_forward_pre_hook(lambda _, args: layouts.append(
                "nhwc" if not args[0].is_contiguous() else "nchw"))
    with torch.no_grad():
        fast, state = [], None
        for frame in frames:
            out = net(frame, state)
            fast.append(out.restored)
            state = out.state
    assert set(layouts) == {"nhwc"}
    layouts.clear()
    with torch.enable_grad():  # the training layout
        slow, state = [], None
        for frame in frames:
            out = net(frame, state)
            slow.append(out.restored.detach())
            state = out.state
    assert set(layouts) == {"nchw"}
    for a, b in zip(fast, slow):
        assert (a - b).abs().max() < 1e-5


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_layernorm_fused_nhwc_path_equals_the_nchw_formula(dtype):
    from ronin_lite.models.blocks import LayerNorm2d

    gen = torch.Generator().manual_seed(0)
    norm = LayerNorm2d(24)
    with torch.no_grad():
        norm.weight.normal_(generator=gen)
        norm.bias.normal_(generator=gen)
    x = (torch.randn(2, 24, 5, 7, generator=gen) * 3 + 1).to(dtype)
    nchw = norm(x)
    nhwc = norm(x.contiguous(memory_format=torch.channels_last))
    assert nhwc.is_contiguous(memory_format=torch.channels_last) and nhwc.dtype == dtype
    # bf16: the two paths may round the output to neighbouring values, one unit in the last
    # place apart (2^-7 relative), wherever the output's magnitude is
    atol, rtol = (1e-5, 0) if dtype == torch.float32 else (1e-2, 2**-7)
    torch.testing.assert_close(nhwc.float(), nchw.float(), atol=atol, rtol=rtol)
    # fp32 statistics on the fused path too: magnitude 100, variation 0.1 (see the test above)
    big = (100 + 0.1 * torch.randn(2, 24, 4, 4, generator=torch.Generator().manual_seed(0)))
    out = norm(big.to(dtype).contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out.float(), norm(big.to(dtype).float()), atol=0.05 * 3, rtol=0.02)


def _nhwc(x):
    return x.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("heads", [1, 4])
def test_nhwc_fast_paths_of_the_blocks_equal_their_nchw_computation(heads):
    """The inference layout's fast paths (GDFN as two half-width branches, attention norms by
    square-and-sum, the attention output made token-first) compute the same numbers as the
    training layout's code, block by block, and keep the map NHWC for the next layer."""
    from ronin_lite.models.blocks import ChannelAttention, GatedFFN, is_nhwc
    from ronin_lite.models.history import FrameHistoryRouter

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 12, 20, generator=gen)
    blocks = [GatedFFN(16, 2.5), ChannelAttention(16, heads)]
    for block in blocks:
        with torch.no_grad():
            for p in block.parameters():
                p.normal_(0, 0.3, generator=gen)
        with torch.no_grad():
            slow, fast = block(x), block(_nhwc(x))
        assert is_nhwc(fast) and not is_nhwc(slow)
        torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    router = FrameHistoryRouter(16, heads)
    cache = router.empty_cache(2, 12, 20)
    with torch.no_grad():
        for p in router.parameters():
            p.normal_(0, 0.3, generator=gen)
        for frame in (x, x.flip(-1), x.roll(3, -2)):  # a history of 0, 1, 2 frames
            slow, entry_slow = router(frame, cache)
            fast, entry_fast = router(_nhwc(frame), cache)
            assert is_nhwc(fast)
            torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
            for name in entry_slow:
                torch.testing.assert_close(entry_fast[name], entry_slow[name], atol=1e-6,
                                           rtol=1e-5)
            cache = {k: torch.cat([cache[k], entry_slow[k]], dim=1) for k in cache}


def test_keep_freed_memory_is_applied_once_and_says_so():
    import sys

    from ronin_lite import runtime

    first = runtime.keep_freed_memory()
    assert runtime.keep_freed_memory() is first  # idempotent
    if sys.platform.startswith("linux"):
        import platform

        if platform.libc_ver()[0] == "glibc":
            assert first is True
