"""Does the prompt help? RONIN-lite against its no-prompt twin, with the prompt tests of issue #5.

On a benchmark's held-out split (default: 3d-lite test, 128 px), for a RONIN-lite checkpoint
and its no-prompt twin (same seed, data and steps):

* mean PSNR / SSIM / flicker, overall and per degradation, of the degraded input, blind
  non-local means (``ronin_lite.baselines.nlm``), the twin and RONIN-lite;
* **counterfactual prompts**: every clip restored again with the prompt of a description of
  each *other* degradation (same severity), the ``oracle`` prompt (a description of the right
  one), the mean description (prompt 0) and Gaussian noise on the network's own prompt (sigma =
  1 and 2 x the spread of its prompts);
* **prompt approximation**: nearest-description accuracy (type, severity) and agreement with
  the statistics describer's text embeddings of the same frames (``ronin_lite.analysis``);
* **cost**: seconds per 256x256 frame of RONIN-lite and the twin (prompt overhead).

Writes a JSON file (with this command) and prints Markdown tables::

    python data_scripts/bench_ronin.py --ronin small-3d-lite --twin small-3d-lite-noprompt \\
        --out results/ronin_small_3d-lite.json
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from ronin_lite import analysis, baselines
from ronin_lite import evaluate as ev
from ronin_lite.checkpoints import load_any
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.io import write_json_atomic

TYPES = ("noise", "blur", "compression")


def seconds_per_frame(model, size: int = 256, frames: int = 12, repeats: int = 3) -> float:
    """Best of ``repeats`` mean times per frame over a stream of ``frames`` random frames."""
    x = torch.rand(frames, 3, size, size)
    best = float("inf")
    with torch.no_grad():
        model(x[:1])  # warm-up
        for _ in range(repeats):
            tick, state = time.perf_counter(), None
            for t in range(frames):
                state = model(x[t:t + 1], state).state
            best = min(best, (time.perf_counter() - tick) / frames)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ronin", default="small-3d-lite")
    p.add_argument("--twin", default="small-3d-lite-noprompt")
    p.add_argument("--benchmark", default="3d-lite")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--clips-per-scene", type=int, default=24)
    p.add_argument("--seed", type=int, default=0, help="the benchmark's seed")
    p.add_argument("--skip-nlm", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    from ronin_lite.grounding import StatisticsDescriber, TextEncoder

    ronin, twin = load_any(args.ronin), load_any(args.twin)
    if ronin.generator is None or twin.generator is not None:
        print("error: --ronin must have a prompt path and --twin must not", file=sys.stderr)
        return 2
    bench = get_benchmark(args.benchmark, size=args.size, seed=args.seed,
                          clips_per_scene=args.clips_per_scene)
    clips = list(bench.clips("test"))
    tasks = [ev.clip_task(c) for c in clips]
    print(f"{args.benchmark} test: {len(clips)} clips x {bench.eval_len} frames at {args.size} px")

    methods: dict[str, list[dict]] = {}
    methods["input"] = ev.evaluate(baselines.identity, clips, desc="input")
    if not args.skip_nlm:
        methods["nlm"] = ev.evaluate(baselines.nlm, clips, desc="nlm")
    methods["no-prompt twin"] = ev.evaluate(ev.model_restorer(twin), clips, desc="twin")
    own = [ev.restore_frames(ronin, c.degraded) for c in clips]
    methods["RONIN-lite"] = [ev.score_clip(r, c) for (r, _), c in zip(own, clips)]

    # --- prompt replacements ------------------------------------------------------------------
    encoder = TextEncoder(device="cpu")
    prototypes, keys = analysis.description_prototypes(encoder, list(TYPES))
    proto = {k: ronin.prompt_from_embedding(torch.from_numpy(v).float())[None]
             for k, v in zip(keys, prototypes)}
    spread = float(np.concatenate([q for _, q in own]).std())
    gen = torch.Generator().manual_seed(0)

    def replaced(make) -> list[dict]:
        return [ev.score_clip(ev.restore_frames(ronin, c.degraded, make(c, t, q))[0], c)
                for c, t, (_, q) in zip(clips, tasks, own)]

    tests: dict[str, list[dict]] = {
        "oracle description": replaced(lambda c, t, q: proto[(t[0], t[1])]),
        "mean description (prompt 0)": replaced(lambda c, t, q: torch.zeros(1, q.shape[1])),
    }
    wrong = []
    for shift in (1, 2):  # each of the two other degradations
        wrong.append(replaced(lambda c, t, q, s=shift: proto[(
            TYPES[(TYPES.index(t[0]) + s) % 3], t[1])]))
    tests["other degradation's description"] = [
        {**a, "psnr": (a["psnr"] + b["psnr"]) / 2, "ssim": (a["ssim"] + b["ssim"]) / 2,
         "flicker": (a["flicker"] + b["flicker"]) / 2} for a, b in zip(*wrong)]
    for k in (1.0, 2.0):
        tests[f"own prompt + noise (σ = {k:g} x spread)"] = replaced(
            lambda c, t, q, k=k: torch.from_numpy(q) + k * spread * torch.randn(q.shape,
                                                                                generator=gen))

    # --- prompt approximation -----------------------------------------------------------------
    frames = np.concatenate([c.degraded for c in clips])
    target = encoder.encode(StatisticsDescriber().describe(frames))
    mean = ronin.target_mean.numpy().astype(np.float64)
    prompts = ronin.embedding_from_prompt(torch.from_numpy(np.concatenate([q for _, q in own])))
    truth = [t for t in tasks for _ in range(bench.eval_len)]
    approximation = {
        "prompt": {**analysis.prompt_agreement(prompts.numpy(), target, mean),
                   **analysis.naming_accuracy(analysis.nearest_description(
                       prompts.numpy(), prototypes, keys, mean), truth)},
        "describer's text": analysis.naming_accuracy(analysis.nearest_description(
            target, prototypes, keys, mean), truth)}

    # --- cost -----------------------------------------------------------------------------------
    cost = {"threads": torch.get_num_threads(),
            "ronin_sec_per_frame_256": seconds_per_frame(ronin),
            "twin_sec_per_frame_256": seconds_per_frame(twin)}
    cost["prompt_overhead"] = cost["ronin_sec_per_frame_256"] / cost["twin_sec_per_frame_256"] - 1

    # --- report ---------------------------------------------------------------------------------
    summaries = {k: ev.summarise(v) for k, v in methods.items()}
    test_summaries = {k: ev.summarise(v) for k, v in tests.items()}
    print("\nPSNR (dB)\n" + ev.markdown_table(summaries, "psnr"))
    print("\nSSIM\n" + ev.markdown_table(summaries, "ssim", digits=4))
    print("\nflicker (grey levels)\n" + ev.markdown_table(summaries, "flicker"))
    base = summaries["RONIN-lite"]
    print("\nRONIN-lite with its prompt replaced: PSNR change (dB) vs its own prompt")
    print("| prompt | " + " | ".join(base) + " |\n|---|" + "---:|" * len(base))
    for name, change in ev.changes(test_summaries, base).items():
        print(f"| {name} | " + " | ".join(f"{change[g]:+.2f}" for g in base) + " |")
    a, d = approximation["prompt"], approximation["describer's text"]
    print(f"\nprompt approximation on {len(frames)} held-out frames: type named right "
          f"{a['type']:.1%} (describer's own text {d['type']:.1%})"
          f", severity {a['severity']:.1%}, R^2 {a['r2']:.3f}, centred cosine "
          f"{a['centred_cosine']:.3f}, spread ratio {a['spread_ratio']:.3f}")
    print(f"cost at 256x256 ({cost['threads']} threads): RONIN-lite "
          f"{cost['ronin_sec_per_frame_256'] * 1e3:.0f} ms/frame, twin "
          f"{cost['twin_sec_per_frame_256'] * 1e3:.0f} ms/frame, prompt overhead "
          f"{cost['prompt_overhead']:+.1%}")
    if args.out:
        write_json_atomic(args.out, {
            "command": "python data_scripts/bench_ronin.py " + " ".join(argv or sys.argv[1:]),
            "benchmark": args.benchmark, "size": args.size, "seed": args.seed,
            "clips": len(clips), "frames_per_clip": bench.eval_len,
            "summaries": summaries, "prompt_tests": test_summaries,
            "approximation": approximation, "cost": cost,
            "rows": {**methods, **tests}})
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
