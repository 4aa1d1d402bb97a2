"""Frame and clip conventions shared by the whole data layer, and their checks.

Two layouts, one rule each:

* **NumPy (synthesis)**: a clip is ``(T, H, W, 3)`` float32 in ``[0, 1]``; a frame is
  ``(H, W, 3)``. Channels last, because PIL, OpenCV, PyAV and scikit-image all work that way.
* **torch (learning)**: a clip is ``(T, 3, H, W)`` float32 in ``[0, 1]``; a batch of clips is
  ``(B, T, 3, H, W)``. Channels first, as every convolution expects.

:func:`to_frames` turns what users typically hold (uint8 images, a single frame, grayscale,
RGBA) into the NumPy layout; :func:`check_clip` is the strict gate that every degradation and
dataset passes its input through, with errors that say what was wrong and what to do.
"""

from __future__ import annotations

import numpy as np


def _describe(x) -> str:
    shape = tuple(getattr(x, "shape", ()))
    dtype = getattr(x, "dtype", type(x).__name__)
    return f"{shape} {dtype}"


def check_clip(clip, name: str = "clip") -> np.ndarray:
    """Validate a NumPy clip ``(T, H, W, 3)`` float32 in [0, 1] and return it unchanged."""
    if not isinstance(clip, np.ndarray):
        raise TypeError(
            f"expected {name} as a NumPy array shaped (T, H, W, 3) float32 in [0, 1], got "
            f"{type(clip).__name__}: use ronin_lite.data.to_frames(...) or .to_numpy_clip(...)"
        )
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(
            f"expected {name} shaped (T, H, W, 3) float32 in [0, 1], got {_describe(clip)}: "
            "use ronin_lite.data.to_frames(...) to convert images or single frames"
        )
    if clip.dtype != np.float32:
        raise TypeError(
            f"expected {name} as float32 in [0, 1], got {_describe(clip)}: "
            "use ronin_lite.data.to_frames(...) (it scales uint8 by 1/255)"
        )
    if clip.shape[0] < 1 or clip.shape[1] < 2 or clip.shape[2] < 2:
        raise ValueError(f"{name} is empty or too small: {_describe(clip)}")
    if not np.isfinite(clip).all():
        raise ValueError(f"{name} contains NaN or Inf values; clean or clip the input first")
    lo, hi = float(clip.min()), float(clip.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(
            f"expected {name} values in [0, 1], got range [{lo:.3g}, {hi:.3g}]: "
            "divide 8-bit data by 255, or np.clip(...) values that overshoot"
        )
    return clip


def to_frames(x) -> np.ndarray:
    """Convert images to a NumPy clip ``(T, H, W, 3)`` float32 in [0, 1].

    Accepts one frame ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` or a stack ``(T, H, W[, C])``,
    as uint8 (scaled by 1/255), uint16 (by 1/65535) or float in [0, 1]. Grayscale is repeated
    to three channels; an alpha channel is dropped. Torch tensors ``(T, 3, H, W)`` are accepted
    too (moved to the CPU and transposed).
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
        if x.ndim == 4 and x.shape[1] in (1, 3, 4) and x.shape[-1] not in (1, 3, 4):
            x = np.moveaxis(x, 1, -1)
        elif x.ndim == 3 and x.shape[0] in (1, 3, 4) and x.shape[-1] not in (1, 3, 4):
            x = np.moveaxis(x, 0, -1)
    x = np.asarray(x)
    if x.ndim == 2:  # (H, W) grayscale frame
        x = x[None, :, :, None]
    elif x.ndim == 3:
        # (H, W, C) frame, or (T, H, W) grayscale stack
        x = x[None] if x.shape[-1] in (1, 3, 4) else x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"cannot read {_describe(x)} as frames: expected (H, W), (H, W, C), (T, H, W) or "
            "(T, H, W, C) with C in {1, 3, 4}"
        )
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    elif x.shape[-1] == 4:
        x = x[..., :3]
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif x.dtype == np.uint16:
        x = x.astype(np.float32) / 65535.0
    elif x.dtype == np.bool_:
        x = x.astype(np.float32)
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    else:
        raise TypeError(
            f"cannot read {_describe(x)} as frames: use uint8, uint16 or float in [0, 1]"
        )
    return check_clip(np.ascontiguousarray(x), "frames")


def to_uint8(clip: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] float clip or frame to uint8 (round half to even, clipped)."""
    return np.clip(np.rint(np.asarray(clip) * 255.0), 0, 255).astype(np.uint8)


def to_torch_clip(clip: np.ndarray):
    """NumPy ``(T, H, W, 3)`` -> torch ``(T, 3, H, W)`` float32 (a copy, contiguous)."""
    import torch

    check_clip(clip)
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(clip, -1, 1)))


def to_numpy_clip(clip) -> np.ndarray:
    """torch ``(T, 3, H, W)`` (or ``(3, H, W)``) in [0, 1] -> NumPy ``(T, H, W, 3)`` float32."""
    arr = clip.detach().cpu().float().numpy() if hasattr(clip, "detach") else np.asarray(clip)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1] != 3:
        raise ValueError(f"expected a torch clip shaped (T, 3, H, W), got {_describe(arr)}")
    return np.ascontiguousarray(np.moveaxis(arr, 1, -1).astype(np.float32))
