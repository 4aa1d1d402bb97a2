"""Turn a finished training run into a shippable checkpoint folder (``checkpoints/<name>/``).

Keeps what a user needs and can verify: the weights (safetensors), ``config.json`` (architecture,
training config, grounding provenance), the run's ``log.jsonl`` and ``run.json``, and a SHA-256
manifest over all of them (``ronin_lite.load_pretrained`` checks it). Leaves out the optimizer
state (twice the weights' size, only needed to resume). Refuses an unfinished run, and never
replaces an existing folder unless ``--force``::

    python data_scripts/ship_checkpoint.py runs/ship/small-3d-lite small-3d-lite
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ronin_lite.checkpoints import (PRETRAINED_DIR, load_checkpoint, resolve_checkpoint,
                                    save_checkpoint, verify_checkpoint)
from ronin_lite.train import LOG_FILE, RUN_FILE


def ship(run_dir: Path, name: str, dest: Path = PRETRAINED_DIR, force: bool = False) -> Path:
    """Copy the final checkpoint of ``run_dir`` to ``dest/name`` with the log; return it."""
    document = verify_checkpoint(run_dir)
    steps, step = document["extra"].get("steps"), document["extra"].get("step")
    if steps is None or step != steps:
        raise ValueError(f"{run_dir} stopped at step {step} of {steps}: finish the run first "
                         "(run the same training command again to resume)")
    target = dest / name
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    model = load_checkpoint(run_dir)
    files = {n: (run_dir / n).read_bytes() for n in (LOG_FILE, RUN_FILE)}
    extra = {**document["extra"], "shipped_from": resolve_checkpoint(run_dir).name}
    folder = save_checkpoint(model, target, config=document["config"], extra=extra, files=files)
    verify_checkpoint(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("name")
    p.add_argument("--dest", type=Path, default=PRETRAINED_DIR)
    p.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    try:
        folder = ship(args.run_dir, args.name, args.dest, args.force)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f"wrote {folder} ({size / 1e6:.1f} MB): "
          f"{', '.join(sorted(json.loads((folder / 'manifest.json').read_text())['files']))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
