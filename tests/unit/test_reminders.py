"""The free reminder, the cost gate at pay-by, costs avoided and cost violations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.outputs_v1 import CostsPermitted, CostViolation, ReminderIssued, Signal
from signals.household import Outcome, advance, next_wakeup
from signals.overview import HouseholdState
from signals.policy import Policy
from signals.reminders import bik_costs_cents, gate_deadline
from tests.unit.factories import RENT_CENTS, ROUTE, at, day, event, landlord_steps, of_type, play

POLICY = Policy.default()
GRACE = timedelta(hours=POLICY.lateness_grace_hours)
# Pipeline reminder sent Friday 1 March 2024 (T0) by post: presumed received Tuesday 5 March
# (Saturday counts, Sunday and Monday do not), 14 days to Tuesday 19 March; costs from 20 March,
# whose start in Amsterdam (CET) is 19 March 23:00 UTC.
PAY_BY = date(2024, 3, 19)
TERM_OVER = datetime(2024, 3, 19, 23, tzinfo=UTC)


def _opened() -> HouseholdState:
    state, _ = play(event("debt.opened", due_date=day(-10), amount_cents=RENT_CENTS))
    return state


def _advance(state: HouseholdState, stream_time: datetime, policy: Policy = POLICY) -> Outcome:
    return advance(state, stream_time=stream_time, policy=policy, route=ROUTE)


@pytest.mark.parametrize(
    ("principal_eur", "costs_eur"),
    [
        (0, 0),
        (100, 40),
        (266, 40),
        (2_500, 375),
        (5_000, 625),
        (10_000, 875),
        (200_000, 2_775),
        (1_000_000, 6_775),
    ],
)
def test_bik_scale_known_values(principal_eur: int, costs_eur: int) -> None:
    assert bik_costs_cents(principal_eur * 100, POLICY) == costs_eur * 100


def test_bik_rounds_to_the_nearest_cent() -> None:
    # 15% of 2,500.00 + 10% of 0.05 = 375.005 -> 375.01
    assert bik_costs_cents(250_005, POLICY) == 37_501


def test_debt_opened_issues_a_free_reminder_with_a_14_day_term_and_no_bsn() -> None:
    _, effects = play(event("debt.opened", due_date=day(-10), amount_cents=RENT_CENTS))
    (reminder,) = of_type(effects, ReminderIssued)
    assert reminder.pay_by == PAY_BY
    assert reminder.issued_at == at(0)
    assert reminder.amount_cents == RENT_CENTS
    assert (reminder.contact.house, reminder.contact.postcode) == ("12A", "1011AB")
    assert "bsn" not in reminder.model_dump_json()


def test_cjib_reminder_term_is_configured_separately() -> None:
    policy = POLICY.model_copy(update={"cjib": POLICY.cjib.model_copy(update={"reminder_term_days": 28})})
    _, effects = play(
        event("debt.opened", source="cjib", amount_cents=25_000, due_date=day(-1)), policy=policy
    )
    # Received Tuesday 5 March, 28 days: Tuesday 2 April (Easter Monday 1 April is not the last day).
    assert of_type(effects, ReminderIssued)[0].pay_by == date(2024, 4, 2)


def test_no_pipeline_reminder_when_the_creditor_already_sent_a_free_one() -> None:
    _, effects = play(
        event("reminder.sent", occurred_at=at(-2)),
        event("debt.opened", due_date=day(-10), amount_cents=RENT_CENTS),
    )
    assert of_type(effects, ReminderIssued) == []


def test_pipeline_still_reminds_when_the_creditors_term_is_shorter_than_the_law_allows() -> None:
    _, effects = play(
        event("reminder.sent", occurred_at=at(-2), term_days=7),
        event("debt.opened", due_date=day(-10), amount_cents=RENT_CENTS),
    )
    assert len(of_type(effects, ReminderIssued)) == 1


def test_a_later_reported_creditor_reminder_with_an_earlier_pay_by_opens_the_gate_first() -> None:
    state = _opened()
    state, _ = play(event("reminder.sent", occurred_at=at(-3)), state=state)
    # Sent Tuesday 27 February, received Thursday 29 February, last day Thursday 14 March.
    gate = datetime(2024, 3, 14, 23, tzinfo=UTC)
    assert next_wakeup(state, POLICY) == gate + GRACE
    (permitted,) = of_type(_advance(state, at(16)).effects, CostsPermitted)
    assert (permitted.permitted_at, permitted.costs_from) == (gate, date(2024, 3, 15))
    assert permitted.reminder_id is None


@pytest.mark.parametrize(
    ("grace_hours", "late_by", "fires"),
    [
        (48, timedelta(0), True),
        (48, -timedelta(microseconds=1), False),
        (0, timedelta(0), True),
        (0, -timedelta(seconds=1), False),
    ],
    ids=["grace-reached", "grace-one-us-short", "no-grace-reached", "no-grace-one-s-short"],
)
def test_costs_permitted_exactly_when_pay_by_plus_grace_is_reached(
    grace_hours: int, late_by: timedelta, fires: bool
) -> None:
    policy = POLICY.model_copy(update={"lateness_grace_hours": grace_hours})
    state = _opened()
    assert next_wakeup(state, policy) == TERM_OVER + timedelta(hours=grace_hours)
    outcome = _advance(state, TERM_OVER + timedelta(hours=grace_hours) + late_by, policy)
    permitted = of_type(outcome.effects, CostsPermitted)
    assert len(permitted) == (1 if fires else 0)
    if fires:
        assert permitted[0].permitted_at == TERM_OVER
        assert permitted[0].max_costs_cents == bik_costs_cents(RENT_CENTS, POLICY)
        assert permitted[0].reminder_id == state.debts[0].reminders[0].event_id


def test_pause_then_resume_moves_pay_by_by_the_paused_days() -> None:
    state = _opened()
    # Paused on day 5 until day 20, resumed early on day 9 by a new pause that ends at once.
    state, _ = play(
        event("collection.paused", occurred_at=at(5), until=day(20)),
        event("collection.paused", occurred_at=at(9), until=day(9)),
        state=state,
    )
    # 6-10 March paused: 4 days on top of 19 March is Saturday 23 March, run on to Monday 25 March.
    gate = datetime(2024, 3, 25, 23, tzinfo=UTC)
    found = gate_deadline(state.debts[0], POLICY)
    assert found is not None
    assert found[0] == gate
    assert of_type(_advance(state, gate + GRACE - timedelta(seconds=1)).effects, CostsPermitted) == []
    (permitted,) = of_type(_advance(state, at(30)).effects, CostsPermitted)
    assert permitted.permitted_at == gate


def test_a_pause_that_runs_out_moves_pay_by_by_its_full_length() -> None:
    state = _opened()
    state, _ = play(event("collection.paused", occurred_at=at(5), until=day(15)), state=state)
    (permitted,) = of_type(_advance(state, at(40)).effects, CostsPermitted)
    # 6-16 March paused: 10 days on top of 19 March is Good Friday 29 March; the term runs on over
    # Saturday, Sunday and Easter Monday to Tuesday 2 April; 3 April starts at 22:00 UTC (summer time).
    assert permitted.permitted_at == datetime(2024, 4, 2, 22, tzinfo=UTC)


def test_no_costs_permitted_when_paid_within_reminder_term() -> None:
    state = _opened()
    state, _ = play(
        event("payment.received", occurred_at=at(10), amount_cents=0, paid_cents=RENT_CENTS), state=state
    )
    outcome = _advance(state, at(100))
    assert of_type(outcome.effects, CostsPermitted) == []
    assert outcome.costs_avoided_cents == bik_costs_cents(RENT_CENTS, POLICY)
    (decision,) = outcome.state.debts[0].gates
    assert (decision.outcome, decision.costs_avoided_cents) == (
        "avoided",
        bik_costs_cents(RENT_CENTS, POLICY),
    )
    assert _advance(outcome.state, at(400)).effects == ()


def test_no_costs_permitted_when_closed_before_pay_by() -> None:
    state = _opened()
    state, _ = play(event("debt.closed", occurred_at=at(14, hours=14), reason="arrangement"), state=state)
    outcome = _advance(state, at(100))
    assert of_type(outcome.effects, CostsPermitted) == []
    assert outcome.costs_avoided_cents > 0


def test_payment_after_pay_by_but_within_grace_still_counts_as_unpaid_at_pay_by() -> None:
    state = _opened()
    state, _ = play(
        event("payment.received", occurred_at=TERM_OVER + timedelta(hours=1), amount_cents=0), state=state
    )
    outcome = _advance(state, at(30))
    assert len(of_type(outcome.effects, CostsPermitted)) == 1
    assert outcome.costs_avoided_cents == 0


def test_costs_charged_before_pay_by_is_a_violation_attached_to_the_next_signal() -> None:
    state = _opened()
    state, _ = play(
        event("costs.charged", occurred_at=at(3), costs_cents=4_000), *landlord_steps(1), state=state
    )
    outcome = _advance(state, at(5, hours=-9) + GRACE)
    (violation,) = of_type(outcome.effects, CostViolation)
    assert (violation.kind, violation.charged_cents, violation.permitted_cents) == ("before_pay_by", 4_000, 0)
    assert violation.basis == "art. 6:96 lid 6 BW: before the end of the term"
    assert outcome.state.pending_violations == (violation,)
    # Day 20 is 30 days overdue: the signal carries the violation, which is then no longer pending.
    outcome = _advance(outcome.state, at(30))
    (signal,) = of_type(outcome.effects, Signal)
    assert signal.violations == (violation,)
    assert outcome.state.pending_violations == ()
    assert outcome.state.violations == (violation,)


def test_costs_charged_at_the_moment_the_term_is_over_are_allowed() -> None:
    state = _opened()
    state, _ = play(event("costs.charged", occurred_at=TERM_OVER, costs_cents=4_000), state=state)
    assert of_type(_advance(state, at(40)).effects, CostViolation) == []


def test_costs_above_the_bik_scale_are_a_violation() -> None:
    maximum = bik_costs_cents(RENT_CENTS, POLICY)
    state = _opened()
    state, _ = play(
        event("costs.charged", occurred_at=at(19), costs_cents=maximum),
        event("costs.charged", occurred_at=at(20), costs_cents=1),
        state=state,
    )
    (violation,) = of_type(_advance(state, at(40)).effects, CostViolation)
    assert (violation.kind, violation.basis, violation.charged_cents, violation.permitted_cents) == (
        "above_scale",
        "BIK: above the scale",
        maximum + 1,
        maximum,
    )


def test_cjib_may_increase_a_wahv_fine_by_50_percent_of_the_original_fine() -> None:
    state, _ = play(
        event("debt.opened", source="cjib", amount_cents=25_000, fine_kind="wahv", due_date=day(-1)),
        event("debt.updated", source="cjib", amount_cents=20_000, occurred_at=at(3)),
    )
    (permitted,) = of_type(_advance(state, at(30)).effects, CostsPermitted)
    assert (permitted.principal_cents, permitted.max_costs_cents) == (20_000, 12_500)


def test_cjib_fine_unpaid_after_the_term_raises_a_signal_at_the_term_end() -> None:
    state, effects = play(event("debt.opened", source="cjib", amount_cents=25_000, due_date=day(-1)))
    assert of_type(effects, Signal) == []
    (signal,) = of_type(_advance(state, at(30)).effects, Signal)
    assert signal.raised_at == TERM_OVER
    assert signal.reasons[0].code == "cjib_unpaid"
