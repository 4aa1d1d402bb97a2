"""Keep the notebook pairs in order: sync, execute, check.

Every notebook is a pair: ``notebooks/NN_name.py`` (jupytext percent format, the source you
edit) and ``notebooks/NN_name.ipynb`` (generated from it, executed with the ``tiny`` profile,
committed with its outputs so GitHub and Colab readers see the plots).

    python tools/notebooks.py build [NN ...]   # .py -> .ipynb, execute (tiny, 1 thread), save
    python tools/notebooks.py check            # CI: pairs in sync, every code cell executed

``build`` writes each notebook atomically (a temporary file renamed into place), so an
interrupted build never leaves a half-executed ``.ipynb`` behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MAX_BYTES = 5 * 1024 * 1024  # committed notebooks stay light (DESIGN.md)


def sources() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def build(selected: list[str], timeout: int) -> None:
    from nbclient import NotebookClient

    # the kernel inherits the environment: the tiny profile, offline, one thread (as the tests)
    env = {"RONIN_PROFILE": "tiny", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    env_before = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for py in sources():
            if selected and not any(py.name.startswith(s) for s in selected):
                continue
            nb = jupytext.read(py)
            nb.metadata.setdefault("kernelspec", {
                "name": "python3", "display_name": "Python 3", "language": "python"})
            start = time.time()
            print(f"executing {py.name} ...", flush=True)
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
            out = py.with_suffix(".ipynb")
            tmp = out.with_suffix(".ipynb.tmp")
            nbformat.write(nb, tmp)
            os.replace(tmp, out)
            print(f"  wrote {out.name} ({out.stat().st_size / 1e6:.2f} MB, "
                  f"{time.time() - start:.0f} s)", flush=True)
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check() -> list[str]:
    problems = []
    pys = sources()
    if not pys:
        problems.append("no notebooks/NN_*.py found")
    for py in pys:
        ipynb = py.with_suffix(".ipynb")
        if not ipynb.exists():
            problems.append(f"{py.name} has no paired {ipynb.name}: run tools/notebooks.py build")
            continue
        source = jupytext.read(py)
        executed = nbformat.read(ipynb, as_version=4)
        if _cells(source) != _cells(executed):
            problems.append(f"{ipynb.name} is out of sync with {py.name}: "
                            f"run `python tools/notebooks.py build {py.name[:2]}`")
        unrun = [i for i, c in enumerate(executed.cells)
                 if c.cell_type == "code" and c.source.strip() and c.execution_count is None]
        if unrun:
            problems.append(f"{ipynb.name}: code cells {unrun} were never executed")
        errors = [i for i, c in enumerate(executed.cells) if c.cell_type == "code"
                  and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        if errors:
            problems.append(f"{ipynb.name}: code cells {errors} ended in an error")
        if ipynb.stat().st_size > MAX_BYTES:
            problems.append(f"{ipynb.name} is {ipynb.stat().st_size / 1e6:.1f} MB "
                            f"(limit {MAX_BYTES / 1e6:.0f} MB): shrink figures or videos")
    for ipynb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if not ipynb.with_suffix(".py").exists():
            problems.append(f"{ipynb.name} has no source {ipynb.with_suffix('.py').name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="sync .py -> .ipynb and execute with the tiny profile")
    b.add_argument("notebooks", nargs="*", help="number prefixes, e.g. 00 01 (default: all)")
    b.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    sub.add_parser("check", help="pairs in sync, every code cell executed, sizes")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        build(args.notebooks, args.timeout)
        return 0
    problems = check()
    for p in problems:
        print("notebook check:", p)
    if not problems:
        print(f"notebook check: {len(sources())} pairs in sync, every code cell executed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
