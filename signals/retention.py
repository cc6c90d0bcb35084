"""Retention: when a quiet household is forgotten and when an inactive case is closed. Pure.

One rule for both places that hold a household: the worker's stream table (judged on the
household's state at stream time) and the read model (judged on the household's last overview
by `vroegsignaal retention`), so the two always agree. Days are local days of the
Europe/Amsterdam calendar and a period ends at the start of a local day, like every date rule
here (`signals.calendar`).

Sources: AVG art. 5 lid 1 onder e (storage limitation: personal data kept no longer than the
purpose needs). The purpose of a household's debts is the signal; once no debt is open and no
signal or case is open, `household_forget_days` of quiet ends it. The period is longer than the
consecutive rule's look-back (`rules.consecutive_lookback_days`), so forgetting never changes a
rule's outcome (Settings checks this).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from schemas.cases_v1 import Eindresultaat, OutcomeRecorded
from schemas.outputs_v1 import DebtRef
from signals.calendar import day_start, local_day
from signals.cases import outcome_id
from signals.figures import is_settled
from signals.state import HouseholdState

__all__ = [
    "NO_CONTACT",
    "NO_REACTION",
    "SYSTEM_ACTOR",
    "InactiveCase",
    "case_close_at",
    "close_inactive_case",
    "household_forget_at",
    "may_forget",
    "quiet_since",
    "state_forget_at",
]

# Who closes a case for inactivity: the system, never a member (audit log, DDAS delivery).
SYSTEM_ACTOR: Final = "system:retention"
# DDAS EnumEindresultaat for a household that stopped reacting after it was reached once ...
NO_REACTION: Final[Eindresultaat] = "Geen reactie na eerder contact"
# ... and for one that was never reached at all.
NO_CONTACT: Final[Eindresultaat] = "Definitief geen contact kunnen krijgen"


def _after_days(moment: datetime, days: int) -> datetime:
    """The start of the local day `days` after the local day of `moment`."""
    return day_start(local_day(moment) + timedelta(days=days))


def household_forget_at(quiet_since: datetime, days: int) -> datetime:
    """When a household quiet since `quiet_since` is forgotten: the start of the local day `days` later.

    >>> from datetime import UTC
    >>> household_forget_at(datetime(2025, 3, 10, 13, 0, tzinfo=UTC), 365).isoformat()
    '2026-03-09T23:00:00+00:00'
    """
    return _after_days(quiet_since, days)


def may_forget(*, quiet_since: datetime | None, open_case: bool, now: datetime, days: int) -> bool:
    """The rule: no open debt or signal (`quiet_since` is set), no open case, and the period is over."""
    return quiet_since is not None and not open_case and now >= household_forget_at(quiet_since, days)


def quiet_since(state: HouseholdState) -> datetime | None:
    """Since when the household has had no open debt and no open signal (its clock), or None.

    A debt is open until it is closed or nothing is left to pay: the same test as the overview's
    `open_creditors`, so the read model's last overview gives the same answer.
    """
    if state.open_signal is not None or any(not is_settled(d, state.as_of) for d in state.debts):
        return None
    return state.as_of


def state_forget_at(state: HouseholdState, days: int) -> datetime | None:
    """When the stream table forgets this household's state (None: not while a debt or signal is open).

    The stream table holds no cases: a case still open in the read model keeps its household
    there (the read model's rule sees it), not in the table; forgetting the state changes no rule.
    """
    since = quiet_since(state)
    return household_forget_at(since, days) if since is not None else None


@dataclass(frozen=True)
class InactiveCase:
    """An open case as the read model has it: its last activity, and whether anyone was reached."""

    case_id: str
    household_key: str
    team_id: str
    last_activity_at: datetime
    reached: bool
    debts: tuple[DebtRef, ...]


def case_close_at(last_activity_at: datetime, days: int) -> datetime:
    """When a case with no activity since `last_activity_at` is closed: the start of the local day `days` later.

    >>> from datetime import UTC
    >>> case_close_at(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 90).isoformat()  # 29 March local
    '2026-06-26T22:00:00+00:00'
    """
    return _after_days(last_activity_at, days)


def close_inactive_case(case: InactiveCase, *, now: datetime, days: int) -> OutcomeRecorded | None:
    """The system's outcome for a case without activity for `days`, or None while it is not due.

    "Geen reactie na eerder contact" when a contact attempt ever reached the household, else
    "Definitief geen contact kunnen krijgen" (DDAS Uitwisselmodel v1.2, EnumEindresultaat). Its id
    is the case's one outcome id, so a team's outcome recorded meanwhile wins and a rerun adds nothing.
    """
    if now < case_close_at(case.last_activity_at, days):
        return None
    return OutcomeRecorded(
        event_id=outcome_id(case.case_id),
        household_key=case.household_key,
        case_id=case.case_id,
        team_id=case.team_id,
        actor=SYSTEM_ACTOR,
        occurred_at=now,
        resultaat=NO_REACTION if case.reached else NO_CONTACT,
        datum=local_day(now),
        debts=case.debts,
    )
