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
from typing import Final

from schemas.internal_v1 import AcceptedEvent
from signals.cases import matching_period
from signals.figures import is_settled
from signals.state import HouseholdState

__all__ = ["NEVER_REFUSED", "HouseholdLimits", "case_period", "refusal"]

# Event types that end or reduce a claim: they never add an open debt.
NEVER_REFUSED: Final[frozenset[str]] = frozenset({"debt.closed", "payment.received"})


@dataclass(frozen=True)
class HouseholdLimits:
    """The bounds; `HouseholdLimits()` gives the defaults of the settings."""

    max_open_debts: int = 50
    max_signals_per_case: int = 10
    coalesce_within: timedelta = timedelta(minutes=60)
    case_period_months: int = 1

    def __post_init__(self) -> None:
        if self.max_open_debts < 1 or self.max_signals_per_case < 1:
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


def refusal(state: HouseholdState | None, accepted: AcceptedEvent, limits: HouseholdLimits) -> str | None:
    """Why this event is beyond the household's bounds (a sentence for the dead letter), or None."""
    if state is None:
        return None
    event = accepted.event
    if state.debt((event.source, event.creditor_id, event.debt_ref)) is not None:
        return None  # a known debt: never refused
    if len(state.debts) >= limits.max_tracked_debts:
        return (
            f"household already tracks {len(state.debts)} debts "
            f"(max_tracked_debts {limits.max_tracked_debts}); a new debt is not added"
        )
    if event.type in NEVER_REFUSED:
        return None
    count = open_debts(state)
    if count >= limits.max_open_debts:
        return (
            f"household already has {count} open debts "
            f"(max_open_debts_per_household {limits.max_open_debts}); a new debt is not added"
        )
    return None


def case_period(at: datetime, limits: HouseholdLimits) -> date:
    """The first day of the matching period (the case) a signal raised at `at` belongs to."""
    return matching_period(at, limits.case_period_months)[0]
