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

from sqlalchemy import ColumnElement, Table, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.readmodel.case_queries import stored_outcomes
from connectors.readmodel.case_rows import CaseItem, CaseRows, Row, plan_case_batch
from connectors.readmodel.case_tables import (
    AuditEntry,
    CaseOutcome,
    CaseRow,
    CaseWork,
    ContactAttempt,
    SignalStatusRow,
)
from connectors.readmodel.retry import backoff_s, is_transient
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel, _chunks, _insert_for
from signals.cases import StoredOutcome

__all__ = ["write_case_batch", "write_case_rows", "write_cases_with_retry"]


async def write_case_batch(
    rm: ReadModel, items: Sequence[CaseItem], *, period_months: int = 1
) -> dict[str, StoredOutcome]:
    """Plan and write one batch in one transaction; the stored outcome of every case the batch recorded one for.

    The outcome row is a conditional insert (the first one of a case stays), so what is
    stored after the write, read in the same transaction, decides which outcome event won.
    """
    if not items:
        return {}
    rows = plan_case_batch(items, period_months=period_months)
    async with rm.engine.begin() as conn:
        await write_case_rows(conn, rows)
        return await stored_outcomes(conn, rows.outcomes.keys())


async def write_cases_with_retry(
    rm: ReadModel,
    items: Sequence[CaseItem],
    *,
    period_months: int = 1,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> dict[str, StoredOutcome]:
    """Write the batch, retrying while the database is unavailable; other errors are raised."""
    rng = random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await write_case_batch(rm, items, period_months=period_months)
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
    # A status change whose id is already audited was applied (or refused) before: not again.
    audited = await _audited(conn, [r["event_id"] for r in rows.statuses.values()])
    await _upsert_statuses(conn, insert, (r for r in rows.statuses.values() if r["event_id"] not in audited))
    await _insert_new(conn, insert, table_of(ContactAttempt), rows.attempts.values())
    await _upsert_work(conn, insert, rows, audited | await _audited(conn, _work_event_ids(rows)))
    # The first outcome of a case stays: "exactly one final outcome".
    await _insert_new(conn, insert, table_of(CaseOutcome), rows.outcomes.values())
    await _insert_new(conn, insert, table_of(AuditEntry), rows.audit.values())


async def _audited(conn: AsyncConnection, event_ids: list[str]) -> set[str]:
    """Which of these case-event ids the audit log already holds."""
    table, found = table_of(AuditEntry), set[str]()
    for start in range(0, len(event_ids), 500):
        stmt = select(table.c.event_id).where(table.c.event_id.in_(event_ids[start : start + 500]))
        found.update((await conn.execute(stmt)).scalars())
    return found


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


_ASSIGNMENT = ("assignee", "assigned_at", "assigned_by", "assign_event_id")
_NEXT_ACTION = ("next_action_on", "planned_at", "planned_by", "plan_event_id")


def _work_event_ids(rows: CaseRows) -> list[str]:
    return [r["assign_event_id"] for r in rows.assignments.values()] + [
        r["plan_event_id"] for r in rows.next_actions.values()
    ]


async def _upsert_work(conn: AsyncConnection, insert: Any, rows: CaseRows, audited: set[str]) -> None:
    """A case's assignment and its next action, each replaced only by a newer change (then by event id).

    An event whose id the audit log already holds was applied (or lost) before: not again, so the
    first content of an id stays, as for status changes.
    """
    halves = (
        (rows.assignments, _ASSIGNMENT, _NEXT_ACTION),
        (rows.next_actions, _NEXT_ACTION, _ASSIGNMENT),
    )
    table = table_of(CaseWork)
    for planned, cols, other in halves:
        at, event_id = cols[1], cols[3]
        fresh = [r | dict.fromkeys(other) for r in planned.values() if r[event_id] not in audited]
        for chunk in _chunks(fresh):
            stmt = insert(table)
            cur, new = table.c, stmt.excluded
            newer = or_(
                cur[at].is_(None),
                cur[at] < new[at],
                and_(cur[at] == new[at], cur[event_id] < new[event_id]),
            )
            set_ = {c: new[c] for c in ("household_key", "team_id", *cols)}
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["case_id"], set_=set_, where=newer), chunk
            )
