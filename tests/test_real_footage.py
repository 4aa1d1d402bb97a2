"""data_scripts/real_footage_check.py: real videos, degraded by other code, restored as a user
restores them (``restore_video``), RONIN-lite against its twin."""

import json

import numpy as np
import pytest
from data_script_loader import load_script

rf = load_script("real_footage_check")


@pytest.fixture(scope="module")
def clean():
    return rf.clean_clip("carphone", 2, 64)


def test_the_clean_clip_is_a_centre_crop_of_8_bit_frames(clean):
    assert clean.dtype == np.uint8 and clean.shape == (2, 64, 64, 3)
    full = rf.clean_clip("carphone", 1, 1000)  # 176x144: the short side, a multiple of 8
    assert full.shape == (1, 144, 144, 3)
    with pytest.raises(ValueError, match="fewer than"):
        rf.clean_clip("bikes_shot2", 10_000, 64)
    with pytest.raises(ValueError, match="no bundled video"):
        rf.clean_clip("astronaut", 1, 64)


def test_the_independent_operators_make_the_same_degradations_as_the_projects(clean):
    """Other code, same settings: the two versions agree closely for blur and JPEG (different
    libraries, so not bit for bit) and the noise has the stated strength."""
    from ronin_lite.metrics import psnr

    def f(x):
        return x.astype(np.float32) / 255

    for degradation, floor in (("blur", 35.0), ("jpeg", 30.0)):
        a = rf._independent(clean, degradation, 0)
        b = rf.project_degrade(clean, degradation, 0)
        assert a.dtype == np.uint8 and a.shape == clean.shape
        assert not np.array_equal(a, clean)
        assert psnr(f(a), f(b)) > floor, degradation
    noise = f(rf._independent(clean, "noise", 0)) - f(clean)
    inside = (clean > 40) & (clean < 215)  # away from the clipping at 0 and 1
    assert abs(noise[inside].std() - rf.NOISE_SIGMA) < 0.01
    assert np.array_equal(rf._independent(clean, "noise", 3), rf._independent(clean, "noise", 3))


def test_the_check_restores_with_each_model_and_pairs_them_by_seed(tmp_path, capsys):
    out = tmp_path / "rf.json"
    pair = "tiny, 1,200 steps, FiLM (seeds 0, 1)"
    assert rf.main(["--pairs", pair, "--videos", "carphone", "bikes_shot2", "--frames", "2",
                    "--size", "48", "--degradations", "blur", "noise", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert len(results["rows"]) == 2 * 2 * 2  # videos x degradations x operator sets
    row = results["rows"][0]
    assert set(row["psnr"]) == {*rf.PAIRS[pair][0], *rf.PAIRS[pair][1]}
    assert all(np.isfinite(v) for v in row["psnr"].values())
    p = results["pairs"][pair]
    assert p["gap_vs_twin"]["n_seeds"] == 2 and p["gap_vs_twin"]["n_scenes"] == 2
    # the gap is RONIN-lite minus twin, averaged the same way as the table
    ronin = np.mean([r["psnr"][m] for r in results["rows"] for m in rf.PAIRS[pair][0]])
    twin = np.mean([r["psnr"][m] for r in results["rows"] for m in rf.PAIRS[pair][1]])
    assert p["gap_vs_twin"]["mean"] == pytest.approx(ronin - twin, abs=1e-9)
    assert "'tiny, 1,200 steps, FiLM (seeds 0, 1)'" in results["meta"]["command"]
    assert "| tiny, 1,200 steps, FiLM (seeds 0, 1) |" in capsys.readouterr().out
    assert rf.main(["--videos", "nowhere", "--frames", "1", "--out", str(out)]) == 2


def test_add_puts_a_later_pair_beside_the_first_without_restoring_it_again(tmp_path, capsys):
    """--add restores only the new pair's networks on the file's own clips, and every pair's
    summary is what one run over both pairs would have written."""
    out, both = tmp_path / "rf.json", tmp_path / "both.json"
    first, later = "tiny, 1,200 steps, FiLM (seeds 0, 1)", "tiny, 1,200 steps, masks, own rates (seeds 0, 1)"
    small = ["--videos", "carphone", "--frames", "2", "--size", "48", "--degradations", "blur"]
    assert rf.main(["--add", "--pairs", later, "--out", str(out)]) == 2  # no file yet
    assert rf.main(["--pairs", first, *small, "--out", str(out)]) == 0
    assert rf.main(["--add", "--pairs", later, "--out", str(out)]) == 0
    assert rf.main(["--pairs", first, later, *small, "--out", str(both)]) == 0
    added, together = json.loads(out.read_text()), json.loads(both.read_text())
    assert list(added["pairs"]) == [first, later]
    assert added["pairs"] == together["pairs"]
    assert [r["psnr"] for r in added["rows"]] == [r["psnr"] for r in together["rows"]]
    assert added["meta"]["added"][0].endswith(f"--add --pairs '{later}' --out {out}")
    assert "| tiny, 1,200 steps, masks, own rates (seeds 0, 1) |" in capsys.readouterr().out
    added["rows"][0]["input_psnr"] += 0.01  # a file made from other clips: refused, untouched
    out.write_text(json.dumps(added))
    assert rf.main(["--add", "--pairs", later, "--out", str(out)]) == 2
    assert json.loads(out.read_text()) == added
