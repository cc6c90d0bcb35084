"""Example work-queue events (assignments, next actions) for the unit and integration tests."""

from __future__ import annotations

from datetime import date, datetime

from schemas.cases_v1 import CaseAssigned, NextActionPlanned
from signals.cases import assignment_id, next_action_id
from tests.unit import case_examples as ex


def assigned(
    request: str,
    at: datetime,
    assignee: str | None,
    *,
    actor: str = "centrum-01",
    previous: str | None = None,
    household: str = ex.HOUSEHOLD,
    case_at: datetime = ex.SEPT,
) -> CaseAssigned:
    """`actor` gives HOUSEHOLD's September case to `assignee` (None: nobody) at `at`."""
    case_id = ex.case_of(case_at, household)
    return CaseAssigned(
        event_id=assignment_id(case_id, request),
        case_id=case_id,
        household_key=household,
        team_id=ex.TEAM,
        actor=actor,
        occurred_at=at,
        assignee=assignee,
        previous=previous,
    )


def planned(
    request: str,
    at: datetime,
    datum: date | None,
    *,
    household: str = ex.HOUSEHOLD,
    case_at: datetime = ex.SEPT,
) -> NextActionPlanned:
    """The next action of HOUSEHOLD's September case planned on `datum` (None: cleared) at `at`."""
    case_id = ex.case_of(case_at, household)
    return NextActionPlanned(
        event_id=next_action_id(case_id, request),
        case_id=case_id,
        household_key=household,
        team_id=ex.TEAM,
        actor="centrum-01",
        occurred_at=at,
        datum=datum,
    )
