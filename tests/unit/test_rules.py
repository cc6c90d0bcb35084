"""Signal-worthiness per source, household signal kinds, priority, reasons, repeat and resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.contract_v1 import Source
from schemas.outputs_v1 import Signal, SignalResolved
from signals.household import advance
from signals.overview import HouseholdState
from signals.policy import Policy, SourceRule, describe, describe_rules
from signals.rules import is_signal_worthy
from tests.unit.factories import (
    PREMIUM_CENTS,
    RENT_CENTS,
    ROUTE,
    at,
    day,
    event,
    fold,
    landlord_steps,
    of_type,
    play,
)

POLICY = Policy.default()


def _worthy(state: HouseholdState, days: float) -> bool:
    return is_signal_worthy(state.debts[0], POLICY, at(days))


@pytest.mark.parametrize(
    ("days", "amount_cents", "worthy"),
    [
        (29, RENT_CENTS, False),
        (30, RENT_CENTS, True),
        (30, RENT_CENTS - 1, False),
        (45, 2 * RENT_CENTS, True),
    ],
    ids=["29-days", "30-days-one-month", "30-days-one-cent-short", "45-days-two-months"],
)
def test_housing_needs_30_days_and_one_month_of_rent(days: int, amount_cents: int, worthy: bool) -> None:
    state = fold(
        event("debt.opened", due_date=day(0), amount_cents=amount_cents),
        *landlord_steps(1, amount_cents=amount_cents),
    )
    assert _worthy(state, days) is worthy


@pytest.mark.parametrize("source", ["energy", "water"])
@pytest.mark.parametrize(
    ("days", "with_reminder", "worthy"),
    [(29, True, False), (30, True, True), (30, False, False), (90, False, False)],
)
def test_utility_needs_30_days_and_a_reminder(
    source: Source, days: int, with_reminder: bool, worthy: bool
) -> None:
    events = [event("debt.opened", source=source, amount_cents=31_000)]
    if with_reminder:
        events.append(event("reminder.sent", source=source, amount_cents=31_000, occurred_at=at(5)))
    assert _worthy(fold(*events), days) is worthy


def test_a_formal_creditor_reminder_also_counts_for_energy() -> None:
    state = fold(
        event("debt.opened", source="energy", amount_cents=31_000),
        event(
            "reminder.sent", source="energy", amount_cents=31_000, occurred_at=at(3), reminder_kind="formal"
        ),
    )
    assert _worthy(state, 30)


@pytest.mark.parametrize(
    ("days", "amount_cents", "worthy"),
    [
        (0, 2 * PREMIUM_CENTS, False),
        (1, 2 * PREMIUM_CENTS, True),
        (2, 2 * PREMIUM_CENTS, True),
        (1, 2 * PREMIUM_CENTS - 1, False),
        (90, PREMIUM_CENTS, False),
    ],
    ids=["due-day", "day-after-two-premiums", "two-days-after", "one-cent-below-two-premiums", "one-premium"],
)
def test_health_signals_when_the_second_premium_is_unpaid_without_a_floor_of_days(
    days: int, amount_cents: int, worthy: bool
) -> None:
    # Besluit gsv art. 2: two unpaid monthly premiums; in default from the day after the due date.
    state = fold(event("debt.opened", source="health", amount_cents=amount_cents))
    assert _worthy(state, days) is worthy


def test_cjib_is_signal_worthy_only_after_the_free_reminders_term() -> None:
    state, _ = play(event("debt.opened", source="cjib", amount_cents=25_000, due_date=day(-1)))
    # Pipeline reminder Friday 1 March, received Tuesday 5 March, last day 19 March; the term is
    # over at the start of 20 March in Amsterdam (19 March 23:00 UTC).
    term_over = datetime(2024, 3, 19, 23, tzinfo=UTC)
    assert not is_signal_worthy(state.debts[0], POLICY, term_over - timedelta(microseconds=1))
    assert is_signal_worthy(state.debts[0], POLICY, term_over)


def test_a_paused_debt_is_not_signal_worthy_until_the_pause_ends() -> None:
    state = fold(
        event("debt.opened", due_date=day(-60), amount_cents=2 * RENT_CENTS),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS),
        event("collection.paused", occurred_at=at(1), until=day(20)),
    )
    assert not _worthy(state, 10)
    assert _worthy(state, 20)


def test_closed_and_fully_paid_debts_are_never_signal_worthy() -> None:
    opened = event("debt.opened", due_date=day(-60), amount_cents=2 * RENT_CENTS)
    assert not _worthy(fold(opened, event("debt.closed", occurred_at=at(1), reason="arrangement")), 2)
    assert not _worthy(fold(opened, event("payment.received", occurred_at=at(1), amount_cents=0)), 2)


def test_housing_reason_reads_months_amount_and_days_in_dutch_and_english() -> None:
    _, effects = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS),
    )
    (signal,) = of_type(effects, Signal)
    reason = signal.reasons[0]
    assert reason.code == "housing_arrears"
    assert reason.nl == "Huurachterstand van 2 maanden (EUR 1.900,00), 45 dagen"
    assert reason.en == "Rent arrears of 2 months (EUR 1,900.00), 45 days"


def test_supply_ending_raises_an_urgent_crisis_signal() -> None:
    _, effects = play(event("supply.ending", source="energy", amount_cents=40_000, supply_end_date=day(30)))
    (signal,) = of_type(effects, Signal)
    assert (signal.priority, signal.kinds) == ("urgent", ("crisis",))
    assert signal.reasons[0].code == "energy_supply_ending"
    assert signal.reasons[0].nl == "Energieleverancier beëindigt de levering per 31-03-2024"


@pytest.mark.parametrize(
    ("months", "kinds", "priority"),
    [(2, ("single",), "normal"), (3, ("crisis",), "urgent")],
)
def test_rent_arrears_of_three_months_is_a_crisis(months: int, kinds: tuple[str, ...], priority: str) -> None:
    _, effects = play(
        event("debt.opened", due_date=day(-90), amount_cents=months * RENT_CENTS),
        *landlord_steps(0, amount_cents=months * RENT_CENTS),
    )
    (signal,) = of_type(effects, Signal)
    assert (signal.kinds, signal.priority) == (kinds, priority)
    assert ("rent_arrears_crisis" in [r.code for r in signal.reasons]) is (months == 3)


def test_rent_45_days_and_energy_35_days_with_reminder_is_multiple_high() -> None:
    _, effects = play(
        event("debt.opened", source="energy", due_date=day(-35), amount_cents=31_000, occurred_at=at(-1)),
        event("reminder.sent", source="energy", amount_cents=31_000, occurred_at=at(-1, hours=1)),
        event("debt.opened", due_date=day(-45), amount_cents=RENT_CENTS, occurred_at=at(0)),
        *landlord_steps(0),
    )
    signal = of_type(effects, Signal)[-1]
    # The energy signal is still open: the rent makes it multiple, not a new (consecutive) episode.
    assert signal.kinds == ("multiple",)
    assert signal.priority == "high"
    assert {r.code for r in signal.reasons} >= {"housing_arrears", "energy_arrears", "multiple_creditors"}
    assert all(d.signal_worthy for d in signal.debts)


def test_two_creditors_at_once_make_a_first_signal_multiple_high() -> None:
    _, effects = play(
        event("debt.opened", source="water", due_date=day(-5), amount_cents=9_000, occurred_at=at(-1)),
        event("debt.opened", due_date=day(-45), amount_cents=RENT_CENTS),
        *landlord_steps(0),
    )
    (signal,) = of_type(effects, Signal)
    assert (signal.kinds, signal.priority) == (("multiple",), "high")
    assert [d.signal_worthy for d in signal.debts] == [True, False]


@pytest.mark.parametrize(
    ("amount_cents", "new_signal"),
    [(2 * RENT_CENTS, False), (2 * RENT_CENTS - 100, False), (2 * RENT_CENTS + 1, True)],
    ids=["equal-amount-is-repeat", "lower-amount-is-repeat", "higher-amount-is-news"],
)
def test_same_creditor_signals_again_only_when_the_amount_rises(amount_cents: int, new_signal: bool) -> None:
    _, effects = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS),
        event("debt.updated", due_date=day(-45), amount_cents=amount_cents, occurred_at=at(3)),
    )
    assert len(of_type(effects, Signal)) == (2 if new_signal else 1)


@pytest.mark.parametrize(
    ("gap_days", "consecutive"), [(183, True), (184, False)], ids=["183-days", "184-days"]
)
def test_a_signal_within_183_days_after_the_last_is_consecutive(gap_days: int, consecutive: bool) -> None:
    _, effects = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS, debt_ref="R1"),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS),
        event("debt.closed", occurred_at=at(10), debt_ref="R1"),
        event(
            "debt.opened",
            source="water",
            due_date=day(gap_days - 40),
            amount_cents=9_000,
            occurred_at=at(gap_days, hours=-1),
        ),
        event("reminder.sent", source="water", amount_cents=9_000, occurred_at=at(gap_days)),
    )
    first, second = of_type(effects, Signal)
    assert ("consecutive" in second.kinds) is consecutive
    assert second.priority == ("high" if consecutive else "normal")
    assert first.signal_id != second.signal_id


def test_open_signal_is_resolved_when_every_debt_is_settled() -> None:
    state, effects = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS),
        event("debt.opened", source="water", amount_cents=9_000, occurred_at=at(1)),
        event("debt.closed", occurred_at=at(5), reason="arrangement"),
    )
    assert of_type(effects, SignalResolved) == []
    state, effects = play(
        event("payment.received", source="water", amount_cents=0, occurred_at=at(6)), state=state
    )
    (resolved,) = of_type(effects, SignalResolved)
    assert resolved.resolved_at == at(6)
    assert resolved.team_id == "team-centrum"
    assert state.open_signal is None


def test_a_settled_creditor_with_new_arrears_is_news_again() -> None:
    _, effects = play(
        event("debt.opened", due_date=day(-45), amount_cents=2 * RENT_CENTS, debt_ref="R1"),
        *landlord_steps(0, amount_cents=2 * RENT_CENTS, debt_ref="R1"),
        event("debt.closed", occurred_at=at(5), debt_ref="R1"),
        event("debt.opened", due_date=day(-40), amount_cents=RENT_CENTS, debt_ref="R2", occurred_at=at(30)),
        *landlord_steps(30, debt_ref="R2"),
    )
    assert len(of_type(effects, Signal)) == 2
    assert len(of_type(effects, SignalResolved)) == 1


def test_debts_crossing_their_thresholds_together_raise_one_multiple_signal() -> None:
    state, effects = play(
        event("debt.opened", due_date=day(-29), amount_cents=RENT_CENTS),
        *landlord_steps(0),
        event("debt.opened", source="energy", due_date=day(-29), amount_cents=31_000, occurred_at=at(0, 1)),
        event(
            "reminder.sent",
            source="energy",
            amount_cents=31_000,
            occurred_at=at(0, 2),
            reminder_kind="formal",
        ),
    )
    assert of_type(effects, Signal) == []
    outcome = advance(state, stream_time=at(3), policy=POLICY, route=ROUTE)
    (signal,) = of_type(outcome.effects, Signal)
    assert (signal.kinds, signal.priority) == (("multiple",), "high")
    # 30 days after 1 February: the start of 2 March in Amsterdam, 1 March 23:00 UTC.
    assert signal.raised_at == datetime(2024, 3, 1, 23, tzinfo=UTC)
    assert [r.code for r in signal.reasons] == ["energy_arrears", "housing_arrears", "multiple_creditors"]


def test_a_wrong_policy_value_names_the_setting_and_its_range() -> None:
    with pytest.raises(ValidationError) as error:
        Policy.model_validate({"housing": {"min_days_overdue": -1}, "lateness_grace_hours": 10_000})
    text = str(error.value)
    assert "housing.min_days_overdue" in text
    assert "greater than or equal to 0" in text
    assert "lateness_grace_hours" in text
    assert "less than or equal to 1440" in text


def test_a_reminder_term_below_the_legal_14_days_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"cjib\.reminder_term_days"):
        Policy.model_validate({"cjib": {"reminder_term_days": 7}})


def test_describe_lists_every_source_rule_and_the_bik_scale() -> None:
    rows = describe(Policy.default())
    assert ("health", "min_months_arrears", "2 x monthly amount") in rows
    assert ("housing", "requires_contact_attempt", "yes") in rows
    assert ("cjib", "requires_term_expired", "yes") in rows
    assert ("bik", "bik bracket 1", "15% of the next EUR 2,500.00") in rows
    assert ("bik", "bik maximum", "EUR 6,775.00") in rows
    assert ("bik", "vat_percent", "21%") in rows
    assert {source for source, _, _ in rows} == {
        "housing",
        "energy",
        "water",
        "health",
        "cjib",
        "calendar",
        "household",
        "bik",
    }


def test_every_rule_row_names_its_legal_basis() -> None:
    rows = describe_rules(Policy.default())
    assert all(row.basis for row in rows)
    by_rule = {(row.source, row.rule): row.basis for row in rows}
    assert (
        "Besluit gemeentelijke schuldhulpverlening art. 2" in by_rule[("housing", "requires_contact_attempt")]
    )
    assert "ECLI:NL:HR:2016:2704" in by_rule[("energy", "reminder_term_days")]
    assert by_rule[("cjib", "cjib_wahv raise 1")] == "WAHV art. 23/24"
    assert "art. 2 lid 3" in by_rule[("bik", "vat_percent")]


def test_end_of_supply_after_an_energy_signal_raises_a_crisis_even_at_the_same_amount() -> None:
    _, effects = play(
        event("debt.opened", source="energy", due_date=day(-35), amount_cents=40_000, occurred_at=at(-1)),
        event("reminder.sent", source="energy", amount_cents=40_000, occurred_at=at(-1, hours=1)),
        event("supply.ending", source="energy", amount_cents=40_000, supply_end_date=day(30)),
    )
    signals = of_type(effects, Signal)
    assert [s.priority for s in signals] == ["normal", "urgent"]
    assert "crisis" in signals[-1].kinds


@pytest.mark.parametrize(
    "setting",
    sorted(
        {*Policy.model_fields, *SourceRule.model_fields} - {"housing", "energy", "water", "health", "cjib"}
    ),
)
def test_every_setting_is_stated_in_docs_rules_md(setting: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert setting in text
