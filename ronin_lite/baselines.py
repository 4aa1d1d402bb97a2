"""Classical reference restorers: what RONIN-lite must beat on the same clips.

The paper compares against learned all-in-one restorers; at our scale the honest reference
points are the degraded input itself and classical methods that need no training and run
offline. Each is *blind* (it gets the degraded frames only, like the network) and its
parameters are fixed here, stated once, and recorded in results (:func:`baseline_config`):

``input``
    the degraded frames unchanged (every table's floor).
``nlm``
    scikit-image non-local means per frame, the noise level estimated from the frame
    (``estimate_sigma``, averaged over channels), ``h = 0.8 sigma``, 5x5 patches, 13x13 search
    window, ``fast_mode``, with ``sigma`` passed so the known noise variance is subtracted.
``tv``
    scikit-image total-variation denoising (Chambolle), weight ``1.5 x`` the estimated sigma,
    floored at 0.01 (no smoothing on clean-looking frames beyond that).
``wavelet``
    scikit-image wavelet denoising, BayesShrink soft thresholds in YCbCr, rescaled sigma.
``nlm-video``
    OpenCV's multi-frame non-local means (``fastNlMeansDenoisingColoredMulti``): each frame with
    its two neighbours (a temporal window of 3; at the clip's ends the end frame stands in for
    the missing neighbour), ``h`` from the estimated sigma in 8-bit units.
    It looks one frame *ahead*: an offline method, unlike the causal network.
``wiener``
    Wiener deconvolution (``skimage.restoration.wiener``) with an assumed Gaussian PSF of
    sigma 1.2 px and a regularisation balance of 0.1 on each channel: a blind deblurring guess
    (the true blur differs per clip), the classical counterpart for the blur third of 3d-lite.

All take and return clips ``(T, H, W, 3)`` float32 in [0, 1] (``ronin_lite.data.frames``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .data.frames import check_clip

Restorer = Callable[[np.ndarray], np.ndarray]  # (T, H, W, 3) float32 -> (T, H, W, 3) float32

WIENER_PSF_SIGMA = 1.2
WIENER_BALANCE = 0.1


def _sigma(frame: np.ndarray) -> float:
    from skimage.restoration import estimate_sigma

    return float(np.mean(estimate_sigma(frame, channel_axis=-1)))


def identity(clip: np.ndarray) -> np.ndarray:
    """The degraded input itself."""
    return check_clip(clip).astype(np.float32, copy=True)


def nlm(clip: np.ndarray) -> np.ndarray:
    """Blind non-local means, frame by frame (scikit-image)."""
    from skimage.restoration import denoise_nl_means

    out = []
    for frame in check_clip(clip):
        sigma = _sigma(frame)
        out.append(denoise_nl_means(frame, h=0.8 * sigma, sigma=sigma, patch_size=5,
                                    patch_distance=6, fast_mode=True, channel_axis=-1))
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def tv(clip: np.ndarray) -> np.ndarray:
    """Blind total-variation denoising, frame by frame (scikit-image, Chambolle)."""
    from skimage.restoration import denoise_tv_chambolle

    out = [denoise_tv_chambolle(f, weight=max(1.5 * _sigma(f), 0.01), channel_axis=-1)
           for f in check_clip(clip)]
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def wavelet(clip: np.ndarray) -> np.ndarray:
    """Blind wavelet denoising (BayesShrink, YCbCr), frame by frame (scikit-image)."""
    from skimage.restoration import denoise_wavelet

    out = [denoise_wavelet(f, method="BayesShrink", mode="soft", rescale_sigma=True,
                           convert2ycbcr=True, channel_axis=-1) for f in check_clip(clip)]
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def nlm_video(clip: np.ndarray) -> np.ndarray:
    """OpenCV multi-frame non-local means over a temporal window of 3 frames (offline)."""
    import cv2

    clip = check_clip(clip)
    u8 = np.ascontiguousarray((np.clip(clip, 0, 1) * 255 + 0.5).astype(np.uint8))
    T = len(u8)
    if T < 3:  # OpenCV's window must fit in the sequence: single frames go through the 2-D one
        out = [cv2.fastNlMeansDenoisingColored(f, None, *(2 * [_h(f)]), 5, 13) for f in u8]
    else:
        out = []
        for t in range(T):
            window = [u8[max(t - 1, 0)], u8[t], u8[min(t + 1, T - 1)]]  # edges repeated
            h = _h(u8[t])
            out.append(cv2.fastNlMeansDenoisingColoredMulti(window, 1, 3, None, h, h, 5, 13))
    return (np.stack(out).astype(np.float32) / 255.0)


def _h(frame_u8: np.ndarray) -> float:
    # OpenCV's filter strength in 8-bit units; about 0.8 sigma, at least 1
    return max(1.0, 0.8 * 255.0 * _sigma(frame_u8.astype(np.float32) / 255.0))


def _gaussian_psf(sigma: float) -> np.ndarray:
    r = int(np.ceil(3 * sigma))
    x = np.arange(-r, r + 1)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    psf = np.outer(g, g)
    return psf / psf.sum()


def wiener(clip: np.ndarray) -> np.ndarray:
    """Wiener deconvolution with an assumed Gaussian PSF, per channel (scikit-image)."""
    from skimage.restoration import wiener as sk_wiener

    psf = _gaussian_psf(WIENER_PSF_SIGMA)
    out = np.empty_like(check_clip(clip), dtype=np.float32)
    for t, frame in enumerate(clip):
        for c in range(3):
            out[t, ..., c] = sk_wiener(frame[..., c].astype(np.float64), psf, WIENER_BALANCE,
                                       clip=True)
    return np.clip(out, 0, 1)


BASELINES: dict[str, Restorer] = {
    "input": identity,
    "nlm": nlm,
    "tv": tv,
    "wavelet": wavelet,
    "nlm-video": nlm_video,
    "wiener": wiener,
}


def baseline_config(name: str) -> dict:
    """What a baseline's numbers depend on, for the results file."""
    get_baseline(name)
    params = {
        "input": {},
        "nlm": {"h": "0.8 sigma_est", "patch_size": 5, "patch_distance": 6, "fast_mode": True},
        "tv": {"weight": "max(1.5 sigma_est, 0.01)"},
        "wavelet": {"method": "BayesShrink", "mode": "soft", "convert2ycbcr": True},
        "nlm-video": {"temporal_window": 3, "h": "0.8 sigma_est (8-bit)", "template": 5,
                      "search": 13},
        "wiener": {"psf": f"gaussian sigma {WIENER_PSF_SIGMA}", "balance": WIENER_BALANCE},
    }[name]
    return {"name": name, **params}


def get_baseline(name: str) -> Restorer:
    """A baseline restorer by name (see the module docstring)."""
    try:
        return BASELINES[name]
    except KeyError:
        raise ValueError(f"unknown baseline {name!r}; choose from {sorted(BASELINES)}") from None
