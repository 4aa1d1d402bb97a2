"""Models: the Turtle-style streaming U-Net backbone and its blocks (RONIN's prompt path next).

``StreamingUNet(backbone_config("small"))`` restores a video frame by frame with a truncated
causal history; see :mod:`ronin_lite.models.unet` for the API and
:mod:`ronin_lite.models.history` for the history mechanisms.
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
]
