"""Real footage, degraded by code that is not the project's: is RONIN-lite no worse than its twin?

The grounding study scores networks on clips the project's own operators degraded
(``ronin_lite.data.degradations``, OpenCV underneath). A user's footage was degraded by
something else: a camera, an encoder, another library. This check is the user's path end to end:
the real videos bundled offline (the protocol's test videos, never trained on), one fixed
degradation each at the settings of the grounding-study issue (Gaussian noise sigma 25/255,
Gaussian blur sigma 2 px, JPEG quality 20), made **twice**: by independent code (Pillow's
``GaussianBlur`` and JPEG encoder, NumPy's noise; ``--operators independent``) and by the
project's operators at the same settings (``--operators project``). Each degraded clip is saved
as a folder of 8-bit PNGs and restored with :func:`ronin_lite.infer.restore_video` (what
``ronin-lite restore`` runs, tiling included), then scored against the clean frames.

Each pair (RONIN-lite and its no-prompt twin, same seeds) is compared by the paired gap over
videos and seeds (``ronin_lite.stats``; the unit is the video, its clips averaged), with the
per-degradation means beside it::

    python data_scripts/real_footage_check.py                    # results/real_footage.json
    python data_scripts/real_footage_check.py --add --pairs "<label>"  # a pair shipped later
    python data_scripts/results_tables.py --real-footage         # its table (in the README)

Each network restores 720 frames (5 videos x 3 degradations x 2 implementations x 24 frames),
the ``small`` pair most of the time: the committed run took 39 minutes on the course's 2-core
machine while two trainings ran beside it. PSNR is RGB on the 8-bit PNGs (the restored frames
are written as 8-bit, like any video), whole frames.
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ronin_lite import stats
from ronin_lite.data.benchmarks import BUNDLED_SPLITS
from ronin_lite.data.frames import to_uint8
from ronin_lite.data.scenes import video_scenes
from ronin_lite.io import write_json_atomic

#: RONIN-lite and its twin, seed by seed (shipped names, ``ronin_lite.load_pretrained``)
PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tiny, 1,200 steps, FiLM (seeds 0, 1)": (
        ("tiny-3d-lite-film-1200-seed0", "tiny-3d-lite-film-1200-seed1"),
        ("tiny-3d-lite-twin-1200-seed0", "tiny-3d-lite-twin-1200-seed1")),
    "small, prompt masks (seed 0)": (("small-3d-lite",), ("small-3d-lite-noprompt",)),
    # the pair chosen on val: the tiny profile's recipe, each network at its own rate (README)
    "tiny, 1,200 steps, masks, own rates (seeds 0, 1)": (
        ("tiny-3d-lite-masks-1200-seed0", "tiny-3d-lite-masks-1200-seed1"),
        ("tiny-3d-lite-twin-1200-6x2-seed0", "tiny-3d-lite-twin-1200-6x2-seed1")),
    # its control, against the same twin: the prompt loss trained, the prompt never injected
    "tiny, 1,200 steps, prompt loss only (never injected), own rates (seeds 0, 1)": (
        ("tiny-3d-lite-promptloss-1200-seed0", "tiny-3d-lite-promptloss-1200-seed1"),
        ("tiny-3d-lite-twin-1200-6x2-seed0", "tiny-3d-lite-twin-1200-6x2-seed1")),
    # the small study's pair: the tiny profile's recipe at 1,200 steps, 4e-3, the paper's masks
    "small, 1,200 steps, masks (seeds 0, 1)": (
        ("small-3d-lite-masks-1200-seed0", "small-3d-lite-masks-1200-seed1"),
        ("small-3d-lite-twin-1200-seed0", "small-3d-lite-twin-1200-seed1")),
    # RONIN-lite of that recipe trained on soft clean frames too (TrainConfig.soften = 2, chosen
    # on val), against the same twin, trained on sharp frames only: the gap holds both changes
    "small, 1,200 steps, masks on soft clean frames (seeds 0, 1), twin on sharp": (
        ("small-3d-lite-masks-soft-1200-seed0", "small-3d-lite-masks-soft-1200-seed1"),
        ("small-3d-lite-twin-1200-seed0", "small-3d-lite-twin-1200-seed1")),
}
#: the grounding-study issue's settings ([0, 1] units for the noise)
NOISE_SIGMA, BLUR_SIGMA, JPEG_QUALITY = 25 / 255, 2.0, 20
DEGRADATIONS = ("noise", "blur", "jpeg")
OPERATORS = ("independent", "project")
#: the protocol's test scenes that are real videos (never in a training split)
VIDEOS = ("bigbuckbunny", "carphone", "bikes_shot2", "bikes_shot3", "bikes_shot5")
assert set(VIDEOS) <= set(BUNDLED_SPLITS["test"])


def _independent(frames: np.ndarray, degradation: str, seed: int) -> np.ndarray:
    """``frames (T, H, W, 3) uint8`` degraded by Pillow and NumPy, not by the project's code."""
    from PIL import Image, ImageFilter

    if degradation == "noise":
        rng = np.random.default_rng(seed)
        noisy = frames / 255.0 + NOISE_SIGMA * rng.standard_normal(frames.shape)
        return to_uint8(noisy)
    out = []
    for frame in frames:
        image = Image.fromarray(frame)
        if degradation == "blur":  # Pillow's radius is the Gaussian's standard deviation
            out.append(np.asarray(image.filter(ImageFilter.GaussianBlur(radius=BLUR_SIGMA))))
        else:
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=JPEG_QUALITY)
            out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return np.stack(out)


def project_degrade(frames: np.ndarray, degradation: str, seed: int) -> np.ndarray:
    """The same degradation by ``ronin_lite.data.degradations`` (OpenCV underneath)."""
    from ronin_lite.data import degradations as d

    clip = frames.astype(np.float32) / 255.0
    if degradation == "noise":
        out = d.gaussian_noise(clip, sigma=NOISE_SIGMA, rng=seed)
    elif degradation == "blur":
        out = d.gaussian_blur(clip, sigma=BLUR_SIGMA)
    else:
        out = d.jpeg(clip, quality=JPEG_QUALITY)
    return to_uint8(out)


def clean_clip(video: str, frames: int, size: int) -> np.ndarray:
    """The first ``frames`` frames of ``video``, centre-cropped to at most ``size`` px a side
    (a multiple of 8), as ``(T, H, W, 3) uint8``."""
    scenes = {s.name: s for s in video_scenes()}
    if video not in scenes:
        raise ValueError(f"no bundled video called {video!r}; choose from {sorted(scenes)}")
    scene = scenes[video]
    if scene.num_frames < frames:
        raise ValueError(f"{video} has {scene.num_frames} frames, fewer than --frames {frames}")
    clip = scene.load(0, frames)  # (T, H, W, 3) float in [0, 1]
    h, w = clip.shape[1:3]
    side = min(size, h, w) // 8 * 8
    top, left = (h - side) // 2, (w - side) // 2
    crop = clip[:, top:top + side, left:left + side]
    return to_uint8(crop)


def _save_frames(frames: np.ndarray, folder: Path) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:04d}.png")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    from ronin_lite.metrics import psnr

    return psnr(a.astype(np.float32) / 255.0, b.astype(np.float32) / 255.0)


def run(pairs: dict, videos, degradations, operators, frames: int, size: int,
        seed: int = 0, progress: bool = True) -> dict:
    """Degrade, restore with every model of ``pairs`` and score; the results dictionary."""
    from tqdm.auto import tqdm

    from ronin_lite import load_pretrained
    from ronin_lite.infer import read_frames, restore_video

    names = sorted({n for variant, twin in pairs.values() for n in (*variant, *twin)})
    models = {n: load_pretrained(n) for n in names}
    rows = []
    jobs = [(v, d, o) for v in videos for d in degradations for o in operators]
    with tempfile.TemporaryDirectory(prefix="ronin-real-") as tmp:
        bar = tqdm(jobs, desc="clips", disable=not progress)
        for k, (video, degradation, ops) in enumerate(bar):
            clean = clean_clip(video, frames, size)
            make = _independent if ops == "independent" else project_degrade
            degraded = make(clean, degradation, seed)
            src = Path(tmp) / f"in{k}"
            _save_frames(degraded, src)
            row = {"video": video, "degradation": degradation, "operators": ops,
                   "frames": int(clean.shape[0]), "size": list(clean.shape[1:3]),
                   "input_psnr": _psnr(degraded, clean), "psnr": {}, "seconds": {}}
            for name, model in models.items():
                out = Path(tmp) / f"out{k}_{name}"
                t0 = time.perf_counter()
                restore_video(model, src, out, progress=False)
                row["seconds"][name] = round(time.perf_counter() - t0, 2)
                row["psnr"][name] = _psnr(np.stack(list(read_frames(out)[0])), clean)
            rows.append(row)
    return {"rows": rows, "pairs": summarise(pairs, rows)}


def summarise(pairs: dict, rows: list[dict]) -> dict:
    """Per pair: the paired gap (RONIN-lite - twin) over videos and seeds, with per-degradation
    and per-operator means, and the mean PSNR of input, RONIN-lite and twin."""
    out = {}
    videos = sorted({r["video"] for r in rows})
    for label, (variant, twin) in pairs.items():
        def table(models, select=lambda r: True):
            return {str(i): {v: float(np.mean([r["psnr"][m] for r in rows
                                               if r["video"] == v and select(r)]))
                             for v in videos} for i, m in enumerate(models)}

        gap = stats.paired_interval(table(variant), table(twin))
        by = {}
        for key, values in (("degradation", sorted({r["degradation"] for r in rows})),
                            ("operators", sorted({r["operators"] for r in rows}))):
            for value in values:
                sel = [r for r in rows if r[key] == value]
                by[f"{key}={value}"] = {
                    "input": float(np.mean([r["input_psnr"] for r in sel])),
                    "ronin": float(np.mean([r["psnr"][m] for r in sel for m in variant])),
                    "twin": float(np.mean([r["psnr"][m] for r in sel for m in twin])),
                }
                by[f"{key}={value}"]["gap"] = by[f"{key}={value}"]["ronin"] - \
                    by[f"{key}={value}"]["twin"]
        out[label] = {
            "ronin": list(variant), "twin": list(twin), "gap_vs_twin": gap,
            "input_psnr": float(np.mean([r["input_psnr"] for r in rows])),
            "ronin_psnr": float(np.mean([r["psnr"][m] for r in rows for m in variant])),
            "twin_psnr": float(np.mean([r["psnr"][m] for r in rows for m in twin])),
            "by": by,
        }
    return out


def table(results: dict) -> str:
    """The README's table: one row per pair, the gap and the per-degradation gaps. A pair's
    network is RONIN-lite, or the control its label names."""
    degs = [k.split("=", 1)[1] for k in next(iter(results["pairs"].values()))["by"]
            if k.startswith("degradation=")]
    lines = ["| pair | input | network | twin | network - twin [95 %] | "
             + " | ".join(f"{d} (gap)" for d in degs) + " | independent ops (gap) |",
             "|---|---:|---:|---:|---:|" + "---:|" * (len(degs) + 1)]
    for label, p in results["pairs"].items():
        g = p["gap_vs_twin"]
        units = (f"{g['n_scenes']} video{'s' * (g['n_scenes'] > 1)} x {g['n_seeds']} "
                 f"seed{'s' * (g['n_seeds'] > 1)}")
        ind = p["by"].get("operators=independent", {}).get("gap")
        lines.append(
            f"| {label} | {p['input_psnr']:.2f} | {p['ronin_psnr']:.2f} | {p['twin_psnr']:.2f} | "
            f"{stats.bracket(g)} ({units}) | "
            + " | ".join(f"{p['by'][f'degradation={d}']['gap']:+.2f}" for d in degs)
            + f" | {'' if ind is None else f'{ind:+.2f}'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    p.add_argument("--videos", nargs="+", default=list(VIDEOS))
    p.add_argument("--degradations", nargs="+", default=list(DEGRADATIONS), choices=DEGRADATIONS)
    p.add_argument("--operators", nargs="+", default=list(OPERATORS), choices=OPERATORS)
    p.add_argument("--frames", type=int, default=24, help="frames per clip (default 24)")
    p.add_argument("--size", type=int, default=256, help="centre crop, px a side (default 256)")
    p.add_argument("--seed", type=int, default=0, help="the noise's seed")
    p.add_argument("--out", default="results/real_footage.json")
    p.add_argument("--add", action="store_true",
                   help="add the networks of --pairs to the rows of the existing --out file "
                        "(its videos, frames, size, noise seed, degradations and operators; "
                        "the degraded inputs are made again and must match its input PSNRs) "
                        "instead of restoring every pair again")
    args = p.parse_args(argv)
    if args.frames < 1 or args.size < 32:
        p.error("need --frames >= 1 and --size >= 32")
    command = ("python data_scripts/real_footage_check.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)).rstrip()
    out = Path(args.out)
    old = None
    if args.add:  # the existing file's clips: its settings, not the command line's
        if not out.exists():
            print(f"error: --add needs an existing {out}: run without --add first",
                  file=sys.stderr)
            return 2
        old = json.loads(out.read_text())
        m = old["meta"]
        args.videos, args.operators, args.frames, args.size, args.seed = (
            m["videos"], m["operators"], m["frames"], m["size"], m["noise_seed"])
        args.degradations = sorted({r["degradation"] for r in old["rows"]})
    try:
        results = run({k: PAIRS[k] for k in args.pairs}, args.videos, args.degradations,
                      args.operators, args.frames, args.size, args.seed)
        if old is not None:
            results = _merged(old, results, args.pairs, command)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if old is None:
        results["meta"] = {
            "command": command, "videos": args.videos, "frames": args.frames,
            "size": args.size, "noise_sigma": NOISE_SIGMA, "blur_sigma": BLUR_SIGMA,
            "jpeg_quality": JPEG_QUALITY, "noise_seed": args.seed, "operators": args.operators,
            "metric": "PSNR, RGB, 8-bit frames, whole frame",
            "interval": f"stats.paired_interval over videos x seeds, {stats.N_BOOT} resamples"}
    write_json_atomic(out, results)
    commands = " then ".join(f"`{c}`" for c in [results["meta"]["command"],
                                                *results["meta"].get("added", [])])
    print(f"wrote {out}\n\n{commands}\n\n{table(results)}")
    return 0


def _merged(old: dict, fresh: dict, added: list[str], command: str) -> dict:
    """``--add``: the rows of ``old`` (a results file) with the networks ``fresh`` restored on
    the same clips, every pair summarised again over the merged rows; a clip whose degraded
    input is not the one ``old`` was made with is an error."""
    unknown = [k for k in old["pairs"] if k not in PAIRS]
    if unknown:
        raise ValueError(f"the results file holds pairs this script no longer names: {unknown}")
    rows = {(r["video"], r["degradation"], r["operators"]): r for r in old["rows"]}
    for r in fresh["rows"]:
        key = (r["video"], r["degradation"], r["operators"])
        if key not in rows or abs(rows[key]["input_psnr"] - r["input_psnr"]) > 1e-6:
            raise ValueError(f"the degraded clip {key} is not the one the results file was made "
                             f"with (input PSNR {r['input_psnr']:.6f}); run every pair again "
                             "without --add")
        rows[key]["psnr"].update(r["psnr"])
        rows[key]["seconds"].update(r["seconds"])
    pairs = {k: PAIRS[k] for k in dict.fromkeys([*old["pairs"], *added])}
    return {"rows": list(rows.values()), "pairs": summarise(pairs, list(rows.values())),
            "meta": {**old["meta"], "added": [*old["meta"].get("added", []), command]}}


if __name__ == "__main__":
    sys.exit(main())
