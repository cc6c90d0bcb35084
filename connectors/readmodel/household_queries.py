"""What the case page shows about a household beyond its debts: how to reach it, and what happened when.

Both read what the read model already holds; nothing here is stored apart. Callers check need to
know (a case of the member's own team) and audit the read first (streams/team/cases.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import select

from connectors.readmodel.case_tables import CaseOutcome, ContactAttempt
from connectors.readmodel.tables import (
    CostGateDecision,
    CostViolationRow,
    Debt,
    Reminder,
    SignalRow,
    table_of,
)
from connectors.readmodel.writer import ReadModel

__all__ = ["HouseholdContact", "HouseholdEvent", "household_contact", "household_events"]

EventKind = Literal[
    "debt_due",
    "reminder",
    "costs_permitted",
    "costs_charged",
    "paid",
    "closed",
    "signal",
    "signal_resolved",
    "attempt",
    "outcome",
]


@dataclass(frozen=True)
class HouseholdContact:
    """The household's contact data as the creditors last sent it with a reminder (never a BSN)."""

    name: str
    street: str | None
    house: str
    postcode: str
    city: str | None
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    as_of: datetime
    source: str


@dataclass(frozen=True)
class HouseholdEvent:
    """One thing that happened to the household or its case; `at` is a day or an instant."""

    at: date | datetime
    kind: EventKind
    creditor: str | None = None
    amount_cents: int | None = None
    note: str | None = None

    @property
    def instant(self) -> datetime:
        """For ordering: a day counts as its start (UTC)."""
        if isinstance(self.at, datetime):
            return self.at
        return datetime(self.at.year, self.at.month, self.at.day, tzinfo=UTC)


async def household_contact(rm: ReadModel, household_key: str, *, limit: int = 50) -> HouseholdContact | None:
    """Name and address from the newest reminder; every phone number and e-mail the newest `limit` name."""
    table = table_of(Reminder)
    stmt = (
        select(table)
        .where(table.c.household_key == household_key)
        .order_by(table.c.issued_at.desc(), table.c.reminder_id)
        .limit(limit)
    )
    async with rm.reading() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    if not rows:
        return None
    newest = rows[0]
    phones = tuple(dict.fromkeys(r["contact_phone"] for r in rows if r["contact_phone"]))
    emails = tuple(dict.fromkeys(r["contact_email"] for r in rows if r["contact_email"]))
    names = await _creditor_names(rm, household_key)
    return HouseholdContact(
        name=newest["contact_name"],
        street=newest["contact_street"],
        house=newest["contact_house"],
        postcode=newest["contact_postcode"],
        city=newest["contact_city"],
        phones=phones,
        emails=emails,
        as_of=newest["issued_at"],
        source=names.get((newest["source"], newest["creditor_id"]), newest["creditor_id"]),
    )


async def _creditor_names(rm: ReadModel, household_key: str) -> dict[tuple[str, str], str]:
    debts = table_of(Debt)
    stmt = select(debts.c.source, debts.c.creditor_id, debts.c.creditor_name).where(
        debts.c.household_key == household_key
    )
    async with rm.reading() as conn:
        return {(r[0], r[1]): r[2] for r in (await conn.execute(stmt)).all()}


async def household_events(
    rm: ReadModel, household_key: str, *, team_id: str, case_id: str
) -> list[HouseholdEvent]:
    """The household's events, oldest first: its debts (due, reminders, costs,
    payments, closing), the signals routed to `team_id`, and the contact attempts and outcome of `case_id`."""
    debts, gates, violations = table_of(Debt), table_of(CostGateDecision), table_of(CostViolationRow)
    signals = table_of(SignalRow)
    attempts, outcomes = table_of(ContactAttempt), table_of(CaseOutcome)
    events: list[HouseholdEvent] = []
    async with rm.reading() as conn:
        names: dict[tuple[str, str], str] = {}
        for d in (await conn.execute(select(debts).where(debts.c.household_key == household_key))).mappings():
            names[(d["source"], d["creditor_id"])] = d["creditor_name"]
            events.extend(_debt_events(d))
        for g in (await conn.execute(select(gates).where(gates.c.household_key == household_key))).mappings():
            creditor = names.get((g["source"], g["creditor_id"]))
            events.append(
                HouseholdEvent(g["permitted_at"], "costs_permitted", creditor, g["max_costs_cents"])
            )
        stmt = select(violations).where(violations.c.household_key == household_key)
        for v in (await conn.execute(stmt)).mappings():
            creditor = names.get((v["source"], v["creditor_id"]))
            events.append(
                HouseholdEvent(v["occurred_at"], "costs_charged", creditor, v["charged_cents"], v["kind"])
            )
        stmt = select(signals).where(signals.c.household_key == household_key, signals.c.team_id == team_id)
        for s in (await conn.execute(stmt)).mappings():
            events.append(HouseholdEvent(s["raised_at"], "signal", None, s["total_cents"], s["priority"]))
            if s["resolved_at"] is not None:
                events.append(HouseholdEvent(s["resolved_at"], "signal_resolved"))
        stmt = select(attempts).where(attempts.c.case_id == case_id)
        for a in (await conn.execute(stmt)).mappings():
            note = f"{a['soort']}, {'bereikt' if a['bereikt'] else 'niet bereikt'}"
            events.append(HouseholdEvent(a["datum"], "attempt", None, None, note))
        for o in (await conn.execute(select(outcomes).where(outcomes.c.case_id == case_id))).mappings():
            events.append(HouseholdEvent(o["datum"], "outcome", None, None, o["resultaat"]))
    events.sort(key=lambda e: (e.instant, _ORDER.index(e.kind)))
    return events


_ORDER: tuple[EventKind, ...] = get_args(EventKind)  # same instant: in this order


def _debt_events(d: Any) -> list[HouseholdEvent]:
    """A debt row's own dates: due, each reminder (earlier episodes too), settled episodes, closing."""
    name = d["creditor_name"]
    found: list[HouseholdEvent] = []
    if d["due_date"] is not None:
        found.append(HouseholdEvent(d["due_date"], "debt_due", name, d["principal_cents"]))
    for episode in d["earlier_episodes"] or ():
        for r in episode.get("reminders", ()):
            found.append(HouseholdEvent(_day(r["sent_on"]), "reminder", name, None, r["kind"]))
        if episode.get("settled_at"):
            found.append(HouseholdEvent(_instant(episode["settled_at"]), "paid", name))
    for r in d["reminders"] or ():
        found.append(HouseholdEvent(_day(r["sent_on"]), "reminder", name, None, r["kind"]))
    if d["status"] == "closed":
        kind: EventKind = "paid" if d["close_reason"] == "paid" else "closed"
        found.append(HouseholdEvent(d["last_event_at"], kind, name, None, d["close_reason"]))
    return found


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
