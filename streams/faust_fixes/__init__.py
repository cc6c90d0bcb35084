"""Every patch of Faust or Kafka-client internals, in one room (README.md lists them).

Each module names the library version it targets, why it exists and the test that shows
the failure it guards against. `tests/streams/test_faust_fixes.py` fails when the installed
Faust is not a version these were checked against, so an upgrade is a deliberate review.
"""

from __future__ import annotations

from typing import Any

import faust

from connectors.kafka.security import KafkaSecurity
from streams.faust_fixes.fetch_wait import lower_fetch_wait
from streams.faust_fixes.flow_control import clear_only_on_real_resume
from streams.faust_fixes.quiet_logs import SpinnerOnlyOnATerminal
from streams.faust_fixes.true_ends import read_changelogs_to_their_true_end

__all__ = ["CHECKED_FAUST_VERSIONS", "apply_fixes"]

# The faust-streaming releases the fixes were read against and tested with.
CHECKED_FAUST_VERSIONS = frozenset({"0.15.3"})


def apply_fixes(app: faust.App, *, bootstrap: str, fetch_max_wait_ms: int, security: KafkaSecurity) -> None:
    """Apply the start-up fixes to one app (the producer fixes apply when it runs)."""
    consumer: Any = app.consumer
    lower_fetch_wait(consumer, fetch_max_wait_ms)
    clear_only_on_real_resume(app.flow_control)  # else a restart can drop events
    read_changelogs_to_their_true_end(consumer, bootstrap, security)  # else recovery can miss the last states
    conf: Any = app.conf  # the stubs type the Worker setting as a symbol, not a class
    conf.Worker = SpinnerOnlyOnATerminal  # else -l warn without a terminal makes every debug record
