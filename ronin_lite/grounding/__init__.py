"""Grounding degradations in language (RONIN, arXiv 2507.14851, "degradation-aware prompts").

During training only: a *describer* turns each degraded frame into a quality description
(:mod:`.describers`), a frozen sentence encoder embeds it as a 384-d unit vector
(:mod:`.text_encoder`), and a resumable on-disk cache keeps both per benchmark, clip and frame
(:mod:`.cache`). The network learns to predict these embeddings; at inference none of this is
loaded.
"""

from .cache import GroundingCache, cache_name, frame_key
from .describers import (
    LABELS,
    SEVERITIES,
    CorruptedDescriber,
    DetectionDescriber,
    Describer,
    OracleDescriber,
    StatisticsDescriber,
    VLMDescriber,
    calibrate_thresholds,
    check_frames,
    labels_from_records,
    make_describer,
    phrase,
)
from .text_encoder import TextEncoder

__all__ = [
    "LABELS", "SEVERITIES", "CorruptedDescriber", "DetectionDescriber", "Describer",
    "GroundingCache", "OracleDescriber", "StatisticsDescriber", "TextEncoder", "VLMDescriber",
    "cache_name", "calibrate_thresholds", "check_frames", "frame_key", "labels_from_records",
    "make_describer", "phrase",
]
