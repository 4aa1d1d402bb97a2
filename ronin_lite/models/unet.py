"""The streaming U-Net backbone: Turtle (arXiv 2410.03936) as RONIN (arXiv 2507.14851) uses it.

RONIN restores a video frame by frame with Turtle, a U-Net that carries a truncated causal
history of earlier frames (see :mod:`ronin_lite.models.history`)::

    frame (B, 3, H, W) --pad to a multiple of 8 * window--> 3x3 conv
      encoder1  C  x H      (reduced attention)  ──────────────skip──────────┐
      encoder2 2C  x H/2    (reduced attention)  ───────skip────────┐        │
      encoder3 4C  x H/4    (channel attention)  ──skip──┐          │        │
      latent   8C  x H/8    (channel; first and last blocks: frame history router)
      decoder3 4C  x H/4  <- up + concat + 1x1 ──────────┘          │        │
      decoder2 2C  x H/2  <- up + concat + 1x1 ─────────────────────┘        │
      decoder1  C  x H    <- up + concat + 1x1 ──────────────────────────────┘
               (each decoder level: channel attention; last block: causal history model =
                state alignment + frame history router)
      refinement C x H    (reduced attention) -> 3x3 conv -> + frame (global residual) -> crop

**Streaming API.** ``model(frame, state) -> (restored, new_state)``. ``state=None`` starts a
clip; :meth:`StreamingUNet.init_state` makes an empty one explicitly. A :class:`StreamState`
holds, for every history block, the cache of its last ``<= tau`` frames (format in
:mod:`ronin_lite.models.history`); it is tied to the configuration and to the ``(B, H, W)`` it
was made for, and a state that does not fit is refused with an error saying what to do.
:meth:`StreamingUNet.restore_clip` runs a whole clip frame by frame. ``history=False`` gives the
single-frame network (history blocks become plain channel-attention blocks).

**Extension points for RONIN's prompt path** (the next step of the course):

* ``encode(frame, state) -> Encoded`` runs the encoder and the latent level. ``Encoded.skips``
  are the three encoder outputs; ``skips[0]`` is encoder stage 1 (``(B, C, H', W')``, the padded
  size), from which RONIN cross-attends into the latent. ``Encoded.latent`` ``(B, 8C, H'/8,
  W'/8)`` is where the prompt generator reads; ``encoded.with_latent(latent + cross)`` replaces
  it (same shape) before decoding.
* ``decode(encoded, masks) -> (restored, new_state)`` runs the decoder. ``masks`` maps decoder
  stage names (:attr:`StreamingUNet.decoder_stage_names`: ``"decoder3"``, ``"decoder2"``,
  ``"decoder1"``, deep to shallow, with :attr:`StreamingUNet.decoder_stage_channels` ``4C, 2C,
  C``) to per-channel soft masks ``(B or 1, C_stage, 1, 1)`` that multiply that stage's output
  features (RONIN: the last two, ``decoder2`` and ``decoder1``), or ``(scale, shift)`` pairs of
  such tensors (FiLM, a course variant: ``x * scale + shift``). ``decode(encoded, masks,
  gates)`` also takes a per-channel *history gate* ``(B or 1, C)`` for each decoder history
  block (:attr:`StreamingUNet.decoder_history_channels`), a logit shift of the cached frames'
  keys in its router (a course variant, :mod:`ronin_lite.models.history`). ``forward(frame,
  state, masks)`` is ``decode(encode(frame, state), masks)``.

Departures from Turtle:

* Where the history is read. ``full`` follows Turtle: routers in the first and last latent
  blocks, alignment + router in the last block of every decoder level. ``small`` and ``tiny``
  align only at the deepest decoder level (``decoder3``, 1/4 resolution): the alignment's cost
  grows with the number of pixels it warps, and on a 2-core CPU aligning at 1/2 resolution as
  well would push the history's overhead past the +35 % per frame this course allows (see
  ``data_scripts/bench_backbone.py``). Decoder levels without alignment carry no history.
* The input is padded by replication (Turtle: zeros) to a multiple of ``8 * window`` (Turtle:
  32, with its window 4), so that the alignment's patches tile every decoder level.
* Every block uses the gated FFN (see :mod:`~ronin_lite.models.blocks`).
* The output is not clamped (clamp for display; the L1 loss sees the raw values).

**Memory layout.** Without gradients (inference, evaluation) the padded frame is made
``channels_last`` (NHWC), and every convolution, norm and element-wise op downstream keeps that
layout: oneDNN's depthwise and 1x1 kernels run without reordering each map to a blocked format
and back, and :class:`~ronin_lite.models.blocks.LayerNorm2d` becomes one fused kernel over the
contiguous channel axis. The blocks take NHWC-specific paths for the same numbers (the gated
FFN's halves as two branches, attention norms by square-and-sum, attention outputs made
token-first so that projection and residual stay NHWC; :mod:`~ronin_lite.models.blocks`). The outputs equal the NCHW computation's to float rounding (tested to
1e-5); the speed is measured by ``data_scripts/bench_roofline.py``. Training (gradients on) keeps
the NCHW layout, so that a training run computes what it computed before, bit for bit (the
shipped runs reproduce; ``tools/notebook_runs.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from .blocks import Downsample, TransformerBlock, Upsample
from .history import (
    BlockCache,
    CausalHistoryModel,
    FrameHistoryRouter,
    HistoryBlock,
    cached_frames,
    push_frame,
)

ENCODER_STAGES = ("encoder1", "encoder2", "encoder3")
DECODER_STAGES = ("decoder3", "decoder2", "decoder1")
STAGES = (*ENCODER_STAGES, "latent", *DECODER_STAGES, "refinement")
# downsampling exponent of each stage: channels = C * 2**level, size = padded size / 2**level
STAGE_LEVEL = {
    "encoder1": 0, "encoder2": 1, "encoder3": 2, "latent": 3,
    "decoder3": 2, "decoder2": 1, "decoder1": 0, "refinement": 0,
}  # fmt: skip
CONFIG_NAMES = ("tiny", "small", "full")


@dataclass(frozen=True)
class BackboneConfig:
    """Sizes of the streaming U-Net. Levels: C, 2C, 4C and a latent 8C (Turtle's shape)."""

    width: int = 16  # C: channels of the full-resolution level (Turtle: 64)
    encoder_blocks: tuple[int, int, int] = (1, 1, 1)  # encoder1..3 (Turtle: 2, 6, 10)
    latent_blocks: int = 2  # (Turtle: 11)
    decoder_blocks: tuple[int, int, int] = (1, 1, 1)  # decoder3..1, deep first (Turtle: 10, 6, 2)
    refinement_blocks: int = 1  # full-resolution blocks after the decoder (Turtle: 2)
    heads: tuple[int, int, int, int] = (1, 2, 4, 8)  # per level C, 2C, 4C, 8C (Turtle's)
    ffn_expansion: float = 2.5  # hidden width of the gated FFN / channels (Turtle: 2.5)
    # stages whose blocks use reduced attention; all others use channel attention (Turtle's)
    reduced_stages: tuple[str, ...] = ("encoder1", "encoder2", "refinement")
    history: bool = True  # False: the single-frame network (no state is carried)
    # decoder stages whose last block aligns and routes the history (Turtle: all three)
    aligned_stages: tuple[str, ...] = DECODER_STAGES
    tau: int = 3  # frames of history kept (Turtle: 3)
    topk: int = 5  # neighbours kept by the state alignment's top-k mask (Turtle: 5)
    window: int = 4  # patch size p of the state alignment, in pixels of each level
    search_radius: int = 2  # local mask: (2r+1)^2 neighbouring patches searched

    def __post_init__(self) -> None:
        counts = (*self.encoder_blocks, self.latent_blocks, *self.decoder_blocks)
        if len(self.encoder_blocks) != 3 or len(self.decoder_blocks) != 3:
            raise ValueError("encoder_blocks and decoder_blocks need 3 entries each (3 levels)")
        if min(counts) < 1 or self.refinement_blocks < 0:
            raise ValueError(
                f"encoder, latent and decoder levels need >= 1 block each and refinement >= 0, "
                f"got {counts} and {self.refinement_blocks}"
            )
        if len(self.heads) != 4:
            raise ValueError(f"heads needs 4 entries (C, 2C, 4C, 8C), got {self.heads}")
        for level, heads in enumerate(self.heads):
            if heads < 1 or (self.width * 2**level) % heads:
                raise ValueError(
                    f"{self.width * 2**level} channels at level {level + 1} are not divisible "
                    f"by {heads} heads: choose width / heads so that they are"
                )
        unknown = sorted(set(self.reduced_stages) - set(STAGES))
        unknown += sorted(set(self.aligned_stages) - set(DECODER_STAGES))
        if unknown:
            raise ValueError(
                f"unknown stage name(s) {unknown}: reduced_stages takes {list(STAGES)}, "
                f"aligned_stages takes {list(DECODER_STAGES)}"
            )
        if min(self.tau, self.topk, self.window) < 1 or self.search_radius < 0:
            raise ValueError("tau, topk and window must be >= 1 and search_radius >= 0")

    @property
    def pad_multiple(self) -> int:
        """Frames are padded to a multiple of this: 8 (three halvings) times the window."""
        return 8 * self.window if self.history and self.aligned_stages else 8

    def replace(self, **changes) -> "BackboneConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def tiny(cls) -> "BackboneConfig":
        """For CI and the notebooks: C = 8, one block per level (two in the latent, for its
        two routers), alignment at the deepest decoder level as in ``small``.

        0.23 M parameters, 0.9 GMACs per 256x256 frame (the cost of a tiny training step, as
        measured: ``results/bench_train_tiny_cpu.json``).
        """
        return cls(
            width=8, ffn_expansion=2.0, aligned_stages=("decoder3",), window=2, search_radius=1
        )

    @classmethod
    def small(cls) -> "BackboneConfig":
        """The CPU checkpoint: C = 16, a few blocks per level, alignment at ``decoder3``.

        1.17 M parameters, 3.8 GMACs per 256x256 frame; about 5 frames/s at 256x256 on 2 CPU
        cores, the history costing +11 to +21 % per frame; one training step of the small
        profile (4 clips of 5 frames, 96x96) takes about 0.95 s, some 3,800 steps an hour.
        """
        return cls(
            width=16, encoder_blocks=(1, 1, 2), latent_blocks=3, decoder_blocks=(2, 1, 1),
            ffn_expansion=2.0, aligned_stages=("decoder3",),
        )  # fmt: skip

    @classmethod
    def full(cls) -> "BackboneConfig":
        """Turtle's proportions (blocks 2/6/10, 11, 10/6/2, 2, heads 1/2/4/8) at C = 48.

        At Turtle's C = 64 this network has Turtle's cost (notebook 02 counts it against the
        181 GMACs per 256x256 frame Turtle reports). We take C = 48 (notebook 02 prints its
        parameters and MACs) because training is bound by GPU memory, not time: at Turtle's
        batch per GPU (2 clips of 5 frames, 192x192) a step needs 45 GiB at C = 48 and 61 GiB at C = 64, and both take
        about 1 s on an H200. C = 48 fits a 48 GB card.
        """
        return cls(
            width=48, encoder_blocks=(2, 6, 10), latent_blocks=11, decoder_blocks=(10, 6, 2),
            refinement_blocks=2,
        )  # fmt: skip


def backbone_config(name: str) -> BackboneConfig:
    """The named configuration: ``tiny``, ``small`` or ``full``."""
    if name not in CONFIG_NAMES:
        raise ValueError(f"unknown backbone config {name!r}; choose one of {list(CONFIG_NAMES)}")
    return getattr(BackboneConfig, name)()


@dataclass(frozen=True)
class StreamState:
    """What the network carries from one frame to the next: the caches of its history blocks.

    ``caches`` maps a history block (``"latent.0"``, ``"decoder1.0"``, ...) to its cache of the
    last ``<= tau`` frames (format: :mod:`ronin_lite.models.history`). A state belongs to one
    configuration and one input size ``(batch, height, width)``.
    """

    config: BackboneConfig
    batch: int
    height: int
    width: int
    frames_seen: int = 0
    caches: dict[str, BlockCache] = field(default_factory=dict)

    @property
    def cached_frames(self) -> int:
        """Frames of history held now (the most over all blocks; never more than ``tau``)."""
        return max((cached_frames(c) for c in self.caches.values()), default=0)

    @property
    def nbytes(self) -> int:
        """Bytes held by the caches: bounded by ``tau`` frames, whatever the video's length."""
        return sum(t.numel() * t.element_size() for c in self.caches.values() for t in c.values())


@dataclass(frozen=True)
class Encoded:
    """The encoder's output for one frame: what :meth:`StreamingUNet.decode` needs.

    ``frame``: the padded input ``(B, 3, H', W')`` (for the global residual); ``skips``: the
    outputs of encoder1..3, ``(B, C, H', W')``, ``(B, 2C, H'/2, W'/2)``, ``(B, 4C, H'/4,
    W'/4)``; ``latent``: ``(B, 8C, H'/8, W'/8)`` after the latent blocks; ``state``: the state
    this frame was encoded with; ``entries``: the latent blocks' cache entries for this frame;
    ``size``: the unpadded ``(H, W)``.
    """

    frame: Tensor
    skips: tuple[Tensor, Tensor, Tensor]
    latent: Tensor
    state: StreamState
    entries: dict[str, BlockCache]
    size: tuple[int, int]

    def with_latent(self, latent: Tensor) -> "Encoded":
        """The same encoding with the latent replaced (e.g. plus a cross-attention output)."""
        if not isinstance(latent, Tensor) or latent.shape != self.latent.shape:
            got = tuple(latent.shape) if isinstance(latent, Tensor) else type(latent).__name__
            raise ValueError(
                f"a replacement latent must keep the shape {tuple(self.latent.shape)}, got {got}"
            )
        return dataclasses.replace(self, latent=latent)


class Stage(nn.Module):
    """One level of the U-Net: a sequence of blocks, some of which read the history.

    ``forward(x, caches) -> (x, entries)``: a history block ``i`` reads ``caches[f"{name}.{i}"]``
    and returns its entry for this frame under the same key.
    """

    def __init__(self, name: str, blocks: list[nn.Module]) -> None:
        super().__init__()
        self.name = name
        self.blocks = nn.ModuleList(blocks)

    def history_blocks(self) -> dict[str, HistoryBlock]:
        """The blocks that carry a cache, by state key."""
        return {
            f"{self.name}.{i}": block
            for i, block in enumerate(self.blocks)
            if isinstance(block, HistoryBlock)
        }

    def forward(
        self, x: Tensor, caches: Mapping[str, BlockCache],
        gates: Mapping[str, Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, BlockCache]]:
        entries: dict[str, BlockCache] = {}
        gates = gates or {}
        for i, block in enumerate(self.blocks):
            if isinstance(block, HistoryBlock):
                key = f"{self.name}.{i}"
                x, entries[key] = block(x, caches[key], gates.get(key))
            else:
                x = block(x)
        return x, entries


def _history_positions(name: str, n_blocks: int, config: BackboneConfig) -> set[int]:
    """Which blocks of a stage carry history: latent first and last; aligned decoders' last."""
    if not config.history:
        return set()
    if name == "latent":
        return {0, n_blocks - 1}
    if name in config.aligned_stages:
        return {n_blocks - 1}
    return set()


def _build_stage(name: str, n_blocks: int, config: BackboneConfig) -> Stage:
    level = STAGE_LEVEL[name]
    channels, heads = config.width * 2**level, config.heads[level]
    attention = "reduced" if name in config.reduced_stages else "channel"
    history = _history_positions(name, n_blocks, config)
    blocks: list[nn.Module] = []
    for i in range(n_blocks):
        if i not in history:
            blocks.append(TransformerBlock(channels, heads, config.ffn_expansion, attention))
            continue
        if name == "latent":
            routing: FrameHistoryRouter | CausalHistoryModel = FrameHistoryRouter(channels, heads)
        else:
            routing = CausalHistoryModel(
                channels, heads, config.window, config.search_radius, config.topk
            )
        blocks.append(HistoryBlock(channels, config.ffn_expansion, routing))
    return Stage(name, blocks)


def _describe(x: object) -> str:
    """``(480, 640, 3) uint8`` for a tensor; the type, shape and dtype of anything else."""
    if isinstance(x, Tensor):
        return f"{tuple(x.shape)} {str(x.dtype).removeprefix('torch.')}"
    shape = getattr(x, "shape", None)
    if shape is None:
        return type(x).__name__
    return f"{type(x).__name__} {tuple(shape)} {getattr(x, 'dtype', '')}".rstrip()


def modulate(x: Tensor, mask: Tensor | tuple[Tensor, Tensor]) -> Tensor:
    """Per-channel conditioning of features ``x (B, C, H, W)``: a gain ``(B or 1, C, 1, 1)``
    (RONIN's soft mask: ``x * mask``) or a FiLM pair ``(scale, shift)`` (``x * scale + shift``)."""
    if isinstance(mask, tuple):
        scale, shift = mask
        return x * scale + shift
    return x * mask


class StreamingUNet(nn.Module):
    """Turtle-style streaming U-Net: ``forward(frame, state=None, masks=None)``.

    See the module docstring for the data flow, the state and the prompt-path extension points.
    """

    decoder_stage_names: tuple[str, ...] = DECODER_STAGES

    def __init__(self, config: BackboneConfig | None = None) -> None:
        super().__init__()
        self.config = config or BackboneConfig()
        c = self.config.width
        blocks = {
            **dict(zip(ENCODER_STAGES, self.config.encoder_blocks)),
            "latent": self.config.latent_blocks,
            **dict(zip(DECODER_STAGES, self.config.decoder_blocks)),
            "refinement": self.config.refinement_blocks,
        }
        self.decoder_stage_channels: tuple[int, ...] = tuple(
            c * 2 ** STAGE_LEVEL[name] for name in DECODER_STAGES
        )
        self.embed = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.stages = nn.ModuleDict(
            {name: _build_stage(name, blocks[name], self.config) for name in STAGES}
        )
        self.downs = nn.ModuleList(Downsample(c * 2**i) for i in range(3))  # C->2C, 2C->4C, 4C->8C
        self.ups = nn.ModuleList(Upsample(c * 2**i) for i in (3, 2, 1))  # 8C->4C, 4C->2C, 2C->C
        # after concatenating the skip: 2 C_stage -> C_stage (8C->4C, 4C->2C, 2C->C)
        self.fuses = nn.ModuleList(
            nn.Conv2d(c * 2**i, c * 2 ** (i - 1), 1, bias=False) for i in (3, 2, 1)
        )
        self.output = nn.Conv2d(c, 3, 3, padding=1)
        # the decoder's history blocks (state key -> channels): where a prompt's history gate
        # can reach (the latent's routers run before the prompt is made)
        self.decoder_history_channels: dict[str, int] = {
            key: channels for name, channels in zip(DECODER_STAGES, self.decoder_stage_channels)
            for key in self.stages[name].history_blocks()}

    # --- state -----------------------------------------------------------------------------
    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """The size a ``height x width`` frame is padded to (a multiple of ``pad_multiple``)."""
        m = self.config.pad_multiple
        return -(-height // m) * m, -(-width // m) * m

    def init_state(
        self,
        batch: int,
        height: int,
        width: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> StreamState:
        """An empty history for frames ``(batch, 3, height, width)`` (the start of a clip)."""
        if min(batch, height, width) < 1:
            raise ValueError(f"batch, height and width must be >= 1, got {(batch, height, width)}")
        param = next(self.parameters())
        device, dtype = device or param.device, dtype or param.dtype
        ph, pw = self.padded_size(height, width)
        caches = {}
        for name, stage in self.stages.items():
            level = STAGE_LEVEL[name]
            for key, block in stage.history_blocks().items():
                caches[key] = block.empty_cache(batch, ph >> level, pw >> level, device, dtype)
        return StreamState(self.config, batch, height, width, 0, caches)

    def _check_state(self, state: object, frame: Tensor) -> StreamState:
        redo = "call model.init_state(batch, height, width) or pass state=None to start a clip"
        if not isinstance(state, StreamState):
            raise TypeError(
                f"state must be a StreamState or None, got {type(state).__name__}: {redo}"
            )
        if state.config != self.config:
            raise ValueError(f"this state was made by a model with another configuration: {redo}")
        b, _, h, w = frame.shape
        if (state.batch, state.height, state.width) != (b, h, w):
            raise ValueError(
                f"this state belongs to frames of (B, H, W) = "
                f"{(state.batch, state.height, state.width)}, got a frame of {(b, h, w)}: {redo}"
            )
        devices = {t.device for cache in state.caches.values() for t in cache.values()}
        if devices - {frame.device}:
            raise ValueError(
                f"the state is on {sorted(map(str, devices))} but the frame is on "
                f"{frame.device}: {redo}"
            )
        return state

    def _advance(self, state: StreamState, entries: dict[str, BlockCache]) -> StreamState:
        caches = {k: push_frame(state.caches[k], entries[k], self.config.tau) for k in state.caches}
        return dataclasses.replace(state, frames_seen=state.frames_seen + 1, caches=caches)

    # --- input checks ----------------------------------------------------------------------
    #: check NaN/Inf and the [0, 1] range where a stream starts (three host syncs on a GPU):
    #: the trainer turns it off while it trains on its own, already checked, clips
    check_values: bool = True

    def _check_frame(self, frame: object, values: bool = True) -> Tensor:
        """Type, shape and dtype always (no device sync); with ``values`` also NaN/Inf and the
        [0, 1] range, which read the frame back to the host (three syncs on a GPU): the
        encoder asks for those at the start of a stream only, not on every frame of it."""
        hint = "use ronin_lite.data.to_torch_clip(clip) -> (T, 3, H, W), then clip[t : t + 1]"
        if not isinstance(frame, Tensor):
            raise TypeError(
                f"expected frame as a torch.Tensor shaped (B, 3, H, W) float in [0, 1], got "
                f"{_describe(frame)}: {hint}"
            )
        if frame.ndim != 4 or frame.shape[1] != 3:
            raise ValueError(
                f"expected frame shaped (B, 3, H, W) float in [0, 1], got {_describe(frame)}: "
                f"{hint}"
            )
        if not frame.is_floating_point():
            raise TypeError(f"expected a float frame in [0, 1], got {_describe(frame)}: {hint}")
        dtype = next(self.parameters()).dtype
        if frame.dtype != dtype:
            model_dtype = str(dtype).removeprefix("torch.")
            raise TypeError(
                f"frame is {_describe(frame)} but the model is {model_dtype}: "
                f"use frame.to({dtype}) (or convert the model)"
            )
        if not values:
            return frame
        if not bool(torch.isfinite(frame).all()):
            raise ValueError("frame contains NaN or Inf values; clean or clip the input first")
        lo, hi = float(frame.min()), float(frame.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"expected frame values in [0, 1], got range [{lo:.3g}, {hi:.3g}]: "
                "divide 8-bit data by 255, or clamp values that overshoot"
            )
        return frame

    def _check_masks(self, masks: Mapping[str, Tensor] | None, batch: int) -> Mapping[str, Tensor]:
        if masks is None:
            return {}
        unknown = sorted(set(masks) - set(self.decoder_stage_names))
        if unknown:
            raise ValueError(
                f"unknown decoder stage(s) {unknown} in masks; the stages are "
                f"{list(self.decoder_stage_names)}"
            )
        for name, mask in masks.items():
            channels = self.decoder_stage_channels[self.decoder_stage_names.index(name)]
            parts = mask if isinstance(mask, tuple) and len(mask) == 2 else (mask,)
            for part in parts:
                if not isinstance(part, Tensor) or part.ndim != 4 \
                        or part.shape[0] not in (1, batch) or part.shape[1:] != (channels, 1, 1):
                    raise ValueError(
                        f"mask for {name!r} must be shaped ({batch} or 1, {channels}, 1, 1), "
                        f"or a (scale, shift) pair of such tensors (FiLM), got "
                        f"{_describe(part)}"
                    )
        return masks

    def _check_gates(self, gates: Mapping[str, Tensor] | None,
                     batch: int) -> Mapping[str, Tensor]:
        if gates is None:
            return {}
        known = self.decoder_history_channels
        unknown = sorted(set(gates) - set(known))
        if unknown:
            raise ValueError(f"unknown decoder history block(s) {unknown} in gates; this "
                             f"network's are {list(known)}")
        for key, gate in gates.items():
            if not isinstance(gate, Tensor) or gate.ndim != 2 \
                    or gate.shape[0] not in (1, batch) or gate.shape[1] != known[key]:
                raise ValueError(f"the history gate of {key!r} must be shaped ({batch} or 1, "
                                 f"{known[key]}), got {_describe(gate)}")
        return {key: gate.expand(batch, -1) for key, gate in gates.items()}

    # --- the network -----------------------------------------------------------------------
    def encode(self, frame: Tensor, state: StreamState | None = None) -> Encoded:
        """Encoder and latent level for one frame ``(B, 3, H, W)``; see :class:`Encoded`."""
        # values (NaN, range) are checked where a stream starts: the entry point of a video
        frame = self._check_frame(frame, values=state is None and self.check_values)
        b, _, h, w = frame.shape
        if state is None:
            # the history in the dtype the blocks compute in: bf16 under autocast (an fp32
            # cache would double its memory, and torch.cat would promote every bf16 entry)
            dtype = frame.dtype
            if torch.is_autocast_enabled(frame.device.type):
                dtype = torch.get_autocast_dtype(frame.device.type)
            state = self.init_state(b, h, w, frame.device, dtype)
        state = self._check_state(state, frame)
        ph, pw = self.padded_size(h, w)
        padded = F.pad(frame, (0, pw - w, 0, ph - h), mode="replicate")  # (B, 3, H', W')
        if not torch.is_grad_enabled():  # inference: NHWC throughout (module docstring)
            padded = padded.contiguous(memory_format=torch.channels_last)
        x = self.embed(padded)  # (B, C, H', W')
        skips = []
        for name, down in zip(ENCODER_STAGES, self.downs):
            x, _ = self.stages[name](x, {})
            skips.append(x)
            x = down(x)  # (B, C_l, H_l, W_l) -> (B, 2 C_l, H_l / 2, W_l / 2)
        # latent level (B, 8C, H'/8, W'/8): frame history router in its first and last blocks
        latent, entries = self.stages["latent"](x, state.caches)
        return Encoded(padded, (skips[0], skips[1], skips[2]), latent, state, entries, (h, w))

    def decode(
        self, encoded: Encoded, masks: Mapping[str, Tensor] | None = None,
        gates: Mapping[str, Tensor] | None = None,
    ) -> tuple[Tensor, StreamState]:
        """Decoder, refinement and output for one encoded frame: ``(restored, new_state)``.
        ``gates``: decoder history block (:attr:`decoder_history_channels`) -> the prompt's
        history gate ``(B or 1, C)`` for its router (:mod:`ronin_lite.models.history`)."""
        masks = self._check_masks(masks, encoded.frame.shape[0])
        gates = self._check_gates(gates, encoded.frame.shape[0])
        state, entries = encoded.state, dict(encoded.entries)
        x = encoded.latent
        for name, up, fuse, skip in zip(DECODER_STAGES, self.ups, self.fuses, encoded.skips[::-1]):
            # (B, 2 C_l, H_l / 2, W_l / 2) -> (B, C_l, H_l, W_l), concat skip -> 1x1 back to C_l
            x = fuse(torch.cat([up(x), skip], dim=1))
            x, new = self.stages[name](x, state.caches, gates)  # last block: align + route
            entries.update(new)
            if name in masks:
                x = modulate(x, masks[name])  # RONIN: per-channel soft mask from the prompt
        x, _ = self.stages["refinement"](x, {})
        h, w = encoded.size
        restored = (self.output(x) + encoded.frame)[..., :h, :w]  # global residual, crop back
        return restored, self._advance(state, entries)

    def forward(
        self,
        frame: Tensor,
        state: StreamState | None = None,
        masks: Mapping[str, Tensor] | None = None,
    ) -> tuple[Tensor, StreamState]:
        """Restore one frame ``(B, 3, H, W)``: ``(restored (B, 3, H, W), new_state)``."""
        return self.decode(self.encode(frame, state), masks)

    def restore_clip(self, frames: Tensor) -> Tensor:
        """Restore a clip ``(T, 3, H, W)`` or clips ``(B, T, 3, H, W)`` frame by frame, causally."""
        if not isinstance(frames, Tensor) or frames.ndim not in (4, 5):
            raise ValueError(
                f"expected frames shaped (T, 3, H, W) or (B, T, 3, H, W), got {_describe(frames)}: "
                "use ronin_lite.data.to_torch_clip(...)"
            )
        batched = frames if frames.ndim == 5 else frames[None]  # (B, T, 3, H, W)
        state, restored = None, []
        for t in range(batched.shape[1]):
            out, state = self(batched[:, t], state)
            restored.append(out)
        out = torch.stack(restored, dim=1)
        return out if frames.ndim == 5 else out[0]


# --- cost --------------------------------------------------------------------------------
def count_parameters(model: nn.Module) -> int:
    """Number of parameters (all of them; the backbone has no frozen ones)."""
    return sum(p.numel() for p in model.parameters())


def macs_per_frame(model: StreamingUNet, size: int = 256, warmup: int = 3) -> int:
    """Multiply-accumulates to restore one ``size x size`` frame with a full history.

    ``warmup`` frames are restored first (uncounted), so the counted frame reads a history of
    ``min(warmup, tau)`` cached frames (Turtle: tau = 3, the steady state of a stream). Counted
    with :class:`torch.utils.flop_counter.FlopCounterMode`, which counts convolutions and
    matrix products (MACs = FLOPs / 2) but not element-wise work: norms, activations, softmax,
    and the state alignment's neighbour scores and gathers are left out (as ptflops, which
    Turtle's 181 GMACs figure comes from, leaves most of them out).
    """
    param = next(model.parameters())
    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(warmup + 1, 1, 3, size, size, generator=gen).to(param)
    counter = FlopCounterMode(display=False)
    with torch.no_grad():
        state = None
        for frame in frames[:-1]:
            _, state = model(frame, state)
        with counter:
            model(frames[-1], state)
    return counter.get_total_flops() // 2
