"""Fetch a real clean-video data set (DAVIS-2017, ...) for ronin-lite, with the internet.

The same as ``ronin-lite fetch`` (the code is ``ronin_lite/data/fetch.py``)::

    python data_scripts/fetch_data.py --list
    python data_scripts/fetch_data.py davis --root data/raw
    python data_scripts/fetch_data.py davis --archive ~/Downloads/DAVIS-2017-trainval-480p.zip
    python data_scripts/fetch_data.py davis-test-dev --sha256 <64 hex digits>

Downloads resume where they stopped, archives are verified by SHA-256 (published, given with
``--sha256``, or recorded in ``<root>/checksums.json`` on first download) and extracted atomically.
"""

import sys

from ronin_lite.data.fetch import main

if __name__ == "__main__":
    sys.exit(main())
