"""Ground a benchmark split in language, to disk: describe every frame, embed the text
(``ronin-lite ground``; ``python data_scripts/ground_split.py`` runs the same).

RONIN trains its prompt generator to predict, for every degraded training frame, the sentence
embedding of a quality description of that frame. This script computes those targets ahead of
training and stores them in a resumable :class:`ronin_lite.grounding.GroundingCache`:

    ronin-lite ground --benchmark 3d-lite --split train
    ronin-lite ground --benchmark 4d-lite --split test --describer oracle
    ronin-lite ground --benchmark 3d-lite --split train \\
        --describer vlm:llava-hf/llava-1.5-7b-hf --batch-size 16      # the paper's path, GPU

Describers: ``statistics`` (offline default), ``oracle`` (synthesis records; an upper bound),
``vlm:<model id or folder>``, ``corrupted:<rate>:<statistics|oracle>``. Encoder: the default
resolution of :class:`ronin_lite.grounding.TextEncoder` (bge-micro-v2 when cached, else the
bundled all-MiniLM-L6-v2) unless ``--encoder`` names one.

Which clips: for ``train``, training clips ``0 .. --clips - 1`` of the benchmark at the
profile's crop size and clip length (the clips ``TrainClips`` serves); for ``val``/``test``,
the fixed evaluation clips at the profile's evaluation size. Interrupt it at any time and run
the same command again: finished frames are kept, the rest is done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator

from ..config import data_root, get_profile
from ..data.benchmarks import BENCHMARKS, SPLITS, get_benchmark
from .cache import GroundingCache, cache_name
from .describers import make_describer
from .text_encoder import TextEncoder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ronin-lite ground", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  ronin-lite ground --benchmark 3d-lite --split train --profile tiny")
    parser.add_argument("--benchmark", default="3d-lite", choices=sorted(BENCHMARKS))
    parser.add_argument("--split", default="train", choices=SPLITS)
    parser.add_argument("--scenes", default="builtin", help="clean scenes: builtin, bundled (with "
                        "the real videos), or a folder of your images, videos or frame folders "
                        "(split by scene)")
    parser.add_argument("--profile", default=None, help="tiny | small | full (default: auto)")
    parser.add_argument("--soften", type=float, default=0.0,
                        help="training clips with softened clean frames (TrainConfig.soften; "
                             "train split only)")
    parser.add_argument("--clips", type=int, default=None,
                        help="training clips to ground (train only; default: the profile's "
                             "steps x batch, one clip per training sample)")
    parser.add_argument("--describer", default="statistics",
                        help="statistics | oracle | vlm:<model> | corrupted:<rate>:<base>")
    parser.add_argument("--seed", type=int, default=0, help="the describer's seed")
    parser.add_argument("--encoder", default=None, help="text encoder (folder or hub id)")
    parser.add_argument("--root", type=Path, default=None,
                        help="grounding caches (default: <data root>/grounding, where "
                             "training looks for them)")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: auto)")
    parser.add_argument("--batch-size", type=int, default=8, help="VLM batch size")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="VLM answer length")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="let a VLM repository run its own code (only if you trust it)")
    parser.add_argument("--chunk-frames", type=int, default=64,
                        help="frames per committed chunk (work lost on a kill is at most one)")
    return parser.parse_args(argv)


def clip_items(bench, split: str, clip_len: int, size: int, n_clips: int,
               finished: set[int], soften: float = 0.0) -> Iterator[tuple]:
    """``(clip_id, degraded, records)`` of the clips to ground; training clips in
    ``finished`` are skipped before being synthesised."""
    if split != "train":
        for clip in bench.clips(split):
            yield clip.clip_id, clip.degraded, clip.records
        return
    for index in range(n_clips):
        if index in finished:
            continue
        clip = bench.sample(index, split, clip_len, size, soften)
        yield clip.clip_id, clip.degraded, clip.records


def _finished_indices(done: set[str], clip_len: int) -> set[int]:
    """Training-clip indices all of whose frames are done (keys ``train/<scene>/<index>/<t>``)."""
    frames_done: dict[int, int] = {}
    for key in done:
        index = int(key.split("/")[-2])
        frames_done[index] = frames_done.get(index, 0) + 1
    return {i for i, n in frames_done.items() if n >= clip_len}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = get_profile(args.profile)
    train = args.split == "train"
    size = profile.crop if train else profile.eval_size
    bench = get_benchmark(args.benchmark, size=size, clips_per_scene=profile.clips_per_scene,
                          scenes=args.scenes,
                          seed=profile.seed)
    clip_len = profile.clip_len if train else bench.eval_len
    n_clips = (args.clips or profile.steps * profile.batch) if train \
        else bench.num_clips(args.split)
    if n_clips < 1:
        raise SystemExit(f"--clips must be >= 1, got {n_clips}")
    if args.soften and not train:
        raise SystemExit("--soften softens training clips: use it with --split train only")

    describer = make_describer(
        args.describer, seed=args.seed,
        **({"device": args.device, "batch_size": args.batch_size,
            "max_new_tokens": args.max_new_tokens, "trust_remote_code": args.trust_remote_code}
           if args.describer.startswith("vlm:") else {}))
    encoder = TextEncoder(args.encoder, device=args.device)
    name = cache_name(args.benchmark, size, profile.seed, clip_len, args.scenes,
                      args.soften if train else 0.0)
    cache = GroundingCache(args.root or data_root() / "grounding", name, args.split, describer.config(), encoder.name)
    print(f"grounding {args.benchmark} / {args.split}: {n_clips} clips x {clip_len} frames at "
          f"{size} px (profile {profile.name}), describer {describer.name}, encoder "
          f"{encoder.name} ({encoder.dim}-d) -> {cache.path}")
    done = cache.done_keys() if cache.exists() else set()
    finished = _finished_indices(done, clip_len) & set(range(n_clips)) if train else set()
    counts = cache.ground(clip_items(bench, args.split, clip_len, size, n_clips, finished,
                                     args.soften),
                          describer, encoder, progress=True, chunk_frames=args.chunk_frames,
                          total=n_clips - len(finished))
    already = counts["skipped"] + len(finished) * clip_len
    print(f"done: {counts['grounded']} frames grounded now, {already} were already there; "
          f"{len(cache)} frames in {cache.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
