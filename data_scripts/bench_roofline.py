"""How close does RONIN-lite run to what the device can do? A roofline-style benchmark.

Raw frames per second say little across machines; a ratio against a reference measured in the
same process, on the same cores, says how much of the machine the network uses. For each
profile's RONIN-lite (``tiny``, ``small``, ``full``; the shipped architecture, random weights):

* **inference**: multiply-accumulates per frame (streaming, full history; counted by
  ``torch.utils.flop_counter``: convolutions and matrix products, as
  :func:`ronin_lite.models.unet.macs_per_frame`), the median time per frame of a stream at
  ``--size`` (``torch.inference_mode``, batch 1, the history warm), and the achieved GMAC/s;
* **training**: MACs of one optimisation step on the profile's clip batch (forward and backward,
  counted the same way), its median time (L1 + prompt loss, backward, AdamW; bf16 autocast on a
  GPU as the trainer does), and the achieved GMAC/s;
* **the reference**: one dense 3x3 convolution, 64 -> 64 channels, on a ``(1, 64, 256, 256)``
  map (``(8, 64, 256, 256)`` in bf16 on a GPU), timed in the same process before and after
  every model measurement. Its rate moves from one timing to the next on a shared machine (and
  with the allocator's state: a fresh output buffer is first touched page by page), so the
  **ceiling** is the best of all of them: what "one large, well-shaped kernel" achieves here.
  The **ratio** model / ceiling is the figure to compare across machines.
* the process runs as ``ronin-lite restore`` and ``evaluate`` do: glibc keeps freed memory for
  reuse (:func:`ronin_lite.runtime.keep_freed_memory`; without it each frame's feature maps are
  fresh pages, see that module); ``--default-allocator`` measures without it.
* on a GPU also the **model FLOP utilisation** (MFU) of the training step: achieved FLOP/s over
  the device's dense bf16 peak, read from :data:`BF16_PEAK_TFLOPS` by the device's name (NVIDIA's
  data sheets, dense, without sparsity; a device not listed reports no MFU).

Writes ``results/bench_roofline_<device>.json`` (figures, the machine, the command)::

    python data_scripts/bench_roofline.py --threads 2                 # CPU: tiny, small, full
    python data_scripts/bench_roofline.py --device cuda --train-steps 20
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ronin_lite.config import PROFILES
from ronin_lite.models import RoninLite

ROOT = Path(__file__).resolve().parents[1]
#: dense bf16 tensor-core peak in TFLOP/s, from NVIDIA's data sheets (SXM parts where both exist)
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0,
                    "A10G": 70.0, "A10": 125.0, "RTX 4090": 165.0, "T4": 65.0}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_time(fn, device: torch.device, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        tick = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - tick)
    return statistics.median(times)


def reference_conv(device: torch.device, repeats: int = 7) -> dict:
    """GMAC/s of one dense 3x3 convolution, 64 -> 64, on a 256x256 map (the device's "peak")."""
    batch, dtype = (8, torch.bfloat16) if device.type == "cuda" else (1, torch.float32)
    x = torch.randn(batch, 64, 256, 256, device=device, dtype=dtype)
    w = torch.randn(64, 64, 3, 3, device=device, dtype=dtype)
    macs = batch * 64 * 64 * 9 * 256 * 256
    with torch.inference_mode():
        seconds = _median_time(lambda: F.conv2d(x, w, padding=1), device, repeats, warmup=2)
    return {"gmacs": macs / 1e9, "seconds": seconds, "gmac_per_s": macs / seconds / 1e9,
            "dtype": str(dtype).replace("torch.", ""), "shape": [batch, 64, 256, 256]}


def compile_blocks(model: RoninLite, freeze: bool) -> int:
    """``torch.compile`` every stateless transformer block (static shapes); returns how many.

    The whole forward cannot be compiled once: the stream's state changes between frames
    (the number of cached frames grows to ``tau``, ``frames_seen`` counts), so dynamo
    recompiles on each of the first frames and then hits its recompile limit. The blocks
    without history have one input shape per level. ``freeze``: inductor's freezing (weights
    as constants, oneDNN weight prepacking and convolution fusions), inference only.
    """
    from ronin_lite.models.blocks import TransformerBlock

    if freeze:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
    count = 0
    for stage in model.backbone.stages.values():
        for i, block in enumerate(stage.blocks):
            if isinstance(block, TransformerBlock):
                stage.blocks[i] = torch.compile(block, dynamic=False)
                count += 1
    return count


def stream_macs(model: RoninLite, frames: torch.Tensor) -> int:
    """MACs of the last of ``frames`` (each ``(1, 3, H, W)``), the ones before it warming the
    history: convolutions and matrix products, counted by ``torch.utils.flop_counter``."""
    with torch.inference_mode():
        state = None
        for frame in frames[:-1]:
            state = model(frame, state).state
        counter = FlopCounterMode(display=False)
        with counter:
            model(frames[-1], state)
    return counter.get_total_flops() // 2


def inference(profile: str, size: int, frames: int, device: torch.device,
              compile_mode: str = "none") -> dict:
    """MACs per frame and the achieved rate of a warm stream at ``size`` x ``size``."""
    model = RoninLite.from_profile(profile).to(device).eval()
    gen = torch.Generator().manual_seed(0)
    tau = model.backbone.config.tau
    clip = torch.rand(tau + frames, 1, 3, size, size, generator=gen).to(device)
    compiled = 0
    macs = stream_macs(model, clip[:tau + 1])  # counted on the eager network
    with torch.inference_mode():
        state = None
        for frame in clip[:tau]:  # warm the history: the steady state of a stream
            state = model(frame, state).state
        if compile_mode != "none":
            compiled = compile_blocks(model, freeze=compile_mode == "blocks-frozen")
            for frame in clip[:tau]:  # compiles (once per block) before the timing
                model(frame, state)
        times = []
        for frame in clip[tau:]:
            _sync(device)
            tick = time.perf_counter()
            state = model(frame, state).state
            _sync(device)
            times.append(time.perf_counter() - tick)
    seconds = statistics.median(times)
    return {"size": size, "gmacs_per_frame": macs / 1e9, "seconds_per_frame": seconds,
            "fps": 1 / seconds, "gmac_per_s": macs / seconds / 1e9, "timed_frames": frames,
            "compile": compile_mode, "compiled_blocks": compiled}


def training(profile: str, steps: int, device: torch.device) -> dict:
    """MACs and the achieved rate of one optimisation step on the profile's clip batch."""
    from ronin_lite.train import ClipLoss

    p = PROFILES[profile]
    model = RoninLite.from_profile(profile).to(device).train()
    loss_fn = ClipLoss(model, 1.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=p.lr)
    gen = torch.Generator().manual_seed(0)
    shape = (p.batch, p.clip_len, 3, p.crop, p.crop)
    clean = torch.rand(shape, generator=gen).to(device)
    degraded = (clean + 0.1 * torch.randn(shape, generator=gen).to(device)).clamp(0, 1)
    target = torch.randn(p.batch, p.clip_len, model.config.prompt_dim, generator=gen).to(device)
    autocast = torch.autocast("cuda", torch.bfloat16, enabled=device.type == "cuda")

    def step() -> None:
        with autocast:
            loss, _, _ = loss_fn(degraded, clean, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up (allocations, kernel choice)
    counter = FlopCounterMode(display=False)
    with counter:
        with autocast:
            loss, _, _ = loss_fn(degraded, clean, target)
        loss.backward()
    optimizer.zero_grad(set_to_none=True)
    macs = counter.get_total_flops() // 2
    seconds = _median_time(step, device, steps, warmup=0)
    return {"batch": list(shape), "gmacs_per_step": macs / 1e9, "seconds_per_step": seconds,
            "gmac_per_s": macs / seconds / 1e9}


def profile_inference(profile: str, size: int, device: torch.device, top: int = 12) -> list:
    """Where the time of a warm stream goes: torch.profiler's operators by self time."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    model = RoninLite.from_profile(profile).to(device).eval()
    tau = model.backbone.config.tau
    clip = torch.rand(tau + 4, 1, 3, size, size, generator=torch.Generator().manual_seed(0))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda"
                                           else [])
    with torch.inference_mode():
        state = None
        for frame in clip[:tau].to(device):
            state = model(frame, state).state
        with torch_profile(activities=activities) as prof:
            for frame in clip[tau:].to(device):
                state = model(frame, state).state
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    rows = [{"op": e.key, "calls": e.count, "self_share": e.self_cpu_time_total / total}
            for e in events[:top]]
    print(f"{profile}: self time of 4 frames at {size}px, by operator:")
    for r in rows:
        print(f"  {r['op']:<40} {r['self_share']:6.1%}  ({r['calls']} calls)")
    return rows


def bf16_peak(device: torch.device) -> tuple[str, float | None]:
    name = torch.cuda.get_device_name(device)
    for key, tflops in BF16_PEAK_TFLOPS.items():
        if key in name:
            return name, tflops
    return name, None


def machine(device: torch.device, threads: int) -> dict:
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "cpu": platform.processor() or platform.machine(), "threads": threads,
           "device": str(device)}
    try:
        with open("/proc/cpuinfo") as f:
            out["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                              if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--size", type=int, default=256, help="inference frame size (default 256)")
    p.add_argument("--frames", type=int, default=8, help="timed inference frames")
    p.add_argument("--train-steps", type=int, default=3, help="timed training steps")
    p.add_argument("--no-train", action="store_true", help="inference only")
    p.add_argument("--train-profiles", nargs="+", default=None, choices=list(PROFILES),
                   help="profiles whose training step is measured (default: all on a GPU; tiny "
                        "and small on a CPU: full's fp32 step needs about 45 GiB)")
    p.add_argument("--profiler", action="store_true",
                   help="also print torch.profiler's top operators (self time) of 4 streamed "
                        "frames of each profile's inference")
    p.add_argument("--compile", choices=["none", "blocks", "blocks-frozen"], default="none",
                   help="inference with every stateless block torch.compile'd (blocks-frozen: "
                        "with inductor's freezing); the first frames pay the compilation")
    p.add_argument("--default-allocator", action="store_true",
                   help="leave glibc's malloc settings alone (the CLI's restore and evaluate "
                        "call ronin_lite.runtime.keep_freed_memory; this measures without it)")
    p.add_argument("--out", type=Path, help="JSON file (default: "
                   "results/bench_roofline_<cpu|cuda>.json)")
    args = p.parse_args(argv)
    from ronin_lite.runtime import keep_freed_memory

    kept = False if args.default_allocator else keep_freed_memory()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    out_path = args.out or ROOT / "results" / f"bench_roofline_{device.type}.json"
    rows, references = [], [reference_conv(device)]
    for profile in args.profiles:
        row = {"profile": profile,
               "inference": inference(profile, args.size, args.frames, device, args.compile)}
        references.append(reference_conv(device))
        trained = args.train_profiles or (list(PROFILES) if device.type == "cuda"
                                          else ["tiny", "small"])
        if not args.no_train and profile in trained:
            row["training"] = training(profile, args.train_steps, device)
            references.append(reference_conv(device))
        rows.append(row)
        print(f"{profile:>5}: measured", flush=True)
        if args.profiler:
            row["profiler_top"] = profile_inference(profile, args.size, device)
    ceiling = max(r["gmac_per_s"] for r in references)
    rates = ", ".join(f"{r['gmac_per_s']:.1f}" for r in references)
    print(f"reference 3x3 convolution: {rates} GMAC/s over the run; ceiling {ceiling:.1f}")
    for row in rows:
        inf = row["inference"]
        row["inference_ratio"] = inf["gmac_per_s"] / ceiling
        line = (f"{row['profile']:>5}: inference {inf['gmacs_per_frame']:.2f} GMAC/frame at "
                f"{args.size}px, {inf['fps']:.2f} frames/s, {inf['gmac_per_s']:.1f} GMAC/s = "
                f"{row['inference_ratio']:.2f} x the ceiling")
        if "training" in row:
            tr = row["training"]
            row["training_ratio"] = tr["gmac_per_s"] / ceiling
            line += (f"; training {tr['seconds_per_step']:.3f} s/step, {tr['gmac_per_s']:.1f} "
                     f"GMAC/s = {row['training_ratio']:.2f} x the ceiling")
            if device.type == "cuda":
                _, peak = bf16_peak(device)
                row["bf16_peak_tflops"] = peak
                row["mfu"] = None if peak is None else 2 * tr["gmac_per_s"] / 1e3 / peak
                if peak is not None:
                    line += f", MFU {row['mfu']:.1%} of {peak:.0f} TFLOP/s bf16"
        print(line, flush=True)
    from ronin_lite.io import write_json_atomic

    write_json_atomic(out_path, {"machine": {**machine(device, args.threads),
                                             "freed_memory_kept": kept}, "rows": rows,
                                 "references": references, "ceiling_gmac_per_s": ceiling,
                                 "command": "python data_scripts/bench_roofline.py "
                                            + " ".join(argv if argv is not None else sys.argv[1:])})
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
