"""Read-side queries of the team workflow: inbox, case detail, access checks, audit log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, case, exists, func, select, union

from connectors.readmodel.case_rows import INITIAL_STATUS
from connectors.readmodel.case_tables import (
    AuditEntry,
    CaseOutcome,
    CaseRow,
    ContactAttempt,
    SignalStatusRow,
)
from connectors.readmodel.case_work import status_of, work_of
from connectors.readmodel.queries import overview
from connectors.readmodel.rows import signal_from_row
from connectors.readmodel.tables import SignalRow, table_of
from connectors.readmodel.writer import ReadModel
from schemas.cases_v1 import Werkstatus
from schemas.outputs_v1 import HouseholdOverview, Priority, Reason, Signal
from signals.cases import StoredOutcome

__all__ = [
    "CASE_SIGNALS_PAGE_SIZE",
    "INBOX_PAGE_SIZE",
    "AttemptView",
    "CaseDetail",
    "CasePage",
    "CaseSummary",
    "OutcomeView",
    "SignalView",
    "audit_entries",
    "case_detail",
    "case_summary",
    "event_stored",
    "household_teams",
    "open_cases",
    "open_cases_page",
    "stored_attempt",
    "stored_outcome",
    "stored_outcomes",
    "stored_status",
]

_PRIORITIES: tuple[Priority, ...] = ("urgent", "high", "normal")
# Bounds of what one page reads (issue 16): cases per inbox page, signals per case in the inbox
# (the newest, for its reasons and total) and per page of the case page.
INBOX_PAGE_SIZE = 50
INBOX_SIGNALS = 3
CASE_SIGNALS_PAGE_SIZE = 20


@dataclass(frozen=True)
class SignalView:
    """One signal of a case with its DDAS status."""

    signal: Signal
    status: str
    resolved_at: datetime | None


@dataclass(frozen=True)
class CaseSummary:
    """A case as the inbox lists it."""

    case_id: str
    household_key: str
    team_id: str
    gemeente_code: str | None
    period_start: date
    period_end: date
    first_signal_at: datetime
    last_signal_at: datetime
    priority: Priority
    reasons: tuple[Reason, ...]
    signals: tuple[SignalView, ...]
    outcome: OutcomeView | None
    # All signals of the case and those not resolved; `signals` may be one page of them (the newest
    # first pages, each page oldest first), starting `signals_offset` from the newest.
    signal_count: int = 0
    unresolved_count: int = 0
    signals_offset: int = 0
    # The work queue (issue 19): who has the case, when its next action is due, where it stands.
    assignee: str | None = None
    next_action_on: date | None = None
    work_status: Werkstatus = "nieuw"

    @property
    def resolved(self) -> bool:
        """Every signal of the case is resolved (all debts settled), counted over all of them."""
        if self.signal_count:
            return self.unresolved_count == 0
        return bool(self.signals) and all(s.resolved_at is not None for s in self.signals)

    @property
    def total_cents(self) -> int:
        """Total of the latest signal: principal plus costs of every unsettled debt."""
        return self.signals[-1].signal.total_cents if self.signals else 0


@dataclass(frozen=True)
class AttemptView:
    """A recorded contact attempt."""

    attempt_id: str
    soort: str
    bereikt: bool
    datum: date
    dagdeel: str | None
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class OutcomeView:
    """The final outcome of a case."""

    resultaat: str
    datum: date
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows."""

    summary: CaseSummary
    attempts: tuple[AttemptView, ...]
    overview: HouseholdOverview | None


async def household_teams(rm: ReadModel, household_key: str) -> set[str]:
    """The teams the household's kept cases and signals are routed to (need to know: signals.access).

    Signals count as well as cases because the case sink may write a signal's case a moment
    after the read-model sink wrote the signal. Not the household's latest overview: that is
    routed by address, signalled or not.
    """
    cases, signals = table_of(CaseRow), table_of(SignalRow)
    stmt = union(
        select(cases.c.team_id).where(cases.c.household_key == household_key),
        select(signals.c.team_id).where(signals.c.household_key == household_key),
    )
    async with rm.reading() as conn:
        return set((await conn.execute(stmt)).scalars().all())


@dataclass(frozen=True)
class CasePage:
    """One page of a team's open cases and how many there are in all."""

    cases: tuple[CaseSummary, ...]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None on the last page."""
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        """Where the previous page starts, or None on the first page."""
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def _open_of(team_id: str) -> Any:
    cases, outcomes = table_of(CaseRow), table_of(CaseOutcome)
    return cases.c.team_id == team_id, ~exists().where(outcomes.c.case_id == cases.c.case_id)


async def open_cases(
    rm: ReadModel, team_id: str, *, limit: int | None = None, offset: int = 0
) -> list[CaseSummary]:
    """The team's cases without a final outcome, most urgent first, then oldest first (a page with `limit`)."""
    return list((await open_cases_page(rm, team_id, limit=limit, offset=offset)).cases)


async def open_cases_page(
    rm: ReadModel, team_id: str, *, limit: int | None = INBOX_PAGE_SIZE, offset: int = 0
) -> CasePage:
    """One page of the inbox: LIMIT/OFFSET in SQL, each case with its newest INBOX_SIGNALS signals."""
    cases = table_of(CaseRow)
    stmt = (
        select(cases)
        .where(*_open_of(team_id))
        .order_by(cases.c.priority_rank, cases.c.first_signal_at, cases.c.case_id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    async with rm.reading() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(cases).where(*_open_of(team_id)))
        ).scalar_one()
        ids = [r["case_id"] for r in rows]
        signals = await _signals_of(conn, ids, limit=INBOX_SIGNALS)
        counts = await _signal_counts(conn, ids)
    found = tuple(_summary(r, signals.get(r["case_id"], ()), None, counts.get(r["case_id"])) for r in rows)
    return CasePage(found, int(total), offset, limit if limit is not None else max(1, len(found)))


async def case_summary(
    rm: ReadModel, case_id: str, *, signals_limit: int | None = None, signals_offset: int = 0
) -> CaseSummary | None:
    """One case with its signals (all, or a page of the newest) and outcome, or None."""
    cases = table_of(CaseRow)
    stmt = select(cases, status_of(cases.c.case_id).label("work_status")).where(cases.c.case_id == case_id)
    async with rm.reading() as conn:
        row = (await conn.execute(stmt)).mappings().one_or_none()
        if row is None:
            return None
        signals = await _signals_of(conn, [case_id], limit=signals_limit, offset=signals_offset)
        counts = await _signal_counts(conn, [case_id])
        outcome = await _outcome_of(conn, case_id)
        work = (await work_of(conn, [case_id])).get(case_id)
    summary = _summary(row, signals.get(case_id, ()), outcome, counts.get(case_id), signals_offset)
    return (
        summary
        if work is None
        else replace(summary, assignee=work.assignee, next_action_on=work.next_action_on)
    )


async def case_detail(
    rm: ReadModel,
    case_id: str,
    *,
    signals_limit: int | None = CASE_SIGNALS_PAGE_SIZE,
    signals_offset: int = 0,
) -> CaseDetail | None:
    """The case page: summary with a page of signals, contact attempts (oldest first), the household's overview."""
    summary = await case_summary(rm, case_id, signals_limit=signals_limit, signals_offset=signals_offset)
    if summary is None:
        return None
    attempts = table_of(ContactAttempt)
    stmt = (
        select(attempts)
        .where(attempts.c.case_id == case_id)
        .order_by(attempts.c.datum, attempts.c.recorded_at, attempts.c.attempt_id)
    )
    async with rm.reading() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    views = tuple(AttemptView(**{k: r[k] for k in AttemptView.__dataclass_fields__}) for r in rows)
    return CaseDetail(summary=summary, attempts=views, overview=await overview(rm, summary.household_key))


async def event_stored(rm: ReadModel, table_name: str, column: str, event_id: str) -> bool:
    """Whether the sink has written the row of this event (the web handler waits for it)."""
    table: Table = table_of(_BY_NAME[table_name])
    async with rm.reading() as conn:
        stmt = select(table.c[column]).where(table.c[column] == event_id).limit(1)
        return (await conn.execute(stmt)).first() is not None


_BY_NAME: dict[str, Any] = {
    "contact_attempts": ContactAttempt,
    "case_outcomes": CaseOutcome,
    "signal_status": SignalStatusRow,
    "audit_log": AuditEntry,
}


async def audit_entries(
    rm: ReadModel,
    *,
    member: str | None = None,
    household: str | None = None,
    since: datetime | None = None,
    limit: int = 10_000,
) -> list[dict[str, Any]]:
    """Audit rows, oldest first, filtered by member, household and time."""
    table = table_of(AuditEntry)
    stmt = select(table).order_by(table.c.occurred_at, table.c.event_id).limit(limit)
    if member is not None:
        stmt = stmt.where(table.c.actor == member)
    if household is not None:
        stmt = stmt.where(table.c.household_key == household)
    if since is not None:
        stmt = stmt.where(table.c.occurred_at >= since)
    async with rm.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(stmt)).mappings().all()]


async def _signals_of(
    conn: Any, case_ids: list[str], *, limit: int | None = None, offset: int = 0
) -> dict[str, tuple[SignalView, ...]]:
    """The signals of these cases, oldest first, with their status.

    With `limit`, per case only the `limit` signals after the newest `offset` ones (a window
    function in SQL, so a case with many signals is never read whole).
    """
    if not case_ids or limit == 0:
        return {}
    links, signals = table_of(SignalStatusRow), table_of(SignalRow)
    stmt = (
        select(signals, links.c.case_id, links.c.status)
        .join(links, links.c.signal_id == signals.c.signal_id)
        .where(links.c.case_id.in_(case_ids))
        .order_by(signals.c.raised_at, signals.c.signal_id)
    )
    if limit is not None or offset:
        newest = (
            func.row_number()
            .over(
                partition_by=links.c.case_id,
                order_by=(signals.c.raised_at.desc(), signals.c.signal_id.desc()),
            )
            .label("newest")
        )
        ranked = (
            select(links.c.signal_id, newest)
            .join(signals, links.c.signal_id == signals.c.signal_id)
            .where(links.c.case_id.in_(case_ids))
            .subquery()
        )
        window = ranked.c.newest > offset
        if limit is not None:
            window = and_(window, ranked.c.newest <= offset + limit)
        stmt = stmt.join(ranked, ranked.c.signal_id == signals.c.signal_id).where(window)
    found: dict[str, list[SignalView]] = {}
    for row in (await conn.execute(stmt)).mappings().all():
        view = SignalView(signal_from_row(row), row["status"] or INITIAL_STATUS, row["resolved_at"])
        found.setdefault(row["case_id"], []).append(view)
    return {k: tuple(v) for k, v in found.items()}


async def _outcome_of(conn: Any, case_id: str) -> OutcomeView | None:
    table = table_of(CaseOutcome)
    row = (await conn.execute(select(table).where(table.c.case_id == case_id))).mappings().one_or_none()
    if row is None:
        return None
    return OutcomeView(row["resultaat"], row["datum"], row["actor"], row["recorded_at"])


async def _signal_counts(conn: Any, case_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(signals, unresolved signals) per case, counted in SQL."""
    if not case_ids:
        return {}
    links, signals = table_of(SignalStatusRow), table_of(SignalRow)
    stmt = (
        select(
            links.c.case_id,
            func.count(),
            func.sum(case((signals.c.resolved_at.is_(None), 1), else_=0)),
        )
        .join(signals, links.c.signal_id == signals.c.signal_id)
        .where(links.c.case_id.in_(case_ids))
        .group_by(links.c.case_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in (await conn.execute(stmt)).all()}


def _summary(
    row: Any,
    signals: tuple[SignalView, ...],
    outcome: OutcomeView | None,
    counts: tuple[int, int] | None = None,
    signals_offset: int = 0,
) -> CaseSummary:
    count, unresolved = counts if counts is not None else (0, 0)
    return CaseSummary(
        case_id=row["case_id"],
        household_key=row["household_key"],
        team_id=row["team_id"],
        gemeente_code=row["gemeente_code"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        first_signal_at=row["first_signal_at"],
        last_signal_at=row["last_signal_at"],
        priority=_PRIORITIES[min(int(row["priority_rank"]), 2)],
        # The latest signal says best why the household needs a visit now.
        reasons=signals[-1].signal.reasons if signals else (),
        signals=signals,
        outcome=outcome,
        signal_count=count,
        unresolved_count=unresolved,
        signals_offset=signals_offset,
        work_status=row.get("work_status", "nieuw"),
    )


async def stored_outcomes(conn: Any, case_ids: Iterable[str]) -> dict[str, StoredOutcome]:
    """The outcome each of these cases has, on an open connection (cases without one are left out)."""
    table, ids = table_of(CaseOutcome), list(case_ids)
    found: dict[str, StoredOutcome] = {}
    for start in range(0, len(ids), 500):
        stmt = select(table).where(table.c.case_id.in_(ids[start : start + 500]))
        for row in (await conn.execute(stmt)).mappings():
            found[row["case_id"]] = StoredOutcome(
                row["event_id"], row["actor"], row["recorded_at"], row["resultaat"], row["datum"]
            )
    return found


async def stored_outcome(rm: ReadModel, case_id: str) -> StoredOutcome | None:
    """The case's one outcome as stored, or None while it has none."""
    async with rm.reading() as conn:
        return (await stored_outcomes(conn, [case_id])).get(case_id)


async def stored_attempt(rm: ReadModel, attempt_id: str) -> AttemptView | None:
    """The contact attempt stored under this id, or None."""
    table = table_of(ContactAttempt)
    async with rm.reading() as conn:
        row = (await conn.execute(select(table).where(table.c.attempt_id == attempt_id))).mappings().first()
    return None if row is None else AttemptView(**{k: row[k] for k in AttemptView.__dataclass_fields__})


async def stored_status(rm: ReadModel, signal_id: str) -> tuple[str | None, str] | None:
    """(event id of the last change, status) of a signal, or None when the signal is not linked to a case."""
    table = table_of(SignalStatusRow)
    async with rm.reading() as conn:
        stmt = select(table.c.event_id, table.c.status).where(table.c.signal_id == signal_id)
        row = (await conn.execute(stmt)).first()
    return None if row is None else (row[0], row[1])
