"""Bounds per household: how much one household may hold and raise, so one creditor cannot flood a team.

Pure and event-time only, so a replay decides exactly as the live run did.

- **Open debts** (`max_open_debts`, default 50): an event that would start tracking a new debt
  while the household already has that many unsettled debts is refused (dead-lettered as
  `household_limit`). An event for a debt the household already has is never refused: closing,
  paying, pausing or updating a known debt always folds in. A closing or paying event for an
  unknown debt opens nothing and passes too, up to `max_tracked_debts` (settled debts included,
  so the stored state stays bounded whatever arrives).
  Why 50: households in Dutch debt assistance have about 14 creditors on average (NVVK
  jaarverslag; Nibud), rarely more than 20-30; this pipeline sees only landlords, energy, water,
  health insurers and the CJIB, where only the CJIB sends many claims (one per fine). 50 leaves
  room for a household with many fines and is still a page a team can read.
- **Events per debt** (`max_events_per_debt`, default 100): a known debt takes at most this many
  events within `events_window` (90 days, event time, the dedup horizon's length); a further
  one is refused (`household_limit`), except a `debt.closed` of a debt that is not settled yet, so
  a creditor can always end a claim. Why: each event of a debt is folded against all of that
  debt's facts (a new reminder against every earlier one), so a flood for one debt costs time
  growing with the square of its size: 1,000 reminders for one debt in one request held the
  worker's event loop for seconds, 2,000 for 30 s. A real debt gets a few events a month: a
  reminder, a formal notice, an update, a payment; 100 in 90 days is more than one a day.
- **Events per household** (`max_events_per_household`, default 1,000): a household takes at most
  this many events within `events_window` (90 days of event time, counted on the ids it keeps,
  `seen`); a further one is refused, again except the closing of a debt that is not settled yet. Why: an
  event is evaluated against every debt of the household, so 50 debts of 100 events each (one
  request of 1.9 MB) cost 18 s of fold. A household with 14 creditors gets some hundreds at most.
- **Signals per case** (`max_signals_per_case`, default 10): a case is the household's signals of
  one matching period (signals.cases); beyond this many, news does not raise another signal in
  that period (the case page shows the household's current debts anyway); it is counted.
- **Coalescing** (`coalesce_within`, default 60 minutes): news within this time (event time) of the
  household's open signal updates that signal (same id, newer content: every sink upserts on it)
  instead of raising one more, so a burst of events for one address is one signal. Within a batch
  the household processor sends only its last version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from schemas.internal_v1 import AcceptedEvent
from signals.cases import matching_period
from signals.figures import is_settled
from signals.state import DebtState, HouseholdState

__all__ = [
    "NEVER_REFUSED",
    "HouseholdLimits",
    "Limit",
    "case_period",
    "events_within",
    "refusal",
    "refusal_of",
]

# Event types that end or reduce a claim: they never add an open debt.
NEVER_REFUSED: Final[frozenset[str]] = frozenset({"debt.closed", "payment.received"})

# Which bound refused an event (the `limit` label of vroegsignaal_household_limit_total).
Limit = Literal["open_debts", "events_per_debt", "events_per_household"]


@dataclass(frozen=True)
class HouseholdLimits:
    """The bounds; `HouseholdLimits()` gives the defaults of the settings."""

    max_open_debts: int = 50
    max_signals_per_case: int = 10
    coalesce_within: timedelta = timedelta(minutes=60)
    case_period_months: int = 1
    max_events_per_debt: int = 100
    events_window: timedelta = timedelta(days=90)
    max_events_per_household: int = 1000

    def __post_init__(self) -> None:
        caps = (
            self.max_open_debts,
            self.max_signals_per_case,
            self.max_events_per_debt,
            self.max_events_per_household,
        )
        if min(caps) < 1:
            raise ValueError("the caps must be at least 1")
        if self.coalesce_within < timedelta(0):
            raise ValueError("coalesce_within must not be negative")

    @property
    def max_tracked_debts(self) -> int:
        """Debts a household's state may hold at all, settled ones included."""
        return 4 * self.max_open_debts


def open_debts(state: HouseholdState) -> int:
    """Debts of the household that are not settled (closed or nothing left to pay)."""
    return sum(1 for d in state.debts if not is_settled(d))


def events_within(debt: DebtState, since: datetime) -> int:
    """Events folded into `debt` that happened at or after `since` (each event adds one amount fact)."""
    return sum(1 for fact in debt.amounts if fact.at >= since)


def refusal(state: HouseholdState | None, accepted: AcceptedEvent, limits: HouseholdLimits) -> str | None:
    """Why this event is beyond the household's bounds (a sentence for the dead letter), or None."""
    refused = refusal_of(state, accepted, limits)
    return refused[1] if refused is not None else None


def refusal_of(
    state: HouseholdState | None, accepted: AcceptedEvent, limits: HouseholdLimits
) -> tuple[Limit, str] | None:
    """The bound this event is beyond and why (a sentence for the dead letter), or None."""
    if state is None:
        return None
    event = accepted.event
    known = state.debt((event.source, event.creditor_id, event.debt_ref))
    if known is not None and event.type == "debt.closed" and not is_settled(known):
        return None  # a creditor can always end a claim
    since = max(state.as_of, event.occurred_at) - limits.events_window
    if len(state.seen) >= limits.max_events_per_household:  # `seen` may hold older ids: count the window's
        count = sum(1 for seen in state.seen if seen.at >= since)
        if count >= limits.max_events_per_household:
            return "events_per_household", (
                f"household already has {count} events within {limits.events_window.days} days "
                f"(max_events_per_household {limits.max_events_per_household}); this event is not folded in"
            )
    if known is not None:
        return _beyond_events_per_debt(state, known, accepted, limits)
    if len(state.debts) >= limits.max_tracked_debts:
        return "open_debts", (
            f"household already tracks {len(state.debts)} debts "
            f"(max_tracked_debts {limits.max_tracked_debts}); a new debt is not added"
        )
    if event.type in NEVER_REFUSED:
        return None
    count = open_debts(state)
    if count >= limits.max_open_debts:
        return "open_debts", (
            f"household already has {count} open debts "
            f"(max_open_debts_per_household {limits.max_open_debts}); a new debt is not added"
        )
    return None


def _beyond_events_per_debt(
    state: HouseholdState, debt: DebtState, accepted: AcceptedEvent, limits: HouseholdLimits
) -> tuple[Limit, str] | None:
    """A known debt with `max_events_per_debt` events in the window refuses more (its closing passed before)."""
    event = accepted.event
    since = max(state.as_of, event.occurred_at) - limits.events_window
    count = events_within(debt, since)
    if count < limits.max_events_per_debt:
        return None
    days = limits.events_window.days
    return "events_per_debt", (
        f"debt already has {count} events within {days} days "
        f"(max_events_per_debt {limits.max_events_per_debt}); this event is not folded in"
    )


def case_period(at: datetime, limits: HouseholdLimits) -> date:
    """The first day of the matching period (the case) a signal raised at `at` belongs to."""
    return matching_period(at, limits.case_period_months)[0]
