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
