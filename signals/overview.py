"""Household state: the fold of a household's creditor events into one debt overview.

A debt keeps its facts as small logs sorted by event time, so the fold is commutative
(any arrival order gives the same state) and every figure can be read "as of" a time:
a deadline at T is judged on the facts that had happened by T, whenever it fires.

Every creditor event's `amount_cents` is read as the debt's outstanding principal at that
moment, so the principal is the amount of the latest event by event time. Status changes
come from debt.opened (open), collection.paused (paused until a date; a new pause with an
earlier date resumes collection) and debt.closed; debt.updated changes amounts and terms only.

The models live in `signals.state` and the figures in `signals.figures`; both are
re-exported here, so this module is the one to import the household state from.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Literal, TypeVar

from schemas.contract_v1 import (
    CollectionPaused,
    ContactAttempted,
    CostsCharged,
    CreditorEvent,
    DebtClosed,
    DebtOpened,
    DebtUpdated,
    PaymentReceived,
    ReminderSent,
    SupplyEnding,
)
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import DebtorContact, Effect
from signals.calendar import day_start, local_day
from signals.figures import (
    DebtAt,
    costs_cents,
    current_terms,
    days_overdue,
    debt_at,
    is_settled,
    open_creditor_count,
    pause_intervals,
    principal_cents,
    settled_since,
    shifted_pay_by,
    source_kind_count,
    status_at,
    total_costs_cents,
    total_principal_cents,
)
from signals.state import (
    AmountFact,
    ContactFact,
    CreditorMark,
    DebtKey,
    DebtState,
    Fact,
    GateState,
    HouseholdState,
    MoneyFact,
    OpenSignal,
    ReminderFact,
    SeenEvent,
    StatusFact,
    SupplyFact,
    TermsFact,
    copy_with,
    made,
)

__all__ = [
    "CONFLICTING_DUPLICATE",
    "AmountFact",
    "ContactFact",
    "CreditorMark",
    "DebtAt",
    "DebtKey",
    "DebtState",
    "DedupVerdict",
    "Fact",
    "GateState",
    "HouseholdState",
    "MoneyFact",
    "OpenSignal",
    "ReminderFact",
    "SeenEvent",
    "StatusFact",
    "SupplyFact",
    "TermsFact",
    "apply",
    "content_fingerprint",
    "costs_cents",
    "current_terms",
    "day_start",
    "days_overdue",
    "debt_at",
    "dedup_verdict",
    "fold_new",
    "insert_fact",
    "is_duplicate",
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


def insert_fact(facts: tuple[_F, ...], fact: _F) -> tuple[_F, ...]:
    """The log with `fact` added in its place (logs are kept sorted by `order()`)."""
    # Events mostly arrive in time order: appending then gives what sorting would.
    if not facts or facts[-1].order() <= fact.order():
        return (*facts, fact)
    return tuple(sorted((*facts, fact), key=lambda f: f.order()))


DedupVerdict = Literal["new", "duplicate", "conflict"]
CONFLICTING_DUPLICATE = (
    "event_id was received before with other content (same source and creditor); the first one stands. "
    "Send a correction as a new event with its own event_id."
)


def content_fingerprint(event: CreditorEvent) -> str:
    """8 bytes of a hash of the event as validated (normalised, without BSN or birth date), in hex.

    The same event re-sent (other whitespace, key order or time offset, another transport)
    has the same fingerprint; another amount or date has another.
    """
    canonical = event.model_dump_json(exclude={"debtor": {"bsn", "birth_date"}})  # intake drops them anyway
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def dedup_verdict(state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int) -> DedupVerdict:
    """`new`; `duplicate` when folded in before with the same content, or older than the dedup horizon
    (its id may be forgotten: treated as seen); `conflict` when its id was folded in with other content.
    """
    event = accepted.event
    if event.occurred_at < state.as_of - timedelta(days=dedup_horizon_days):
        return "duplicate"
    dedup_key = event.dedup_key
    seen = next((s for s in state.seen if s.dedup_key == dedup_key), None)
    if seen is None:
        return "new"
    # A state stored before fingerprints knows the id only: a duplicate, as it always was.
    return "duplicate" if seen.fp in (None, content_fingerprint(event)) else "conflict"


def is_duplicate(state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int) -> bool:
    """Not new: a duplicate, or a conflicting one (either way it is not folded in)."""
    return dedup_verdict(state, accepted, dedup_horizon_days=dedup_horizon_days) != "new"


def _contact(accepted: AcceptedEvent) -> DebtorContact:
    event = accepted.event
    address = event.address
    house = f"{address.house_number}{address.house_letter or ''}"
    if address.house_number_addition:
        house += f"-{address.house_number_addition}"
    return DebtorContact(
        name=event.debtor.name,
        phone=event.debtor.phone,
        email=event.debtor.email,
        street=address.street,
        house=house,
        postcode=address.postcode,
        city=address.city,
    )


def _latest(accepted: AcceptedEvent) -> dict[str, Any]:
    """Creditor name and contact come from the debt's latest event by event time."""
    event = accepted.event
    return {
        "creditor_name": event.creditor_name,
        "contact": _contact(accepted),
        "last_event_at": event.occurred_at,
        "last_event_id": event.event_id,
    }


def _event_fact(e: CreditorEvent) -> tuple[str, Fact] | None:
    """The log entry an event adds besides its amount (and its terms, see `_facts`)."""
    at, eid = e.occurred_at, e.event_id
    if isinstance(e, DebtOpened):
        return "statuses", made(StatusFact, at=at, event_id=eid, status="open")
    if isinstance(e, DebtClosed):
        return "statuses", made(StatusFact, at=at, event_id=eid, status="closed", close_reason=e.reason)
    if isinstance(e, CollectionPaused):
        return "statuses", made(StatusFact, at=at, event_id=eid, status="paused", paused_until=e.until)
    if isinstance(e, ReminderSent):
        sent = {"kind": e.reminder_kind, "sent_on": local_day(at), "term_days": e.term_days}
        return "reminders", made(
            ReminderFact,
            at=at,
            event_id=eid,
            issued_by="creditor",
            amount_cents=e.amount_cents,
            channel=e.channel,
            pay_by=e.pay_by,
            **sent,
        )
    if isinstance(e, ContactAttempted):
        return "contacts", made(ContactFact, at=at, event_id=eid, method=e.method, reached=e.reached)
    if isinstance(e, CostsCharged):
        return "charges", made(MoneyFact, at=at, event_id=eid, cents=e.costs_cents)
    if isinstance(e, PaymentReceived):
        return "payments", made(MoneyFact, at=at, event_id=eid, cents=e.paid_cents)
    if isinstance(e, SupplyEnding):
        return "supply_endings", made(
            SupplyFact, at=at, event_id=eid, supply_end_date=e.supply_end_date, exception=e.exception
        )
    return None


def _facts(e: CreditorEvent) -> list[tuple[str, Fact]]:
    """Every log entry one event adds: its amount, its terms (opened/updated), and its own kind."""
    at, eid = e.occurred_at, e.event_id
    facts: list[tuple[str, Fact]] = [
        ("amounts", made(AmountFact, at=at, event_id=eid, amount_cents=e.amount_cents))
    ]
    if isinstance(e, DebtOpened | DebtUpdated):
        opening = isinstance(e, DebtOpened)
        terms = {
            "due_date": e.due_date,
            "monthly_amount_cents": e.monthly_amount_cents,
            "fine_kind": e.fine_kind,
        }
        facts.append(("terms", made(TermsFact, at=at, event_id=eid, opening=opening, **terms)))
    extra = _event_fact(e)
    if extra is not None:
        facts.append(extra)
    return facts


def _fold(debt: DebtState | None, accepted: AcceptedEvent) -> DebtState:
    """Add one event's facts to its debt's logs (sorted, so arrival order does not matter)."""
    e = accepted.event
    if debt is None:
        facts = {field: (fact,) for field, fact in _facts(e)}
        return made(
            DebtState,
            source=e.source,
            creditor_id=e.creditor_id,
            debt_ref=e.debt_ref,
            **_latest(accepted),
            **facts,
        )
    update: dict[str, Any] = {field: insert_fact(getattr(debt, field), fact) for field, fact in _facts(e)}
    if (e.occurred_at, e.event_id) > (debt.last_event_at, debt.last_event_id):
        update |= _latest(accepted)
    return copy_with(debt, **update)


def apply(
    state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int = 90
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Fold one event into the household: idempotent, order-independent within the horizon."""
    if accepted.household_key != state.household_key:
        raise ValueError(f"event for {accepted.household_key} folded into {state.household_key}")
    if is_duplicate(state, accepted, dedup_horizon_days=dedup_horizon_days):
        return state, ()
    return fold_new(state, accepted, dedup_horizon_days=dedup_horizon_days), ()


def fold_new(state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int) -> HouseholdState:
    """`apply` for an event the caller already knows is no duplicate (see `is_duplicate`)."""
    if accepted.household_key != state.household_key:
        raise ValueError(f"event for {accepted.household_key} folded into {state.household_key}")
    event = accepted.event
    key: DebtKey = (event.source, event.creditor_id, event.debt_ref)
    debt = _fold(state.debt(key), accepted)
    as_of = max(state.as_of, event.occurred_at)
    horizon = as_of - timedelta(days=dedup_horizon_days)
    seen = [s for s in state.seen if s.at >= horizon] + [
        made(SeenEvent, dedup_key=event.dedup_key, at=event.occurred_at, fp=content_fingerprint(event))
    ]
    update = {
        "as_of": as_of,
        "seen": tuple(sorted(seen, key=lambda s: s.dedup_key)),
        "debts": state.debts_with(debt),
    }
    return copy_with(state, **update)
