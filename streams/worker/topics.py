"""Topic names, and which output topic each effect goes to."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.contract_v1 import SOURCES
from schemas.outputs_v1 import (
    CostsPermitted,
    CostViolation,
    Effect,
    HouseholdOverview,
    ReminderIssued,
    Signal,
    SignalResolved,
)

OUTPUT_TOPICS: dict[type, str] = {
    Signal: "signals",
    SignalResolved: "signal-resolutions",
    ReminderIssued: "reminders",
    CostsPermitted: "costs-permitted",
    CostViolation: "cost-violations",
    HouseholdOverview: "household-overviews",
}


@dataclass(frozen=True)
class TopicNames:
    """Every topic of one deployment, derived from its prefix."""

    prefix: str

    def inbound(self, source: str) -> str:
        return f"{self.prefix}inbound.{source}"

    @property
    def all_inbound(self) -> tuple[str, ...]:
        return tuple(self.inbound(s) for s in SOURCES)

    @property
    def events_by_household(self) -> str:
        return f"{self.prefix}events-by-household"

    @property
    def clock(self) -> str:
        """Clock ticks, one per partition; ingest passes them on to the household partitions."""
        return f"{self.prefix}clock"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}dead-letter"

    def output(self, effect: Effect | HouseholdOverview) -> str:
        """Output topic for an effect."""
        return f"{self.prefix}{OUTPUT_TOPICS[type(effect)]}"

    @property
    def all_outputs(self) -> tuple[str, ...]:
        return tuple(f"{self.prefix}{name}" for name in OUTPUT_TOPICS.values())

    @property
    def case_events(self) -> str:
        """Team changes and audited reads of cases (schemas/cases_v1.py), keyed by household."""
        return f"{self.prefix}case-events"

    @property
    def creditor_feedback(self) -> str:
        """Bgs art. 17 feedback to creditors (in help / not picked up), keyed by creditor."""
        return f"{self.prefix}creditor-feedback"

    def source_of(self, topic: str) -> str:
        """Source of an inbound topic name: 'vs.inbound.energy' -> 'energy'."""
        return topic.removeprefix(f"{self.prefix}inbound.")

    @property
    def everything(self) -> tuple[str, ...]:
        return (
            *self.all_inbound,
            self.clock,
            self.events_by_household,
            *self.all_outputs,
            self.dead_letter,
            self.case_events,
            self.creditor_feedback,
        )
