"""ronin_lite.lesson_runs: the notebooks' hand-written training loops, shipped and loaded."""

import json

import pytest
import torch
from torch import nn

from ronin_lite import checkpoints as ck
from ronin_lite import lesson_runs as lr


def _loop(model, calls):
    def run():
        calls.append(1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        x = torch.linspace(-1, 1, 16)[:, None]
        for _ in range(5):
            loss = ((model(x) - 2 * x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    return run


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "PRETRAINED_DIR", tmp_path / "checkpoints")
    monkeypatch.delenv("RONIN_RETRAIN", raising=False)
    monkeypatch.delenv("RONIN_SEED_OFFSET", raising=False)
    return tmp_path / "checkpoints"


def test_a_shipped_run_is_loaded_only_when_it_is_the_run_asked_for(shipped, monkeypatch, capsys):
    torch.manual_seed(0)
    trained, calls = nn.Linear(1, 1), []
    identity = {"steps": 5, "lr": 0.1, "shape": (1, 1)}
    # not shipped: it trains (and with RONIN_SHIP_RUNS it is written to checkpoints/)
    monkeypatch.setenv(lr.SHIP_ENV, "1")
    losses, loaded = lr.load_or_run("lesson-demo", trained, identity, _loop(trained, calls))
    assert not loaded and len(calls) == 1 and losses[-1] < losses[0]
    assert not trained.training
    assert "not used" in capsys.readouterr().out
    monkeypatch.delenv(lr.SHIP_ENV)
    assert (shipped / "lesson-demo" / lr.WEIGHTS_FILE).is_file()
    assert not (shipped / "lesson-demo.partial").exists()

    # the same run: loaded, the loop never runs, weights and losses are the trained ones
    fresh = nn.Linear(1, 1).train()
    again, loaded = lr.load_or_run("lesson-demo", fresh, dict(identity), _loop(fresh, calls))
    assert loaded and len(calls) == 1 and again == losses and not fresh.training
    for key, value in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
    assert "loaded (5 steps)" in capsys.readouterr().out

    # another setting, another seed offset, or RONIN_RETRAIN: trained, and the reason printed
    for change, env in (({"lr": 0.2}, {}), ({}, {"RONIN_SEED_OFFSET": "1"}),
                        ({}, {"RONIN_RETRAIN": "1"})):
        with monkeypatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            model = nn.Linear(1, 1)
            _, loaded = lr.load_or_run("lesson-demo", model, {**identity, **change},
                                       _loop(model, calls))
        assert not loaded
    assert len(calls) == 4
    out = capsys.readouterr().out
    assert "differs in lr" in out and "differs in seed_offset" in out and "RONIN_RETRAIN" in out
    # and the shipped run was not replaced by those (RONIN_SHIP_RUNS was unset)
    assert lr.verify_lesson_run(shipped / "lesson-demo")["identity"]["lr"] == 0.1


def test_a_tampered_lesson_run_is_refused(shipped, monkeypatch):
    model = nn.Linear(1, 1)
    lr.save_lesson_run(model, shipped / "lesson-demo", {"a": 1}, [1.0, 0.5])
    assert lr.verify_lesson_run(shipped / "lesson-demo")["losses"] == [1.0, 0.5]
    (shipped / "lesson-demo" / lr.WEIGHTS_FILE).write_bytes(b"not weights")
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        lr.load_or_run("lesson-demo", model, {"a": 1}, lambda: [0.0])
    # a RoninLite checkpoint folder is not a lesson run, and the error says where it loads
    from ronin_lite.models import RoninConfig, RoninLite

    ck.save_checkpoint(RoninLite(RoninConfig("tiny")), shipped / "net")
    with pytest.raises(ValueError, match="not a lesson run.*load_checkpoint"):
        lr.verify_lesson_run(shipped / "net")


def test_lesson_runs_download_and_verify_and_are_not_offered_as_networks(tmp_path, monkeypatch):
    server = tmp_path / "server"
    lr.save_lesson_run(nn.Linear(2, 2), server / "lesson-demo", lr.full_identity({"a": 1}), [1.0])
    digest = ck.sha256_file(server / "lesson-demo" / ck.MANIFEST_FILE)
    monkeypatch.setattr(ck, "PRETRAINED_MANIFESTS", {"lesson-demo": digest})
    monkeypatch.setattr(ck, "PRETRAINED_DIR", tmp_path / "no-clone")
    monkeypatch.setenv("RONIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RONIN_PRETRAINED_URL", server.as_uri())
    monkeypatch.delenv("RONIN_RETRAIN", raising=False)
    monkeypatch.delenv("RONIN_SEED_OFFSET", raising=False)
    assert "lesson-demo" not in ck.available_pretrained()
    model = nn.Linear(2, 2)
    losses, loaded = lr.load_or_run("lesson-demo", model, {"a": 1}, lambda: [9.0])
    assert loaded and losses == [1.0]
    assert json.loads((tmp_path / "cache" / "checkpoints" / "lesson-demo" / lr.RUN_FILE)
                      .read_text())["architecture"] == "Linear"


def test_the_source_digest_changes_with_one_character_of_the_loop():
    namespace: dict = {}
    exec(compile("def loop():\n    return 1\n", "<cell-a>", "exec"), namespace)
    import linecache

    linecache.cache["<cell-a>"] = (0, None, ["def loop():\n", "    return 1\n"], "<cell-a>")
    first = lr.source_digest(namespace["loop"])
    linecache.cache["<cell-a>"] = (0, None, ["def loop():\n", "    return 2\n"], "<cell-a>")
    assert lr.source_digest(namespace["loop"]) != first
    assert len(first) == 16


def test_a_lesson_network_is_rebuilt_from_its_identity_with_its_weights(shipped):
    """load_lesson_network: the StreamingUNet its run.json describes, weights verified and
    loaded; other architectures are refused with a pointer to load_or_run."""
    from ronin_lite.models import BackboneConfig, StreamingUNet

    config = BackboneConfig.tiny().replace(history=False)
    torch.manual_seed(3)
    net = StreamingUNet(config)
    backbone = {k: list(v) if isinstance(v, tuple) else v
                for k, v in config.__dict__.items()}
    lr.save_lesson_run(net, shipped / "lesson-x", {"backbone": backbone, "steps": 1}, [0.5])
    loaded, document = lr.load_lesson_network("lesson-x")
    assert document["losses"] == [0.5] and not loaded.training
    frame = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(frame)[0], net.eval()(frame)[0])
    lr.save_lesson_run(nn.Linear(1, 1), shipped / "lesson-y", {"steps": 1}, [0.5])
    with pytest.raises(ValueError, match="load_or_run"):
        lr.load_lesson_network("lesson-y")
