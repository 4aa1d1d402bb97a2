"""Image-quality metrics shared by the data layer, the notebooks and ``evaluate``.

PSNR and SSIM are the numbers RONIN (and Turtle, AverNet, PromptIR) report. Here they work on
NumPy clips ``(T, H, W, 3)`` or frames ``(H, W, 3)`` in [0, 1]. PSNR is computed per frame and
averaged (the convention of video restoration papers), SSIM with scikit-image's Gaussian-window
implementation (``data_range=1``, sigma 1.5, population covariances).

**Conventions.** Papers differ in three choices, and a few tenths of a dB hang on them (the
most frequent "your checkpoint does not reproduce the paper" question in this field). A
:class:`Convention` names them; the course's default is the first of each:

* ``channel``: ``"rgb"`` (all three channels) or ``"y"`` (the luma of ITU-R BT.601 in studio
  range, ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``, as BasicSR and MATLAB's
  ``rgb2ycbcr`` compute it - the convention of most image-restoration papers);
* ``crop_border``: pixels left out at every edge before scoring (BasicSR's ``crop_border``;
  0 = none);
* ``quantize``: round both images to 8 bits first (``round(x * 255) / 255``), as scoring saved
  PNG files does; ``False`` scores the floats the restorer returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("rgb", "y")


@dataclass(frozen=True)
class Convention:
    """How a metric reads the images (see the module's docstring)."""

    channel: str = "rgb"
    crop_border: int = 0
    quantize: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {self.channel!r}")
        if int(self.crop_border) != self.crop_border or self.crop_border < 0:
            raise ValueError(f"crop_border must be an integer >= 0, got {self.crop_border!r}")

    def describe(self) -> str:
        """For table headers: ``"RGB, float, no border crop"``."""
        return (f"{self.channel.upper()}, {'8-bit' if self.quantize else 'float'}, "
                f"{f'{self.crop_border} px border cropped' if self.crop_border else 'no border crop'}")

    def to_dict(self) -> dict:
        return {"channel": self.channel, "crop_border": self.crop_border,
                "quantize": self.quantize}


DEFAULT = Convention()


def _as_frames(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected (T, H, W, 3) or (H, W, 3) in [0, 1], got {x.shape}")
    return x


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 studio-range luma of ``(..., 3)`` RGB in [0, 1], as a fraction of 255:
    ``(16 + 65.481 R + 128.553 G + 24.966 B) / 255`` (values in [16/255, 235/255])."""
    return (16.0 + frames @ np.array([65.481, 128.553, 24.966])) / 255.0


def _prepare(restored, clean, convention: Convention) -> tuple[np.ndarray, np.ndarray]:
    """Both clips as ``(T, H', W', C)`` float64 under ``convention`` (C = 3 or 1)."""
    a, b = _as_frames(restored), _as_frames(clean)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if convention.quantize:
        a, b = np.round(np.clip(a, 0, 1) * 255) / 255, np.round(np.clip(b, 0, 1) * 255) / 255
    if convention.channel == "y":
        a, b = luma(a)[..., None], luma(b)[..., None]
    c = convention.crop_border
    if c:
        if min(a.shape[1:3]) <= 2 * c:
            raise ValueError(f"frames of {a.shape[2]}x{a.shape[1]} are too small to crop {c} px "
                             "at every border")
        a, b = a[:, c:-c, c:-c], b[:, c:-c, c:-c]
    return a, b


def psnr(restored: np.ndarray, clean: np.ndarray, convention: Convention = DEFAULT) -> float:
    """Mean over frames of the PSNR in dB (data range 1); ``inf`` only if every frame is exact."""
    a, b = _prepare(restored, clean, convention)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        per_frame = 10.0 * np.log10(1.0 / mse)
    return float(np.mean(per_frame))


def ssim(restored: np.ndarray, clean: np.ndarray, convention: Convention = DEFAULT) -> float:
    """Mean over frames of SSIM (scikit-image, Gaussian window; over the three channels for
    RGB, on the luma for Y)."""
    from skimage.metrics import structural_similarity

    a, b = _prepare(restored, clean, convention)
    return float(np.mean([
        structural_similarity(x[..., 0], y[..., 0], data_range=1.0, gaussian_weights=True,
                              sigma=1.5, use_sample_covariance=False)
        if x.shape[-1] == 1 else
        structural_similarity(x, y, channel_axis=-1, data_range=1.0, gaussian_weights=True,
                              sigma=1.5, use_sample_covariance=False)
        for x, y in zip(a, b)
    ]))
