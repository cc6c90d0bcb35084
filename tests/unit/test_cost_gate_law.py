"""The cost gate to the day: receipt, term end, letters without effect, default, episodes, CJIB, VAT, winter.

Every expected date is worked out by hand in the comment next to it (Europe/Amsterdam calendar).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import CostsPermitted, CostViolation, Effect, ReminderIssued, Signal
from signals.household import advance, handle_event
from signals.overview import HouseholdState
from signals.policy import CreditorSettings, FineRaise, FineRegime, Policy
from signals.view import build_overview
from tests.unit.factories import RENT_CENTS, ROUTE, event, of_type

POLICY = Policy.default()
LATER = timedelta(days=400)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def run(
    *events: AcceptedEvent, policy: Policy = POLICY, until: datetime | None = None
) -> tuple[HouseholdState, list[Effect]]:
    """Handle the events in order, advancing stream time to each event first, then to `until`."""
    state: HouseholdState | None = None
    effects: list[Effect] = []
    for accepted in events:
        if state is not None:
            outcome = advance(state, stream_time=accepted.event.occurred_at, policy=policy, route=ROUTE)
            state, effects = outcome.state, [*effects, *outcome.effects]
        outcome = handle_event(state, accepted, policy=policy, route=ROUTE)
        state, effects = outcome.state, [*effects, *outcome.effects]
    assert state is not None
    end = until or events[-1].event.occurred_at + LATER
    outcome = advance(state, stream_time=end, policy=policy, route=ROUTE)
    return outcome.state, [*effects, *outcome.effects]


def opened(
    at: datetime, *, due: date, source: Any = "water", amount: int = 20_000, **fields: Any
) -> AcceptedEvent:
    return event("debt.opened", source=source, occurred_at=at, due_date=due, amount_cents=amount, **fields)


# -- the pipeline's own reminder: pay-by and the first day of costs ---------------------------------


@pytest.mark.parametrize(
    ("issued_at", "pay_by", "permitted_at"),
    [
        # Tue 24 Mar 2026 -> received Thu 26 -> last day Thu 9 Apr; 10 Apr starts 22:00 UTC (after DST).
        (utc(2026, 3, 24, 9), date(2026, 4, 9), utc(2026, 4, 9, 22)),
        # Fri 24 Apr 2026 -> Sat 25, (Sun, King's Day Mon 27), Tue 28 -> last day Tue 12 May.
        (utc(2026, 4, 24, 9), date(2026, 5, 12), utc(2026, 5, 12, 22)),
        # Thu 17 Dec 2026 -> Fri 18, Sat 19 -> 14 days: Sat 2 Jan 2027 -> run on to Mon 4 Jan.
        (utc(2026, 12, 17, 9), date(2027, 1, 4), utc(2027, 1, 4, 23)),
        # Mon 12 Oct 2026 -> Wed 14 -> last day Wed 28 Oct; 29 Oct starts 23:00 UTC (after DST ends).
        (utc(2026, 10, 12, 9), date(2026, 10, 28), utc(2026, 10, 28, 23)),
        # 00:30 local on Tue 24 Mar is 23:30 UTC on Monday: the local day counts (Tuesday).
        (utc(2026, 3, 23, 23, 30), date(2026, 4, 9), utc(2026, 4, 9, 22)),
    ],
)
def test_the_pipeline_reminder_names_the_legal_last_day_and_costs_start_the_day_after(
    issued_at: datetime, pay_by: date, permitted_at: datetime
) -> None:
    _, effects = run(opened(issued_at, due=date(2026, 3, 1)))
    (reminder,) = of_type(effects, ReminderIssued)
    (permitted,) = of_type(effects, CostsPermitted)
    assert reminder.pay_by == pay_by
    assert (permitted.permitted_at, permitted.costs_from) == (permitted_at, pay_by + timedelta(days=1))


@pytest.mark.parametrize(
    ("charged_at", "violation"),
    [
        (utc(2026, 4, 9, 22) - timedelta(microseconds=1), True),  # 23:59:59 on the last day
        (utc(2026, 4, 9, 22), False),  # 00:00 on the first day of costs
        (utc(2026, 4, 10, 22), False),  # the day after
    ],
    ids=["last-day", "first-day", "day-after"],
)
def test_costs_are_a_violation_until_the_first_day_after_the_term(
    charged_at: datetime, violation: bool
) -> None:
    _, effects = run(
        opened(utc(2026, 3, 24, 9), due=date(2026, 3, 1)),
        event(
            "costs.charged", source="water", occurred_at=charged_at, amount_cents=20_000, costs_cents=4_000
        ),
    )
    found = of_type(effects, CostViolation)
    assert bool(found) is violation
    if violation:
        assert found[0].basis == "art. 6:96 lid 6 BW: before the end of the term"


# -- the creditor's own letter ----------------------------------------------------------------------


def _letter(at: datetime, **fields: Any) -> AcceptedEvent:
    return event("reminder.sent", source="water", occurred_at=at, amount_cents=20_000, **fields)


@pytest.mark.parametrize(
    ("channel", "gate"),
    [
        # Fri 6 Mar 2026 by post: Sat 7, (Sun, Mon), Tue 10 -> last day Tue 24 Mar.
        ("post", utc(2026, 3, 24, 23)),
        # By e-mail or portal: received Fri 6 -> last day Fri 20 Mar.
        ("email", utc(2026, 3, 20, 23)),
        ("portal", utc(2026, 3, 20, 23)),
    ],
)
def test_a_creditor_letter_opens_the_gate_by_its_channel(channel: str, gate: datetime) -> None:
    _, effects = run(
        _letter(utc(2026, 3, 6, 9), channel=channel, reminder_kind="free", term_days=14),
        opened(utc(2026, 3, 6, 10), due=date(2026, 3, 1)),
    )
    assert of_type(effects, ReminderIssued) == []  # the creditor's letter counts
    (permitted,) = of_type(effects, CostsPermitted)
    assert permitted.permitted_at == gate


@pytest.mark.parametrize(
    ("pay_by", "valid"),
    [
        (date(2026, 3, 23), False),  # a day before the legal last day (Tue 24 Mar)
        (date(2026, 3, 24), True),  # the legal last day
        (date(2026, 3, 25), True),  # later: the letter's own date
    ],
)
def test_a_letter_naming_too_early_a_pay_by_date_has_no_effect(pay_by: date, valid: bool) -> None:
    _, effects = run(
        _letter(utc(2026, 3, 6, 9), reminder_kind="free", term_days=14, pay_by=pay_by),
        opened(utc(2026, 3, 6, 10), due=date(2026, 3, 1)),
    )
    issued = of_type(effects, ReminderIssued)
    (permitted,) = of_type(effects, CostsPermitted)
    if valid:
        assert issued == []
        assert permitted.costs_from == pay_by + timedelta(days=1)
    else:
        # The pipeline's own reminder (sent Fri 6 Mar, same days as the letter) is what opens the gate.
        assert len(issued) == 1
        assert permitted.reminder_id == issued[0].reminder_id


def test_a_later_letter_does_not_repair_a_bad_one_but_a_new_correct_letter_opens_its_own_term() -> None:
    _, effects = run(
        # By post on Fri 6 Mar naming Fri 20 Mar: the legal last day is Tue 24 Mar, so no effect.
        _letter(utc(2026, 3, 6, 9), reminder_kind="free", term_days=14, pay_by=date(2026, 3, 20)),
        # E-mailed a week later with 14 days: received Fri 13 Mar, last day Fri 27 Mar.
        _letter(utc(2026, 3, 13, 9), reminder_kind="free", term_days=14, channel="email"),
        opened(utc(2026, 3, 13, 10), due=date(2026, 3, 1)),
    )
    assert of_type(effects, ReminderIssued) == []
    permitted = of_type(effects, CostsPermitted)
    assert [p.costs_from for p in permitted] == [date(2026, 3, 28)]


def test_a_letter_with_fewer_than_14_days_never_opens_the_gate() -> None:
    state, _ = run(_letter(utc(2026, 3, 6, 9), reminder_kind="free", term_days=13, channel="email"))
    assert state.debts[0].gates == ()


@pytest.mark.parametrize(
    ("sent_at", "counts"),
    [
        (utc(2026, 3, 5, 22, 59), False),  # 23:59 local on the due date (Thu 5 Mar)
        (utc(2026, 3, 5, 23, 30), True),  # 00:30 local on Fri 6 Mar: the debtor is in default
        (utc(2026, 3, 6, 12), True),
    ],
)
def test_a_reminder_sent_on_or_before_the_due_date_does_not_count(sent_at: datetime, counts: bool) -> None:
    _, effects = run(
        opened(utc(2026, 3, 5, 8), due=date(2026, 3, 5)),
        _letter(sent_at, reminder_kind="free", term_days=14, channel="email"),
    )
    costs = of_type(effects, CostsPermitted)
    reminders = of_type(effects, ReminderIssued)
    assert len(reminders) == (0 if counts else 1)
    if counts:
        assert costs[0].reminder_id is None


def test_a_debt_not_yet_due_gets_no_reminder_until_it_is_in_default() -> None:
    due = date(2026, 3, 10)
    state, effects = run(opened(utc(2026, 3, 2, 9), due=due), until=utc(2026, 3, 9))
    assert of_type(effects, ReminderIssued) == []
    assert build_overview(state, ROUTE, POLICY).debts[0].days_overdue == 0
    # In default from 11 March (starts 10 March 23:00 UTC); with the 48-hour grace it goes out when
    # stream time reaches 12 March 23:00 UTC, which is Friday 13 March 00:00 in Amsterdam: received
    # Sat 14, (Sun, Mon), Tue 17; last day Tue 31 March.
    outcome = advance(
        state, stream_time=utc(2026, 3, 12, 23) - timedelta(microseconds=1), policy=POLICY, route=ROUTE
    )
    assert of_type(outcome.effects, ReminderIssued) == []
    outcome = advance(state, stream_time=utc(2026, 3, 12, 23), policy=POLICY, route=ROUTE)
    (reminder,) = of_type(outcome.effects, ReminderIssued)
    assert reminder.issued_at == utc(2026, 3, 12, 23)
    assert reminder.pay_by == date(2026, 3, 31)


# -- arrears episodes -------------------------------------------------------------------------------


def test_a_settled_debt_owed_again_needs_a_new_reminder_and_a_new_term() -> None:
    state, effects = run(
        opened(utc(2026, 3, 2, 9), due=date(2026, 3, 1)),
        event(
            "payment.received",
            source="water",
            occurred_at=utc(2026, 4, 1, 9),
            amount_cents=0,
            paid_cents=20_000,
        ),
        event("debt.closed", source="water", occurred_at=utc(2026, 4, 1, 10), amount_cents=0),
        opened(utc(2026, 6, 2, 9), due=date(2026, 6, 1), amount=15_000),
        # Costs in the new episode two days after its reminder: the first episode's gate does not count.
        event("costs.charged", source="water", occurred_at=utc(2026, 6, 4, 9), amount_cents=15_000),
    )
    reminders = of_type(effects, ReminderIssued)
    assert [r.pay_by for r in reminders] == [date(2026, 3, 18), date(2026, 6, 18)]
    (violation,) = of_type(effects, CostViolation)
    assert violation.kind == "before_pay_by"
    (debt,) = build_overview(state, ROUTE, POLICY).debts
    assert debt.episode == 2
    assert [(e.number, len(e.reminders)) for e in debt.earlier_episodes] == [(1, 1)]
    assert [r.sent_on for r in debt.reminders] == [date(2026, 6, 2)]


# -- CJIB fines -------------------------------------------------------------------------------------


def _fine(at: datetime, kind: str = "wahv", amount: int = 10_000) -> AcceptedEvent:
    return event(
        "debt.opened",
        source="cjib",
        occurred_at=at,
        due_date=at.date() - timedelta(days=1),
        amount_cents=amount,
        fine_kind=kind,
    )


def _raise(at: datetime, cents: int) -> AcceptedEvent:
    return event("costs.charged", source="cjib", occurred_at=at, amount_cents=10_000, costs_cents=cents)


def test_a_wahv_fine_may_rise_by_half_then_the_raised_amount_doubles() -> None:
    # EUR 100 opened Tue 1 Sep 2026: reminder received Thu 3, last day Thu 17; costs from 18 Sep.
    _, effects = run(
        _fine(utc(2026, 9, 1, 9)),
        _raise(utc(2026, 9, 18, 9), 5_000),  # EUR 150: the first aanmaning
        _raise(utc(2026, 10, 17, 9), 15_000),  # EUR 300: second aanmaning on day 29 after the first
    )
    (permitted,) = of_type(effects, CostsPermitted)
    assert permitted.max_costs_cents == 5_000
    assert of_type(effects, CostViolation) == []


@pytest.mark.parametrize(
    ("second_at", "second_cents", "kind"),
    [
        (utc(2026, 10, 16, 9), 15_000, "above_raise"),  # day 28 after the first: too early
        (utc(2026, 10, 17, 9), 15_001, "above_raise"),  # one cent above three times the fine
    ],
)
def test_a_wahv_raise_too_early_or_too_high_is_a_violation_of_the_wahv(
    second_at: datetime, second_cents: int, kind: str
) -> None:
    _, effects = run(
        _fine(utc(2026, 9, 1, 9)), _raise(utc(2026, 9, 18, 9), 5_000), _raise(second_at, second_cents)
    )
    (violation,) = of_type(effects, CostViolation)
    assert (violation.kind, violation.basis) == (kind, "WAHV art. 23/24: above the raise")


@pytest.mark.parametrize(
    ("raised_on", "violation"),
    [
        (utc(2026, 6, 30, 9), False),  # the day before the pilot: lawful, no violation at all
        (utc(2026, 7, 1, 9), True),  # the pilot's first day: policy, not law
        (utc(2027, 12, 31, 9), True),  # the pilot's last day
        (utc(2028, 1, 1, 9), False),  # the pilot has ended
    ],
)
def test_a_raise_before_the_free_reminder_breaks_only_the_pilot_policy(
    raised_on: datetime, violation: bool
) -> None:
    _, effects = run(_fine(raised_on - timedelta(days=2)), _raise(raised_on, 5_000))
    found = of_type(effects, CostViolation)
    assert [(v.kind, v.basis) for v in found] == (
        [("before_free_reminder", "policy: free reminder first")] if violation else []
    )


def test_a_fine_of_another_kind_never_silently_gets_the_wahv_cap() -> None:
    _, effects = run(_fine(utc(2026, 9, 1, 9), kind="other"), _raise(utc(2026, 9, 18, 9), 9_000))
    assert of_type(effects, CostsPermitted) == []
    assert of_type(effects, CostViolation) == []
    own = POLICY.model_copy(update={"cjib_other": FineRegime(raises=(FineRaise(percent=Decimal(20)),))})
    _, effects = run(_fine(utc(2026, 9, 1, 9), kind="other"), _raise(utc(2026, 9, 18, 9), 2_001), policy=own)
    (violation,) = of_type(effects, CostViolation)
    assert (violation.basis, violation.permitted_cents) == (
        "CJIB fine regime (configured): above the raise",
        2_000,
    )


# -- VAT on collection costs (BIK art. 2 lid 3) -----------------------------------------------------


@pytest.mark.parametrize(("vat", "maximum"), [(False, 4_000), (True, 4_840)])
def test_a_creditor_that_cannot_deduct_vat_may_add_21_percent(vat: bool, maximum: int) -> None:
    policy = POLICY.model_copy(
        update={"creditors": (CreditorSettings(source="water", creditor_id="waternet", vat_on_costs=vat),)}
    )
    _, effects = run(
        opened(utc(2026, 3, 24, 9), due=date(2026, 3, 1)),
        event(
            "costs.charged",
            source="water",
            occurred_at=utc(2026, 4, 10, 9),
            amount_cents=20_000,
            costs_cents=maximum,
        ),
        event(
            "costs.charged",
            source="water",
            occurred_at=utc(2026, 4, 11, 9),
            amount_cents=20_000,
            costs_cents=1,
        ),
        policy=policy,
    )
    (permitted,) = of_type(effects, CostsPermitted)
    assert (permitted.max_costs_cents, permitted.vat_cents) == (maximum, maximum - 4_000)
    (violation,) = of_type(effects, CostViolation)
    assert (violation.basis, violation.charged_cents) == ("BIK: above the scale", maximum + 1)


# -- energy in winter -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end_date", "exception", "violation"),
    [
        (date(2026, 9, 30), None, False),
        (date(2026, 10, 1), None, True),
        (date(2027, 3, 31), None, True),
        (date(2027, 4, 1), None, False),
        (date(2026, 12, 1), "fraud", False),
    ],
)
def test_an_end_of_supply_in_winter_is_a_violation_unless_an_exception_applies(
    end_date: date, exception: str | None, violation: bool
) -> None:
    fields = {"exception": exception} if exception else {}
    _, effects = run(
        event(
            "supply.ending",
            source="energy",
            occurred_at=utc(2026, 9, 1, 9),
            amount_cents=40_000,
            supply_end_date=end_date,
            **fields,
        ),
    )
    found = of_type(effects, CostViolation)
    assert [v.basis for v in found] == (
        ["Regeling afsluitbeleid art. 8: end of supply in winter"] if violation else []
    )
    (signal,) = of_type(effects, Signal)
    assert "crisis" in signal.kinds
    assert signal.violations == tuple(found)


# -- the steps before a signal (Besluit gsv art. 2) -------------------------------------------------


def _rent(at: datetime) -> AcceptedEvent:
    return event("debt.opened", occurred_at=at, due_date=date(2026, 1, 1), amount_cents=2 * RENT_CENTS)


def _step(kind: str, at: datetime, **fields: Any) -> AcceptedEvent:
    return event(kind, occurred_at=at, amount_cents=2 * RENT_CENTS, **fields)


@pytest.mark.parametrize(
    ("steps", "signal"),
    [
        ((), False),
        (("reminder.sent",), False),
        (("contact.attempted",), False),
        (("reminder.sent", "contact.attempted"), True),
    ],
)
def test_a_landlord_signals_after_a_written_reminder_and_a_contact_attempt(
    steps: tuple[str, ...], signal: bool
) -> None:
    extra: dict[str, dict[str, Any]] = {
        "reminder.sent": {"reminder_kind": "formal", "term_days": 14},
        "contact.attempted": {"method": "phone"},
    }
    events = [_rent(utc(2026, 2, 10, 9)), *(_step(k, utc(2026, 2, 11, 9), **extra[k]) for k in steps)]
    _, effects = run(*events)
    assert bool(of_type(effects, Signal)) is signal


@pytest.mark.parametrize(("sends", "signal"), [(False, False), (True, True)])
def test_the_pipeline_reminder_counts_only_for_creditors_that_send_it(sends: bool, signal: bool) -> None:
    policy = POLICY.model_copy(
        update={
            "creditors": (
                CreditorSettings(source="water", creditor_id="waternet", sends_pipeline_reminders=sends),
            )
        }
    )
    _, effects = run(opened(utc(2026, 3, 2, 9), due=date(2026, 1, 15)), policy=policy)
    assert bool(of_type(effects, Signal)) is signal
