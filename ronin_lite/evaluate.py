"""Evaluation: PSNR / SSIM per clip, per degradation and intensity, temporal flicker, tables.

RONIN (arXiv 2507.14851) reports mean PSNR and SSIM over the frames of each benchmark's test
videos. We do the same on the benchmark splits of :mod:`ronin_lite.data.benchmarks` and break
the means down by *task* (the degradation applied to the clip: ``noise``, ``blur``,
``compression``, ...) and *intensity* (its severity), which the paper's tables do not, because
an all-in-one restorer can win on average while losing on one degradation.

**Metrics.** PSNR per frame, averaged (data range 1); SSIM with scikit-image's Gaussian window
on RGB (:mod:`ronin_lite.metrics`, checked against ``torchmetrics`` in the tests). *Flicker*
(not in the paper; the temporal-consistency question its video setting raises) is the mean
absolute error of the frame-to-frame differences, in 8-bit grey levels::

    flicker = 255 * mean_t mean_px | (r_t - r_{t-1}) - (c_t - c_{t-1}) |,   t = 1 .. T-1

0 for a perfect restoration; a restorer that is right on average but jitters from frame to
frame scores high, one that is wrong by the same amount on every frame scores 0.

**Restorers.** Anything that maps a clip ``(T, H, W, 3)`` float32 in [0, 1] to one of the same
shape: a :mod:`ronin_lite.baselines` function, or a network wrapped by :func:`model_restorer`
(frame by frame, causally, carrying the state, optionally with *external prompts* in place of
the generated ones: the counterfactual and perturbation tests).

Command line (any checkpoint folder or shipped name, any benchmark split)::

    python -m ronin_lite.evaluate --checkpoint small-3d-lite small-3d-lite-noprompt \\
        --baselines input nlm --benchmark 3d-lite --size 128 --clips-per-scene 32 \\
        --out results/eval_3d-lite.json
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from .data.benchmarks import BenchmarkClip
from .data.frames import check_clip, to_numpy_clip, to_torch_clip
from .grounding.describers import label_of
from .metrics import DEFAULT as DEFAULT_CONVENTION
from .metrics import Convention, psnr, ssim

Restorer = Callable[[np.ndarray], np.ndarray]
#: the figures of a row that are averaged in summaries
METRICS = ("psnr_input", "psnr", "ssim_input", "ssim", "flicker_input", "flicker")


def flicker(restored: np.ndarray, clean: np.ndarray) -> float:
    """Error of the frame-to-frame differences, 8-bit grey levels (see the module docstring)."""
    r = check_clip(np.asarray(restored, np.float32), "restored").astype(np.float64)
    c = check_clip(np.asarray(clean, np.float32), "clean").astype(np.float64)
    if r.shape != c.shape:
        raise ValueError(f"shapes differ: {r.shape} vs {c.shape}")
    if len(r) < 2:
        raise ValueError("flicker needs at least 2 frames")
    return float(255.0 * np.abs(np.diff(r, axis=0) - np.diff(c, axis=0)).mean())


def clip_task(clip: BenchmarkClip) -> tuple[str, str]:
    """``(task, severity)`` of a clip: the labels of its most common per-frame combination
    (``"noise"``, ``"blur+compression"``) and the worst severity among them in those frames."""
    combos = [tuple(sorted({label_of(r["name"]) for r in frame})) for frame in clip.records]
    task = Counter(combos).most_common(1)[0][0]
    order = {"slight": 0, "moderate": 1, "severe": 2}  # ronin_lite.data.degradations.severity
    severities = [r.get("severity", "") for frame, combo in zip(clip.records, combos)
                  if combo == task for r in frame]
    severity = max(severities, key=lambda s: order.get(s, -1)) if severities else ""
    return "+".join(task) or "clean", severity


def score_clip(restored: np.ndarray, clip: BenchmarkClip,
               convention: Convention = DEFAULT_CONVENTION) -> dict:
    """One row: the clip's identity and task, and the metrics of input and restoration
    (PSNR and SSIM under ``convention``, :mod:`ronin_lite.metrics`)."""
    restored = check_clip(np.asarray(restored, np.float32), "restored")
    if restored.shape != clip.clean.shape:
        raise ValueError(f"the restorer returned {restored.shape} for a clip of "
                         f"{clip.clean.shape}: it must keep the number and size of frames")
    task, severity = clip_task(clip)
    row = {"clip_id": clip.clip_id, "scene": clip.scene, "task": task, "severity": severity,
           "psnr_input": psnr(clip.degraded, clip.clean, convention),
           "psnr": psnr(restored, clip.clean, convention),
           "ssim_input": ssim(clip.degraded, clip.clean, convention),
           "ssim": ssim(restored, clip.clean, convention)}
    if len(restored) > 1:
        row["flicker_input"] = flicker(clip.degraded, clip.clean)
        row["flicker"] = flicker(restored, clip.clean)
    return row


def evaluate(restore: Restorer, clips: Iterable[BenchmarkClip], progress: bool = True,
             desc: str = "evaluate", convention: Convention = DEFAULT_CONVENTION) -> list[dict]:
    """Restore every clip and score it: one row per clip (:func:`score_clip`), plus the
    restorer's seconds per frame (``"sec_per_frame"``)."""
    from tqdm.auto import tqdm

    clips = list(clips)
    rows = []
    for clip in tqdm(clips, desc=desc, disable=not progress, unit="clip"):
        tick = time.perf_counter()
        restored = restore(clip.degraded)
        seconds = time.perf_counter() - tick
        rows.append({**score_clip(restored, clip, convention),
                     "sec_per_frame": seconds / len(clip.degraded)})
    return rows


def summarise(rows: Sequence[dict], by: Sequence[str] = ("task",)) -> dict[str, dict]:
    """Means of :data:`METRICS` overall (key ``"all"``) and per group of ``by`` (e.g.
    ``("task",)`` -> ``"noise"``, ``("task", "severity")`` -> ``"noise/severe"``); each with
    ``n`` (clips) and the standard error of the PSNR gain over the input (``gain_sem``)."""
    if not rows:
        raise ValueError("no rows to summarise: the restorer was evaluated on no clips")
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
        if by:
            groups["/".join(str(row[k]) for k in by)].append(row)
    out = {}
    for key in ["all"] + sorted(k for k in groups if k != "all"):
        members = groups[key]
        summary: dict = {"n": len(members)}
        for m in METRICS:
            values = [r[m] for r in members if m in r]
            if values:
                summary[m] = float(np.mean(values))
        gains = np.array([r["psnr"] - r["psnr_input"] for r in members])
        summary["gain"] = float(gains.mean())
        summary["gain_sem"] = float(gains.std(ddof=1) / np.sqrt(len(gains))) \
            if len(gains) > 1 else 0.0
        out[key] = summary
    return out


def changes(summaries: dict[str, dict[str, dict]], reference: dict[str, dict],
            metric: str = "psnr") -> dict[str, dict[str, float]]:
    """``{name: {group: change}}``: each of ``summaries`` (``{name: summarise(...)}``) minus
    ``reference`` (one :func:`summarise` result) in ``metric``, group by group. The prompt tests
    of ``data_scripts/bench_ronin.py`` are read so: a network restored with another prompt
    against itself with its own."""
    return {name: {g: s[g][metric] - reference[g][metric] for g in reference if g in s}
            for name, s in summaries.items()}


def markdown_table(summaries: dict[str, dict[str, dict]], metric: str = "psnr",
                   digits: int = 2, input_row: bool = True) -> str:
    """A Markdown table: one row per method, one column per group (``"all"`` first).

    ``summaries``: method -> :func:`summarise` output. With ``input_row`` a first row gives the
    degraded input's value (``<metric>_input``) from the first method's summary.
    """
    if not summaries:
        raise ValueError("no methods to tabulate")
    first = next(iter(summaries.values()))
    groups = list(first)
    head = "| method | " + " | ".join(groups) + " |"
    rule = "|---|" + "---:|" * len(groups)
    lines = [head, rule]
    if input_row:
        lines.append("| degraded input | " + " | ".join(
            f"{first[g][metric + '_input']:.{digits}f}" for g in groups) + " |")
    for method, summary in summaries.items():
        cells = [f"{summary[g][metric]:.{digits}f}" if g in summary else "–" for g in groups]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Networks as restorers
# ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def evaluating(model):
    """``model`` in eval mode for the block, then back in the mode the caller had it in (a
    training loop that evaluates on the side keeps training with dropout/statistics as set)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def restore_frames(model, clip: np.ndarray, prompts: torch.Tensor | None = None,
                   device: torch.device | str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Restore a NumPy clip ``(T, H, W, 3)`` frame by frame with ``model`` (a
    :class:`~ronin_lite.models.ronin.RoninLite`), causally, carrying the state.

    ``prompts`` ``(T, prompt_dim)`` or ``(1, prompt_dim)``, in the network's normalised prompt
    space, replace the generated prompts. Returns the restored clip (clipped to [0, 1]) and the
    prompts used ``(T, prompt_dim)`` (None for a network without a prompt path).
    """
    param = next(model.parameters())
    device = torch.device(device) if device is not None else param.device
    # frames and prompts in the network's own dtype (a bf16 network gets bf16 inputs)
    frames = to_torch_clip(check_clip(clip)).to(device, param.dtype)  # (T, 3, H, W)
    if prompts is not None:
        if prompts.ndim != 2 or prompts.shape[0] not in (1, len(frames)):
            raise ValueError(f"prompts must be shaped ({len(frames)} or 1, D), got "
                             f"{tuple(prompts.shape)}")
        prompts = prompts.to(device, param.dtype)
    state, restored, used = None, [], []
    with evaluating(model):
        for t in range(len(frames)):
            p = None if prompts is None else prompts[min(t, len(prompts) - 1)][None]
            out = model(frames[t:t + 1], state, p)  # (1, 3, H, W)
            state = out.state
            restored.append(out.restored.clamp(0, 1))
            if out.prompt is not None:
                used.append(out.prompt[0])
    restored_np = to_numpy_clip(torch.cat(restored).float().cpu())
    return restored_np, (torch.stack(used).float().cpu().numpy() if used else None)


def model_restorer(model, device: torch.device | str | None = None,
                   prompts: Callable[[np.ndarray], torch.Tensor] | None = None) -> Restorer:
    """Wrap a network as a :data:`Restorer` (run in eval mode, no gradients; the caller's
    mode is left as it was). ``prompts``: a function from the degraded clip to the external
    prompts to use (see :func:`restore_frames`)."""

    def restore(clip: np.ndarray) -> np.ndarray:
        return restore_frames(model, clip, None if prompts is None else prompts(clip), device)[0]

    return restore


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    from .baselines import BASELINES
    from .data.benchmarks import BENCHMARKS, EVAL_CLIPS_PER_SCENE, EVAL_SIZE, SPLITS

    p = argparse.ArgumentParser(
        prog="ronin-lite evaluate", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  ronin-lite evaluate --checkpoint small-3d-lite small-3d-lite-noprompt "
               "--baselines input nlm --out results/mine.json")
    p.add_argument("--checkpoint", nargs="*", default=[],
                   help="checkpoint folders, run folders or shipped names")
    p.add_argument("--baselines", nargs="*", default=["input"], choices=sorted(BASELINES))
    p.add_argument("--benchmark", default="3d-lite", choices=sorted(BENCHMARKS))
    p.add_argument("--split", default="test", choices=list(SPLITS))
    p.add_argument("--scenes", default="builtin", help="clean scenes: builtin (11 photos), bundled "
                   "(the photos and 7 real-video scenes: the evaluation protocol), or a folder "
                   "of your images, videos or frame folders (split by scene)")
    p.add_argument("--size", type=int, default=None, help="frame size (default: the "
                   f"benchmark protocol's {EVAL_SIZE} px, or --profile's eval size)")
    p.add_argument("--clips-per-scene", type=int, default=None, help="default: the benchmark "
                   f"protocol's {EVAL_CLIPS_PER_SCENE}, or --profile's")
    p.add_argument("--seed", type=int, default=0, help="the benchmark's seed")
    p.add_argument("--profile", default=None, help="tiny | small | full: take --size and "
                   "--clips-per-scene from this profile (never from the machine: the same "
                   "command scores the same clips everywhere)")
    p.add_argument("--by", nargs="*", default=["task"], help="row keys to group by")
    p.add_argument("--channel", default="rgb", choices=["rgb", "y"],
                   help="score RGB (default) or the BT.601 luma Y, as BasicSR does")
    p.add_argument("--crop-border", type=int, default=0,
                   help="pixels left out at every edge before scoring (default 0)")
    p.add_argument("--quantize", action="store_true",
                   help="round both images to 8 bits before scoring (as saved PNGs)")
    p.add_argument("--out", default=None, help="JSON results file (written atomically)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true")
    return p


def method_names(specs: list[str]) -> list[str]:
    """A result name per checkpoint: its folder's name, or the whole spec where two folders
    share a name (``runs/a/seed0`` and ``runs/b/seed0`` must not overwrite each other)."""
    if len(set(specs)) != len(specs):
        raise ValueError(f"a checkpoint is given twice: {specs}")
    base = [Path(s).name for s in specs]
    return [b if base.count(b) == 1 else str(s) for b, s in zip(base, specs)]


def main(argv: list[str] | None = None) -> int:
    from .baselines import baseline_config, get_baseline
    from .checkpoints import load_any
    from .config import get_profile
    from .data.benchmarks import EVAL_CLIPS_PER_SCENE, EVAL_SIZE, get_benchmark
    from .io import write_json_atomic

    args = _parser().parse_args(argv)
    from .runtime import keep_freed_memory

    keep_freed_memory()  # each clip's frames reuse the last frame's buffers (ronin_lite.runtime)
    try:
        # the protocol's settings, or an explicitly named profile's: never the machine's
        size, per_scene = EVAL_SIZE, EVAL_CLIPS_PER_SCENE
        if args.profile is not None:
            profile = get_profile(args.profile)
            size, per_scene = profile.eval_size, profile.clips_per_scene
        bench = get_benchmark(args.benchmark, size=args.size or size, seed=args.seed,
                              clips_per_scene=args.clips_per_scene or per_scene,
                              scenes=args.scenes)
        clips = list(bench.clips(args.split))
        convention = Convention(args.channel, args.crop_border, args.quantize)
        methods: dict[str, tuple[Restorer, dict]] = {
            b: (get_baseline(b), baseline_config(b)) for b in args.baselines}
        for spec, name in zip(args.checkpoint, method_names(args.checkpoint)):
            model = load_any(spec, args.device)
            methods[name] = (model_restorer(model, args.device),
                             {"checkpoint": spec, **model.config.to_dict()})
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results: dict[str, dict] = {}
    for name, (restore, config) in methods.items():
        rows = evaluate(restore, clips, progress=not args.quiet, desc=name,
                        convention=convention)
        results[name] = {"config": config, "rows": rows, "summary": summarise(rows, args.by)}
    summaries = {k: v["summary"] for k, v in results.items()}
    print(f"{args.benchmark} {args.split}: {len(clips)} clips of {bench.eval_len} frames at "
          f"{bench.size} px")
    plain = "input" not in summaries  # the input's own row, unless it is a method already
    scored = convention.describe()
    print(f"\nPSNR (dB; {scored})\n" + markdown_table(summaries, "psnr", input_row=plain))
    print(f"\nSSIM ({scored})\n" + markdown_table(summaries, "ssim", digits=4,
                                                    input_row=plain))
    if args.out:
        write_json_atomic(args.out, {
            "command": "python -m ronin_lite.evaluate " + " ".join(argv or sys.argv[1:]),
            "benchmark": args.benchmark, "scenes": args.scenes, "split": args.split,
            "metrics": convention.to_dict(),
            "size": bench.size,
            "seed": bench.seed, "clips": len(clips), "frames_per_clip": bench.eval_len,
            "methods": results})
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
