"""The read model's database side: open an engine from a URL, migrate, write batches idempotently.

Every write is an upsert on the output's deterministic id inside one transaction
per batch, so replaying the topics (or retrying a batch) gives the same rows.
Only async drivers are used (aiosqlite, asyncpg): nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, case, delete, event, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connectors.errors import ConnectorError, Unavailable
from connectors.readmodel.retry import is_transient
from connectors.readmodel.rows import BatchRows, Item, Row, plan_batch
from connectors.readmodel.tables import (
    CostGateDecision,
    CostViolationRow,
    Debt,
    Household,
    Reminder,
    SignalResolution,
    SignalRow,
    table_of,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Rows per statement: far below SQLite's and asyncpg's limit of ~32k bound parameters.
_CHUNK_ROWS = 500
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

InsertFn = Callable[[Table], Any]


class ReadModelError(ConnectorError, RuntimeError):
    """The read model cannot be used as configured."""


def async_url(url: str | URL) -> URL:
    """Map `sqlite:///…` and `postgresql://…` to their async drivers; refuse sync-only drivers."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ReadModelError(
            f"unsupported read-model URL scheme {parsed.drivername!r}: use sqlite or postgresql"
        )
    return parsed.set(drivername=driver)


def shown_url(url: str | URL) -> str:
    """The URL as it may appear in a message or log: the password starred.

    >>> shown_url("postgresql://vs:s3cr3t@db/vs")
    'postgresql://vs:***@db/vs'
    """
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    """A connect hook: WAL lets readers (team pages) run beside the sink; busy timeout waits for locks."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")  # first: switching to WAL takes a lock
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


class ReadModel:
    """The SQL read model: one engine, `migrate`, `write` a batch, `reading`, `ping`, `close`."""

    def __init__(self, engine: AsyncEngine, *, read_timeout_s: float = 5.0) -> None:
        self._engine = engine
        self._read_timeout_s = read_timeout_s
        self._releasing: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls,
        url: str | URL,
        *,
        busy_timeout_ms: int = 5000,
        read_timeout_s: float = 5.0,
        pool_size: int = 4,
        max_overflow: int = 4,
        echo: bool = False,
    ) -> ReadModel:
        """Build the engine (lazily connecting) for a SQLite or PostgreSQL URL.

        The pool is bounded (`pool_size` + `max_overflow` connections); a request waits at most
        `read_timeout_s` for one, and a PostgreSQL connect gives up after as long. SQLite waits for
        a lock no longer than that either: its driver thread cannot be interrupted, so a read
        cancelled earlier would still hold its connection until the busy timeout.
        """
        parsed = async_url(url)
        busy_timeout_ms = min(busy_timeout_ms, int(read_timeout_s * 1000))
        pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": read_timeout_s}
        if parsed.get_backend_name() == "sqlite":
            # The driver's own lock wait (Python's sqlite3 default is 5 s) until the pragma sets ours.
            engine = create_async_engine(
                parsed, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000}, **pool
            )
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        else:
            # pre_ping replaces connections a database restart has killed, before a batch uses them.
            engine = create_async_engine(
                parsed, echo=echo, pool_pre_ping=True, connect_args={"timeout": read_timeout_s}, **pool
            )
        return cls(engine, read_timeout_s=read_timeout_s)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for the reads of one request, within `read_timeout_s` from start to end.

        A database that is down or slower than that raises Unavailable (HTTP 503), never hangs.
        """
        conn = self._engine.connect()
        try:
            async with asyncio.timeout(self._read_timeout_s):
                await conn.start()
                yield conn
        except TimeoutError:
            # Not awaited: giving back a connection whose query still runs would wait for that query
            # (aiosqlite's thread, until SQLite's busy timeout) and the request would hang after all.
            self._release_later(conn)
            raise Unavailable("database", f"no answer within {self._read_timeout_s:g} s") from None
        except Exception as exc:
            await _close_started(conn)
            if is_transient(exc):
                raise Unavailable("database", f"unreachable ({type(exc).__name__})") from exc
            raise
        except BaseException:
            self._release_later(conn)  # cancelled (the client went away): the same as a timeout
            raise
        else:
            await conn.close()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A transaction for a request's small write (a team session), with the bounds of `reading`."""
        async with self.reading() as conn, conn.begin():
            yield conn

    def _release_later(self, conn: AsyncConnection) -> None:
        """Close the connection in the background; `close()` waits for it."""
        task = asyncio.get_running_loop().create_task(_close_started(conn))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, for queries."""
        return self._engine

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        async with self._engine.begin() as conn:
            await conn.run_sync(_upgrade_head)

    async def write(self, batch: Sequence[Item]) -> None:
        """Upsert one batch of outputs in one transaction."""
        if not batch:
            return
        rows = plan_batch(batch)
        async with self._engine.begin() as conn:
            await write_rows(conn, rows)

    async def ping(self, *, timeout_s: float = 2.0) -> bool:
        """Whether the database answers a `SELECT 1` in time (readiness check)."""
        try:
            async with asyncio.timeout(timeout_s), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def close(self) -> None:
        """Close every pooled connection (after those of timed-out reads)."""
        await asyncio.gather(*self._releasing, return_exceptions=True)
        await self._engine.dispose()


async def _close_started(conn: AsyncConnection) -> None:
    """Close a connection; one that never got to connect has nothing to close."""
    if conn.sync_connection is not None:
        await conn.close()


def _upgrade_head(connection: Connection) -> None:
    """Run `alembic upgrade head` on an open connection (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _insert_for(conn: AsyncConnection) -> InsertFn:
    """The dialect's INSERT, which knows ON CONFLICT."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert
    if name == "postgresql":
        return postgresql.insert
    raise ReadModelError(f"no upsert for dialect {name!r}")


def _chunks(rows: Iterable[Row]) -> Iterator[list[Row]]:
    """Rows in statement-sized lists."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def write_rows(conn: AsyncConnection, rows: BatchRows) -> None:
    """Write a planned batch on an open transaction."""
    insert = _insert_for(conn)
    applied = await _upsert_households(conn, insert, rows.households.values())
    await _replace_debts(conn, [d for key in applied for d in rows.debts[key]], applied)
    await _upsert(
        conn, insert, table_of(SignalRow), rows.signals.values(), keep={"resolved_at", "resolution_id"}
    )
    await _upsert(conn, insert, table_of(SignalResolution), rows.resolutions.values())
    touched = set(rows.signals) | {r["signal_id"] for r in rows.resolutions.values()}
    await _apply_resolutions(conn, touched)
    await _upsert(conn, insert, table_of(Reminder), rows.reminders.values())
    await _upsert(conn, insert, table_of(CostGateDecision), rows.decisions.values())
    await _upsert_violations(conn, insert, rows.violations.values())


async def _upsert(
    conn: AsyncConnection, insert: InsertFn, table: Table, rows: Iterable[Row], *, keep: Collection[str] = ()
) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE every column except the key and `keep`."""
    pk = [c.name for c in table.primary_key.columns]
    for chunk in _chunks(rows):
        stmt = insert(table)
        cols = [c for c in chunk[0] if c not in pk and c not in keep]
        stmt = stmt.on_conflict_do_update(index_elements=pk, set_={c: stmt.excluded[c] for c in cols})
        await conn.execute(stmt, chunk)


async def _upsert_households(conn: AsyncConnection, insert: InsertFn, rows: Iterable[Row]) -> list[str]:
    """Upsert overviews unless the stored one is newer; return the households that were written."""
    table = table_of(Household)
    applied: list[str] = []
    for chunk in _chunks(rows):
        stmt = insert(table)
        set_ = {c: stmt.excluded[c] for c in chunk[0] if c != "household_key"}
        stmt = stmt.on_conflict_do_update(
            index_elements=["household_key"],
            set_=set_ | {"updated_at": func.now()},
            # A late, older snapshot must never overwrite a newer one; equal is a replay.
            where=table.c.as_of <= stmt.excluded.as_of,
        ).returning(table.c.household_key)
        result = await conn.execute(stmt, chunk)
        applied.extend(result.scalars().all())
    return applied


async def _replace_debts(conn: AsyncConnection, rows: list[Row], households: list[str]) -> None:
    """Make the debts of these households exactly the snapshot's: delete theirs, insert the new ones."""
    table = table_of(Debt)
    for start in range(0, len(households), _CHUNK_ROWS):
        keys = households[start : start + _CHUNK_ROWS]
        await conn.execute(delete(table).where(table.c.household_key.in_(keys)))
    for chunk in _chunks(rows):
        await conn.execute(table.insert(), chunk)


async def _apply_resolutions(conn: AsyncConnection, signal_ids: set[str]) -> None:
    """Copy the earliest resolution of each signal onto it, whichever arrived first."""
    if not signal_ids:
        return
    s, r = table_of(SignalRow), table_of(SignalResolution)
    first = (
        select(r.c.resolved_at, r.c.resolution_id)
        .where(r.c.signal_id == s.c.signal_id)
        .order_by(r.c.resolved_at, r.c.resolution_id)
        .limit(1)
    )
    ids = sorted(signal_ids)
    for start in range(0, len(ids), _CHUNK_ROWS):
        stmt = (
            update(s)
            .where(s.c.signal_id.in_(ids[start : start + _CHUNK_ROWS]), exists(first))
            .values(
                resolved_at=first.with_only_columns(r.c.resolved_at).scalar_subquery(),
                resolution_id=first.with_only_columns(r.c.resolution_id).scalar_subquery(),
            )
        )
        await conn.execute(stmt)


async def _upsert_violations(conn: AsyncConnection, insert: InsertFn, rows: Iterable[Row]) -> None:
    """Upsert violations; the signal link is the smallest signal id seen, so order does not matter."""
    table = table_of(CostViolationRow)
    for chunk in _chunks(rows):
        stmt = insert(table)
        cur, new = table.c.signal_id, stmt.excluded.signal_id
        link = case((cur.is_(None), new), (new.is_(None), cur), (new < cur, new), else_=cur)
        cols = [c for c in chunk[0] if c not in ("violation_id", "signal_id")]
        set_ = {c: stmt.excluded[c] for c in cols} | {"signal_id": link}
        await conn.execute(stmt.on_conflict_do_update(index_elements=["violation_id"], set_=set_), chunk)
