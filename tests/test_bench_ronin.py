"""data_scripts/bench_ronin.py end to end on two small random checkpoints (offline encoder)."""

import json

import numpy as np
import pytest
import torch

from ronin_lite.checkpoints import save_checkpoint
from data_script_loader import load_script
from ronin_lite.models import RoninConfig, RoninLite



def test_bench_ronin_writes_every_section(tmp_path, capsys):
    torch.manual_seed(0)
    ronin = RoninLite(RoninConfig("tiny"))
    for linear in ronin.injection.linears.values():  # masks that react to the prompt
        torch.nn.init.normal_(linear.weight, std=0.3)
    save_checkpoint(ronin, tmp_path / "ronin")
    save_checkpoint(RoninLite(RoninConfig("tiny").without_prompt()), tmp_path / "twin")
    out = tmp_path / "r.json"
    bench = load_script("bench_ronin")
    assert bench.main(["--ronin", str(tmp_path / "ronin"), "--twin", str(tmp_path / "twin"),
                       "--size", "32", "--clips-per-scene", "1", "--skip-nlm",
                       "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["summaries"]) == {"input", "no-prompt twin", "RONIN-lite"}
    assert "other degradation's description" in result["prompt_tests"]
    assert 0 <= result["approximation"]["prompt"]["type"] <= 1
    # the numbers are the methods' own: the input row scores the degraded clips, and each
    # network's row differs from it (random weights do not restore, but they do change pixels)
    summaries = result["summaries"]
    assert summaries["input"]["all"]["psnr"] == pytest.approx(
        summaries["RONIN-lite"]["all"]["psnr_input"])
    assert summaries["RONIN-lite"]["all"]["psnr"] != summaries["input"]["all"]["psnr"]
    assert summaries["RONIN-lite"]["all"]["psnr"] != summaries["no-prompt twin"]["all"]["psnr"]
    # a wrong degradation's description changes what the network with reactive masks does
    assert result["prompt_tests"]["other degradation's description"]["all"]["psnr"] != \
        summaries["RONIN-lite"]["all"]["psnr"]
    # ... and equal to an independent recomputation: the same test clips restored as streams
    # by the networks loaded from disk, PSNR per clip from metrics.psnr, averaged over clips
    from ronin_lite.checkpoints import load_checkpoint
    from ronin_lite.data.benchmarks import get_benchmark
    from ronin_lite.metrics import psnr

    clips = list(get_benchmark("3d-lite", size=32, seed=0, clips_per_scene=1).clips("test"))
    for name, folder in (("RONIN-lite", "ronin"), ("no-prompt twin", "twin")):
        net = load_checkpoint(tmp_path / folder).eval()
        with torch.no_grad():
            scores = []
            for c in clips:
                frames = torch.from_numpy(c.degraded).permute(0, 3, 1, 2)  # (T, 3, H, W)
                restored, _ = net.restore_clip(frames)
                scores.append(psnr(restored.clamp(0, 1).permute(0, 2, 3, 1).numpy(), c.clean))
        assert summaries[name]["all"]["psnr"] == pytest.approx(float(np.mean(scores)), abs=1e-4)
        assert summaries[name]["all"]["n"] == len(clips)
    assert result["cost"]["twin_sec_per_frame_256"] > 0
    assert "prompt overhead" in capsys.readouterr().out
    # the roles cannot be swapped
    assert bench.main(["--ronin", str(tmp_path / "twin"), "--twin", str(tmp_path / "ronin"),
                       "--size", "32", "--clips-per-scene", "1"]) == 2
