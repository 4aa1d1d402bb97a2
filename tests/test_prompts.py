"""Tests of RONIN's prompt path (ronin_lite.models.prompts, ronin_lite.models.ronin): shapes,
mask range and initialisation, injection modes, gradients of the prompt loss, external prompts,
the no-prompt twin and the configuration."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ronin_lite.models import (
    INJECT_STAGES,
    EncoderLatentCrossAttention,
    PromptGenerator,
    RoninConfig,
    RoninLite,
    SoftMaskInjection,
    count_parameters,
)

D = 384


def make(seed: int = 0, **changes) -> RoninLite:
    torch.manual_seed(seed)
    return RoninLite(RoninConfig("tiny", **changes))


def perturb(module: torch.nn.Module, seed: int = 1, scale: float = 0.2) -> torch.nn.Module:
    """Move every parameter off its initial value (zero-initialised modules come alive)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return module


def frames(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


# --- the modules -------------------------------------------------------------------------------
def test_cross_attention_shapes_and_identity_at_init():
    attn = EncoderLatentCrossAttention(8, 64, heads=8, grid=4)
    enc, lat = frames(2, 8, 40, 56), frames(2, 64, 5, 7, seed=1)
    assert torch.equal(attn(enc, lat), lat)  # zero-initialised output projection
    perturb(attn)
    out = attn(enc, lat)
    assert out.shape == lat.shape and not torch.equal(out, lat)
    with pytest.raises(ValueError, match=r"\(B, 8, H, W\)"):
        attn(frames(2, 3, 40, 56), lat)


def test_cross_attention_reads_the_encoder_features():
    attn = perturb(EncoderLatentCrossAttention(8, 64, heads=8))
    lat = frames(1, 64, 4, 4)
    a, b = attn(frames(1, 8, 32, 32), lat), attn(frames(1, 8, 32, 32, seed=5), lat)
    assert not torch.allclose(a, b)


def test_prompt_generator_shape():
    gen = PromptGenerator(64, D)
    assert gen(frames(3, 64, 5, 7)).shape == (3, D)
    with pytest.raises(ValueError, match="latent"):
        gen(frames(3, 32, 5, 7))


@pytest.mark.parametrize("mode", list(INJECT_STAGES))
def test_soft_masks_shapes_and_range(mode):
    model = make(inject=mode)
    if mode == "none":
        assert model.injection is None
        return
    channels = dict(zip(model.backbone.decoder_stage_names, model.backbone.decoder_stage_channels),
                    latent=8 * model.backbone.config.width)
    prompt = torch.randn(4, D, generator=torch.Generator().manual_seed(0))
    masks = model.injection(prompt)
    assert set(masks) == set(INJECT_STAGES[mode])
    for stage, mask in masks.items():
        assert mask.shape == (4, channels[stage], 1, 1)
        assert torch.equal(mask, torch.ones_like(mask))  # identity at initialisation
    perturb(model.injection, scale=0.1)  # logits of std ~ 2
    for mask in model.injection(prompt).values():
        assert bool(((mask > 0) & (mask < 2)).all())  # documented range (0, 2)
        assert mask.std() > 0.05


def test_paper_default_masks_the_last_two_decoder_stages():
    assert INJECT_STAGES["last2"] == ("decoder2", "decoder1")
    assert INJECT_STAGES["first"] == ("decoder3",)
    assert set(make().injection.linears) == {"decoder2", "decoder1"}


def test_soft_mask_injection_rejects_bad_input():
    inj = SoftMaskInjection(D, {"decoder1": 8})
    with pytest.raises(ValueError, match=r"\(B, 384\)"):
        inj(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="unknown stage"):
        SoftMaskInjection(D, {"decoder9": 8})


# --- RoninLite ---------------------------------------------------------------------------------
def test_fresh_ronin_computes_exactly_its_backbone():
    model = make()
    x = frames(2, 3, 40, 40)
    out = model(x)
    restored, _ = model.backbone(x)
    assert torch.equal(out.restored, restored)
    assert out.prompt.shape == (2, D)


def test_inject_none_prompt_has_no_effect_on_the_output():
    model = perturb(make(inject="none"))
    x = frames(2, 3, 32, 32)
    generated = model(x).restored
    for seed in (1, 2):
        external = torch.randn(2, D, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(model(x, prompt=external).restored, generated)
    bare = perturb(make(inject="none", cross_attention=False))
    restored, _ = bare.backbone(x)
    assert torch.equal(bare(x).restored, restored)


def test_injected_prompt_changes_the_output():
    model = perturb(make())
    x = frames(1, 3, 32, 32)
    a = model(x, prompt=torch.zeros(1, D)).restored
    b = model(x, prompt=torch.ones(1, D)).restored
    assert not torch.allclose(a, b)


def test_prompt_loss_gradient_reaches_generator_and_cross_attention():
    model = make()
    clip, target = frames(2, 2, 3, 32, 32), torch.randn(2, 2, D)
    ca = model.cross_attention

    def prompt_loss_grads() -> dict[str, torch.Tensor]:
        model.zero_grad()
        state, loss = None, 0.0
        for t in range(2):
            out = model(clip[:, t], state)
            state = out.state
            loss = loss + F.l1_loss(out.prompt, target[:, t])
        loss.backward()
        return {name: p.grad for name, p in model.named_parameters()}

    grads = prompt_loss_grads()
    for name in ("generator.fc1.weight", "generator.fc2.weight", "cross_attention.project.weight"):
        assert grads[name] is not None and grads[name].abs().sum() > 0, name
    # the zero-initialised output projection blocks q, k, v at step 0; once it moves they learn
    with torch.no_grad():
        ca.project.weight.normal_(0, 0.1)
    grads = prompt_loss_grads()
    for name in ("to_q.weight", "to_kv.weight"):
        assert grads[f"cross_attention.{name}"].abs().sum() > 0, name
    # the backbone's encoder learns from the prompt loss too
    assert grads["backbone.embed.weight"].abs().sum() > 0


def test_every_gradient_of_a_clip_loss_is_finite():
    # small frames put most alignment patches at the border, where off-grid neighbours score -inf
    model = perturb(make(inject="all"), scale=0.05)
    clip = frames(2, 3, 3, 32, 32)
    restored, prompts = model.restore_clip(clip)
    ((restored - clip).abs().mean() + prompts.abs().mean()).backward()
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p.grad).all()]
    assert bad == []


def test_external_prompt_replaces_the_generated_one():
    model = perturb(make())
    x = frames(2, 3, 32, 32)
    generated = model(x)
    same = model(x, prompt=generated.prompt.detach())
    assert torch.equal(same.restored, generated.restored)
    external = torch.randn(1, D, generator=torch.Generator().manual_seed(3))
    out = model(x, prompt=external)
    assert torch.equal(out.prompt, external.expand(2, D))
    assert not torch.allclose(out.restored, generated.restored)
    with pytest.raises(ValueError, match=r"\(2 or 1, 384\)"):
        model(x, prompt=torch.zeros(2, 10))
    with pytest.raises(ValueError, match="prompt"):
        model(x, prompt=torch.zeros(2, D, dtype=torch.long))


def test_no_prompt_twin_returns_none_and_is_smaller():
    config = RoninConfig("tiny")
    twin = RoninLite(config.without_prompt())
    full = RoninLite(config)
    assert twin.generator is None and twin.injection is None
    assert count_parameters(twin) < count_parameters(full)
    assert {n for n, _ in twin.named_parameters()} < {n for n, _ in full.named_parameters()}
    x = frames(1, 3, 32, 32)
    assert twin(x).prompt is None
    restored, prompts = twin.restore_clip(frames(2, 3, 32, 32))
    assert restored.shape == (2, 3, 32, 32) and prompts is None
    with pytest.raises(ValueError, match="no prompt path"):
        twin(x, prompt=torch.zeros(1, D))


def test_restore_clip_streams_and_returns_prompts():
    model = perturb(make())
    clip = frames(3, 3, 24, 40)
    restored, prompts = model.restore_clip(clip)
    assert restored.shape == clip.shape and prompts.shape == (3, D)
    state = None
    for t in range(3):
        out = model(clip[t:t + 1], state)
        state = out.state
        assert torch.allclose(out.restored[0], restored[t], atol=1e-6)
        assert torch.allclose(out.prompt[0], prompts[t], atol=1e-6)
    batched, batched_prompts = model.restore_clip(clip[None].expand(2, -1, -1, -1, -1))
    assert batched.shape == (2, 3, 3, 24, 40) and batched_prompts.shape == (2, 3, D)
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        model.restore_clip(clip[0, 0])


def test_prompt_space_maps_back_to_embeddings():
    model = make()
    mean, std = torch.randn(D), torch.rand(D) + 0.5
    model.set_target_stats(mean, std)
    e = torch.randn(4, D)
    assert torch.allclose(model.embedding_from_prompt(model.prompt_from_embedding(e)), e, atol=1e-5)
    with pytest.raises(ValueError, match="> 0"):
        model.set_target_stats(mean, torch.zeros(D))
    with pytest.raises(ValueError, match=r"\(384,\)"):
        model.set_target_stats(torch.zeros(3), std)


def test_config_round_trip_and_validation():
    config = RoninConfig("small", inject="all", cross_attention=False)
    assert RoninConfig.from_dict(config.to_dict()) == config
    assert RoninConfig(config.backbone) == RoninConfig("small")
    with pytest.raises(ValueError, match="inject"):
        RoninConfig(inject="middle")
    with pytest.raises(ValueError, match="without_prompt"):
        RoninConfig(prompt=False)
    with pytest.raises(ValueError, match="unknown RoninConfig field"):
        RoninConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_from_profile_uses_the_profile_backbone():
    model = RoninLite.from_profile("tiny", inject="first")
    assert model.config.backbone == RoninConfig("tiny").backbone
    assert set(model.injection.linears) == {"decoder3"}


def test_bf16_autocast_on_the_cpu_trains_and_streams_with_a_bf16_history():
    """A CPU autocast smoke test of the paths a GPU takes: a training step (forward over a clip,
    backward, finite gradients) and streaming inference, with the history kept in bf16 (half
    the memory of an fp32 one) and LayerNorm statistics in fp32."""
    torch.manual_seed(0)
    net = RoninLite(RoninConfig("tiny"))
    clip = torch.rand(2, 3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", torch.bfloat16):
        state, loss = None, 0.0
        for t in range(3):
            out = net(clip[:, t], state)
            state = out.state
            loss = loss + (out.restored.float() - clip[:, t]).abs().mean()
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    dtypes = {x.dtype for cache in state.caches.values() for x in cache.values()}
    assert dtypes == {torch.bfloat16}
    with torch.no_grad():
        fp32_state = None
        for t in range(3):
            fp32_state = net(clip[:, t], fp32_state).state
        with torch.autocast("cpu", torch.bfloat16):
            bf16_state, outs = None, []
            for t in range(3):
                out = net(clip[:, t], bf16_state)
                bf16_state = out.state
                outs.append(out.restored.float())
        reference = net(clip[:, 2], net(clip[:, 1], net(clip[:, 0]).state).state).restored
    size = lambda s: sum(x.numel() * x.element_size() for c in s.caches.values()  # noqa: E731
                         for x in c.values())
    assert size(bf16_state) * 2 == size(fp32_state)
    assert (outs[-1] - reference).abs().mean() < 0.02


# --- FiLM and the latent stage (the grounding study's variants) -----------------------------
@pytest.mark.parametrize("inject", ["last2", "all", "all+latent"])
def test_fresh_film_network_computes_exactly_its_backbone(inject):
    model = make(condition="film", inject=inject)
    x = frames(2, 3, 40, 40)
    restored, _ = model.backbone(x)
    assert torch.equal(model(x).restored, restored)  # scale 1, shift 0 at initialisation


def test_film_scales_and_shifts_each_stage_and_reads_the_prompt():
    model = make(condition="film", inject="all+latent")
    prompt = torch.randn(3, D, generator=torch.Generator().manual_seed(0))
    channels = dict(zip(model.backbone.decoder_stage_names, model.backbone.decoder_stage_channels),
                    latent=8 * model.backbone.config.width)
    film = model.injection(prompt)
    assert set(film) == {"latent", "decoder3", "decoder2", "decoder1"}
    for stage, (scale, shift) in film.items():
        assert scale.shape == shift.shape == (3, channels[stage], 1, 1)
        assert torch.equal(scale, torch.ones_like(scale)) and not shift.any()
    perturb(model.injection, scale=0.1)
    x = frames(1, 3, 32, 32).expand(2, 3, 32, 32)
    p = torch.randn(2, D, generator=torch.Generator().manual_seed(1))
    out = model(x, prompt=p).restored
    assert not torch.allclose(out[0], out[1], atol=1e-4)  # same frame, other prompt
    # the shift is what a gain cannot do: an offset on features that are zero
    zero = torch.zeros(1, 4, 2, 2)
    from ronin_lite.models.unet import modulate
    assert modulate(zero, (torch.ones(1, 4, 1, 1), torch.full((1, 4, 1, 1), 0.5))).eq(0.5).all()
    assert modulate(zero, torch.full((1, 4, 1, 1), 2.0)).eq(0).all()


def test_condition_is_validated_and_round_trips_through_the_config():
    with pytest.raises(ValueError, match="unknown condition"):
        RoninConfig("tiny", condition="gate")
    cfg = RoninConfig("tiny", condition="film", inject="all+latent")
    assert RoninConfig.from_dict(cfg.to_dict()) == cfg
    old = cfg.to_dict()
    del old["condition"]  # a config written before FiLM existed loads as the paper's masks
    assert RoninConfig.from_dict(old).condition == "mask"


def test_the_papers_plain_sigmoid_masks_start_near_one_half_not_at_the_identity():
    model = make(condition="sigmoid", inject="last2")
    prompt = torch.randn(2, D, generator=torch.Generator().manual_seed(0))
    masks = model.injection(prompt)
    assert set(masks) == {"decoder2", "decoder1"}
    for mask in masks.values():
        assert mask.shape[0] == 2 and mask.shape[2:] == (1, 1)
        assert 0 < mask.min() and mask.max() < 1  # a gain in (0, 1): it can only damp
        assert (mask.mean() - 0.5).abs() < 0.1  # default init: near sigmoid(0), not 1
    x = frames(1, 3, 32, 32)
    restored, _ = model.backbone(x)
    assert not torch.allclose(model(x).restored, restored)  # a fresh model is not its backbone


# --- the prompt into the history router (HistoryGate, a grounding-study variant) -------------
def _filled_cache(block, x: torch.Tensor, frames_: int = 2):
    """A router's cache after ``frames_`` random earlier frames shaped like ``x``."""
    from ronin_lite.models.history import push_frame

    cache = block.empty_cache(x.shape[0], *x.shape[-2:])
    for seed in range(frames_):
        _, entry = block(torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 5)),
                         cache)
        cache = push_frame(cache, entry, tau=3)
    return cache


@pytest.mark.parametrize("kind", ["router", "chm"])
def test_a_history_gate_scales_the_weight_of_the_cached_frames(kind):
    from ronin_lite.models.history import CausalHistoryModel, FrameHistoryRouter

    torch.manual_seed(0)
    block = FrameHistoryRouter(16, 2) if kind == "router" else CausalHistoryModel(16, 2, 2, 1, 3)
    perturb(block, scale=0.1)
    x = frames(2, 16, 8, 8)
    cache = _filled_cache(block, x)
    plain, _ = block(x, cache)
    # gate 0 is the plain router, and a gate does nothing without a history
    assert torch.equal(block(x, cache, torch.zeros(2, 16))[0], plain)
    empty = block.empty_cache(2, 8, 8)
    assert torch.equal(block(x, empty, torch.full((2, 16), 3.0))[0], block(x, empty)[0])
    # a very negative gate shuts the history out: the router sees the current frame only
    shut, _ = block(x, cache, torch.full((2, 16), -1e4))
    torch.testing.assert_close(shut, block(x, empty)[0], atol=1e-5, rtol=1e-5)
    # a positive gate leans on the history: another output
    assert not torch.allclose(block(x, cache, torch.full((2, 16), 2.0))[0], plain)


def test_the_gate_multiplies_the_history_attention_by_exp_g():
    from ronin_lite.models.history import FrameHistoryRouter

    torch.manual_seed(0)
    router = FrameHistoryRouter(8, 1)
    q, k, v = (F.normalize(torch.randn(1, 1, 8, 12), dim=-1) for _ in range(3))
    past_k = F.normalize(torch.randn(1, 1, 1, 8, 12), dim=-1)
    past_v = torch.randn(1, 1, 1, 8, 12)
    g = torch.randn(1, 8)  # one gate per query channel
    keys = torch.cat([past_k[:, 0], k], dim=2)  # (1, 1, 16, 12)
    logits = (q @ keys.transpose(-2, -1))[0, 0]  # (8, 16), temperature 1
    plain = logits.softmax(-1)
    expected = torch.cat([plain[:, :8] * g[0, :, None].exp(), plain[:, 8:]], dim=1)
    expected = expected / expected.sum(-1, keepdim=True)
    values = torch.cat([past_v[:, 0], v], dim=2)  # (1, 1, 16, 12)
    out = router.route(q, k, v, past_k, past_v, gate=g)
    torch.testing.assert_close(out[0, 0], expected @ values[0, 0], atol=1e-6, rtol=1e-5)


def test_fresh_history_gated_ronin_computes_exactly_its_backbone_and_learns_the_gate():
    model = make(inject="none", history_gate=True)
    assert set(model.history_gate(torch.zeros(1, D))) == set(
        model.backbone.decoder_history_channels) == {"decoder3.0"}
    clip = frames(2, 3, 3, 32, 32)
    restored, _ = model.restore_clip(clip)
    assert torch.equal(restored, model.backbone.restore_clip(clip))  # g = 0 at initialisation
    # the gate is trained by the restoration loss, through the history of frames 2 and 3
    restored.sub(clip).abs().mean().backward()
    for linear in model.history_gate.linears.values():
        assert linear.weight.grad.abs().sum() > 0 and linear.bias.grad.abs().sum() > 0
    # and reads the prompt: another prompt, another restoration once there is a history
    perturb(model.history_gate, scale=0.5)
    state = model(clip[:, 0]).state
    a = model(clip[:, 1], state, prompt=torch.zeros(2, D)).restored
    b = model(clip[:, 1], state, prompt=torch.ones(2, D)).restored
    assert not torch.allclose(a, b)


def test_history_gate_is_validated_and_round_trips_through_the_configs():
    from ronin_lite.models.prompts import HistoryGate
    from ronin_lite.train import TrainConfig

    with pytest.raises(ValueError, match="history_gate=True makes"):
        RoninConfig("tiny", prompt=False, inject="none", history_gate=True)
    with pytest.raises(ValueError, match="at least one decoder history block"):
        HistoryGate(D, {})
    cfg = RoninConfig("tiny", inject="none", history_gate=True)
    assert RoninConfig.from_dict(cfg.to_dict()) == cfg
    old = cfg.to_dict()
    del old["history_gate"]  # written before the gate existed: no gate
    assert RoninConfig.from_dict(old).history_gate is False
    model = make(inject="none", history_gate=True)
    with pytest.raises(ValueError, match="prompt must be shaped"):
        model.history_gate(torch.zeros(2, 7))
    encoded = model.backbone.encode(frames(1, 3, 32, 32))
    with pytest.raises(ValueError, match="unknown decoder history block"):
        model.backbone.decode(encoded, gates={"decoder1.0": torch.zeros(1, 8)})
    with pytest.raises(ValueError, match="must be shaped"):
        model.backbone.decode(encoded, gates={"decoder3.0": torch.zeros(1, 7)})
    # a training run may send the prompt into the router alone, also the oracle's prompt
    run = TrainConfig(profile="tiny", inject="none", history_gate=True, lambda_prompt=0.0,
                      prompt_source="describer", describer="oracle")
    assert run.model_config().history_gate and run.identity()["history_gate"] is True
    with pytest.raises(ValueError, match="learns nothing"):
        TrainConfig(profile="tiny", inject="none", lambda_prompt=0.0)
