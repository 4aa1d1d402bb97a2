"""Models: the Turtle-style streaming U-Net backbone, its blocks, and RONIN's prompt path.

``StreamingUNet(backbone_config("small"))`` restores a video frame by frame with a truncated
causal history; see :mod:`ronin_lite.models.unet` for the API and
:mod:`ronin_lite.models.history` for the history mechanisms. ``RoninLite(RoninConfig())`` adds
RONIN's prompt path (:mod:`ronin_lite.models.prompts`, :mod:`ronin_lite.models.ronin`).
"""

from .blocks import (
    ChannelAttention,
    Downsample,
    GatedFFN,
    LayerNorm2d,
    ReducedAttention,
    TransformerBlock,
    Upsample,
)
from .history import CausalHistoryModel, FrameHistoryRouter, HistoryBlock, StateAlignment
from .unet import (
    BackboneConfig,
    Encoded,
    StreamingUNet,
    StreamState,
    backbone_config,
    count_parameters,
    macs_per_frame,
)
from .prompts import (
    INJECT_STAGES,
    EncoderLatentCrossAttention,
    PromptGenerator,
    SoftMaskInjection,
)
from .ronin import RoninConfig, RoninLite, RoninOutput

__all__ = [
    "BackboneConfig",
    "CausalHistoryModel",
    "ChannelAttention",
    "Downsample",
    "Encoded",
    "FrameHistoryRouter",
    "GatedFFN",
    "HistoryBlock",
    "LayerNorm2d",
    "ReducedAttention",
    "StateAlignment",
    "StreamState",
    "StreamingUNet",
    "TransformerBlock",
    "Upsample",
    "backbone_config",
    "count_parameters",
    "macs_per_frame",
    "INJECT_STAGES",
    "EncoderLatentCrossAttention",
    "PromptGenerator",
    "RoninConfig",
    "RoninLite",
    "RoninOutput",
    "SoftMaskInjection",
]
