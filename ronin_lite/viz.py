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
    only while training (describer, text encoder, prompt loss) are drawn dashed and grey, and are
    absent from the inference panel.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    def box(ax, xy, text, color, dashed=False, w=1.5, h=0.62):
        x, y = xy
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                    fc=color, ec="0.25", lw=1.0, ls="--" if dashed else "-"))
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5)

    def arrow(ax, a, b, dashed=False, text=None):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=9, lw=1.0,
                                     color="0.3", ls="--" if dashed else "-"))
        if text:
            ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.12, text, fontsize=6.5,
                    ha="center", color="0.3")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, training in zip(axes, (True, False)):
        ax.set_xlim(0, 10.4)
        ax.set_ylim(0, 4.2)
        ax.axis("off")
        ax.set_title("training" if training else "inference (describer and text encoder gone)",
                     fontsize=10)
        net, lang, loss = "#cfe3f7", "#f3e0c4", "#f6c9c9"
        box(ax, (0.8, 2.0), "degraded\nframe $x_t$", "white")
        box(ax, (2.7, 2.0), "encoder\n(3 levels)", net)
        box(ax, (4.6, 2.0), "latent\n+ history", net)
        box(ax, (6.5, 2.0), "decoder\n(soft masks on\nlast two stages)", net, h=0.8)
        box(ax, (8.6, 2.0), "restored $\\hat y_t$", "white")
        box(ax, (4.6, 0.6), "prompt generator\nGAP-FC-GELU-FC", net)
        box(ax, (6.5, 0.6), "masks\nsigmoid(W $P_t$)", net)
        arrow(ax, (1.55, 2.0), (1.95, 2.0))
        arrow(ax, (3.45, 2.0), (3.85, 2.0), text="cross-attn")
        arrow(ax, (5.35, 2.0), (5.75, 2.0))
        arrow(ax, (7.25, 2.0), (7.85, 2.0))
        arrow(ax, (4.6, 1.69), (4.6, 0.91))
        arrow(ax, (5.35, 0.6), (5.75, 0.6), text="$P_t$ (384)")
        arrow(ax, (6.5, 0.91), (6.5, 1.6))
        box(ax, (4.6, 3.35), "state: truncated history\n(last $\\tau$ frames)", "#e6e6e6", w=2.2)
        arrow(ax, (4.6, 3.04), (4.6, 2.31))
        if training:
            box(ax, (0.8, 3.5), "describer\n(MLLM)", lang, dashed=True)
            box(ax, (2.7, 3.5), "text encoder\n(384-d)", lang, dashed=True)
            box(ax, (8.6, 0.6), "$\\lambda_2\\,L_1(P_t, e_t)$\n+ $L_1(\\hat y_t, y_t)$", loss,
                dashed=True)
            arrow(ax, (0.8, 2.31), (0.8, 3.19), dashed=True)
            arrow(ax, (1.55, 3.5), (1.95, 3.5), dashed=True, text="text")
            arrow(ax, (3.45, 3.5), (7.85, 0.75), dashed=True, text="$e_t$")
            arrow(ax, (7.25, 0.45), (7.85, 0.45), dashed=True)
    fig.tight_layout()
    return fig
