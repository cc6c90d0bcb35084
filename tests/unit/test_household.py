"""The orchestrator: event time only, deadlines with a grace, deterministic and replayable outputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import signals
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import CostsPermitted, Effect, ReminderIssued, Signal, SignalResolved
from signals.household import advance, handle_event, next_wakeup
from signals.overview import HouseholdState
from signals.policy import Policy
from tests.unit.factories import RENT_CENTS, ROUTE, at, day, event, landlord_steps, of_type, play

POLICY = Policy.default()
GRACE = timedelta(hours=POLICY.lateness_grace_hours)


def _history() -> list[AcceptedEvent]:
    return [
        event("debt.opened", due_date=day(-20), amount_cents=RENT_CENTS, event_id="h1"),
        *landlord_steps(0.5, ids="h"),
        event(
            "debt.opened",
            source="energy",
            due_date=day(-25),
            amount_cents=31_000,
            occurred_at=at(1),
            event_id="e1",
        ),
        event("costs.charged", source="energy", amount_cents=31_000, occurred_at=at(4), event_id="e2"),
        event(
            "debt.updated", due_date=day(-20), amount_cents=2 * RENT_CENTS, occurred_at=at(12), event_id="h2"
        ),
        event("payment.received", source="energy", amount_cents=0, occurred_at=at(20), event_id="e3"),
        event("debt.closed", amount_cents=0, occurred_at=at(40), event_id="h3"),
    ]


def _run(history: list[AcceptedEvent], tick_hours: int) -> list[Effect]:
    """Interleave the events with clock ticks every `tick_hours`, as the household agent does."""
    state: HouseholdState | None = None
    effects: list[Effect] = []
    clock = at(0)
    for accepted in history:
        while state is not None and clock + timedelta(hours=tick_hours) <= accepted.event.occurred_at:
            clock += timedelta(hours=tick_hours)
            outcome = advance(state, stream_time=clock, policy=POLICY, route=ROUTE)
            state, effects = outcome.state, effects + list(outcome.effects)
        outcome = handle_event(state, accepted, policy=POLICY, route=ROUTE)
        state, effects = outcome.state, effects + list(outcome.effects)
    assert state is not None
    outcome = advance(state, stream_time=at(400), policy=POLICY, route=ROUTE)
    return effects + list(outcome.effects)


def _json(effects: list[Effect]) -> list[str]:
    return [e.model_dump_json() for e in effects]


def test_replaying_the_same_history_gives_byte_identical_effects() -> None:
    assert _json(_run(_history(), 6)) == _json(_run(_history(), 6))


def test_effects_do_not_depend_on_when_the_ticks_arrive() -> None:
    hourly, daily = _run(_history(), 1), _run(_history(), 24)
    assert _json(hourly) == _json(daily)
    kinds = [e.type for e in hourly]
    assert kinds.count("reminder_issued") == 2
    assert kinds.count("cost_violation") == 1
    assert kinds[-1] == "signal_resolved"


def test_a_deadline_fires_as_of_its_own_time_not_the_tick() -> None:
    state, effects = play(
        event("debt.opened", due_date=day(-20), amount_cents=RENT_CENTS), *landlord_steps(0.5)
    )
    assert of_type(effects, Signal) == []
    # Due 10 February: 30 days overdue from the start of 11 March in Amsterdam (23:00 UTC the day
    # before); the late tick does not move raised_at.
    deadline = datetime(2024, 3, 10, 23, tzinfo=UTC)
    assert next_wakeup(state, POLICY) == deadline + GRACE
    assert (
        advance(
            state, stream_time=deadline + GRACE - timedelta(microseconds=1), policy=POLICY, route=ROUTE
        ).effects
        == ()
    )
    (signal,) = of_type(advance(state, stream_time=at(12), policy=POLICY, route=ROUTE).effects, Signal)
    assert signal.raised_at == deadline


def test_an_event_after_a_deadline_supersedes_its_evaluation() -> None:
    # The household was evaluated at the payment (after the 30-day mark): nothing left to signal.
    state, _ = play(
        event("debt.opened", due_date=day(-20), amount_cents=RENT_CENTS),
        event("payment.received", occurred_at=at(10, hours=2), amount_cents=0),
    )
    outcome = advance(state, stream_time=at(12), policy=POLICY, route=ROUTE)
    assert of_type(outcome.effects, Signal) == []


def test_a_payment_after_the_deadline_fired_resolves_the_signal() -> None:
    state, _ = play(event("debt.opened", due_date=day(-20), amount_cents=RENT_CENTS), *landlord_steps(0.5))
    (signal,) = of_type(advance(state, stream_time=at(12), policy=POLICY, route=ROUTE).effects, Signal)
    state = advance(state, stream_time=at(12), policy=POLICY, route=ROUTE).state
    state, effects = play(event("payment.received", occurred_at=at(13), amount_cents=0), state=state)
    (resolved,) = of_type(effects, SignalResolved)
    assert (resolved.signal_id, resolved.resolved_at) == (signal.signal_id, at(13))


def test_advance_twice_with_the_same_stream_time_emits_nothing_new() -> None:
    state, _ = play(*_history()[:3])
    first = advance(state, stream_time=at(60), policy=POLICY, route=ROUTE)
    second = advance(first.state, stream_time=at(60), policy=POLICY, route=ROUTE)
    assert first.effects
    assert second.effects == ()
    assert second.state == first.state


def test_a_late_event_is_evaluated_on_the_households_clock() -> None:
    state, _ = play(event("debt.opened", source="water", amount_cents=9_000, occurred_at=at(5)))
    outcome = handle_event(
        state, event("debt.opened", due_date=day(-5), occurred_at=at(1)), policy=POLICY, route=ROUTE
    )
    (reminder,) = of_type(outcome.effects, ReminderIssued)
    # Sent Wednesday 6 March (the household's clock), received Friday 8 March, 14 days: 22 March.
    assert (reminder.issued_at, reminder.pay_by) == (at(5), date(2024, 3, 22))
    assert outcome.state.as_of == at(5)


def test_next_wakeup_is_none_when_nothing_can_change_by_time_alone() -> None:
    state, _ = play(event("debt.opened", amount_cents=RENT_CENTS), event("debt.closed", occurred_at=at(1)))
    outcome = advance(state, stream_time=at(100), policy=POLICY, route=ROUTE)
    assert next_wakeup(outcome.state, POLICY) is None
    assert next_wakeup(HouseholdState(household_key="1011AB-1", as_of=at(0)), POLICY) is None


def test_ids_are_derived_from_inputs() -> None:
    effects = _run(_history(), 24)
    permitted = of_type(effects, CostsPermitted)
    assert permitted
    assert all(p.decision_id.startswith("costs-") for p in permitted)
    other = _run([event("debt.opened", due_date=day(-20), household_key="2000AA-1", event_id="x")], 24)
    mine, theirs = of_type(effects, ReminderIssued), of_type(other, ReminderIssued)
    assert theirs
    assert {r.reminder_id for r in mine}.isdisjoint({r.reminder_id for r in theirs})


def test_the_domain_package_reads_no_clock_and_imports_no_infrastructure() -> None:
    forbidden = (
        "faust",
        "kafka",
        "sqlalchemy",
        "aiohttp",
        "prometheus",
        ".now(",
        "utcnow",
        "time.time",
        "open(",
    )
    for module in (
        "household",
        "overview",
        "reminders",
        "rules",
        "policy",
        "ids",
        "calendar",
        "terms",
        "figures",
        "money",
        "sources",
        "view",
        "cases",
        "state",
    ):
        source = (Path(signals.__file__).parent / f"{module}.py").read_text()
        assert [word for word in forbidden if word in source] == [], module


def test_no_signals_module_but_the_calendar_takes_the_date_of_an_instant() -> None:
    offenders = [
        path.name
        for path in Path(signals.__file__).parent.glob("*.py")
        if path.name != "calendar.py" and (".date()" in path.read_text() or "AMSTERDAM" in path.read_text())
    ]
    assert offenders == []
