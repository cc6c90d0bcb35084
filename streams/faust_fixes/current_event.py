"""Table writes of a batch agent land in the changelog partition of the batch they belong to.

Targets faust-streaming 0.15 (`faust.streams._current_event`, the context variable that
`Table.__setitem__` reads to choose the changelog partition and, for RocksDB, the store).

Why: Faust sets the "current event" per message; an agent that takes a batch with
`take_events` and writes its tables afterwards would write every state to the partition
of the batch's last event. Set per partition group, each write lands beside its source
partition, which is what recovery and a rebalance read back.

Shown by: tests/integration/test_reliability.py (kill and rebalance with 4 partitions:
every household's state is found where its next event arrives) and
tests/integration/test_pipeline.py on `rocksdb://`.
"""

from __future__ import annotations

import weakref

from faust.streams import _current_event  # the one import of a private Faust name
from faust.types import EventT

__all__ = ["set_current_event"]


def set_current_event(event: EventT) -> None:
    """Make `event` Faust's current event, so table writes go to its partition."""
    _current_event.set(weakref.ref(event))
