"""Which households of a partition need `advance` at which stream time.

Derived, in-memory index over the household table: the deadlines themselves
live in each household's state (persisted); this only avoids scanning every
household on every tick, and is rebuilt from the table after a rebalance.

It is the one structure a worker keeps per tracked household whatever its store
(with RocksDB the states are on disk, this is not), so it is kept small. Wakeups
fall on few distinct instants (deadlines are local day starts plus the grace:
21 distinct instants for 17,713 households in a 50,000-household bench), so
households are grouped per instant: per household a dict entry pointing at the
instant's one shared datetime and a place in its group, instead of a heap entry
(a tuple and its own datetime) per household and per change
(README "Performance", memory).
"""

from __future__ import annotations

import heapq
from datetime import datetime

# The households waiting on one instant: one key as it is (most instants have many
# households, but a set of one would cost four times a key's reference), or a set.
_Members = str | set[str]


class WakeupIndex:
    """Households by their next wakeup: a group per distinct instant, and a min-heap of the instants."""

    def __init__(self) -> None:
        self._wakeup: dict[str, datetime] = {}  # household -> its wakeup (the group's own datetime)
        self._groups: dict[datetime, tuple[datetime, _Members]] = {}  # instant -> (itself, households)
        # Instants with a group, each pushed when its group is made; one whose group emptied
        # stays until popped (a group made again for it pushes it again: popped once, skipped once).
        self._instants: list[datetime] = []

    def __len__(self) -> int:
        return len(self._wakeup)

    def set(self, key: str, wakeup: datetime | None) -> None:
        """Record the household's next wakeup (None: nothing pending)."""
        old = self._wakeup.get(key)
        if old == wakeup:
            return
        if old is not None:
            self._leave(key, old)
        if wakeup is None:
            del self._wakeup[key]
            return
        group = self._groups.get(wakeup)
        if group is None:
            self._groups[wakeup] = (wakeup, key)
            heapq.heappush(self._instants, wakeup)
            self._wakeup[key] = wakeup
            return
        instant, members = group
        if isinstance(members, str):
            self._groups[instant] = (instant, {members, key})
        else:
            members.add(key)
        self._wakeup[key] = instant

    def pop_due(self, stream_time: datetime) -> list[str]:
        """Households whose wakeup is at or before stream time, in (time, key) order."""
        due: list[str] = []
        while self._instants and self._instants[0] <= stream_time:
            group = self._groups.pop(heapq.heappop(self._instants), None)
            if group is None:
                continue  # emptied, or an instant pushed twice
            members = group[1]
            keys = [members] if isinstance(members, str) else sorted(members)
            for key in keys:
                del self._wakeup[key]
            due += keys
        return due

    def next_due(self) -> datetime | None:
        """Earliest pending wakeup, skipping instants whose group emptied."""
        while self._instants and self._instants[0] not in self._groups:
            heapq.heappop(self._instants)
        return self._instants[0] if self._instants else None

    def _leave(self, key: str, instant: datetime) -> None:
        members = self._groups[instant][1]
        if isinstance(members, str):
            del self._groups[instant]
            return
        members.discard(key)
        if len(members) == 1:
            # Back to a bare key: a set keeps its table's size after removals.
            self._groups[instant] = (self._groups[instant][0], next(iter(members)))
