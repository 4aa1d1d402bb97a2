"""Numbers that come out of training or long float reductions: shown to the reader, checked
with a tolerance that was measured, never compared digit by digit.

Why this exists. Strict nbval compares every committed output of a notebook character by
character. Shapes, counts, configurations and texts are the same on every machine; a PSNR
after 300 training steps is not: CPUs run other kernels (AVX2, AVX-512, ARM, another BLAS),
the last bits of each convolution differ, and a few hundred optimisation steps amplify them
into the printed digits. Such a number is printed through :class:`Measured` instead:

    m = Measured("06_prompt_approximation")
    m("prompt loss, last 50 steps", loss, ".4f")     # prints  prompt loss, last 50 steps: ≈0.0411

* the printed value carries ``≈``, and ``notebooks/nbval_sanitize.cfg`` blanks *only* numbers
  that follow ``≈`` - everything else in the same output is still compared exactly;
* the value is checked against the reference build's value with a tolerance read from
  ``results/notebook_tolerances.json``. That file is written by ``python tools/notebooks.py
  spread``, which re-runs the notebooks under other kernel configurations and another seed and
  derives each tolerance from the measured spread (rule: :func:`tolerance_rule`);
* the check runs in the configuration the notebooks were built in (the ``tiny`` profile on a
  CPU, as ``bash course.sh test`` and ``pytest --nbval`` run them). With a GPU or another
  profile, or with ``RONIN_RETRAIN=1`` (the notebooks train what they would otherwise load from
  a shipped run), the numbers are different experiments: they are printed, and not checked.

A failed check says what was measured, what was expected, and what to do.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

#: the environment the committed notebooks are built and tested in (tools/notebooks.py and
#: notebooks/conftest.py): the tiny profile, no GPU, one thread, offline
NOTEBOOK_ENV = {"RONIN_PROFILE": "tiny", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
#: the file of reference values and tolerances (``results/``; downloaded once outside a clone)
TOLERANCES_FILE = "notebook_tolerances.json"
#: ``RONIN_MEASURE_LOG=path``: append every measured value to this JSON-lines file
LOG_ENV = "RONIN_MEASURE_LOG"
#: ``RONIN_MEASURE_MODE=record``: print and log, but do not check (used while measuring)
MODE_ENV = "RONIN_MEASURE_MODE"


def tolerance_rule(reference: float, kernel_values: list[float], seed_values: list[float],
                   step: float) -> float:
    """The tolerance of one number, from the values measured in other runs.

    * ``3 x`` the largest move of any run with other CPU kernels (same seed) from the
      reference: machines we could not measure (AVX-512, ARM, another BLAS) may move a number
      further than the configurations we could, so three times the margin;
    * ``1.5 x`` the largest move of a run with another seed (the notebook's own initialisation
      and draws; the data stay the same): after a few hundred training steps a kernel change
      sends a run down another trajectory, much as a new seed does;
    * never less than two units of the last printed digit (``step``), for numbers that came out
      bit-identical in every measured run but need not elsewhere (an H.264 encode whose SIMD
      path differs between CPUs).
    """
    kernel = max((abs(v - reference) for v in kernel_values), default=0.0)
    seed = max((abs(v - reference) for v in seed_values), default=0.0)
    return max(3.0 * kernel, 1.5 * seed, 2.0 * step)


def printed_step(fmt: str, value: float) -> float:
    """The value of one unit in the last printed digit of ``format(value, fmt)``."""
    text = format(value, fmt).rstrip("%").strip()
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    step = 10.0 ** (-decimals) * (10.0 ** int(exponent) if exponent else 1.0)
    if fmt.endswith("%"):
        step /= 100.0
    return step


def reference_configuration() -> bool:
    """True where the committed outputs were made: the ``tiny`` profile on a CPU, with the
    shipped notebook runs loaded (``RONIN_RETRAIN=1`` trains them anew: another experiment)."""
    from . import config

    return (config.default_profile_name() == "tiny" and not config.has_gpu()
            and not config.retrain_requested())


def load_tolerances() -> dict:
    """``{notebook: {name: {"reference", "tolerance", "fmt", "values", ...}}}``."""
    from .results import RESULTS_DIR, result_path

    local = RESULTS_DIR / TOLERANCES_FILE
    path = local if local.is_file() else result_path(TOLERANCES_FILE)
    return json.loads(Path(path).read_text())["notebooks"]


class Measured:
    """Print-and-check for the numbers of one notebook (see the module's docstring)."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        self.record_only = os.environ.get(MODE_ENV, "").strip().lower() == "record"
        self.checked = reference_configuration() and not self.record_only
        self._table = None

    def _entry(self, name: str) -> dict:
        if self._table is None:
            self._table = load_tolerances().get(self.notebook, {})
        if name not in self._table:
            raise KeyError(
                f"{self.notebook}: no reference value for {name!r} in results/{TOLERANCES_FILE}."
                f" A new measured number needs one: run `python tools/notebooks.py build "
                f"{self.notebook[:2]}` and then `python tools/notebooks.py spread "
                f"{self.notebook[:2]}`")
        return self._table[name]

    def text(self, value: float, fmt: str = ".3g") -> str:
        """``≈`` + the formatted value: the form the sanitize file blanks."""
        return "≈" + format(value, fmt)

    def __call__(self, name: str, value, fmt: str = ".3g", unit: str = "",
                 show: bool = True) -> float:
        """Print ``name: ≈value unit`` (unless ``show`` is False), record it, check it; returns
        the value as a float, so that later asserts of the notebook can use it."""
        value = float(value)
        if not math.isfinite(value):
            raise AssertionError(f"{self.notebook}: {name} is {value}: the computation diverged")
        if show:
            print(f"{name}: {self.text(value, fmt)}{unit}")
        log = os.environ.get(LOG_ENV)
        if log:
            with open(log, "a") as f:
                f.write(json.dumps({"notebook": self.notebook, "name": name, "value": value,
                                    "fmt": fmt}) + "\n")
        if self.checked:
            entry = self._entry(name)
            ref, tol = entry["reference"], entry["tolerance"]
            if not abs(value - ref) <= tol:
                raise AssertionError(
                    f"{self.notebook}: {name} = {value:{fmt}}, but the reference build measured "
                    f"{ref:{fmt}} and the tolerance is ±{tol:.3g} (derived from "
                    f"{len(entry.get('values', {}))} runs with other kernels and seeds, "
                    f"results/{TOLERANCES_FILE}). If you changed the code on purpose, rebuild "
                    f"and re-measure: `python tools/notebooks.py build {self.notebook[:2]}` then "
                    f"`python tools/notebooks.py spread {self.notebook[:2]}`. If you did not, "
                    "this is a regression, or a machine that moves this number further than any "
                    "we measured: please report it with the output of "
                    "`python -c \"import torch; print(torch.__config__.show())\"`.")
        return value
