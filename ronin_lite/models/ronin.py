"""RoninLite: the streaming backbone with RONIN's degradation-aware prompt path.

RONIN (arXiv 2507.14851) restores frame ``t`` with a Turtle U-Net whose decoder is modulated by
a prompt ``P_t`` that the network generates itself::

    encode(frame_t, state_t) -> skips, latent                  (backbone encoder + latent)
    latent <- latent + CrossAttn(q = latent, kv = encoder1)     (degradation cues to the latent)
    P_t     = FC(GELU(FC(GAP(latent))))                         (prompt generator)
    masks   = {s: 2 sigmoid(W_s P_t + b_s)}                     (soft masks, last two decoders)
    restored_t, state_{t+1} = decode(latent, skips, masks)

During training ``P_t`` is pulled towards the embedding of a text description of the degraded
frame (``L1``; the paper weighs it 0.01, we use 1: see :mod:`ronin_lite.train`); at inference
nothing but the frames is needed: no describer, no text encoder. The modules are in :mod:`.prompts`, their departures
from the paper documented there.

**The prompt's space.** The network predicts a *normalised* embedding ``(e - mean) / std``, with
the mean and standard deviation of the training targets kept as buffers (``target_mean``,
``target_std``; 0 and 1 until training sets them, saved with the weights). The paper regresses
the raw embedding; we centre it by default because sentence embeddings of quality descriptions
are alike (their mean has norm 0.82 for unit-norm targets), and the shared part carries no
information about the frame (measurements in :mod:`ronin_lite.train`).
:meth:`RoninLite.prompt_from_embedding` and :meth:`RoninLite.embedding_from_prompt` map
between the two spaces, e.g. to feed an oracle text embedding as an external prompt.

**Variants for fair comparisons.** ``RoninConfig(prompt=False, inject="none")`` (or
``config.without_prompt()``) is the same network without generator and masks (the "no prompt"
row of the paper's ablation); it keeps the cross-attention unless ``cross_attention=False``
too, in which case it is the bare backbone. ``inject="none"`` keeps the generator (trained by
the prompt loss) but never lets the prompt touch the restoration. ``condition="film"`` and
``inject="all+latent"`` are the grounding study's departures from the paper (a scale and shift
per channel, on the latent too: :mod:`.prompts`, :mod:`ronin_lite.study`), and so is
``history_gate=True`` (the prompt into the decoder's history routers: :class:`.prompts.HistoryGate`;
with ``inject="none"`` it is the prompt's only way into the restoration); an external
``prompt`` to :meth:`RoninLite.forward` is how the study's non-blind network is given the
description's embedding.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from .prompts import (
    CONDITIONS,
    INJECT_STAGES,
    EncoderLatentCrossAttention,
    FiLMInjection,
    HistoryGate,
    InjectMode,
    PlainSigmoidInjection,
    PromptGenerator,
    SoftMaskInjection,
)
from .unet import (
    STAGE_LEVEL,
    BackboneConfig,
    StreamingUNet,
    StreamState,
    backbone_config,
    modulate,
)


@dataclass(frozen=True)
class RoninConfig:
    """Architecture of a :class:`RoninLite`: backbone size plus the prompt path's switches."""

    backbone: BackboneConfig | str = "tiny"  # a BackboneConfig or its name (tiny/small/full)
    prompt_dim: int = 384  # width of P_t = width of the text embedding (bge-micro-v2: 384)
    inject: InjectMode = "last2"  # stages the prompt modulates: none/first/last2/all/all+latent
    condition: str = "mask"  # how: "mask" (RONIN's 2 sigmoid gains) or "film" (scale and shift)
    cross_attention: bool = True  # encoder-1 -> latent cross-attention
    prompt: bool = True  # False: no generator, no masks (the no-prompt twin)
    kv_grid: int = 8  # encoder 1 is pooled to kv_grid x kv_grid keys/values
    history_gate: bool = False  # the prompt also gates the decoder's history routers (a variant)

    def __post_init__(self) -> None:
        if isinstance(self.backbone, str):
            object.__setattr__(self, "backbone", backbone_config(self.backbone))
        if not isinstance(self.backbone, BackboneConfig):
            raise TypeError(
                f"backbone must be a BackboneConfig or one of 'tiny', 'small', 'full', "
                f"got {type(self.backbone).__name__}"
            )
        if self.inject not in INJECT_STAGES:
            raise ValueError(f"unknown inject {self.inject!r}; choose one of {list(INJECT_STAGES)}")
        if self.condition not in CONDITIONS:
            raise ValueError(f"unknown condition {self.condition!r}; choose one of "
                             f"{list(CONDITIONS)}")
        if not self.prompt and self.inject != "none":
            raise ValueError(
                f"inject={self.inject!r} needs a prompt to make masks from; the no-prompt "
                "network has inject='none' (use config.without_prompt())"
            )
        if self.history_gate and not self.prompt:
            raise ValueError("history_gate=True makes the router's gates from the prompt; the "
                             "no-prompt network has none (set history_gate=False)")
        if self.prompt_dim < 1 or self.kv_grid < 1:
            raise ValueError(f"prompt_dim and kv_grid must be >= 1, got {self.prompt_dim}, "
                             f"{self.kv_grid}")

    def without_prompt(self) -> "RoninConfig":
        """The same network without the prompt path (generator and masks)."""
        return dataclasses.replace(self, prompt=False, inject="none")

    def replace(self, **changes: Any) -> "RoninConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-able: the backbone as its full field dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["backbone"] = {k: list(v) if isinstance(v, tuple) else v
                           for k, v in out["backbone"].items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "RoninConfig":
        """Inverse of :meth:`to_dict`; unknown fields raise a clear error."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        backbone = data.get("backbone", "tiny")
        if isinstance(backbone, dict):
            known_bb = {f.name for f in dataclasses.fields(BackboneConfig)}
            unknown += [f"backbone.{k}" for k in sorted(set(backbone) - known_bb)]
            data["backbone"] = BackboneConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in backbone.items()
                   if k in known_bb})
        if unknown:
            raise ValueError(
                f"unknown RoninConfig field(s) {unknown}: this configuration was written by "
                "another version of ronin_lite"
            )
        return cls(**data)


class RoninOutput(NamedTuple):
    """One restored frame: ``restored (B, 3, H, W)``, ``prompt (B, prompt_dim)`` or None (no
    prompt path), and the ``state`` to pass with the next frame."""

    restored: Tensor
    prompt: Tensor | None
    state: StreamState


class RoninLite(nn.Module):
    """Streaming restorer with a self-generated, language-grounded prompt.

    ``forward(frame (B, 3, H, W), state=None, prompt=None) -> RoninOutput``. ``prompt``, when
    given, ``(B or 1, prompt_dim)`` in the network's normalised space, *replaces* the generated
    prompt (perturbation and oracle-prompt ablations), and is the prompt returned.
    """

    def __init__(self, config: RoninConfig | None = None) -> None:
        super().__init__()
        self.config = config or RoninConfig()
        bb = self.config.backbone
        self.backbone = StreamingUNet(bb)
        c = bb.width
        latent = c * 2 ** STAGE_LEVEL["latent"]  # 8C
        self.cross_attention = (
            EncoderLatentCrossAttention(c, latent, bb.heads[3], self.config.kv_grid)
            if self.config.cross_attention else None
        )
        self.generator = PromptGenerator(latent, self.config.prompt_dim) \
            if self.config.prompt else None
        channels = dict(zip(self.backbone.decoder_stage_names,
                            self.backbone.decoder_stage_channels), latent=latent)
        stages = {s: channels[s] for s in INJECT_STAGES[self.config.inject]}  # name -> C_s
        kind = {"mask": SoftMaskInjection, "sigmoid": PlainSigmoidInjection,
                "film": FiLMInjection}[self.config.condition]
        self.injection = kind(self.config.prompt_dim, stages) if stages else None
        self.history_gate = HistoryGate(self.config.prompt_dim,
                                        self.backbone.decoder_history_channels) \
            if self.config.history_gate else None
        if self.config.prompt:
            d = self.config.prompt_dim
            self.register_buffer("target_mean", torch.zeros(d))
            self.register_buffer("target_std", torch.ones(d))

    @classmethod
    def from_profile(cls, name: str | None = None, **changes: Any) -> "RoninLite":
        """The model of a profile (``tiny``, ``small``, ``full``; default: the automatic one),
        with :class:`RoninConfig` fields changed by keyword (``inject="all"``)."""
        from ..config import get_profile

        return cls(RoninConfig(backbone=get_profile(name).model, **changes))

    # --- the prompt's space ----------------------------------------------------------------
    def _require_prompt(self) -> None:
        if self.generator is None:
            raise ValueError("this network has no prompt path (RoninConfig(prompt=False))")

    def set_target_stats(self, mean: Tensor, std: Tensor) -> None:
        """Set the normalisation of the prompt targets: the network predicts (e - mean) / std."""
        self._require_prompt()
        d = self.config.prompt_dim
        for name, value in (("mean", mean), ("std", std)):
            if not isinstance(value, Tensor) or value.shape != (d,):
                got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"target {name} must be shaped ({d},), got {got}")
        if not bool((std > 0).all()):
            raise ValueError("target std must be > 0 in every dimension")
        self.target_mean.copy_(mean)
        self.target_std.copy_(std)

    def prompt_from_embedding(self, embedding: Tensor) -> Tensor:
        """Text embedding ``(..., prompt_dim)`` -> the network's prompt space."""
        self._require_prompt()
        return (embedding - self.target_mean) / self.target_std

    def embedding_from_prompt(self, prompt: Tensor) -> Tensor:
        """Prompt ``(..., prompt_dim)`` -> the text-embedding space (inverse of the above)."""
        self._require_prompt()
        return prompt * self.target_std + self.target_mean

    # --- the network -----------------------------------------------------------------------
    def init_state(self, batch: int, height: int, width: int,
                   device: torch.device | str | None = None,
                   dtype: torch.dtype | None = None) -> StreamState:
        """An empty history for frames ``(batch, 3, height, width)``: the backbone's."""
        return self.backbone.init_state(batch, height, width, device, dtype)

    def _check_prompt(self, prompt: object, batch: int, like: Tensor) -> Tensor:
        self._require_prompt()
        d = self.config.prompt_dim
        if not isinstance(prompt, Tensor) or prompt.ndim != 2 or prompt.shape[0] not in (1, batch) \
                or prompt.shape[1] != d:  # fmt: skip
            got = tuple(prompt.shape) if isinstance(prompt, Tensor) else type(prompt).__name__
            raise ValueError(
                f"an external prompt must be shaped ({batch} or 1, {d}), got {got}; a text "
                "embedding goes through model.prompt_from_embedding(e) first"
            )
        if prompt.device != like.device or not prompt.is_floating_point():
            raise ValueError(
                f"an external prompt must be a float tensor on {like.device}, got "
                f"{prompt.dtype} on {prompt.device}"
            )
        return prompt.to(like.dtype).expand(batch, d)

    def forward(self, frame: Tensor, state: StreamState | None = None,
                prompt: Tensor | None = None) -> RoninOutput:
        """Restore one frame ``(B, 3, H, W)``; see the class docstring."""
        encoded = self.backbone.encode(frame, state)
        latent = encoded.latent  # (B, 8C, H'/8, W'/8)
        if self.cross_attention is not None:
            # cross-attention: queries from the latent, keys/values from encoder stage 1
            latent = self.cross_attention(encoded.skips[0], latent)
            encoded = encoded.with_latent(latent)
        if prompt is not None:
            # an external prompt replaces the generated one
            prompt = self._check_prompt(prompt, frame.shape[0], latent)
        elif self.generator is not None:
            prompt = self.generator(latent)  # prompt generator: (B, 8C, h, w) -> (B, prompt_dim)
        # soft masks from the prompt on the chosen decoder stages (paper: the last two)
        masks = self.injection(prompt) if self.injection is not None else None
        if masks is not None and "latent" in masks:  # a course variant: the latent too
            masks = dict(masks)
            encoded = encoded.with_latent(modulate(encoded.latent, masks.pop("latent")))
        # a course variant: the prompt gates how much the decoder's routers read the history
        gates = self.history_gate(prompt) if self.history_gate is not None else None
        restored, state = self.backbone.decode(encoded, masks, gates)
        return RoninOutput(restored, prompt, state)

    def restore_clip(self, frames: Tensor) -> tuple[Tensor, Tensor | None]:
        """Restore ``(T, 3, H, W)`` or ``(B, T, 3, H, W)`` frame by frame, causally.

        Returns ``(restored, prompts)``: restored like ``frames``; prompts ``(T, prompt_dim)``
        or ``(B, T, prompt_dim)``, or None without a prompt path.
        """
        if not isinstance(frames, Tensor) or frames.ndim not in (4, 5):
            got = tuple(frames.shape) if isinstance(frames, Tensor) else type(frames).__name__
            raise ValueError(
                f"expected frames shaped (T, 3, H, W) or (B, T, 3, H, W), got {got}: "
                "use ronin_lite.data.to_torch_clip(...)"
            )
        batched = frames if frames.ndim == 5 else frames[None]  # (B, T, 3, H, W)
        state, restored, prompts = None, [], []
        for t in range(batched.shape[1]):
            out = self(batched[:, t], state)
            state = out.state
            restored.append(out.restored)
            prompts.append(out.prompt)
        out_frames = torch.stack(restored, dim=1)  # (B, T, 3, H, W)
        out_prompts = torch.stack(prompts, dim=1) if self.generator is not None else None
        if frames.ndim == 4:
            return out_frames[0], None if out_prompts is None else out_prompts[0]
        return out_frames, out_prompts
