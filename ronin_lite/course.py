"""The course map, written once: every notebook, what it teaches, and how long it took.

The README's table of notebooks and notebook 00's course map are both made by
:func:`course_table` from :data:`COURSE` (``tools/notebooks.py build`` rewrites the README's
copy; a test checks it), so the two cannot disagree. The times are not estimates: they are
the CPU seconds of the kernel that ``tools/notebooks.py build`` ran each committed ``.ipynb``
in (``tiny`` profile, one thread), recorded in its metadata; on an idle machine that is about
the wall time, and another job on the machine does not inflate it. (Notebooks built before
that was recorded show the sum of their cells' wall times.) Notebooks that load a shipped training run say so: they
train it themselves with ``RONIN_RETRAIN=1``, which takes longer.

GPU times are not listed: the course's build and CI machines have no GPU, and a time nobody
measured would be a guess. Each notebook's header says what a GPU changes for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Lesson:
    number: str  # "00" .. "10": the file is notebooks/<number>_<stem>.ipynb
    stem: str
    title: str
    teaches: str
    shipped: str = ""  # what the notebook loads instead of training ("" when it trains nothing)


COURSE: tuple[Lesson, ...] = (
    Lesson("00", "introduction", "introduction",
           "all-in-one video restoration, what RONIN adds, the course map, an environment "
           "check"),
    Lesson("01", "degradations_and_benchmarks", "degradations and benchmarks",
           "13 degradations at three intensities, clips with camera motion, time-varying "
           "schedules, an interactive explorer, the four `-lite` benchmarks"),
    Lesson("02", "unet_backbone", "the U-Net backbone",
           "Turtle's blocks built and checked against the package, a frame's shapes through "
           "the U-Net, the cost of the three sizes, a single-frame U-Net trained on `3d-lite`",
           shipped="its training run"),
    Lesson("03", "causal_history", "causal history",
           "the frame history router and the state alignment built by hand, streaming with a "
           "bounded state, causality, the same net trained with and without history",
           shipped="its two training runs"),
    Lesson("04", "grounding_in_language", "grounding in language",
           "Q-Instruct and the VLM route, an offline statistics describer built step by step, "
           "its accuracy per degradation, hallucinations, the oracle and corrupted describers"),
    Lesson("05", "text_embeddings", "text embeddings",
           "descriptions as 384-d vectors, similarity between degradations, 2-D maps, why "
           "centring matters for the prompt loss, the resumable cache for training"),
    Lesson("06", "prompt_approximation", "prompt approximation",
           "the cross-attention and the prompt generator on a tiny net, the prompt loss, the "
           "paper's λ2 = 0.01 against our 1 trained side by side, how to tell a grounded "
           "prompt from a collapsed one on held-out frames (R², spread, nearest-description "
           "accuracy), 2-D maps", shipped="its two training runs"),
    Lesson("07", "soft_masks", "soft masks",
           "prompt → per-channel masks, identity initialisation, the shipped model's masks per "
           "degradation (heat maps), the counterfactual-prompt and prompt-noise tests, where to "
           "inject"),
    Lesson("08", "training", "training",
           "the loss frame by frame, AdamW (weights only) + warm-up + cosine, the 8 symmetries, "
           "reproducible data order, training pools, a tiny run trained in two chunks (resume) "
           "with validation while it trains, its evaluation, the `full` configuration, several "
           "GPUs, the shipped checkpoints' curves"),
    Lesson("09", "evaluation_and_ablations", "evaluation and ablations",
           "scoring a video restorer (PSNR, SSIM, flicker), the benchmark table against "
           "classical restorers and the no-prompt twin, paired comparisons over scenes and "
           "seeds, the paper's ablations at `tiny` scale with 3 seeds, the grounding study "
           "(oracle and predicted prompts, masks, FiLM and the prompt into the history router, "
           "the batch shape, a recipe that restores +2 dB within the `tiny` budget, three "
           "regimes, each variant at its own val-chosen rate, what the prompt carries, what "
           "carries the gain at 600 and 1,200 steps, real footage), evaluation cost",
           shipped="one ablation run"),
    Lesson("10", "streaming_inference", "streaming inference",
           "restoring a video frame by frame with the shipped checkpoint, input / restored / "
           "clean side by side, PSNR and flicker, a bounded state over 200 frames, frames larger "
           "than memory restored in tiles with the frame's statistics, restoring your own video"),
)

HEADER = ("| notebook | what it teaches | CPU time, `tiny` (measured by the build, 1 thread) |\n"
          "|---|---|---|")


def notebooks_folder() -> Path | None:
    """The folder of the executed notebooks: the working directory (a notebook runs in it), its
    ``notebooks/`` or the clone's ``notebooks/`` beside the package; None outside a clone."""
    here = Path(__file__).resolve().parents[1] / "notebooks"
    for folder in (Path.cwd(), Path.cwd() / "notebooks", here):
        if (folder / "00_introduction.ipynb").exists():
            return folder
    return None


def executed_seconds(notebook: str | Path) -> float | None:
    """The CPU seconds of the kernel that built an executed ``.ipynb`` (``ronin_cpu_seconds``,
    recorded by ``tools/notebooks.py build``; one thread, so on an idle machine about its wall
    time, and not inflated by other jobs on a busy one), or else the sum of its per-cell
    execution times; None when it holds neither."""
    document = json.loads(Path(notebook).read_text())
    recorded = document.get("metadata", {}).get("ronin_cpu_seconds")
    if recorded is not None:
        return float(recorded)
    cells = document["cells"]
    total, found = 0.0, False
    for cell in cells:
        stamps = cell.get("metadata", {}).get("execution", {})
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if start and end:
            total += (datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            found = True
    return total if found else None


def format_minutes(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    if seconds < 60:
        return "< 1 min"
    return f"{seconds / 60:.0f} min" if seconds >= 600 else f"{seconds / 60:.1f} min"


def course_table(folder: str | Path | None = None, links: bool = True) -> str:
    """The course map as a markdown table (links relative to the repository root)."""
    folder = Path(folder) if folder is not None else notebooks_folder()
    rows = [HEADER]
    for lesson in COURSE:
        name = f"{lesson.number}_{lesson.stem}.ipynb"
        seconds = executed_seconds(folder / name) if folder and (folder / name).exists() else None
        time = format_minutes(seconds) if folder else "(run from a clone to see)"
        if lesson.shipped and seconds is not None:
            time += f" (loads {lesson.shipped}; `RONIN_RETRAIN=1` trains here)"
        title = f"{lesson.number} {lesson.title}"
        if links:
            title = f"[{title}](notebooks/{name})"
        rows.append(f"| {title} | {lesson.teaches} | {time} |")
    return "\n".join(rows)


#: the README's copy of the table sits between these two lines
README_MARKERS = ("<!-- course map: generated by ronin_lite.course, do not edit -->",
                  "<!-- end of course map -->")


def update_readme(readme: str | Path, folder: str | Path | None = None) -> bool:
    """Rewrite the course map between :data:`README_MARKERS` in ``readme`` (True if it
    changed)."""
    path = Path(readme)
    text = path.read_text()
    start, end = README_MARKERS
    if start not in text or end not in text:
        raise ValueError(f"{path} has no course map markers ({start!r} ... {end!r})")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{course_table(folder)}\n{end}{tail}"
    if new != text:
        path.write_text(new)
    return new != text
