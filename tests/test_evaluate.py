"""Evaluation metrics, baselines and the prompt analysis."""

import numpy as np
import pytest
import torch

from ronin_lite import analysis, baselines
from ronin_lite import evaluate as ev
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.metrics import psnr, ssim
from ronin_lite.models import RoninConfig, RoninLite


@pytest.fixture(scope="module")
def clips():
    return list(get_benchmark("3d-lite", size=32, seed=0, clips_per_scene=2).clips("test", T=4))


def test_metrics_agree_with_torchmetrics(clips):
    from torchmetrics.functional.image import (peak_signal_noise_ratio,
                                               structural_similarity_index_measure)

    clip = next(get_benchmark("3d-lite", size=128, seed=0, clips_per_scene=1).clips("test", T=2))
    a = torch.from_numpy(np.moveaxis(clip.degraded, -1, 1)).double()
    b = torch.from_numpy(np.moveaxis(clip.clean, -1, 1)).double()
    per_frame = [float(peak_signal_noise_ratio(x[None], y[None], data_range=1.0))
                 for x, y in zip(a, b)]
    assert psnr(clip.degraded, clip.clean) == pytest.approx(np.mean(per_frame), abs=1e-4)
    # an independent SSIM (torchmetrics: same 11-tap Gaussian window, sigma 1.5, its own
    # code): its SSIM map averaged over the pixels whose window lies inside the image (the
    # 5-pixel border is where the two differ: scikit-image leaves it out, torchmetrics pads by
    # reflection) agrees with ours to float precision, frames and channels averaged alike
    _, ssim_map = structural_similarity_index_measure(a, b, data_range=1.0,
                                                      return_full_image=True)
    inner = float(ssim_map[..., 5:-5, 5:-5].mean())
    assert ssim(clip.degraded, clip.clean) == pytest.approx(inner, abs=1e-9)
    # and the whole-image mean differs by about 0.01 at 128 px: the border, nothing else
    tm_ssim = float(structural_similarity_index_measure(a, b, data_range=1.0))
    assert 1e-3 < abs(ssim(clip.degraded, clip.clean) - tm_ssim) < 0.02


def test_identity_scores_the_input(clips):
    rows = ev.evaluate(baselines.identity, clips, progress=False)
    for row, clip in zip(rows, clips):
        assert row["psnr"] == row["psnr_input"] == pytest.approx(psnr(clip.degraded, clip.clean))
        assert row["flicker"] == row["flicker_input"]
    summary = ev.summarise(rows)
    assert summary["all"]["n"] == len(clips) and summary["all"]["gain"] == 0
    assert set(summary) - {"all"} <= {"noise", "blur", "compression"}


def test_flicker_zero_when_perfect_and_grows_with_temporal_noise(clips):
    clean = clips[0].clean
    assert ev.flicker(clean, clean) == 0
    rng = np.random.default_rng(0)
    values = [ev.flicker(np.clip(clean + rng.normal(0, s, clean.shape), 0, 1).astype(np.float32),
                         clean) for s in (0.01, 0.03, 0.1)]
    assert values[0] < values[1] < values[2]
    # a constant offset on every frame does not flicker
    assert ev.flicker(np.clip(clean * 0.9, 0, 1), clean) < values[0]
    with pytest.raises(ValueError, match="2 frames"):
        ev.flicker(clean[:1], clean[:1])


def test_bad_restorer_output_is_refused(clips):
    with pytest.raises(ValueError, match="keep the number and size"):
        ev.evaluate(lambda c: c[:-1], clips[:1], progress=False)
    with pytest.raises(ValueError, match="no rows"):
        ev.summarise([])


def test_markdown_table(clips):
    summary = ev.summarise(ev.evaluate(baselines.identity, clips, progress=False))
    table = ev.markdown_table({"input again": summary})
    lines = table.splitlines()
    assert lines[0].startswith("| method | all") and len(lines) == 4
    assert lines[2].split("|")[2].strip() == f"{summary['all']['psnr_input']:.2f}"


def test_changes_are_group_by_group_differences_to_the_reference():
    """evaluate.changes (bench_ronin's prompt tests): each summary minus the reference, per
    group; a group the reference lacks is left out."""
    ref = {"all": {"psnr": 28.0}, "noise": {"psnr": 26.0}}
    tests = {"other prompt": {"all": {"psnr": 27.5}, "noise": {"psnr": 23.0}, "blur": {"psnr": 1}}}
    assert ev.changes(tests, ref) == {"other prompt": {"all": -0.5, "noise": -3.0}}


@pytest.mark.parametrize("name", sorted(baselines.BASELINES))
def test_baselines_keep_shape_and_range(name, clips):
    clip = clips[0].degraded
    out = baselines.get_baseline(name)(clip)
    assert out.shape == clip.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    assert baselines.baseline_config(name)["name"] == name


def test_nlm_helps_on_noise(clips):
    noisy = [c for c in clips if ev.clip_task(c)[0] == "noise"]
    assert noisy, "the fixture needs a noisy clip"
    c = noisy[0]
    assert psnr(baselines.nlm(c.degraded), c.clean) > psnr(c.degraded, c.clean) + 1


def test_unknown_baseline():
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.get_baseline("bm3d")


def test_model_restorer_and_external_prompts(clips):
    torch.manual_seed(0)
    model = RoninLite(RoninConfig("tiny")).eval()
    for linear in model.injection.linears.values():  # masks that depend on the prompt
        torch.nn.init.normal_(linear.weight, std=0.5)
    clip = clips[0].degraded
    restored, prompts = ev.restore_frames(model, clip)
    assert restored.shape == clip.shape and prompts.shape == (len(clip), 384)
    again, used = ev.restore_frames(model, clip, torch.from_numpy(prompts))
    assert np.allclose(again, restored, atol=1e-5) and np.allclose(used, prompts)
    other, _ = ev.restore_frames(model, clip, torch.ones(1, 384))
    assert not np.allclose(other, restored, atol=1e-4)
    rows = ev.evaluate(ev.model_restorer(model), clips[:2], progress=False)
    assert len(rows) == 2 and rows[0]["sec_per_frame"] > 0
    with pytest.raises(ValueError, match="prompts must be shaped"):
        ev.restore_frames(model, clip, torch.ones(2, 2, 384))


def test_prompt_agreement_extremes():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(50, 8)) + 3
    mean = target.mean(0)
    perfect = analysis.prompt_agreement(target, target, mean)
    assert perfect["r2"] == pytest.approx(1) and perfect["centred_cosine"] == pytest.approx(1)
    assert perfect["spread_ratio"] == pytest.approx(1)
    collapsed = analysis.prompt_agreement(np.tile(mean, (50, 1)), target, mean)
    assert collapsed["r2"] == pytest.approx(0, abs=1e-9)
    assert collapsed["spread_ratio"] == pytest.approx(0, abs=1e-9)
    assert collapsed["cosine"] == pytest.approx(collapsed["cosine_of_mean"])
    with pytest.raises(ValueError, match="same shape"):
        analysis.prompt_agreement(target[:3], target, mean)


class _FakeEncoder:
    """Sentences -> bag-of-words vectors over a fixed vocabulary (no model download)."""

    def encode(self, sentences):
        words = ["noise", "grain", "blur", "defocus", "blurriness", "compression", "blocking",
                 "blocky", "slight", "mild", "light", "moderate", "noticeable", "medium",
                 "severe", "heavy", "strong"]
        out = np.array([[s.lower().count(w) for w in words] for s in sentences], np.float64)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_nearest_description_names_its_own_prototypes():
    enc = _FakeEncoder()
    prototypes, keys = analysis.description_prototypes(enc, ["noise", "blur", "compression"],
                                                       phrasings=30)
    assert prototypes.shape[0] == 9 and keys[0] == ("noise", "slight")
    named = analysis.nearest_description(prototypes, prototypes, keys, prototypes.mean(0))
    assert named == keys
    acc = analysis.naming_accuracy(named, keys)
    assert acc == {"type": 1.0, "severity": 1.0, "both": 1.0}
    with pytest.raises(ValueError, match="phrasings"):
        analysis.description_prototypes(enc, ["noise"], phrasings=0)


def test_evaluating_a_network_leaves_it_in_the_mode_it_came_in(clips):
    """A training loop that scores its network on the side must keep training in train mode."""
    from ronin_lite import ablations

    torch.manual_seed(0)
    net = RoninLite(RoninConfig("tiny")).train()
    ev.restore_frames(net, clips[0].degraded)
    assert net.training
    ev.model_restorer(net)(clips[0].degraded)
    assert net.training
    ablations.evaluate_variant(net, clips[:1])
    assert net.training
    net.eval()
    ev.restore_frames(net, clips[0].degraded)
    assert not net.training


def test_a_bf16_network_restores_in_bf16(clips):
    torch.manual_seed(0)
    net = RoninLite(RoninConfig("tiny")).to(torch.bfloat16)
    restored, prompts = ev.restore_frames(net, clips[0].degraded,
                                          torch.zeros(1, net.config.prompt_dim))
    ref, _ = ev.restore_frames(net.float(), clips[0].degraded,
                               torch.zeros(1, net.config.prompt_dim))
    assert restored.dtype == np.float32 and np.isfinite(restored).all()
    assert np.abs(restored - ref).mean() < 0.02


def test_checkpoints_sharing_a_folder_name_keep_their_own_results():
    assert ev.method_names(["runs/a/seed0", "runs/b/seed0", "small-3d-lite"]) == \
        ["runs/a/seed0", "runs/b/seed0", "small-3d-lite"]
    assert ev.method_names(["runs/a/seed0"]) == ["seed0"]
    with pytest.raises(ValueError, match="given twice"):
        ev.method_names(["x", "x"])


def test_the_command_line_scores_the_protocol_clips_on_any_machine(tmp_path, monkeypatch,
                                                                   capsys):
    """`python -m ronin_lite.evaluate` without --profile evaluates the benchmark protocol's
    clips (128 px, 24 per scene), whatever profile the machine would pick."""
    import json

    from ronin_lite.data.benchmarks import EVAL_CLIPS_PER_SCENE, EVAL_SIZE

    seen = []
    real = ev.evaluate
    monkeypatch.setattr(ev, "evaluate", lambda restore, clips, **kw: seen.append(
        [c.degraded.shape for c in clips]) or real(restore, clips[:2], **kw))
    outs = {}
    for profile in ("tiny", "full"):
        monkeypatch.setenv("RONIN_PROFILE", profile)
        out = tmp_path / f"{profile}.json"
        assert ev.main(["--baselines", "input", "--quiet", "--out", str(out)]) == 0
        outs[profile] = json.loads(out.read_text())
    assert seen[0] == seen[1]
    assert seen[0][0][1:3] == (EVAL_SIZE, EVAL_SIZE)
    test_scenes = len(get_benchmark("3d-lite", size=32).splits["test"])
    assert outs["tiny"]["clips"] == outs["full"]["clips"] == len(seen[0]) == \
        EVAL_CLIPS_PER_SCENE * test_scenes
    assert [r["psnr"] for r in outs["tiny"]["methods"]["input"]["rows"]] == \
        [r["psnr"] for r in outs["full"]["methods"]["input"]["rows"]]
    assert "PSNR (dB; RGB, float, no border crop)" in capsys.readouterr().out
    # an explicitly named profile takes that profile's settings
    assert ev.main(["--baselines", "input", "--quiet", "--profile", "tiny"]) == 0
    assert seen[-1][0][1:3] == (64, 64)
    # bad input: a clear error and exit code 2
    assert ev.main(["--checkpoint", str(tmp_path / "missing"), "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("name, degradation, intensity, margin", [
    ("nlm", "gaussian_noise", 0.6, 2.0), ("tv", "gaussian_noise", 0.6, 2.0),
    ("wavelet", "gaussian_noise", 0.6, 2.0), ("nlm-video", "gaussian_noise", 0.6, 2.0),
    ("wiener", "gaussian_blur", 0.4, 0.3)])
def test_each_baseline_restores_the_degradation_it_is_for(name, degradation, intensity, margin):
    """Efficacy, not only shape: each classical restorer gains on its own degradation (a
    denoiser on noise, the deconvolution on a Gaussian blur near its assumed PSF)."""
    from ronin_lite.data import degradations as D
    from ronin_lite.data.benchmarks import get_benchmark

    clean = get_benchmark("3d-lite", size=64, seed=0).sample(0, "test", 4, 64).clean
    degraded, _ = D.apply_ops(clean, [D.make_op(degradation, intensity, 0)], seed=0)
    degraded = degraded.astype(np.float32)
    gain = psnr(baselines.get_baseline(name)(degraded), clean) - psnr(degraded, clean)
    assert gain > margin, f"{name} on {degradation}: {gain:+.2f} dB"


# --- each classical baseline works on the degradation it was designed for -------------------
@pytest.fixture(scope="module")
def photo():
    from ronin_lite.data.scenes import get_scene
    from skimage.transform import resize

    image = get_scene("astronaut").load()
    return resize(image, (96, 96), anti_aliasing=True).astype(np.float32)[None]  # (1, 96, 96, 3)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_wiener_with_the_true_psf_restores_blur_and_the_estimate_finds_it(photo, sigma):
    from ronin_lite.data import degradations as D

    blurred = D.gaussian_blur(photo, sigma=sigma)
    before = psnr(blurred, photo)
    assert psnr(baselines.wiener(blurred, sigma, 0.001), photo) > before + 2  # the oracle
    assert psnr(baselines.wiener(blurred, "estimate", 0.003), photo) > before + 1  # blind
    assert baselines.estimate_blur_sigma(blurred[0]) == pytest.approx(sigma, rel=0.35)


def test_wiener_does_not_ring_at_the_borders(photo):
    """The FFT deconvolution on a mirrored margin: the border rows restore as well as the
    middle (without the margin they were 10 dB worse than the input)."""
    from ronin_lite.data import degradations as D

    blurred = D.gaussian_blur(photo, sigma=1.5)
    out = baselines.wiener(blurred, 1.5, 0.003)
    border = np.s_[:, :4]
    assert psnr(out[border], photo[border]) > psnr(blurred[border], photo[border])


def test_deblock_smooths_jpeg_block_edges(photo):
    from ronin_lite.data import degradations as D

    coded = D.jpeg(photo, quality=10)

    def edge_step(x):  # mean jump across the 8-pixel block columns, minus the one inside blocks
        grey = x[0].mean(-1)
        jumps = np.abs(np.diff(grey, axis=1))
        return jumps[:, 7::8].mean() - jumps[:, 3::8].mean()

    out = baselines.deblock(coded, "strong", 2.0)
    assert edge_step(out) < 0.5 * edge_step(coded)
    assert psnr(out, photo) > psnr(coded, photo) - 0.2  # and it does not wreck the picture
    with pytest.raises(ValueError, match="strength"):
        baselines.deblock(coded, "medium")
