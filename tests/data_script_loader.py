"""Import ``data_scripts/<name>.py`` (not a package) as a module, for the tests of the scripts.

A module of its own rather than a conftest helper: ``notebooks/conftest.py`` is also imported
as ``conftest``, so ``from conftest import ...`` in a test could reach the wrong one."""

import importlib.util
from pathlib import Path


def load_script(name: str):
    """Import ``data_scripts/<name>.py`` (not a package) as a module."""
    path = Path(__file__).parents[1] / "data_scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
