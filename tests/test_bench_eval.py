"""data_scripts/bench_eval.py on every benchmark with a small random checkpoint."""

import json

import torch

from data_script_loader import load_script
from ronin_lite.checkpoints import save_checkpoint
from ronin_lite.data.benchmarks import BENCHMARKS
from ronin_lite.models import RoninConfig, RoninLite


def test_bench_eval_times_every_benchmark(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(RoninLite(RoninConfig("tiny")), tmp_path / "ronin")
    out = tmp_path / "t.json"
    bench = load_script("bench_eval")
    assert bench.main(["--checkpoint", str(tmp_path / "ronin"), "--baselines", "tv",
                       "--size", "32", "--clips-per-scene", "1", "--threads", "1",
                       "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["benchmarks"]) == set(BENCHMARKS)
    for entry in result["benchmarks"].values():
        assert entry["build_s"] > 0 and entry["clips"] >= 1
        assert set(entry["methods"]) == {"input", "tv", str(tmp_path / "ronin")}
        inp = entry["methods"]["input"]
        assert inp["psnr"] == inp["psnr_input"]  # the identity restorer scores the input
    assert "| 3d-lite |" in capsys.readouterr().out
    assert bench.main(["--checkpoint", str(tmp_path / "missing")]) == 2
