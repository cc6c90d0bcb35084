"""Bounds per household (signals.limits): open-debt cap, signals per case, coalescing a burst."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import Signal
from signals.household import Outcome, handle_event
from signals.limits import HouseholdLimits
from signals.overview import HouseholdState
from signals.policy import Policy
from streams.worker.household import HouseholdProcessor
from tests.unit.factories import ROUTE, at, day, event, of_type

POLICY = Policy.default()
# Health debts due long ago are signal-worthy at once: every new one is news (a higher amount).
OLD_DUE = day(-200)


def _debt(n: int, *, minutes: float = 0, kind: str = "debt.opened", **fields: Any) -> AcceptedEvent:
    fields.setdefault("amount_cents", 100_000)
    if kind == "debt.opened":
        fields.setdefault("due_date", OLD_DUE)
    return event(kind, source="health", debt_ref=f"D{n}", occurred_at=at(0, hours=minutes / 60), **fields)


def _play(
    events: list[AcceptedEvent], limits: HouseholdLimits | None, state: HouseholdState | None = None
) -> tuple[HouseholdState, list[Outcome]]:
    outcomes = []
    for accepted in events:
        outcome = handle_event(state, accepted, policy=POLICY, route=ROUTE, limits=limits)
        outcomes.append(outcome)
        state = outcome.state
    assert state is not None
    return state, outcomes


@pytest.mark.parametrize(("opened", "refused"), [(2, 0), (3, 0), (4, 1)])
def test_a_new_debt_beyond_the_cap_is_refused(opened: int, refused: int) -> None:
    limits = HouseholdLimits(max_open_debts=3)  # cap - 1, cap, cap + 1 debts opened
    state, outcomes = _play([_debt(n, minutes=n) for n in range(opened)], limits)
    refusals = [o.refused for o in outcomes if o.refused is not None]
    assert len(refusals) == refused
    assert len(state.debts) == min(opened, 3)
    for refusal in refusals:
        assert refusal.reason_class == "household_limit"
        assert "3 open debts" in refusal.message
    last = outcomes[-1]
    if refused:
        assert last.effects == ()
        assert last.state == outcomes[-2].state


def test_closing_or_paying_a_known_debt_at_the_cap_is_never_refused() -> None:
    limits = HouseholdLimits(max_open_debts=2)
    state, _ = _play([_debt(0), _debt(1, minutes=1)], limits)
    _, outcomes = _play(
        [
            _debt(1, minutes=2, kind="payment.received", paid_cents=5_000, amount_cents=15_000),
            _debt(0, minutes=3, kind="debt.updated", due_date=OLD_DUE, amount_cents=30_000),
            _debt(0, minutes=4, kind="debt.closed", amount_cents=0),
        ],
        limits,
        state,
    )
    assert [o.refused for o in outcomes] == [None, None, None]
    # The closed debt freed a place: a new one is taken again.
    after, more = _play([_debt(2, minutes=5)], limits, outcomes[-1].state)
    assert more[0].refused is None
    assert len(after.debts) == 3


def test_a_payment_for_an_unknown_debt_at_the_cap_passes() -> None:
    limits = HouseholdLimits(max_open_debts=1)
    state, _ = _play([_debt(0)], limits)
    _, outcomes = _play(
        [_debt(9, minutes=1, kind="payment.received", paid_cents=100, amount_cents=0)], limits, state
    )
    assert outcomes[0].refused is None


def test_without_limits_nothing_is_refused_and_every_news_is_a_new_signal() -> None:
    _, outcomes = _play([_debt(n, minutes=n) for n in range(5)], None)
    signals = [s for o in outcomes for s in of_type(o.effects, Signal)]
    assert len({s.signal_id for s in signals}) == 5


def test_a_burst_within_the_window_is_one_signal_updated_in_place() -> None:
    limits = HouseholdLimits()
    state, outcomes = _play([_debt(n, minutes=n) for n in range(5)], limits)
    signals = [s for o in outcomes for s in of_type(o.effects, Signal)]
    assert len({s.signal_id for s in signals}) == 1
    # Raised once (what the signals_raised metric counts), then updated in place.
    assert [len(o.updated_signals) for o in outcomes] == [0, 1, 1, 1, 1]
    last = signals[-1]
    assert len(last.debts) == 5
    assert last.raised_at == at(0)
    assert last.total_cents == 5 * 100_000
    assert state.signals_raised == 1
    assert state.case_signals == 1
    # An hour later (event time) news is a new signal again.
    _, later = _play([_debt(9, minutes=60)], limits, state)
    new = of_type(later[0].effects, Signal)
    assert len(new) == 1
    assert new[0].signal_id != last.signal_id


def test_a_case_raises_at_most_max_signals_per_case_then_news_is_withheld() -> None:
    limits = HouseholdLimits(max_signals_per_case=2, coalesce_within=timedelta(0))
    state, outcomes = _play([_debt(n, minutes=n) for n in range(4)], limits)
    signals = [s for o in outcomes for s in of_type(o.effects, Signal)]
    assert len(signals) == 2
    assert [o.withheld_signals for o in outcomes] == [0, 0, 1, 1]
    assert len(state.debts) == 4  # the events are folded in: the overview shows every debt
    # The next matching period (April) raises again, with the whole picture.
    _, april = _play(
        [event("debt.opened", source="health", debt_ref="D9", occurred_at=at(35), due_date=OLD_DUE)],
        limits,
        state,
    )
    raised = of_type(april[0].effects, Signal)
    assert len(raised) == 1
    assert len(raised[0].debts) == 5


def test_a_batch_sends_one_signal_per_household_for_a_burst() -> None:
    states: dict[str, bytes] = {}
    processor = HouseholdProcessor(
        states=states,
        policy=POLICY,
        route=lambda _key: ROUTE,
        partition_of=lambda _key: 0,
        limits=HouseholdLimits(max_open_debts=50),
    )
    burst = [_debt(n, minutes=n / 60) for n in range(60)]
    result = processor.process(0, burst, None)
    signals = [o for o in result.outputs if isinstance(o, Signal)]
    assert len(signals) == 1
    assert len(signals[0].debts) == 50  # the last version: every debt taken, none beyond the cap
    assert len(result.refused) == 10
    assert {r.reason_class for _, r in result.refused} == {"household_limit"}
    assert [a.event.debt_ref for a, _ in result.refused] == [f"D{n}" for n in range(50, 60)]


def test_the_same_burst_cut_into_other_batches_ends_in_the_same_signal() -> None:
    def run(cuts: list[int]) -> dict[str, Signal]:
        states: dict[str, bytes] = {}
        processor = HouseholdProcessor(
            states=states, policy=POLICY, route=lambda _key: ROUTE, partition_of=lambda _key: 0
        )
        burst = [_debt(n, minutes=n / 60) for n in range(12)]
        last: dict[str, Signal] = {}
        stream_time = None
        for start, end in zip([0, *cuts], [*cuts, len(burst)], strict=True):
            result = processor.process(0, burst[start:end], stream_time)
            states.update(result.states)  # as the agent does once the outputs are sent
            stream_time = result.stream_time
            last |= {o.signal_id: o for o in result.outputs if isinstance(o, Signal)}
        return last

    whole = run([])
    assert len(whole) == 1
    assert len(next(iter(whole.values())).debts) == 12
    assert run([1, 5, 6]) == whole == run([11])


def _flood(kind: str, count: int, *, start_days: float = 0, **fields: Any) -> list[AcceptedEvent]:
    """`count` events of `kind` for debt D0, a minute apart from `start_days`."""
    return [_debt(0, minutes=start_days * 24 * 60 + 1 + i, kind=kind, **fields) for i in range(count)]


def test_a_known_debt_takes_max_events_per_debt_then_further_events_are_refused() -> None:
    limits = HouseholdLimits(max_events_per_debt=5)
    reminders = _flood("reminder.sent", 6, reminder_kind="free", term_days=14)
    state, outcomes = _play([_debt(0), *reminders], limits)
    # The opening and 4 reminders are folded in (cap - 1, cap), the 6th and 7th event are refused (cap + 1).
    assert [o.refused is None for o in outcomes] == [True] * 5 + [False] * 2
    refused = [o.refused for o in outcomes if o.refused is not None]
    assert {(r.reason_class, r.limit) for r in refused} == {("household_limit", "events_per_debt")}
    assert "5 events within 90 days (max_events_per_debt 5)" in refused[0].message
    assert outcomes[-1].state == outcomes[4].state  # a refused event changes nothing
    assert sum(r.issued_by == "creditor" for r in state.debts[0].reminders) == 4
    # Another debt of the household is not affected, nor is a new one's opening.
    _, other = _play([_debt(1, minutes=30)], limits, state)
    assert other[0].refused is None


def test_closing_a_debt_at_its_event_cap_is_never_refused_but_a_second_closing_is() -> None:
    limits = HouseholdLimits(max_events_per_debt=3)
    state, outcomes = _play([_debt(0), *_flood("debt.updated", 2, due_date=OLD_DUE)], limits)
    assert all(o.refused is None for o in outcomes)
    payment = _flood("payment.received", 1, start_days=0.1, paid_cents=100)
    _, refused = _play(payment, limits, state)
    assert refused[0].refused is not None  # a payment at the cap is an event like any other
    closings = _flood("debt.closed", 2, start_days=0.2, amount_cents=0)
    closed, outcomes = _play(closings, limits, state)
    assert [o.refused is None for o in outcomes] == [True, False]
    assert closed.debts[0].statuses[-1].status == "closed"


def test_the_event_cap_counts_the_last_90_days_of_event_time_only() -> None:
    limits = HouseholdLimits(max_events_per_debt=3)
    state, outcomes = _play([_debt(0), *_flood("debt.updated", 3, due_date=OLD_DUE)], limits)
    assert outcomes[-1].refused is not None
    # 91 days later the first three are outside the window: the debt takes events again.
    _, later = _play(_flood("debt.updated", 1, start_days=91, due_date=OLD_DUE), limits, state)
    assert later[0].refused is None


def test_a_thousand_reminders_for_one_debt_fold_only_the_default_cap() -> None:
    # Issue 16: without this bound 1,000 reminders for one debt cost ~8 s of fold (each against every
    # earlier one) and held the worker's event loop; 2,000 cost 32 s.
    reminders = _flood("reminder.sent", 999, reminder_kind="free", term_days=14)
    state, outcomes = _play([_debt(0), *reminders], HouseholdLimits())
    assert sum(o.refused is not None for o in outcomes) == 900
    assert len(state.debts[0].amounts) == 100
    assert len(state.debts[0].reminders) <= 100


def test_a_household_takes_max_events_per_household_within_the_horizon_then_refuses_more() -> None:
    limits = HouseholdLimits(max_events_per_household=6)
    debts = [_debt(n, minutes=n) for n in range(3)]
    updates = [_debt(n % 3, minutes=10 + n, kind="debt.updated", due_date=OLD_DUE) for n in range(5)]
    state, outcomes = _play([*debts, *updates], limits)
    # 6 events folded in (cap - 1, cap), the 7th and 8th refused (cap + 1), whichever debt they are for.
    assert [o.refused is None for o in outcomes] == [True] * 6 + [False] * 2
    refused = [o.refused for o in outcomes if o.refused is not None]
    assert {(r.reason_class, r.limit) for r in refused} == {("household_limit", "events_per_household")}
    assert "6 events within 90 days (max_events_per_household 6)" in refused[0].message
    assert len(state.seen) == 6
    # A new debt is refused too; closing an open one always passes.
    _, more = _play(
        [_debt(7, minutes=30), _debt(0, minutes=31, kind="debt.closed", amount_cents=0)], limits, state
    )
    assert [o.refused is None for o in more] == [False, True]
    # 91 days later (event time) the ids have left the horizon: the household takes events again.
    _, later = _play([_debt(1, minutes=91 * 24 * 60, kind="debt.updated", due_date=OLD_DUE)], limits, state)
    assert later[0].refused is None


def test_fifty_debts_of_a_hundred_events_fold_only_the_household_cap() -> None:
    # Issue 16: with the cap per debt only, 50 debts x 100 reminders (one request of 1.9 MB) cost 18 s of
    # fold, each event evaluated against every debt; the household cap keeps it to 1,000 events.
    opened = [_debt(n, minutes=n / 60) for n in range(50)]
    reminders = [
        _debt(n, minutes=1 + i, kind="reminder.sent", reminder_kind="free", term_days=14)
        for i in range(100)
        for n in range(50)
    ]
    state, outcomes = _play([*opened, *reminders], HouseholdLimits())
    assert len(state.seen) == 1000
    assert sum(o.refused is not None for o in outcomes) == 5050 - 1000
