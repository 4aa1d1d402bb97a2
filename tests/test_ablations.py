"""data_scripts/run_ablations.py on a 2-step budget: files, seeds, resumption."""

import json

from conftest import load_script


def test_ablations_write_mean_and_std_over_seeds(tmp_path, capsys):
    ablations = load_script("run_ablations")
    argv = ["--groups", "twin", "perturb", "--seeds", "0", "1", "--steps", "2",
            "--clips-per-scene", "1", "--runs", str(tmp_path / "runs"), "--grounding",
            str(tmp_path / "grounding"), "--results", str(tmp_path / "results")]
    assert ablations.main(argv) == 0
    twin = json.loads((tmp_path / "results" / "ablation_twin_tiny.json").read_text())
    assert set(twin["variants"]) == {"no prompt", "RONIN-lite"}
    ronin = twin["variants"]["RONIN-lite"]
    assert ronin["seeds"] == 2 and set(ronin["per_seed"]) == {"0", "1"}
    assert ronin["psnr"]["std"] >= 0 and "prompt_type_accuracy" in ronin
    assert "prompt_type_accuracy" not in twin["variants"]["no prompt"]
    assert twin["meta"]["command"].startswith("python data_scripts/run_ablations.py")
    perturb = json.loads((tmp_path / "results" / "ablation_perturb_tiny.json").read_text())
    assert set(perturb["variants"]["RONIN-lite"]["psnr_by_sigma"]) == {"0", "0.5", "1", "2", "4"}
    # a second invocation reuses the finished runs (no training: the runs are complete)
    capsys.readouterr()
    assert ablations.main(argv) == 0
    again = json.loads((tmp_path / "results" / "ablation_twin_tiny.json").read_text())
    assert again["variants"]["RONIN-lite"]["psnr"] == ronin["psnr"]
