"""A bounded shutdown: the worker process is gone within `shutdown_grace_s` of being told to stop.

Faust stops in order: it waits until every message an agent has started on is
acknowledged (`stream_wait_empty`), commits the offsets, flushes the producer. That
wait has no bound. A sink retrying an unreachable database never acknowledges its
batch, and a message delivered to two agents whose second copy Faust dropped from a
buffer is never acknowledged at all; either way SIGTERM would hang until the
orchestrator kills the process. The watchdog ends it at the grace instead, with a
code of its own. Nothing is lost by that: offsets are committed only for acknowledged
work, so a restart re-reads the rest and the outputs' deterministic ids absorb it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

# EX_TEMPFAIL: stopped, but not cleanly; the next start re-reads what was not committed.
SHUTDOWN_OVERRUN_EXIT = 75

Exit = Callable[[int], object]


def arm_watchdog(grace_s: float, *, exit: Exit = os._exit) -> threading.Timer:
    """Start a timer that ends the process after `grace_s`; cancel it once the stop completed.

    A thread, not an asyncio task: it must fire even when the event loop is the thing stuck.
    """
    timer = threading.Timer(grace_s, _overrun, args=(grace_s, exit))
    timer.daemon = True  # never keeps a finished process alive
    timer.start()
    return timer


def _overrun(grace_s: float, exit: Exit) -> None:
    # Straight to the file descriptor: the logging lock may be held by the stuck thread.
    message = (
        f"vroegsignaal: shutdown did not finish within shutdown_grace_s={grace_s:g}s; "
        f"exiting with code {SHUTDOWN_OVERRUN_EXIT} (uncommitted input is re-read on restart)\n"
    )
    os.write(2, message.encode())
    exit(SHUTDOWN_OVERRUN_EXIT)
