"""ronin-lite: a small, readable rebuild of RONIN (arXiv 2507.14851), language-grounded
all-in-one video restoration, for the notebook course in ``notebooks/``.

Subpackages: ``data`` (scenes, clips, degradations, benchmarks), ``grounding`` (describers,
text encoder, cache), ``models`` (Turtle-style streaming U-Net, prompt modules); ``train`` (the
training loop and its CLI, ``python -m ronin_lite.train``), ``checkpoints`` (safetensors
checkpoints; ``ronin_lite.load_pretrained(name)`` loads a shipped one).
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """Lazy exports: ``ronin_lite.load_pretrained`` without importing torch at package import."""
    if name == "load_pretrained":
        from .checkpoints import load_pretrained

        return load_pretrained
    raise AttributeError(f"module 'ronin_lite' has no attribute {name!r}")
