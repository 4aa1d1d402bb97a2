"""Image-quality metrics shared by the data layer, the notebooks and ``evaluate``.

PSNR and SSIM are the numbers RONIN (and Turtle, AverNet, PromptIR) report. Here they work on
NumPy clips ``(T, H, W, 3)`` or frames ``(H, W, 3)`` in [0, 1]. PSNR is computed per frame and
averaged (the convention of video restoration papers), SSIM with scikit-image's Gaussian-window
implementation on RGB (``channel_axis=-1``, ``data_range=1``).
"""

from __future__ import annotations

import numpy as np


def _as_frames(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected (T, H, W, 3) or (H, W, 3) in [0, 1], got {x.shape}")
    return x


def psnr(restored: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of the PSNR in dB (data range 1); ``inf`` only if every frame is exact."""
    a, b = _as_frames(restored), _as_frames(clean)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        per_frame = 10.0 * np.log10(1.0 / mse)
    return float(np.mean(per_frame))


def ssim(restored: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of SSIM (scikit-image, Gaussian window, RGB)."""
    from skimage.metrics import structural_similarity

    a, b = _as_frames(restored), _as_frames(clean)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.mean([
        structural_similarity(x, y, channel_axis=-1, data_range=1.0, gaussian_weights=True,
                              sigma=1.5, use_sample_covariance=False)
        for x, y in zip(a, b)
    ]))
