"""A small, fixed synthetic history from all five sources for the demo (fictional people).

Each planted household shows one behaviour of the rules; the rest are debts
paid within the free reminder term, which is what most arrears look like.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.routing_files import sample_addresses

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

CREDITORS = {
    "housing": ("27123456", "Woonstichting De Grachten"),
    "energy": ("33012345", "Stroom & Gas Noord"),
    "water": ("34098765", "Waternet Demo"),
    "health": ("30211111", "Zorgverzekeraar Samen"),
    "cjib": ("27370512", "CJIB"),
}
NAMES = [
    "J. de Vries",
    "M. Jansen",
    "F. El Amrani",
    "S. Bakker",
    "A. Yilmaz",
    "P. Visser",
    "R. Smit",
    "L. Mulder",
]


@dataclass(frozen=True)
class FeedEvent:
    """One creditor event at its event time, ready to publish on its source's topic."""

    occurred_at: datetime
    source: str
    payload: dict[str, Any]


class _Builder:
    def __init__(self) -> None:
        self.events: list[FeedEvent] = []
        self._addresses = sample_addresses()
        self._next = 0

    def household(self) -> tuple[str, int, str]:
        # A stride through the sorted sample spreads households over every team.
        postcode, number = self._addresses[(self._next * 7) % len(self._addresses)]
        name = NAMES[self._next % len(NAMES)]
        self._next += 1
        return postcode, number, name

    def add(
        self, who: tuple[str, int, str], source: str, ref: str, day: float, kind: str, **fields: Any
    ) -> None:
        postcode, number, name = who
        creditor_id, creditor_name = CREDITORS[source]
        at = START + timedelta(days=day)
        payload = {
            "event_id": f"demo-{source}-{ref}-{kind}-{day}",
            "type": kind,
            "source": source,
            "creditor_id": creditor_id,
            "creditor_name": creditor_name,
            "debt_ref": ref,
            "occurred_at": at.isoformat(),
            "debtor": {"name": name, "email": f"{name.split()[-1].lower()}@example.org"},
            "address": {"postcode": postcode, "house_number": number, "city": "Amsterdam"},
            **fields,
        }
        self.events.append(FeedEvent(at, source, payload))


def _due(day: float, days_before: int) -> str:
    return (START.date() + timedelta(days=int(day)) - timedelta(days=days_before)).isoformat()


def history() -> list[FeedEvent]:
    """The demo history, sorted by event time (ties by event id, so it is stable)."""
    b = _Builder()
    _two_creditors(b)
    _end_of_supply(b)
    _health_and_cjib(b)
    _paid_in_time(b)
    _costs_too_early(b)
    return sorted(b.events, key=lambda e: (e.occurred_at, e.payload["event_id"]))


def _two_creditors(b: _Builder) -> None:
    # Rent 45 days + energy 35 days with a reminder -> multiple, high.
    who = b.household()
    b.add(
        who,
        "housing",
        "HUUR-1001",
        0,
        "debt.opened",
        amount_cents=190000,
        due_date=_due(0, 45),
        monthly_amount_cents=95000,
    )
    # Besluit gsv art. 2: a landlord signals after a written reminder and an attempt at personal contact.
    b.add(
        who,
        "housing",
        "HUUR-1001",
        0.5,
        "reminder.sent",
        amount_cents=190000,
        reminder_kind="free",
        term_days=14,
    )
    b.add(who, "housing", "HUUR-1001", 0.7, "contact.attempted", amount_cents=190000, method="phone")
    b.add(who, "energy", "E-77001", 1, "debt.opened", amount_cents=31000, due_date=_due(1, 35))
    b.add(
        who, "energy", "E-77001", 1.5, "reminder.sent", amount_cents=31000, reminder_kind="free", term_days=14
    )
    b.add(
        who,
        "housing",
        "HUUR-1001",
        31,
        "debt.updated",
        amount_cents=285000,
        due_date=_due(0, 45),
        monthly_amount_cents=95000,
    )


def _end_of_supply(b: _Builder) -> None:
    who = b.household()
    b.add(who, "energy", "E-77002", 2, "debt.opened", amount_cents=54000, due_date=_due(2, 40))
    b.add(who, "energy", "E-77002", 3, "supply.ending", amount_cents=54000, supply_end_date=_due(3 + 21, 0))


def _health_and_cjib(b: _Builder) -> None:
    who = b.household()
    b.add(
        who,
        "health",
        "ZV-5501",
        3,
        "debt.opened",
        amount_cents=28000,
        due_date=_due(3, 65),
        monthly_amount_cents=14000,
    )
    fine = b.household()
    b.add(
        fine, "cjib", "CJIB-9001", 4, "debt.opened", amount_cents=11000, due_date=_due(4, 1), fine_kind="wahv"
    )


def _paid_in_time(b: _Builder) -> None:
    # Most arrears end here: paid within the free reminder's term, no costs ever.
    for i, source in enumerate(["water", "health", "energy", "housing", "water", "health"]):
        who = b.household()
        ref = f"P-{i:03d}"
        extra: dict[str, Any] = {"monthly_amount_cents": 12000} if source in {"health", "housing"} else {}
        b.add(who, source, ref, 5 + i, "debt.opened", amount_cents=12000, due_date=_due(5 + i, 3), **extra)
        b.add(who, source, ref, 12 + i, "payment.received", amount_cents=0, paid_cents=12000)
        b.add(who, source, ref, 12.5 + i, "debt.closed", amount_cents=0, reason="paid")


def _costs_too_early(b: _Builder) -> None:
    who = b.household()
    b.add(who, "water", "W-3301", 6, "debt.opened", amount_cents=42000, due_date=_due(6, 31))
    b.add(who, "water", "W-3301", 8, "costs.charged", amount_cents=42000, costs_cents=4000)


def days(events: list[FeedEvent]) -> Iterator[tuple[date, list[FeedEvent]]]:
    """The history grouped per simulated day, in order."""
    current: date | None = None
    bucket: list[FeedEvent] = []
    for event in events:
        day = event.occurred_at.date()
        if current is not None and day != current:
            yield current, bucket
            bucket = []
        current = day
        bucket.append(event)
    if current is not None:
        yield current, bucket
