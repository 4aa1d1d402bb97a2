"""data_scripts/bench_roofline.py and bench_tiling.py at toy sizes: they run and report sense."""

import json

import pytest
import torch

from data_script_loader import load_script
from ronin_lite.checkpoints import save_checkpoint
from ronin_lite.models import RoninConfig, RoninLite


def test_bench_roofline_reports_macs_rates_and_ratios(tmp_path, capsys):
    out = tmp_path / "roof.json"
    bench = load_script("bench_roofline")
    assert bench.main(["--profiles", "tiny", "--size", "32", "--frames", "2",
                       "--train-steps", "1", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert row["profile"] == "tiny" and result["machine"]["threads"] == 1
    # measured as the CLI restores: freed memory kept for reuse where glibc allows it
    assert isinstance(result["machine"]["freed_memory_kept"], bool)
    assert row["inference"]["gmacs_per_frame"] > 0 and row["training"]["gmacs_per_step"] > 0
    # a training step (forward and backward over a 4 x 3-frame clip batch) does more work
    # than restoring one frame
    assert row["training"]["gmacs_per_step"] > row["inference"]["gmacs_per_frame"]
    assert 0 < row["inference_ratio"] and 0 < row["training_ratio"]
    assert len(result["references"]) == 3  # before, after inference, after training
    assert result["ceiling_gmac_per_s"] == max(r["gmac_per_s"] for r in result["references"])
    assert result["references"][0]["gmacs"] == 64 * 64 * 9 * 256 * 256 / 1e9
    assert "x the ceiling" in capsys.readouterr().out


def test_bench_tiling_measures_memory_and_agreement(tmp_path, capsys):
    torch.manual_seed(0)
    save_checkpoint(RoninLite(RoninConfig("tiny")).eval(), tmp_path / "net")
    out = tmp_path / "tiling.json"
    bench = load_script("bench_tiling")
    assert bench.main(["--checkpoint", str(tmp_path / "net"), "--threads", "1", "--sizes",
                       "40x72", "--whole", "40x72", "--frames", "2", "--tile", "32",
                       "--overlap", "8", "--agreement-size", "40x72", "--agreement-frames", "2",
                       "--agreement-tiles", "32", "48", "--fidelity-scene", "",
                       "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["memory"]) == {"40x72 tile 32", "40x72 tile 0"}
    for run in result["memory"].values():
        assert run["frames"] == 2 and run["peak_rss_mb"] > 0
    for run in result["memory"].values():
        assert run["passes"] == (result["passes"] if run["tile"] else 1)
    assert len(result["agreement"]["psnr_db"]) == 2 and result["tile"] == 32
    by_passes = result["agreement"]["psnr_db_by_passes"]
    assert set(by_passes) == {"1", "2"} and result["passes"] == 2
    for n in ("1", "2"):  # every tile size at every number of passes, with its time
        assert set(by_passes[n]) == {"32", "48"} and len(by_passes[n]["48"]) == 2
        assert set(result["agreement"]["seconds_per_frame_by_passes"][n]) == {"32", "48"}
    assert by_passes["2"]["32"] == result["agreement"]["psnr_db"]
    assert "vs whole" in capsys.readouterr().out and "fidelity" not in result


def test_bench_tiling_fidelity_scores_whole_and_tiled_against_the_clean_frames(tmp_path):
    """On the smallest real test video (carphone, 176x144): every degradation of the
    real-footage check, whole frames and tiles, each scored against the clean frames."""
    import numpy as np

    torch.manual_seed(0)
    save_checkpoint(RoninLite(RoninConfig("tiny")).eval(), tmp_path / "net")
    bench = load_script("bench_tiling")
    result = bench.fidelity(str(tmp_path / "net"), "carphone", frames=2, tiles=[64], overlap=8,
                            passes=[1, 2])
    assert result["size"] == "144x176" and result["frames"] == 2
    assert set(result["degradations"]) == {"noise", "blur", "jpeg"}
    for row in result["degradations"].values():
        for n in ("1", "2"):
            assert len(row["input"]) == len(row["whole"]) == len(row["tiled"][n]["64"]) == 2
            assert np.isfinite(row["tiled_vs_whole"][n]["64"]).all()
    # noise at sigma 25/255 scores about 20 dB against the clean frames, as it must
    assert 19 < np.mean(result["degradations"]["noise"]["input"]) < 22
    with pytest.raises(ValueError, match="no bundled video"):
        bench.fidelity(str(tmp_path / "net"), "nowhere", frames=1, tiles=[64], overlap=8,
                       passes=[1])


def test_bench_train_changes_config_fields_and_writes_its_summary(tmp_path):
    out = tmp_path / "train.json"
    bench = load_script("bench_train")
    assert bench.main(["--profile", "tiny", "--steps", "2", "--threads", "1",
                       "--run-dir", str(tmp_path / "run"), "--out", str(out), "--set",
                       "prompt=false", "inject=none", "lambda_prompt=0", "batch=1",
                       "clip_len=2", "crop=32"]) == 0
    result = json.loads(out.read_text())
    assert result["steps"] == 2 and result["threads"] == 1
    assert result["changes"] == {"prompt": False, "inject": "none", "lambda_prompt": 0,
                                 "batch": 1, "clip_len": 2, "crop": 32}
    assert result["command"].startswith("python data_scripts/bench_train.py --profile tiny")
    assert result["machine"]["threads"] == 1
    with pytest.raises(SystemExit):
        bench.main(["--steps", "1", "--set", "batch"])


def test_bench_train_times_a_reference_before_and_after_and_reports_the_ratio(tmp_path):
    out = tmp_path / "train.json"
    bench = load_script("bench_train")
    base = ["prompt=false", "inject=none", "lambda_prompt=0", "crop=32"]
    assert bench.main(["--profile", "tiny", "--steps", "2", "--threads", "1", "--out", str(out),
                       "--set", *base, "batch=2", "clip_len=1", "--vs", *base, "batch=1",
                       "clip_len=1"]) == 0
    result = json.loads(out.read_text())
    ref = result["reference"]
    assert ref["changes"]["batch"] == 1 and len(ref["wall_s"]) == 2
    assert result["ratio"] == pytest.approx(result["wall_s"] / (sum(ref["wall_s"]) / 2), abs=2e-3)
    with pytest.raises(SystemExit):
        bench.main(["--steps", "1", "--vs", "batch"])


def test_bench_pair_times_two_versions_in_one_process(tmp_path, capsys):
    """Compared with itself (the base is this checkout), the paired benchmark restores the same
    frames to the same bits with both copies, and reports both times and their ratio."""
    from pathlib import Path

    bench = load_script("bench_pair")
    root = Path(bench.__file__).resolve().parents[1]
    out = tmp_path / "pair.json"
    assert bench.main(["--base", str(root), "--profile", "tiny", "--size", "32", "--frames", "5",
                       "--threads", "1", "--repeats", "2", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["max_abs_output_diff"] == 0.0 and len(summary["runs"]) == 2
    assert str(root) not in summary["command"] and "commit" in summary["base"]  # no local paths
    low, high = summary["paired_ratio_medians_range"]
    assert low <= summary["paired_ratio_median_of_runs"] <= high
    result = summary["runs"][0]
    assert result["max_abs_output_diff"] == 0.0
    assert result["timed_frames"] == 5 - 3  # the first tau = 3 frames warm the history
    assert result["base_seconds_per_frame"] > 0 and result["this_seconds_per_frame"] > 0
    low, high = result["paired_ratio_range"]
    assert low <= result["paired_ratio_median"] <= high
    assert result["gmacs_per_frame"] > 0 and result["ceiling_gmac_per_s"] > 0
    assert "paired ratio" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no ronin_lite package"):
        bench.main(["--base", str(tmp_path), "--profile", "tiny", "--size", "32"])
