"""The data layer: clean scenes -> clips with camera motion -> degradations -> benchmarks."""

from .frames import check_clip, to_frames, to_numpy_clip, to_torch_clip, to_uint8

__all__ = ["check_clip", "to_frames", "to_numpy_clip", "to_torch_clip", "to_uint8"]
