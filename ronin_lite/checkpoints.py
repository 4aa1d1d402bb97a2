"""Checkpoints of a :class:`~ronin_lite.models.RoninLite`: safetensors + JSON + SHA-256 manifest.

RONIN (arXiv 2507.14851) releases no weights; this course ships small ones and trains its own,
so the format is ours. A checkpoint is a folder::

    model.safetensors   the weights (and the prompt-target mean / std buffers), tensors only
    config.json         {"format", "architecture": "RoninLite", "model": RoninConfig,
                         "config": how the weights were made (e.g. the training config),
                         "extra": anything else (step counters, grounding provenance)}
    manifest.json       {"files": {name: sha256}} of every other file in the folder
    (...)               any further files the writer adds (the trainer's optimizer state),
                        also listed in the manifest

Nothing is ever unpickled: weights are read with safetensors, everything else is JSON, so
loading a checkpoint from someone else cannot run code. Every file is checked against the
manifest before use, and a mismatch is refused. Files are written to a temporary name and
renamed into place, the manifest last, and the folder is built beside its final name
(``<name>.partial``) and renamed into place: a killed writer never leaves a folder that passes
verification with a mixture of two saves. (Replacing an existing folder goes through
``<name>.old``; the trainer never does it: each of its checkpoints gets a new name.)

A *run folder* (:mod:`ronin_lite.train`) holds its newest checkpoint under the name written in
``latest.json``; :func:`load_checkpoint` accepts a run folder too. :func:`load_pretrained`
loads the weights that ship with the repository, from ``checkpoints/<name>/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from .io import sha256_file, write_atomic, write_json_atomic
from .models.ronin import RoninConfig, RoninLite

FORMAT_VERSION = 1
ARCHITECTURE = "RoninLite"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"
LATEST_FILE = "latest.json"  # in a run folder: {"checkpoint": <folder inside it>, "step": ...}
#: Where the repository keeps its shipped checkpoints (one folder per name).
PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
#: Where an install without that folder downloads them from (``RONIN_PRETRAINED_URL`` overrides).
PRETRAINED_URL = "https://raw.githubusercontent.com/ronin-lite/ronin-lite/v0.1.0/checkpoints"
#: shipped folders named so are the notebooks' lesson runs (:mod:`ronin_lite.lesson_runs`)
LESSON_PREFIX = "lesson-"
#: SHA-256 of each shipped checkpoint's manifest.json: what a download is checked against.
PRETRAINED_MANIFESTS: dict[str, str] = {
    "small-3d-lite": "100251b3182715a87722766f4531ecbdb30d7d7a6832c3b164d0e034e48ae8f7",
    "small-3d-lite-noprompt": "55284d8a057940767edd18c36dc3b6909d6f0d92191c3b28c51c7a753c30a171",
    # the runs notebook 06 loads (tools/notebook_runs.py)
    "tiny-06-lambda0.01": "6556724f7fb17590e0432786ceacb57eb7fcc8b6341a503b3663a7d144d86fb6",
    "tiny-06-lambda1": "f8002c8de6f80fdebf3c3f036aa309dde385f24ded80a0f694bfc1c2b8a5195e",
    # the run notebook 09 re-evaluates (section 7)
    "tiny-09-default-seed0": "e823cbd8128f6bcacdf4f57f088da0dd001e57e75ec1a882e0d2663fc06ca29e",
    # the grounding study's shipped pair at 1,200 steps (3d-lite, tiny, FiLM): RONIN-lite and
    # its no-prompt twin, two seeds each (README, "Where does grounding help?")
    "tiny-3d-lite-film-1200-seed0":
        "9ceea9b44697a0b0c83aa5fb2ee6335b0665aaac56449ddd4fc82b4a581bed93",
    "tiny-3d-lite-film-1200-seed1":
        "595f95f046f3d8bf98ddc6dc4179c12d7bb3c3f35d3c5dfa21af534bdc1eac6a",
    "tiny-3d-lite-twin-1200-seed0":
        "4ac48b145205bfeac7dc8e2bd2551d252c00d1b8f7c04021dddd1564af471f46",
    "tiny-3d-lite-twin-1200-seed1":
        "f7a5c22250a46abb670c79980efbd271b32fe9ede7fa4c9b736250adbce12eb7",
    # the pair chosen on val (the tiny profile's recipe at 1,200 steps, each network at its own
    # val-chosen rate; the paper's masks): RONIN-lite and its twin, two seeds each
    "tiny-3d-lite-masks-1200-seed0":
        "ac3076b14926faea820980318bb3aba65e7ec8646a55c8ea7ea472c2f068e920",
    "tiny-3d-lite-masks-1200-seed1":
        "31a7a6608f63908c3563034eb5f168b7f348ab4ac8455cdcdeddb6d19ba1cbcc",
    "tiny-3d-lite-twin-1200-6x2-seed0":
        "881d8a0c634e5c091eb50a220225d5ceeb75fdb2382e6b54e0c6d0719e973344",
    "tiny-3d-lite-twin-1200-6x2-seed1":
        "bc5dc220b79abecad9ce33c9c80654457c5e2e523101622e78db7b49e988089f",
    # its control under the same rule: the prompt generator trained by the prompt loss, the
    # prompt never injected (README, "The prompt loss alone under the same rule")
    "tiny-3d-lite-promptloss-1200-seed0":
        "9b6800aec62d265b657577a56935994fa91ddbf66b91778475b5ac3eabd5b28a",
    "tiny-3d-lite-promptloss-1200-seed1":
        "f2acc3922fba85aa12106209bd971bf6cfa723fc9cffd1dac572dca11265fe38",
    # the `small` study's pair (the tiny profile's recipe at 1,200 steps, 4e-3, the paper's
    # masks): RONIN-lite and its no-prompt twin, two seeds each (README, "Shipped checkpoints")
    "small-3d-lite-masks-1200-seed0":
        "f61350905312e73498385cfea8be0f3a0fe606b6f38a08181c86b23a17e07493",
    "small-3d-lite-masks-1200-seed1":
        "521e05c482f7f974412d1c9a0abd9b094efbd40e4a0128f9b272716e69c5a8c2",
    "small-3d-lite-twin-1200-seed0":
        "2e30fa6e64970828824ba904f41605745eb0deb4c87f2fdb312b7a99a828541b",
    "small-3d-lite-twin-1200-seed1":
        "5d3cee256b35c2542da77007c70993affbbc994b15ac875ac18d2db71ed6c48f",
    # RONIN-lite of that recipe trained on soft clean frames too (TrainConfig.soften = 2, chosen
    # on val; README, "Soft clean frames"), two seeds
    "small-3d-lite-masks-soft-1200-seed0":
        "486078862f9324de3be4b3eb8ab38ca2e4522707fa17feca00859b77240d1698",
    "small-3d-lite-masks-soft-1200-seed1":
        "da6dca545b774e618ed61e3bd2b96d4ce7445241effb540faf391af74195fad0",
    # the hand-written training loops of notebooks 02 and 03 (ronin_lite.lesson_runs)
    "lesson-02-single-frame": "b3bb8f448678c6c00004c954266cc4c690af124fc9872c0f488c1e3dde90ca6a",
    "lesson-03-single-frame": "bd949b3d82da95306f82ac5ab4730677ae7f93f8756232138314b0dace74764c",
    "lesson-03-history": "1281524ff63a75cd464294f9cf467349656e60a52942956be0372acf9cfbfe8d",
}


def _plain_name(name: str, what: str) -> str:
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"{what} must be a plain file name without slashes, got {name!r}")
    return name


def save_checkpoint(model: RoninLite, path_dir: str | os.PathLike,
                    config: Mapping[str, Any] | None = None,
                    extra: Mapping[str, Any] | None = None,
                    files: Mapping[str, bytes] | None = None) -> Path:
    """Write ``model`` to the folder ``path_dir`` (replacing a checkpoint already there).

    ``config``: JSON-able description of how the weights were made (e.g. ``TrainConfig
    .to_dict()``); ``extra``: any other JSON-able record; ``files``: further files (name ->
    bytes) to store and checksum beside the weights. Returns the folder.
    """
    from safetensors.torch import save as save_tensors

    if not isinstance(model, RoninLite):
        raise TypeError(
            f"save_checkpoint saves a RoninLite, got {type(model).__name__} (unwrap "
            "DistributedDataParallel with .module first)"
        )
    final = Path(path_dir)
    files = dict(files or {})
    reserved = {MODEL_FILE, CONFIG_FILE, MANIFEST_FILE} & set(files)
    if reserved:
        raise ValueError(f"extra files may not be named {sorted(reserved)}")
    for name in files:
        _plain_name(name, "an extra file's name")
    document = {"format": FORMAT_VERSION, "architecture": ARCHITECTURE,
                "model": model.config.to_dict(), "config": dict(config or {}),
                "extra": dict(extra or {})}
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    payload = {MODEL_FILE: save_tensors(state),
               CONFIG_FILE: (json.dumps(document, indent=1, sort_keys=True) + "\n").encode(),
               **files}

    return write_manifested_folder(final, payload)


def write_manifested_folder(final: Path, payload: Mapping[str, bytes]) -> Path:
    """Write ``payload`` (file name -> bytes) and its SHA-256 manifest as the folder ``final``:
    built beside it (``<name>.partial``, the manifest last) and renamed into place, so that a
    killed writer never leaves a folder that verifies with a mixture of two saves."""
    building = final.with_name(final.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name, data in payload.items():
        write_atomic(building / name, data)
    manifest = {"format": FORMAT_VERSION,
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in payload.items()}}
    write_json_atomic(building / MANIFEST_FILE, manifest)
    if final.exists():
        old = final.with_name(final.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(building, final)
        shutil.rmtree(old)
    else:
        os.replace(building, final)
    return final


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A checkpoint folder itself, or the newest checkpoint of a run folder."""
    path = Path(path)
    if (path / LATEST_FILE).is_file():
        inner = Path(str(json.loads((path / LATEST_FILE).read_text()).get("checkpoint", "")))
        if inner.is_absolute() or ".." in inner.parts or not inner.parts:
            raise ValueError(f"{path / LATEST_FILE} must name a folder inside {path}, got "
                             f"{str(inner)!r}")
        path = path / inner
    if not path.is_dir():
        raise FileNotFoundError(f"no checkpoint folder at {path}")
    return path


def verify_manifest(path: Path, required: tuple[str, ...], what: str, hint: str = "") -> None:
    """Check every file of the folder ``path`` against its ``manifest.json``, which must list
    ``required``: refuses a folder without a manifest, a listed file that is missing, and any
    checksum mismatch (a damaged or edited file), each with a message that says what to do
    (``hint``: added where a required file is not listed, e.g. which loader reads such a folder)."""
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{path} is not a ronin_lite {what}: {MANIFEST_FILE} is missing (an "
            "interrupted save leaves no manifest; use an earlier one or save again)"
        )
    try:
        listed = json.loads(manifest_path.read_text())["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{manifest_path} is damaged ({exc}); the {what} cannot be trusted") \
            from exc
    for name in required:
        if name not in listed:
            raise ValueError(f"{manifest_path} does not list {name}: not a {what}{hint}")
    for name, expected in listed.items():
        file = path / _plain_name(name, "a manifest entry")
        if not file.is_file():
            raise FileNotFoundError(f"{what} {path} is incomplete: {name} is missing")
        actual = sha256_file(file)
        if actual != expected:
            raise ValueError(
                f"{what} {path}: {name} does not match its SHA-256 in {MANIFEST_FILE} "
                f"(expected {expected[:16]}..., got {actual[:16]}...). The file was changed "
                "or damaged; refusing to load it. Restore it from its source or retrain"
            )


def verify_checkpoint(path: str | os.PathLike) -> dict:
    """Check every file of a checkpoint against its manifest; return its ``config.json``.

    Refuses a folder without a manifest, a listed file that is missing, and any checksum
    mismatch (a damaged or edited file), each with a message that says what to do.
    """
    path = resolve_checkpoint(path)
    verify_manifest(path, (MODEL_FILE, CONFIG_FILE), "RoninLite checkpoint")
    document = json.loads((path / CONFIG_FILE).read_text())
    if not isinstance(document, dict) or not isinstance(document.get("model"), dict):
        raise ValueError(f"{path / CONFIG_FILE} has no model configuration: not a RoninLite "
                         "checkpoint")
    if document.get("architecture") != ARCHITECTURE:
        raise ValueError(
            f"checkpoint {path} holds a {document.get('architecture')!r} model, not "
            f"{ARCHITECTURE}; load it with the code that wrote it"
        )
    if document.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"checkpoint {path} has format {document.get('format')!r}; this version of "
            f"ronin_lite reads format {FORMAT_VERSION}"
        )
    return document


def load_checkpoint(path_dir: str | os.PathLike,
                    device: torch.device | str = "cpu") -> RoninLite:
    """Verify, rebuild the architecture from ``config.json`` and load the weights strictly.

    ``path_dir``: a checkpoint folder or a run folder (its newest checkpoint). The model comes
    back in eval mode on ``device``; :func:`verify_checkpoint` gives the rest of ``config.json``.
    """
    from safetensors.torch import load_file

    path = resolve_checkpoint(path_dir)
    document = verify_checkpoint(path)
    model = RoninLite(RoninConfig.from_dict(document["model"]))
    state = load_file(str(path / MODEL_FILE), device="cpu")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"the weights in {path / MODEL_FILE} do not fit the architecture described by its "
            f"{CONFIG_FILE}: {str(exc).splitlines()[0]} ... (was the checkpoint assembled "
            "from different runs?)"
        ) from exc
    return model.to(device).eval()


def available_pretrained() -> list[str]:
    """Names of the RoninLite checkpoints that ship in the repository's ``checkpoints/`` folder
    (a clone), or that :func:`fetch_pretrained` can download (any install). The notebooks'
    lesson runs (``lesson-*``, :mod:`ronin_lite.lesson_runs`) are not networks to restore with
    and are left out."""
    local = {p.name for p in PRETRAINED_DIR.iterdir() if (p / MANIFEST_FILE).is_file()} \
        if PRETRAINED_DIR.is_dir() else set()
    return sorted(n for n in local | set(PRETRAINED_MANIFESTS) if not n.startswith(LESSON_PREFIX))


def pretrained_cache() -> Path:
    """Where downloaded checkpoints are kept: ``$RONIN_CACHE/checkpoints`` (default
    ``~/.cache/ronin-lite/checkpoints``)."""
    from .config import cache_root

    return cache_root() / "checkpoints"


def _manifest_digest(folder: Path) -> str | None:
    path = folder / MANIFEST_FILE
    return sha256_file(path) if path.is_file() else None


def fetch_pretrained(name: str, url: str | None = None, cache: str | os.PathLike | None = None,
                     progress: bool = True, verify: Callable[[Path], Any] | None = None) -> Path:
    """Download shipped checkpoint ``name`` (for an install without the repository's
    ``checkpoints/`` folder, e.g. Colab) and return its verified folder (``verify``: the check
    of the folder's format, :func:`verify_checkpoint` by default; the notebooks' lesson runs
    pass :func:`ronin_lite.lesson_runs.verify_lesson_run`).

    The trust anchor is :data:`PRETRAINED_MANIFESTS`, the SHA-256 of each checkpoint's
    ``manifest.json`` written into this package: the manifest is downloaded and checked against
    it, then every file against the manifest, into ``<name>.partial`` beside the final folder,
    renamed into place when complete. A folder already there and intact is reused.
    """
    from .data.fetch import FetchError, download

    if name not in PRETRAINED_MANIFESTS:
        raise FileNotFoundError(f"no shipped checkpoint named {name!r}; known: "
                                f"{', '.join(sorted(PRETRAINED_MANIFESTS)) or 'none'}")
    expected = PRETRAINED_MANIFESTS[name]
    verify = verify or verify_checkpoint
    root = Path(cache) if cache is not None else pretrained_cache()
    target = root / name
    if _manifest_digest(target) == expected:
        verify(target)
        return target
    base = (url or os.environ.get("RONIN_PRETRAINED_URL") or PRETRAINED_URL).rstrip("/")
    building = root / f"{name}.partial"
    building.mkdir(parents=True, exist_ok=True)
    part = building / f"{MANIFEST_FILE}.part"
    download(f"{base}/{name}/{MANIFEST_FILE}", part, name, progress=False)
    if sha256_file(part) != expected:
        part.unlink()
        raise FetchError(f"the manifest of {name!r} downloaded from {base} does not match the "
                         "SHA-256 this version of ronin_lite expects: refusing it (a different "
                         "release, or a damaged or altered copy)")
    listed = json.loads(part.read_text())["files"]
    for file, digest in listed.items():
        _plain_name(file, "a manifest entry")
        if (building / file).is_file() and sha256_file(building / file) == digest:
            continue  # kept from an interrupted earlier try
        file_part = building / f"{file}.part"
        download(f"{base}/{name}/{file}", file_part, name, progress=progress)
        if sha256_file(file_part) != digest:
            file_part.unlink()
            raise FetchError(f"{file} of {name!r} from {base} does not match its SHA-256 in "
                             "the manifest: refusing it; run again to retry")
        os.replace(file_part, building / file)
    os.replace(part, building / MANIFEST_FILE)
    verify(building)
    if target.exists():
        shutil.rmtree(target)
    os.replace(building, target)
    return target


def pretrained_folder(name: str, verify: Callable[[Path], Any] | None = None) -> Path:
    """The folder of shipped checkpoint ``name``: the repository's ``checkpoints/<name>/`` in a
    clone, otherwise downloaded once (:func:`fetch_pretrained`, which checks a download with
    ``verify``). A local folder is not verified here (:func:`load_checkpoint` verifies what it
    loads)."""
    local = PRETRAINED_DIR / name
    if (local / MANIFEST_FILE).is_file():
        return local
    if name not in PRETRAINED_MANIFESTS:
        listing = ", ".join(available_pretrained()) or "none ship with this copy yet"
        raise FileNotFoundError(
            f"no pretrained checkpoint {name!r} (available: {listing}). Train one with "
            "`ronin-lite train --profile small --run-dir runs/small` and load it with "
            "ronin_lite.checkpoints.load_checkpoint('runs/small')"
        )
    return fetch_pretrained(name, verify=verify)


def load_pretrained(name: str, device: torch.device | str = "cpu") -> RoninLite:
    """A shipped checkpoint by name, verified and loaded (:func:`pretrained_folder`)."""
    return load_checkpoint(pretrained_folder(name), device)


def load_any(spec: str | os.PathLike, device: torch.device | str = "cpu") -> RoninLite:
    """A network from a shipped name (:func:`load_pretrained`), a checkpoint folder or a
    training run folder (:func:`load_checkpoint`): what the command lines accept."""
    if str(spec) in available_pretrained():
        return load_pretrained(str(spec), device)
    if not Path(spec).exists():
        raise FileNotFoundError(f"{str(spec)!r} is neither a shipped checkpoint ("
                                f"{', '.join(available_pretrained()) or 'none here'}) nor a "
                                "checkpoint or run folder")
    return load_checkpoint(spec, device)
