"""One thread for the household fold, so the event loop answers /healthz, /metrics and heartbeats meanwhile.

The fold is synchronous Python: a deadline catch-up (one tick that moves a partition's
stream time far ahead) fires thousands of households' deadlines in one batch and took
~10-20 s. Run on the event loop, nothing else ran in that time: a 15-s Prometheus scrape
was missed and the liveness probe (/healthz, 5 s timeout) could restart a worker in the
middle of its catch-up. In a thread of its own the interpreter hands the loop the GIL
every switch interval (5 ms), which is enough for those answers.

One thread, not a pool: folds stay one at a time and in order, as on the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["FoldThread"]

P = ParamSpec("P")
R = TypeVar("R")


class FoldThread:
    """A single-thread executor for synchronous folds; `close()` once the agents have stopped."""

    def __init__(self, name: str = "household-fold") -> None:
        # The thread starts at the first `run`; an app that never folds has none.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args)` in the fold thread, in a copy of the caller's context; returns only once it has ended.

        The context carries Faust's current event (streams/faust_fixes/current_event.py), by
        which a RocksDB table reads from the batch's partition.

        Cancelled meanwhile, this still waits for `fn` to end before the cancellation goes on:
        a thread cannot be stopped, and the caller must be able to rely on the fold being over
        when it handles the cancellation (the household agent then forgets the partitions whose
        states it did not write), and nothing may read the tables after Faust has stopped them.
        A stop that waits too long is ended by the shutdown watchdog (streams/worker/shutdown.py).
        """
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: context.run(fn, *args, **kwargs)
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():
                try:
                    await asyncio.wait([future])
                except asyncio.CancelledError:
                    continue  # cancelled again: still not before the fold has ended
            if not future.cancelled():
                future.exception()  # retrieved: a fold failing during a stop is not logged as unhandled
            raise

    def close(self) -> None:
        """Stop the thread (after the fold it is running, if any)."""
        self._executor.shutdown(wait=True)
