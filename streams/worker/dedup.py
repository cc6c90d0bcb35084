"""A bounded in-memory filter of recently seen event ids at ingest.

The exact, persisted duplicate check is the household state's (bounded by the
dedup horizon in event time, survives restarts). This first filter keeps
duplicates seen by one worker in its lifetime off the internal topic, without a
changelog write per event.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """Least-recently-seen ids are forgotten first once `capacity` is reached."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __len__(self) -> int:
        return len(self._ids)

    def seen(self, key: str) -> bool:
        """True when the id was seen before; remembers it either way.

        >>> ids = RecentIds(capacity=2)
        >>> [ids.seen(k) for k in ["a", "b", "a", "c", "b"]]
        [False, False, True, False, False]
        """
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False
