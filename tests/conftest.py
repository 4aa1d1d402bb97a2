"""Test-wide settings and helpers."""

import importlib.util
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One intra-op thread per test process: with two pytest workers on a 2-core machine, more
    threads only fight for the cores (small convolutions ran about 10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load_script(name: str):
    """Import ``data_scripts/<name>.py`` (not a package) as a module."""
    path = Path(__file__).parents[1] / "data_scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
