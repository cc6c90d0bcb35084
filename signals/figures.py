"""Figures of one debt and of a household, as of a time (None = everything known).

A debt's facts are logs sorted by event time, so a figure "as of T" reads the facts up
to T. `DebtAt` reads the figures every rule needs once per debt and time, so judging
a household reads each log once instead of once per rule.

Arrears episodes: a debt that is settled (closed, or nothing left to pay) and later owed
again starts a new episode at the first fact that makes it owed again. Reminders, contact
attempts, charges and the cost gate belong to the episode in which they happened. Days
are local days of the Europe/Amsterdam calendar (`signals.calendar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from schemas.outputs_v1 import DebtStatus
from signals.calendar import local_day
from signals.memo import per_object
from signals.state import (
    AmountFact,
    DebtState,
    Fact,
    HouseholdState,
    StatusFact,
    TermsFact,
)

__all__ = [
    "DebtAt",
    "costs_cents",
    "current_terms",
    "days_overdue",
    "debt_at",
    "episode_of",
    "episode_starts",
    "in_episode",
    "is_settled",
    "open_creditor_count",
    "pause_intervals",
    "principal_cents",
    "settled_since",
    "shifted_pay_by",
    "source_kind_count",
    "status_at",
    "total_costs_cents",
    "total_principal_cents",
]

_F = TypeVar("_F", bound=Fact)


def _upto(facts: tuple[_F, ...], at: datetime | None) -> tuple[_F, ...]:
    # Facts are sorted by time: the common case (all known facts) needs no copy.
    if at is None or not facts or facts[-1].at <= at:
        return facts
    return tuple(f for f in facts if f.at <= at)


def principal_cents(debt: DebtState, at: datetime | None = None) -> int:
    """Outstanding principal: the amount of the latest event by event time (ties by event id)."""
    amounts = _upto(debt.amounts, at)
    return amounts[-1].amount_cents if amounts else 0


def costs_cents(debt: DebtState, at: datetime | None = None) -> int:
    """Sum of the collection costs charged."""
    return sum(c.cents for c in _upto(debt.charges, at))


def current_terms(debt: DebtState, at: datetime | None = None) -> TermsFact | None:
    """The latest due date / monthly amount facts."""
    terms = _upto(debt.terms, at)
    return terms[-1] if terms else None


def _overdue(terms: TermsFact | None, at: datetime) -> int:
    return max(0, (local_day(at) - terms.due_date).days) if terms else 0


def days_overdue(debt: DebtState, at: datetime) -> int:
    """Local days since the oldest unpaid due date (0 when unknown or not yet due; 1 = first day in default)."""
    return _overdue(current_terms(debt, at), at)


def status_at(debt: DebtState, at: datetime | None = None) -> DebtStatus:
    """open, paused (until its date) or closed, from the latest status fact."""
    statuses = _upto(debt.statuses, at)
    if not statuses:
        return "open"
    last = statuses[-1]
    if (
        last.status == "paused"
        and at is not None
        and last.paused_until
        and local_day(at) >= last.paused_until
    ):
        return "open"
    return last.status


def is_settled(debt: DebtState, at: datetime | None = None) -> bool:
    """Closed, or nothing left to pay."""
    return status_at(debt, at) == "closed" or principal_cents(debt, at) == 0


def settled_since(debt: DebtState, at: datetime | None = None) -> datetime | None:
    """Since when the debt has been settled without interruption (None if it is not)."""
    timeline = sorted([*_upto(debt.amounts, at), *_upto(debt.statuses, at)], key=lambda f: f.order())
    principal, closed, since = 0, False, None
    for fact in timeline:
        if isinstance(fact, AmountFact):
            principal = fact.amount_cents
        elif isinstance(fact, StatusFact):
            closed = fact.status == "closed"
        settled = closed or principal == 0
        since = (since or fact.at) if settled else None
    return since


def pause_intervals(debt: DebtState, at: datetime | None = None) -> list[tuple[date, date]]:
    """Days collection was paused: [start, end), a pause ends at its date or the next status fact."""
    statuses = _upto(debt.statuses, at)
    intervals = []
    for index, fact in enumerate(statuses):
        if fact.status != "paused" or fact.paused_until is None:
            continue
        end = fact.paused_until
        start = local_day(fact.at)
        if index + 1 < len(statuses):
            end = min(end, local_day(statuses[index + 1].at))
        if end > start:
            intervals.append((start, end))
    return intervals


def shifted_pay_by(sent_on: date, term_days: int, pauses: list[tuple[date, date]]) -> date:
    """Pay-by date of a term, moved later by every paused day that falls within the running term.

    >>> shifted_pay_by(date(2024, 1, 1), 14, [])
    datetime.date(2024, 1, 15)
    >>> shifted_pay_by(date(2024, 1, 1), 14, [(date(2024, 1, 5), date(2024, 1, 15))])
    datetime.date(2024, 1, 25)
    >>> shifted_pay_by(date(2024, 1, 1), 14, [(date(2024, 1, 16), date(2024, 2, 1))])
    datetime.date(2024, 1, 15)
    """
    pay_by, cursor = sent_on + timedelta(days=term_days), sent_on
    for start, end in sorted(pauses):
        start = max(start, cursor)
        if start > pay_by:
            break
        if end > start:
            # The paused days are added to the term; the pay-by day itself still counts as in-term.
            pay_by += end - start
            cursor = end
    return pay_by


def episode_starts(debt: DebtState, at: datetime | None = None) -> tuple[datetime, ...]:
    """When each arrears episode began: the first fact after which the debt was owed again."""
    # The facts known at `at` are a prefix of the whole timeline (it is sorted by time first),
    # so its starts are the whole timeline's starts up to `at`.
    starts = _all_episode_starts(debt)
    if at is None or not starts or starts[-1] <= at:
        return starts
    return tuple(s for s in starts if s <= at)


@per_object
def _all_episode_starts(debt: DebtState) -> tuple[datetime, ...]:
    timeline = sorted([*debt.amounts, *debt.statuses], key=lambda f: f.order())
    principal, closed, was_settled = 0, False, True
    starts: list[datetime] = []
    for fact in timeline:
        if isinstance(fact, AmountFact):
            principal = fact.amount_cents
        elif isinstance(fact, StatusFact):
            closed = fact.status == "closed"
        settled = closed or principal == 0
        if was_settled and not settled and (not starts or starts[-1] != fact.at):
            starts.append(fact.at)
        was_settled = settled
    return tuple(starts)


def episode_of(starts: tuple[datetime, ...], at: datetime) -> datetime | None:
    """The start of the episode a moment belongs to: the latest start at or before it."""
    found = None
    for start in starts:
        if start > at:
            break
        found = start
    return found


def in_episode(starts: tuple[datetime, ...], episode: datetime | None, at: datetime) -> bool:
    """The moment belongs to the episode that started at `episode`."""
    return episode is not None and episode_of(starts, at) == episode


@dataclass(frozen=True, slots=True, eq=False)
class DebtAt:
    """One debt's figures as of `at`: what the rules and the overview read, read once."""

    debt: DebtState
    at: datetime
    principal_cents: int
    terms: TermsFact | None
    status: DebtStatus
    settled: bool
    days_overdue: int


def debt_at(debt: DebtState, at: datetime) -> DebtAt:
    """The debt's figures as of `at` (the same values as the single-figure functions give)."""
    amounts, terms = _upto(debt.amounts, at), _upto(debt.terms, at)
    principal = amounts[-1].amount_cents if amounts else 0
    current = terms[-1] if terms else None
    status = status_at(debt, at)
    return DebtAt(
        debt=debt,
        at=at,
        principal_cents=principal,
        terms=current,
        status=status,
        settled=status == "closed" or principal == 0,
        days_overdue=_overdue(current, at),
    )


# -- figures of the household ----------------------------------------------------------------------


def _unsettled(state: HouseholdState, at: datetime | None) -> list[DebtState]:
    return [d for d in state.debts if not is_settled(d, at)]


def total_principal_cents(state: HouseholdState, at: datetime | None = None) -> int:
    """Sum of the principal of all debts."""
    return sum(principal_cents(d, at) for d in state.debts)


def total_costs_cents(state: HouseholdState, at: datetime | None = None) -> int:
    """Sum of the costs charged on all debts."""
    return sum(costs_cents(d, at) for d in state.debts)


def open_creditor_count(state: HouseholdState, at: datetime | None = None) -> int:
    """Distinct creditors (source, creditor_id) with an unsettled debt."""
    return len({(d.source, d.creditor_id) for d in _unsettled(state, at)})


def source_kind_count(state: HouseholdState, at: datetime | None = None) -> int:
    """Distinct sources (housing, energy, ...) with an unsettled debt."""
    return len({d.source for d in _unsettled(state, at)})
