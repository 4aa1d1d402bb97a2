"""The data layer: clean scenes -> clips with camera motion -> degradations -> benchmarks.

``data`` knows nothing of ``models`` or ``grounding`` (DESIGN.md): it produces frames and the
records of what was done to them; the rest of the course consumes them.
"""

from .benchmarks import BENCHMARKS, Benchmark, BenchmarkClip, get_benchmark, read_split, write_split
from .clips import CameraPath, camera_path, make_clip, render_clip
from .degradations import (
    DEGRADATIONS, Op, Segment, apply_ops, apply_schedule, constant_schedule, get_degradation,
    make_op, segment_schedule, severity, smooth_curve,
)
from .frames import check_clip, to_frames, to_numpy_clip, to_torch_clip, to_uint8
from .scenes import Scene, builtin_scenes, folder_scenes, get_scene, scenes_from

__all__ = [
    "BENCHMARKS", "Benchmark", "BenchmarkClip", "get_benchmark", "read_split", "write_split",
    "CameraPath", "camera_path", "make_clip", "render_clip",
    "DEGRADATIONS", "Op", "Segment", "apply_ops", "apply_schedule", "constant_schedule",
    "get_degradation", "make_op", "segment_schedule", "severity", "smooth_curve",
    "check_clip", "to_frames", "to_numpy_clip", "to_torch_clip", "to_uint8",
    "Scene", "builtin_scenes", "folder_scenes", "get_scene", "scenes_from",
]
