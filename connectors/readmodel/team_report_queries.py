"""One team's cases of a period for its coordinator's report page, per gemeente (a DDAS levering is per gemeente)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from connectors.readmodel.case_tables import CaseRow
from connectors.readmodel.report_queries import ReportCase, cases_in_period
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel

__all__ = ["team_cases_in_period"]


async def team_cases_in_period(
    rm: ReadModel, team_id: str, start: date, end: date
) -> dict[str, list[ReportCase]]:
    """gemeente code -> the team's cases whose matching period overlaps [start, end], as the CBS report reads them.

    Cases routed without a gemeente (an address outside the map) cannot be reported and are left out.
    """
    cases = table_of(CaseRow)
    stmt = select(cases.c.case_id, cases.c.gemeente_code).where(
        cases.c.team_id == team_id,
        cases.c.gemeente_code.is_not(None),
        cases.c.period_start <= end,
        cases.c.period_end >= start,
    )
    async with rm.reading() as conn:
        rows = (await conn.execute(stmt)).all()
    ids = {case_id for case_id, _ in rows}
    found: dict[str, list[ReportCase]] = {}
    for gemeente in sorted({g for _, g in rows}):
        found[gemeente] = [c for c in await cases_in_period(rm, gemeente, start, end) if c.case_id in ids]
    return found
