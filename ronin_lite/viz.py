"""Pictures for the notebooks: frames side by side, clips as small H.264 videos, curves.

Clips are embedded as short MP4 (H.264) videos encoded in memory with PyAV - kilobytes per
clip, where frame-by-frame JavaScript players weigh megabytes (DESIGN.md: committed notebooks
stay light).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Sequence

import numpy as np

from .data.frames import to_uint8


def show_frames(frames: Sequence[np.ndarray], titles: Sequence[str] | None = None,
                ncols: int | None = None, size: float = 2.2, suptitle: str | None = None):
    """Frames ``(H, W, 3)`` in [0, 1] on a grid; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    n = len(frames)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * bool(suptitle)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(frames[i], 0, 1), interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def _side_by_side(clips: Sequence[np.ndarray], gap: int) -> np.ndarray:
    T = min(c.shape[0] for c in clips)
    H = max(c.shape[1] for c in clips)
    parts = []
    for i, c in enumerate(clips):
        c = c[:T]
        if c.shape[1] < H:
            c = np.pad(c, ((0, 0), (0, H - c.shape[1]), (0, 0), (0, 0)), constant_values=1.0)
        parts.append(c)
        if i < len(clips) - 1 and gap:
            parts.append(np.ones((T, H, gap, 3), np.float32))
    return np.concatenate(parts, axis=2)


def encode_mp4(clip: np.ndarray, fps: float = 4.0, crf: int = 20) -> bytes:
    """Encode a clip ``(T, H, W, 3)`` in [0, 1] as H.264 MP4 bytes (even sizes by padding)."""
    import av

    frames = to_uint8(clip)
    T, H, W, _ = frames.shape
    frames = np.pad(frames, ((0, 0), (0, H % 2), (0, W % 2), (0, 0)), mode="edge")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=int(round(fps)))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def video_html(clips: Sequence[np.ndarray], titles: Sequence[str] | None = None,
               fps: float = 4.0, scale: int = 2, gap: int = 2):
    """Clips ``(T, H, W, 3)`` side by side as one looping HTML5 video (IPython ``HTML``)."""
    from IPython.display import HTML

    strip = _side_by_side([np.asarray(c, np.float32) for c in clips], gap)
    if scale > 1:  # nearest-neighbour upscaling keeps the pixels honest
        strip = strip.repeat(scale, axis=1).repeat(scale, axis=2)
    data = base64.b64encode(encode_mp4(strip, fps=fps)).decode()
    caption = ""
    if titles:
        caption = "<div style='font:12px sans-serif'>" + " | ".join(
            html.escape(t) for t in titles) + "</div>"
    return HTML(f"{caption}<video controls loop autoplay muted playsinline "
                f"src='data:video/mp4;base64,{data}'></video>")


def draw_architecture():
    """RONIN at a glance: the U-Net path (always) and the grounding path (training only).

    Returns a matplotlib figure with two panels, *training* and *inference*; boxes that exist
    only while training (describer, text encoder, losses) are dashed, and are absent from the
    inference panel.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    W, H = 1.7, 0.7  # box size

    def box(ax, xy, text, color, dashed=False, h=H):
        x, y = xy
        ax.add_patch(FancyBboxPatch((x - W / 2, y - h / 2), W, h, boxstyle="round,pad=0.04",
                                    fc=color, ec="0.25", lw=1.0, ls="--" if dashed else "-"))
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5)

    def path(ax, points, dashed=False, text=None, text_at=0):
        xs, ys = zip(*points)
        ax.plot(xs[:-1], ys[:-1], color="0.3", lw=1.0, ls="--" if dashed else "-")
        ax.annotate("", xy=points[-1], xytext=points[-2],
                    arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.0,
                                    ls="--" if dashed else "-", shrinkA=0, shrinkB=0))
        if text:
            (x0, y0), (x1, y1) = points[text_at], points[text_at + 1]
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.1, text, fontsize=7, ha="center",
                    va="bottom", color="0.2")

    net, lang, loss = "#cfe3f7", "#f3e0c4", "#f6c9c9"
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.9))
    for ax, training in zip(axes, (True, False)):
        ax.set_xlim(-0.1, 11.8)
        ax.set_ylim(-0.1, 4.5)
        ax.axis("off")
        ax.set_title("training" if training else "inference: the describer and text encoder "
                     "are not loaded", fontsize=10)
        row, low, top = 2.2, 0.75, 3.55
        box(ax, (0.9, row), "degraded\nframe $x_t$", "white")
        box(ax, (3.0, row), "encoder\n(3 levels)", net)
        box(ax, (5.1, row), "latent", net)
        box(ax, (7.2, row), "decoder, masks on\nits last 2 stages", net)
        box(ax, (9.3, row), "restored $\\hat y_t$", "white")
        box(ax, (5.1, top), "history: the last\n$\\tau$ frames (state)", "#e6e6e6")
        box(ax, (5.1, low), "prompt generator\nGAP-FC-GELU-FC", net)
        box(ax, (7.2, low), "soft masks\n$\\sigma(W P_t)$", net)
        path(ax, [(1.75, row), (2.15, row)])
        path(ax, [(3.85, row), (4.25, row)])
        path(ax, [(3.0, row - H / 2), (3.0, row - 0.75), (4.6, row - 0.75), (4.6, row - H / 2)],
             text="cross-attn", text_at=1)
        path(ax, [(5.95, row), (6.35, row)])
        path(ax, [(8.05, row), (8.45, row)])
        path(ax, [(5.1, top - H / 2), (5.1, row + H / 2)])
        path(ax, [(5.6, row - H / 2), (5.6, low + H / 2)])
        path(ax, [(5.95, low), (6.35, low)], text="$P_t$")
        path(ax, [(7.2, low + H / 2), (7.2, row - H / 2)])
        if training:
            box(ax, (0.9, top), "describer\n(MLLM)", lang, dashed=True)
            box(ax, (3.0, top), "text encoder\n(384-d)", lang, dashed=True)
            box(ax, (10.75, low), "$L_1(\\hat y_t, y_t)$\n$+\\lambda_2 L_1(P_t, e_t)$", loss,
                dashed=True)
            path(ax, [(0.9, row + H / 2), (0.9, top - H / 2)], dashed=True)
            path(ax, [(1.75, top), (2.15, top)], dashed=True, text="text")
            path(ax, [(3.0, top + H / 2), (3.0, 4.25), (10.75, 4.25), (10.75, low + H / 2)],
                 dashed=True, text="$e_t$ (384)", text_at=1)
            path(ax, [(5.1, low - H / 2), (5.1, 0.1), (10.75, 0.1), (10.75, low - H / 2)],
                 dashed=True, text="$P_t$ (384)", text_at=1)
            path(ax, [(9.3, row - H / 2), (9.3, low), (9.9, low)], dashed=True)
    fig.tight_layout()
    return fig
