"""``pytest --nbval notebooks/``, as typed, runs the same checks as ``bash course.sh test``.

The committed outputs were made by ``python tools/notebooks.py build``: the ``tiny`` profile,
on a CPU, one thread, offline. Every kernel that nbval starts inherits this process's
environment, so the same settings are pinned here, before any kernel starts:

* ``RONIN_PROFILE=tiny`` (a GPU or an explicit ``RONIN_PROFILE`` would pick another profile,
  i.e. other experiments than the committed ones);
* ``CUDA_VISIBLE_DEVICES=""``: on a GPU machine (Colab, a workstation) the notebooks still run
  on the CPU, so they are compared with the committed CPU outputs rather than skipped;
* ``OMP_NUM_THREADS=1`` and the offline switches of the Hugging Face libraries;
* the sanitize file ``nbval_sanitize.cfg`` next to this file, unless one is given.

Numbers that depend on the floating-point kernels are not compared digit by digit: they are
printed as ``≈value`` (blanked by the sanitize file) and checked inside the notebook against a
measured tolerance (``ronin_lite/measured.py``).
"""

import os
from pathlib import Path

from ronin_lite.measured import NOTEBOOK_ENV
_overridden = {k: os.environ[k] for k in NOTEBOOK_ENV
               if k in os.environ and os.environ[k] != NOTEBOOK_ENV[k]}
os.environ.update(NOTEBOOK_ENV)


def pytest_configure(config):
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        if getattr(option, "nbval_sanitize_with", None) is None:
            option.nbval_sanitize_with = str(Path(__file__).with_name("nbval_sanitize.cfg"))


def pytest_report_header(config):
    lines = ["notebooks: compared with the committed outputs of the tiny profile on a CPU "
             "(RONIN_PROFILE=tiny, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS=1, offline)"]
    if _overridden:
        lines.append(f"notebooks: overrode {_overridden} for the notebook kernels: the committed "
                     "outputs were made with the settings above")
    return lines
