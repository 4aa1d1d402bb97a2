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
    Wiener deconvolution (``skimage.restoration.wiener``, on a mirrored margin so that the FFT's
    periodic borders do not ring) with an assumed Gaussian PSF of
    sigma 1.2 px and a regularisation balance of 0.1 on each channel: a blind deblurring guess
    (the true blur differs per clip), the classical counterpart for the blur third of 3d-lite.
    ``wiener(clip, psf_sigma="estimate")`` estimates the blur per frame instead
    (:func:`estimate_blur_sigma`); with the true sigma it is the labelled *oracle*.
``deblock``
    FFmpeg's ``deblock`` filter (through PyAV): the classical counterpart for JPEG.

The parameters above are the defaults; ``data_scripts/tune_baselines.py`` tunes each method's
parameters per task on the val scenes of the ``"bundled"`` protocol and records the choice
(``results/baselines_bundled_<profile>.json``).

All take and return clips ``(T, H, W, 3)`` float32 in [0, 1] (``ronin_lite.data.frames``).
"""

from __future__ import annotations

from fractions import Fraction
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


def nlm(clip: np.ndarray, h_factor: float = 0.8) -> np.ndarray:
    """Blind non-local means, frame by frame (scikit-image); ``h = h_factor x sigma_est``."""
    from skimage.restoration import denoise_nl_means

    out = []
    for frame in check_clip(clip):
        sigma = _sigma(frame)
        out.append(denoise_nl_means(frame, h=h_factor * sigma, sigma=sigma, patch_size=5,
                                    patch_distance=6, fast_mode=True, channel_axis=-1))
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def tv(clip: np.ndarray, weight_factor: float = 1.5) -> np.ndarray:
    """Blind total-variation denoising, frame by frame (scikit-image, Chambolle); weight
    ``max(weight_factor x sigma_est, 0.01)``."""
    from skimage.restoration import denoise_tv_chambolle

    out = [denoise_tv_chambolle(f, weight=max(weight_factor * _sigma(f), 0.01), channel_axis=-1)
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


#: the two reference blurs of :func:`estimate_blur_sigma` (pixels)
_REBLUR = (1.0, 2.0)


def estimate_blur_sigma(frame: np.ndarray, top: float = 0.05) -> float:
    """Blind estimate of a Gaussian blur's sigma (pixels) from one frame ``(H, W, 3)``, by
    re-blurring (Hu & de Haan, "Low cost robust blur estimator", ICIP 2006).

    At a step edge blurred by ``sigma``, a further Gaussian of ``s`` leaves a gradient peak
    proportional to ``1 / sqrt(sigma^2 + s^2)``. With two known re-blurs ``s_a < s_b`` the ratio
    ``r`` of the gradient magnitudes gives ``sigma^2 = (s_b^2 - r^2 s_a^2) / (r^2 - 1)``; the
    median over the ``top`` fraction of strongest edges (luma) is returned, floored at 0.3.
    """
    from scipy.ndimage import gaussian_filter

    luma = check_clip(frame[None])[0] @ np.array([0.299, 0.587, 0.114], np.float32)
    grads = []
    for s in _REBLUR:
        g = gaussian_filter(luma.astype(np.float64), s)
        gy, gx = np.gradient(g)
        grads.append(np.hypot(gx, gy))
    ga, gb = grads
    edges = gb >= np.quantile(gb, 1 - top)
    r2 = (ga[edges] / np.maximum(gb[edges], 1e-12)) ** 2
    sa, sb = _REBLUR
    sigma2 = (sb**2 - r2 * sa**2) / np.maximum(r2 - 1, 1e-6)
    return float(max(np.sqrt(max(np.median(sigma2), 0.0)), 0.3))


def wiener(clip: np.ndarray, psf_sigma: float | str = WIENER_PSF_SIGMA,
           balance: float = WIENER_BALANCE) -> np.ndarray:
    """Wiener deconvolution with a Gaussian PSF, per channel (scikit-image).

    ``psf_sigma``: the PSF's sigma in pixels, or ``"estimate"`` (per frame,
    :func:`estimate_blur_sigma`: blind). The oracle (the true sigma from the degradation's
    record) is the same call with that number.
    """
    from skimage.restoration import wiener as sk_wiener

    out = np.empty_like(check_clip(clip), dtype=np.float32)
    for t, frame in enumerate(clip):
        sigma = estimate_blur_sigma(frame) if psf_sigma == "estimate" else float(psf_sigma)
        psf = _gaussian_psf(sigma)
        # the FFT deconvolution assumes a periodic frame: without a margin, the jump between
        # opposite borders rings over the whole of a small frame (-10 dB at 64 px), so the
        # frame is mirrored by a margin first and cropped back after
        pad = max(16, int(np.ceil(6 * sigma)))
        padded = np.pad(frame, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        for c in range(3):
            restored = sk_wiener(padded[..., c].astype(np.float64), psf, balance, clip=True)
            out[t, ..., c] = restored[pad:-pad, pad:-pad]
    return np.clip(out, 0, 1)


#: FFmpeg's ``deblock`` filter defaults (libavfilter/vf_deblock.c): thresholds in units of the
#: pixel range; :func:`deblock`'s ``scale`` multiplies all four
DEBLOCK_THRESHOLDS = {"alpha": 0.098, "beta": 0.05, "gamma": 0.05, "delta": 0.05}


def deblock(clip: np.ndarray, strength: str = "strong", scale: float = 1.0,
            block: int = 8) -> np.ndarray:
    """JPEG deblocking with FFmpeg's ``deblock`` filter (through a PyAV filter graph), frame by
    frame on 8-bit RGB converted to YUV 4:4:4: smooths across ``block``-pixel block edges where
    the step is below the thresholds (``strength`` ``"weak"`` or ``"strong"``; thresholds
    :data:`DEBLOCK_THRESHOLDS` times ``scale``)."""
    import av

    if strength not in ("weak", "strong"):
        raise ValueError(f"strength must be 'weak' or 'strong', got {strength!r}")
    clip = check_clip(clip)
    T, H, W, _ = clip.shape
    u8 = np.ascontiguousarray((np.clip(clip, 0, 1) * 255 + 0.5).astype(np.uint8))
    graph = av.filter.Graph()
    src = graph.add_buffer(width=W, height=H, format="yuv444p", time_base=Fraction(1, 25))
    opts = ":".join(f"{k}={min(v * scale, 1.0):.4f}" for k, v in DEBLOCK_THRESHOLDS.items())
    filt = graph.add("deblock", f"filter={strength}:block={block}:{opts}")
    sink = graph.add("buffersink")
    src.link_to(filt)
    filt.link_to(sink)
    graph.configure()
    out = []
    for t in range(T):
        frame = av.VideoFrame.from_ndarray(u8[t], format="rgb24").reformat(format="yuv444p")
        frame.pts = t
        graph.push(frame)
        out.append(graph.pull().to_ndarray(format="rgb24"))
    return np.stack(out).astype(np.float32) / 255.0


BASELINES: dict[str, Restorer] = {
    "input": identity,
    "nlm": nlm,
    "tv": tv,
    "wavelet": wavelet,
    "nlm-video": nlm_video,
    "wiener": wiener,
    "deblock": deblock,
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
        "deblock": {"filter": "FFmpeg deblock", "strength": "strong", "block": 8,
                    **DEBLOCK_THRESHOLDS},
    }[name]
    return {"name": name, **params}


def get_baseline(name: str) -> Restorer:
    """A baseline restorer by name (see the module docstring)."""
    try:
        return BASELINES[name]
    except KeyError:
        raise ValueError(f"unknown baseline {name!r}; choose from {sorted(BASELINES)}") from None
