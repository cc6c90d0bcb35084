"""Cases: periods and ids, creditor feedback, and the batch rules of the case rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.readmodel.case_rows import INITIAL_STATUS, plan_case_batch
from schemas.cases_v1 import EINDRESULTATEN, OutcomeRecorded
from signals.cases import (
    NOT_PICKED_UP,
    StoredOutcome,
    case_id_of,
    conflicting_outcomes,
    creditor_feedback,
    decided_feedback,
    feedback_status,
    matching_period,
    outcome_id,
    same_outcome,
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


def _rivals() -> tuple[OutcomeRecorded, OutcomeRecorded]:
    """Two members' outcomes of one case, sent at once: one id (the case's), other results."""
    case_id = ex.case_of()
    first = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 3))
    second = first.model_copy(
        update={
            "resultaat": "Niet opgepakt: andere reden",
            "occurred_at": first.occurred_at + timedelta(seconds=1),
        }
    )
    assert first.event_id == second.event_id == outcome_id(case_id)
    return first, second


def test_only_the_stored_outcome_gives_creditor_feedback_and_the_rival_none() -> None:
    first, second = _rivals()
    assert decided_feedback({first.case_id: StoredOutcome.of(first)}, [first, second]) == creditor_feedback(
        first
    )
    won_by_second = decided_feedback({first.case_id: StoredOutcome.of(second)}, [first, second])
    assert won_by_second == creditor_feedback(second)
    assert {f.status for f in won_by_second} == {"not_picked_up"}


def test_an_outcome_without_a_stored_row_gives_no_feedback() -> None:
    first, _ = _rivals()
    assert decided_feedback({}, [first]) == []


def test_the_stored_outcome_processed_again_gives_the_same_feedback_once_per_id() -> None:
    first, _ = _rivals()
    stored = {first.case_id: StoredOutcome.of(first)}
    feedback = decided_feedback(stored, [first, first])  # a producer retry put it on the topic twice
    assert feedback == decided_feedback(stored, [first]) == creditor_feedback(first)
    assert len({f.feedback_id for f in feedback}) == len(feedback) == len(first.debts)


def test_the_same_result_and_date_is_the_same_outcome_whoever_sends_it_and_anything_else_conflicts() -> None:
    first, second = _rivals()
    stored = StoredOutcome.of(first)
    colleague = first.model_copy(update={"actor": "member-2", "occurred_at": second.occurred_at})
    assert same_outcome(stored, colleague)
    assert not same_outcome(stored, second)
    assert not same_outcome(stored, first.model_copy(update={"datum": first.datum + timedelta(days=1)}))
    assert conflicting_outcomes({first.case_id: stored}, [first, colleague, second]) == 1


def test_a_case_event_id_seen_before_in_the_batch_changes_nothing_whatever_it_carries() -> None:
    applied = ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 2), "r1")
    rival = applied.model_copy(
        update={"status": "Niet opgepakt: andere reden", "occurred_at": ex.later(ex.SEPT, 3)}
    )
    rows = plan_case_batch([applied, rival])
    assert rows.statuses["s1"]["status"] == "Opgepakt"
    first, second = _rivals()
    assert plan_case_batch([first, second]).outcomes[first.case_id]["resultaat"] == first.resultaat
