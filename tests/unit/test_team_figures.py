"""The coordinator's monthly figures: what falls in the month counts, the rest does not."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.readmodel.case_queries import AttemptView, OutcomeView, SignalView
from connectors.readmodel.report_queries import ReportCase
from streams.team.team_figures import MonthError, bars, figures_of, month_period
from tests.unit import case_examples as ex

SEPT = (date(2026, 9, 1), date(2026, 9, 30))
RESULT = "(Budget)advies en/of quick fix"


def _attempt(day: date, *, reached: bool) -> AttemptView:
    at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return AttemptView(f"a-{day}", "Telefoon", reached, day, "Ochtend", "centrum-01", at)


def _case(
    case_id: str, *, signals: list[datetime], attempts: list[AttemptView], outcome: date | None
) -> ReportCase:
    return ReportCase(
        case_id=case_id,
        household_key=ex.HOUSEHOLD,
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        matched_on=date(2026, 9, 2),
        signals=tuple(
            SignalView(ex.signal(f"{case_id}-{i}", at), "Opgepakt", None) for i, at in enumerate(signals)
        ),
        attempts=tuple(attempts),
        outcome=OutcomeView(RESULT, outcome, "centrum-01", datetime.now(UTC)) if outcome else None,
        picked_up_on=None,
    )


def test_signals_attempts_and_outcomes_count_only_within_the_month() -> None:
    cases = [
        _case(
            "c1",
            # 30 Sept 22:30 UTC is 1 October in Amsterdam: not September's
            signals=[datetime(2026, 9, 2, 8, tzinfo=UTC), datetime(2026, 9, 30, 22, 30, tzinfo=UTC)],
            attempts=[_attempt(date(2026, 9, 3), reached=False), _attempt(date(2026, 10, 2), reached=True)],
            outcome=date(2026, 10, 5),
        ),
        _case(
            "c2",
            signals=[datetime(2026, 9, 10, 8, tzinfo=UTC)],
            attempts=[_attempt(date(2026, 9, 11), reached=True)],
            outcome=date(2026, 9, 20),
        ),
    ]
    figures = figures_of(cases, *SEPT)
    assert (figures.cases, figures.signals, figures.attempts, figures.reached) == (2, 2, 2, 1)
    assert figures.outcomes == ((RESULT, 1),)
    assert [(b.label, b.value, b.percent) for b in bars(figures)] == [
        ("Zaken", 2, 100),
        ("Signalen", 2, 100),
        ("Contactpogingen", 2, 100),
        ("Bereikt", 1, 50),
        (RESULT, 1, 50),
    ]


def test_an_empty_month_has_empty_bars() -> None:
    assert {b.percent for b in bars(figures_of([], *SEPT))} == {0}


@pytest.mark.parametrize("text", ["2026-13", "26-09", "september", "1999-01", "2030-01"])
def test_a_month_is_jjjj_mm_within_reach(text: str) -> None:
    with pytest.raises(MonthError, match="JJJJ-MM"):
        month_period(text, date(2026, 12, 6))
