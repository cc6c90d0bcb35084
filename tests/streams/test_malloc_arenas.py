"""The malloc arena limit (streams/worker/malloc_arenas.py), seen in glibc's own statistics.

Each case runs in a fresh interpreter: the limit holds for a process's lifetime, and arenas
already made stay.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from streams.worker.malloc_arenas import limit_malloc_arenas

# Six threads allocate at once (so glibc would give them arenas of their own), then glibc's
# malloc_stats() lists the arenas on stderr, while the threads still hold their memory.
_THREADS_ALLOCATING = textwrap.dedent(
    """
    import ctypes, sys, threading
    from streams.worker.malloc_arenas import limit_malloc_arenas
    print(limit_malloc_arenas(int(sys.argv[1])))
    started, done = threading.Barrier(7), threading.Event()
    def work():
        kept = [bytearray(4096) for _ in range(2000)]
        started.wait()
        done.wait()
    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    started.wait()
    ctypes.CDLL("libc.so.6").malloc_stats()
    done.set()
    for thread in threads:
        thread.join()
    """
)


def _arenas(limit: int) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_ALLOCATING, str(limit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_stats")
def test_threads_allocating_at_once_share_the_arenas_the_limit_allows() -> None:
    assert _arenas(0) == ("False", 7)  # glibc's default: one arena per thread here
    assert _arenas(1) == ("True", 1)
    assert _arenas(2) == ("True", 2)


def test_no_limit_asked_changes_nothing() -> None:
    assert limit_malloc_arenas(0) is False
