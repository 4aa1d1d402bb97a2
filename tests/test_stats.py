"""Intervals over scenes and seeds (ronin_lite.stats) and the grounding study's helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ronin_lite import stats, study


def test_one_seed_is_the_plain_bootstrap_over_scenes():
    values = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    r = stats.scene_seed_interval(values, n_boot=4000)
    assert r["mean"] == pytest.approx(4.0) and (r["n_scenes"], r["n_seeds"]) == (5, 1)
    assert r["method"] == "bootstrap over scenes"
    # the bootstrap distribution of a mean of 5: its spread is the standard error sd/sqrt(n)
    se = values.std() / np.sqrt(5)
    assert r["low"] < 4.0 < r["high"]
    assert (r["high"] - r["low"]) == pytest.approx(2 * 1.96 * se, rel=0.2)


def test_scenes_are_the_unit_not_the_clips():
    """Two scenes whose clips agree closely: the interval is as wide as the scenes differ,
    however many clips each has (what a per-clip interval got wrong)."""
    per_scene = np.array([[0.25, -0.01]])  # the shipped pair's gain on chelsea / grace_hopper
    r = stats.scene_seed_interval(per_scene)
    assert r["low"] == pytest.approx(-0.01) and r["high"] == pytest.approx(0.25)
    assert not r["excludes_zero"]


def test_seed_variation_widens_the_interval_and_paired_differences_cancel_it():
    rng = np.random.default_rng(0)
    scene = rng.normal(0, 1.0, size=7)  # scene difficulty, common to all runs
    seed = np.array([-0.3, 0.0, 0.3])[:, None]  # a seed moves every scene alike
    reference = 25 + scene[None] + seed
    variant = reference + 0.2 + rng.normal(0, 0.02, size=(3, 7))  # a small, consistent gain
    a = {str(s): dict(zip("abcdefg", variant[s])) for s in range(3)}
    b = {str(s): dict(zip("abcdefg", reference[s])) for s in range(3)}
    absolute = stats.scene_seed_interval(variant)
    gap = stats.paired_interval(a, b)
    assert gap["mean"] == pytest.approx(0.2, abs=0.02) and gap["excludes_zero"]
    assert gap["high"] - gap["low"] < 0.1 < absolute["high"] - absolute["low"]
    assert (gap["n_scenes"], gap["n_seeds"]) == (7, 3)
    assert "7 scenes x 3 seeds" in stats.format_interval(gap)
    joint = stats.paired_interval(a, b, comparisons=4)
    assert joint["high"] - joint["low"] > gap["high"] - gap["low"]
    assert "jointly over 4 comparisons" in stats.format_interval(joint)


def test_bad_tables_are_refused_clearly():
    with pytest.raises(ValueError, match="every seed needs a value for every scene"):
        stats.scene_seed_table({"0": {"a": 1.0, "b": 2.0}, "1": {"a": 1.0}})
    with pytest.raises(ValueError, match="finite"):
        stats.scene_seed_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="same seeds"):
        stats.paired_interval({"0": {"a": 1.0}}, {"1": {"a": 1.0}})


def test_study_configs_share_data_and_differ_only_in_the_variant():
    cfgs = {label: study.study_config(ch, 1, 2e-3, steps=40, runs="r", grounding="g")
            for label, ch in study.VARIANTS.items()}
    assert len({c.run_dir for c in cfgs.values()}) == len(cfgs)
    for cfg in cfgs.values():
        assert (cfg.scenes, cfg.benchmark, cfg.lr, cfg.warmup, cfg.steps, cfg.seed,
                cfg.data_seed) == ("bundled", "3d-lite", 2e-3, study.WARMUP, 40, 1, 0)
    oracle = cfgs["oracle prompt, FiLM"]
    assert (oracle.prompt_source, oracle.describer, oracle.condition, oracle.inject) == (
        "describer", "oracle", "film", "all+latent")
    assert cfgs[study.TWIN].prompt is False and cfgs["RONIN-lite (masks)"].inject == "last2"
    # the prompt into the history router: the gate, and no masks, with either prompt
    for label in ("RONIN-lite (history gate)", "oracle prompt, history gate"):
        gated = cfgs[label].model_config()
        assert (gated.history_gate, gated.inject) == (True, "none")
    assert cfgs["oracle prompt, history gate"].prompt_source == "describer"
    assert cfgs["RONIN-lite (history gate)"].lambda_prompt == 1.0


def test_gap_table_pairs_every_variant_with_the_twin():
    def entry(offset):
        return {"test": {"per_seed_scene": {s: {c: 20 + offset + i for i, c in enumerate("abc")}
                                            for s in ("0", "1")}}}
    results = {"variants": {study.TWIN: entry(0.0), "x": entry(0.5), "y": entry(-0.1)}}
    gaps = study.gap_table(results)
    assert set(gaps) == {"x", "y"}
    assert gaps["x"]["mean"] == pytest.approx(0.5) and gaps["x"]["comparisons"] == 2
    assert gaps["y"]["high"] == pytest.approx(-0.1)


def test_a_variant_with_a_diverged_seed_is_paired_on_the_seeds_it_trained_with():
    def table(seeds, offset):
        return {s: {c: 20 + offset + i + int(s) for i, c in enumerate("abc")} for s in seeds}
    results = {"variants": {study.TWIN: {"test": {"per_seed_scene": table("012", 0.0)}},
                            "x": {"test": {"per_seed_scene": table("02", 0.5)}}}}
    gap = study.gap_table(results)["x"]
    assert gap["mean"] == pytest.approx(0.5) and gap["n_seeds"] == 2
    # and the other way round: a reference seed that diverged leaves the variant's out too
    results["variants"][study.TWIN]["test"]["per_seed_scene"] = table("01", 0.0)
    gap = study.gap_table(results)["x"]
    assert gap["mean"] == pytest.approx(0.5) and gap["n_seeds"] == 1


def test_a_run_worse_than_its_input_on_val_has_diverged_whatever_its_test_score():
    def rows(psnr, psnr_input):
        return [{"psnr": psnr, "psnr_input": psnr_input}] * 3
    assert study.diverged({"val": rows(4.9, 24.0), "test": rows(30.0, 24.0)})
    assert not study.diverged({"val": rows(24.5, 24.0), "test": rows(4.9, 24.0)})


def test_gain_over_input_subtracts_each_scenes_input_before_the_interval():
    entry = {"input_psnr_by_scene": {"a": 20.0, "b": 30.0},
             "per_seed_scene": {"0": {"a": 21.0, "b": 32.0}, "1": {"a": 22.0, "b": 31.0}}}
    gain = study.gain_over_input(entry)
    assert gain["mean"] == pytest.approx(1.5) and (gain["n_seeds"], gain["n_scenes"]) == (2, 2)
    assert stats.bracket(gain) == f"+1.50 [{gain['low']:+.2f}, {gain['high']:+.2f}]"
    assert stats.bracket({"mean": 25.0, "low": 24.5, "high": 25.25}, signed=False) == \
        "25.00 [24.50, 25.25]"


def test_per_scene_and_per_task_average_the_clips():
    rows = [{"scene": "a", "task": "noise", "psnr": 20.0}, {"scene": "a", "task": "blur",
            "psnr": 22.0}, {"scene": "b", "task": "noise", "psnr": 30.0}]
    assert study.per_scene(rows) == {"a": 21.0, "b": 30.0}
    assert study.per_task(rows) == {"blur": 22.0, "noise": 25.0}


def test_val_choices_read_val_only_and_pair_with_ronin_lites_defaults(tmp_path):
    """``run_grounding_study.py report``'s recipe choices: each choice's val scores are paired
    seed by seed and scene by scene with RONIN-lite's defaults; a choice whose runs are not all
    finished is left out; test scores, even when present, are never read."""
    from argparse import Namespace
    from pathlib import Path

    from data_script_loader import load_script

    script = load_script("run_grounding_study")
    args = Namespace(seeds=[0, 1], profile="tiny", steps=40, runs=str(tmp_path / "runs"),
                     grounding=str(tmp_path / "g"), benchmark="3d-lite", grad_clip=0.0,
                     shape=study.DEFAULT_SHAPE, choices=None, choice_seeds=None, earlier=None)

    def write(changes, seed, offset, with_test=False):
        cfg = study.study_config(changes, seed, 4e-3, "tiny", 40, runs=args.runs,
                                 grounding=args.grounding)
        rows = [{"scene": sc, "task": "noise", "psnr": 25.0 + offset + i + 0.1 * seed}
                for i, sc in enumerate(("flower", "bikes_shot1"))]
        folder = Path(cfg.run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        scores = {"val": rows, **({"test": [dict(r, psnr=99.0) for r in rows]}
                                  if with_test else {})}
        (folder / script.SCORES).write_text(json.dumps(scores))

    measured = []  # the prompt's agreement with the text is measured on the finished runs

    def agreement(cfg, clips, targets):
        measured.append(cfg.run_dir)
        return {"r2": 0.5, "spread_ratio": 1.0, "centred_cosine": 0.7}

    script.prompt_agreement = agreement
    study_clips = study.eval_clips
    study.eval_clips = lambda *a, **k: []
    described = study.described_embeddings
    study.described_embeddings = lambda *a, **k: []
    script._encoder = lambda: None
    try:
        _check_val_choices(script, args, write)
    finally:
        study.eval_clips, study.described_embeddings = study_clips, described
    assert len(measured) == 4  # the choice and the reference, 2 seeds each; test never


def _check_val_choices(script, args, write):
    assert script.val_choices(args, 4e-3) == {}
    for seed in (0, 1):
        write(study.VARIANTS[study.CHOICE_REFERENCE], seed, 0.0, with_test=True)
    labels = list(study.CHOICES)
    for seed in (0, 1):
        write(study.CHOICES[labels[0]], seed, -0.3, with_test=True)
    write(study.CHOICES[labels[1]], 0, 1.0)  # seed 1 missing: left out
    out = script.val_choices(args, 4e-3)
    assert out["split"] == "val" and out["reference"] == study.CHOICE_REFERENCE
    assert list(out["choices"]) == [labels[0]]
    gap = out["choices"][labels[0]]["gap_vs_reference"]
    assert gap["mean"] == pytest.approx(-0.3) and gap["comparisons"] == 1
    assert (gap["n_scenes"], gap["n_seeds"]) == (2, 2)
    assert out["reference_psnr"]["mean"] == pytest.approx(25.55)
    assert out["choices"][labels[0]]["prompt"]["0"]["r2"] == 0.5
    assert set(out["reference_prompt"]) == {"0", "1"}


def test_a_report_takes_variants_made_elsewhere_from_an_earlier_results_file(tmp_path):
    """``report --earlier FILE``: a variant whose runs are not on this machine is read from a
    results file that records the same recipe (its gaps dropped, to be recomputed), and a
    recipe choice run here at some seeds is paired with that file's RONIN-lite on those seeds;
    a file of another recipe (steps, rate, changes) is never used."""
    from argparse import Namespace
    from pathlib import Path

    from data_script_loader import load_script

    script = load_script("run_grounding_study")
    shape = "6 clips x 2 frames"
    args = Namespace(seeds=[0, 1], profile="tiny", steps=40, runs=str(tmp_path / "runs"),
                     grounding=str(tmp_path / "g"), benchmark="3d-lite", grad_clip=0.01,
                     shape=shape, choices=None, choice_seeds=[0],
                     earlier=str(tmp_path / "earlier.json"))
    changes = study.with_shape(study.VARIANTS[study.CHOICE_REFERENCE], shape)
    table = {"0": {"flower": 26.0, "bikes_shot1": 27.0}, "1": {"flower": 26.5, "bikes_shot1": 27.5}}
    split = {"per_seed_scene": table, "gap_vs_twin": {"mean": 0.3}}
    earlier = {"meta": {"profile": "tiny", "steps": 40, "shape": shape, "grad_clip": 0.01,
                        "seeds": [0, 1], "protocol": {"benchmark": "3d-lite"}},
               "variants": {study.CHOICE_REFERENCE: {"changes": changes, "lr": 4e-3,
                                                     "val": split, "test": split}}}
    entry = script.earlier_entry(args, earlier, study.CHOICE_REFERENCE, changes, 4e-3)
    assert entry["from"] == "earlier.json" and entry["val"]["per_seed_scene"] == table
    assert "gap_vs_twin" not in entry["val"] and "gap_vs_twin" not in entry["test"]
    assert script.earlier_entry(args, earlier, study.CHOICE_REFERENCE, changes, 8e-3) is None
    assert script.earlier_entry(args, earlier, study.CHOICE_REFERENCE, {}, 4e-3) is None
    assert script.earlier_entry(Namespace(**{**vars(args), "steps": 80}), earlier,
                                study.CHOICE_REFERENCE, changes, 4e-3) is None
    assert script.earlier_entry(args, earlier, study.TWIN, changes, 4e-3) is None
    assert script.earlier_entry(args, None, study.CHOICE_REFERENCE, changes, 4e-3) is None

    label = "soft clean frames (sigma <= 1 px)"
    cfg = script._config(args, study.with_shape(study.CHOICES[label], shape), 0, 4e-3)
    assert "soften=1.0" in cfg.run_dir and cfg.soften == 1.0
    folder = Path(cfg.run_dir)
    folder.mkdir(parents=True)
    rows = [{"scene": "flower", "task": "noise", "psnr": 27.0},
            {"scene": "bikes_shot1", "task": "blur", "psnr": 29.0}]
    (folder / script.SCORES).write_text(json.dumps({"val": rows}))
    script.prompt_agreement = lambda cfg, clips, targets: {"r2": 0.5}
    study_clips, described = study.eval_clips, study.described_embeddings
    study.eval_clips = lambda *a, **k: []
    study.described_embeddings = lambda *a, **k: []
    script._encoder = lambda: None
    try:
        out = script.val_choices(args, 4e-3, earlier)
    finally:
        study.eval_clips, study.described_embeddings = study_clips, described
    assert list(out["choices"]) == [label] and out["seeds"] == [0]
    assert out["reference_from"] == "earlier.json" and "reference_prompt" not in out
    gap = out["choices"][label]["gap_vs_reference"]
    assert gap["mean"] == pytest.approx(1.5) and (gap["n_scenes"], gap["n_seeds"]) == (2, 1)


def test_batch_shapes_keep_the_frames_per_step_and_the_variants_own_shape():
    from ronin_lite.config import get_profile

    tiny = get_profile("tiny")
    for label in study.SHAPES:
        cfg = study.study_config(study.with_shape(study.VARIANTS[study.TWIN], label), 0, 4e-3)
        assert cfg.batch * cfg.clip_len == tiny.batch * tiny.clip_len
    single = study.with_shape(study.VARIANTS["single frame (no history)"], "6 clips x 2 frames")
    assert (single["batch"], single["clip_len"]) == (12, 1)
    assert study.with_shape({}, study.DEFAULT_SHAPE) == {}
    with pytest.raises(ValueError, match="unknown shape"):
        study.with_shape({}, "3 x 4")
    assert study.results_name("tiny", shape="6 clips x 2 frames") == "grounding_study_tiny_6x2.json"


def test_results_names_say_the_benchmark_and_a_budget_other_than_the_profiles():
    assert study.results_name() == "grounding_study_tiny.json"
    assert study.results_name("tiny", "4d-lite") == "grounding_study_tiny_4d-lite.json"
    assert study.results_name("tiny", steps=300) == "grounding_study_tiny.json"  # tiny's own
    assert study.results_name("tiny", steps=1200) == "grounding_study_tiny_1200steps.json"
    assert study.results_name("tiny", "tv-lite", 1200) == \
        "grounding_study_tiny_tv-lite_1200steps.json"
    assert study.results_name("tiny", steps=350, shape="6 clips x 2 frames", grad_clip=0.01) == \
        "grounding_study_tiny_350steps_6x2_clip0.01.json"


def test_the_study_sweeps_the_rate_for_its_own_shape_and_clipping():
    """``sweep`` chooses the learning rate of the recipe the study trains: its runs carry the
    study's batch shape and gradient clipping (the twin's folder of the earlier studies is kept
    when neither is given)."""
    import argparse

    from data_script_loader import load_script

    script = load_script("run_grounding_study")

    def args(**changes):
        return argparse.Namespace(**{
            "profile": "tiny", "steps": 350, "runs": "runs/x", "grounding": None,
            "benchmark": "3d-lite", "sweep_seed": 0, "shape": study.DEFAULT_SHAPE,
            "grad_clip": 0.0, **changes})

    cfg = script._sweep_config(args(), 4e-3)
    assert cfg.run_dir == study.study_config(study.VARIANTS[study.TWIN], 0, 4e-3, steps=350,
                                             runs="runs/x").run_dir
    # the study's base is the recipe it began with, not the tiny profile's of today
    assert (cfg.batch, cfg.clip_len, cfg.grad_clip) == (4, 3, 0.0)
    cfg = script._sweep_config(args(shape="6 clips x 2 frames", grad_clip=0.01), 8e-3)
    assert (cfg.batch, cfg.clip_len, cfg.grad_clip, cfg.lr) == (6, 2, 0.01, 8e-3)
    assert "grad_clip=0.01" in cfg.run_dir and "batch=6_clip_len=2" in cfg.run_dir


OWN_RATES_1200 = study.results_name(steps=1200, shape="6 clips x 2 frames", grad_clip=0.01,
                                   per_variant_lr=True, confirm=2)


SMALL_STUDY = study.results_name("small", steps=1200, shape="6 clips x 2 frames", grad_clip=0.01)


@pytest.mark.parametrize("name, variant, results_file", [
    ("tiny-3d-lite-film-1200-seed0", "RONIN-lite (FiLM)", study.results_name(steps=1200)),
    ("tiny-3d-lite-twin-1200-seed0", study.TWIN, study.results_name(steps=1200)),
    ("tiny-3d-lite-masks-1200-seed0", "RONIN-lite (masks)", OWN_RATES_1200),
    ("tiny-3d-lite-twin-1200-6x2-seed0", study.TWIN, OWN_RATES_1200),
    ("tiny-3d-lite-promptloss-1200-seed0", "prompt loss only (not injected)",
     OWN_RATES_1200.replace(".json", "_promptloss.json")),
    ("small-3d-lite-masks-1200-seed0", "RONIN-lite (masks)", SMALL_STUDY),
    ("small-3d-lite-twin-1200-seed0", study.TWIN, SMALL_STUDY),
    ("small-3d-lite-masks-soft-1200-seed0", "RONIN-lite (masks), soft clean frames",
     SMALL_STUDY.replace(".json", "_soft.json"))])
def test_the_shipped_1200_step_pairs_reproduce_their_study_scores(name, variant, results_file):
    """The shipped checkpoints are the study's runs: scoring one real-video test scene
    (`carphone`, 8 clips) gives the per-scene PSNR the results file holds for that seed."""
    from ronin_lite.checkpoints import load_pretrained, pretrained_folder, verify_checkpoint
    from ronin_lite.results import load_result

    model = load_pretrained(name).eval()
    assert model.config.condition == ("film" if "film" in name else "mask")
    trained = verify_checkpoint(pretrained_folder(name))["config"]  # its TrainConfig
    assert trained.get("soften", 0.0) == (2.0 if "soft" in name else 0.0)
    # the control has a prompt path (trained by the prompt loss) that injects nothing
    assert (model.config.prompt and model.config.inject == "none") == ("promptloss" in name)
    results = load_result(results_file)
    # a study scores each profile at its own evaluation size
    clips = [c for c in study.eval_clips("test", results["meta"]["profile"])
             if c.scene == "carphone"]
    assert len(clips) == study.PROTOCOL["clips_per_scene"]
    measured = study.per_scene(study.score(model, clips))["carphone"]
    assert measured == pytest.approx(
        results["variants"][variant]["test"]["per_seed_scene"]["0"]["carphone"], abs=0.01)


def test_the_scale_mismatch_runs_differ_from_the_matched_twin_only_in_crop_and_batch():
    """data_scripts/scale_mismatch.py: the matched network is the grounding study's twin at the
    tiny recipe (a finished study run is reused), the mismatched ones change the crop (and,
    once, the clips per step) and nothing else."""
    from data_script_loader import load_script

    script = load_script("scale_mismatch")
    study_twin = study.study_config(
        {**study.with_shape(study.VARIANTS[study.TWIN], "6 clips x 2 frames"), "grad_clip": 0.01},
        0, 8e-3, runs="runs/x")
    matched = script.config(script.MATCHED, 0, "runs/x")
    assert matched.run_dir == study_twin.run_dir
    base = {k: v for k, v in matched.to_dict().items() if k != "run_dir"}
    for label, changes in script.VARIANTS.items():
        cfg = script.config(label, 0, "runs/x").to_dict()
        assert {k for k in base if cfg[k] != base[k]} == set(changes), label
        assert all(cfg[k] == v for k, v in changes.items())
    assert 64 / script.config(label, 0, "runs/x").crop == pytest.approx(4 / 3)


def test_per_variant_rates_are_each_variants_own_val_choice(tmp_path):
    """``--per-variant-lr``: each variant is reported at the rate its own sweep chose on val
    (a variant whose best val rate differs from the twin's trains at it), paired with the twin
    at the twin's rate; without the flag every variant is read at the twin's rate; a variant
    never swept is left out of the per-variant file rather than read at another rate."""
    from pathlib import Path

    from data_script_loader import load_script

    script = load_script("run_grounding_study")
    runs, results = tmp_path / "runs", tmp_path / "results"
    common = ["--steps", "40", "--runs", str(runs), "--grounding", str(tmp_path / "g"),
              "--results", str(results), "--seeds", "0", "1", "--lrs", "0.004", "0.008"]
    film = "RONIN-lite (FiLM)"
    # val PSNR by (variant, rate): the twin prefers 4e-3, FiLM 8e-3
    val = {(study.TWIN, 4e-3): 26.0, (study.TWIN, 8e-3): 25.5,
           (film, 4e-3): 25.0, (film, 8e-3): 26.5}
    bump: dict = {}

    def write(label, lr, seed):
        cfg = study.study_config(study.VARIANTS[label], seed, lr, "tiny", 40,
                                 runs=runs, grounding=tmp_path / "g")
        rows = lambda offset: [  # noqa: E731
            {"scene": sc, "task": task,
             "psnr": val[label, lr] + bump.get((label, lr, seed), 0.0) + offset + i + 0.1 * seed,
             "psnr_input": 20.0 + i} for i, (sc, task) in enumerate(
                (("flower", "noise"), ("bikes_shot1", "blur")))]
        Path(cfg.run_dir).mkdir(parents=True, exist_ok=True)
        (Path(cfg.run_dir) / script.SCORES).write_text(json.dumps(
            {"val": rows(0.0), "test": rows(-1.0), "train_seconds": 1.0}))

    for label in (study.TWIN, film):
        for lr in (4e-3, 8e-3):
            for seed in (0, 1):
                write(label, lr, seed)
    # a rate at which FiLM's output became NaN: diverged, never chosen
    cfg = study.study_config(study.VARIANTS[film], 0, 1.6e-2, "tiny", 40, runs=runs,
                             grounding=tmp_path / "g")
    Path(cfg.run_dir).mkdir(parents=True)
    diverged = {"val": [], "non_finite": "not finite", "train_seconds": 1.0}
    (Path(cfg.run_dir) / script.SCORES).write_text(json.dumps(diverged))
    assert study.diverged(diverged)
    common += ["0.016"]
    assert script.main(["report", "--per-variant-lr", *common]) == 0
    out = json.loads((results / "grounding_study_tiny_40steps_lrvariant.json").read_text())
    v = out["variants"]
    assert set(v) == {study.TWIN, film}  # the variants never swept are not reported
    assert (v[study.TWIN]["lr"], v[film]["lr"]) == (4e-3, 8e-3)
    assert set(v[film]["lr_sweep"]) == {"0.004", "0.008", "0.016"}
    assert v[film]["lr_sweep"]["0.016"]["val_psnr"] is None
    assert v[film]["test"]["gap_vs_twin"]["mean"] == pytest.approx(0.5)
    assert out["meta"]["lr_rule"].startswith("each variant at its own rate")
    # the twin's rate for every variant: FiLM read at 4e-3
    assert script.main(["report", *common]) == 0
    out = json.loads((results / "grounding_study_tiny_40steps.json").read_text())
    assert out["variants"][film]["lr"] == 4e-3
    assert out["variants"][film]["test"]["gap_vs_twin"]["mean"] == pytest.approx(-1.0)
    # --confirm 2: the two best rates of each sweep, compared on val over both seeds; FiLM's
    # second seed at 4e-3 is far better, so over the seeds 4e-3 wins what seed 0 gave to 8e-3
    bump[film, 4e-3, 1] = 4.0
    write(film, 4e-3, 1)
    assert script.main(["report", "--per-variant-lr", "--confirm", "2", *common]) == 0
    out = json.loads((results / "grounding_study_tiny_40steps_lrvariant_top2.json").read_text())
    film_entry = out["variants"][film]
    assert film_entry["lr"] == 4e-3 and out["meta"]["confirm"] == 2
    assert film_entry["lr_confirm"] == {"0.008": pytest.approx(27.05),
                                        "0.004": pytest.approx(27.55)}
    assert out["variants"][study.TWIN]["lr"] == 4e-3
    with pytest.raises(SystemExit):  # --confirm is a per-variant rule
        script.main(["report", "--confirm", "2", *common])
    # report --variants: those beside the twin, in a file of their own
    only = tmp_path / "only.json"
    assert script.main(["report", "--per-variant-lr", "--variants", film, "--out", str(only),
                        *common]) == 0
    assert set(json.loads(only.read_text())["variants"]) == {study.TWIN, film}
    assert script.main(["report", "--per-variant-lr", "--variants", "RONIN-lite (masks)",
                        "--out", str(only), *common]) == 0
    assert set(json.loads(only.read_text())["variants"]) == {study.TWIN}  # FiLM left out


def test_a_network_whose_output_is_not_finite_is_reported_as_diverged_not_scored():
    """``study.score`` raises :class:`study.NonFiniteOutput` on a network gone to NaN (what a
    rate too high for a variant leaves), so the study records the run as diverged instead of
    failing inside the metric; a finite network is scored as usual."""
    import torch

    from ronin_lite.data import get_benchmark
    from ronin_lite.models import RoninConfig, RoninLite

    clips = list(get_benchmark("3d-lite", size=32, seed=0, clips_per_scene=1).clips("test"))[:1]
    model = RoninLite(RoninConfig("tiny")).eval()
    rows = study.score(model, clips)
    assert len(rows) == 1 and np.isfinite(rows[0]["psnr"])
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    with pytest.raises(study.NonFiniteOutput, match="not finite"):
        study.score(model, clips)


def test_seed_means_average_each_seeds_scenes():
    from ronin_lite import study

    entry = {"per_seed_scene": {"0": {"a": 27.0, "b": 29.0}, "1": {"a": 26.0, "b": 27.0}}}
    assert study.seed_means(entry) == {"0": 28.0, "1": 26.5}


def test_each_profile_has_its_own_run_folders_and_another_runs_scores_are_refused(tmp_path):
    """A `small` study once found `tiny`'s finished run in the folder its config named (the
    folder name held no profile) and took its scores for its own. Now every profile but `tiny`
    (which keeps the first study's folder names) prefixes its folders, and a folder whose
    ``run.json`` records another run is refused before its cached scores are read."""
    from pathlib import Path

    from data_script_loader import load_script

    from ronin_lite.train import RUN_FILE

    script = load_script("run_grounding_study")
    twin = study.VARIANTS[study.TWIN]
    tiny = study.study_config(twin, 0, 8e-3, "tiny", 40, runs=tmp_path, grounding="g")
    small = study.study_config(twin, 0, 8e-3, "small", 40, runs=tmp_path, grounding="g")
    assert Path(small.run_dir).parent.name == "small_" + Path(tiny.run_dir).parent.name
    assert not Path(tiny.run_dir).parent.name.startswith("tiny")
    # tiny's finished run, copied where the small run's scores would be cached
    folder = Path(small.run_dir)
    folder.mkdir(parents=True)
    (folder / RUN_FILE).write_text(json.dumps({"format": 1, "identity": tiny.identity()}))
    (folder / script.SCORES).write_text(json.dumps({"val": [{"psnr": 30.0}]}))
    with pytest.raises(ValueError, match=r"holds another run \(differs in .*crop"):
        script._run(small, {"val": []}, None)
    # the run's own record is accepted, and its cached scores returned without training
    (folder / RUN_FILE).write_text(json.dumps({"format": 1, "identity": small.identity()}))
    assert script._run(small, {"val": []}, None) == {"val": [{"psnr": 30.0}]}


def test_against_shipped_pairs_each_network_scene_by_scene_and_refuses_other_studies():
    """study.against_shipped (results_tables.py --vs-shipped, notebook 09): the shipped
    variants get val and test differences to the shipped network of the same label, every
    variant a test difference to the classical row, all jointly over the comparisons made."""
    def split(scenes):
        return {"per_seed_scene": {"0": scenes}}

    ours = {"a": 31.0, "b": 30.0, "c": 29.0}
    results = {"meta": {"profile": "small", "seeds": [0]},
               "classical": {"test_per_scene": {"a": 30.0, "b": 30.0, "c": 30.0}},
               "variants": {study.TWIN: {"val": split(ours), "test": split(ours)},
                            "control": {"val": split(ours), "test": split(ours)}}}
    shipped = {"per_scene": {"no-prompt twin": {k: v - 0.5 for k, v in ours.items()}}}
    gaps = study.against_shipped(results, shipped, shipped)
    assert set(gaps[study.TWIN]) == {"val", "test", "classical"} and set(gaps["control"]) == {
        "classical"}
    assert gaps[study.TWIN]["test"]["mean"] == pytest.approx(0.5)
    assert gaps["control"]["classical"]["mean"] == pytest.approx(0.0)
    assert {g["comparisons"] for a in gaps.values() for g in a.values()} == {4}
    with pytest.raises(ValueError, match="a study of the small profile"):
        study.against_shipped({**results, "meta": {"profile": "tiny", "seeds": [0]}},
                              shipped, shipped)
    # several seeds: each is paired with the one shipped network (and the classical row)
    other = {k: v + 1.0 for k, v in ours.items()}
    results["meta"]["seeds"] = [0, 1]
    for e in results["variants"].values():
        for sp in ("val", "test"):
            e[sp]["per_seed_scene"]["1"] = other
    gaps = study.against_shipped(results, shipped, shipped)
    assert gaps[study.TWIN]["test"]["mean"] == pytest.approx(1.0)
    assert gaps[study.TWIN]["test"]["n_seeds"] == 2
    assert gaps["control"]["classical"]["mean"] == pytest.approx(0.5)
