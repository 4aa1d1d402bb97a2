"""Process settings that make CPU inference faster: glibc's allocator kept from page-faulting.

Not part of the paper: an engineering note on where a streaming restorer's CPU time goes.

Every frame the network allocates and frees the same few dozen feature maps, 1-16 MB each at
256x256 (``(1, 64, 256, 256)`` float32 is 16 MB). glibc's ``malloc`` serves blocks that large by
``mmap`` and gives them back to the kernel on ``free`` (and trims the top of its heap past a
threshold), so the next frame's maps are fresh pages: the kernel zeroes and maps each 4 KB page
on first touch. For the memory-bound layers of this network (depthwise and 1x1 convolutions,
norms, GELU) that first touch costs as much as the arithmetic
(``data_scripts/bench_roofline.py`` measures the whole network both ways; the README quotes it).

:func:`keep_freed_memory` asks glibc to serve large blocks from its heap and to keep what is
freed for the next frame, as PyTorch's CPU tuning guide achieves by preloading jemalloc or
tcmalloc, with no library to install. The cost: memory given back to the process is not
returned to the kernel until the process ends, so the resident size stays at its peak (the peak
itself is unchanged, see ``bench_tiling.py``). ``ronin-lite restore`` and ``ronin-lite evaluate``
call it; a notebook or script that streams many frames may call it once at the start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap: every feature map of a 256x256 frame or of a tile
#: of the default 384 px (``(1, 64, 384, 384)`` float32 is 38 MB); larger ones - whole frames
#: of a large video, ``--tile 0`` - are still mapped and returned, so that holes left in the
#: heap by freed maps of many sizes do not raise the peak memory of whole-frame restoration
MMAP_THRESHOLD = 64 << 20
#: free memory at the top of the heap kept for reuse instead of being returned to the kernel
TRIM_THRESHOLD = (1 << 31) - 1

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Serve tensors from glibc's heap and keep freed memory for reuse (Linux, glibc only).

    Returns ``True`` when the settings are in force (applied now or earlier in this process),
    ``False`` where there is no glibc (macOS, Windows, musl): nothing is changed there.
    Idempotent; affects the whole process.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt returns 1 on success, 0 on error
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied
