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
        box(ax, (7.2, row), "decoder\n(masked: last 2)", net)
        box(ax, (9.3, row), "restored $\\hat y_t$", "white")
        box(ax, (5.1, top), "history: the last\n$\\tau$ frames (state)", "#e6e6e6")
        box(ax, (5.1, low), "prompt generator\nGAP-FC-GELU-FC", net)
        box(ax, (7.2, low), "soft masks\n$2\\sigma(W P_t + b)$", net)
        path(ax, [(1.75, row), (2.15, row)])
        path(ax, [(3.85, row), (4.25, row)])
        path(ax, [(3.0, row - H / 2), (3.0, row - 0.75), (4.6, row - 0.75), (4.6, row - H / 2)],
             text="cross-attn", text_at=1)
        path(ax, [(5.95, row), (6.35, row)])
        path(ax, [(8.05, row), (8.45, row)])
        path(ax, [(5.1, top - H / 2), (5.1, row + H / 2)])
        path(ax, [(5.6, row - H / 2), (5.6, low + H / 2)])
        path(ax, [(5.95, low), (6.35, low)])
        ax.text(6.15, low - 0.12, "$P_t$", fontsize=7, ha="center", va="top", color="0.2")
        path(ax, [(7.2, low + H / 2), (7.2, row - H / 2)])
        if training:
            box(ax, (0.9, top), "describer\n(MLLM)", lang, dashed=True)
            box(ax, (3.0, top), "text encoder\n(384-d)", lang, dashed=True)
            box(ax, (10.75, low), "$L_1(\\hat y_t, y_t)$\n$+\\lambda_2 L_1(P_t, e_t)$", loss,
                dashed=True)
            path(ax, [(0.9, row + H / 2), (0.9, top - H / 2)], dashed=True)
            path(ax, [(1.75, top), (2.15, top)], dashed=True)
            ax.text(1.95, top + H / 2 + 0.05, "text", fontsize=7, ha="center", va="bottom",
                    color="0.2")
            path(ax, [(3.0, top + H / 2), (3.0, 4.25), (10.75, 4.25), (10.75, low + H / 2)],
                 dashed=True, text="$e_t$ (384)", text_at=1)
            path(ax, [(5.1, low - H / 2), (5.1, 0.1), (10.75, 0.1), (10.75, low - H / 2)],
                 dashed=True, text="$P_t$ (384)", text_at=1)
            path(ax, [(9.3, row - H / 2), (9.3, low), (9.9, low)], dashed=True)
    fig.tight_layout()
    return fig


def heatmap(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str],
            ax=None, title: str | None = None, fmt: str = "{:.2f}", cmap: str = "viridis",
            vmin: float | None = None, vmax: float | None = None,
            annotations: np.ndarray | None = None, colorbar: bool = True,
            colour_label: str = ""):
    """A matrix as a heat map with each cell's value written in it; returns the figure.

    ``colour_label``: what the colour bar measures (its label).

    ``annotations`` (same shape, any values) replaces the written numbers, e.g. counts over a
    map of rates. Text is dark on light cells and light on dark ones.
    """
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"matrix {matrix.shape} does not match {len(row_labels)} row and "
                         f"{len(col_labels)} column labels")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * len(col_labels) + 2.2,
                                      0.42 * len(row_labels) + 1.2))
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    text = matrix if annotations is None else np.asarray(annotations)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if np.isnan(matrix[i, j]):
                continue
            r, g, b, _ = image.cmap(image.norm(matrix[i, j]))  # the cell's own colour
            light = 0.299 * r + 0.587 * g + 0.114 * b > 0.55  # its luma: works for any map
            ax.text(j, i, fmt.format(text[i, j]), ha="center", va="center", fontsize=7,
                    color="black" if light else "white")
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        if colour_label:
            bar.set_label(colour_label, fontsize=8)
    return ax.figure


def scatter_2d(points: np.ndarray, colour_by: Sequence, ax=None, title: str | None = None,
               order: Sequence | None = None, cmap: str = "tab10", size: float = 12,
               axis_names: tuple[str, str] = ("axis 1", "axis 2"), colour_label: str = ""):
    """Points ``(N, 2)`` (a PCA or t-SNE map) coloured by a category per point (a legend) or,
    when ``colour_by`` is numeric, by a colour scale (a colour bar labelled ``colour_label``);
    returns the figure.

    ``order``: the categories in legend order (default: sorted). ``axis_names``: the labels of
    the two axes (``("PC 1", "PC 2")`` for PCA; a t-SNE map's axes have no unit or meaning of
    their own, only its neighbourhoods do, so their ticks are hidden).
    """
    import matplotlib.pyplot as plt

    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(colour_by):
        raise ValueError(f"expected points (N, 2) and one colour value per point, got "
                         f"{points.shape} and {len(colour_by)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    values = np.asarray(colour_by)
    if values.dtype.kind in "fiu":
        image = ax.scatter(points[:, 0], points[:, 1], c=values, cmap="viridis", s=size,
                           lw=0)
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        if colour_label:
            bar.set_label(colour_label, fontsize=8)
    else:
        colours = plt.get_cmap(cmap)
        for k, category in enumerate(order if order is not None else sorted(set(values))):
            keep = values == category
            ax.scatter(points[keep, 0], points[keep, 1], s=size, lw=0, label=str(category),
                       color=colours(k % colours.N))
        ax.legend(fontsize=7, markerscale=1.5, frameon=False, loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(axis_names[0], fontsize=8)
    ax.set_ylabel(axis_names[1], fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def draw_unet(model, size: int = 256, ax=None):
    """The streaming U-Net as a "U": one box per stage, its channels, size and blocks.

    ``model`` is a :class:`ronin_lite.models.StreamingUNet`; ``size`` the (square) input size
    written in the boxes. Boxes are coloured by their attention (reduced: green, channel:
    blue); stages with history blocks have an orange border and name them (FHR: frame history
    router; CHM: state alignment + router). Solid arrows: down/up-sampling; dashed: skips.
    Returns the figure.
    """
    from collections import Counter

    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from .models.history import CausalHistoryModel, HistoryBlock

    def kind(block) -> str:
        if isinstance(block, HistoryBlock):
            return "CHM" if isinstance(block.attn, CausalHistoryModel) else "FHR"
        return "channel" if type(block.attn).__name__ == "ChannelAttention" else "reduced"

    columns = {"encoder1": 0, "encoder2": 1, "encoder3": 2, "latent": 3,
               "decoder3": 4, "decoder2": 5, "decoder1": 6, "refinement": 7}
    levels = {"encoder1": 0, "encoder2": 1, "encoder3": 2, "latent": 3,
              "decoder3": 2, "decoder2": 1, "decoder1": 0, "refinement": 0}
    width = model.config.width
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.1))
    w, h = 1.25, 0.8
    centre = {}
    for name, stage in model.stages.items():
        x, y = columns[name] * 1.45, -levels[name] * 1.05
        centre[name] = (x, y)
        kinds = Counter(kind(b) for b in stage.blocks)
        history = kinds["FHR"] + kinds["CHM"] > 0
        colour = "#d5ecd4" if kinds["reduced"] else "#cfe3f7"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                    fc=colour, ec="#e07b00" if history else "0.3",
                                    lw=2.2 if history else 0.8))
        blocks = ", ".join(f"{n} {k}" for k, n in kinds.items())
        side = size >> levels[name]
        ax.text(x, y, f"{name}\n{width << levels[name]} ch, {side}x{side}\n{blocks}",
                ha="center", va="center", fontsize=6.5)
    arrow = dict(arrowstyle="-|>", color="0.3", lw=0.9, shrinkA=0, shrinkB=0)
    order = list(columns)
    for a, b in zip(order, order[1:]):
        (x0, y0), (x1, y1) = centre[a], centre[b]
        start = (x0 + w / 2, y0) if y0 == y1 else (x0 + w / 4, y0 - h / 2 if y1 < y0 else
                                                   y0 + h / 2)
        end = (x1 - w / 2, y1) if y0 == y1 else (x1 - w / 4, y1 + h / 2 if y1 < y0 else
                                                 y1 - h / 2)
        ax.annotate("", xy=end, xytext=start, arrowprops=arrow)
        if y0 != y1:
            label = "down" if y1 < y0 else "up"
            ax.text((start[0] + end[0]) / 2 + (0.06 if y1 < y0 else -0.06),
                    (start[1] + end[1]) / 2, label, fontsize=6, color="0.35",
                    ha="left" if y1 < y0 else "right", va="center")
    for enc, dec in (("encoder1", "decoder1"), ("encoder2", "decoder2"),
                     ("encoder3", "decoder3")):
        (x0, y0), (x1, _) = centre[enc], centre[dec]
        ax.annotate("", xy=(x1 - w / 2, y0 + 0.2), xytext=(x0 + w / 2, y0 + 0.2),
                    arrowprops=dict(arrow, ls="--", color="0.55"))
        ax.text((x0 + x1) / 2, y0 + 0.25, "skip (concat + 1x1)", fontsize=6, color="0.45",
                ha="center", va="bottom")
    x_in, y_in = centre["encoder1"]
    x_out, _ = centre["refinement"]
    ax.text(x_in, y_in + h / 2 + 0.32, f"frame 3x{size}x{size}\n-> 3x3 conv", fontsize=6.5,
            ha="center", va="center")
    ax.annotate("", xy=(x_in, y_in + h / 2), xytext=(x_in, y_in + h / 2 + 0.16),
                arrowprops=arrow)
    ax.text(x_out, y_in + h / 2 + 0.32, "3x3 conv + frame\n-> restored", fontsize=6.5,
            ha="center", va="center")
    ax.annotate("", xy=(x_out, y_in + h / 2 + 0.16), xytext=(x_out, y_in + h / 2),
                arrowprops=arrow)
    ax.set_xlim(-0.75, 7 * 1.45 + 0.75)
    ax.set_ylim(-3 * 1.05 - 0.45, 0.95)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure


def loss_curve(losses: Sequence[float], ax=None, smooth: int = 25, label: str | None = None,
               title: str | None = None, color: str | None = None):
    """A training loss per step (faint) with its moving average over ``smooth`` steps (solid);
    log scale on the loss axis. Several calls on one ``ax`` overlay runs. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    losses = np.asarray(losses, dtype=np.float64)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3))
    steps = np.arange(1, len(losses) + 1)
    line = ax.plot(steps, losses, alpha=0.25, lw=0.8, color=color)[0]
    if len(losses) >= smooth > 1:
        average = np.convolve(losses, np.ones(smooth) / smooth, mode="valid")
        ax.plot(steps[smooth - 1:], average, color=line.get_color(), lw=1.6, label=label)
    elif label:
        line.set_label(label)
    ax.set_yscale("log")
    def plain(value, _):  # 0.03, not 3 x 10^-2; minor ticks labelled at 2, 3 and 5 only
        lead = value / 10 ** np.floor(np.log10(value)) if value > 0 else 0
        return f"{value:g}" if round(lead) in (1, 2, 3, 5) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(plain))
    ax.yaxis.set_minor_formatter(FuncFormatter(plain))
    ax.tick_params(axis="y", which="both", labelsize=7)
    ax.set_xlabel("step")
    ax.set_ylabel("L1 loss")
    if label:
        ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure
