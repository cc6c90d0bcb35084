"""Topic names, and the one place that decides which topic an effect, dead letter or feedback goes to.

What a creditor consumes (reminders, costs permitted, cost violations, its dead letters and
the Bgs art. 17 feedback) goes to one topic per source, `<prefix><kind>.<source>`, so a broker
ACL can grant each creditor only its own topics (infra/kubernetes/acl/). What the teams, the
municipality and the read model consume (signals, resolutions, overviews, case events) is
shared. A dead letter whose source is not a creditor's (a bad clock tick, an undecodable
internal message) goes to `<prefix>dead-letter.unrouted`, which only the operator reads.
"""

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

# Read by one creditor each: `<prefix><name>.<source>`, the source being the effect's debt's.
CREDITOR_OUTPUT_TOPICS: dict[type, str] = {
    ReminderIssued: "reminders",
    CostsPermitted: "costs-permitted",
    CostViolation: "cost-violations",
}
# Read by the teams, the municipality and the read model: `<prefix><name>`.
SHARED_OUTPUT_TOPICS: dict[type, str] = {
    Signal: "signals",
    SignalResolved: "signal-resolutions",
    HouseholdOverview: "household-overviews",
}
# The kind of every output: its topic's base name, and the stem of a replay's output file.
OUTPUT_TOPICS: dict[type, str] = {**SHARED_OUTPUT_TOPICS, **CREDITOR_OUTPUT_TOPICS}
DEAD_LETTER = "dead-letter"
CREDITOR_FEEDBACK = "creditor-feedback"
# The dead letters of no creditor: not a source name (SOURCES is closed), read by the operator only.
UNROUTED = "unrouted"


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

    def output(self, effect: Effect | HouseholdOverview) -> str:
        """Output topic of an effect: its creditor's own for what a creditor reads, else the shared one."""
        if isinstance(effect, ReminderIssued | CostsPermitted | CostViolation):
            return self._per_source(CREDITOR_OUTPUT_TOPICS[type(effect)], effect.debt.source)
        return f"{self.prefix}{SHARED_OUTPUT_TOPICS[type(effect)]}"

    @property
    def signals(self) -> str:
        return f"{self.prefix}{SHARED_OUTPUT_TOPICS[Signal]}"

    @property
    def shared_outputs(self) -> tuple[str, ...]:
        """The outputs of the teams, the municipality and the read model."""
        return tuple(f"{self.prefix}{name}" for name in SHARED_OUTPUT_TOPICS.values())

    @property
    def all_outputs(self) -> tuple[str, ...]:
        """Every output topic, shared and per source: what the read-model sink reads."""
        per_source = (self._per_source(n, s) for n in CREDITOR_OUTPUT_TOPICS.values() for s in SOURCES)
        return (*self.shared_outputs, *per_source)

    def output_kind(self, topic: str) -> str | None:
        """The kind ('reminders', 'signals', ...) of an output topic of this prefix; None for any other topic."""
        for name in SHARED_OUTPUT_TOPICS.values():
            if topic == f"{self.prefix}{name}":
                return name
        for name in CREDITOR_OUTPUT_TOPICS.values():
            if topic in (self._per_source(name, s) for s in SOURCES):
                return name
        return None

    def dead_letter_for(self, source: str | None) -> str:
        """The dead-letter topic of a source; `dead-letter.unrouted` when it is no creditor's (or unknown)."""
        if source in SOURCES:
            return self._per_source(DEAD_LETTER, source)
        return self.dead_letter_unrouted

    @property
    def dead_letter_unrouted(self) -> str:
        """Dead letters of no known creditor (a bad clock tick, an undecodable internal message): operator only."""
        return f"{self.prefix}{DEAD_LETTER}.{UNROUTED}"

    @property
    def all_dead_letters(self) -> tuple[str, ...]:
        return (*(self.dead_letter_for(s) for s in SOURCES), self.dead_letter_unrouted)

    @property
    def case_events(self) -> str:
        """Team changes and audited reads of cases (schemas/cases_v1.py), keyed by household."""
        return f"{self.prefix}case-events"

    def creditor_feedback_for(self, source: str) -> str:
        """Bgs art. 17 feedback to the creditors of a source (in help / not picked up), keyed by creditor."""
        if source not in SOURCES:
            raise ValueError(f"no creditor feedback topic for {source!r}: not one of {', '.join(SOURCES)}")
        return self._per_source(CREDITOR_FEEDBACK, source)

    @property
    def all_creditor_feedback(self) -> tuple[str, ...]:
        return tuple(self.creditor_feedback_for(s) for s in SOURCES)

    def of_creditor(self, source: str) -> tuple[str, ...]:
        """Every topic the creditors of a source read (their ACL's Read): nothing of another source."""
        if source not in SOURCES:
            raise ValueError(f"{source!r} is not a source: one of {', '.join(SOURCES)}")
        return (
            *(self._per_source(name, source) for name in CREDITOR_OUTPUT_TOPICS.values()),
            self.dead_letter_for(source),
            self.creditor_feedback_for(source),
        )

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
            *self.all_dead_letters,
            self.case_events,
            *self.all_creditor_feedback,
        )

    def _per_source(self, name: str, source: str) -> str:
        return f"{self.prefix}{name}.{source}"
