"""The notebooks' hand-written training loops, shipped: trained once, loaded in seconds after.

Notebooks 02 and 03 write their training loops out in full (the loop is the lesson: L1 loss,
AdamW, a cosine schedule, frame by frame with the causal state), and each loop takes minutes on
a CPU. :func:`load_or_run` lets a notebook keep its loop *and* show its result in seconds: the
notebook passes the network it built, the loop as a function, and the run's **identity** (every
setting the loop reads, plus a digest of the loop's own source code, :func:`source_digest`).
When ``checkpoints/<name>/`` holds a run of exactly that identity, its weights are loaded into
the network and its loss log is returned; otherwise the loop runs. Change a setting, or one
character of the loop, and the run is trained again; ``RONIN_RETRAIN=1`` trains it anyway.
The notebook prints which happened, so strict nbval notices a notebook whose loop drifted from
its shipped run (instead of silently training for minutes).

A lesson run is a folder (the format of :mod:`ronin_lite.checkpoints`, for a network the
notebook builds itself rather than a :class:`~ronin_lite.models.RoninLite`)::

    weights.safetensors   the trained network's state_dict (tensors only, never unpickled)
    run.json              {"format", "architecture", "identity", "losses": [per step], "seconds"}
    manifest.json         {"format", "files": {name: sha256}}

Shipping: run the notebook with ``RONIN_SHIP_RUNS=1`` (``python tools/notebook_runs.py
lesson-03-history``, which executes the notebook headless) and the runs it trains are written to
``checkpoints/<name>/`` (built beside and renamed into place); their manifest digests go into
:data:`ronin_lite.checkpoints.PRETRAINED_MANIFESTS`, so that an install without the repository
(Colab) downloads and verifies them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from torch import nn

from . import checkpoints as ck
from .config import retrain_requested

FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
RUN_FILE = "run.json"
#: set to anything but empty or ``0``: the runs a notebook trains are written to checkpoints/
SHIP_ENV = "RONIN_SHIP_RUNS"


def source_digest(*functions: Callable) -> str:
    """SHA-256 (16 hex digits) of the source code of ``functions``: a run's identity holds it,
    so that an edited training loop is not mistaken for the shipped one. Works for functions
    defined in notebook cells (IPython keeps their source)."""
    h = hashlib.sha256()
    for fn in functions:
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()[:16]


def _jsonable(identity: Mapping[str, Any]) -> dict:
    # tuples become lists, as they come back from run.json
    return json.loads(json.dumps(dict(identity), sort_keys=True))


def full_identity(identity: Mapping[str, Any]) -> dict:
    """``identity`` with what the environment adds: the seed offset of ``RONIN_SEED_OFFSET``
    (``tools/notebooks.py spread`` moves every seed by one; such a run is another run)."""
    return _jsonable({**identity, "seed_offset": int(os.environ.get("RONIN_SEED_OFFSET", "0"))})


def verify_lesson_run(folder: str | os.PathLike) -> dict:
    """Check every file of a lesson run against its manifest; return its ``run.json``."""
    folder = Path(folder)
    ck.verify_manifest(folder, (WEIGHTS_FILE, RUN_FILE), "lesson run",
                       " (a RoninLite checkpoint loads with ronin_lite.checkpoints.load_checkpoint)")
    document = json.loads((folder / RUN_FILE).read_text())
    if document.get("format") != FORMAT_VERSION:
        raise ValueError(f"lesson run {folder} has format {document.get('format')!r}; this "
                         f"version of ronin_lite reads format {FORMAT_VERSION}")
    return document


def save_lesson_run(model: nn.Module, folder: str | os.PathLike, identity: Mapping[str, Any],
                    losses: list[float], seconds: float | None = None) -> Path:
    """Write a trained network and its loss log as a lesson run (replacing one there)."""
    from safetensors.torch import save as save_tensors

    final = Path(folder)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    document = {"format": FORMAT_VERSION, "architecture": type(model).__name__,
                "identity": _jsonable(identity), "losses": [float(x) for x in losses],
                "seconds": seconds}
    payload = {WEIGHTS_FILE: save_tensors(state),
               RUN_FILE: (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()}
    return ck.write_manifested_folder(final, payload)


def _differences(shipped: Mapping, wanted: Mapping) -> list[str]:
    return sorted(k for k in set(shipped) | set(wanted) if shipped.get(k) != wanted.get(k))


def load_lesson_network(name: str) -> tuple[nn.Module, dict]:
    """A shipped lesson run's trained network, for another notebook to compare with: the
    :class:`~ronin_lite.models.StreamingUNet` its identity's ``backbone`` describes, with the
    run's weights (checksums verified), in eval mode, and the run's ``run.json``."""
    from safetensors.torch import load_file

    from .models import BackboneConfig, StreamingUNet

    folder = ck.pretrained_folder(name, verify=verify_lesson_run)
    document = verify_lesson_run(folder)
    if document.get("architecture") != "StreamingUNet" or "backbone" not in document["identity"]:
        raise ValueError(f"lesson run {name!r} is a {document.get('architecture')}, not a "
                         "StreamingUNet with its backbone in the identity: build the network "
                         "yourself and use load_or_run")
    backbone = dict(document["identity"]["backbone"])
    backbone = {k: tuple(v) if isinstance(v, list) else v for k, v in backbone.items()}
    model = StreamingUNet(BackboneConfig(**backbone))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device="cpu"), strict=True)
    return model.eval(), document


def load_or_run(name: str, model: nn.Module, identity: Mapping[str, Any],
                run: Callable[[], list[float]], dest: str | os.PathLike | None = None
                ) -> tuple[list[float], bool]:
    """Train ``model`` with ``run()`` (which returns the per-step losses), or load the shipped
    lesson run ``name`` into it when that run has this ``identity``. Returns the losses and
    whether the shipped run was loaded; the model ends in eval mode either way. Prints which
    happened and why.

    ``dest``: where ``RONIN_SHIP_RUNS=1`` writes a trained run (default ``checkpoints/``).
    """
    from safetensors.torch import load_file

    from .data.fetch import FetchError

    wanted = full_identity(identity)
    reason = "RONIN_RETRAIN is set"
    if not retrain_requested():
        try:
            folder = ck.pretrained_folder(name, verify=verify_lesson_run)
        except (OSError, FetchError) as exc:  # not shipped here, or no internet
            reason = f"unavailable: {str(exc).splitlines()[0]}"
        else:
            document = verify_lesson_run(folder)
            differs = _differences(document["identity"], wanted)
            if not differs:
                state = load_file(str(folder / WEIGHTS_FILE), device="cpu")
                device = next(iter(model.parameters())).device
                model.load_state_dict(state, strict=True)
                model.to(device).eval()
                print(f"shipped run {name!r} loaded ({len(document['losses'])} steps)")
                return list(document["losses"]), True
            reason = f"another run: differs in {', '.join(differs)}"
    print(f"shipped run {name!r} not used ({reason}): training it here")
    start = time.perf_counter()
    model.train()
    losses = [float(x) for x in run()]
    model.eval()
    if os.environ.get(SHIP_ENV, "") not in ("", "0"):
        folder = save_lesson_run(model, Path(dest or ck.PRETRAINED_DIR) / name, wanted, losses,
                                 round(time.perf_counter() - start, 1))
        print(f"shipped to {folder}")
    return losses, False
