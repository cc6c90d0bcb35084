"""The team's work queue (issue 19): its cases filtered, searched, counted per status, one page at a time.

Everything is decided in SQL (filters, the case's `Werkstatus`, the counts, LIMIT/OFFSET), so a
team with many cases is never read whole. Without a status filter the queue holds the open
cases (every status but `afgerond`); the counts per status apply every filter but the status.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, not_, or_, select

from connectors.readmodel.case_queries import (
    INBOX_PAGE_SIZE,
    INBOX_SIGNALS,
    CaseSummary,
    OutcomeView,
    _signal_counts,
    _signals_of,
    _summary,
)
from connectors.readmodel.case_tables import CaseOutcome, CaseRow, CaseWork
from connectors.readmodel.case_work import status_of
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel
from schemas.cases_v1 import WERKSTATUSSEN, Werkstatus
from schemas.outputs_v1 import Priority
from signals.cases import PRIORITY_RANK

__all__ = ["NOBODY", "HouseSearch", "QueueFilter", "QueuePage", "team_areas", "work_queue_page"]

# The assignee filter's value for cases nobody has.
NOBODY = "niemand"
_DIGITS = tuple("0123456789")


@dataclass(frozen=True)
class HouseSearch:
    """A search by address: the postcode, and a house number typed bare (12) or whole (`key`: 12A, 12-2)."""

    postcode: str  # normalised, e.g. 1011AB
    number: int | None = None
    key: str | None = None  # the household key when a letter or addition was typed


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: every field None means no filter on it."""

    wijk: str | None = None
    buurt: str | None = None
    priority: Priority | None = None
    status: Werkstatus | None = None  # None: every open case
    assignee: str | None = None  # a member id, or NOBODY
    due_by: date | None = None  # next action on or before this local day (due today: today)
    search: HouseSearch | None = None


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, how many match in all, and the counts per status and due."""

    cases: tuple[CaseSummary, ...]
    total: int
    offset: int
    limit: int
    counts: dict[str, int] = field(default_factory=dict)  # every Werkstatus, 0 when none
    due: int = 0  # open cases whose next action is due by `today` (today or before)

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None on the last page."""
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        """Where the previous page starts, or None on the first page."""
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def _search(key: Any, search: HouseSearch) -> Any:
    """Households at the address: postcode only, bare number (12, 12A, 12-2; not 120), or the whole key."""
    if search.key is not None:
        return or_(key == search.key, key.like(search.key + "-%"))
    if search.number is None:
        return key.like(f"{search.postcode}-%")
    prefix = f"{search.postcode}-{search.number}"
    after = func.substr(key, len(prefix) + 1, 1)
    return and_(key.like(prefix + "%"), not_(after.in_(_DIGITS)))


def _queue(team_id: str, flt: QueueFilter) -> Any:
    """The team's cases with their work columns and status, every filter applied but the status."""
    cases, work = table_of(CaseRow), table_of(CaseWork)
    stmt = (
        select(
            cases,
            work.c.assignee,
            work.c.next_action_on,
            cast(status_of(cases.c.case_id), String(20)).label("work_status"),
        )
        .select_from(cases.outerjoin(work, work.c.case_id == cases.c.case_id))
        .where(cases.c.team_id == team_id)
    )
    if flt.wijk is not None:
        stmt = stmt.where(cases.c.wijk_code == flt.wijk)
    if flt.buurt is not None:
        stmt = stmt.where(cases.c.buurt_code == flt.buurt)
    if flt.priority is not None:
        stmt = stmt.where(cases.c.priority_rank == PRIORITY_RANK[flt.priority])
    if flt.assignee == NOBODY:
        stmt = stmt.where(work.c.assignee.is_(None))
    elif flt.assignee is not None:
        stmt = stmt.where(work.c.assignee == flt.assignee)
    if flt.due_by is not None:
        stmt = stmt.where(work.c.next_action_on <= flt.due_by)
    if flt.search is not None:
        stmt = stmt.where(_search(cases.c.household_key, flt.search))
    return stmt.subquery()


async def work_queue_page(
    rm: ReadModel,
    team_id: str,
    flt: QueueFilter,
    *,
    today: date | None = None,
    limit: int = INBOX_PAGE_SIZE,
    offset: int = 0,
) -> QueuePage:
    """One page of the team's queue: most urgent first, then oldest; by next action first when filtering on due."""
    q = _queue(team_id, flt)
    shown = (
        q.c.work_status == flt.status if flt.status is not None else q.c.work_status != literal("afgerond")
    )
    order = [q.c.priority_rank, q.c.first_signal_at, q.c.case_id]
    if flt.due_by is not None:
        order.insert(0, q.c.next_action_on)
    async with rm.reading() as conn:
        page = select(q).where(shown).order_by(*order).offset(offset).limit(limit)
        rows = (await conn.execute(page)).mappings().all()
        total = (await conn.execute(select(func.count()).select_from(q).where(shown))).scalar_one()
        by_status = select(q.c.work_status, func.count()).group_by(q.c.work_status)
        counts = {str(s): int(n) for s, n in (await conn.execute(by_status)).all()}
        due = 0
        if today is not None:
            open_due = and_(q.c.work_status != literal("afgerond"), q.c.next_action_on <= today)
            due = (await conn.execute(select(func.count()).select_from(q).where(open_due))).scalar_one()
        ids = [r["case_id"] for r in rows]
        signals = await _signals_of(conn, ids, limit=INBOX_SIGNALS)
        signal_counts = await _signal_counts(conn, ids)
        outcomes = await _outcomes_of(conn, ids) if flt.status == "afgerond" else {}
    found = tuple(
        replace(
            _summary(
                r, signals.get(r["case_id"], ()), outcomes.get(r["case_id"]), signal_counts.get(r["case_id"])
            ),
            assignee=r["assignee"],
            next_action_on=r["next_action_on"],
        )
        for r in rows
    )
    return QueuePage(found, int(total), offset, limit, {s: counts.get(s, 0) for s in WERKSTATUSSEN}, int(due))


async def _outcomes_of(conn: Any, case_ids: list[str]) -> dict[str, OutcomeView]:
    """The outcome of each of these (closed) cases."""
    table = table_of(CaseOutcome)
    rows = (await conn.execute(select(table).where(table.c.case_id.in_(case_ids)))).mappings().all()
    return {r["case_id"]: OutcomeView(r["resultaat"], r["datum"], r["actor"], r["recorded_at"]) for r in rows}


async def team_areas(rm: ReadModel, team_id: str) -> tuple[list[str], list[str]]:
    """The wijken and buurten the team's cases lie in, sorted: the choices of the filter form."""
    cases = table_of(CaseRow)
    async with rm.reading() as conn:
        wijken = select(cases.c.wijk_code).where(cases.c.team_id == team_id, cases.c.wijk_code.is_not(None))
        buurten = select(cases.c.buurt_code).where(
            cases.c.team_id == team_id, cases.c.buurt_code.is_not(None)
        )
        found_w = (await conn.execute(wijken.distinct().order_by(cases.c.wijk_code))).scalars().all()
        found_b = (await conn.execute(buurten.distinct().order_by(cases.c.buurt_code))).scalars().all()
    return list(found_w), list(found_b)
