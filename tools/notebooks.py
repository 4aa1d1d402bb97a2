"""Keep the notebook pairs in order: sync, execute, check.

Every notebook is a pair: ``notebooks/NN_name.py`` (jupytext percent format, the source you
edit) and ``notebooks/NN_name.ipynb`` (generated from it, executed with the ``tiny`` profile,
committed with its outputs so GitHub and Colab readers see the plots).

    python tools/notebooks.py build [NN ...]   # .py -> .ipynb, execute (tiny, 1 thread), save
    python tools/notebooks.py spread [NN ...]  # re-run under other kernels and another seed,
                                               # derive each measured number's tolerance
    python tools/notebooks.py text [NN ...]    # markdown-only edits -> .ipynb, outputs kept
    python tools/notebooks.py check            # CI: pairs in sync, every code cell executed

Numbers that come out of training are printed through ``ronin_lite.measured.Measured`` (shown
as ``≈value``): ``build`` records their values as the reference, ``spread`` measures how far
they move under other CPU kernels and another seed and writes the tolerances into
``results/notebook_tolerances.json`` (see ``ronin_lite/measured.py`` for the rule). ``build``
also records in each notebook's metadata the kernel configuration it ran with.

``build`` writes each notebook atomically (a temporary file renamed into place), so an
interrupted build never leaves a half-executed ``.ipynb`` behind.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
MAX_BYTES = 5 * 1024 * 1024  # committed notebooks stay light (DESIGN.md)
TOLERANCES = ROOT / "results" / "notebook_tolerances.json"

sys.path.insert(0, str(ROOT))
#: what every notebook run inherits: the tiny profile, offline, one thread, no GPU (the
#: committed outputs are the CPU/tiny ones, wherever they are rebuilt or tested)
from ronin_lite.measured import NOTEBOOK_ENV, printed_step, tolerance_rule  # noqa: E402
from ronin_lite.io import write_json_atomic  # noqa: E402
from ronin_lite import course  # noqa: E402
#: the runs ``spread`` compares with the build (which uses the machine's native kernels):
#: ATen's unvectorised kernels with oneDNN capped at AVX2 or SSE4.1 (any x86-64 machine can
#: run these), and the native kernels with every ``config.seed_everything`` seed moved by one
KERNEL_RUNS = {
    "aten-default+onednn-avx2": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "aten-default+onednn-sse41": {"ATEN_CPU_CAPABILITY": "default",
                                  "ONEDNN_MAX_CPU_ISA": "SSE41"},
}
SEED_RUNS = {"native, seed offset 1": {"RONIN_SEED_OFFSET": "1"}}


def sources() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def kernel_configuration(env: dict | None = None) -> dict:
    """What decides the last bits of the notebooks' numbers: CPU, torch, ATen's vector kernels
    and the environment variables that cap them (read by a fresh interpreter with ``env``)."""
    probe = ("import json, platform, torch; print(json.dumps({'torch': torch.__version__, "
             "'aten_cpu_capability': torch.backends.cpu.get_cpu_capability(), "
             "'machine': platform.machine(), 'mkldnn': torch.backends.mkldnn.is_available()}))")
    full_env = {**os.environ, **NOTEBOOK_ENV, **(env or {})}
    out = json.loads(subprocess.run([sys.executable, "-c", probe], env=full_env, check=True,
                                    capture_output=True, text=True).stdout)
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), "")
    out["cpu"] = cpu
    for key in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS",
                "RONIN_SEED_OFFSET"):
        out[key] = full_env.get(key, "")
    return out


def _select(selected: list[str]) -> list[Path]:
    pys = [py for py in sources() if not selected or any(py.name.startswith(s) for s in selected)]
    if not pys:
        raise SystemExit(f"no notebook matches {selected}")
    return pys


def execute(py: Path, timeout: int, env: dict, log: Path | None = None):
    """Run ``py`` (through jupytext) in a fresh kernel with ``env`` on top of the notebook
    environment; measured numbers are appended to ``log`` and not checked (record mode)."""
    from nbclient import NotebookClient

    extra = {**NOTEBOOK_ENV, **env}
    if log is not None:
        extra.update({"RONIN_MEASURE_LOG": str(log), "RONIN_MEASURE_MODE": "record"})
    before = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)  # the kernel inherits the environment
    try:
        nb = jupytext.read(py)
        nb.metadata.setdefault("kernelspec", {
            "name": "python3", "display_name": "Python 3", "language": "python"})
        # one more cell, removed again below, reads the kernel's CPU time: the course map's
        # times (ronin_lite.course) are CPU seconds, which a busy machine does not inflate
        nb.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        probe = nb.cells.pop()
        text = "".join(o.get("text", "") for o in probe.get("outputs", []))
        nb.metadata["ronin_cpu_seconds"] = round(float(text.strip().splitlines()[-1]), 1)
        return nb
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: printed by the last (temporary) cell of a build: the kernel's CPU seconds, its own and those
#: of the processes it waited for (encoders, codecs)
CPU_PROBE = ("import resource as _r\n"
             "print(sum(u.ru_utime + u.ru_stime for u in (_r.getrusage(_r.RUSAGE_SELF), "
             "_r.getrusage(_r.RUSAGE_CHILDREN))))")


def _read_log(log: Path) -> dict:
    """``{notebook: {name: (value, fmt)}}`` from a measurement log (the last value wins)."""
    out: dict = {}
    if log.exists():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            out.setdefault(row["notebook"], {})[row["name"]] = (row["value"], row["fmt"])
    return out


@contextlib.contextmanager
def _locked():
    """One writer of the tolerances file at a time (builds of several notebooks may overlap)."""
    with open(Path(tempfile.gettempdir()) / "ronin-notebook-tolerances.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _load_tolerances() -> dict:
    if TOLERANCES.exists():
        return json.loads(TOLERANCES.read_text())
    return {"notebooks": {}}


def _save_tolerances(data: dict) -> None:
    data["about"] = (
        "Reference values of the numbers the notebooks print through ronin_lite.measured "
        "(training results, long float reductions), as the committed build measured them, and "
        "their tolerances: the rule is ronin_lite.measured.tolerance_rule (3x the largest move "
        "under other CPU kernels, 1.5x under another seed, at least two units of the last "
        "printed digit). The seed run moves every config.seed_everything seed of a notebook "
        "(its own models, draws and loops); trainings through ronin_lite.train (06, 08, 09) are "
        "seeded by their TrainConfig and move with the kernels only. Each entry's 'runs' lists "
        "the runs its tolerance rests on. Written by `python "
        "tools/notebooks.py build` (references) and `python tools/notebooks.py spread` (the "
        "other runs).")
    data["runs"] = {**KERNEL_RUNS, **SEED_RUNS}
    for entries in data["notebooks"].values():
        for e in entries.values():
            values = e.get("values", {})
            e["kernel_spread"] = max((abs(values[k] - e["reference"]) for k in KERNEL_RUNS
                                      if k in values), default=None)
            e["seed_spread"] = max((abs(values[k] - e["reference"]) for k in SEED_RUNS
                                    if k in values), default=None)
            # at least one run with other kernels is required; every run that was made counts
            # (a notebook whose trainings run through ronin_lite.train is seeded by its
            # TrainConfig, which the seed offset does not move: its seed run may be skipped;
            # "runs" in each entry says what its tolerance rests on)
            complete = any(k in values for k in KERNEL_RUNS)
            e["runs"] = sorted(values)
            e["tolerance"] = tolerance_rule(
                e["reference"], [values[k] for k in KERNEL_RUNS if k in values],
                [values[k] for k in SEED_RUNS if k in values],
                printed_step(e["fmt"], e["reference"])) if complete else None
    write_json_atomic(TOLERANCES, data)


def build(selected: list[str], timeout: int) -> None:
    kernels = kernel_configuration()
    for py in _select(selected):
        start = time.time()
        print(f"executing {py.name} ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "measured.jsonl"
            nb = execute(py, timeout, {}, log)
            measured = _read_log(log).get(py.stem, {})
        nb.metadata["ronin_build"] = {"kernels": kernels,
                                      "command": f"python tools/notebooks.py build {py.name[:2]}"}
        out = py.with_suffix(".ipynb")
        tmp_out = out.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp_out)
        os.replace(tmp_out, out)
        # the new references; runs of the old ones stay only where the reference is unchanged
        with _locked():
            _record_build(py, measured, kernels)
        print(f"  wrote {out.name} ({out.stat().st_size / 1e6:.2f} MB, "
              f"{time.time() - start:.0f} s); {len(measured)} measured numbers", flush=True)
    if course.update_readme(README, NOTEBOOKS):
        print("  README.md: course map updated with the new build times", flush=True)


def text(selected: list[str]) -> None:
    """Carry edits of the markdown cells of ``NN_name.py`` into the executed ``.ipynb`` without
    executing it again: refused when any code cell differs (then the outputs could be stale;
    run ``build``)."""
    for py in _select(selected):
        out = py.with_suffix(".ipynb")
        source = jupytext.read(py)
        executed = nbformat.read(out, as_version=4)
        code = [[c.source.strip() for c in nb.cells if c.cell_type == "code"]
                for nb in (source, executed)]
        kinds = [[c.cell_type for c in nb.cells] for nb in (source, executed)]
        if code[0] != code[1] or kinds[0] != kinds[1]:
            raise SystemExit(f"{py.name}: code cells (or the order of cells) changed, not only "
                             f"text: run `python tools/notebooks.py build {py.name[:2]}`")
        changed = 0
        for new, old in zip(source.cells, executed.cells):
            if new.cell_type == "markdown" and new.source != old.source:
                old.source = new.source
                changed += 1
        tmp_out = out.with_suffix(".ipynb.tmp")
        nbformat.write(executed, tmp_out)
        os.replace(tmp_out, out)
        print(f"{out.name}: {changed} markdown cells updated, outputs kept", flush=True)


#: a reference move below this fraction of the tolerance keeps the measured runs (see below)
NEGLIGIBLE_MOVE = 1e-3


def _record_build(py: Path, measured: dict, kernels: dict) -> None:
    data = _load_tolerances()
    old = data["notebooks"].get(py.stem, {})
    entries = {}
    for name, (value, fmt) in measured.items():
        kept = old.get(name, {})
        # a reference that moved by less than a thousandth of its tolerance (a change in the
        # last float bits, e.g. another memory layout for the same arithmetic) keeps the runs
        # its tolerance was measured with; the tolerance is recomputed around the new value
        tol = kept.get("tolerance")
        same = kept.get("fmt") == fmt and (kept.get("reference") == value or (
            tol is not None and abs(kept["reference"] - value) <= NEGLIGIBLE_MOVE * tol))
        entries[name] = {"reference": value, "fmt": fmt,
                         "values": kept.get("values", {}) if same else {}}
    if entries:
        data["notebooks"][py.stem] = entries
    else:
        data["notebooks"].pop(py.stem, None)
    data.setdefault("build", {})[py.stem] = kernels
    _save_tolerances(data)
    stale = [n for n, e in entries.items() if not e["values"]]
    if stale:
        print(f"  {len(stale)} of them have new reference values: run "
              f"`python tools/notebooks.py spread {py.name[:2]}` to measure their "
              "tolerances", flush=True)


def spread(selected: list[str], timeout: int, jobs: int, only: list[str] | None = None) -> None:
    """Re-run notebooks under :data:`KERNEL_RUNS` and :data:`SEED_RUNS` (``jobs`` at a time,
    each in its own process) and derive the tolerances of their measured numbers. ``only``:
    these runs alone (to redo one that failed; the others' values are kept)."""
    runs = {**KERNEL_RUNS, **SEED_RUNS}
    unknown = sorted(set(only or []) - set(runs))
    if unknown:
        raise SystemExit(f"unknown runs {unknown}; the runs are {sorted(runs)}")
    runs = {k: v for k, v in runs.items() if not only or k in only}
    pys = _select(selected)
    tmp = Path(tempfile.mkdtemp(prefix="ronin-spread-"))

    def one(task):
        py, run = task
        log = tmp / f"{py.stem}.{run}.jsonl"
        started = time.time()
        proc = subprocess.run(
            [sys.executable, __file__, "_execute", py.name[:2], "--log", str(log),
             "--timeout", str(timeout)],
            env={**os.environ, **runs[run]}, capture_output=True, text=True)
        status = "ok" if proc.returncode == 0 else f"FAILED\n{proc.stderr[-3000:]}"
        print(f"  {py.name} [{run}]: {time.time() - started:.0f} s {status}", flush=True)
        return py.stem, run, _read_log(log).get(py.stem, {}), proc.returncode

    tasks = [(py, run) for py in pys for run in runs]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, tasks))
    with _locked():
        _record_spread(pys, runs, results)


def _record_spread(pys, runs, results) -> None:
    data = _load_tolerances()
    failed = []
    for stem, run, measured, rc in results:
        if rc:
            failed.append(f"{stem} [{run}]")
            continue
        for name, e in data["notebooks"].get(stem, {}).items():
            if name in measured:
                e["values"][run] = measured[name][0]
    data.setdefault("spread_kernels", {}).update(
        {run: kernel_configuration(env) for run, env in runs.items()})
    _save_tolerances(data)
    for py in pys:
        for name, e in data["notebooks"].get(py.stem, {}).items():
            print(f"{py.stem}: {name}: reference {e['reference']:{e['fmt']}}, kernel spread "
                  f"{e['kernel_spread']}, seed spread {e['seed_spread']}, "
                  f"tolerance {e['tolerance']}")
    if failed:
        raise SystemExit(f"runs failed: {failed}")


def report(selected: list[str]) -> None:
    """Every measured number: reference, tolerance, and the spreads it was derived from."""
    data = _load_tolerances()
    for stem, entries in sorted(data["notebooks"].items()):
        if selected and not any(stem.startswith(x) for x in selected):
            continue
        print(f"{stem} ({len(entries)} measured numbers): reference ± tolerance "
              "[largest move under other kernels / another seed]")
        for name, e in entries.items():
            tol = "?" if e["tolerance"] is None else f"{e['tolerance']:.3g}"
            ks = "?" if e["kernel_spread"] is None else f"{e['kernel_spread']:.2g}"
            ss = "?" if e["seed_spread"] is None else f"{e['seed_spread']:.2g}"
            print(f"  {name}: {format(e['reference'], e['fmt'])} ± {tol} [{ks} / {ss}]")


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
    tolerances = _load_tolerances()["notebooks"]
    for stem, entries in tolerances.items():
        missing = [name for name, e in entries.items() if e.get("tolerance") is None]
        if missing:
            problems.append(f"{stem}: measured numbers without a tolerance {missing}: run "
                            f"`python tools/notebooks.py spread {stem[:2]}`")
    for ipynb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if not ipynb.with_suffix(".py").exists():
            problems.append(f"{ipynb.name} has no source {ipynb.with_suffix('.py').name}")
    names = {f"{lesson.number}_{lesson.stem}.py" for lesson in course.COURSE}
    if names != {py.name for py in pys}:
        problems.append(f"ronin_lite.course.COURSE lists {sorted(names)}, the notebooks are "
                        f"{sorted(py.name for py in pys)}")
    table = course.course_table(NOTEBOOKS)
    if table not in README.read_text():
        problems.append("README.md's course map differs from ronin_lite.course.course_table(): "
                        "run `python tools/notebooks.py build` for one notebook, or call "
                        "course.update_readme('README.md')")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="sync .py -> .ipynb and execute with the tiny profile")
    b.add_argument("notebooks", nargs="*", help="number prefixes, e.g. 00 01 (default: all)")
    b.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    sp = sub.add_parser("spread", help="re-run under other kernels and another seed; derive "
                                       "the tolerances of the measured numbers")
    sp.add_argument("notebooks", nargs="*", help="number prefixes (default: all)")
    sp.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    sp.add_argument("--jobs", type=int, default=2, help="notebook runs at a time")
    sp.add_argument("--runs", nargs="*", default=None,
                    help=f"only these runs (default: all of {sorted({**KERNEL_RUNS, **SEED_RUNS})})")
    ex = sub.add_parser("_execute", help=argparse.SUPPRESS)
    ex.add_argument("notebook")
    ex.add_argument("--log", type=Path, required=True)
    ex.add_argument("--timeout", type=int, default=1800)
    rp = sub.add_parser("report", help="every measured number with its tolerance and spreads")
    rp.add_argument("notebooks", nargs="*", help="number prefixes (default: all)")
    tx = sub.add_parser("text", help="carry markdown-only edits into the .ipynb, keeping its "
                                     "outputs (refused when a code cell changed)")
    tx.add_argument("notebooks", nargs="*", help="number prefixes (default: all)")
    sub.add_parser("check", help="pairs in sync, every code cell executed, sizes, the "
                                 "README's course map")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        build(args.notebooks, args.timeout)
        return 0
    if args.cmd == "spread":
        spread(args.notebooks, args.timeout, args.jobs, args.runs)
        return 0
    if args.cmd == "report":
        report(args.notebooks)
        return 0
    if args.cmd == "text":
        text(args.notebooks)
        return 0
    if args.cmd == "_execute":
        execute(_select([args.notebook])[0], args.timeout, {}, args.log)
        return 0
    problems = check()
    for p in problems:
        print("notebook check:", p)
    if not problems:
        print(f"notebook check: {len(sources())} pairs in sync, every code cell executed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
