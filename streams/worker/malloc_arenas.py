"""How many malloc arenas the process may use: glibc's default (eight per core) costs a worker memory.

glibc gives a thread that finds the main arena busy an arena of its own, up to eight per
core, and memory freed into one arena is not reused by another. The worker has several
threads that allocate: the household fold's (streams/worker/fold_thread.py), RocksDB's and
the event loop. Measured with one worker at 100,000 households (the memory step of `make
bench`): 1.55-2.07 KiB per household with glibc's default (four runs), 1.62-1.94 with two arenas
(the fold thread then keeps one of its own), 1.35-1.75 with one (five runs; README "Performance"). The
threads share one lock then, but Python code runs one thread at a time anyway. Set before the
worker starts its threads (`streams.cli.main`); an operator's `MALLOC_ARENA_MAX` is overridden
unless the setting is 0. Not glibc (musl): nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["limit_malloc_arenas"]

_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(count: int) -> bool:
    """At most `count` malloc arenas from now on (0: leave the C library's default); True if applied."""
    if count <= 0:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))
