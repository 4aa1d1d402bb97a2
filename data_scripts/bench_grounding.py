"""Benchmark the offline grounding: how well the statistics describer reads degradations, and
how fast the describer and the text encoder run.

RONIN grounds its prompts in what a describer says about each frame; when the describer is
ours (``StatisticsDescriber``) rather than Q-Instruct, the first question is whether it names
the degradations that were really applied. This script compares its detections with the
synthesis records, per degradation (precision, recall, F1, severity accuracy) and as a
macro-F1 over the degradations the benchmark applies, and times it.

    python data_scripts/bench_grounding.py --benchmark 3d-lite --split test
    python data_scripts/bench_grounding.py --benchmark 4d-lite --split test --json out.json
    python data_scripts/bench_grounding.py --calibrate          # refit the thresholds

``--calibrate`` fits the describer's thresholds (``calibrate_thresholds``) on the *train* split
of 4d-lite (random training clips and their clean frames, which are the negatives) and prints
them as the literal to paste into ``CALIBRATED_THRESHOLDS`` in
``ronin_lite/grounding/describers.py``; test splits are never used to fit.

Frames come from ``ronin_lite.data.benchmarks`` unless ``--source module:function`` names a
function ``f(benchmark, split, size, clips) -> iterable`` of objects with ``degraded``
``(T, H, W, 3)`` and ``records`` (and optionally ``clean``) attributes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from ronin_lite.grounding.accuracy import score_detections
from ronin_lite.io import write_json_atomic
from ronin_lite.grounding.describers import (
    LABELS,
    StatisticsDescriber,
    calibrate_thresholds,
    labels_from_records,
)

TARGETS = {"3d-lite": 0.85, "4d-lite": 0.75}  # macro-F1 on the test split (from the issue)
TARGET_FPS = 30.0  # describer frames/s at 128x128 on 2 CPU cores
TARGET_SENTENCES = 200.0  # text encoder sentences/s on 2 CPU cores


def benchmark_clips(benchmark: str, split: str, size: int, clips: int) -> Iterable:
    """Clips of a ronin_lite benchmark: random training clips (2 frames each) for ``train``,
    the fixed evaluation clips (``clips`` per scene) otherwise."""
    from ronin_lite.data.benchmarks import get_benchmark

    if split == "train":
        bench = get_benchmark(benchmark, size=size)
        return (bench.sample(i, split="train", T=2) for i in range(clips))
    return get_benchmark(benchmark, size=size, clips_per_scene=clips).clips(split)


def load_source(spec: str | None):
    """The clip source: ``benchmark_clips`` or the ``module:function`` the user named."""
    if spec is None:
        return benchmark_clips
    module, _, name = spec.partition(":")
    if not name:
        raise SystemExit(f"--source must look like package.module:function, got {spec!r}")
    return getattr(importlib.import_module(module), name)


def gather(source, benchmark: str, split: str, size: int, clips: int, with_clean: bool):
    """Frames ``(N, H, W, 3)``, per-frame truths, and the clean frames (or None)."""
    degraded, truths, clean = [], [], []
    for clip in source(benchmark, split, size, clips):
        degraded.append(clip.degraded)
        truths += labels_from_records(clip.records)
        if with_clean and getattr(clip, "clean", None) is not None:
            clean.append(clip.clean)
    if not degraded:
        raise SystemExit(f"the source gave no clips for {benchmark}/{split}")
    return (np.concatenate(degraded), truths,
            np.concatenate(clean) if clean else None)


def print_table(rows: dict[str, dict], present: list[str]) -> None:
    print(f"{'degradation':<12} {'support':>7} {'TP':>5} {'FP':>5} {'FN':>5} "
          f"{'prec':>6} {'recall':>6} {'F1':>6} {'sev.acc':>7}")
    for label, r in rows.items():
        mark = "" if label in present else "   (not applied by this benchmark)"
        print(f"{label:<12} {r['support']:>7} {r['tp']:>5} {r['fp']:>5} {r['fn']:>5} "
              f"{r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} "
              f"{r['severity_acc']:>7.3f}{mark}")


def time_describer(describer: StatisticsDescriber, frames: np.ndarray, batch: int = 8) -> float:
    """Frames per second of ``describe`` (measure + detect + phrase) over ``frames``."""
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        describer.describe(frames[i:i + batch])
    return len(frames) / (time.perf_counter() - start)


def time_encoder(sentences: list[str], n: int = 512) -> tuple[str, float]:
    """(encoder name, sentences per second) over ``n`` sentences, after one warm-up batch."""
    from ronin_lite.grounding.text_encoder import TextEncoder

    encoder = TextEncoder(device="cpu")
    batch = (sentences * (n // max(len(sentences), 1) + 1))[:n]
    encoder.encode(batch[:64])  # warm-up
    start = time.perf_counter()
    encoder.encode(batch)
    return encoder.name, n / (time.perf_counter() - start)


def calibrate(args, source) -> None:
    frames, truths, clean = gather(source, "4d-lite", "train", args.size, args.clips, True)
    describer = StatisticsDescriber()
    measured = describer.measure(frames)
    if clean is not None:
        measured += describer.measure(clean)
        truths = truths + [{}] * len(clean)
    thresholds = calibrate_thresholds(measured, truths)
    print(f"# calibrate_thresholds on 4d-lite train, {args.clips} clips x 2 frames at "
          f"{args.size} px, + their clean frames ({len(measured)} frames)")
    print("CALIBRATED_THRESHOLDS: dict[str, tuple[float, float, float]] = {")
    for label, cuts in thresholds.items():
        print(f"    {label!r}: ({', '.join(f'{c:.4g}' for c in cuts)}),")
    print("}")
    fitted = StatisticsDescriber(thresholds=thresholds)
    rows = score_detections([fitted.detect_measured(m) for m in measured], truths)
    print("\nfit on the calibration frames themselves (train; optimistic):")
    print_table(rows, list(LABELS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="3d-lite", choices=["3d-lite", "4d-lite"])
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--size", type=int, default=128, help="frame side in px (128)")
    parser.add_argument("--clips", type=int, default=None,
                        help="clips per scene (test/val, default 64) or training clips "
                             "(train / --calibrate, default 400)")
    parser.add_argument("--source", default=None, help="module:function giving the clips")
    parser.add_argument("--no-encoder", action="store_true", help="skip the encoder timing")
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the thresholds on 4d-lite train and print them")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    if args.clips is None:
        args.clips = 400 if args.calibrate or args.split == "train" else 64
    source = load_source(args.source)
    if args.calibrate:
        calibrate(args, source)
        return 0

    frames, truths, clean = gather(source, args.benchmark, args.split, args.size, args.clips,
                                   True)
    describer = StatisticsDescriber()
    fps = time_describer(describer, frames)
    predictions = describer.detect(frames)
    rows = score_detections(predictions, truths)
    present = [label for label in LABELS if rows[label]["support"]]
    macro = float(np.mean([rows[label]["f1"] for label in present]))
    spurious = sum(any(k not in present for k in p) for p in predictions)
    print(f"{args.benchmark} / {args.split}: {len(frames)} frames at "
          f"{frames.shape[1]}x{frames.shape[2]} px, describer {describer.name}\n")
    print_table(rows, present)
    print(f"\nmacro-F1 over the {len(present)} degradations applied: {macro:.3f}")
    print(f"frames with a degradation this benchmark never applies: {spurious}/{len(frames)}")
    results = {"benchmark": args.benchmark, "split": args.split, "frames": len(frames),
               "size": args.size, "per_degradation": rows, "macro_f1": macro,
               "spurious_frames": spurious, "describer_fps": fps}
    if clean is not None:
        alarms = sum(bool(p) for p in describer.detect(clean))
        results["clean_false_alarm_rate"] = alarms / len(clean)
        print(f"clean frames described as degraded: {alarms}/{len(clean)}")
    print(f"describer speed: {fps:.1f} frames/s")
    if not args.no_encoder:
        texts = describer.describe(frames[:64])
        name, sps = time_encoder(texts)
        results.update(encoder=name, encoder_sentences_per_s=sps)
        print(f"text encoder {name}: {sps:.1f} sentences/s")

    print("\ntargets:")
    target = TARGETS.get(args.benchmark) if args.split == "test" else None
    if target is not None:
        print(f"  macro-F1 >= {target}: {'met' if macro >= target else 'MISSED'} ({macro:.3f})")
    if args.size == 128:
        print(f"  >= {TARGET_FPS:.0f} frames/s at 128x128: "
              f"{'met' if fps >= TARGET_FPS else 'MISSED'} ({fps:.1f})")
    if "encoder_sentences_per_s" in results:
        sps = results["encoder_sentences_per_s"]
        print(f"  encoder >= {TARGET_SENTENCES:.0f} sentences/s: "
              f"{'met' if sps >= TARGET_SENTENCES else 'MISSED'} ({sps:.1f})")
    if args.json:
        write_json_atomic(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
