"""Which households of a partition need `advance` at which stream time.

Derived, in-memory index over the household table: the deadlines themselves
live in each household's state (persisted); this only avoids scanning every
household on every tick, and is rebuilt from the table after a rebalance.
"""

from __future__ import annotations

import heapq
from datetime import datetime


class WakeupIndex:
    """Min-heap of (wakeup time, household key) with lazy deletion of stale entries."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._current: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._current)

    def set(self, key: str, wakeup: datetime | None) -> None:
        """Record the household's next wakeup (None: nothing pending)."""
        if wakeup is None:
            self._current.pop(key, None)
            return
        if self._current.get(key) == wakeup:
            return
        self._current[key] = wakeup
        heapq.heappush(self._heap, (wakeup, key))

    def pop_due(self, stream_time: datetime) -> list[str]:
        """Households whose wakeup is at or before stream time, in (time, key) order."""
        due: list[str] = []
        while self._heap and self._heap[0][0] <= stream_time:
            wakeup, key = heapq.heappop(self._heap)
            if self._current.get(key) == wakeup:
                del self._current[key]
                due.append(key)
        return due

    def next_due(self) -> datetime | None:
        """Earliest pending wakeup, skipping stale heap entries."""
        while self._heap and self._current.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None
