"""Ground a benchmark split in language, to disk: describe every frame, embed the text.

The same as ``ronin-lite ground`` (the code is ``ronin_lite/grounding/ground.py``)::

    python data_scripts/ground_split.py --benchmark 3d-lite --split train
    python data_scripts/ground_split.py --benchmark 4d-lite --split test --describer oracle
"""

import sys

from ronin_lite.grounding.ground import main

if __name__ == "__main__":
    sys.exit(main())
