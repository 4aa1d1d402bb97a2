"""Tests of training and checkpoints (ronin_lite.train, ronin_lite.checkpoints): exact resume,
run-folder identity, grounding-cache checks, augmentation and sharding, a 2-process torchrun
run, and checkpoint verification.

Grounding targets come from a tiny GroundingCache written with the OracleDescriber and a
*hashed bag-of-words* encoder (each word adds +-1 to a hashed dimension, then L2 norm): it has
the text encoder's interface and gives similar descriptions similar unit vectors, but loads in
no time. The real sentence encoder takes ~10 s to load on the course machine, too slow for a
unit test; the tiny CLI run in the task report uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ronin_lite.checkpoints import (
    MODEL_FILE,
    load_checkpoint,
    load_pretrained,
    resolve_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)
from ronin_lite.data.benchmarks import get_benchmark
from ronin_lite.data.datasets import TrainClips
from data_script_loader import load_script
from ronin_lite.grounding import GroundingCache, OracleDescriber, cache_name
from ronin_lite.models import RoninConfig, RoninLite
from ronin_lite.train import (
    AugmentedClips,
    ClipLoss,
    PromptTargets,
    StepBatches,
    TrainConfig,
    cosine_lr,
    dihedral,
    prepare_targets,
    read_log,
    train,
)

CROP, T, N_CLIPS = 32, 2, 16


class HashedWordsEncoder:
    """A stand-in text encoder: hashed bag of words, L2-normalised (see the module docstring)."""

    def __init__(self, dim: int = 384):
        self.dim, self.name = dim, f"test/hashed-words-{dim}"

    def encode(self, sentences: list[str]) -> np.ndarray:
        out = np.zeros((len(sentences), self.dim), np.float32)
        for i, text in enumerate(sentences):
            for word in text.lower().replace(".", " ").replace(";", " ").split():
                h = zlib.crc32(word.encode())
                out[i, h % self.dim] += 1.0 if h & (1 << 20) else -1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def ground(root: Path, dim: int = 384) -> GroundingCache:
    describer, encoder = OracleDescriber(seed=0), HashedWordsEncoder(dim)
    cache = GroundingCache(root, cache_name("3d-lite", CROP, 0, T), "train", describer.config(),
                           encoder.name)
    bench = get_benchmark("3d-lite", size=CROP, seed=0)
    clips = (bench.sample(i, "train", T, CROP) for i in range(N_CLIPS))
    cache.ground(((c.clip_id, c.degraded, c.records) for c in clips), describer, encoder,
                 progress=False)
    return cache


@pytest.fixture(scope="module")
def grounding_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("grounding")
    ground(root)
    return root


def config(tmp: Path, root: Path, **changes) -> TrainConfig:
    base = dict(profile="tiny", steps=4, batch=2, crop=CROP, clip_len=T, describer="oracle",
                grounding_root=str(root), run_dir=str(tmp / "run"), log_every=1,
                ckpt_every=100, grad_clip=0.0)  # unclipped, unlike the profile: see below
    return TrainConfig(**{**base, **changes})


@pytest.fixture(scope="module")
def straight(tmp_path_factory, grounding_root):
    """One uninterrupted 4-step run, shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("straight")
    cfg = config(tmp, grounding_root)
    return cfg, train(cfg, progress=False)


def without_time(log: list[dict]) -> list[dict]:
    return [{k: v for k, v in line.items() if k != "time"} for line in log]


# --- resume and run folders --------------------------------------------------------------------
def test_resumed_run_reproduces_the_uninterrupted_run_exactly(tmp_path, grounding_root, straight):
    cfg, full = straight
    resumed_cfg = config(tmp_path, grounding_root)
    first = train(resumed_cfg, progress=False, stop_at=2)
    assert first.step == 2 and len(first.log) == 2
    second = train(resumed_cfg, progress=False)
    assert second.step == 4
    assert without_time(second.log) == without_time(full.log)
    assert all(np.isfinite(line["loss"]) for line in full.log)
    assert full.log[0]["prompt_loss"] is not None
    a, b = full.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_finished_run_resumes_as_a_no_op(straight):
    cfg, full = straight
    again = train(cfg, progress=False)
    assert again.step == 4 and without_time(again.log) == without_time(full.log)


def test_a_run_folder_holding_another_run_is_refused(straight, grounding_root):
    cfg, _ = straight
    with pytest.raises(ValueError, match="holds another run.*lr"):
        train(TrainConfig(**{**cfg.to_dict(), "lr": 5e-4}), progress=False)
    # fields that do not change the computation may differ
    train(TrainConfig(**{**cfg.to_dict(), "log_every": 2, "num_workers": 0}), progress=False)


def test_a_folder_with_other_files_is_refused(tmp_path, grounding_root):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        train(config(tmp_path, grounding_root), progress=False)


def test_run_folder_layout_and_log(straight):
    cfg, full = straight
    run = Path(cfg.run_dir)
    assert json.loads((run / "latest.json").read_text())["step"] == 4
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-0000004"]
    assert read_log(run) == full.log
    assert [line["step"] for line in full.log] == [1, 2, 3, 4]
    assert set(full.log[0]) == {"step", "loss", "l1", "prompt_loss", "lr", "time"}
    assert full.log[0]["lr"] == cfg.lr and full.log[-1]["lr"] < cfg.lr


# --- grounding targets -------------------------------------------------------------------------
def test_a_missing_cache_fails_with_the_command_to_run(tmp_path):
    cfg = config(tmp_path, tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="(?s)--ground.*ground_split.py.*--clips 8"):
        train(cfg, progress=False)


def test_a_cache_of_another_dimension_is_refused(tmp_path):
    ground(tmp_path / "g16", dim=16)
    with pytest.raises(ValueError, match="16-d embeddings.*384-d"):
        prepare_targets(config(tmp_path, tmp_path / "g16"))


def test_a_cache_of_another_describer_is_refused(tmp_path, grounding_root):
    with pytest.raises(ValueError, match="another describer"):
        prepare_targets(config(tmp_path, grounding_root, describer="statistics"))


def test_target_normalisation_is_saved_with_the_weights(tmp_path, grounding_root, straight):
    _, full = straight
    centred = prepare_targets(config(tmp_path, grounding_root))
    standard = prepare_targets(config(tmp_path, grounding_root, target_norm="standardize"))
    raw = prepare_targets(config(tmp_path, grounding_root, target_norm="none"))
    # the statistics of the run's own frames: its 4 x 2 clips, 2 frames each (the cache holds
    # 16 clips; test_target_statistics_come_from_the_runs_own_frames checks the scope)
    table = np.stack([v for k, v in centred.cache.load_embeddings().items()
                      if int(k.split("/")[-2]) < 8])
    assert np.allclose(centred.mean.numpy(), table.mean(0), atol=1e-6)
    assert torch.equal(centred.std, torch.ones(384)) and torch.equal(raw.mean, torch.zeros(384))
    std = table.std(0)
    assert np.allclose(standard.std.numpy(), std.clip(min=0.01 * std.mean()), rtol=1e-4)
    assert torch.equal(full.model.target_mean, centred.mean)
    loaded = load_checkpoint(Path(straight[0].run_dir))
    assert torch.equal(loaded.target_mean, centred.mean)


def test_no_prompt_training_needs_no_grounding(tmp_path):
    cfg = config(tmp_path, tmp_path / "none", prompt=False, steps=1)
    assert cfg.inject == "none"
    result = train(cfg, progress=False)
    assert result.log[0]["prompt_loss"] is None and result.model.generator is None


# --- data order and augmentation ---------------------------------------------------------------
def test_augmentation_is_one_symmetry_for_every_frame_of_a_clip():
    clips = TrainClips(get_benchmark("3d-lite", size=CROP, seed=0), 8, 3, CROP)
    augmented = AugmentedClips(clips, seed=0)
    kinds = set()
    for i in range(8):
        raw, aug = clips[i], augmented[i]
        k = [k for k in range(8) if torch.equal(dihedral(raw["degraded"], k), aug["degraded"])]
        assert k and torch.equal(dihedral(raw["clean"], k[0]), aug["clean"])
        kinds.add(k[0])
        assert torch.equal(augmented[i]["degraded"], aug["degraded"])  # same index, same clip
    assert len(kinds) > 1


def test_step_batches_shard_each_global_batch_over_processes():
    shards = [list(StepBatches(1, 3, 4, rank, 2)) for rank in range(2)]
    for step, (a, b) in enumerate(zip(*shards), start=1):
        assert sorted(a + b) == list(range(step * 4, step * 4 + 4)) and not set(a) & set(b)
    with pytest.raises(ValueError, match="multiple of 3"):
        StepBatches(0, 2, 4, 0, 3)


def test_cosine_schedule_runs_from_lr_to_min_lr():
    assert cosine_lr(0, 100, 1e-3, 1e-7) == 1e-3
    assert cosine_lr(50, 100, 1e-3, 1e-7) == pytest.approx(0.5 * (1e-3 + 1e-7))
    assert cosine_lr(100, 100, 1e-3, 1e-7) == pytest.approx(1e-7)
    # warm-up: a linear ramp, then the whole cosine over the remaining steps
    assert [cosine_lr(s, 100, 1e-3, 1e-7, warmup=4) for s in range(4)] == pytest.approx(
        [2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert cosine_lr(4, 100, 1e-3, 1e-7, warmup=4) == 1e-3
    assert cosine_lr(52, 100, 1e-3, 1e-7, warmup=4) == pytest.approx(0.5 * (1e-3 + 1e-7))


def test_config_validation_and_profile_defaults():
    cfg = TrainConfig(profile="small")
    assert (cfg.steps, cfg.batch, cfg.crop, cfg.clip_len, cfg.model) == (1200, 6, 96, 2, "small")
    assert (cfg.lr, cfg.warmup, cfg.grad_clip) == (4e-3, 25, 0.01)
    assert cfg.inject == "last2" and cfg.lambda_prompt == 1.0
    with pytest.raises(ValueError, match="needs a prompt"):
        TrainConfig(profile="tiny", prompt=False, inject="last2")
    with pytest.raises(ValueError, match="learns nothing"):
        TrainConfig(profile="tiny", inject="none", lambda_prompt=0)
    with pytest.raises(ValueError, match="target_norm"):
        TrainConfig(profile="tiny", target_norm="whiten")


# --- distributed -------------------------------------------------------------------------------
def test_two_process_torchrun_trains_and_writes_one_checkpoint(tmp_path, grounding_root, straight):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "ronin_lite.train", "--profile", "tiny",
               "--steps", "2", "--batch", "2", "--crop", str(CROP), "--clip-len", str(T),
               "--describer", "oracle", "--grounding-root", str(grounding_root), "--run-dir",
               str(run), "--log-every", "1", "--device", "cpu", "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-0000002"]
    extra = verify_checkpoint(run)["extra"]
    assert extra["world_size"] == 2 and extra["step"] == 2
    log = read_log(run)
    assert [line["step"] for line in log] == [1, 2]
    # the first step sees the same weights and clips as a 1-process run with the same seed
    # (cosine schedule over 2 steps instead of 4, so only step 1 is comparable; its L1, since
    # the prompt targets are centred on each run's own clips: 4 here, 8 there)
    _, single = straight
    assert log[0]["l1"] == pytest.approx(single.log[0]["l1"], rel=1e-5)


# --- checkpoints -------------------------------------------------------------------------------
def test_the_loader_round_trips_a_model_exactly(tmp_path):
    torch.manual_seed(3)
    model = RoninLite(RoninConfig("tiny", inject="all"))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model.set_target_stats(torch.randn(384), torch.rand(384) + 0.5)
    save_checkpoint(model, tmp_path / "ckpt", config={"note": "test"}, extra={"step": 7})
    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.config == model.config
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(model(x).restored, loaded(x).restored)
    assert verify_checkpoint(tmp_path / "ckpt")["extra"] == {"step": 7}


def test_a_tampered_checkpoint_is_refused(tmp_path, straight):
    folder = tmp_path / "ckpt"
    shutil.copytree(resolve_checkpoint(straight[0].run_dir), folder)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last weight
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_checkpoint(folder)


def test_a_checkpoint_missing_a_file_or_of_another_architecture_is_refused(tmp_path, straight):
    folder = tmp_path / "ckpt"
    shutil.copytree(resolve_checkpoint(straight[0].run_dir), folder)
    (folder / "trainer.json").unlink()
    with pytest.raises(FileNotFoundError, match="trainer.json is missing"):
        load_checkpoint(folder)
    shutil.rmtree(folder)
    save_checkpoint(RoninLite(RoninConfig("tiny")), folder)
    document = json.loads((folder / "config.json").read_text())
    document["model"]["inject"] = "all"  # claims masks that the weights do not have
    (folder / "config.json").write_text(json.dumps(document))
    manifest = json.loads((folder / "manifest.json").read_text())
    from ronin_lite.checkpoints import sha256_file

    manifest["files"]["config.json"] = sha256_file(folder / "config.json")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="do not fit the architecture"):
        load_checkpoint(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        load_checkpoint(folder)


def test_load_pretrained_names_what_is_available():
    with pytest.raises(FileNotFoundError, match="available: "):
        load_pretrained("no-such-checkpoint")
    import ronin_lite

    assert ronin_lite.load_pretrained is load_pretrained


def test_targets_batch_matches_the_cache(grounding_root, tmp_path):
    targets = prepare_targets(config(tmp_path, grounding_root))
    assert isinstance(targets, PromptTargets)
    clip_id = TrainClips(get_benchmark("3d-lite", size=CROP, seed=0), 4, T, CROP)[3]["clip_id"]
    batch = targets.batch([clip_id], T)
    assert batch.shape == (1, T, 384)
    assert torch.equal(batch[0, 1], torch.from_numpy(targets.cache.lookup(clip_id, 1)))



def test_ship_checkpoint_keeps_weights_log_and_manifest(straight, tmp_path, grounding_root):
    from ronin_lite.checkpoints import load_checkpoint, verify_checkpoint

    ship = load_script("ship_checkpoint")
    cfg, result = straight
    folder = ship.ship(Path(cfg.run_dir), "mine", dest=tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "log.jsonl", "manifest.json", "model.safetensors", "run.json"]
    assert verify_checkpoint(folder)["extra"]["step"] == cfg.steps
    shipped = load_checkpoint(folder)
    for key, value in result.model.state_dict().items():
        assert torch.equal(shipped.state_dict()[key], value.cpu()), key
    with pytest.raises(FileExistsError, match="--force"):
        ship.ship(Path(cfg.run_dir), "mine", dest=tmp_path)
    # an unfinished run is refused
    partial = config(tmp_path, grounding_root, run_dir=str(tmp_path / "partial"))
    train(partial, progress=False, stop_at=2)
    with pytest.raises(ValueError, match="stopped at step 2 of 4"):
        ship.ship(tmp_path / "partial", "half", dest=tmp_path)


def test_fetch_pretrained_over_file_url_verifies_everything(tmp_path, monkeypatch):
    from ronin_lite import checkpoints as ck
    from ronin_lite.data.fetch import FetchError

    torch.manual_seed(0)
    model = RoninLite(RoninConfig("tiny"))
    server = tmp_path / "server"
    ck.save_checkpoint(model, server / "demo", files={"log.jsonl": b'{"step": 1}\n'})
    digest = ck.sha256_file(server / "demo" / "manifest.json")
    monkeypatch.setattr(ck, "PRETRAINED_MANIFESTS", {"demo": digest})
    monkeypatch.setattr(ck, "PRETRAINED_DIR", tmp_path / "no-clone")
    monkeypatch.setenv("RONIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RONIN_PRETRAINED_URL", server.as_uri())
    assert "demo" in ck.available_pretrained()
    loaded = ck.load_pretrained("demo")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    folder = tmp_path / "cache" / "checkpoints" / "demo"
    assert (folder / "log.jsonl").is_file() and not (folder.parent / "demo.partial").exists()
    # a second call reuses the verified folder (the server may be gone)
    monkeypatch.setenv("RONIN_PRETRAINED_URL", (tmp_path / "gone").as_uri())
    assert ck.fetch_pretrained("demo") == folder
    # a tampered file on the server is refused and nothing lands under the final name
    shutil.rmtree(folder)
    monkeypatch.setenv("RONIN_PRETRAINED_URL", server.as_uri())
    (server / "demo" / "model.safetensors").write_bytes(b"evil")
    with pytest.raises(FetchError, match="does not match"):
        ck.fetch_pretrained("demo")
    assert not folder.exists()
    # a manifest of another release is refused
    monkeypatch.setattr(ck, "PRETRAINED_MANIFESTS", {"demo": "0" * 64})
    with pytest.raises(FetchError, match="manifest"):
        ck.fetch_pretrained("demo")
    with pytest.raises(FileNotFoundError, match="no shipped checkpoint"):
        ck.fetch_pretrained("nothing")


def test_shipped_checkpoints_match_the_embedded_manifest_digests():
    from ronin_lite import checkpoints as ck

    from ronin_lite.lesson_runs import verify_lesson_run

    for name, digest in ck.PRETRAINED_MANIFESTS.items():
        folder = ck.PRETRAINED_DIR / name
        assert ck.sha256_file(folder / "manifest.json") == digest, name
        assert sum(f.stat().st_size for f in folder.iterdir()) < 20e6
        if name.startswith(ck.LESSON_PREFIX):  # a notebook's hand-written loop, not a RoninLite
            assert verify_lesson_run(folder)["losses"]
            continue
        model = ck.load_pretrained(name)
        twin = name.endswith("noprompt") or "-twin-" in name  # the no-prompt networks
        assert (model.generator is None) == twin, name
        assert sum(f.stat().st_size for f in folder.iterdir()) < 20e6


def test_load_or_train_loads_only_the_run_it_was_asked_for(straight, tmp_path, grounding_root,
                                                          monkeypatch, capsys):
    """A shipped run is loaded (weights and log) when it is the configured run, trained when
    any identity field differs or RONIN_RETRAIN=1 asks for it, and trained when absent."""
    from ronin_lite import checkpoints as ck
    from ronin_lite.train import load_or_train

    ship = load_script("ship_checkpoint")
    cfg, result = straight
    ship.ship(Path(cfg.run_dir), "demo-run", dest=tmp_path / "shipped")
    monkeypatch.setattr(ck, "PRETRAINED_DIR", tmp_path / "shipped")
    monkeypatch.delenv("RONIN_RETRAIN", raising=False)
    mine = config(tmp_path, grounding_root, run_dir=str(tmp_path / "mine"))  # same identity
    loaded = load_or_train(mine, shipped="demo-run", progress=False)
    assert loaded.run_dir == tmp_path / "shipped" / "demo-run" and not (tmp_path / "mine").exists()
    assert loaded.log == result.log and loaded.step == cfg.steps
    for key, value in result.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value.cpu()), key
    # another seed is another run: trained, not loaded
    other = config(tmp_path, grounding_root, run_dir=str(tmp_path / "other"), seed=1, steps=1)
    trained = load_or_train(other, shipped="demo-run", progress=False)
    assert trained.run_dir == tmp_path / "other" and "differs in seed, steps" in \
        capsys.readouterr().out
    # asked to retrain: trained
    monkeypatch.setenv("RONIN_RETRAIN", "1")
    again = config(tmp_path, grounding_root, run_dir=str(tmp_path / "again"), steps=1)
    assert load_or_train(again, shipped="demo-run", progress=False).run_dir == tmp_path / "again"
    # not shipped (and not downloadable): trained, saying why
    monkeypatch.delenv("RONIN_RETRAIN")
    absent = config(tmp_path, grounding_root, run_dir=str(tmp_path / "absent"), steps=1)
    assert load_or_train(absent, shipped="no-such-run", progress=False).run_dir == \
        tmp_path / "absent"
    assert "unavailable" in capsys.readouterr().out


def test_a_run_resumed_on_other_numerics_is_refused(straight):
    """A CPU run continued on a GPU would go on in bf16 autocast: refused, with the flags that
    continue it as it was computed."""
    cfg, _ = straight
    assert cfg.identity("cpu")["numerics"] == "cpu fp32"
    assert cfg.identity("cuda")["numerics"] == "cuda bf16 autocast"
    assert TrainConfig(**{**cfg.to_dict(), "amp": False}).identity("cuda")["numerics"] == \
        "cuda fp32"
    from ronin_lite.train import _check_run_dir

    with pytest.raises(ValueError, match=r"numerics: 'cpu fp32' there, 'cuda bf16 autocast' "
                                         r"here\) \(to continue it as it was computed: --device "
                                         r"cpu\)"):
        _check_run_dir(cfg, torch.device("cuda"))
    assert _check_run_dir(cfg, torch.device("cpu")) == Path(cfg.run_dir)


def test_records_that_travel_hold_no_machine_paths(tmp_path, monkeypatch):
    from ronin_lite.train import portable_path

    monkeypatch.setenv("RONIN_DATA", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(profile="tiny", grounding_root=str(tmp_path / "data" / "grounding"),
                      run_dir=str(tmp_path / "runs" / "a"))
    record = cfg.portable_dict()
    assert record["grounding_root"] == "$RONIN_DATA/grounding"
    assert record["run_dir"] == "runs/a"
    assert portable_path("/somewhere/else") is None and portable_path("rel/x") == "rel/x"
    assert {k: v for k, v in record.items() if k not in ("grounding_root", "run_dir")} == \
        {k: v for k, v in cfg.to_dict().items() if k not in ("grounding_root", "run_dir")}


def test_shipped_checkpoints_and_results_hold_no_absolute_paths():
    root = Path(__file__).resolve().parents[1]
    files = list((root / "results").glob("*.json")) + list((root / "checkpoints").glob("*/*.json"))
    assert files

    def strings(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)
        elif isinstance(x, str):
            yield x

    for f in files:
        absolute = [s for s in strings(json.loads(f.read_text()))
                    if s.startswith(("/home/", "/root/", "/work/", "/tmp/", "/Users/", "C:\\"))]
        assert not absolute, f"{f.name}: {absolute[:3]}"


def test_two_processes_train_the_same_weights_as_one_with_the_global_batch(tmp_path):
    """Several steps of a 2-process run (one clip per rank) end in the weights of a 1-process
    run with the same global batch of 2 clips; with one-frame clips, whose history is empty,
    so that the state alignment gets no gradient (DDP needs find_unused_parameters)."""
    from ronin_lite.checkpoints import load_any

    args = ["--profile", "tiny", "--steps", "3", "--batch", "2", "--crop", str(CROP),
            "--clip-len", "1", "--no-prompt", "--device", "cpu", "--log-every", "1", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ddp = tmp_path / "ddp"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc-per-node", "2", "-m", "ronin_lite.train", *args,
                           "--run-dir", str(ddp)], env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    one = tmp_path / "one"
    done = subprocess.run([sys.executable, "-m", "ronin_lite.train", *args, "--run-dir",
                           str(one)], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = load_any(str(ddp)).state_dict(), load_any(str(one)).state_dict()
    torch.manual_seed(0)  # the initial weights (train seeds with the profile's seed, 0)
    fresh = RoninLite(load_any(str(one)).config).state_dict()
    assert a.keys() == b.keys() == fresh.keys()
    differ = max(float((a[k] - b[k]).abs().max()) for k in a)
    moved = max(float((fresh[k] - b[k]).abs().max()) for k in b)
    # AdamW turns float noise in tiny gradients into steps of up to ~lr x 1e-2; a rank that
    # trained on its own half of the batch would differ by ~lr, like the training moves
    assert moved > 1e-3 and differ < 1e-4, (moved, differ)
    assert [x["loss"] for x in read_log(ddp)] == pytest.approx(
        [x["loss"] for x in read_log(one)], rel=1e-5)
    # a 2-process run interrupted after step 2 (--stop-at, as a time limit would) and resumed
    # by the same command ends in the uninterrupted 2-process run's weights and log, exactly
    resumed = tmp_path / "resumed"
    for extra in (["--stop-at", "2"], []):
        done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                               "--nproc-per-node", "2", "-m", "ronin_lite.train", *args,
                               "--run-dir", str(resumed), "--ckpt-every", "1", *extra],
                              env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        if extra:
            assert verify_checkpoint(resumed)["extra"]["step"] == 2
    c = load_any(str(resumed)).state_dict()
    assert all(torch.equal(a[k], c[k]) for k in a)
    assert without_time(read_log(resumed)) == without_time(read_log(ddp))


def test_a_run_resumed_inside_a_log_window_logs_what_an_uninterrupted_one_logs(
        tmp_path, grounding_root):
    """With several steps per log line, stopping mid-window must carry the window's sums and
    count over the resume (log_every=1 never exercises them)."""
    straight_run = train(config(tmp_path / "a", grounding_root, steps=6, log_every=4),
                         progress=False)
    resumed_cfg = config(tmp_path / "b", grounding_root, steps=6, log_every=4, ckpt_every=100)
    first = train(resumed_cfg, progress=False, stop_at=2)  # mid-window: step 2 of 4
    assert first.step == 2 and first.log == []
    second = train(resumed_cfg, progress=False)
    assert [x["step"] for x in second.log] == [4, 6]
    assert without_time(second.log) == without_time(straight_run.log)


def test_training_learns(tmp_path):
    """Sixty steps move the network from its initialisation towards restoring: on fixed val
    clips it scores over 1 dB better than where it started, so a frozen network, a zero
    learning rate or a detached loss fails here."""
    from ronin_lite.evaluate import restore_frames
    from ronin_lite.metrics import psnr

    cfg = TrainConfig(profile="tiny", steps=60, batch=2, crop=32, clip_len=2, prompt=False,
                      run_dir=str(tmp_path / "run"), log_every=20, ckpt_every=100, lr=2e-3)
    result = train(cfg, progress=False)
    torch.manual_seed(cfg.seed)  # the weights the run started from
    fresh = RoninLite(result.model.config)
    clips = list(get_benchmark("3d-lite", size=32, seed=0, clips_per_scene=2).clips("val", T=3))

    def score(net):
        return np.mean([psnr(restore_frames(net, c.degraded)[0], c.clean) for c in clips])

    assert score(result.model) > score(fresh) + 1.0
    assert all(np.isfinite(x["loss"]) for x in result.log)


def test_validation_while_training_logs_val_psnr_and_keeps_the_best_network(tmp_path):
    from ronin_lite.checkpoints import verify_checkpoint
    from ronin_lite.evaluate import restore_frames
    from ronin_lite.metrics import psnr

    with pytest.raises(ValueError, match="multiple of --log-every"):
        TrainConfig(profile="tiny", val_every=3, log_every=2)
    base = dict(profile="tiny", steps=6, batch=2, crop=32, clip_len=2, prompt=False,
                log_every=2, val_every=2, val_clips=2, ckpt_every=2, lr=2e-3)
    result = train(TrainConfig(**base, run_dir=str(tmp_path / "a")), progress=False)
    scores = {x["step"]: x["val_psnr"] for x in result.log}
    assert list(scores) == [2, 4, 6] and all(np.isfinite(v) for v in scores.values())
    best_step = max(scores, key=scores.get)
    kept = verify_checkpoint(tmp_path / "a" / "best")["extra"]
    assert kept["step"] == best_step and kept["val_psnr"] == scores[best_step]
    # the kept network is the one that scored it
    clips = _val_clips_of(TrainConfig(**base, run_dir=str(tmp_path / "x")))
    best_net = load_checkpoint(tmp_path / "a" / "best")
    assert np.mean([psnr(restore_frames(best_net, c.degraded)[0], c.clean) for c in clips]) == \
        pytest.approx(scores[best_step], abs=1e-6)
    # validation neither changes the training nor is lost on a resume
    plain = train(TrainConfig(**{**base, "val_every": 0}, run_dir=str(tmp_path / "b")),
                  progress=False)
    assert [x["loss"] for x in plain.log] == [x["loss"] for x in result.log]
    resumed = TrainConfig(**base, run_dir=str(tmp_path / "c"))
    train(resumed, progress=False, stop_at=4)
    again = train(resumed, progress=False)
    assert [x["val_psnr"] for x in again.log] == list(scores.values())


def _val_clips_of(cfg):
    from ronin_lite.train import validation_clips

    return validation_clips(cfg)


def test_the_training_loop_does_not_synchronise_with_the_host_every_step(tmp_path,
                                                                        grounding_root,
                                                                        monkeypatch):
    """On a GPU a host read (.item(), bool(tensor), .tolist() ...) stalls the queue of kernels.
    Counted on the CPU, in ronin_lite's own code (torch's AdamW reads its step counter, a host
    tensor by design): the reads of a run do not grow with its steps between two log lines."""
    import sys as _sys

    counts = {"n": 0}
    for name in ("item", "tolist", "__bool__", "__float__", "__int__"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, **kwargs):
            if "ronin_lite" in _sys._getframe(1).f_code.co_filename:
                counts["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    reads = {}
    for steps in (2, 8):  # one log line and one checkpoint either way (16 grounded clips)
        cfg = config(tmp_path, grounding_root, run_dir=str(tmp_path / f"run{steps}"), steps=steps,
                     log_every=steps, ckpt_every=steps)
        counts["n"] = 0
        result = train(cfg, progress=False)
        reads[steps] = counts["n"]
        assert result.model.backbone.check_values  # value checks back on for the caller
    assert reads[8] == reads[2], reads


# --- the non-blind variant: the description's embedding is the prompt (grounding study) -----
def test_describer_prompt_training_feeds_the_target_as_the_prompt(tmp_path, grounding_root):
    cfg = config(tmp_path, grounding_root, prompt_source="describer", condition="film",
                 inject="all+latent", lambda_prompt=0.0, steps=3)
    assert cfg.needs_targets  # the embeddings are needed although no prompt loss is computed
    result = train(cfg, progress=False)
    assert all(line["prompt_loss"] == 0 for line in result.log)
    model = result.model.eval()
    # the generator was never used: it received no gradient and kept its initial weights
    torch.manual_seed(cfg.seed)
    fresh = type(model)(cfg.model_config())
    assert torch.equal(fresh.generator.fc1.weight, model.generator.fc1.weight)
    # ...while the FiLM layers that read the given prompt were trained
    assert any(bool(lin.weight.abs().sum() > 0) for lin in model.injection.linears.values())
    # ClipLoss with given_prompt computes exactly model(frame, state, prompt=target)
    x = torch.rand(1, 2, 3, CROP, CROP, generator=torch.Generator().manual_seed(0))
    target = torch.randn(1, 2, 384, generator=torch.Generator().manual_seed(1))
    loss, l1, prompt_loss = ClipLoss(model, 0.0, given_prompt=True)(x, x, target)
    out0 = model(x[:, 0], None, target[:, 0])
    out1 = model(x[:, 1], out0.state, target[:, 1])
    expected = (F.l1_loss(out0.restored, x[:, 0]) + F.l1_loss(out1.restored, x[:, 1])) / 2
    assert torch.allclose(l1, expected) and prompt_loss == 0 and loss == l1


def test_describer_prompt_needs_a_prompt_path_and_is_validated(tmp_path, grounding_root):
    with pytest.raises(ValueError, match="needs the prompt path"):
        config(tmp_path, grounding_root, prompt_source="describer", prompt=False)
    with pytest.raises(ValueError, match="needs the prompt path"):
        config(tmp_path, grounding_root, prompt_source="describer", val_every=1)
    with pytest.raises(ValueError, match="unknown prompt_source"):
        config(tmp_path, grounding_root, prompt_source="oracle")
    with pytest.raises(ValueError, match="warmup"):
        config(tmp_path, grounding_root, warmup=4)


def test_target_statistics_come_from_the_runs_own_frames(grounding_root, tmp_path):
    # the cache holds 16 clips; a run of 4 steps x 2 clips uses the first 8 of them
    cfg = config(tmp_path, grounding_root)
    targets = prepare_targets(cfg)
    clips = TrainClips(get_benchmark("3d-lite", size=CROP, seed=0), N_CLIPS, T, CROP)
    ids = [clips[i]["clip_id"] for i in range(N_CLIPS)]
    own = np.stack([targets.cache.lookup(c, t) for c in ids[:8] for t in range(T)])
    every = np.stack([targets.cache.lookup(c, t) for c in ids for t in range(T)])
    assert np.allclose(targets.mean.numpy(), own.astype(np.float64).mean(0), atol=1e-6)
    assert not np.allclose(own.mean(0), every.mean(0), atol=1e-4)  # the scope matters here
    # and standardisation uses the same frames
    std = prepare_targets(config(tmp_path, grounding_root, target_norm="standardize")).std
    assert np.allclose(std.numpy(), np.maximum(own.astype(np.float64).std(0),
                                                0.01 * own.astype(np.float64).std(0).mean()),
                       atol=1e-6)


def test_adamw_decays_the_weights_of_convolutions_and_linear_layers_only():
    from torch import nn

    from ronin_lite.train import param_groups

    torch.manual_seed(0)
    model = RoninLite(RoninConfig("tiny"))
    groups = param_groups(model, 0.1)
    decayed = {id(p) for p in groups[0]["params"]}
    names = {id(p): n for n, p in model.named_parameters()}
    assert len(decayed) + len(groups[1]["params"]) == len(names)  # each parameter once
    assert groups[1]["weight_decay"] == 0.0
    for n, p in model.named_parameters():
        kind = n.rsplit(".", 1)[-1]
        if kind in ("temperature", "scale", "bias") or ".norm" in n or "norm_" in n:
            assert id(p) not in decayed, n
    convs = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert convs and all(id(w) in decayed for w in convs)
    # what it changes: with zero gradients, one AdamW step shrinks only the decayed weights
    optimizer = torch.optim.AdamW(groups, lr=0.1)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    norm_gain = "backbone.stages.latent.blocks.0.norm1.weight"
    assert torch.equal(dict(model.named_parameters())[norm_gain], before[norm_gain])
    conv = next(n for n, p in model.named_parameters() if id(p) == id(convs[0]))
    assert torch.allclose(dict(model.named_parameters())[conv], before[conv] * (1 - 0.1 * 0.1))
    # a run's identity records the rule; runs written before it decayed every parameter
    assert TrainConfig(profile="tiny").decay == "weights"
    with pytest.raises(ValueError, match="decay"):
        TrainConfig(profile="tiny", decay="norms")


def test_the_tiny_recipe_is_the_one_chosen_on_val():
    import json

    from ronin_lite.results import load_result

    cfg = TrainConfig(profile="tiny")
    # the rate: the val maximum of the sweep at the profile's shape and clipping
    chosen = load_result("grounding_study_tiny_6x2_clip0.01.json")
    sweep = chosen["lr_sweep"]
    best = max(sweep, key=lambda lr: sweep[lr]["val_psnr"])
    assert cfg.lr == float(best) == chosen["meta"]["chosen_lr"] and cfg.warmup == 25
    assert (cfg.batch, cfg.clip_len) == tuple(chosen["meta"]["shape_changes"][k]
                                              for k in ("batch", "clip_len"))
    assert cfg.grad_clip == chosen["meta"]["grad_clip"] and cfg.steps == chosen["meta"]["steps"]
    # the shape: the val maximum of the shape sweep
    shapes = load_result("grounding_study_tiny.json")["shape_sweep"]
    assert max(shapes, key=lambda s: shapes[s]["val_psnr"]) == chosen["meta"]["shape"]
    # a short run keeps its warm-up inside its steps
    assert TrainConfig(profile="tiny", steps=3).warmup == 0
    assert json.dumps(cfg.identity())  # the recipe is part of what a run computes
    # the prompt path's recipe (lambda_2, target centring) is the val rule's choice
    from ronin_lite import study

    choices = load_result("grounding_study_tiny.json")["val_choices"]
    chosen = study.grounded_choice(choices)
    changes = {} if chosen == study.CHOICE_REFERENCE else study.CHOICES[chosen]
    assert (cfg.lambda_prompt, cfg.target_norm) == (changes.get("lambda_prompt", 1.0),
                                                    changes.get("target_norm", "center"))


def test_the_grounded_choice_rule():
    from ronin_lite import study

    def entry(psnr, r2s):
        return {"psnr": {"mean": psnr}, "prompt": {str(i): {"r2": r} for i, r in enumerate(r2s)}}

    choices = {"reference_psnr": {"mean": 26.0}, "reference_prompt": {"0": {"r2": 0.3}},
               "choices": {"a": entry(27.0, [-5.0]), "b": entry(26.5, [0.1]),
                           "c": entry(26.8, [0.2, -0.01])}}
    assert study.grounded_choice(choices) == "b"  # a and c are not grounded on every seed
    choices["choices"]["b"] = entry(25.0, [0.1])
    assert study.grounded_choice(choices) == study.CHOICE_REFERENCE
    choices["reference_prompt"] = {"0": {"r2": -1.0}}
    choices["choices"].pop("b")
    with pytest.raises(ValueError, match="grounded"):
        study.grounded_choice(choices)


def test_a_finite_training_pool_is_used_in_epochs_and_grounded_once(tmp_path):
    clips = TrainClips(get_benchmark("3d-lite", size=CROP, seed=0), 3, T, CROP)
    stream = AugmentedClips(clips, seed=0, length=8)
    assert len(stream) == 8
    assert stream[4]["clip_id"] == clips[1]["clip_id"]  # position 4: clip 1, second epoch
    # one pool, one set of clips; a pool as long as the run is today's stream, bit for bit
    one_pass = AugmentedClips(TrainClips(get_benchmark("3d-lite", size=CROP, seed=0), 8, T, CROP),
                              seed=0)
    assert torch.equal(AugmentedClips(clips, 0, 8)[2]["degraded"], one_pass[2]["degraded"])
    # a run of 4 steps x 2 clips over a pool of 3: its cache holds the 3 clips' frames only
    cfg = config(tmp_path, tmp_path / "grounding", train_clips=3)
    assert cfg.pool == 3 and config(tmp_path, tmp_path / "g").pool == 8
    result = train(cfg, ground=True, progress=False)
    assert len(prepare_targets(cfg).cache.load_embeddings()) == 3 * T
    assert result.step == 4 and result.log[-1]["step"] == 4
    assert "train_clips" in json.loads((Path(cfg.run_dir) / "run.json").read_text())["identity"]
    with pytest.raises(ValueError, match="train-clips"):
        config(tmp_path, tmp_path / "g", train_clips=1)


def test_gradient_clipping_bounds_the_update_norm_and_is_off_by_default(tmp_path, grounding_root,
                                                                        monkeypatch, straight):
    """--grad-clip clips the global gradient norm before every update (Restormer's training
    code does, at 0.01); off by default, and runs recorded before the option are runs without it."""
    import ronin_lite.train as T

    seen = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = [p for p in parameters if p.grad is not None]
        norm = original(parameters, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters]))
        seen.append((float(norm), float(after), max_norm))
        return norm

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    clipped = train(config(tmp_path, grounding_root, grad_clip=1e-3), progress=False)
    assert len(seen) == 4  # once per step
    assert all(before > 1e-3 and after <= 1e-3 * 1.001 and m == 1e-3 for before, after, m in seen)
    cfg, plain = straight  # grad_clip 0: never called, and the weights differ from the clipped
    assert cfg.grad_clip == 0.0
    a, b = plain.model.state_dict(), clipped.model.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
    # a run.json written before the option existed holds no grad_clip: it is a run without
    run_file = Path(cfg.run_dir) / T.RUN_FILE
    held = json.loads(run_file.read_text())
    held["identity"].pop("grad_clip")
    old = tmp_path / "old_run.json"
    old.write_text(json.dumps(held))
    assert T._identity_differences(old, cfg) == {}
    assert "grad_clip" in T._identity_differences(old, config(tmp_path, grounding_root,
                                                              grad_clip=0.5))
    # nor a soften (sharp clean frames, every run before it was an option)
    held["identity"].pop("soften")
    old.write_text(json.dumps(held))
    assert T._identity_differences(old, cfg) == {}
    assert T._identity_differences(old, config(tmp_path, grounding_root, soften=1.0)) == \
        {"soften": (0.0, 1.0)}
    with pytest.raises(ValueError, match="soften"):
        config(tmp_path, grounding_root, soften=-1.0)
    with pytest.raises(ValueError, match="grad_clip"):
        config(tmp_path, grounding_root, grad_clip=-1.0)
    # left at None, it is the profile's: tiny and small clip at 0.01 (their recipe), full never
    assert [TrainConfig(profile=p).grad_clip for p in ("tiny", "small", "full")] == [0.01, 0.01, 0]
    assert TrainConfig(profile="tiny", grad_clip=0).grad_clip == 0


def test_the_readmes_commands_train_the_shipped_small_runs():
    """"Shipped checkpoints" in the README gives the commands that trained
    ``small-3d-lite`` and its twin. Parsed by the training CLI, each must configure the run its
    shipped ``run.json`` records (the device's numerics aside), so that a default changed later
    (AdamW's decay groups, the profile's recipe) cannot make them train another run unnoticed."""
    import re
    import shlex

    from ronin_lite import checkpoints as ck
    from ronin_lite.train import parse_command, run_differences

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Shipped checkpoints", 1)[1].split("```bash", 1)[1]
    block = section.split("```", 1)[0].replace("\\\n", " ")
    commands = [shlex.split(line) for line in block.splitlines()
                if line.startswith("python -m ronin_lite.train ")]
    assert len(commands) == 2
    for argv in commands:
        config, _ = parse_command(argv[3:])
        name = re.search(r"runs/ship/(\S+)", " ".join(argv)).group(1)
        assert run_differences(ck.PRETRAINED_DIR / name, config) == [], name


def test_runs_on_soft_clean_frames_ground_a_cache_of_their_own(tmp_path):
    """``soften`` changes the degraded frames the describer reads, so its clips are grounded in
    a cache of their own (``..._soft<sigma>``), and the command a missing cache prints says so."""
    from ronin_lite.grounding import cache_name
    from ronin_lite.grounding.ground import main as ground_main
    from ronin_lite.train import prepare_targets

    cfg = config(tmp_path, tmp_path / "g", soften=1.0)
    with pytest.raises(FileNotFoundError, match="--soften 1"):
        prepare_targets(cfg)
    prepare_targets(cfg, ground=True, progress=False)
    name = cache_name("3d-lite", CROP, 0, T, soften=1.0)
    assert [p.name for p in (tmp_path / "g").iterdir()] == [name]
    assert name == f"3d-lite_{CROP}px_T{T}_seed0_soft1"
    with pytest.raises(SystemExit, match="train only"):
        ground_main(["--split", "val", "--soften", "1", "--profile", "tiny"])
