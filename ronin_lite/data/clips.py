"""Clips of ``T`` frames with real, bounded motion, made from a still scene by a moving camera.

RONIN and Turtle train on crops of real videos (DAVIS, REDS, GoPro): consecutive frames differ
by camera and object motion, which is what Turtle's frame history router and state alignment are
for. The course's bundled scenes are still photographs, so motion is synthesised: a virtual
camera - a square window over the image - moves along a smooth :class:`CameraPath`, and each
frame is that window resampled to ``size x size`` pixels (:func:`render_clip`).

Kinds of path (all smooth: constant rates, centred on the middle frame):

``pan``     the window slides in a random direction, 1-3 % of the crop per frame;
``zoom``    the window grows or shrinks about its centre, 1-2.5 % per frame (log scale);
``rotate``  the window turns about its centre, 0.8-1.5 degrees per frame;
``shake``   hand-held jitter: the window wanders at a constant small speed (0.6-1.5 % of the
            crop per frame) along a heading that swings quickly back and forth, with a
            small roll - irregular, smooth, and never still;
``mixed``   a random combination of two to four of the above.

Guarantees, checked by tests:

* **bounded motion**: no output pixel moves more than ``max_step`` (default 4 %) of the crop
  between consecutive frames, measured at the output scale (:meth:`CameraPath.max_step`);
  totals are capped too (one crop of travel, a 1.5x zoom, 20 degrees), so long clips stay sane;
* **no borders**: every (rotated) window lies inside the image for every frame - the start is
  chosen so that the whole path fits, shrinking the window when it must;
* **a sensible field of view**: the window side is drawn from 35-80 % of the image's shorter
  side, and at least ``size`` where the image allows, so frames are *downsampled* from the
  source; it is shrunk below that only when a long path would not fit otherwise. Images whose
  widest window would need more than 2x upsampling are refused.

A video scene (``(T0, H, W, 3)``: DAVIS, a user's mp4) needs no synthetic camera:
:func:`make_clip` takes ``T`` consecutive frames from a random start through one random window.

Departure from the paper's data: camera motion over a still has parallax-free, rigid motion
only (no moving objects, no occlusions). It exercises the temporal machinery honestly but more
gently than real video; the DAVIS path of :mod:`ronin_lite.data.fetch` is the real thing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .frames import check_clip, to_frames
from .scenes import Scene

KINDS = ("pan", "zoom", "rotate", "shake", "mixed")
COMPONENTS = ("pan", "zoom", "rotate", "shake")

MAX_STEP = 0.04  # largest per-frame displacement of any output pixel, as a fraction of the crop
FOV = (0.35, 0.80)  # window side as a fraction of the image's shorter side
MAX_UPSAMPLING = 2.0  # refuse images whose widest window is this much smaller than the crop

# Per-component motion, in crop widths (pan, shake), log-scale (zoom) or degrees (rotate).
PAN_SPEED = (0.01, 0.03)  # crops per frame
PAN_TRAVEL = 1.0  # crops over the whole clip
ZOOM_RATE = (0.01, 0.025)  # log scale per frame
ZOOM_TOTAL = math.log(1.5)  # log scale over the whole clip
ROTATE_RATE = (0.8, 1.5)  # degrees per frame
ROTATE_TOTAL = 20.0  # degrees over the whole clip
SHAKE_SPEED = (0.006, 0.015)  # crops per frame
SHAKE_SWING = (1.5, 3.0)  # radians: amplitude of the heading's oscillation
SHAKE_PERIOD = (4.0, 8.0)  # frames, of the heading's and the roll's oscillations
SHAKE_ROLL = (0.2, 0.6)  # degrees


@dataclass(frozen=True)
class CameraPath:
    """Where the virtual camera looks in each frame of a clip.

    ``cx, cy``: window centre in source-image pixels (x right, y down, pixel centres at
    integers); ``scale``: side of the square window in source pixels (the field of view);
    ``angle``: rotation of the window in degrees, counter-clockwise on screen (so the scene
    appears to turn clockwise). One value per frame.
    """

    kind: str
    components: tuple[str, ...]
    image_hw: tuple[int, int]
    cx: tuple[float, ...]
    cy: tuple[float, ...]
    scale: tuple[float, ...]
    angle: tuple[float, ...]

    def __post_init__(self) -> None:
        lengths = {len(self.cx), len(self.cy), len(self.scale), len(self.angle)}
        if len(lengths) != 1 or 0 in lengths:
            raise ValueError(
                "a CameraPath needs one cx, cy, scale and angle per frame (at least one frame), "
                f"got lengths cx={len(self.cx)} cy={len(self.cy)} scale={len(self.scale)} "
                f"angle={len(self.angle)}"
            )
        if min(self.scale) <= 0:
            raise ValueError(f"window sides must be positive, got min {min(self.scale)}")

    @property
    def T(self) -> int:
        return len(self.cx)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (plain lists and floats); :meth:`from_dict` reverses it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "CameraPath":
        return cls(
            kind=str(d["kind"]), components=tuple(d["components"]),
            image_hw=(int(d["image_hw"][0]), int(d["image_hw"][1])),
            cx=tuple(map(float, d["cx"])), cy=tuple(map(float, d["cy"])),
            scale=tuple(map(float, d["scale"])), angle=tuple(map(float, d["angle"])),
        )

    def corners(self) -> np.ndarray:
        """The four window corners of every frame in source pixels: (T, 4, 2) as (x, y)."""
        return _corners(np.array(self.cx), np.array(self.cy), np.array(self.scale),
                        np.array(self.angle))

    def max_step(self) -> float:
        """Largest displacement of any output pixel between consecutive frames, in crops.

        The frame-to-frame motion of the window is affine, so its largest displacement is at a
        corner; dividing by the window side measures it at the output scale (0.04 = 4 % of the
        crop, i.e. 2.6 px at 64 x 64).
        """
        return _max_step(self.corners(), np.array(self.scale))


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
def _axes(angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of the window's x and y axes in source coordinates: each (T, 2)."""
    a = np.deg2rad(angle_deg)
    # counter-clockwise on screen with y pointing down: x axis (cos, -sin), y axis (sin, cos)
    return np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)


def _corners(cx: np.ndarray, cy: np.ndarray, scale: np.ndarray, angle: np.ndarray) -> np.ndarray:
    ex, ey = _axes(angle)  # (T, 2) each
    centre = np.stack([cx, cy], -1)[:, None, :]  # (T, 1, 2)
    signs = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])  # (4, 2)
    offsets = signs[None, :, :1] * ex[:, None] + signs[None, :, 1:] * ey[:, None]  # (T, 4, 2)
    return centre + scale[:, None, None] * offsets  # (T, 4, 2)


def _max_step(corners: np.ndarray, scale: np.ndarray) -> float:
    if len(corners) < 2:
        return 0.0
    moved = np.linalg.norm(np.diff(corners, axis=0), axis=-1).max(axis=1)  # (T-1,) source px
    return float((moved / ((scale[1:] + scale[:-1]) / 2)).max())


def _half_extent(scale: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Half the side of the axis-aligned box around each rotated window, in source pixels."""
    a = np.deg2rad(angle)
    return scale / 2 * (np.abs(np.cos(a)) + np.abs(np.sin(a)))


# ---------------------------------------------------------------------------------------------
# Camera paths
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Motion:
    """Motion relative to the middle frame: offsets in crops (T, 2), log-zoom (T,), degrees."""

    offset: np.ndarray
    log_zoom: np.ndarray
    angle: np.ndarray

    def scaled(self, k: float) -> "_Motion":
        return _Motion(self.offset * k, self.log_zoom * k, self.angle * k)

    def max_step(self) -> float:
        """Largest per-frame displacement of any output pixel, in crops (window side 1)."""
        zoom = np.exp(self.log_zoom)
        return _max_step(_corners(self.offset[:, 0], self.offset[:, 1], zoom, self.angle), zoom)


def _pan(t: np.ndarray, span: int, rng: np.random.Generator) -> _Motion:
    """Constant velocity in a random direction."""
    direction = rng.uniform(0, 2 * np.pi)
    speed = min(rng.uniform(*PAN_SPEED), PAN_TRAVEL / span)
    offset = speed * t[:, None] * np.array([np.cos(direction), np.sin(direction)])  # (T, 2)
    return _Motion(offset, np.zeros_like(t), np.zeros_like(t))


def _zoom(t: np.ndarray, span: int, rng: np.random.Generator) -> _Motion:
    """Constant log-scale rate, in or out."""
    rate = min(rng.uniform(*ZOOM_RATE), ZOOM_TOTAL / span) * rng.choice([-1.0, 1.0])
    return _Motion(np.zeros((len(t), 2)), rate * t, np.zeros_like(t))


def _rotate(t: np.ndarray, span: int, rng: np.random.Generator) -> _Motion:
    """Constant angular rate, either way."""
    rate = min(rng.uniform(*ROTATE_RATE), ROTATE_TOTAL / span) * rng.choice([-1.0, 1.0])
    return _Motion(np.zeros((len(t), 2)), np.zeros_like(t), rate * t)


def _shake(t: np.ndarray, span: int, rng: np.random.Generator) -> _Motion:
    """Constant speed along a swinging heading (never still, zig-zagging) plus a small roll."""
    speed = min(rng.uniform(*SHAKE_SPEED), PAN_TRAVEL / span)
    heading = rng.uniform(0, 2 * np.pi) + rng.uniform(*SHAKE_SWING) * np.sin(
        2 * np.pi * t / rng.uniform(*SHAKE_PERIOD) + rng.uniform(0, 2 * np.pi))  # (T,)
    steps = speed * np.stack([np.cos(heading), np.sin(heading)], -1)[:-1]  # (T-1, 2)
    offset = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])  # (T, 2)
    roll = rng.uniform(*SHAKE_ROLL) * np.sin(
        2 * np.pi * t / rng.uniform(*SHAKE_PERIOD) + rng.uniform(0, 2 * np.pi))
    return _Motion(offset - offset.mean(axis=0), np.zeros_like(t), roll)


_MOTIONS = {"pan": _pan, "zoom": _zoom, "rotate": _rotate, "shake": _shake}


def _components(kind: str, rng: np.random.Generator) -> tuple[str, ...]:
    if kind != "mixed":
        return (kind,)
    n = int(rng.integers(2, len(COMPONENTS) + 1))
    chosen = rng.choice(len(COMPONENTS), size=n, replace=False)
    return tuple(COMPONENTS[i] for i in sorted(chosen))


def _window_range(image_hw: tuple[int, int], size: int,
                  fov: tuple[float, float]) -> tuple[float, float]:
    """Window sides to draw from: ``fov`` of the shorter side, at least ``size`` where possible."""
    short = min(image_hw)
    widest = fov[1] * short
    if widest * MAX_UPSAMPLING < size:
        raise ValueError(
            f"image {image_hw[0]}x{image_hw[1]} is too small for {size}x{size} crops: its widest "
            f"window ({fov[1]:.0%} of the shorter side = {widest:.0f} px) would be upsampled more "
            f"than {MAX_UPSAMPLING:g}x; use a smaller size or a larger image"
        )
    return max(fov[0] * short, min(float(size), widest)), widest


def _place(motion: _Motion, side: float, image_hw: tuple[int, int], rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Centre the path at a random point where every window fits; None if none does."""
    H, W = image_hw
    scale = side * np.exp(motion.log_zoom)  # (T,)
    half = _half_extent(scale, motion.angle) + 1.0  # one pixel of margin for interpolation
    ox, oy = motion.offset[:, 0] * side, motion.offset[:, 1] * side  # (T,) source px
    lo_x, hi_x = (half - ox).max(), (W - 1 - half - ox).min()
    lo_y, hi_y = (half - oy).max(), (H - 1 - half - oy).min()
    if lo_x > hi_x or lo_y > hi_y:
        return None
    cx, cy = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    return cx + ox, cy + oy, scale, motion.angle


def camera_path(kind: str, T: int, image_hw: tuple[int, int], size: int,
                rng: np.random.Generator | int, *, max_step: float = MAX_STEP,
                fov: tuple[float, float] = FOV) -> CameraPath:
    """A smooth camera path of ``T`` frames over an image of ``image_hw = (H, W)`` pixels.

    ``kind`` is one of :data:`KINDS`; ``size`` is the output crop side, used to pick a window
    that downsamples; ``max_step`` bounds the per-frame motion (fraction of the crop); ``fov``
    the window side as a fraction of the shorter image side. Deterministic given ``rng``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown camera path kind {kind!r}; choose one of {list(KINDS)}")
    _check_T_size(T, size)
    if not 0 < max_step <= 0.5:
        raise ValueError(f"max_step is a fraction of the crop in (0, 0.5], got {max_step}")
    if not 0 < fov[0] <= fov[1] <= 1:
        raise ValueError(f"fov must satisfy 0 < low <= high <= 1, got {fov}")
    H, W = int(image_hw[0]), int(image_hw[1])
    if min(H, W) < 16:
        raise ValueError(f"image {H}x{W} is too small: need at least 16 pixels on each side")
    rng = as_rng(rng)
    side = rng.uniform(*_window_range((H, W), size, fov))
    components = _components(kind, rng)
    t = np.arange(T) - (T - 1) / 2  # (T,) frames from the middle frame
    parts = [_MOTIONS[name](t, max(T - 1, 1), rng) for name in components]
    motion = _Motion(sum(p.offset for p in parts), sum(p.log_zoom for p in parts),
                     sum(p.angle for p in parts))
    # Bound the per-frame motion: shrink every component together (the step is ~linear in it,
    # and a factor <= 0.9 per round makes it vanish, so the loop ends).
    while (step := motion.max_step()) > max_step:
        motion = motion.scaled(min(0.99 * max_step / step, 0.9))
    # Fit inside the image: shrink the window (the motion is in crops, so it shrinks too); a
    # small enough window always fits an image of >= 16 pixels a side.
    while (placed := _place(motion, side, (H, W), rng)) is None:
        side *= 0.9
    cx, cy, scale, angle = placed
    return CameraPath(kind, components, (H, W), tuple(map(float, cx)), tuple(map(float, cy)),
                      tuple(map(float, scale)), tuple(map(float, angle)))


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def render_clip(image: np.ndarray, path: CameraPath, size: int) -> np.ndarray:
    """Film ``image`` (H, W, 3) float32 along ``path``: a clip (T, size, size, 3) float32.

    Anti-aliased and fast: the region the path covers is downscaled once with ``INTER_AREA`` so
    that the smallest window maps to ``size`` pixels, then each frame is a small bilinear
    ``cv2.warpAffine`` of that region (frames with wider windows, at most 1.5x wider under zoom,
    are minified by that factor only). ``BORDER_REFLECT`` is a safety net; paths from
    :func:`camera_path` never leave the image.
    """
    _check_image(image)
    if tuple(image.shape[:2]) != tuple(path.image_hw):
        raise ValueError(
            f"the path was made for a {path.image_hw[0]}x{path.image_hw[1]} image, got "
            f"{image.shape[0]}x{image.shape[1]}: make the path with camera_path(..., "
            "image_hw=image.shape[:2], ...)"
        )
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    H, W = path.image_hw
    scale, angle = np.array(path.scale), np.array(path.angle)
    # The source region every window touches, plus a margin for interpolation.
    corners = path.corners().reshape(-1, 2)
    x0, y0 = (max(int(np.floor(corners[:, i].min())) - 2, 0) for i in (0, 1))
    x1 = min(int(np.ceil(corners[:, 0].max())) + 3, W)
    y1 = min(int(np.ceil(corners[:, 1].max())) + 3, H)
    region = check_clip(image[None, y0:y1, x0:x1], "image")[0]
    # Downscale once: (y1-y0, x1-x0, 3) -> about (size / min window) times smaller.
    f = min(1.0, size / scale.min())
    if f < 1.0:
        new_w, new_h = max(round((x1 - x0) * f), 1), max(round((y1 - y0) * f), 1)
        region = cv2.resize(region, (new_w, new_h), interpolation=cv2.INTER_AREA)
    fx, fy = region.shape[1] / (x1 - x0), region.shape[0] / (y1 - y0)
    ex, ey = _axes(angle)  # (T, 2) each
    k = scale / size  # source pixels per output pixel, (T,)
    half = (size - 1) / 2
    out = np.empty((path.T, size, size, 3), np.float32)
    for i in range(path.T):
        # output pixel p -> source point c + k (ex (p_x - half) + ey (p_y - half)),
        # then into the downscaled region: (x - x0 + 0.5) * fx - 0.5
        linear = np.array([[ex[i, 0], ey[i, 0]], [ex[i, 1], ey[i, 1]]]) * k[i]  # (2, 2)
        linear = np.diag([fx, fy]) @ linear
        centre = np.array([(path.cx[i] - x0 + 0.5) * fx - 0.5, (path.cy[i] - y0 + 0.5) * fy - 0.5])
        M = np.hstack([linear, (centre - linear @ np.array([half, half]))[:, None]])  # (2, 3)
        cv2.warpAffine(region, M, (size, size), dst=out[i],
                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REFLECT)
    return np.clip(out, 0.0, 1.0, out=out)


# ---------------------------------------------------------------------------------------------
# Clips from scenes
# ---------------------------------------------------------------------------------------------
def as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    """An explicit generator: a Generator is used as is, an int seeds a new one."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"expected a numpy Generator or an int seed, got {type(rng).__name__}: pass "
        "np.random.default_rng(seed) (global random state is never used)"
    )


def _check_T_size(T: int, size: int) -> None:
    if int(T) != T or T < 1:
        raise ValueError(f"a clip needs T >= 1 frames, got T={T}")
    if int(size) != size or size < 16:
        raise ValueError(f"crop size must be an integer >= 16 pixels, got size={size}")


def _check_image(image: np.ndarray) -> None:
    """Shape and dtype only (O(1)): values are checked on the region actually used."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"expected an image shaped (H, W, 3) float32 in [0, 1], got "
            f"{getattr(image, 'shape', type(image).__name__)}: use ronin_lite.data.to_frames(x)[0]"
        )
    if image.dtype != np.float32:
        raise TypeError(
            f"expected a float32 image in [0, 1], got {image.dtype}: use "
            "ronin_lite.data.to_frames(x)[0] (it scales uint8 by 1/255)"
        )


def _video_window(video: np.ndarray, T: int, size: int, rng: np.random.Generator,
                  start: int) -> tuple[np.ndarray, dict]:
    """T frames from ``start`` through one random square window, resized to ``size``."""
    H, W = video.shape[1:3]
    if min(H, W) < 16:
        raise ValueError(f"video frames {H}x{W} are too small: need at least 16 pixels a side")
    side = int(round(rng.uniform(*_window_range((H, W), size, FOV))))
    x = int(rng.integers(0, W - side + 1))
    y = int(rng.integers(0, H - side + 1))
    interpolation = cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR
    clip = np.empty((T, size, size, 3), np.float32)
    for i in range(T):
        clip[i] = cv2.resize(video[start + i, y:y + side, x:x + side], (size, size),
                             interpolation=interpolation)
    np.clip(clip, 0.0, 1.0, out=clip)
    return clip, {"kind": "video", "start": start, "window": {"x": x, "y": y, "side": side}}


def make_clip(scene_or_array: Scene | np.ndarray, T: int, size: int,
              rng: np.random.Generator | int, kind: str = "mixed") -> tuple[np.ndarray, dict]:
    """A clean clip (T, size, size, 3) float32 in [0, 1] and a JSON-serialisable record of it.

    * an image scene or an (H, W, 3) array: a camera path of ``kind`` over the still
      (:func:`camera_path`, :func:`render_clip`); the record holds the path;
    * a video scene or a (T0, H, W, 3) array: ``T`` consecutive frames from a random start,
      through one random window (the same for every frame); ``kind`` is not used and the record
      says ``"video"``. A video scene that knows its length decodes only those ``T`` frames.
    """
    _check_T_size(T, size)
    if kind not in KINDS:
        raise ValueError(f"unknown camera path kind {kind!r}; choose one of {list(KINDS)}")
    rng = as_rng(rng)
    record: dict = {"scene": None, "source": None}
    if isinstance(scene_or_array, Scene):
        scene = scene_or_array
        record.update(scene=scene.name, source=scene.source)
        if scene.kind == "image":
            return _image_clip(scene.load(), T, size, rng, kind, record)
        if scene.num_frames is not None:
            if scene.num_frames < T:
                raise ValueError(
                    f"video scene {scene.name!r} has {scene.num_frames} frames, fewer than T={T}"
                )
            start = int(rng.integers(0, scene.num_frames - T + 1))
            clip, info = _video_window(scene.load(start, T), T, size, rng, 0)
            return clip, {**record, **info, "start": start}
        return _video_clip(scene.load(), T, size, rng, record)
    array = np.asarray(scene_or_array)
    if array.ndim == 3:
        return _image_clip(to_frames(array)[0], T, size, rng, kind, record)
    if array.ndim == 4:
        return _video_clip(to_frames(array), T, size, rng, record)
    raise ValueError(
        f"expected a Scene, an image (H, W, 3) or a video (T0, H, W, 3), got shape {array.shape}"
    )


def _image_clip(image: np.ndarray, T: int, size: int, rng: np.random.Generator, kind: str,
                record: dict) -> tuple[np.ndarray, dict]:
    path = camera_path(kind, T, image.shape[:2], size, rng)
    return render_clip(image, path, size), {**record, "kind": kind, "path": path.to_dict()}


def _video_clip(video: np.ndarray, T: int, size: int, rng: np.random.Generator,
                record: dict) -> tuple[np.ndarray, dict]:
    if video.shape[0] < T:
        raise ValueError(f"the video has {video.shape[0]} frames, fewer than T={T}")
    start = int(rng.integers(0, video.shape[0] - T + 1))
    clip, info = _video_window(video, T, size, rng, start)
    return clip, {**record, **info}
