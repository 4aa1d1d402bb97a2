"""Writing files so that nothing half-written is ever left under a final name.

Every file the course writes that a later run trusts (checkpoints, grounding caches, manifests)
goes through a temporary file in the same folder, flushed to disk, then renamed into place with
``os.replace`` - atomic on POSIX and Windows. A run killed at any moment leaves either the old
file or the new one, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (atomic).

    The temporary file has a unique name in the same folder and is removed if the write fails.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """``data`` as indented, key-sorted JSON, written atomically."""
    write_atomic(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
