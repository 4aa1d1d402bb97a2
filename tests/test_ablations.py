"""ronin_lite.ablations and data_scripts/run_ablations.py (on a 2-step budget): files, seeds,
resumption, paired comparisons."""

import json
from pathlib import Path

import pytest
from data_script_loader import load_script

from ronin_lite import ablations as ab


def test_ablations_write_mean_and_std_over_seeds(tmp_path, capsys):
    ablations = load_script("run_ablations")
    argv = ["--groups", "twin", "perturb", "--seeds", "0", "1", "--steps", "2",
            "--clips-per-scene", "1", "--runs", str(tmp_path / "runs"), "--grounding",
            str(tmp_path / "grounding"), "--results", str(tmp_path / "results")]
    assert ablations.main(argv) == 0
    twin = json.loads((tmp_path / "results" / ab.results_name("twin", steps=2)).read_text())
    assert set(twin["variants"]) == {"no prompt", "RONIN-lite"}
    ronin = twin["variants"]["RONIN-lite"]
    assert ronin["seeds"] == 2 and set(ronin["per_seed"]) == {"0", "1"}
    # mean and std are those of the per-seed values (sample std, ddof 1), not just numbers
    values = [ronin["per_seed"][s]["psnr"] for s in ("0", "1")]
    assert ronin["psnr"]["mean"] == pytest.approx(sum(values) / 2)
    assert ronin["psnr"]["std"] == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)
    assert "prompt_type_accuracy" in ronin
    assert "prompt_type_accuracy" not in twin["variants"]["no prompt"]
    assert twin["meta"]["command"].startswith("python data_scripts/run_ablations.py")
    perturb = json.loads((tmp_path / "results" / ab.results_name("perturb", steps=2)).read_text())
    assert set(perturb["variants"]["RONIN-lite"]["psnr_by_sigma"]) == {f"{s:g}" for s in ab.SIGMAS}
    # a second invocation reuses the finished runs (no training: the runs are complete)
    capsys.readouterr()
    assert ablations.main(argv) == 0
    again = json.loads((tmp_path / "results" / ab.results_name("twin", steps=2)).read_text())
    assert again["variants"]["RONIN-lite"]["psnr"] == ronin["psnr"]


def test_paired_comparison_calls_small_differences_noise():
    def entry(values):
        return {"per_seed": {str(i): {"psnr": v, "psnr_by_type": {"noise": v - 5}}
                             for i, v in enumerate(values)}}

    ref = entry([25.0, 25.5, 25.2])
    # the seed moves both variants alike: a consistent +0.1 is a real difference
    better = ab.paired(entry([25.1, 25.6, 25.3]), ref)
    assert better["verdict"] == "better" and better["mean"] == pytest.approx(0.1)
    assert better["std"] == pytest.approx(0.0, abs=1e-9)
    noisy = ab.paired(entry([25.4, 25.1, 25.3]), ref, key="psnr_by_type.noise")
    assert noisy["verdict"] == "within seed noise"
    assert noisy["ci95"][0] < 0 < noisy["ci95"][1]
    assert ab.paired(entry([24.0, 24.6, 24.1]), ref)["verdict"] == "worse"
    with pytest.raises(ValueError, match="at least 2 seeds"):
        ab.paired(entry([25.0]), ref)


def test_seed_values_and_perturbation_drop():
    entry = {"per_seed": {"10": {"psnr_by_sigma": {"0": 25.0, "16": 24.0, "2": 25.0}},
                          "2": {"psnr_by_sigma": {"0": 26.0, "16": 24.0, "2": 25.5}}}}
    assert list(ab.seed_values(entry, "psnr_by_sigma.16")) == ["2", "10"]  # numeric order
    entry["psnr_by_sigma"] = {"0": {}, "16": {}, "2": {}}
    assert ab.perturbation_drop(entry) == {"0": 0.0, "2": -0.25, "16": -1.5}


def test_aggregate_and_table():
    per_seed = {"0": {"psnr": 25.0, "by": {"a": 1.0}}, "1": {"psnr": 26.0, "by": {"a": 3.0}}}
    agg = ab.aggregate(per_seed)
    assert agg["psnr"] == {"mean": 25.5, "std": pytest.approx(0.7071, abs=1e-4)}
    assert agg["by"]["a"]["mean"] == 2.0 and agg["seeds"] == 2
    results = {"meta": {"group": "cross"}, "variants": {  # sorted, as JSON files keep them
        "off": {"per_seed": {"0": {"psnr": 24.0}, "1": {"psnr": 25.5}}},
        "on": {"per_seed": {"0": {"psnr": 25.0}, "1": {"psnr": 26.0}}}}}
    assert ab.variant_order(results) == ["on", "off"]  # the group's own order
    assert ab.sigma_order({"16": 0, "2": 0, "0": 0}) == ["0", "2", "16"]
    table = ab.paired_table(results)
    assert list(table.index) == ["on", "off"]
    assert table.loc["on", "verdict"] == "reference"
    assert table.loc["off", "diff"] == pytest.approx(-0.75)


def test_bad_settings_and_missing_results(tmp_path):
    with pytest.raises(ValueError, match="unknown ablation settings"):
        ab.variant_settings({"injection": "all"})
    assert ab.variant_settings({"prompt": False})["inject"] is None
    with pytest.raises(FileNotFoundError, match="run_ablations.py --groups cross"):
        ab.load_results("cross", root=tmp_path)
    with pytest.raises(ValueError, match="unknown ablation group"):
        ab.load_results("crosss", root=tmp_path)
    cfg = ab.variant_config({"lambda_prompt": 0.01}, 2, runs=tmp_path, grounding=tmp_path / "g")
    assert cfg.run_dir.endswith("seed2") and "lambda_prompt=0.01" in cfg.run_dir
    assert cfg.grounding_root == str(tmp_path / "g" / "statistics")
    assert "steps=" not in cfg.run_dir
    assert ab.variant_config({}, 0, steps=1200, runs=tmp_path).run_dir.endswith(
        "_steps=1200/seed0")  # another budget never resumes the default one's run
    assert ab.results_name("twin") == "ablation_twin_tiny.json"
    # the committed ablations were trained with the recipe variant_config still builds (the
    # tiny profile has moved on: ABLATION_RECIPE and config.EARLIER_RECIPE pin its rate, batch
    # shape and clipping)
    recorded = json.loads((Path(__file__).parents[1] / "results" /
                           "ablation_twin_tiny.json").read_text())["variants"]
    for label, entry in recorded.items():
        now = ab.variant_config(entry["changes"], entry["config"]["seed"]).to_dict()
        differ = {k: (v, now[k]) for k, v in entry["config"].items()
                  if k not in ("run_dir", "grounding_root") and now[k] != v}
        assert not differ, (label, differ)
    assert ab.results_name("twin", steps=1200) == "ablation_twin_tiny_1200steps.json"
    with pytest.raises(FileNotFoundError, match="--steps 1200"):
        ab.load_results("twin", root=tmp_path, steps=1200)


def test_results_tables_prints_every_shipped_group(capsys):
    tables = load_script("results_tables")
    assert tables.main([]) == 0
    out = capsys.readouterr().out
    for group in ab.ALL_GROUPS:
        assert f"**{group}**" in out
    assert "| last2 | " in out and "default" in out and "σ / prompt spread" in out
    assert tables.main(["--groups", "twin", "--steps", "7"]) == 2


def test_readme_holds_the_study_and_protocol_tables_of_the_committed_results(capsys):
    """The README's tables are what results_tables.py prints from results/: no hand-copied
    number can go stale."""
    from pathlib import Path

    tables = load_script("results_tables")
    assert tables.main(["--study", "--protocol"]) == 0
    assert tables.main(["--study", "--benchmark", "4d-lite"]) == 0
    assert tables.main(["--study", "--benchmark", "tv-lite"]) == 0
    assert tables.main(["--study", "--steps", "1200"]) == 0
    assert tables.main(["--study", "--shape", "6 clips x 2 frames"]) == 0
    assert tables.main(["--study", "--shape", "6 clips x 2 frames", "--grad-clip", "0.01"]) == 0
    assert tables.main(["--study", "--steps", "600", "--shape", "6 clips x 2 frames",
                        "--grad-clip", "0.01"]) == 0
    assert tables.main(["--study", "--file",
                        "grounding_study_tiny_600steps_6x2_clip0.01_replication.json"]) == 0
    assert tables.main(["--study", "--benchmark", "4d-lite", "--steps", "600", "--shape",
                        "6 clips x 2 frames", "--grad-clip", "0.01"]) == 0
    assert tables.main(["--study", "--file",
                        "grounding_study_tiny_4d-lite_600steps_6x2_clip0.01_lr0.008.json"]) == 0
    for name in ("grounding_study_tiny_4d-lite_600steps_6x2_clip0.01_lrvariant_top2.json",
                 "grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2.json",
                 "grounding_study_tiny_600steps_6x2_clip0.01_lr0.008.json",
                 "grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2_everystage.json",
                 "grounding_study_tiny_tv-lite_lrvariant_top2.json",
                 "grounding_study_tiny_600steps_6x2_clip0.01_lrvariant_top2_historygate.json",
                 "grounding_study_tiny_tv-lite_lrvariant_top2_historygate.json",
                 "grounding_study_tiny_1200steps_masks.json"):
        assert tables.main(["--study", "--file", name]) == 0
    for name in ("grounding_study_tiny_1200steps_6x2_clip0.01_lrvariant_top2.json",
                 "grounding_study_tiny_1200steps_6x2_clip0.01_lrvariant_top2_promptloss.json"):
        assert tables.main(["--study", "--lr-table", "--file", name]) == 0
    assert tables.main(["--study", "--profile", "small", "--shape", "6 clips x 2 frames",
                        "--grad-clip", "0.01", "--vs-shipped"]) == 0
    assert tables.main(["--study", "--file", "grounding_study_small_6x2_clip0.01_soft.json",
                        "--vs-shipped", "--choices-table"]) == 0
    assert tables.main(["--real-footage"]) == 0
    assert tables.main(["--prompt-tests", "ronin_tiny-3d-lite-masks-1200-seed0.json",
                        "ronin_tiny-3d-lite-masks-1200-seed1.json"]) == 0
    out = capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    lines = [line for line in out.splitlines() if line.startswith(("|", "- "))]
    assert len(lines) > 20
    missing = [line for line in lines if line not in readme]
    assert not missing, f"README lines out of date with results/: {missing[:3]}"


def test_results_tables_refuses_a_file_without_prompt_tests(capsys):
    """``--prompt-tests`` reads bench_ronin.py files; another results file is refused with a
    message that says what it expected, not a KeyError."""
    tables = load_script("results_tables")
    assert tables.main(["--prompt-tests", "real_footage.json"]) == 2
    assert "holds no prompt tests" in capsys.readouterr().err
