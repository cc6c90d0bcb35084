"""Write signals' cases and team case events into the read model, idempotently, one transaction per batch.

Every statement is an upsert whose result does not depend on the order of the
batches: a replay of the topics, or a batch retried after a crash, leaves the
same rows.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, or_
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.readmodel.case_rows import CaseItem, CaseRows, Row, plan_case_batch
from connectors.readmodel.case_tables import (
    AuditEntry,
    CaseOutcome,
    CaseRow,
    ContactAttempt,
    SignalStatusRow,
)
from connectors.readmodel.retry import backoff_s, is_transient
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel, _chunks, _insert_for

__all__ = ["write_case_batch", "write_case_rows", "write_cases_with_retry"]


async def write_case_batch(rm: ReadModel, items: Sequence[CaseItem], *, period_months: int = 1) -> None:
    """Plan and write one batch in one transaction."""
    if not items:
        return
    rows = plan_case_batch(items, period_months=period_months)
    async with rm.engine.begin() as conn:
        await write_case_rows(conn, rows)


async def write_cases_with_retry(
    rm: ReadModel,
    items: Sequence[CaseItem],
    *,
    period_months: int = 1,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> None:
    """Write the batch, retrying while the database is unavailable; other errors are raised."""
    rng = random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            await write_case_batch(rm, items, period_months=period_months)
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            await asyncio.sleep(backoff_s(attempt, 0.5, 30.0, rng))


async def write_case_rows(conn: AsyncConnection, rows: CaseRows) -> None:
    """Write planned rows on an open transaction."""
    insert = _insert_for(conn)
    await _upsert_cases(conn, insert, rows.cases.values())
    await _insert_new(conn, insert, table_of(SignalStatusRow), rows.links.values())
    await _upsert_statuses(conn, insert, rows.statuses.values())
    await _insert_new(conn, insert, table_of(ContactAttempt), rows.attempts.values())
    # The first outcome of a case stays: "exactly one final outcome".
    await _insert_new(conn, insert, table_of(CaseOutcome), rows.outcomes.values())
    await _insert_new(conn, insert, table_of(AuditEntry), rows.audit.values())


async def _insert_new(conn: AsyncConnection, insert: Any, table: Table, rows: Iterable[Row]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: the same id always carries the same content."""
    pk = [c.name for c in table.primary_key.columns]
    for chunk in _chunks(rows):
        await conn.execute(insert(table).on_conflict_do_nothing(index_elements=pk), chunk)


def _earlier(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((b < a, b), else_=a)


async def _upsert_cases(conn: AsyncConnection, insert: Any, rows: Iterable[Row]) -> None:
    """Merge into stored cases exactly as `merge_case` merges within a batch."""
    table = table_of(CaseRow)
    for chunk in _chunks(rows):
        stmt = insert(table)
        cur, new = table.c, stmt.excluded
        newer = new.last_signal_at >= cur.last_signal_at
        route = {
            k: case((newer, new[k]), else_=cur[k])
            for k in ("team_id", "gemeente_code", "wijk_code", "buurt_code")
        }
        set_ = route | {
            "first_signal_at": _earlier(cur.first_signal_at, new.first_signal_at),
            "last_signal_at": case((newer, new.last_signal_at), else_=cur.last_signal_at),
            "priority_rank": _earlier(cur.priority_rank, new.priority_rank),
        }
        await conn.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_=set_), chunk)


async def _upsert_statuses(conn: AsyncConnection, insert: Any, rows: Iterable[Row]) -> None:
    """A status change replaces the stored one only when it is newer (then by event id)."""
    table = table_of(SignalStatusRow)
    for chunk in _chunks(rows):
        stmt = insert(table)
        cur, new = table.c, stmt.excluded
        newer = or_(
            cur.changed_at.is_(None),
            cur.changed_at < new.changed_at,
            and_(cur.changed_at == new.changed_at, cur.event_id < new.event_id),
        )
        cols = ("case_id", "household_key", "status", "changed_at", "changed_by", "event_id")
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["signal_id"], set_={c: new[c] for c in cols}, where=newer
            ),
            chunk,
        )
