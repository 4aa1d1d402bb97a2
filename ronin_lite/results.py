"""The measured results that ship with the course: ``results/*.json``.

Every table in the README and in notebook 09 is read from a JSON file in the repository's
``results/`` folder, written by a command of ``data_scripts/`` or ``python -m
ronin_lite.evaluate`` (each file records the command that wrote it). In a clone they are read
from there; an install without the folder (Colab) downloads the file once from the release
the package belongs to, into ``$RONIN_CACHE/results`` (plain JSON data: nothing is executed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: the repository's results folder (present in a clone)
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
#: where an install without that folder reads them from (``RONIN_RESULTS_URL`` overrides)
RESULTS_URL = "https://raw.githubusercontent.com/ronin-lite/ronin-lite/v0.1.0/results"


def results_cache() -> Path:
    from .config import cache_root

    return cache_root() / "results"


def result_path(name: str, url: str | None = None) -> Path:
    """The local path of results file ``name`` (e.g. ``"eval_3d-lite_128.json"``), downloading
    it into the cache first when this install has no ``results/`` folder."""
    from .data.fetch import download

    if not name or "/" in name or "\\" in name or not name.endswith(".json"):
        raise ValueError(f"a results file is a plain *.json file name, got {name!r}")
    local = RESULTS_DIR / name
    if local.is_file():
        return local
    cached = results_cache() / name
    if cached.is_file():
        return cached
    if RESULTS_DIR.is_dir() and url is None and "RONIN_RESULTS_URL" not in os.environ:
        raise FileNotFoundError(
            f"{local} does not exist; the command that writes it is in the README's Results "
            "section (python -m ronin_lite.evaluate ... or data_scripts/...)")
    base = (url or os.environ.get("RONIN_RESULTS_URL") or RESULTS_URL).rstrip("/")
    cached.parent.mkdir(parents=True, exist_ok=True)
    part = cached.with_name(name + ".part")
    download(f"{base}/{name}", part, name, progress=False)
    try:
        json.loads(part.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        part.unlink()
        raise ValueError(f"{base}/{name} is not a JSON results file ({exc})") from None
    os.replace(part, cached)
    return cached


def load_result(name: str, url: str | None = None) -> dict:
    """Results file ``name`` parsed (see :func:`result_path`)."""
    return json.loads(result_path(name, url).read_text())
