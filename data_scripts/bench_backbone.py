"""What does the streaming U-Net cost? Parameters, MACs, speed and memory per backbone size.

    python data_scripts/bench_backbone.py                      # tiny, small, full (full: quick)
    python data_scripts/bench_backbone.py --configs tiny small --json bench.json
    python data_scripts/bench_backbone.py --device cuda        # on a GPU, full is timed fully

For each configuration (ronin_lite.models.backbone_config) it prints:

* params, and GMACs to restore one ``size x size`` frame with a full history (tau cached
  frames), counted by ``torch.utils.flop_counter`` (convolutions and matrix products only);
* frames/s at ``size x size``, batch 1, inference (``torch.inference_mode``): a stream of
  random frames, ``tau`` warm-up frames so the history is full, then ``--frames`` timed frames;
  the median time per frame is reported;
* the history overhead: the same configuration with ``history=False``, timed frame by frame
  interleaved with the first (so both see the same machine load): median time ratio;
* one training step (L1 loss, backward, AdamW) on a clip batch of the matching profile in
  ``ronin_lite.config.PROFILES`` (crop, clip length, batch), median of ``--train-steps``;
* peak memory: the peak resident set size (``resource.getrusage(...).ru_maxrss``) of a fresh
  process that does only that measurement, torch itself included (``import torch`` alone is
  printed as the baseline); on CUDA ``torch.cuda.max_memory_allocated``;
* memory of a long stream: the bytes held by the state and the peak RSS after 10 and after
  50 frames; the state is truncated to tau frames, so neither may grow.

Each measurement runs in its own subprocess so that peaks do not mix. On a CPU the ``full``
configuration (a GPU model) is quick-checked only: 2 timed frames, no stream, no training step.
Timings depend on the machine and on what else runs on it: rerun on yours.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from ronin_lite.io import write_json_atomic
from ronin_lite.config import PROFILES
from ronin_lite.models import (
    StreamingUNet,
    StreamState,
    backbone_config,
    count_parameters,
    macs_per_frame,
)

STREAM_CHECKPOINTS = (10, 50)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_mb(device: torch.device) -> float:
    """Peak memory so far: CUDA allocations on a GPU, resident set size on a CPU (Linux: KiB)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _state_mb(state: StreamState) -> float:
    tensors = [t for cache in state.caches.values() for t in cache.values()]
    return sum(t.numel() * t.element_size() for t in tensors) / 2**20


def _build(name: str, device: torch.device, history: bool = True) -> StreamingUNet:
    torch.manual_seed(0)
    config = backbone_config(name).replace(history=history)
    return StreamingUNet(config).to(device)


def _random_frames(n: int, size: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 3, size, size, generator=gen).to(device)


def measure_inference(name: str, size: int, frames: int, device: torch.device, quick: bool):
    """Params, MACs, frames/s, history overhead, and (unless quick) a long stream's memory."""
    model, single = _build(name, device).eval(), _build(name, device, history=False).eval()
    out = {"params": count_parameters(model), "gmacs": macs_per_frame(model, size) / 1e9}
    tau = model.config.tau
    timed = 2 if quick else frames
    clip = _random_frames(tau + timed, size, device)
    times: dict[str, list[float]] = {"history": [], "single": []}
    with torch.inference_mode():
        states = {"history": None, "single": None}
        models = {"history": model, "single": single}
        for i, frame in enumerate(clip):
            for key, net in models.items():  # interleaved: both see the same machine load
                _sync(device)
                start = time.perf_counter()
                _, states[key] = net(frame, states[key])
                _sync(device)
                if i >= tau:
                    times[key].append(time.perf_counter() - start)
    per_frame = statistics.median(times["history"])
    out.update(
        fps=1 / per_frame,
        single_fps=1 / statistics.median(times["single"]),
        history_ratio=per_frame / statistics.median(times["single"]),
        timed_frames=timed,
        infer_peak_mb=_peak_mb(device),
    )
    if not quick:
        out.update(_stream_memory(model, size, device))
    return out


def _stream_memory(model: StreamingUNet, size: int, device: torch.device) -> dict:
    """State size and peak memory after 10 and 50 streamed frames."""
    out, state = {}, None
    with torch.inference_mode():
        for t, frame in enumerate(_random_frames(max(STREAM_CHECKPOINTS), size, device, 1), 1):
            _, state = model(frame, state)
            if t in STREAM_CHECKPOINTS:
                out[f"state_mb_{t}"] = _state_mb(state)
                out[f"peak_mb_{t}"] = _peak_mb(device)
    return out


def measure_training(name: str, steps: int, device: torch.device) -> dict:
    """Median time of one optimisation step on a clip batch of the profile's size."""
    profile = PROFILES[name]
    model = _build(name, device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=profile.lr)
    gen = torch.Generator().manual_seed(0)
    shape = (profile.batch, profile.clip_len, 3, profile.crop, profile.crop)
    clean = torch.rand(shape, generator=gen).to(device)
    noisy = (clean + 0.1 * torch.randn(shape, generator=gen).to(device)).clamp(0, 1)
    times = []
    for step in range(steps + 1):  # the first step warms up and is not timed
        _sync(device)
        start = time.perf_counter()
        loss = (model.restore_clip(noisy) - clean).abs().mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        _sync(device)
        if step:
            times.append(time.perf_counter() - start)
    return {
        "train_step_s": statistics.median(times),
        "train_shape": f"{profile.batch}x{profile.clip_len}x{profile.crop}^2",
        "train_peak_mb": _peak_mb(device),
    }


def _worker(args: argparse.Namespace) -> dict:
    """One measurement in this (fresh) process; the parent reads the JSON it prints."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    task, name = args.worker
    quick = name == "full" and device.type == "cpu"
    if task == "baseline":
        return {"import_peak_mb": _peak_mb(device)}
    if task == "infer":
        return measure_inference(name, args.size, args.frames, device, quick)
    return measure_training(name, args.train_steps, device)


def _run_worker(task: str, name: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable, __file__, "--worker", task, name, "--size", str(args.size),
        "--frames", str(args.frames), "--train-steps", str(args.train_steps),
        "--device", args.device, "--threads", str(args.threads),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{task} measurement of {name!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fmt(row: dict, key: str, spec: str) -> str:
    return format(row[key], spec) if key in row else "-"


def _print_table(rows: list[dict], size: int) -> None:
    head = (
        f"{'config':7s}{'params':>10s}{'GMACs':>8s}{f'fps@{size}':>9s}{'no-hist':>9s}"
        f"{'hist/no':>8s}{'infer MB':>10s}{'train step':>12s}{'clip batch':>14s}"
        f"{'train MB':>10s}{'state MB @10/@50':>18s}{'peak MB @10/@50':>17s}"
    )
    print(head)
    for r in rows:
        state = f"{_fmt(r, 'state_mb_10', '.1f')}/{_fmt(r, 'state_mb_50', '.1f')}"
        peak = f"{_fmt(r, 'peak_mb_10', '.0f')}/{_fmt(r, 'peak_mb_50', '.0f')}"
        step = f"{r['train_step_s']:.2f} s" if "train_step_s" in r else "-"
        print(
            f"{r['config']:7s}{r['params'] / 1e6:9.2f}M{r['gmacs']:8.2f}{r['fps']:9.2f}"
            f"{r['single_fps']:9.2f}{r['history_ratio']:8.2f}{r['infer_peak_mb']:10.0f}"
            f"{step:>12s}{r.get('train_shape', '-'):>14s}{_fmt(r, 'train_peak_mb', '.0f'):>10s}"
            f"{state:>18s}{peak:>17s}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--configs", nargs="+", default=["tiny", "small", "full"],
                   choices=["tiny", "small", "full"])  # fmt: skip
    p.add_argument("--skip-full", action="store_true", help="drop full from --configs")
    p.add_argument("--size", type=int, default=256, help="H = W of inference frames")
    p.add_argument("--frames", type=int, default=8, help="timed inference frames per config")
    p.add_argument("--train-steps", type=int, default=3, help="timed training steps")
    p.add_argument("--skip-train", action="store_true", help="no training-step timing")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help="torch threads (default: torch's choice on this machine)")  # fmt: skip
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument("--worker", nargs=2, metavar=("TASK", "CONFIG"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.frames < 1 or args.train_steps < 1 or args.size < 1:
        p.error("--size, --frames and --train-steps must be >= 1")
    if args.worker:
        print(json.dumps(_worker(args)))
        return 0

    configs = [c for c in args.configs if not (args.skip_full and c == "full")]
    baseline = _run_worker("baseline", "tiny", args)["import_peak_mb"]
    print(
        f"device {args.device}, torch {torch.__version__}, {args.threads} threads; "
        f"frames {args.size}x{args.size}, batch 1; peak RSS of 'import torch' alone: "
        f"{baseline:.0f} MB",
        flush=True,
    )
    rows = []
    for name in configs:
        row = {"config": name, **_run_worker("infer", name, args)}
        quick = name == "full" and args.device == "cpu"
        if not (args.skip_train or quick):
            try:
                row.update(_run_worker("train", name, args))
            except RuntimeError as err:  # e.g. out of memory: report it, keep the other rows
                row["train_error"] = str(err).splitlines()[-1]
        rows.append(row)
        print(f"  measured {name}", flush=True)
    _print_table(rows, args.size)
    for r in rows:
        if "train_error" in r:
            print(f"{r['config']}: training step failed: {r['train_error']}")
    if any(r["config"] == "full" for r in rows) and args.device == "cpu":
        print("full on a CPU: 2 timed frames, no stream or training step (a GPU model)")
    if args.json:
        meta = {"device": args.device, "threads": args.threads, "size": args.size,
                "torch": torch.__version__, "import_peak_mb": baseline}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.json, {"meta": meta, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
