"""Retry a batch write while the database is unreachable, so no message is skipped.

The caller commits its offsets only after `write_with_retry` returns; programming
errors (bad SQL, a missing schema, a constraint) are raised at once, because
retrying them would only hide a bug.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from asyncpg import exceptions as pg
from sqlalchemy import exc as sa

from connectors.readmodel.rows import Item

OnRetry = Callable[[int, BaseException], Awaitable[None] | None]

# SQLite raises OperationalError for syntax errors and missing tables too; only these pass.
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "unable to open database",
    "disk i/o error",
    "database or disk is full",
)
_DRIVER_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, and asyncio's TimeoutError
    pg.PostgresConnectionError,  # class 08, and a connection lost mid-query
    pg.OperatorInterventionError,  # shutting down, starting up, cancelled
    pg.InsufficientResourcesError,  # too many connections, disk full
    pg.TransactionRollbackError,  # serialization failure, deadlock: the whole batch can rerun
)


class BatchWriter(Protocol):
    """Anything that writes one batch in one transaction (the read model, or a fake in tests)."""

    async def write(self, batch: Sequence[Item]) -> None:
        """Write the batch or raise."""


def is_transient(exc: BaseException) -> bool:
    """Whether the failure is the database being unavailable, so the same batch may be retried."""
    if isinstance(exc, sa.TimeoutError):  # pool exhausted while connections hang
        return True
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        if isinstance(orig, sqlite3.Error):
            return isinstance(orig, sqlite3.OperationalError) and _sqlite_transient(orig)
        if isinstance(exc, sa.OperationalError):
            return True
        # asyncpg errors arrive wrapped in SQLAlchemy's adapter; the real class is the cause.
        return _driver_transient(orig) or _driver_transient(getattr(orig, "__cause__", None))
    return _driver_transient(exc)


def _sqlite_transient(exc: sqlite3.OperationalError) -> bool:
    """Whether a SQLite operational error is about access to the file rather than the SQL."""
    message = str(exc).lower()
    return any(part in message for part in _SQLITE_TRANSIENT)


def _driver_transient(exc: BaseException | None) -> bool:
    """Whether a driver-level error is a connection or availability problem."""
    return isinstance(exc, _DRIVER_TRANSIENT)


def backoff_s(attempt: int, base_delay_s: float, max_delay_s: float, rng: random.Random) -> float:
    """Delay after failed attempt n: base·2^(n-1) capped, with jitter in its upper half."""
    cap = min(max_delay_s, base_delay_s * 2 ** min(attempt - 1, 60))
    return cap / 2 + rng.uniform(0, cap / 2)


async def write_with_retry(
    rm: BatchWriter,
    batch: Sequence[Item],
    *,
    attempts: int | None = None,
    base_delay_s: float = 0.5,
    max_delay_s: float = 30.0,
    on_retry: OnRetry | None = None,
    rng: random.Random | None = None,
) -> int:
    """Write the batch, retrying transient failures (forever by default); return the attempts used."""
    jitter = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            await rm.write(batch)
        except Exception as exc:
            if not is_transient(exc) or (attempts is not None and attempt >= attempts):
                raise
            if on_retry is not None:
                outcome = on_retry(attempt, exc)
                if inspect.isawaitable(outcome):
                    await outcome
            await asyncio.sleep(backoff_s(attempt, base_delay_s, max_delay_s, jitter))
        else:
            return attempt
