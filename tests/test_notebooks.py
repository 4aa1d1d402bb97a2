"""The committed notebooks are what readers see: each .py source has its executed .ipynb pair,
the two hold the same cells, and every code cell was executed (so strict nbval checks them)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("notebooks_tool", ROOT / "tools" / "notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_notebook_pair_is_in_sync_and_executed():
    problems = _tool().check()
    assert not problems, "\n".join(problems)
