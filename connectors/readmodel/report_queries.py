"""What the CBS report needs from the read model: a gemeente's cases of a period, with everything in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.readmodel.case_queries import AttemptView, OutcomeView, SignalView, _outcome_of, _signals_of
from connectors.readmodel.case_tables import CaseRow, ContactAttempt, SignalStatusRow
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel
from signals.calendar import local_day


def _day(stored: datetime) -> date:
    """The Amsterdam day of a stored instant (SQLite hands UTC instants back without a zone)."""
    return local_day(stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC))


__all__ = ["ReportCase", "cases_in_period"]


@dataclass(frozen=True)
class ReportCase:
    """One case for the report: its period, signals (with status), contact attempts and outcome."""

    case_id: str
    household_key: str
    period_start: date
    period_end: date
    matched_on: date
    signals: tuple[SignalView, ...]
    attempts: tuple[AttemptView, ...]
    outcome: OutcomeView | None
    picked_up_on: date | None


async def cases_in_period(rm: ReadModel, gemeente_code: str, start: date, end: date) -> list[ReportCase]:
    """Cases of the gemeente whose matching period overlaps [start, end], in period and id order."""
    cases = table_of(CaseRow)
    stmt = (
        select(cases)
        .where(
            cases.c.gemeente_code == gemeente_code, cases.c.period_start <= end, cases.c.period_end >= start
        )
        .order_by(cases.c.period_start, cases.c.case_id)
    )
    async with rm.reading() as conn:  # within read_timeout_s, as every page's read (503, never a hang)
        rows = (await conn.execute(stmt)).mappings().all()
        ids = [r["case_id"] for r in rows]
        signals = await _signals_of(conn, ids)
        attempts = await _attempts_of(conn, ids)
        picked = await _picked_up_on(conn, ids)
        outcomes = {case_id: await _outcome_of(conn, case_id) for case_id in ids}
    return [
        ReportCase(
            case_id=r["case_id"],
            household_key=r["household_key"],
            period_start=r["period_start"],
            period_end=r["period_end"],
            matched_on=_day(r["first_signal_at"]),
            signals=signals.get(r["case_id"], ()),
            attempts=attempts.get(r["case_id"], ()),
            outcome=outcomes[r["case_id"]],
            picked_up_on=_earliest(picked.get(r["case_id"]), attempts.get(r["case_id"], ())),
        )
        for r in rows
    ]


async def _attempts_of(conn: AsyncConnection, case_ids: list[str]) -> dict[str, tuple[AttemptView, ...]]:
    if not case_ids:
        return {}
    table = table_of(ContactAttempt)
    stmt = (
        select(table)
        .where(table.c.case_id.in_(case_ids))
        .order_by(table.c.datum, table.c.recorded_at, table.c.attempt_id)
    )
    found: dict[str, list[AttemptView]] = {}
    for r in (await conn.execute(stmt)).mappings().all():
        view = AttemptView(**{k: r[k] for k in AttemptView.__dataclass_fields__})
        found.setdefault(r["case_id"], []).append(view)
    return {k: tuple(v) for k, v in found.items()}


async def _picked_up_on(conn: AsyncConnection, case_ids: list[str]) -> dict[str, date]:
    """Earliest date a signal of the case was set to 'Opgepakt'."""
    if not case_ids:
        return {}
    table = table_of(SignalStatusRow)
    stmt = select(table.c.case_id, table.c.changed_at).where(
        table.c.case_id.in_(case_ids), table.c.status == "Opgepakt", table.c.changed_at.is_not(None)
    )
    found: dict[str, date] = {}
    for case_id, changed_at in (await conn.execute(stmt)).all():
        day = _day(changed_at)
        found[case_id] = min(found.get(case_id, day), day)
    return found


def _earliest(status_day: date | None, attempts: tuple[AttemptView, ...]) -> date | None:
    """The case was picked up at its first contact attempt or first 'Opgepakt', whichever came first."""
    days = [d for d in (status_day, attempts[0].datum if attempts else None) if d is not None]
    return min(days) if days else None
