"""Test-wide settings and helpers."""

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
