"""Cases: periods and ids, creditor feedback, and the batch rules of the case rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.readmodel.case_rows import INITIAL_STATUS, plan_case_batch
from schemas.cases_v1 import EINDRESULTATEN
from signals.cases import (
    NOT_PICKED_UP,
    case_id_of,
    creditor_feedback,
    feedback_status,
    matching_period,
    signalled_debts,
)
from tests.unit import case_examples as ex


@pytest.mark.parametrize(
    ("moment", "months", "period"),
    [
        # 22:59 UTC on 28 February is 23:59 in Amsterdam (CET): still February; 23:00 UTC is 1 March.
        (datetime(2026, 2, 28, 22, 59, tzinfo=UTC), 1, (date(2026, 2, 1), date(2026, 2, 28))),
        (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), 1, (date(2026, 3, 1), date(2026, 3, 31))),
        (datetime(2028, 2, 29, tzinfo=UTC), 1, (date(2028, 2, 1), date(2028, 2, 29))),
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), 3, (date(2026, 10, 1), date(2026, 12, 31))),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 3, (date(2027, 1, 1), date(2027, 3, 31))),
        (datetime(2026, 7, 1, tzinfo=UTC), 6, (date(2026, 7, 1), date(2026, 12, 31))),
        # Summer time (CEST, UTC+2): 00:30 on 1 October in the Netherlands is 22:30 UTC on 30 September.
        (
            datetime(2026, 10, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            1,
            (date(2026, 10, 1), date(2026, 10, 31)),
        ),
        (datetime(2026, 9, 30, 21, 59, tzinfo=UTC), 1, (date(2026, 9, 1), date(2026, 9, 30))),
    ],
)
def test_matching_period_is_the_block_of_months_holding_the_amsterdam_day(
    moment: datetime, months: int, period: tuple[date, date]
) -> None:
    assert matching_period(moment, months) == period


def test_a_period_that_does_not_divide_the_year_is_refused() -> None:
    with pytest.raises(ValueError, match="5 months"):
        matching_period(ex.SEPT, 5)


def test_signals_of_one_household_and_month_share_a_case_and_the_next_month_gets_a_new_one() -> None:
    rows = plan_case_batch(
        [ex.signal("s1"), ex.signal("s2", ex.later(ex.SEPT, 20)), ex.signal("s3", ex.later(ex.SEPT, 31))]
    )
    assert set(rows.cases) == {ex.case_of(), ex.case_of(ex.later(ex.SEPT, 31))}
    assert (
        rows.links["s1"]["case_id"]
        == rows.links["s2"]["case_id"]
        == case_id_of(ex.HOUSEHOLD, date(2026, 9, 1))
    )
    assert {r["status"] for r in rows.links.values()} == {INITIAL_STATUS}


def test_a_case_keeps_its_first_and_last_signal_and_its_most_urgent_priority_in_any_order() -> None:
    items = [
        ex.signal("s1", ex.later(ex.SEPT, 5), priority="urgent"),
        ex.signal("s2", priority="normal"),
        ex.signal("s3", ex.later(ex.SEPT, 9)),
    ]
    forward, backward = plan_case_batch(items), plan_case_batch(items[::-1])
    assert forward.cases == backward.cases
    case = forward.cases[ex.case_of()]
    assert (case["first_signal_at"], case["last_signal_at"], case["priority_rank"]) == (
        ex.SEPT,
        ex.later(ex.SEPT, 9),
        0,
    )


def test_the_first_outcome_stays_and_the_newest_status_wins() -> None:
    first = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 3))
    second = ex.outcome("Inwoner is overleden", ex.later(ex.SEPT, 4))
    old, new = (
        ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 2), "r1"),
        ex.status("s1", "Niet opgepakt: andere reden", ex.later(ex.SEPT, 5), "r2"),
    )
    rows = plan_case_batch([first, new, second, old])
    assert rows.outcomes[ex.case_of()]["resultaat"] == "Vervolghulp en/of verwijzing financieel"
    assert rows.statuses["s1"]["status"] == "Niet opgepakt: andere reden"
    assert set(rows.audit) == {first.event_id, second.event_id, old.event_id, new.event_id}


def test_every_case_event_is_audited_with_who_when_and_what_but_no_content() -> None:
    rows = plan_case_batch([ex.attempt("r1", ex.later(ex.SEPT, 1)), ex.viewed("v1", ex.later(ex.SEPT, 1))])
    assert sorted(r["action"] for r in rows.audit.values()) == ["contact_attempt_recorded", "overview_viewed"]
    assert all(
        set(r)
        == {"event_id", "occurred_at", "actor", "team_id", "action", "household_key", "case_id", "signal_id"}
        for r in rows.audit.values()
    )


@pytest.mark.parametrize("resultaat", EINDRESULTATEN)
def test_every_outcome_maps_to_in_help_or_not_picked_up(resultaat: str) -> None:
    expected = "not_picked_up" if resultaat in NOT_PICKED_UP else "in_help"
    assert feedback_status(resultaat) == expected  # type: ignore[arg-type]


def test_referral_and_advice_mean_in_help_and_niet_opgepakt_means_not_picked_up() -> None:
    assert feedback_status("Vervolghulp en/of verwijzing") == "in_help"
    assert feedback_status("(Budget)advies en/of quick fix") == "in_help"
    assert all(feedback_status(r) == "not_picked_up" for r in EINDRESULTATEN if r.startswith("Niet opgepakt"))  # type: ignore[arg-type]


def test_feedback_goes_to_each_signalled_debt_and_says_nothing_else() -> None:
    outcome = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 3))
    outcome = outcome.model_copy(
        update={"debts": signalled_debts([ex.signal("s1"), ex.signal("s2", debts=(ex.snapshot(ex.POWER),))])}
    )
    feedback = creditor_feedback(outcome)
    assert [(f.debt, f.status) for f in feedback] == [(ex.POWER, "in_help"), (ex.RENT, "in_help")]
    for f in feedback:
        text = f.model_dump_json()
        assert "Vervolghulp" not in text
        assert ex.HOUSEHOLD not in text
    assert creditor_feedback(outcome) == feedback  # same ids on a replay


def test_only_signal_worthy_debts_are_signalled() -> None:
    assert signalled_debts([ex.signal("s1")]) == (ex.RENT,)
