"""What the case page shows beyond the debts, read from a real read model (SQLite and PostgreSQL):
whom to contact (from the reminders) and the household's timeline."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.readmodel import ReadModel
from connectors.readmodel.household_queries import household_contact, household_events
from streams.team import html as pages
from tests.unit import readmodel_examples as rx

pytestmark = pytest.mark.integration


async def test_contact_data_comes_from_the_reminders_and_the_timeline_holds_the_households_events(
    rm: ReadModel,
) -> None:
    assert await household_contact(rm, rx.HOUSEHOLD) is None
    await rm.write(rx.mixed_batch())
    contact = await household_contact(rm, rx.HOUSEHOLD)
    assert contact is not None
    assert (contact.name, contact.street, contact.house, contact.postcode, contact.city) == (
        "J. de Vries",
        "Damrak",
        "12A",
        "1011AB",
        "Amsterdam",
    )
    assert (contact.phones, contact.emails, contact.source) == (("+31612345678",), (), "eneco bv")
    assert await household_contact(rm, rx.OTHER) is None  # another household's reminder is not shown

    events = await household_events(rm, rx.HOUSEHOLD, team_id=rx.ROUTE.team_id, case_id="no-case")
    kinds = [(e.kind, e.creditor) for e in events]
    assert ("debt_due", "woonstad bv") in kinds
    assert ("reminder", "eneco bv") in kinds
    assert ("costs_permitted", "eneco bv") in kinds
    assert ("costs_charged", "eneco bv") in kinds
    assert [e.kind for e in events].count("signal") == 2
    assert ("signal_resolved", None) in kinds
    assert [e.instant for e in events] == sorted(e.instant for e in events)  # oldest first
    # Another team sees none of the household's signals on its timeline (they were not routed to it).
    elsewhere = await household_events(rm, rx.HOUSEHOLD, team_id="team-elders", case_id="no-case")
    assert "signal" not in {e.kind for e in elsewhere}

    lines = pages.timeline_of(events)
    assert {line.what for line in lines if line.day == date(2025, 1, 1)} == {
        "Schuld bij woonstad bv vervallen",
        "Schuld bij eneco bv vervallen",
    }
    assert lines[0].day == date(2025, 1, 1)
    charged = next(line for line in lines if line.kind == "costs_charged")
    assert charged.detail == "€ 40,00, niet toegestaan: voor het einde van de betaaltermijn"
