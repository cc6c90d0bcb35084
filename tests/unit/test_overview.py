"""The household fold: idempotent, order-independent, bounded, serialisable; derived figures."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.internal_v1 import AcceptedEvent
from signals.household import advance, handle_event
from signals.overview import (
    HouseholdState,
    apply,
    costs_cents,
    days_overdue,
    is_settled,
    open_creditor_count,
    principal_cents,
    source_kind_count,
    status_at,
    total_costs_cents,
    total_principal_cents,
)
from signals.policy import Policy
from signals.view import build_overview
from tests.unit.factories import HOUSEHOLD, RENT_CENTS, ROUTE, at, day, event, fold, landlord_steps, play

POLICY = Policy.default()
_KINDS = [
    "debt.updated",
    "reminder.sent",
    "costs.charged",
    "payment.received",
    "debt.closed",
    "collection.paused",
    "supply.ending",
    "debt.opened",
]


@st.composite
def debt_histories(draw: st.DrawFn) -> list[AcceptedEvent]:
    """A debt.opened and up to seven more events of one energy debt, times within 40 days (ties likely)."""
    kinds = ["debt.opened", *draw(st.lists(st.sampled_from(_KINDS), max_size=7))]
    events = []
    for number, kind in enumerate(kinds):
        fields: dict[str, Any] = {}
        if kind in ("debt.opened", "debt.updated"):
            fields["due_date"] = day(draw(st.integers(-60, 0)))
        if kind == "collection.paused":
            fields["until"] = day(draw(st.integers(0, 60)))
        when = at(draw(st.integers(0, 40)), hours=draw(st.sampled_from([0, 0, 6])))
        amount = draw(st.sampled_from([0, 9_000, 31_000, 45_000]))
        events.append(
            event(
                kind, source="energy", occurred_at=when, amount_cents=amount, event_id=f"h{number}", **fields
            )
        )
    return events


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_permutation_of_a_debts_events_gives_the_same_state(data: st.DataObject) -> None:
    events = data.draw(debt_histories())
    shuffled = data.draw(st.permutations(events))
    expected = fold(*events)
    assert fold(*shuffled) == expected
    assert fold(*shuffled).model_dump_json() == expected.model_dump_json()


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_folding_every_event_twice_changes_nothing(data: st.DataObject) -> None:
    events = data.draw(debt_histories())
    assert fold(*events, *reversed(events)) == fold(*events)


def test_a_late_older_event_never_overwrites_the_principal() -> None:
    state = fold(
        event("debt.updated", occurred_at=at(5), amount_cents=2 * RENT_CENTS),
        event("debt.opened", occurred_at=at(0), amount_cents=RENT_CENTS),
    )
    assert principal_cents(state.debts[0]) == 2 * RENT_CENTS
    assert principal_cents(state.debts[0], at(1)) == RENT_CENTS


def test_a_closure_beats_an_earlier_update_that_arrives_late() -> None:
    state = fold(
        event("debt.opened", occurred_at=at(0)),
        event("debt.closed", occurred_at=at(5), amount_cents=0),
        event("debt.updated", occurred_at=at(3), amount_cents=2 * RENT_CENTS),
    )
    debt = state.debts[0]
    assert (status_at(debt, at(6)), is_settled(debt, at(6))) == ("closed", True)
    assert (status_at(debt, at(4)), principal_cents(debt, at(4))) == ("open", 2 * RENT_CENTS)


def test_a_closure_at_the_same_instant_as_an_opening_wins() -> None:
    state = fold(
        event("debt.closed", occurred_at=at(0), event_id="a"),
        event("debt.opened", occurred_at=at(0), event_id="z"),
    )
    assert status_at(state.debts[0], at(0)) == "closed"


def test_costs_and_totals_are_sums() -> None:
    state = fold(
        event("debt.opened", due_date=day(-40)),
        event("costs.charged", occurred_at=at(1), costs_cents=4_000),
        event("costs.charged", occurred_at=at(2), costs_cents=1_500),
        event("debt.opened", source="water", due_date=day(-5), amount_cents=9_000),
        event("debt.opened", source="water", debt_ref="R2", amount_cents=1_000),
    )
    housing = state.debt(("housing", "woonstad", "R1"))
    assert housing is not None
    assert costs_cents(housing) == 5_500
    assert total_principal_cents(state) == RENT_CENTS + 10_000
    assert total_costs_cents(state) == 5_500
    assert (open_creditor_count(state, at(3)), source_kind_count(state, at(3))) == (2, 2)
    assert days_overdue(housing, at(0)) == 40


@pytest.mark.parametrize(("days", "overdue"), [(-1, 0), (0, 0), (29, 29), (30, 30)])
def test_days_overdue_counts_whole_days_since_the_due_date(days: int, overdue: int) -> None:
    state = fold(event("debt.opened", due_date=day(0)))
    assert days_overdue(state.debts[0], at(days)) == overdue


def test_duplicate_event_is_reported_and_has_no_effects() -> None:
    opened = event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS)
    first = handle_event(None, opened, policy=POLICY, route=ROUTE)
    again = handle_event(first.state, opened, policy=POLICY, route=ROUTE)
    assert first.effects
    assert not first.duplicate
    assert (again.duplicate, again.effects, again.state) == (True, (), first.state)


def test_remembered_event_ids_are_forgotten_after_the_dedup_horizon() -> None:
    old = event("debt.opened", occurred_at=at(0), event_id="old")
    state = fold(old, event("debt.updated", occurred_at=at(91), event_id="new"))
    assert [s.dedup_key for s in state.seen] == ["housing|woonstad|new"]
    # The forgotten event cannot be told from a redelivery any more: it is treated as seen.
    assert apply(state, old)[0] == state
    assert handle_event(state, old, policy=POLICY, route=ROUTE).duplicate


def test_state_keeps_neither_the_bsn_nor_its_pseudonym_nor_the_birth_date() -> None:
    debtor = {"name": "J. de Vries", "bsn": "111222333", "birth_date": date(1980, 5, 17)}
    state = fold(event("debt.opened", debtor=debtor))  # an event of before issue 15, pseudonym and all
    stored = state.model_dump_json()
    assert "111222333" not in stored
    assert "pseudo-abc" not in stored
    assert "1980-05-17" not in stored
    assert state.debts[0].contact.name == "J. de Vries"


def test_latest_contact_details_win() -> None:
    state = fold(
        event("debt.updated", occurred_at=at(5), debtor={"name": "J. de Vries", "phone": "0687654321"}),
        event("debt.opened", occurred_at=at(0)),
    )
    assert state.debts[0].contact.phone == "0687654321"


def test_state_json_round_trip_is_exact() -> None:
    state, _ = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS),
        event("costs.charged", occurred_at=at(2)),
        event("collection.paused", occurred_at=at(3), until=day(8)),
        event("supply.ending", source="energy", occurred_at=at(4)),
    )
    state = advance(state, stream_time=at(60), policy=POLICY, route=ROUTE).state
    assert state.violations
    restored = HouseholdState.model_validate_json(state.model_dump_json())
    assert restored == state
    assert restored.model_dump_json() == state.model_dump_json()


def test_folding_an_event_of_another_household_is_an_error() -> None:
    state = fold(event("debt.opened"))
    with pytest.raises(ValueError, match="folded into"):
        apply(state, event("debt.opened", household_key="9999ZZ-1"))


def test_overview_shows_debts_in_cents_and_euros_with_totals() -> None:
    state, _ = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS),
        event("costs.charged", occurred_at=at(1), amount_cents=2 * RENT_CENTS, costs_cents=4_000),
        *landlord_steps(1, amount_cents=2 * RENT_CENTS),
    )
    overview = build_overview(state, ROUTE, Policy.default())
    (debt,) = overview.debts
    assert (debt.principal_cents, debt.costs_cents, debt.days_overdue, debt.status) == (
        2 * RENT_CENTS,
        4_000,
        46,
        "open",
    )
    assert debt.reminders[0].issued_by == "pipeline"
    # Sent Friday 1 March 2024: received Tuesday 5 March (Sunday, Monday not counted), 14 days on.
    assert debt.pay_by == date(2024, 3, 19)
    assert (overview.household_key, overview.total_principal_cents, overview.open_creditors) == (
        HOUSEHOLD,
        2 * RENT_CENTS,
        1,
    )
    assert overview.team_id == ROUTE.team_id
    assert overview.open_signal_id is not None
    assert json.loads(overview.model_dump_json())["debts"][0]["creditor_name"] == "Woonstad BV"
