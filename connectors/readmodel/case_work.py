"""The work queue's columns of a case in SQL: who has it, its next action, where it stands (issue 19).

`status_of` is `signals.cases.work_status` as a SQL expression, so the inbox can filter and
count by it in the database; tests/integration/test_work_queue.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, exists, select

from connectors.readmodel.case_tables import CaseOutcome, CaseWork, ContactAttempt
from connectors.readmodel.sessions import TeamSession
from connectors.readmodel.tables import table_of
from connectors.readmodel.writer import ReadModel

__all__ = ["WorkView", "known_members", "status_of", "stored_work", "work_of"]


@dataclass(frozen=True)
class WorkView:
    """A case's place in the work queue (no row: nobody has it and nothing is planned)."""

    assignee: str | None = None
    next_action_on: date | None = None
    assign_event_id: str | None = None
    plan_event_id: str | None = None


def status_of(case_id: ColumnElement[Any]) -> ColumnElement[str]:
    """The case's `Werkstatus` (afgerond, bereikt, contact_gezocht, nieuw), correlated on `case_id`."""
    outcomes, attempts = table_of(CaseOutcome), table_of(ContactAttempt)
    tried = attempts.c.case_id == case_id
    return case(
        (exists().where(outcomes.c.case_id == case_id), "afgerond"),
        (exists().where(tried, attempts.c.bereikt.is_(True)), "bereikt"),
        (exists().where(tried), "contact_gezocht"),
        else_="nieuw",
    )


async def work_of(conn: Any, case_ids: Iterable[str]) -> dict[str, WorkView]:
    """The work-queue row of each of these cases that has one, on an open connection."""
    table, ids = table_of(CaseWork), list(case_ids)
    found: dict[str, WorkView] = {}
    for start in range(0, len(ids), 500):
        stmt = select(table).where(table.c.case_id.in_(ids[start : start + 500]))
        for row in (await conn.execute(stmt)).mappings():
            found[row["case_id"]] = WorkView(
                row["assignee"], row["next_action_on"], row["assign_event_id"], row["plan_event_id"]
            )
    return found


async def stored_work(rm: ReadModel, case_id: str) -> WorkView | None:
    """The case's work-queue row as stored, or None while no assignment or next action was folded."""
    async with rm.reading() as conn:
        return (await work_of(conn, [case_id])).get(case_id)


async def known_members(rm: ReadModel, team_id: str) -> list[str]:
    """Member ids the read model knows for the team besides the teams file: signed in for it (OIDC), or
    having one of its cases; sorted."""
    sessions, work = table_of(TeamSession), table_of(CaseWork)
    signed_in = select(sessions.c.member_id).where(sessions.c.team_id == team_id)
    assigned = select(work.c.assignee).where(work.c.team_id == team_id, work.c.assignee.is_not(None))
    async with rm.reading() as conn:
        found = set((await conn.execute(signed_in.distinct())).scalars()) | set(
            (await conn.execute(assigned.distinct())).scalars()
        )
    return sorted(found)
