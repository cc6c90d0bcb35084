"""Pure mapping from signals and case events to the rows of the team-workflow tables.

`plan_case_batch` applies the batch rules the SQL upserts apply across batches,
so the rows do not depend on how the messages were cut into batches: a case
keeps its earliest and latest signal and most urgent priority; a signal's status
is the newest change, and so are a case's assignment and next action; a case's outcome is the
first one recorded; a case event whose id came before (in the batch or, checked by the writer, in the audit log) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.cases_v1 import (
    CaseAssigned,
    ContactAttemptRecorded,
    NextActionPlanned,
    OutcomeRecorded,
    OverviewViewed,
    SignalStatusChanged,
)
from schemas.outputs_v1 import Signal
from signals.cases import PRIORITY_RANK, case_id_of, matching_period

__all__ = ["INITIAL_STATUS", "CaseItem", "CaseRows", "audit_row", "case_row", "plan_case_batch"]

Row = dict[str, Any]
CaseItem = (
    Signal
    | ContactAttemptRecorded
    | OutcomeRecorded
    | SignalStatusChanged
    | OverviewViewed
    | CaseAssigned
    | NextActionPlanned
)
Change = ContactAttemptRecorded | OutcomeRecorded | SignalStatusChanged | CaseAssigned | NextActionPlanned
INITIAL_STATUS = "Nog niet opgepakt"
_ROUTE_FIELDS = ("team_id", "gemeente_code", "wijk_code", "buurt_code")


def case_row(sig: Signal, period_months: int) -> Row:
    """The `cases` row a signal makes (or merges into)."""
    start, end = matching_period(sig.raised_at, period_months)
    return {
        "case_id": case_id_of(sig.household_key, start),
        "household_key": sig.household_key,
        "team_id": sig.route.team_id,
        "gemeente_code": sig.route.gemeente_code,
        "wijk_code": sig.route.wijk_code,
        "buurt_code": sig.route.buurt_code,
        "period_start": start,
        "period_end": end,
        "first_signal_at": sig.raised_at,
        "last_signal_at": sig.raised_at,
        "priority_rank": PRIORITY_RANK[sig.priority],
    }


def merge_case(old: Row, new: Row) -> Row:
    """Two rows of one case: earliest first, latest last (whose route wins), most urgent rank."""
    latest = new if new["last_signal_at"] >= old["last_signal_at"] else old
    return {
        **old,
        **{k: latest[k] for k in _ROUTE_FIELDS},
        "first_signal_at": min(old["first_signal_at"], new["first_signal_at"]),
        "last_signal_at": latest["last_signal_at"],
        "priority_rank": min(old["priority_rank"], new["priority_rank"]),
    }


def audit_row(event: Change | OverviewViewed) -> Row:
    """The `audit_log` row of any case event: who, when, what (never the content)."""
    return {
        "event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "team_id": event.team_id,
        "action": _action(event),
        "household_key": event.household_key,
        "case_id": event.case_id,
        "signal_id": event.signal_id if isinstance(event, SignalStatusChanged) else None,
    }


def _action(event: Change | OverviewViewed) -> str:
    """What happened: the event's type, and for a refused read the answer (`read_refused_404`)."""
    if isinstance(event, OverviewViewed) and event.status != 200:
        return f"read_refused_{event.status}"
    return event.type


def _change(event: Change) -> Row:
    return {"case_id": event.case_id, "household_key": event.household_key}


@dataclass
class CaseRows:
    """The rows one batch writes, deduplicated on their keys."""

    cases: dict[str, Row] = field(default_factory=dict)
    links: dict[str, Row] = field(default_factory=dict)  # signal -> case, status untouched
    statuses: dict[str, Row] = field(default_factory=dict)
    attempts: dict[str, Row] = field(default_factory=dict)
    outcomes: dict[str, Row] = field(default_factory=dict)
    audit: dict[str, Row] = field(default_factory=dict)
    # case -> its newest assignment / next action in the batch (the work queue, table case_work)
    assignments: dict[str, Row] = field(default_factory=dict)
    next_actions: dict[str, Row] = field(default_factory=dict)

    def add_signal(self, sig: Signal, period_months: int) -> None:
        """A signal makes or widens its case and links itself to it."""
        row = case_row(sig, period_months)
        old = self.cases.get(row["case_id"])
        self.cases[row["case_id"]] = row if old is None else merge_case(old, row)
        self.links[sig.signal_id] = {
            "signal_id": sig.signal_id,
            "case_id": row["case_id"],
            "household_key": sig.household_key,
            "status": INITIAL_STATUS,
            "changed_at": None,
            "changed_by": None,
            "event_id": None,
        }

    def add_status(self, event: SignalStatusChanged) -> None:
        """The newest change of a signal's status wins; equal times go to the larger event id."""
        row = _change(event) | {
            "signal_id": event.signal_id,
            "status": event.status,
            "changed_at": event.occurred_at,
            "changed_by": event.actor,
            "event_id": event.event_id,
        }
        old = self.statuses.get(event.signal_id)
        if old is None or (old["changed_at"], old["event_id"]) < (row["changed_at"], row["event_id"]):
            self.statuses[event.signal_id] = row

    def add_attempt(self, event: ContactAttemptRecorded) -> None:
        """A contact attempt, once per id."""
        self.attempts.setdefault(
            event.event_id,
            _change(event)
            | {
                "attempt_id": event.event_id,
                "team_id": event.team_id,
                "actor": event.actor,
                "soort": event.soort,
                "bereikt": event.bereikt,
                "datum": event.datum,
                "dagdeel": event.dagdeel,
                "recorded_at": event.occurred_at,
            },
        )

    def add_outcome(self, event: OutcomeRecorded) -> None:
        """The first outcome of a case stays; a later one is only audited."""
        self.outcomes.setdefault(
            event.case_id,
            _change(event)
            | {
                "event_id": event.event_id,
                "team_id": event.team_id,
                "actor": event.actor,
                "resultaat": event.resultaat,
                "datum": event.datum,
                "recorded_at": event.occurred_at,
            },
        )

    def add_assignment(self, event: CaseAssigned) -> None:
        """The newest assignment of a case wins; equal times go to the larger event id."""
        row = _work(event) | {
            "assignee": event.assignee,
            "assigned_at": event.occurred_at,
            "assigned_by": event.actor,
            "assign_event_id": event.event_id,
        }
        _keep_newest(self.assignments, row, "assigned_at", "assign_event_id")

    def add_next_action(self, event: NextActionPlanned) -> None:
        """The newest planning of a case's next action wins; equal times go to the larger event id."""
        row = _work(event) | {
            "next_action_on": event.datum,
            "planned_at": event.occurred_at,
            "planned_by": event.actor,
            "plan_event_id": event.event_id,
        }
        _keep_newest(self.next_actions, row, "planned_at", "plan_event_id")


def _work(event: CaseAssigned | NextActionPlanned) -> Row:
    return _change(event) | {"team_id": event.team_id}


def _keep_newest(rows: dict[str, Row], row: Row, at: str, event_id: str) -> None:
    old = rows.get(row["case_id"])
    if old is None or (old[at], old[event_id]) < (row[at], row[event_id]):
        rows[row["case_id"]] = row


def plan_case_batch(items: Sequence[CaseItem], *, period_months: int = 1) -> CaseRows:
    """Rows to write for one batch of signals and case events, in topic order."""
    rows = CaseRows()
    for item in items:
        if isinstance(item, Signal):
            rows.add_signal(item, period_months)
            continue
        if item.event_id in rows.audit:
            continue  # an id seen before changes nothing, whatever it carries (first one wins)
        rows.audit[item.event_id] = audit_row(item)
        if isinstance(item, ContactAttemptRecorded):
            rows.add_attempt(item)
        elif isinstance(item, OutcomeRecorded):
            rows.add_outcome(item)
        elif isinstance(item, SignalStatusChanged):
            rows.add_status(item)
        elif isinstance(item, CaseAssigned):
            rows.add_assignment(item)
        elif isinstance(item, NextActionPlanned):
            rows.add_next_action(item)
    return rows
