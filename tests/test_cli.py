"""One command line: `ronin-lite train | ground | evaluate | restore | fetch`."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ronin_lite import cli

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command_with_an_example(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("train", "ground", "evaluate", "restore", "fetch"):
        assert f"\n  {name} " in out and f"ronin-lite {name} " in out


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_each_command_shows_its_options_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: ronin-lite {command}") and "example" in out


def test_an_unknown_command_or_none_is_a_usage_error(capsys):
    assert cli.main(["trian"]) == 2
    assert "unknown command 'trian'" in capsys.readouterr().err
    assert cli.main([]) == 2


def test_the_console_script_and_the_old_entry_points_still_work():
    script = shutil.which("ronin-lite", path=str(Path(sys.executable).parent))
    assert script, "the package's console script is not installed"
    runs = [[script, "--help"],
            [sys.executable, "-m", "ronin_lite.infer", "restore", "--help"],
            [sys.executable, "-m", "ronin_lite.train", "--help"],
            [sys.executable, str(ROOT / "data_scripts" / "ground_split.py"), "--help"],
            [sys.executable, str(ROOT / "data_scripts" / "fetch_data.py"), "--list"]]
    for command in runs:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr[-2000:])


def test_ground_train_and_evaluate_on_the_users_own_scenes(tmp_path, capsys):
    """A folder of the user's images is a scene source for all three commands (split by
    scene), and its grounding cache does not mix with the bundled scenes' one."""
    import json

    import numpy as np
    from PIL import Image

    from ronin_lite.config import get_profile
    from ronin_lite.grounding import cache_name

    scenes = tmp_path / "my scenes"
    scenes.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        smooth = rng.random((12, 16, 3)).repeat(8, 0).repeat(8, 1)  # (96, 128, 3) blocks
        Image.fromarray((smooth * 255).astype(np.uint8)).save(scenes / f"scene{i}.png")
    root = tmp_path / "grounding"
    common = ["--benchmark", "3d-lite", "--profile", "tiny", "--scenes", str(scenes)]
    assert cli.main(["ground", *common, "--split", "train", "--clips", "4", "--describer",
                     "oracle", "--root", str(root)]) == 0
    T = get_profile("tiny").clip_len
    ours = cache_name("3d-lite", 64, 0, T, str(scenes))
    assert ours != cache_name("3d-lite", 64, 0, T) and ours.startswith(f"3d-lite_64px_T{T}_seed0_")
    assert [p.name for p in root.iterdir()] == [ours]
    run = tmp_path / "run"
    assert cli.main(["train", *common, "--steps", "2", "--batch", "2", "--describer", "oracle",
                     "--grounding-root", str(root), "--run-dir", str(run), "--quiet"]) == 0
    clip_ids = json.loads((run / "run.json").read_text())["config"]["scenes"]
    assert clip_ids == str(scenes)
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate", "--checkpoint", str(run), "--baselines", "input", "--scenes",
                     str(scenes), "--size", "32", "--clips-per-scene", "1", "--quiet",
                     "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    rows = result["methods"]["run"]["rows"]
    assert result["scenes"] == str(scenes) and rows
    assert all(r["clip_id"].split("/")[1].startswith("scene") for r in rows)
