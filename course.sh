#!/usr/bin/env bash
# One entry point for the course on a Linux machine with Python 3.10+ (3.11 recommended).
#
#   bash course.sh lab    # set up what is missing, then start JupyterLab on notebooks/
#                         # (extra arguments go to JupyterLab: --no-browser, --port 8889, ...)
#   bash course.sh test   # set up what is missing, then run every test, notebooks included
#
# "Set up" = a virtual environment in .venv (created once) with torch==2.13.0 and this package
# installed editable with its course extra, at the versions of constraints.txt. Running it again
# only installs what is missing.
# PYTHON=/path/to/python3.11 picks the interpreter; VENV=path picks the environment folder.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[course] creating $VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
  fi
  # torch is pinned here (a CPU build on the course machines); nothing pulls torchvision. The
  # other packages at the versions the committed notebooks were built with (constraints.txt:
  # codecs and resamplers change pixels between releases); CONSTRAINTS= bash course.sh ...
  # installs the newest allowed versions instead.
  local constraints=()
  [ -n "${CONSTRAINTS-constraints.txt}" ] && constraints=(-c "${CONSTRAINTS-constraints.txt}")
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "${constraints[@]}" "torch==2.13.0" -e ".[course]"
}

case "${1:-}" in
  lab)
    setup
    shift
    # extra arguments go to JupyterLab (e.g. --no-browser --port 8889); root (containers) needs
    # --allow-root
    [ "$(id -u)" = 0 ] && set -- --allow-root "$@"
    exec "$VENV/bin/python" -m jupyterlab notebooks/ "$@"
    ;;
  test)
    setup
    # unit tests + every notebook under strict nbval (outputs compared with the committed ones),
    # run as one pytest session on 2 workers; a notebook stays on one worker (--dist loadfile).
    # notebooks/conftest.py pins what the committed outputs were made with (the tiny profile,
    # CPU only, one thread, offline, the sanitize file), so `pytest --nbval notebooks/` typed by
    # hand checks the same. One thread per worker for the unit tests too: two workers x two
    # OpenMP threads on two cores made training cells up to 15x slower.
    export RONIN_PROFILE=tiny HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=1
    # notebooks first: the longest files start early instead of closing the run on one worker
    exec "$VENV/bin/python" -m pytest -n 2 --dist loadfile notebooks tests \
        --nbval --nbval-cell-timeout=1200
    ;;
  *)
    echo "usage: bash course.sh lab|test" >&2
    exit 2
    ;;
esac
