"""Builders of accepted creditor events for the pure unit tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from schemas.contract_v1 import CREDITOR_EVENT, Source
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import Effect, Route
from signals.calendar import local_day
from signals.household import handle_event
from signals.overview import HouseholdState, apply
from signals.policy import Policy

HOUSEHOLD = "1011AB-12A"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ROUTE = Route(
    team_id="team-centrum",
    buurt_code="BU03630000",
    wijk_code="WK036300",
    gemeente_code="GM0363",
    map_version="test",
    fallback=False,
)
CREDITORS: dict[Source, str] = {
    "housing": "woonstad",
    "energy": "vattenfall",
    "water": "waternet",
    "health": "zilveren-kruis",
    "cjib": "cjib",
}
RENT_CENTS = 95_000
PREMIUM_CENTS = 15_000
_ids = itertools.count(1)
_E = TypeVar("_E")


def at(days: float = 0, hours: float = 0) -> datetime:
    """A moment `days` after T0 (2024-03-01 09:00 UTC)."""
    return T0 + timedelta(days=days, hours=hours)


def day(days: int) -> date:
    """The calendar date `days` after T0's date."""
    return T0.date() + timedelta(days=days)


def _defaults(kind: str, source: Source, occurred_at: datetime) -> dict[str, Any]:
    if kind in ("debt.opened", "debt.updated"):
        fields: dict[str, Any] = {"due_date": local_day(occurred_at)}
        if source == "housing":
            fields["monthly_amount_cents"] = RENT_CENTS
        if source == "health":
            fields["monthly_amount_cents"] = PREMIUM_CENTS
        if source == "cjib" and kind == "debt.opened":
            fields["fine_kind"] = "wahv"
        return fields
    by_kind: dict[str, dict[str, Any]] = {
        "reminder.sent": {"reminder_kind": "free", "term_days": 14},
        "costs.charged": {"costs_cents": 4_000},
        "payment.received": {"paid_cents": 1_000},
        "debt.closed": {"reason": "paid"},
        "supply.ending": {"supply_end_date": local_day(occurred_at) + timedelta(days=30)},
        "collection.paused": {"until": local_day(occurred_at) + timedelta(days=10)},
        "contact.attempted": {"method": "phone"},
    }
    return by_kind[kind]


def event(
    kind: str,
    *,
    source: Source = "housing",
    occurred_at: datetime | None = None,
    amount_cents: int = RENT_CENTS,
    debt_ref: str = "R1",
    creditor_id: str | None = None,
    event_id: str | None = None,
    household_key: str = HOUSEHOLD,
    **fields: Any,
) -> AcceptedEvent:
    """An accepted event of `kind` with valid defaults; keyword fields override them."""
    when = occurred_at or T0
    data: dict[str, Any] = {
        "type": kind,
        "event_id": event_id or f"ev-{next(_ids)}",
        "source": source,
        "creditor_id": creditor_id or CREDITORS[source],
        "creditor_name": f"{(creditor_id or CREDITORS[source]).title()} BV",
        "debt_ref": debt_ref,
        "occurred_at": when,
        "debtor": {"name": "J. de Vries", "phone": "0612345678", "email": "j@example.nl"},
        "address": {
            "postcode": "1011AB",
            "house_number": 12,
            "house_letter": "A",
            "street": "Dam",
            "city": "Amsterdam",
        },
        "amount_cents": amount_cents,
        **_defaults(kind, source, when),
        **fields,
    }
    return AcceptedEvent(
        household_key=household_key, bsn_pseudonym="pseudo-abc", event=CREDITOR_EVENT.validate_python(data)
    )


def landlord_steps(days: float = 1, *, ids: str | None = None, **fields: Any) -> list[AcceptedEvent]:
    """The landlord's steps before a signal (Besluit gsv art. 2): a written reminder and a contact attempt.

    `days` after T0, so after the default of a debt due on T0's day or earlier; `ids` fixes the event ids.
    """
    fields.setdefault("amount_cents", RENT_CENTS)
    reminder_id, contact_id = (f"{ids}-reminder", f"{ids}-contact") if ids else (None, None)
    return [
        event("reminder.sent", occurred_at=at(days), reminder_kind="formal", event_id=reminder_id, **fields),
        event("contact.attempted", occurred_at=at(days), event_id=contact_id, **fields),
    ]


def fold(*events: AcceptedEvent, dedup_horizon_days: int = 90) -> HouseholdState:
    """The household state after folding the events in the given order (no rules applied)."""
    state = HouseholdState(household_key=HOUSEHOLD, as_of=events[0].event.occurred_at)
    for accepted in events:
        state, _ = apply(state, accepted, dedup_horizon_days=dedup_horizon_days)
    return state


def play(
    *events: AcceptedEvent, policy: Policy | None = None, state: HouseholdState | None = None
) -> tuple[HouseholdState, list[Effect]]:
    """Run the events through `handle_event` in order; the final state and all effects."""
    effects: list[Effect] = []
    for accepted in events:
        outcome = handle_event(state, accepted, policy=policy or Policy.default(), route=ROUTE)
        state, effects = outcome.state, [*effects, *outcome.effects]
    assert state is not None
    return state, effects


def of_type(effects: list[Effect] | tuple[Effect, ...], kind: type[_E]) -> list[_E]:
    """The effects of one type, in order."""
    return [e for e in effects if isinstance(e, kind)]
