"""ronin-lite: a small, readable rebuild of RONIN (arXiv 2507.14851), language-grounded
all-in-one video restoration, for the notebook course in ``notebooks/``.

Subpackages: ``data`` (scenes, clips, degradations, benchmarks), ``grounding`` (describers,
text encoder, cache), ``models`` (Turtle-style streaming U-Net, prompt modules).
"""

__version__ = "0.1.0"
