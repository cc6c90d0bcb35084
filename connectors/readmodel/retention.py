"""Retention: delete the personal data of cases closed before a cutoff and of quiet households.

One transaction: the counts are added and the rows deleted together, so running
the job twice (or after a crash) counts nothing twice. What goes: the case, its
signals and their status and resolutions, contact attempts and outcome; the
household's overview, debts, reminders and cost decisions when it has no other
case left and nothing newer than the cutoff; household keys in the audit log
(who did what, when stays, but no longer about which address).

Quiet households go by the rule of `signals.retention` (the same the worker applies to
its stream table): no open debt or signal in the last overview, no open case, and
`household_forget_days` past the overview's clock. Open cases are listed with their last
activity for the system to close (`signals.retention.close_inactive_case`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.readmodel.case_tables import (
    AnonymousCount,
    AuditEntry,
    CaseOutcome,
    CaseRow,
    CaseWork,
    ContactAttempt,
    SignalStatusRow,
)
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
from connectors.readmodel.writer import ReadModel, _insert_for
from schemas.outputs_v1 import DebtRef
from signals.retention import InactiveCase, may_forget

__all__ = ["RetentionResult", "forget_quiet_households", "open_cases_with_activity", "purge_closed_cases"]

_CHUNK = 500
_HOUSEHOLD_TABLES = (
    Household,
    Debt,
    Reminder,
    CostGateDecision,
    CostViolationRow,
    SignalResolution,
    SignalRow,
)
_QUIET_HOUSEHOLD_TABLES = tuple(
    table_of(m) for m in (Household, Debt, Reminder, CostGateDecision, CostViolationRow)
)
CountKey = tuple[str, date, str]


@dataclass
class RetentionResult:
    """What was (or, in a dry run, would be) deleted, and the counts kept instead."""

    cases: int = 0
    signals: int = 0
    contact_attempts: int = 0
    households: int = 0
    counts: dict[CountKey, tuple[int, int, int]] = field(default_factory=dict)


async def purge_closed_cases(rm: ReadModel, *, cutoff: datetime, dry_run: bool = False) -> RetentionResult:
    """Delete cases whose outcome was recorded before `cutoff`; roll back instead when `dry_run`."""
    async with rm.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            result = await _purge(conn, cutoff)
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return result


async def _purge(conn: AsyncConnection, cutoff: datetime) -> RetentionResult:
    cases, outcomes = table_of(CaseRow), table_of(CaseOutcome)
    stmt = (
        select(
            cases.c.case_id,
            cases.c.household_key,
            cases.c.gemeente_code,
            cases.c.period_start,
            outcomes.c.resultaat,
        )
        .join(outcomes, outcomes.c.case_id == cases.c.case_id)
        .where(outcomes.c.recorded_at < cutoff)
    )
    closed = (await conn.execute(stmt)).all()
    ids = [row.case_id for row in closed]
    signals = await _ids_by_case(conn, table_of(SignalStatusRow), "signal_id", ids)
    attempts = await _ids_by_case(conn, table_of(ContactAttempt), "attempt_id", ids)
    result = RetentionResult(cases=len(ids))
    result.signals = sum(len(v) for v in signals.values())
    result.contact_attempts = sum(len(v) for v in attempts.values())
    result.counts = _counts(closed, signals, attempts)
    await _add_counts(conn, result.counts)
    signal_ids = [s for v in signals.values() for s in v]
    for table, column, keys in (
        (table_of(SignalResolution), "signal_id", signal_ids),
        (table_of(SignalRow), "signal_id", signal_ids),
        (table_of(SignalStatusRow), "case_id", ids),
        (table_of(ContactAttempt), "case_id", ids),
        (table_of(CaseWork), "case_id", ids),
        (table_of(CaseOutcome), "case_id", ids),
        (table_of(CaseRow), "case_id", ids),
    ):
        await _delete_in(conn, table, column, keys)
    await _forget_in_audit(conn, "case_id", ids)
    result.households = await _purge_households(conn, sorted({row.household_key for row in closed}), cutoff)
    return result


def _counts(
    closed: Sequence[Any], signals: dict[str, list[str]], attempts: dict[str, list[str]]
) -> dict[CountKey, tuple[int, int, int]]:
    """Cases, signals and contact attempts per gemeente, matching period and outcome."""
    totals: Counter[tuple[CountKey, int]] = Counter()
    for row in closed:
        key = (row.gemeente_code or "", row.period_start, row.resultaat)
        totals[(key, 0)] += 1
        totals[(key, 1)] += len(signals.get(row.case_id, []))
        totals[(key, 2)] += len(attempts.get(row.case_id, []))
    keys = sorted({k for k, _ in totals})
    return {k: (totals[(k, 0)], totals[(k, 1)], totals[(k, 2)]) for k in keys}


async def _add_counts(conn: AsyncConnection, counts: dict[CountKey, tuple[int, int, int]]) -> None:
    if not counts:
        return
    table = table_of(AnonymousCount)
    rows = [
        {
            "gemeente_code": g,
            "period_start": p,
            "resultaat": r,
            "cases": c,
            "signals": s,
            "contact_attempts": a,
        }
        for (g, p, r), (c, s, a) in counts.items()
    ]
    stmt = _insert_for(conn)(table)
    set_ = {c: table.c[c] + stmt.excluded[c] for c in ("cases", "signals", "contact_attempts")}
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["gemeente_code", "period_start", "resultaat"], set_=set_),
        rows,
    )


async def _ids_by_case(
    conn: AsyncConnection, table: Table, column: str, ids: list[str]
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(table.c.case_id, table.c[column]).where(
            table.c.case_id.in_(ids[start : start + _CHUNK])
        )
        for case_id, value in (await conn.execute(stmt)).all():
            found.setdefault(case_id, []).append(value)
    return found


async def _delete_in(conn: AsyncConnection, table: Table, column: str, keys: list[str]) -> None:
    for start in range(0, len(keys), _CHUNK):
        await conn.execute(delete(table).where(table.c[column].in_(keys[start : start + _CHUNK])))


async def _forget_in_audit(conn: AsyncConnection, column: str, keys: list[str]) -> None:
    """Keep who did what and when, but no longer about which household."""
    table = table_of(AuditEntry)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        await conn.execute(update(table).where(table.c[column].in_(chunk)).values(household_key=None))


async def _purge_households(conn: AsyncConnection, keys: list[str], cutoff: datetime) -> int:
    """Household data of households with no case left and no overview newer than the cutoff."""
    cases, households = table_of(CaseRow), table_of(Household)
    gone: list[str] = []
    for key in keys:
        still = await conn.execute(select(cases.c.case_id).where(cases.c.household_key == key).limit(1))
        recent = await conn.execute(
            select(households.c.household_key).where(
                households.c.household_key == key, households.c.as_of >= cutoff
            )
        )
        if still.first() is None and recent.first() is None:
            gone.append(key)
    for model in _HOUSEHOLD_TABLES:
        await _delete_in(conn, table_of(model), "household_key", gone)
    await _forget_in_audit(conn, "household_key", gone)
    return len(gone)


async def open_cases_with_activity(rm: ReadModel) -> list[InactiveCase]:
    """Every case without an outcome, with its last activity: a signal, a contact attempt, a status change,
    an assignment or a planned next action."""
    cases, outcomes = table_of(CaseRow), table_of(CaseOutcome)
    attempts, statuses = table_of(ContactAttempt), table_of(SignalStatusRow)
    async with rm.engine.connect() as conn:
        open_rows = (
            await conn.execute(
                select(cases.c.case_id, cases.c.household_key, cases.c.team_id, cases.c.last_signal_at)
                .outerjoin(outcomes, outcomes.c.case_id == cases.c.case_id)
                .where(outcomes.c.case_id.is_(None))
                .order_by(cases.c.case_id)
            )
        ).all()
        ids = [row.case_id for row in open_rows]
        tried = await _latest(conn, attempts, attempts.c.recorded_at, ids)
        changed = await _latest(conn, statuses, statuses.c.changed_at, ids)
        work = table_of(CaseWork)  # assigning a case or planning its next action is activity too
        assigned = await _latest(conn, work, work.c.assigned_at, ids)
        planned = await _latest(conn, work, work.c.planned_at, ids)
        reached = await _latest(conn, attempts, attempts.c.recorded_at, ids, attempts.c.bereikt.is_(True))
        debts = await _case_debts(conn, ids)
    return [
        InactiveCase(
            case_id=row.case_id,
            household_key=row.household_key,
            team_id=row.team_id,
            last_activity_at=max(
                t
                for t in (
                    row.last_signal_at,
                    tried.get(row.case_id),
                    changed.get(row.case_id),
                    assigned.get(row.case_id),
                    planned.get(row.case_id),
                )
                if t
            ),
            reached=row.case_id in reached,
            debts=debts.get(row.case_id, ()),
        )
        for row in open_rows
    ]


async def _latest(
    conn: AsyncConnection, table: Table, column: Any, ids: list[str], *where: Any
) -> dict[str, datetime]:
    """The newest `column` per case."""
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = (
            select(table.c.case_id, func.max(column))
            .where(table.c.case_id.in_(ids[start : start + _CHUNK]), column.is_not(None), *where)
            .group_by(table.c.case_id)
        )
        found.update({case_id: latest for case_id, latest in (await conn.execute(stmt)).all()})
    return found


async def _case_debts(conn: AsyncConnection, ids: list[str]) -> dict[str, tuple[DebtRef, ...]]:
    """The signalled debts of each case (for the creditors' feedback), from its signals."""
    statuses, signals = table_of(SignalStatusRow), table_of(SignalRow)
    refs: dict[str, set[DebtRef]] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = (
            select(statuses.c.case_id, signals.c.debts)
            .join(signals, signals.c.signal_id == statuses.c.signal_id)
            .where(statuses.c.case_id.in_(ids[start : start + _CHUNK]))
        )
        for case_id, snapshots in (await conn.execute(stmt)).all():
            worthy = (DebtRef.model_validate(d["debt"]) for d in snapshots if d.get("signal_worthy"))
            refs.setdefault(case_id, set()).update(worthy)
    order = lambda r: (r.source, r.creditor_id, r.debt_ref)  # noqa: E731
    return {case_id: tuple(sorted(found, key=order)) for case_id, found in refs.items()}


async def forget_quiet_households(
    rm: ReadModel, *, now: datetime, days: int, dry_run: bool = False
) -> list[str]:
    """Delete the household rows of households the retention rule forgets at `now`; their keys, sorted."""
    async with rm.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            keys = await _quiet_households(conn, now=now, days=days)
            await _forget_households(conn, keys)
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return keys


async def _quiet_households(conn: AsyncConnection, *, now: datetime, days: int) -> list[str]:
    households, cases, outcomes = table_of(Household), table_of(CaseRow), table_of(CaseOutcome)
    open_case = (
        select(cases.c.household_key)
        .outerjoin(outcomes, outcomes.c.case_id == cases.c.case_id)
        .where(outcomes.c.case_id.is_(None))
    )
    with_case = set((await conn.execute(open_case)).scalars())
    rows = (
        await conn.execute(
            select(households.c.household_key, households.c.as_of, households.c.open_creditors).where(
                households.c.open_signal_id.is_(None)
            )
        )
    ).all()
    return sorted(
        row.household_key
        for row in rows
        if may_forget(
            # The last overview: no creditor with something left to pay, no open signal.
            quiet_since=row.as_of if row.open_creditors == 0 else None,
            open_case=row.household_key in with_case,
            now=now,
            days=days,
        )
    )


async def _forget_households(conn: AsyncConnection, keys: list[str]) -> None:
    """The household's overview, debts, reminders (contact data) and cost decisions; its signals and
    audit keys only once no case holds them (a closed case keeps its signals until its own retention)."""
    for table in _QUIET_HOUSEHOLD_TABLES:
        await _delete_in(conn, table, "household_key", keys)
    cases = table_of(CaseRow)
    with_case: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        stmt = select(cases.c.household_key).where(cases.c.household_key.in_(keys[start : start + _CHUNK]))
        with_case.update((await conn.execute(stmt)).scalars())
    caseless = [k for k in keys if k not in with_case]
    for table in (table_of(SignalResolution), table_of(SignalRow)):
        await _delete_in(conn, table, "household_key", caseless)
    await _forget_in_audit(conn, "household_key", caseless)
    audit = table_of(AuditEntry)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        # Reads of the overview outside a case name only the household: no longer which one.
        await conn.execute(
            update(audit)
            .where(audit.c.household_key.in_(chunk), audit.c.case_id.is_(None))
            .values(household_key=None)
        )
