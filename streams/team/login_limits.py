"""Login attempts limited per client address and per member: a sliding window in this worker's memory.

Every attempt counts against its client address, failed ones included; one that names a
member (a valid token) also counts against that member. A full window answers 429 with the
seconds until its oldest attempt leaves it. The counts are per worker process: with N workers
behind a load balancer an address gets at most N times the limit.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginLimiter"]

# Bounds memory under a flood of distinct addresses; the oldest keys are forgotten first.
_MAX_KEYS = 100_000


class LoginLimiter:
    """At most `max_attempts` attempts per key within `window_s` seconds.

    >>> now = [0.0]
    >>> limiter = LoginLimiter(max_attempts=2, window_s=60, clock=lambda: now[0])
    >>> limiter.record("addr:10.0.0.1"); limiter.record("addr:10.0.0.1")
    >>> limiter.retry_after_s("addr:10.0.0.1"), limiter.retry_after_s("addr:10.0.0.2")
    (60, None)
    >>> now[0] = 60.5
    >>> limiter.retry_after_s("addr:10.0.0.1") is None
    True
    """

    def __init__(
        self, *, max_attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max = max_attempts
        self._window_s = window_s
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def retry_after_s(self, *keys: str) -> int | None:
        """None when every key may try again now; else the whole seconds until all of them may."""
        now = self._clock()
        waits = [self._wait(key, now) for key in keys]
        longest = max((w for w in waits if w is not None), default=None)
        return None if longest is None else max(1, math.ceil(longest))

    def record(self, *keys: str) -> None:
        """Count one attempt against each key."""
        now = self._clock()
        for key in keys:
            window = self._attempts.pop(key, None) or deque()
            self._expire(window, now)
            window.append(now)
            self._attempts[key] = window  # re-inserted: the dict keeps keys in order of last use
        while len(self._attempts) > _MAX_KEYS:
            del self._attempts[next(iter(self._attempts))]

    def _wait(self, key: str, now: float) -> float | None:
        window = self._attempts.get(key)
        if window is None:
            return None
        self._expire(window, now)
        if not window:
            del self._attempts[key]
            return None
        if len(window) < self._max:
            return None
        return window[-self._max] + self._window_s - now

    def _expire(self, window: deque[float], now: float) -> None:
        while window and window[0] <= now - self._window_s:
            window.popleft()
