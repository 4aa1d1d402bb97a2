"""Grounding degradations in language (RONIN, arXiv 2507.14851, "degradation-aware prompts").

During training only: a *describer* turns each degraded frame into a quality description
(:mod:`.describers`), a frozen sentence encoder embeds it as a 384-d unit vector
(:mod:`.text_encoder`), and a resumable on-disk cache keeps both per benchmark, clip and frame
(:mod:`.cache`). :mod:`.accuracy` scores a describer's detections against the synthesis
records. The network learns to predict these embeddings; at inference none of this is
loaded.
"""

from .accuracy import as_labels, confusion_matrix, macro_f1, score_detections
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
    find_local_vlm,
    labels_from_records,
    make_describer,
    phrase,
)
from .text_encoder import TextEncoder

__all__ = [
    "LABELS", "SEVERITIES", "CorruptedDescriber", "DetectionDescriber", "Describer",
    "GroundingCache", "OracleDescriber", "StatisticsDescriber", "TextEncoder", "VLMDescriber",
    "as_labels", "cache_name", "calibrate_thresholds", "check_frames", "confusion_matrix",
    "find_local_vlm", "frame_key", "labels_from_records", "macro_f1", "make_describer",
    "phrase", "score_detections",
]
