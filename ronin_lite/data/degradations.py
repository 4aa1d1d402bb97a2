"""Degradations: the corruptions RONIN learns to restore, each a plain seeded function.

RONIN (arXiv 2507.14851) is an *all-in-one* video restorer: one network, trained on clips hit by
many kinds of degradation, must recognise which ones are present in each frame (that is what its
language-grounded prompts are for) and undo them. The paper reports results on

* a **3D** setting: noise, blur and compression;
* a **4D** setting: the same plus one weather or light degradation (snow, rain, haze, low light);
* **time-varying composites** in the style of AverNet (NeurIPS 2024): a new random combination of
  noise / blur / JPEG / video codec / resize blur every few frames, and a setting where the snow
  intensity rises and falls along the clip.

This module is the synthesis side of those settings. Every degradation is a function
``fn(clip, *, params..., rng) -> clip`` on a NumPy clip ``(T, H, W, 3)`` float32 in [0, 1]
(checked by :func:`ronin_lite.data.frames.check_clip`, frames at least 16 x 16, odd sizes
welcome); it returns a new clip of the same shape and dtype, clipped to [0, 1]. Every parameter
has a documented valid range (:data:`DEGRADATIONS` ``[name].ranges``); a value outside it raises
``ValueError`` naming the parameter, the value and the range.

On top of the functions:

* :data:`DEGRADATIONS` - the registry: family, description, ranges, and ``params_at`` which maps
  one scalar *intensity* in [0, 1] (0 = barely visible, 1 = severe) to parameters (Gaussian
  sigma 5/255 .. 50/255, JPEG quality 60 .. 10, H.264 CRF 25 .. 45, ...): wider than AverNet's
  test ranges (sigma 10-15/255, quality 20-40) so that one scale spans slight to severe.
* :class:`Op` (one degradation with its parameters), :class:`Segment` (ops on frames
  ``[start, stop)``) and schedules (segments covering the clip): :func:`apply_ops` and
  :func:`apply_schedule` apply them and return, for every frame, a JSON-serialisable *record* of
  exactly what was applied. The records are the ground truth the "oracle" describer and the
  evaluation per degradation read; the model never sees them.
* :func:`segment_schedule` (AverNet's time-varying degradations) and :func:`smooth_curve`
  (a rising-and-falling intensity curve, for the snowy setting).

Where this departs from the papers, and why:

* The papers evaluate on fixed, pre-synthesised test sets (some weather from recorded masks);
  here everything is synthesised procedurally, from a seed, because no data set can be
  downloaded on the course machines and because the per-frame records must be exact.
* Rain and snow are rendered (streaks and soft Gaussian flakes that move consistently from frame
  to frame), haze follows the atmospheric scattering model on a smooth random depth proxy, low
  light is a gamma + gain darkening with signal-dependent noise. These are simple physical models,
  not replicas of any particular data set.
* Composite order (for :func:`segment_schedule`): weather -> light -> blur -> noise ->
  compression, the order in which a camera meets them (the scene, the optics, the sensor, the
  encoder). AverNet draws each candidate with probability 0.45 every 6 frames; we keep that and
  allow at most one degradation per family so that a record reads as "one noise, one blur, ...".
* Randomness: stochastic functions take an explicit ``np.random.Generator`` (or an int seed);
  schedules derive one generator per (segment, op) from the caller's seed with
  :func:`op_rng`, so the same seed always gives the same arrays.
"""

from __future__ import annotations

import inspect
import io
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import av
import cv2
import numpy as np
from scipy.interpolate import PchipInterpolator

from .frames import check_clip, to_uint8

MIN_SIZE = 16  # smallest frame height / width the degradations accept
FAMILIES = ("noise", "blur", "compression", "weather", "light")
# Composite order: the scene (weather, light), then the optics (blur), the sensor (noise), the
# encoder (compression).
FAMILY_ORDER = ("weather", "light", "blur", "noise", "compression")
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)
INTERPOLATIONS: Mapping[str, int] = MappingProxyType({
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
})
AVERNET_POOL = (
    "gaussian_noise", "poisson_noise", "speckle_noise", "jpeg", "video_codec", "gaussian_blur",
    "resize_blur",
)

# Valid range of every numeric parameter, per degradation: the single source of truth for the
# functions' checks and for DegradationSpec.ranges.
_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "gaussian_noise": {"sigma": (0.0, 0.3)},
    "poisson_noise": {"peak": (1.0, 1000.0)},
    "speckle_noise": {"sigma": (0.0, 0.5)},
    "gaussian_blur": {"sigma": (0.0, 5.0)},
    "anisotropic_blur": {"sigma_x": (0.2, 5.0), "sigma_y": (0.2, 5.0), "angle": (0.0, 180.0)},
    "motion_blur": {"length": (1.0, 31.0), "angle": (0.0, 180.0)},
    "jpeg": {"quality": (5, 95)},
    "video_codec": {"crf": (18, 51)},
    "resize_blur": {"scale": (0.1, 1.0)},
    "haze": {"beta": (0.0, 4.0), "airlight": (0.5, 1.0)},
    "rain": {
        "density": (0.0, 0.05), "length": (1.0, 40.0), "angle": (-45.0, 45.0),
        "brightness": (0.0, 1.0), "speed": (0.0, 40.0),
    },
    "snow": {"intensity": (0.0, 1.0), "speed": (0.0, 8.0)},
    "low_light": {"gamma": (1.0, 4.0), "gain": (0.05, 1.0), "noise_sigma": (0.0, 0.2)},
}
_CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "video_codec": {"preset": X264_PRESETS},
    "resize_blur": {"interpolation": tuple(INTERPOLATIONS)},
}
_INTEGER_PARAMS = frozenset({"quality", "crf"})


# ---------------------------------------------------------------------------------------------
# Checks shared by every function
# ---------------------------------------------------------------------------------------------


def _check_input(clip: np.ndarray, fn: str) -> np.ndarray:
    """check_clip plus the minimum frame size of this module."""
    check_clip(clip)
    h, w = clip.shape[1:3]
    if h < MIN_SIZE or w < MIN_SIZE:
        raise ValueError(
            f"{fn}: frames must be at least {MIN_SIZE}x{MIN_SIZE} pixels, got {h}x{w}: "
            "upscale or pad the clip first"
        )
    return clip


def _check_value(fn: str, param: str, value: Any) -> Any:
    """Validate one scalar parameter of degradation ``fn``; return it as float / int / str."""
    choices = _CHOICES.get(fn, {}).get(param)
    if choices is not None:
        if value not in choices:
            raise ValueError(f"{fn}: {param}={value!r} is not valid; choose one of {list(choices)}")
        return value
    lo, hi = _RANGES[fn][param]
    integer = param in _INTEGER_PARAMS
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "an integer" if integer else "a number"
        raise TypeError(f"{fn}: {param} must be {kind} in [{lo}, {hi}], got {value!r}")
    if not lo <= float(value) <= hi:  # also rejects NaN
        raise ValueError(f"{fn}: {param}={value!r} is out of range; valid range is [{lo}, {hi}]")
    if integer and float(value) != int(value):
        raise ValueError(f"{fn}: {param}={value!r} must be an integer in [{lo}, {hi}]")
    return int(value) if integer else float(value)


def _as_rng(rng: np.random.Generator | int, fn: str) -> np.random.Generator:
    """An explicit Generator, or one seeded from an int; never global state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{fn}: rng must be a numpy.random.Generator or a non-negative int seed, got {rng!r}: "
        "pass np.random.default_rng(seed)"
    )


def _finish(x: np.ndarray) -> np.ndarray:
    """Every degradation ends here: float32, clipped to [0, 1]."""
    return np.clip(x, 0.0, 1.0).astype(np.float32, copy=False)


def _map_frames(clip: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a frame function ``(H, W, 3) -> (H, W, 3)`` to every frame of the clip."""
    return _finish(np.stack([fn(frame) for frame in clip]))


# ---------------------------------------------------------------------------------------------
# Noise (sensor)
# ---------------------------------------------------------------------------------------------


def gaussian_noise(clip: np.ndarray, *, sigma: float, rng: np.random.Generator | int) -> np.ndarray:
    """Additive white Gaussian noise, ``x + N(0, sigma^2)``, independent per pixel and channel.

    sigma: standard deviation in [0, 0.3] ([0, 1] units; 15/255 ~ 0.059).
    """
    _check_input(clip, "gaussian_noise")
    sigma = _check_value("gaussian_noise", "sigma", sigma)
    rng = _as_rng(rng, "gaussian_noise")
    return _finish(clip + sigma * rng.standard_normal(clip.shape, dtype=np.float32))


def poisson_noise(clip: np.ndarray, *, peak: float, rng: np.random.Generator | int) -> np.ndarray:
    """Photon (shot) noise: ``Poisson(x * peak) / peak``; its variance grows with brightness.

    peak: expected photon count of a white pixel, in [1, 1000]; lower is noisier (at x = 0.5,
    peak 400 gives a standard deviation of about 0.035, peak 15 about 0.18).
    """
    _check_input(clip, "poisson_noise")
    peak = _check_value("poisson_noise", "peak", peak)
    rng = _as_rng(rng, "poisson_noise")
    return _finish(rng.poisson(clip * peak) / peak)


def speckle_noise(clip: np.ndarray, *, sigma: float, rng: np.random.Generator | int) -> np.ndarray:
    """Multiplicative noise, ``x * (1 + N(0, sigma^2))``: dark regions stay clean.

    sigma: relative standard deviation in [0, 0.5].
    """
    _check_input(clip, "speckle_noise")
    sigma = _check_value("speckle_noise", "sigma", sigma)
    rng = _as_rng(rng, "speckle_noise")
    return _finish(clip * (1.0 + sigma * rng.standard_normal(clip.shape, dtype=np.float32)))


# ---------------------------------------------------------------------------------------------
# Blur (optics, motion, resolution)
# ---------------------------------------------------------------------------------------------


def _kernel_radius(sigma: float) -> int:
    """Half-width of a Gaussian kernel that keeps 3 sigma on each side."""
    return max(1, math.ceil(3.0 * sigma))


def _filter(clip: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve every frame with a 2-D kernel (mirrored borders)."""
    return _map_frames(
        clip, lambda f: cv2.filter2D(f, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    )


def gaussian_blur(clip: np.ndarray, *, sigma: float) -> np.ndarray:
    """Isotropic Gaussian blur (defocus), kernel size ``2 * ceil(3 sigma) + 1``.

    sigma: standard deviation in pixels, in [0, 5]; 0 leaves the clip unchanged.
    """
    _check_input(clip, "gaussian_blur")
    sigma = _check_value("gaussian_blur", "sigma", sigma)
    if sigma == 0.0:
        return clip.copy()
    k = 2 * _kernel_radius(sigma) + 1
    return _map_frames(
        clip, lambda f: cv2.GaussianBlur(f, (k, k), sigma, borderType=cv2.BORDER_REFLECT_101)
    )


def anisotropic_gaussian_kernel(sigma_x: float, sigma_y: float, angle: float) -> np.ndarray:
    """A normalised 2-D Gaussian with axes ``sigma_x``, ``sigma_y`` rotated by ``angle`` degrees.

    Returns a square ``(k, k)`` float32 kernel summing to 1, ``k = 2 * ceil(3 max(sigma)) + 1``;
    ``angle`` turns the x axis of the ellipse counter-clockwise, as seen on screen.
    """
    r = _kernel_radius(max(sigma_x, sigma_y))
    theta = math.radians(angle)
    # Image coordinates: x to the right, y downwards; rotate them into the ellipse's frame.
    y, x = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    u = x * math.cos(theta) - y * math.sin(theta)  # along the ellipse's first axis
    v = x * math.sin(theta) + y * math.cos(theta)  # along its second axis
    kernel = np.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def anisotropic_blur(
    clip: np.ndarray, *, sigma_x: float, sigma_y: float, angle: float
) -> np.ndarray:
    """Blur with a rotated anisotropic Gaussian (astigmatic optics, slight camera shake).

    sigma_x, sigma_y: standard deviations of the two axes in pixels, each in [0.2, 5] (below
    0.2 px a Gaussian is narrower than the pixel grid can show). angle: rotation of the first
    axis in degrees, in [0, 180].
    """
    _check_input(clip, "anisotropic_blur")
    sigma_x = _check_value("anisotropic_blur", "sigma_x", sigma_x)
    sigma_y = _check_value("anisotropic_blur", "sigma_y", sigma_y)
    angle = _check_value("anisotropic_blur", "angle", angle)
    return _filter(clip, anisotropic_gaussian_kernel(sigma_x, sigma_y, angle))


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A straight motion path of ``length`` pixels at ``angle`` degrees (counter-clockwise).

    The segment joins pixel centres ``(length - 1) / 2`` on each side of the middle, sampled
    densely and splatted bilinearly so that fractional lengths and any angle give a smooth
    kernel. Returns a square ``(k, k)`` float32 kernel summing to 1; ``length = 1`` is the
    identity.
    """
    half = (length - 1.0) / 2.0
    r = max(1, math.ceil(half))
    kernel = np.zeros((2 * r + 2, 2 * r + 2), np.float64)  # one spare row / column for splats
    steps = np.linspace(-half, half, max(2, math.ceil(8 * length)))
    theta = math.radians(angle)
    xs = r + steps * math.cos(theta)
    ys = r - steps * math.sin(theta)  # image y grows downwards
    _splat(kernel, ys, xs, np.ones_like(xs))
    kernel = kernel[: 2 * r + 1, : 2 * r + 1]
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(clip: np.ndarray, *, length: float, angle: float) -> np.ndarray:
    """Linear motion blur: the camera moved ``length`` pixels along ``angle`` while exposing.

    length: path length in pixels, in [1, 31] (1 = no blur). angle: direction in degrees
    counter-clockwise from the x axis, in [0, 180] (a path and its reverse blur alike).
    """
    _check_input(clip, "motion_blur")
    length = _check_value("motion_blur", "length", length)
    angle = _check_value("motion_blur", "angle", angle)
    return _filter(clip, motion_kernel(length, angle))


def resize_blur(clip: np.ndarray, *, scale: float, interpolation: str = "bicubic") -> np.ndarray:
    """Resolution loss: downscale every frame by ``scale``, then upscale back to its size.

    scale: in [0.1, 1] (1 = unchanged; the smaller side keeps at least one pixel).
    interpolation: used both ways, one of nearest, bilinear, bicubic, area, lanczos.
    """
    _check_input(clip, "resize_blur")
    scale = _check_value("resize_blur", "scale", scale)
    interpolation = _check_value("resize_blur", "interpolation", interpolation)
    flag = INTERPOLATIONS[interpolation]
    h, w = clip.shape[1:3]
    small = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 sizes are (W, H)

    def down_up(frame: np.ndarray) -> np.ndarray:
        # (H, W, 3) -> (h * scale, w * scale, 3) -> (H, W, 3)
        return cv2.resize(cv2.resize(frame, small, interpolation=flag), (w, h), interpolation=flag)

    return _map_frames(clip, down_up)


# ---------------------------------------------------------------------------------------------
# Compression (the encoder)
# ---------------------------------------------------------------------------------------------


def jpeg(clip: np.ndarray, *, quality: int) -> np.ndarray:
    """JPEG compression of every frame independently (OpenCV's libjpeg, 4:2:0 chroma).

    quality: integer in [5, 95]; lower means stronger 8x8 blocking and ringing.
    """
    _check_input(clip, "jpeg")
    quality = _check_value("jpeg", "quality", quality)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]

    def round_trip(frame: np.ndarray) -> np.ndarray:
        bgr = np.ascontiguousarray(to_uint8(frame)[..., ::-1])  # OpenCV expects BGR
        ok, buf = cv2.imencode(".jpg", bgr, params)
        if not ok:  # pragma: no cover - libjpeg does not fail on valid uint8 frames
            raise RuntimeError("jpeg: OpenCV failed to encode a frame")
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        return decoded.astype(np.float32) / 255.0

    return _map_frames(clip, round_trip)


def video_codec(clip: np.ndarray, *, crf: int, preset: str = "medium") -> np.ndarray:
    """H.264 compression of the whole clip (libx264, yuv420p), in memory through PyAV.

    The clip is encoded as one video (so inter-frame prediction, B-frames and their artefacts
    are real), then decoded back. Odd sizes are padded to even by edge replication (4:2:0 chroma
    needs even sizes) and cropped back. One encoder thread keeps the output identical across
    machines.

    crf: constant rate factor, integer in [18, 51]; higher means stronger compression.
    preset: an x264 speed preset (ultrafast ... veryslow); slower presets compress better.
    """
    _check_input(clip, "video_codec")
    crf = _check_value("video_codec", "crf", crf)
    preset = _check_value("video_codec", "preset", preset)
    t, h, w = clip.shape[:3]
    # (T, H, W, 3) -> (T, H + H % 2, W + W % 2, 3) uint8
    frames = np.pad(to_uint8(clip), ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    encoded = _encode_h264(frames, crf, preset)
    with av.open(io.BytesIO(encoded), mode="r") as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if len(decoded) != t:  # pragma: no cover - guards against a codec build dropping frames
        raise RuntimeError(f"video_codec: encoded {t} frames but decoded {len(decoded)}")
    # (T, H', W', 3) uint8 -> (T, H, W, 3) float32
    return _finish(np.stack(decoded)[:, :h, :w].astype(np.float32) / 255.0)


def _encode_h264(frames: np.ndarray, crf: int, preset: str) -> bytes:
    """Encode uint8 RGB frames ``(T, H, W, 3)`` (even H, W) to an MP4 held in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        options = {"crf": str(crf), "preset": preset, "threads": "1"}
        stream = container.add_stream("libx264", rate=25, options=options)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p")
            container.mux(stream.encode(picture))
        container.mux(stream.encode())  # flush the frames the encoder still holds
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Weather (the scene)
# ---------------------------------------------------------------------------------------------


def depth_proxy(height: int, width: int, rng: np.random.Generator | int) -> np.ndarray:
    """A smooth stand-in for scene depth, ``(H, W)`` float32 in [0, 1] (1 = far).

    Most outdoor frames have far things at the top and near things at the bottom: a vertical
    gradient, mixed (70 / 30) with a low-frequency random field (a 4x4 grid of Gaussian values
    upsampled bicubically) so that the haze is not perfectly uniform along rows.
    """
    rng = _as_rng(rng, "depth_proxy")
    vertical = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None]  # (H, 1)
    coarse = rng.standard_normal((4, 4)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)  # (H, W)
    field = (field - field.min()) / (field.max() - field.min())
    depth = 0.7 * vertical + 0.3 * field
    return ((depth - depth.min()) / (depth.max() - depth.min())).astype(np.float32)


def haze(
    clip: np.ndarray, *, beta: float, airlight: float, rng: np.random.Generator | int
) -> np.ndarray:
    """Atmospheric scattering: ``I = J t + A (1 - t)``, transmission ``t = exp(-beta d)``.

    ``d`` is :func:`depth_proxy`, drawn once per clip so that the haze stays put over time.
    beta: scattering coefficient in [0, 4] (0 = clear air). airlight: the grey level ``A`` of
    the atmospheric light, in [0.5, 1].
    """
    _check_input(clip, "haze")
    beta = _check_value("haze", "beta", beta)
    airlight = _check_value("haze", "airlight", airlight)
    rng = _as_rng(rng, "haze")
    depth = depth_proxy(clip.shape[1], clip.shape[2], rng)
    t = np.exp(-beta * depth)[None, :, :, None]  # (1, H, W, 1), shared by every frame
    return _finish(clip * t + airlight * (1.0 - t))


def _splat(canvas: np.ndarray, ys: np.ndarray, xs: np.ndarray, weights: np.ndarray) -> None:
    """Add ``weights`` at sub-pixel points ``(ys, xs)`` of ``canvas`` by bilinear splatting.

    Points must lie in ``[0, H - 1) x [0, W - 1)`` of the canvas (callers keep a spare border).
    """
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    fy, fx = ys - y0, xs - x0
    np.add.at(canvas, (y0, x0), weights * (1 - fy) * (1 - fx))
    np.add.at(canvas, (y0, x0 + 1), weights * (1 - fy) * fx)
    np.add.at(canvas, (y0 + 1, x0), weights * fy * (1 - fx))
    np.add.at(canvas, (y0 + 1, x0 + 1), weights * fy * fx)


def _wrap_filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve a 2-D image with periodic borders, so that it tiles seamlessly."""
    r = kernel.shape[0] // 2
    padded = np.pad(image, r, mode="wrap")
    return cv2.filter2D(padded, -1, kernel, borderType=cv2.BORDER_CONSTANT)[r:-r, r:-r]


def _rain_layer(
    height: int, width: int, density: float, length: float, angle: float, rng: np.random.Generator
) -> np.ndarray:
    """A periodic ``(H, W)`` layer of rain streaks in [0, 1], drawn once per clip."""
    # Drops: a fraction `density` of the pixels, each with its own brightness.
    drops = (rng.random((height, width)) < density) * rng.uniform(0.6, 1.0, (height, width))
    # Streaks: each drop smeared along its fall; angle is from the vertical, motion_kernel's
    # from the x axis. Scaled so that a streak's core keeps its drop's brightness.
    line = motion_kernel(length, 90.0 + angle)
    streaks = _wrap_filter(drops.astype(np.float32), line / line.max())
    # Soft edges: streaks are out of focus, a little wider than one pixel.
    soft = cv2.getGaussianKernel(5, 0.6)
    return np.clip(_wrap_filter(streaks, (soft @ soft.T).astype(np.float32)) * 1.5, 0.0, 1.0)


def rain(
    clip: np.ndarray,
    *,
    density: float,
    length: float,
    angle: float,
    brightness: float,
    rng: np.random.Generator | int,
    speed: float = 12.0,
) -> np.ndarray:
    """Bright slanted rain streaks that fall between frames.

    A periodic streak layer is drawn once per clip and translated by ``speed`` pixels per frame
    along the streaks' direction, wrapping around the frame; it is added by a *screen* blend,
    ``x + brightness * s * (1 - x)``, so that streaks brighten without saturating everything.

    density: fraction of pixels where a drop starts, in [0, 0.05]. length: streak length in
    pixels, in [1, 40]. angle: slant from the vertical in degrees, in [-45, 45] (positive falls
    to the right). brightness: streak opacity in [0, 1]. speed: fall per frame in pixels, in
    [0, 40].
    """
    _check_input(clip, "rain")
    density = _check_value("rain", "density", density)
    length = _check_value("rain", "length", length)
    angle = _check_value("rain", "angle", angle)
    brightness = _check_value("rain", "brightness", brightness)
    speed = _check_value("rain", "speed", speed)
    rng = _as_rng(rng, "rain")
    layer = _rain_layer(clip.shape[1], clip.shape[2], density, length, angle, rng)  # (H, W)
    fall = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])  # (dy, dx)
    out = np.empty_like(clip)
    for t, frame in enumerate(clip):
        dy, dx = np.rint(fall * speed * t).astype(int)
        streaks = np.roll(layer, (dy, dx), axis=(0, 1))[:, :, None]  # (H, W, 1)
        out[t] = frame + brightness * streaks * (1.0 - frame)
    return _finish(out)


# Snow: flakes per pixel of frame at full intensity, and the flakes' size classes (Gaussian
# sigma in px, share of flakes). Bigger flakes are nearer: they fall faster.
_SNOW_FLAKES_PER_PIXEL = 0.02
_SNOW_SIGMAS = np.array([0.5, 0.9, 1.5, 2.3])
_SNOW_SHARES = np.array([0.5, 0.28, 0.15, 0.07])
_SNOW_FADE = 0.1  # a flake fades in over this much intensity above its threshold
_SNOW_VEIL = 0.12  # whitening veil strength at intensity 1
_SNOW_VEIL_LEVEL = 0.9  # grey level of the veil


@dataclass(frozen=True)
class _Flakes:
    """Snow particles drawn once per clip; positions live on a canvas with a margin."""

    y: np.ndarray  # (N,) initial position on the canvas, px
    x: np.ndarray  # (N,)
    vy: np.ndarray  # (N,) fall per frame, px
    vx: np.ndarray  # (N,) steady sideways drift per frame, px
    phase: np.ndarray  # (N,) phase of the sideways wobble
    period: np.ndarray  # (N,) wobble period in frames
    size: np.ndarray  # (N,) index into _SNOW_SIGMAS
    threshold: np.ndarray  # (N,) the flake shows once intensity exceeds this
    opacity: np.ndarray  # (N,) peak opacity


def _draw_flakes(height: int, width: int, speed: float, rng: np.random.Generator) -> _Flakes:
    margin = _kernel_radius(_SNOW_SIGMAS.max())
    n = max(1, round(_SNOW_FLAKES_PER_PIXEL * height * width))
    size = rng.choice(len(_SNOW_SIGMAS), size=n, p=_SNOW_SHARES)
    nearness = size / (len(_SNOW_SIGMAS) - 1)  # 0 (small, far) .. 1 (big, near)
    return _Flakes(
        y=rng.uniform(0, height + 2 * margin, n),
        x=rng.uniform(0, width + 2 * margin, n),
        vy=speed * (0.6 + 0.4 * nearness) * rng.uniform(0.9, 1.1, n),
        vx=rng.normal(0.0, 0.15 * speed, n),
        phase=rng.uniform(0, 2 * math.pi, n),
        period=rng.uniform(8, 16, n),
        size=size,
        threshold=rng.random(n),
        opacity=rng.uniform(0.6, 1.0, n),
    )


def _render_flakes(
    flakes: _Flakes, t: int, intensity: float, height: int, width: int
) -> np.ndarray:
    """The snow layer ``(H, W)`` in [0, 1] of frame ``t`` at the given intensity."""
    margin = _kernel_radius(_SNOW_SIGMAS.max())
    ch, cw = height + 2 * margin, width + 2 * margin  # canvas with a margin on every side
    wobble = 0.5 * np.sin(flakes.phase + 2 * math.pi * t / flakes.period)
    ys = (flakes.y + flakes.vy * t) % ch
    xs = (flakes.x + flakes.vx * t + wobble) % cw
    alpha = flakes.opacity * np.clip((intensity - flakes.threshold) / _SNOW_FADE, 0.0, 1.0)
    layer = np.zeros((ch, cw), np.float32)
    for k, sigma in enumerate(_SNOW_SIGMAS):
        pick = (flakes.size == k) & (alpha > 0)
        if not pick.any():
            continue
        canvas = np.zeros((ch + 1, cw + 1), np.float32)  # + 1: room for bilinear splats
        _splat(canvas, ys[pick], xs[pick], alpha[pick])
        size = 2 * _kernel_radius(sigma) + 1
        peak = cv2.getGaussianKernel(size, sigma).max() ** 2  # a blurred unit dot's peak
        blobs = cv2.GaussianBlur(canvas, (size, size), sigma) / peak
        layer += blobs[:ch, :cw]
    return np.clip(layer[margin:margin + height, margin:margin + width], 0.0, 1.0)


def snow(
    clip: np.ndarray,
    *,
    intensity: float | Sequence[float],
    rng: np.random.Generator | int,
    speed: float = 1.5,
) -> np.ndarray:
    """Falling snow: soft flakes of several sizes moving consistently from frame to frame.

    Flakes are drawn once per clip (position, size, speed, drift, visibility threshold,
    opacity); each frame they fall by about ``speed`` pixels (bigger, nearer flakes faster),
    drift sideways with a small wobble, and wrap around. A flake is visible when the frame's
    intensity exceeds its threshold (fading in over 0.1), so the number and opacity of the
    visible flakes follow the intensity frame by frame. A slight whitening veil
    (``0.12 * intensity`` towards grey 0.9) comes first, the flakes on top.

    intensity: in [0, 1], a scalar or a per-frame sequence of length T. speed: fall per frame
    in pixels, in [0, 8].
    """
    _check_input(clip, "snow")
    n_frames, height, width = clip.shape[:3]
    levels = _snow_levels(intensity, n_frames)
    speed = _check_value("snow", "speed", speed)
    rng = _as_rng(rng, "snow")
    flakes = _draw_flakes(height, width, speed, rng)
    out = np.empty_like(clip)
    for t, (frame, level) in enumerate(zip(clip, levels)):
        veil = _SNOW_VEIL * level
        veiled = frame * (1.0 - veil) + _SNOW_VEIL_LEVEL * veil
        flake = _render_flakes(flakes, t, level, height, width)[:, :, None]  # (H, W, 1)
        out[t] = veiled * (1.0 - flake) + flake
    return _finish(out)


def _snow_levels(intensity: float | Sequence[float], n_frames: int) -> np.ndarray:
    """Snow intensity per frame ``(T,)``, from a scalar or a sequence of length T."""
    if np.ndim(intensity) == 0:
        return np.full(n_frames, _check_value("snow", "intensity", intensity))
    if np.ndim(intensity) != 1 or len(intensity) != n_frames:
        raise ValueError(
            f"snow: a per-frame intensity needs one value per frame: got shape "
            f"{np.shape(intensity)} for a clip of {n_frames} frames"
        )
    return np.array([_check_value("snow", "intensity", v) for v in intensity])


# ---------------------------------------------------------------------------------------------
# Light
# ---------------------------------------------------------------------------------------------

_READ_NOISE_FLOOR = 0.01  # signal level that sets the noise floor of a black pixel


def low_light(
    clip: np.ndarray,
    *,
    gamma: float,
    gain: float,
    noise_sigma: float,
    rng: np.random.Generator | int,
) -> np.ndarray:
    """Under-exposure: ``y = gain * x ** gamma`` plus signal-dependent sensor noise.

    The noise is Gaussian with standard deviation ``noise_sigma * sqrt(y + 0.01)``: shot noise
    (variance proportional to the signal) over a small read-noise floor.

    gamma: in [1, 4] (higher crushes the shadows). gain: exposure gain in [0.05, 1].
    noise_sigma: noise scale in [0, 0.2].
    """
    _check_input(clip, "low_light")
    gamma = _check_value("low_light", "gamma", gamma)
    gain = _check_value("low_light", "gain", gain)
    noise_sigma = _check_value("low_light", "noise_sigma", noise_sigma)
    rng = _as_rng(rng, "low_light")
    # the power in float64, rounded once to float32: NumPy's float32 power is dispatched to
    # CPU-specific SIMD code (AVX2, AVX-512) whose last bits differ, which would make a
    # frame's bytes - and the describer's phrasing, seeded by them - depend on the machine
    dark = gain * (clip.astype(np.float64) ** gamma).astype(np.float32)
    std = noise_sigma * np.sqrt(dark + _READ_NOISE_FLOOR)
    return _finish(dark + std * rng.standard_normal(clip.shape, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# Registry: families, ranges and the intensity -> parameters maps
# ---------------------------------------------------------------------------------------------


def _lerp(lo: float, hi: float, s: float) -> float:
    return lo + (hi - lo) * s


def _gerp(lo: float, hi: float, s: float) -> float:
    """Geometric interpolation, for parameters that act multiplicatively (photon counts)."""
    return lo * (hi / lo) ** s


@dataclass(frozen=True)
class DegradationSpec:
    """One registered degradation: what it is, its parameters, and its intensity scale.

    ``ranges`` maps each numeric parameter to its valid ``(lo, hi)``; ``choices`` maps each
    string parameter to its valid values. ``per_frame`` names the one parameter that may take a
    per-frame sequence (snow's ``intensity``), or is None. ``intensity_map(s, rng)`` maps an
    intensity ``s`` in [0, 1] to parameters; call it through :meth:`params_at`.
    """

    name: str
    family: str
    fn: Callable[..., np.ndarray]
    description: str
    ranges: Mapping[str, tuple[float, float]]
    choices: Mapping[str, tuple[str, ...]]
    intensity_map: Callable[[float, np.random.Generator], dict[str, Any]]
    per_frame: str | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family {self.family!r} is not one of {FAMILIES}")

    @property
    def stochastic(self) -> bool:
        """True when the function draws random numbers (takes ``rng``)."""
        return "rng" in inspect.signature(self.fn).parameters

    @property
    def param_names(self) -> tuple[str, ...]:
        """Every parameter the function takes besides the clip and ``rng``."""
        return tuple(self.ranges) + tuple(self.choices)

    def params_at(self, intensity: float, rng: np.random.Generator | int) -> dict[str, Any]:
        """Parameters for a scalar intensity in [0, 1]; the strength rises with it.

        ``rng`` draws only secondary parameters (orientation, airlight, speed), always the
        same draws in the same order, so one seed gives comparable parameters at every
        intensity.
        """
        intensity = _check_intensity(intensity, self.name)
        return self.intensity_map(intensity, _as_rng(rng, f"{self.name}.params_at"))

    def apply(
        self, clip: np.ndarray, params: Mapping[str, Any], rng: np.random.Generator | int
    ) -> np.ndarray:
        """``fn(clip, **params)``, passing ``rng`` only when the function is stochastic."""
        extra = {"rng": rng} if self.stochastic else {}
        return self.fn(clip, **params, **extra)


def _spec(
    name: str,
    family: str,
    fn: Callable[..., np.ndarray],
    description: str,
    intensity_map: Callable[[float, np.random.Generator], dict[str, Any]],
    per_frame: str | None = None,
) -> DegradationSpec:
    return DegradationSpec(
        name=name,
        family=family,
        fn=fn,
        description=description,
        ranges=MappingProxyType(_RANGES[name]),
        choices=MappingProxyType(_CHOICES.get(name, {})),
        intensity_map=intensity_map,
        per_frame=per_frame,
    )


def _anisotropic_at(s: float, rng: np.random.Generator) -> dict[str, Any]:
    major = _lerp(0.8, 4.0, s)
    minor = max(0.2, major * rng.uniform(0.2, 0.6))
    return {"sigma_x": major, "sigma_y": minor, "angle": rng.uniform(0.0, 180.0)}


def _rain_at(s: float, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "density": _lerp(0.001, 0.008, s),
        "length": _lerp(8.0, 30.0, s),
        "angle": rng.uniform(-25.0, 25.0),
        "brightness": _lerp(0.4, 0.9, s),
        "speed": rng.uniform(6.0, 16.0),
    }


def _low_light_at(s: float, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "gamma": _lerp(1.1, 3.0, s),
        "gain": _lerp(0.9, 0.15, s),
        "noise_sigma": _lerp(0.01, 0.06, s),
    }


DEGRADATIONS: Mapping[str, DegradationSpec] = MappingProxyType({
    spec.name: spec
    for spec in (
        _spec("gaussian_noise", "noise", gaussian_noise, "additive white Gaussian noise",
              lambda s, rng: {"sigma": _lerp(5 / 255, 50 / 255, s)}),
        _spec("poisson_noise", "noise", poisson_noise, "photon (shot) noise",
              lambda s, rng: {"peak": _gerp(400.0, 15.0, s)}),
        _spec("speckle_noise", "noise", speckle_noise, "multiplicative speckle noise",
              lambda s, rng: {"sigma": _lerp(0.05, 0.4, s)}),
        _spec("gaussian_blur", "blur", gaussian_blur, "isotropic Gaussian (defocus) blur",
              lambda s, rng: {"sigma": _lerp(0.5, 3.0, s)}),
        _spec("anisotropic_blur", "blur", anisotropic_blur, "rotated anisotropic Gaussian blur",
              _anisotropic_at),
        _spec("motion_blur", "blur", motion_blur, "linear camera-motion blur",
              lambda s, rng: {"length": _lerp(3.0, 25.0, s), "angle": rng.uniform(0.0, 180.0)}),
        _spec("resize_blur", "blur", resize_blur, "detail lost to downscaling and upscaling",
              lambda s, rng: {"scale": _lerp(0.7, 0.25, s),
                              "interpolation": str(rng.choice(["bilinear", "bicubic"]))}),
        _spec("jpeg", "compression", jpeg, "JPEG blocking and ringing, frame by frame",
              lambda s, rng: {"quality": round(_lerp(60, 10, s))}),
        _spec("video_codec", "compression", video_codec, "H.264 video compression artefacts",
              lambda s, rng: {"crf": round(_lerp(25, 45, s)), "preset": "medium"}),
        _spec("haze", "weather", haze, "haze: contrast fading with distance",
              lambda s, rng: {"beta": _lerp(0.3, 2.5, s), "airlight": rng.uniform(0.75, 0.95)}),
        _spec("rain", "weather", rain, "bright slanted rain streaks", _rain_at),
        _spec("snow", "weather", snow, "falling snowflakes and a whitening veil",
              lambda s, rng: {"intensity": s, "speed": rng.uniform(0.8, 2.5)},
              per_frame="intensity"),
        _spec("low_light", "light", low_light, "under-exposure with sensor noise", _low_light_at),
    )
})


class UnknownDegradationError(ValueError, KeyError):
    """A degradation name that is not in :data:`DEGRADATIONS` (both a ValueError and a
    KeyError, so dictionary-style ``except KeyError`` works too)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def get_degradation(name: str) -> DegradationSpec:
    """The registered degradation ``name``; unknown names raise with the list of known ones."""
    try:
        return DEGRADATIONS[name]
    except (KeyError, TypeError):
        raise UnknownDegradationError(
            f"unknown degradation {name!r}; known degradations are {sorted(DEGRADATIONS)}"
        ) from None


def severity(intensity: float) -> str:
    """``slight`` below 1/3, ``moderate`` below 2/3, ``severe`` from 2/3 up."""
    intensity = _check_intensity(intensity, "severity")
    if intensity < 1 / 3:
        return "slight"
    return "moderate" if intensity < 2 / 3 else "severe"


def _check_intensity(intensity: Any, where: str) -> float:
    if isinstance(intensity, bool) or not isinstance(intensity, numbers.Real):
        raise TypeError(f"{where}: intensity must be a number in [0, 1], got {intensity!r}")
    if not 0.0 <= float(intensity) <= 1.0:
        raise ValueError(f"{where}: intensity={intensity!r} is out of range; valid range is [0, 1]")
    return float(intensity)


# ---------------------------------------------------------------------------------------------
# Ops, segments, schedules and records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One degradation with its parameters, as applied to a run of frames.

    ``intensity`` is a float in [0, 1], or a per-frame tuple for a degradation with a per-frame
    parameter (snow); then that parameter in ``params`` is a tuple of the same length, and the
    op can only be applied to exactly that many frames.
    """

    name: str
    intensity: float | tuple[float, ...]
    params: dict[str, Any]

    def __post_init__(self) -> None:
        spec = get_degradation(self.name)
        if not isinstance(self.params, Mapping):
            raise TypeError(
                f"Op {self.name}: params must be a dict, got {type(self.params).__name__}"
            )
        unknown = sorted(set(self.params) - set(spec.param_names))
        missing = sorted(set(_required_params(spec)) - set(self.params))
        if unknown or missing:
            raise ValueError(
                f"Op {self.name}: unknown params {unknown}, missing params {missing}; "
                f"{self.name} takes {list(spec.param_names)}"
            )
        where = f"Op {self.name}"
        intensity: float | tuple[float, ...]
        n_frames: int | None
        if np.ndim(self.intensity) == 0:
            intensity, n_frames = _check_intensity(self.intensity, where), None
        else:
            _require_per_frame(spec)
            intensity = tuple(_check_intensity(v, where) for v in self.intensity)
            n_frames = len(intensity)
        params = {k: _check_op_param(spec, k, v, n_frames) for k, v in self.params.items()}
        object.__setattr__(self, "intensity", intensity)
        object.__setattr__(self, "params", params)

    @property
    def n_frames(self) -> int | None:
        """The number of frames a per-frame op covers, or None for a scalar op."""
        return None if isinstance(self.intensity, float) else len(self.intensity)

    def at(self, t: int) -> tuple[float, dict[str, Any]]:
        """This op's scalar intensity and scalar params at frame ``t`` of its run."""
        if self.n_frames is None:
            return self.intensity, self.params
        per = {k: (v[t] if isinstance(v, tuple) else v) for k, v in self.params.items()}
        return self.intensity[t], per


def _require_per_frame(spec: DegradationSpec) -> None:
    """Raise unless ``spec`` has a parameter that can follow a per-frame intensity curve."""
    if spec.per_frame is None:
        supported = sorted(name for name, s in DEGRADATIONS.items() if s.per_frame)
        raise ValueError(
            f"{spec.name}: a per-frame intensity curve is only supported by {supported}; "
            f"give {spec.name} a scalar intensity"
        )


def _check_op_param(spec: DegradationSpec, key: str, value: Any, n_frames: int | None) -> Any:
    """One param of an Op: a checked scalar, or a tuple for the per-frame param of a curve."""
    if n_frames is None or key != spec.per_frame:
        return _check_value(spec.name, key, value)
    if np.ndim(value) != 1 or len(value) != n_frames:
        raise ValueError(
            f"Op {spec.name}: with a per-frame intensity of {n_frames} frames, "
            f"params[{key!r}] must be a sequence of {n_frames} values, got {value!r}"
        )
    return tuple(_check_value(spec.name, key, v) for v in value)


def _required_params(spec: DegradationSpec) -> tuple[str, ...]:
    """Parameters without a default (what params_at must always give)."""
    return tuple(
        p.name
        for p in inspect.signature(spec.fn).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and p.name != "rng"
    )


def make_op(
    name: str, intensity: float | Sequence[float], rng: np.random.Generator | int
) -> Op:
    """An :class:`Op` for degradation ``name`` at ``intensity`` (see ``params_at``).

    A per-frame intensity sequence is accepted for snow: its secondary parameters are drawn
    once, and its intensity follows the curve frame by frame.
    """
    spec = get_degradation(name)
    if np.ndim(intensity) == 0:
        return Op(name, intensity, spec.params_at(intensity, rng))
    _require_per_frame(spec)
    curve = tuple(float(v) for v in intensity)
    params = spec.params_at(max(curve), rng)
    params[spec.per_frame] = curve
    return Op(name, curve, params)


@dataclass(frozen=True)
class Segment:
    """The ops applied, in order, to frames ``[start, stop)`` of a clip."""

    start: int
    stop: int
    ops: tuple[Op, ...]

    def __post_init__(self) -> None:
        for key in ("start", "stop"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"Segment.{key} must be an int, got {value!r}")
        if not 0 <= self.start < self.stop:
            raise ValueError(
                f"Segment [{self.start}, {self.stop}) is empty or negative: need 0 <= start < stop"
            )
        ops = tuple(self.ops)
        if not all(isinstance(op, Op) for op in ops):
            raise TypeError("Segment.ops must hold Op objects: build them with make_op(...)")
        for op in ops:
            if op.n_frames is not None and op.n_frames != self.stop - self.start:
                raise ValueError(
                    f"Segment [{self.start}, {self.stop}) has {self.stop - self.start} frames but "
                    f"its {op.name} op carries a per-frame curve of {op.n_frames}"
                )
        object.__setattr__(self, "ops", ops)


Schedule = Sequence[Segment]


def check_schedule(schedule: Schedule, n_frames: int) -> tuple[Segment, ...]:
    """Check that the segments cover frames ``0 .. n_frames`` in order, with no gap or overlap."""
    segments = tuple(schedule)
    if not segments:
        raise ValueError("the schedule is empty: use constant_schedule(T, ops) for one segment")
    if not all(isinstance(s, Segment) for s in segments):
        raise TypeError("a schedule is a sequence of Segment objects")
    expected = 0
    for seg in segments:
        if seg.start != expected:
            kind = "a gap" if seg.start > expected else "an overlap"
            raise ValueError(
                f"the schedule has {kind} at frame {expected}: segment [{seg.start}, {seg.stop}) "
                f"should start at {expected}"
            )
        expected = seg.stop
    if expected != n_frames:
        raise ValueError(
            f"the schedule covers frames [0, {expected}) but the clip has {n_frames} frames"
        )
    return segments


def op_rng(seed: int, segment_index: int, op_index: int) -> np.random.Generator:
    """The generator that op ``op_index`` of segment ``segment_index`` uses under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(segment_index, op_index)))


def _plain(value: Any) -> Any:
    """NumPy scalars -> Python scalars, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _record(op: Op, t: int) -> dict[str, Any]:
    """What op applied to frame ``t`` of its run: a JSON-serialisable dict."""
    intensity, params = op.at(t)
    return {
        "name": op.name,
        "family": DEGRADATIONS[op.name].family,
        "intensity": float(intensity),
        "severity": severity(intensity),
        "params": {k: _plain(v) for k, v in params.items()},
    }


def apply_schedule(
    clip: np.ndarray, schedule: Schedule, seed: int
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Degrade each segment's frames with its ops, in order; return the clip and the records.

    Op ``j`` of segment ``i`` draws its randomness from :func:`op_rng` ``(seed, i, j)``, so the
    same seed always gives the same arrays. ``records[t]`` lists, in application order, what
    was applied to frame ``t`` (``[]`` for a clean frame); ``json.dumps(records)`` works.
    """
    _check_input(clip, "apply_schedule")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"apply_schedule: seed must be a non-negative int, got {seed!r}")
    segments = check_schedule(schedule, clip.shape[0])
    out = clip.copy()
    records: list[list[dict[str, Any]]] = [[] for _ in range(clip.shape[0])]
    for i, seg in enumerate(segments):
        part = clip[seg.start:seg.stop]  # (stop - start, H, W, 3)
        for j, op in enumerate(seg.ops):
            part = DEGRADATIONS[op.name].apply(part, op.params, op_rng(int(seed), i, j))
            for t in range(seg.stop - seg.start):
                records[seg.start + t].append(_record(op, t))
        out[seg.start:seg.stop] = part
    return out, records


def constant_schedule(n_frames: int, ops: Sequence[Op]) -> tuple[Segment, ...]:
    """One segment: the same ops on every frame."""
    return (Segment(0, _check_count(n_frames, "n_frames"), tuple(ops)),)


def apply_ops(
    clip: np.ndarray, ops: Sequence[Op], seed: int
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Apply ``ops`` in order to the whole clip: ``apply_schedule`` with one segment."""
    _check_input(clip, "apply_ops")
    return apply_schedule(clip, constant_schedule(clip.shape[0], ops), seed)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def segment_schedule(
    n_frames: int,
    rng: np.random.Generator | int,
    k: int = 6,
    pool: Sequence[str] = AVERNET_POOL,
    p: float = 0.45,
    intensity: tuple[float, float] = (0.2, 0.9),
) -> tuple[Segment, ...]:
    """AverNet-style time-varying degradations: a new random combination every ``k`` frames.

    For each segment every candidate of ``pool`` is drawn with probability ``p``; where several
    of one family were drawn one of them is kept at random (at most one noise, one blur, ...);
    if none was drawn, one candidate is picked so that every frame is degraded. Each op gets an
    intensity uniform in ``intensity = (lo, hi)``. Ops are ordered weather -> light -> blur ->
    noise -> compression. The last segment is shorter when ``k`` does not divide ``n_frames``.
    """
    n_frames = _check_count(n_frames, "n_frames")
    k = _check_count(k, "k")
    rng = _as_rng(rng, "segment_schedule")
    names = tuple(pool)
    for name in names:
        get_degradation(name)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"pool must hold distinct degradation names, got {list(names)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p!r} is out of range; valid range is [0, 1]")
    lo, hi = intensity
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"intensity={intensity!r} must satisfy 0 <= lo <= hi <= 1")
    segments = []
    for start in range(0, n_frames, k):
        chosen = _draw_combination(names, p, rng)
        ops = tuple(make_op(name, rng.uniform(lo, hi), rng) for name in chosen)
        segments.append(Segment(start, min(start + k, n_frames), ops))
    return tuple(segments)


def _draw_combination(pool: tuple[str, ...], p: float, rng: np.random.Generator) -> list[str]:
    """Names drawn with probability p, at most one per family, in FAMILY_ORDER."""
    drawn = [name for name in pool if rng.random() < p]
    if not drawn:
        drawn = [pool[rng.integers(len(pool))]]
    by_family: dict[str, list[str]] = {}
    for name in drawn:
        by_family.setdefault(DEGRADATIONS[name].family, []).append(name)
    return [
        str(rng.choice(by_family[family])) for family in FAMILY_ORDER if family in by_family
    ]


def smooth_curve(
    n_frames: int, rng: np.random.Generator | int, lo: float = 0.0, hi: float = 1.0,
    n_knots: int = 4,
) -> np.ndarray:
    """A smooth random intensity curve ``(T,)`` in [lo, hi] that rises and falls.

    ``n_knots`` evenly spaced knots alternate between the upper and the lower half of
    [lo, hi] (which half comes first is random), joined by monotone cubic (PCHIP)
    interpolation, which never overshoots the knots: the curve stays within [lo, hi].
    """
    n_frames = _check_count(n_frames, "n_frames")
    rng = _as_rng(rng, "smooth_curve")
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"smooth_curve: need 0 <= lo <= hi <= 1, got lo={lo!r}, hi={hi!r}")
    if isinstance(n_knots, bool) or not isinstance(n_knots, numbers.Integral) or n_knots < 2:
        raise ValueError(f"smooth_curve: n_knots must be an int >= 2, got {n_knots!r}")
    mid = (lo + hi) / 2
    first_high = bool(rng.random() < 0.5)
    values = np.array([
        rng.uniform(mid, hi) if (j % 2 == 0) == first_high else rng.uniform(lo, mid)
        for j in range(n_knots)
    ])
    if n_frames == 1:
        return values[:1]
    knots = np.linspace(0, n_frames - 1, n_knots)
    return np.clip(PchipInterpolator(knots, values)(np.arange(n_frames)), lo, hi)

